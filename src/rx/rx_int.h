/* SPDX-License-Identifier: MIT */
/* Inside the rx layer only: observables, sinks, the serializer, actions.
 *
 * An observable is a class (how to subscribe, how to free) and the
 * parameters of one operator or source. Subscribing builds a chain of
 * sinks, one per operator (a run of single-input operators in a row, map,
 * filter, take, reduce and the like, is one sink: see ops.c), from the
 * observer back to the source: each sink
 * is what its upstream calls (next, error, completed) and holds a reference
 * to its downstream sink (`down`, until the sink is destroyed) and one to
 * its upstream (`up`, until it stops). A sink stops once: when it sends a
 * terminal event or is disposed; stopping disposes its upstream and runs
 * its class's stop hook (cancel timers, dispose inner subscriptions), so
 * disposal travels from the observer to every source, and completion from
 * the source to the observer takes the chain apart behind it.
 *
 * Lifetime: a sink lives while someone can call it: its upstream (which
 * holds it as `down`), a producer that enters it from another thread (a
 * subject's list, a scheduled action, a future's callback: each holds a
 * reference while it may call), and whoever may dispose it. Inside a
 * synchronous chain no reference is taken per value: the producer that
 * entered the chain holds the first sink, and each sink holds the next.
 *
 * The single-input operators run on whatever thread their upstream calls
 * them, which the Rx contract serializes: no lock, and no atomic write per
 * value. A synchronous source (range, from_array) hands its values to a
 * sink that takes batches in one call per batch (weft__rx_feed). The
 * operators with several inputs (merge, zip, combine_latest, the subjects,
 * and the time operators, whose timers are inputs too) funnel every input
 * through a serializer: one thread at a time handles events, in order, and
 * a thread that finds another handling queues its event and returns (see
 * serial.c).
 */
#ifndef WEFT_RX_INT_H
#define WEFT_RX_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "weft/rx.h"

typedef struct rx_sink rx_sink_t;

/* ----- Values ----- */

static inline void *rx_retain(const weft_rx_value_ops_t *ops, void *v)
{
    return ops && ops->retain ? ops->retain(v) : v;
}

static inline void rx_release(const weft_rx_value_ops_t *ops, void *v)
{
    if (ops && ops->release)
        ops->release(v);
}

/* "1", "[1,2]": the value as ops format it, else as an integer. */
int weft__rx_format(const weft_rx_value_ops_t *ops, void *v, char *buf,
                    size_t size);

/* ----- Observables ----- */

typedef struct rx_class {
    const char *name;
    size_t size; /* of the whole observable object */
    /* Build this operator's sink in front of down and subscribe it to the
     * source: return the sink (a new reference, for down to dispose), or
     * NULL after telling down why (rx_fail_sink). */
    rx_sink_t *(*subscribe)(weft_rx_observable_t *o, rx_sink_t *down);
    void (*destroy)(weft_rx_observable_t *o); /* NULL: nothing to free */
} rx_class_t;

struct weft_rx_observable {
    _Atomic size_t refs;
    const rx_class_t *cls;
    const weft_rx_value_ops_t *values; /* what it emits; NULL: plain */
    _Atomic int subscribed;
};

/* A new observable of cls (cls->size bytes, zeroed past the header) with
 * one reference, inheriting values. NULL on no memory (message recorded). */
void *weft__rx_observable_new(const rx_class_t *cls,
                              const weft_rx_value_ops_t *values);

/* Subscribe down to o: the sink to dispose (new reference), or NULL when
 * the subscription failed (down has heard the error). */
rx_sink_t *weft__rx_subscribe(weft_rx_observable_t *o, rx_sink_t *down);

/* An operator's constructor: argument checks done, src NULL-checked. */
int weft__rx_check_src(const weft_rx_observable_t *src, const char *what);

/* ----- Sinks ----- */

typedef struct rx_sink_class {
    size_t size;
    void (*next)(rx_sink_t *s, void *v);
    void (*error)(rx_sink_t *s, const weft_error_info_t *e);
    void (*completed)(rx_sink_t *s);
    void (*stop)(rx_sink_t *s);    /* once, on stopping; NULL: none */
    void (*destroy)(rx_sink_t *s); /* last reference gone; NULL: none */
    /* The values v[0..n) in order, as n calls to next would, up to the
     * sink's stop (NULL: next is called for each; see weft__rx_feed). */
    void (*next_batch)(rx_sink_t *s, void *const *v, size_t n);
} rx_sink_class_t;

