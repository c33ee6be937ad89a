/* SPDX-License-Identifier: MIT */
/* subscribe_on and observe_on: moving a stream's work onto a scheduler.
 *
 * observe_on keeps a bounded ring of values between the producer's thread
 * and the scheduler's. The ring, the terminal event waiting behind it and
 * the "drain is scheduled" flag sit under one lock; the producer appends
 * and, when no drain is scheduled, schedules one; the drain takes one
 * event at a time under the lock and delivers it without the lock, and
 * clears the flag only when it finds the ring empty under the lock. So a
 * value appended after the drain looked is either seen by that drain's
 * next look, or finds the flag clear and schedules a new drain: none waits
 * without a drain coming. A producer blocked on a full ring (WEFT_RX_BLOCK)
 * waits on a condition that the drain signals after each take, and that a
 * stop broadcasts. A producer that cannot wait for the drain, because the
 * drain needs its thread (the loop's own, or any while the loop does not
 * run; a merge's serializer may hand any producer's values to it), grows
 * the ring instead: blocking there would wait forever.
 */
#include "base/check.h"
#include "rx_int.h"

#include <string.h>

/* ----- subscribe_on ----- */

struct on_sink {
    rx_sink_t s;
    rx_op_t *op;
    _Atomic(rx_action_t *) pending;
};

static void on_run(rx_action_t *a)
{
    struct on_sink *x = (struct on_sink *)a->sink;
    if (!rx_stopped(&x->s))
        weft__rx_set_up(&x->s, weft__rx_subscribe(x->op->src, &x->s));
}

static void on_stop(rx_sink_t *s)
{
    weft__rx_action_cancel(atomic_exchange(&((struct on_sink *)s)->pending,
                                           NULL));
}

static void on_destroy(rx_sink_t *s)
{
    struct on_sink *x = (struct on_sink *)s;
    weft__rx_action_release(atomic_exchange(&x->pending, NULL));
    weft_rx_observable_free(&x->op->o);
}

static const rx_sink_class_t on_class = {
    sizeof(struct on_sink), weft__rx_pass_next, weft__rx_pass_error,
    weft__rx_pass_completed, on_stop, on_destroy, NULL};

static rx_sink_t *subscribe_on_subscribe(weft_rx_observable_t *o,
                                         rx_sink_t *down)
{
    rx_op_t *op = (rx_op_t *)o;
    struct on_sink *x = weft__rx_sink_new(&on_class, down, o->values);
    if (!x)
        return NULL;
    x->op = (rx_op_t *)weft_rx_observable_ref(o);
    rx_action_t *a = weft__rx_action_new(on_run, &x->s, 0);
    int rc = a ? weft__rx_schedule(op->sched, a, 0) : WEFT_ENOMEM;
    if (rc) {
        weft__rx_action_release(a);
        weft__rx_emit_fail(&x->s, rc);
        return &x->s;
    }
    atomic_store(&x->pending, a);
    if (rx_stopped(&x->s)) /* stopped meanwhile: make sure it is cancelled */
        on_stop(&x->s);
    return &x->s;
}

static const rx_class_t subscribe_on_class = {
    "subscribe_on", sizeof(rx_op_t), subscribe_on_subscribe,
    weft__rx_op_destroy};

int weft_rx_subscribe_on(weft_rx_observable_t **out, weft_rx_observable_t *src,
                         weft_rx_scheduler_t *sched)
{
    int rc = weft__rx_check_sched(sched, "subscribe_on");
    if (rc)
        return rc;
    rx_op_t *op = weft__rx_op_new(&subscribe_on_class, out, src, 1);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->sched = weft_rx_scheduler_ref(sched);
    return 0;
}

/* ----- observe_on ----- */

struct oo_sink {
    rx_sink_t s;
    rx_op_t *op;
    pthread_mutex_t lock;
    pthread_cond_t room;
    void **ring;
    size_t head, n, cap;
    int scheduled;
    int end; /* 0, RX_COMPLETED or RX_ERROR: after the ring */
    weft_error_info_t err;
    int closed; /* stopped: nothing more is queued */
    rx_action_t *drain;
};

static void drain_run(rx_action_t *a);

