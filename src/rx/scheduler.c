/* SPDX-License-Identifier: MIT */
/* Schedulers: actions on a loop, on an executor, and the checks every
 * time operator makes.
 *
 * An action is a small reference-counted record: the one who scheduled it
 * holds a reference (to cancel it), and the scheduler holds one until it
 * has run it or dropped it. Cancelling sets a word and wakes whoever waits
 * on it (an executor's task sleeping until the action is due), so a
 * cancelled action never runs, though the scheduler may still hold it
 * until its time comes.
 *
 * On a loop, every pending action is also on a list kept by a loop service
 * (one per loop, shared by its schedulers): the loop's own timer or
 * thread-safe callback may be dropped when the loop is freed, and the
 * service's destroy then frees what is left on the list, so that nothing
 * leaks whatever is pending at the end.
 */
#include "base/check.h"
#include "rx_int.h"

#include <math.h>

#include "weft/coro.h"
#include "weft/park.h"

rx_action_t *weft__rx_action_new(void (*run)(rx_action_t *a), rx_sink_t *sink,
                                 uintptr_t tag)
{
    rx_action_t *a = calloc(1, sizeof *a);
    if (!a) {
        weft_fail(WEFT_ENOMEM, "rx: no memory for a scheduled action");
        return NULL;
    }
    atomic_init(&a->refs, 1);
    a->run = run;
    a->sink = sink ? rx_ref(sink) : NULL;
    a->tag = tag;
    return a;
}

void weft__rx_action_release(rx_action_t *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    weft__rx_sink_release(a->sink);
    weft_rx_scheduler_free(a->sched);
    free(a);
}

int weft__rx_schedule(weft_rx_scheduler_t *s, rx_action_t *a, double delay)
{
    if (!a->sched)
        a->sched = weft_rx_scheduler_ref(s);
    if (!(delay > 0))
        delay = 0;
    atomic_fetch_add(&a->refs, 1);
    a->due = s->cls->now(s) + delay;
    int rc = s->cls->schedule(s, a, delay);
    if (rc)
        weft__rx_action_release(a);
    return rc;
}

void weft__rx_action_cancel(rx_action_t *a)
{
    if (!a)
        return;
    if (atomic_exchange(&a->cancelled, 1) == 0) {
        weft_park_wake((const void *)&a->cancelled, SIZE_MAX);
        if (a->sched && a->sched->cls->cancel)
            a->sched->cls->cancel(a->sched, a);
    }
    weft__rx_action_release(a);
}

void weft__rx_action_fire(rx_action_t *a)
{
    if (!atomic_load(&a->cancelled))
        a->run(a);
    weft__rx_action_release(a);
}

static void run_spawn(rx_action_t *a);

struct spawned {
    weft_fn fn;
    void *arg;
};

int weft__rx_spawn(weft_rx_scheduler_t *s, weft_fn fn, void *arg)
{
    if (s->cls->spawn)
        return s->cls->spawn(s, fn, arg);
    /* The test scheduler: run it as an action, on the advancing thread. */
    rx_action_t *a = weft__rx_action_new(run_spawn, NULL, 0);
    struct spawned *sp = malloc(sizeof *sp);
    if (!a || !sp) {
        free(sp);
        weft__rx_action_release(a);
        return weft_fail(WEFT_ENOMEM, "rx: no memory to spawn a producer");
    }
    sp->fn = fn;
    sp->arg = arg;
    a->impl = sp;
    int rc = weft__rx_schedule(s, a, 0);
    weft__rx_action_release(a);
    return rc;
}

static void run_spawn(rx_action_t *a)
{
    struct spawned *sp = a->impl;
    void *r;
    sp->fn(sp->arg, &r);
    free(sp);
}

weft_rx_scheduler_t *weft_rx_scheduler_ref(weft_rx_scheduler_t *s)
{
    WEFT_REFUSE_NULL_OR(s, NULL);
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void weft_rx_scheduler_free(weft_rx_scheduler_t *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    s->cls->destroy(s);
}

double weft_rx_scheduler_now(const weft_rx_scheduler_t *s)
{
    WEFT_REFUSE_NULL_OR(s, weft_monotonic());
    return s->cls->now(s);
}

int weft__rx_check_sched(const weft_rx_scheduler_t *s, const char *what)
{
    if (!s)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL scheduler", what);
    return 0;
}

int weft__rx_check_time(double t, const char *what, int allow_zero)
{
    if (isnan(t) || t < 0 || (!allow_zero && t == 0) || isinf(t))
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: bad time %g (must be %s)",
                         what, t, allow_zero ? ">= 0" : "> 0");
    return 0;
}

/* ----- Ticks for hubs ----- */

static void tick_run(rx_action_t *a)
{
    weft__rx_hub_push((rx_hub_t *)a->sink, RX_TICK, RX_TAG_TICK, NULL, a->tag);
}