#define RX_STOPPED 1u  /* a terminal event was sent, or disposed */
#define RX_CLEANED 2u  /* the stop work has been done */
#define RX_DISPOSED 4u /* disposed from downstream */

struct rx_sink {
    const rx_sink_class_t *cls;
    _Atomic uint32_t refs;
    _Atomic uint32_t state;
    rx_sink_t *down;
    _Atomic(rx_sink_t *) up;
    const weft_rx_value_ops_t *in; /* the values this sink receives */
};

/* A new sink of cls (zeroed past the header) with one reference, taking a
 * reference to down. NULL on no memory: down then hears WEFT_ENOMEM. */
void *weft__rx_sink_new(const rx_sink_class_t *cls, rx_sink_t *down,
                        const weft_rx_value_ops_t *in);
/* The same with size bytes rather than cls->size (a sink with a tail). */
void *weft__rx_sink_alloc(const rx_sink_class_t *cls, size_t size,
                          rx_sink_t *down, const weft_rx_value_ops_t *in);

static inline rx_sink_t *rx_ref(rx_sink_t *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}
void weft__rx_sink_release(rx_sink_t *s);

static inline int rx_stopped(const rx_sink_t *s)
{
    return atomic_load_explicit(&s->state, memory_order_acquire) & RX_STOPPED;
}

/* Entering a sink from its upstream. */
static inline void rx_next(rx_sink_t *s, void *v) { s->cls->next(s, v); }
static inline void rx_error(rx_sink_t *s, const weft_error_info_t *e)
{
    s->cls->error(s, e);
}
static inline void rx_completed(rx_sink_t *s) { s->cls->completed(s); }

/* Sending from a sink to its downstream: a value unless stopped; a
 * terminal event at most once, which stops the sink. */
static inline void rx_emit_next(rx_sink_t *s, void *v)
{
    if (!rx_stopped(s))
        rx_next(s->down, v);
}
void weft__rx_emit_error(rx_sink_t *s, const weft_error_info_t *e);
void weft__rx_emit_completed(rx_sink_t *s);

/* A synchronous source's sink s sends v[0..n) downstream, in order, until
 * s stops: in one call where the downstream takes batches (a fused chain
 * of operators then runs them in one loop), else one next at a time. */
void weft__rx_feed(rx_sink_t *s, void *const *v, size_t n);

/* Fail with code and the calling thread's last message. */
void weft__rx_emit_fail(rx_sink_t *s, int code);

/* Hold the sink's upstream (taking the reference up carries): if the sink
 * has stopped meanwhile, up is disposed at once. */
void weft__rx_set_up(rx_sink_t *s, rx_sink_t *up);

/* Stop s from downstream (dispose) and stop it from inside (what a
 * terminal event does after sending). Both idempotent. */
void weft__rx_dispose(rx_sink_t *s);
void weft__rx_stop(rx_sink_t *s);

/* Tell down that subscribing failed with code (the message is the
 * thread's last) and return NULL. */
rx_sink_t *weft__rx_fail_sink(rx_sink_t *down, int code);

/* Pass-through handlers for sink classes. */
void weft__rx_pass_next(rx_sink_t *s, void *v);
void weft__rx_pass_error(rx_sink_t *s, const weft_error_info_t *e);
void weft__rx_pass_completed(rx_sink_t *s);

/* A sink of class cls in front of down, subscribed to src: the common
 * body of a single-input operator's subscribe. setup, if not NULL, fills
 * the sink's own fields before the source is subscribed. */
rx_sink_t *weft__rx_chain(const rx_sink_class_t *cls, rx_sink_t *down,
                          weft_rx_observable_t *src,
                          void (*setup)(rx_sink_t *s, void *arg), void *arg);

/* ----- The serializer ----- */

enum rx_kind { RX_NEXT = 1, RX_ERROR, RX_COMPLETED, RX_TICK, RX_OTHER };

typedef struct rx_event {
    int kind;
    int tag;    /* which input */
    void *data; /* a value, an error (weft_error_info_t *), or any */
    uintptr_t aux;
} rx_event_t;

typedef struct rx_serial rx_serial_t;
typedef void (*rx_handler)(void *owner, rx_event_t *ev);

struct rx_serial {
    pthread_mutex_t lock;
    int busy, lost;
    rx_event_t *q;
    size_t head, n, cap;
    rx_handler handle;
    const weft_rx_value_ops_t *(*ops_of)(void *owner, int tag);
    void *owner;
};