/* Under the lock: schedule a drain unless one is. 0 or a code. */
static int kick(struct oo_sink *x)
{
    if (x->scheduled)
        return 0;
    rx_action_t *a = weft__rx_action_new(drain_run, &x->s, 0);
    int rc = a ? weft__rx_schedule(x->op->sched, a, 0) : WEFT_ENOMEM;
    if (rc) {
        weft__rx_action_release(a);
        return rc;
    }
    x->scheduled = 1;
    weft__rx_action_release(x->drain);
    x->drain = a;
    return 0;
}

static int can_wait(const weft_rx_scheduler_t *s)
{
    return !s->cls->can_wait || s->cls->can_wait(s);
}

/* Under the lock: double the ring (past the capacity) for a producer that
 * must not wait: the thread the drain needs. */
static int grow(struct oo_sink *x)
{
    void **ring = malloc(2 * x->cap * sizeof *ring);
    if (!ring)
        return WEFT_ENOMEM;
    for (size_t i = 0; i < x->n; i++)
        ring[i] = x->ring[(x->head + i) % x->cap];
    free(x->ring);
    x->ring = ring;
    x->head = 0;
    x->cap *= 2;
    return 0;
}

static void oo_next(rx_sink_t *s, void *v)
{
    struct oo_sink *x = (struct oo_sink *)s;
    const weft_rx_value_ops_t *ops = s->in;
    void *drop = NULL;
    int dropped = 0, rc = 0;
    pthread_mutex_lock(&x->lock);
    if (x->op->oo.overflow == WEFT_RX_BLOCK && x->n == x->cap &&
        !can_wait(x->op->sched) && grow(x) != 0) {
        pthread_mutex_unlock(&x->lock);
        weft__rx_emit_fail(s, weft_fail(WEFT_ENOMEM, "rx: observe_on: no "
                                                     "memory"));
        return;
    }
    while (!x->closed && x->n == x->cap && x->op->oo.overflow == WEFT_RX_BLOCK)
        pthread_cond_wait(&x->room, &x->lock);
    if (x->closed) {
        pthread_mutex_unlock(&x->lock);
        return;
    }
    if (x->n == x->cap) {
        dropped = 1;
        if (x->op->oo.overflow == WEFT_RX_DROP_OLDEST) {
            drop = x->ring[x->head];
            x->head = (x->head + 1) % x->cap;
            x->n--;
        } else { /* KEEP_LATEST: the newest queued gives way */
            size_t last = (x->head + x->n - 1) % x->cap;
            drop = x->ring[last];
            x->n--;
        }
    }
    x->ring[(x->head + x->n) % x->cap] = rx_retain(ops, v);
    x->n++;
    rc = kick(x);
    pthread_mutex_unlock(&x->lock);
    if (dropped) {
        atomic_fetch_add(&x->op->dropped, 1);
        rx_release(ops, drop);
    }
    if (rc)
        weft__rx_emit_fail(s, rc);
}

static void oo_end(rx_sink_t *s, int kind, const weft_error_info_t *e)
{
    struct oo_sink *x = (struct oo_sink *)s;
    pthread_mutex_lock(&x->lock);
    int rc = 0;
    if (!x->closed && !x->end) {
        x->end = kind;
        if (e)
            x->err = *e;
        rc = kick(x);
    }
    pthread_mutex_unlock(&x->lock);
    if (rc)
        weft__rx_emit_fail(s, rc);
}

static void oo_error(rx_sink_t *s, const weft_error_info_t *e)
{
    oo_end(s, RX_ERROR, e);
}

static void oo_completed(rx_sink_t *s) { oo_end(s, RX_COMPLETED, NULL); }

/* On the scheduler: deliver what is queued, then the end. */
static void drain_run(rx_action_t *a)
{
    struct oo_sink *x = (struct oo_sink *)a->sink;
    for (;;) {
        pthread_mutex_lock(&x->lock);
        if (x->closed || (x->n == 0 && !x->end)) {
            x->scheduled = 0;
            pthread_mutex_unlock(&x->lock);
            return;
        }
        if (x->n == 0) {
            int end = x->end;
            weft_error_info_t err = x->err;
            x->scheduled = 0;
            pthread_mutex_unlock(&x->lock);
            if (end == RX_COMPLETED)
                weft__rx_emit_completed(&x->s);
            else
                weft__rx_emit_error(&x->s, &err);
            return;
        }
        void *v = x->ring[x->head];
        x->head = (x->head + 1) % x->cap;
        x->n--;
        pthread_cond_signal(&x->room);
        pthread_mutex_unlock(&x->lock);
        rx_emit_next(&x->s, v);
        rx_release(x->s.in, v);
    }
}