rx_action_t *weft__rx_tick(rx_hub_t *h, weft_rx_scheduler_t *s, double delay,
                           uintptr_t aux)
{
    rx_action_t *a = weft__rx_action_new(tick_run, &h->sink, aux);
    if (!a) {
        weft__rx_emit_fail(&h->sink, WEFT_ENOMEM);
        return NULL;
    }
    int rc = weft__rx_schedule(s, a, delay);
    if (rc) {
        weft__rx_action_release(a);
        weft__rx_emit_fail(&h->sink, rc);
        return NULL;
    }
    return a;
}

/* ----- The loop scheduler ----- */

struct loop_svc {
    pthread_mutex_t lock;
    rx_action_t *head; /* pending actions */
    int closed;
    _Atomic int refs;
    weft_loop_t *loop;
};

struct loop_sched {
    weft_rx_scheduler_t base;
    weft_loop_t *loop;
    struct loop_svc *svc;
};

static void svc_unref(struct loop_svc *v)
{
    if (atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&v->lock);
    free(v);
}

static void svc_close(weft_loop_t *loop, void *state) {}

static void svc_destroy(void *state)
{
    struct loop_svc *v = state;
    pthread_mutex_lock(&v->lock);
    v->closed = 1;
    rx_action_t *a = v->head;
    v->head = NULL;
    pthread_mutex_unlock(&v->lock);
    while (a) {
        rx_action_t *next = a->next;
        a->prev = a->next = NULL;
        a->impl = NULL;
        weft__rx_action_release(a);
        a = next;
    }
    svc_unref(v);
}

static const weft_loop_service_t rx_loop_service = {"rx", svc_close,
                                                    svc_destroy};

/* Under v->lock. */
static void unlink_action(struct loop_svc *v, rx_action_t *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        v->head = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
}

/* Take a off the list: 1 if it was there (its reference is now the
 * caller's), 0 if the service already dropped it. */
static int take_action(struct loop_svc *v, rx_action_t *a)
{
    pthread_mutex_lock(&v->lock);
    int there = a->impl == v;
    if (there) {
        unlink_action(v, a);
        a->impl = NULL;
    }
    pthread_mutex_unlock(&v->lock);
    return there;
}

static int loop_fire(void *arg)
{
    rx_action_t *a = arg;
    struct loop_sched *ls = (struct loop_sched *)a->sched;
    if (take_action(ls->svc, a))
        weft__rx_action_fire(a);
    return 0;
}

/* On the loop's thread: set the loop's timer for a. */
static int loop_arm(void *arg)
{
    rx_action_t *a = arg;
    struct loop_sched *ls = (struct loop_sched *)a->sched;
    double delay = a->due - weft_loop_time(ls->loop);
    if (delay < 0)
        delay = 0;
    if (weft_loop_call_later(ls->loop, delay, loop_fire, a, &a->handle) != 0)
        loop_fire(a); /* no memory for a timer: run it late rather than lose it */
    return 0;
}

static int loop_schedule(weft_rx_scheduler_t *s, rx_action_t *a, double delay)
{
    struct loop_sched *ls = (struct loop_sched *)s;
    struct loop_svc *v = ls->svc;
    pthread_mutex_lock(&v->lock);
    if (v->closed) {
        pthread_mutex_unlock(&v->lock);
        return weft_fail(WEFT_ECLOSED, "rx: the scheduler's loop is freed");
    }
    a->impl = v;
    a->prev = NULL;
    a->next = v->head;
    if (v->head)
        v->head->prev = a;
    v->head = a;
    pthread_mutex_unlock(&v->lock);
    if (weft_loop_running() == ls->loop)
        return loop_arm(a);
    int rc = weft_loop_call_soon_threadsafe(ls->loop, loop_arm, a);
    if (rc && take_action(v, a))
        return rc; /* the caller drops the reference */
    return 0;
}

static void loop_cancel(weft_rx_scheduler_t *s, rx_action_t *a)
{
    struct loop_sched *ls = (struct loop_sched *)s;
    /* The handle is the loop thread's: only there can the timer go now. */
    if (weft_loop_running() != ls->loop || !weft_handle_pending(&a->handle))
        return;
    if (take_action(ls->svc, a)) {
        weft_handle_cancel(&a->handle);
        weft__rx_action_release(a);
    }
}

static double loop_now(const weft_rx_scheduler_t *s)
{
    return weft_loop_time(((const struct loop_sched *)s)->loop);
}

struct coro_start {
    weft_fn fn;
    void *arg;
};

static void loop_start_task(rx_action_t *a)
{
    struct loop_sched *ls = (struct loop_sched *)a->sched;
    struct coro_start *cs = (struct coro_start *)a->tag;
    if (weft_task_create(NULL, ls->loop, cs->fn, cs->arg) != 0) {
        void *r;
        cs->fn(cs->arg, &r); /* runs as a callback: blocking stops the loop */
    }
    free(cs);
    a->tag = 0;
}