/* ops_of tells the value ops of an input (by tag); NULL: plain values. */
void weft__rx_serial_init(rx_serial_t *z, rx_handler handle,
                          const weft_rx_value_ops_t *(*ops_of)(void *owner,
                                                               int tag),
                          void *owner);
/* Drop what is still queued (values released). */
void weft__rx_serial_destroy(rx_serial_t *z);

/* Hand ev to the handler, now on this thread, or after the event being
 * handled by another thread (or by this one, re-entering): then a value is
 * retained and an error copied, and released after handling. */
void weft__rx_serial_push(rx_serial_t *z, rx_event_t ev);

/* ----- Multi-input operators: a hub sink with a serializer ----- */

typedef struct rx_hub rx_hub_t;
typedef struct rx_hub_class {
    rx_sink_class_t sink;
    /* Events while the hub runs, RX_TAG_START included; after it stopped
     * only RX_TAG_STOP reaches the handler, through cleanup. */
    void (*handle)(rx_hub_t *h, rx_event_t *ev);
    void (*cleanup)(rx_hub_t *h);
    const weft_rx_value_ops_t *(*ops_of)(rx_hub_t *h, int tag);
} rx_hub_class_t;

struct rx_hub {
    rx_sink_t sink;
    rx_serial_t serial;
};

/* Tags the hub machinery uses besides the inputs' (0 is the hub's own
 * upstream): a tick, the end of the enqueue path, stop, start. */
#define RX_TAG_TICK (-2)
#define RX_TAG_STOP (-3)
#define RX_TAG_START (-4)

/* A hub's sink-class functions: its own upstream pushes with tag 0; the
 * stop hook pushes RX_TAG_STOP, so that the handler alone touches the
 * hub's state (timers, inputs), whichever thread disposes. */
void weft__rx_hub_stop(rx_sink_t *s);
void weft__rx_hub_next(rx_sink_t *s, void *v);
void weft__rx_hub_error(rx_sink_t *s, const weft_error_info_t *e);
void weft__rx_hub_completed(rx_sink_t *s);
void weft__rx_hub_destroy(rx_sink_t *s); /* call from a subclass destroy */
void *weft__rx_hub_new(const rx_hub_class_t *cls, rx_sink_t *down,
                       const weft_rx_value_ops_t *in);
void weft__rx_hub_push(rx_hub_t *h, int kind, int tag, void *data,
                       uintptr_t aux);

/* An input of a hub: a sink that pushes what it hears into the hub with
 * its tag. Subscribes src to a new input and returns it (a new
 * reference), or NULL (the hub then hears the error with the tag). */
rx_sink_t *weft__rx_input(rx_hub_t *h, int tag, weft_rx_observable_t *src);

/* ----- Schedulers and actions ----- */

typedef struct rx_action rx_action_t;
struct rx_action {
    _Atomic uint32_t refs;
    _Atomic uint32_t cancelled; /* a park word: 1 once cancelled */
    void (*run)(rx_action_t *a);
    rx_sink_t *sink; /* a reference, dropped with the action */
    uintptr_t tag;
    double due;            /* the scheduler's time it is due */
    weft_rx_scheduler_t *sched;
    /* the scheduler's own */
    void *impl;
    weft_handle_t handle;
    rx_action_t *prev, *next;
    uint64_t seq;
};

typedef struct rx_sched_class {
    const char *kind;
    double (*now)(const weft_rx_scheduler_t *s);
    /* Take a reference to a and run it after delay seconds (0: soon). */
    int (*schedule)(weft_rx_scheduler_t *s, rx_action_t *a, double delay);
    /* a was cancelled: the scheduler may drop it early (optional). */
    void (*cancel)(weft_rx_scheduler_t *s, rx_action_t *a);
    /* Run fn(arg) where it may block (a worker, a coroutine). */
    int (*spawn)(weft_rx_scheduler_t *s, weft_fn fn, void *arg);
    void (*destroy)(weft_rx_scheduler_t *s);
    /* Nonzero when the calling thread may wait for an action of s to run
     * (another thread will run it); NULL: always. */
    int (*can_wait)(const weft_rx_scheduler_t *s);
} rx_sched_class_t;

struct weft_rx_scheduler {
    _Atomic size_t refs;
    const rx_sched_class_t *cls;
};