static void oo_stop(rx_sink_t *s)
{
    struct oo_sink *x = (struct oo_sink *)s;
    pthread_mutex_lock(&x->lock);
    x->closed = 1;
    size_t n = x->n, head = x->head;
    x->n = 0;
    rx_action_t *d = x->drain;
    x->drain = NULL;
    pthread_cond_broadcast(&x->room);
    pthread_mutex_unlock(&x->lock);
    for (size_t i = 0; i < n; i++)
        rx_release(s->in, x->ring[(head + i) % x->cap]);
    weft__rx_action_cancel(d);
}

static void oo_destroy(rx_sink_t *s)
{
    struct oo_sink *x = (struct oo_sink *)s;
    for (size_t i = 0; i < x->n; i++)
        rx_release(s->in, x->ring[(x->head + i) % x->cap]);
    weft__rx_action_release(x->drain);
    free(x->ring);
    pthread_cond_destroy(&x->room);
    pthread_mutex_destroy(&x->lock);
    weft_rx_observable_free(&x->op->o);
}

static const rx_sink_class_t oo_class = {sizeof(struct oo_sink), oo_next,
                                         oo_error, oo_completed, oo_stop,
                                         oo_destroy, NULL};

static void oo_setup(rx_sink_t *s, void *arg)
{
    struct oo_sink *x = (struct oo_sink *)s;
    x->op = (rx_op_t *)weft_rx_observable_ref(arg);
    pthread_mutex_init(&x->lock, NULL);
    pthread_cond_init(&x->room, NULL);
    x->cap = x->op->oo.capacity;
    x->ring = malloc(x->cap * sizeof *x->ring);
    if (!x->ring)
        x->cap = 0; /* fails at the first value */
}

static rx_sink_t *observe_on_subscribe(weft_rx_observable_t *o,
                                       rx_sink_t *down)
{
    rx_op_t *op = (rx_op_t *)o;
    rx_sink_t *s = weft__rx_sink_new(&oo_class, down, o->values);
    if (!s)
        return NULL;
    oo_setup(s, o);
    if (((struct oo_sink *)s)->cap == 0) {
        weft__rx_emit_fail(s, weft_fail(WEFT_ENOMEM, "rx: observe_on: no "
                                                     "memory"));
        return s;
    }
    weft__rx_set_up(s, weft__rx_subscribe(op->src, s));
    return s;
}

static const rx_class_t observe_on_class = {"observe_on", sizeof(rx_op_t),
                                            observe_on_subscribe,
                                            weft__rx_op_destroy};

int weft_rx_observe_on(weft_rx_observable_t **out, weft_rx_observable_t *src,
                       weft_rx_scheduler_t *sched,
                       const weft_rx_observe_on_opts_t *opts)
{
    weft_rx_observe_on_opts_t oo = {1024, WEFT_RX_BLOCK};
    if (opts) {
        oo = *opts;
        if (oo.capacity == 0)
            oo.capacity = 1024;
    }
    if (oo.overflow < WEFT_RX_BLOCK || oo.overflow > WEFT_RX_KEEP_LATEST)
        return weft_fail(WEFT_EINVAL, "weft_rx_observe_on: bad overflow "
                                      "policy %d",
                         oo.overflow);
    int rc = weft__rx_check_sched(sched, "observe_on");
    if (rc)
        return rc;
    rx_op_t *op = weft__rx_op_new(&observe_on_class, out, src, 1);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->sched = weft_rx_scheduler_ref(sched);
    op->oo = oo;
    return 0;
}

size_t weft_rx_observe_on_dropped(const weft_rx_observable_t *o)
{
    WEFT_REFUSE_NULL_OR(o, 0);
    if (!o || o->cls != &observe_on_class)
        return 0;
    return atomic_load(&((rx_op_t *)o)->dropped);
}