static int loop_spawn(weft_rx_scheduler_t *s, weft_fn fn, void *arg)
{
    struct coro_start *cs = malloc(sizeof *cs);
    rx_action_t *a = cs ? weft__rx_action_new(loop_start_task, NULL, 0) : NULL;
    if (!a) {
        free(cs);
        return weft_fail(WEFT_ENOMEM, "rx: no memory to start a coroutine");
    }
    cs->fn = fn;
    cs->arg = arg;
    a->tag = (uintptr_t)cs;
    int rc = weft__rx_schedule(s, a, 0);
    weft__rx_action_release(a);
    return rc;
}

static void loop_destroy(weft_rx_scheduler_t *s)
{
    struct loop_sched *ls = (struct loop_sched *)s;
    svc_unref(ls->svc);
    free(ls);
}

/* Only while the loop runs on another thread will it drain for us. */
static int loop_can_wait(const weft_rx_scheduler_t *s)
{
    weft_loop_t *loop = ((const struct loop_sched *)s)->loop;
    return weft_loop_is_running(loop) && weft_loop_running() != loop;
}

static const rx_sched_class_t loop_class = {"loop",      loop_now,
                                            loop_schedule, loop_cancel,
                                            loop_spawn,  loop_destroy,
                                            loop_can_wait};

int weft_rx_loop_scheduler_new(weft_rx_scheduler_t **out, weft_loop_t *loop)
{
    if (!out || !loop)
        return weft_fail(WEFT_EINVAL, "weft_rx_loop_scheduler_new: NULL %s",
                         out ? "loop" : "out");
    struct loop_sched *ls = calloc(1, sizeof *ls);
    if (!ls)
        return weft_fail(WEFT_ENOMEM, "weft_rx_loop_scheduler_new: no memory");
    struct loop_svc *v = weft_loop_service(loop, &rx_loop_service);
    if (!v) {
        v = calloc(1, sizeof *v);
        int rc = v ? weft_loop_attach_service(loop, &rx_loop_service, v)
                   : weft_fail(WEFT_ENOMEM, "rx: no memory");
        if (rc) {
            free(v);
            free(ls);
            return rc;
        }
        pthread_mutex_init(&v->lock, NULL);
        atomic_init(&v->refs, 1);
        v->loop = loop;
    }
    atomic_fetch_add(&v->refs, 1);
    atomic_init(&ls->base.refs, 1);
    ls->base.cls = &loop_class;
    ls->loop = loop;
    ls->svc = v;
    *out = &ls->base;
    return 0;
}

/* ----- The executor scheduler ----- */

struct exec_sched {
    weft_rx_scheduler_t base;
    weft_executor_t *ex;
};

static int exec_task(void *arg, void **result)
{
    rx_action_t *a = arg;
    /* A delayed action sleeps until due, or until cancelled: the cancel
     * sets the word before it wakes this park, and the park checks the
     * word under the park lock, so the wake is never lost. */
    int64_t deadline = weft_monotonic_ns() +
                       (int64_t)((a->due - weft_monotonic()) * 1e9);
    while (!atomic_load(&a->cancelled) && weft_monotonic_ns() < deadline)
        if (weft_park_wait(&a->cancelled, 0, deadline) == WEFT_ECANCELLED)
            break;
    weft__rx_action_fire(a);
    return 0;
}

static int exec_schedule(weft_rx_scheduler_t *s, rx_action_t *a, double delay)
{
    weft_future_t *f;
    int rc = weft_executor_submit(((struct exec_sched *)s)->ex, exec_task, a,
                                  &f);
    if (rc == 0)
        weft_future_free(f);
    return rc;
}

static int exec_spawn(weft_rx_scheduler_t *s, weft_fn fn, void *arg)
{
    weft_future_t *f;
    int rc = weft_executor_submit(((struct exec_sched *)s)->ex, fn, arg, &f);
    if (rc == 0)
        weft_future_free(f);
    return rc;
}

static double exec_now(const weft_rx_scheduler_t *s) { return weft_monotonic(); }

static void exec_destroy(weft_rx_scheduler_t *s) { free(s); }

static const rx_sched_class_t exec_class = {
    "executor", exec_now, exec_schedule, NULL, exec_spawn, exec_destroy, NULL};

int weft_rx_executor_scheduler_new(weft_rx_scheduler_t **out,
                                   weft_executor_t *ex)
{
    if (!out || !ex)
        return weft_fail(WEFT_EINVAL,
                         "weft_rx_executor_scheduler_new: NULL %s",
                         out ? "executor" : "out");
    struct exec_sched *es = calloc(1, sizeof *es);
    if (!es)
        return weft_fail(WEFT_ENOMEM, "weft_rx_executor_scheduler_new: no "
                                      "memory");
    atomic_init(&es->base.refs, 1);
    es->base.cls = &exec_class;
    es->ex = ex;
    *out = &es->base;
    return 0;
}