/* A new action that will call run(a) with a->sink (referenced) and tag. */
rx_action_t *weft__rx_action_new(void (*run)(rx_action_t *a), rx_sink_t *sink,
                                 uintptr_t tag);
void weft__rx_action_release(rx_action_t *a);
/* Schedule a (the scheduler takes its own reference). */
int weft__rx_schedule(weft_rx_scheduler_t *s, rx_action_t *a, double delay);
/* Cancel and drop the caller's reference; NULL: no-op. */
void weft__rx_action_cancel(rx_action_t *a);
/* Run an action on behalf of a scheduler, unless cancelled; then drop the
 * scheduler's reference. */
void weft__rx_action_fire(rx_action_t *a);
/* Run fn(arg) on s where it may block. Errors: those of the scheduler. */
int weft__rx_spawn(weft_rx_scheduler_t *s, weft_fn fn, void *arg);

/* Schedule a hub tick: the hub hears RX_TICK with tag and aux after
 * delay; returns the action (for cancel) or NULL after failing the hub. */
rx_action_t *weft__rx_tick(rx_hub_t *h, weft_rx_scheduler_t *s, double delay,
                           uintptr_t aux);

int weft__rx_check_sched(const weft_rx_scheduler_t *s, const char *what);
int weft__rx_check_time(double t, const char *what, int allow_zero);

/* ----- Helpers shared by operators ----- */

weft_rx_list_t *weft__rx_list_new(size_t n);
/* The items' ops (released with the list); set by whoever fills it. */
void weft__rx_list_set_ops(weft_rx_list_t *l, const weft_rx_value_ops_t *ops);
/* Append to a growable array of retained values. */
typedef struct rx_vec {
    void **v;
    size_t n, cap;
} rx_vec_t;
int weft__rx_vec_push(rx_vec_t *x, void *v);
/* Make a list of x's values (moved into it) and empty x. */
weft_rx_list_t *weft__rx_vec_take(rx_vec_t *x);
void weft__rx_vec_clear(rx_vec_t *x, const weft_rx_value_ops_t *ops);

/* The subject's internals, for publish. */
int weft__rx_subject_is(const weft_rx_observable_t *o);

/* A subscription's observer end: the sink that calls the user's
 * observer. */
rx_sink_t *weft__rx_observer_sink(const weft_rx_observer_t *obs,
                                  const weft_rx_value_ops_t *in);

/* The error from code and the thread's last message. */
void weft__rx_error_now(weft_error_info_t *e, int code);

/* Operators on merge_all: the machinery of merge, concat, flat_map. */
int weft__rx_merge_all(weft_rx_observable_t **out, weft_rx_observable_t *src,
                       size_t max_concurrent, weft_rx_flat_fn fn, void *ctx);

/* ----- The single-input operator skeleton ----- */

/* One observable layout serves every operator with one source: the
 * source (taken), the user's callback and context, and the operator's
 * numbers. */
typedef struct rx_op {
    weft_rx_observable_t o;
    weft_rx_observable_t *src;
    void (*fn)(void);
    void *ctx;
    void *seed;
    long n, m;
    double t;
    weft_rx_scheduler_t *sched;
    weft_rx_observer_t obs;
    weft_rx_observe_on_opts_t oo;
    weft_rx_observable_t *other;
    weft_rx_observable_t **srcs; /* several sources, taken */
    size_t nsrcs;
    _Atomic size_t dropped;
} rx_op_t;

/* Make an operator of cls on src (which it takes on success), with
 * values it emits (inherit: src's). NULL after recording the error (a
 * NULL src is WEFT_EINVAL naming `what`). */
rx_op_t *weft__rx_op_new(const rx_class_t *cls, weft_rx_observable_t **out,
                         weft_rx_observable_t *src, int inherit);
void weft__rx_op_destroy(weft_rx_observable_t *o);

/* A sink of an operator: the operator (a reference) and common state. */
typedef struct rx_op_sink {
    rx_sink_t s;
    rx_op_t *op;
    long i;
    void *acc;
    int has;
    uintptr_t key;
    rx_vec_t vec;
    void *extra;
} rx_op_sink_t;

/* Subscribe an rx_op_sink_t (cls->size at least that) of o's to o's
 * source. */
rx_sink_t *weft__rx_op_chain(const rx_sink_class_t *cls,
                             weft_rx_observable_t *o, rx_sink_t *down);
void weft__rx_op_sink_destroy(rx_sink_t *s);

#endif
