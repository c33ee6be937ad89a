/* SPDX-License-Identifier: MIT */
/* The time operators: debounce, throttle, sample, timeout and
 * buffer_with_time, timed as RxPY's (its tests are the reference): sample
 * ends at the tick after the source's completion, throttle lets a value
 * through when duration has passed since the last one it let through. Each is a hub: the source's events and the scheduler's
 * ticks reach one handler, serialized, so the operator's state (the value
 * held, the pending timer, its generation) has one writer, whatever
 * threads the source and the scheduler run on. A tick carries the
 * generation it was set for; one that comes for an older generation (its
 * cancel lost the race with its firing) is ignored.
 */
#include "rx_int.h"

enum { DEBOUNCE, THROTTLE, SAMPLE, TIMEOUT, BUFFER };

struct time_sink {
    rx_hub_t h;
    rx_op_t *op;
    rx_action_t *pending;
    uintptr_t gen;
    void *value;
    int has, gate;
    double next_due;
    rx_vec_t vec;
};

#define TS(h) ((struct time_sink *)(h))

static int kind_of(rx_hub_t *h);

static void set_tick(rx_hub_t *h, double delay)
{
    struct time_sink *t = TS(h);
    weft__rx_action_cancel(t->pending);
    t->pending = weft__rx_tick(h, t->op->sched, delay, ++t->gen);
}

/* A periodic tick: due at next_due, then every op->t. */
static void set_periodic(rx_hub_t *h)
{
    struct time_sink *t = TS(h);
    t->next_due += t->op->t;
    set_tick(h, t->next_due - weft_rx_scheduler_now(t->op->sched));
}

static void hold(struct time_sink *t, void *v)
{
    const weft_rx_value_ops_t *ops = t->h.sink.in;
    void *old = t->value;
    int had = t->has;
    t->value = rx_retain(ops, v);
    t->has = 1;
    if (had)
        rx_release(ops, old);
}

/* Emit the held value, if any, and let it go. */
static void flush(struct time_sink *t)
{
    if (!t->has)
        return;
    t->has = 0;
    rx_emit_next(&t->h.sink, t->value);
    rx_release(t->h.sink.in, t->value);
}

static void emit_buffer(struct time_sink *t)
{
    weft_rx_list_t *l = weft__rx_vec_take(&t->vec);
    if (!l) {
        weft__rx_emit_fail(&t->h.sink, weft_fail(WEFT_ENOMEM, "rx: "
                                                              "buffer_with_"
                                                              "time: no "
                                                              "memory"));
        return;
    }
    weft__rx_list_set_ops(l, t->h.sink.in);
    rx_emit_next(&t->h.sink, l);
    weft_rx_list_free(l);
}

static void on_start(rx_hub_t *h)
{
    struct time_sink *t = TS(h);
    t->next_due = weft_rx_scheduler_now(t->op->sched);
    int k = kind_of(h);
    if (k == TIMEOUT)
        set_tick(h, t->op->t);
    else if (k == SAMPLE || k == BUFFER)
        set_periodic(h);
}

static void on_next(rx_hub_t *h, void *v)
{
    struct time_sink *t = TS(h);
    switch (kind_of(h)) {
    case DEBOUNCE:
        hold(t, v);
        set_tick(h, t->op->t);
        break;
    case THROTTLE: {
        /* As RxPY's throttle_first: by the clock, no timer needed. */
        double now = weft_rx_scheduler_now(t->op->sched);
        if (t->gate && now - t->next_due < t->op->t)
            break;
        t->gate = 1;
        t->next_due = now;
        rx_emit_next(&h->sink, v);
        break;
    }
    case SAMPLE:
        hold(t, v);
        break;
    case TIMEOUT:
        rx_emit_next(&h->sink, v);
        set_tick(h, t->op->t);
        break;
    case BUFFER:
        if (weft__rx_vec_push(&t->vec, rx_retain(h->sink.in, v)))
            weft__rx_emit_fail(&h->sink, WEFT_ENOMEM);
        break;
    }
}

static void on_tick(rx_hub_t *h, uintptr_t gen)
{
    struct time_sink *t = TS(h);
    if (gen != t->gen)
        return;
    weft__rx_action_release(t->pending);
    t->pending = NULL;
    switch (kind_of(h)) {
    case DEBOUNCE:
        flush(t);
        break;
    case THROTTLE:
        break;
    case SAMPLE:
        flush(t);
        if (t->gate) /* the source completed: this tick ends it, as RxPY */
            weft__rx_emit_completed(&h->sink);
        else
            set_periodic(h);
        break;
    case TIMEOUT:
        weft__rx_emit_fail(&h->sink, weft_fail(WEFT_ETIMEDOUT, "rx: no value "
                                                               "within %g s",
                                               t->op->t));
        break;
    case BUFFER:
        emit_buffer(t);
        set_periodic(h);
        break;
    }
}

static void handle(rx_hub_t *h, rx_event_t *ev)
{
    struct time_sink *t = TS(h);
    if (ev->kind == RX_OTHER && ev->tag == RX_TAG_START) {
        on_start(h);
    } else if (ev->kind == RX_TICK) {
        on_tick(h, ev->aux);
    } else if (ev->kind == RX_NEXT) {
        on_next(h, ev->data);
    } else if (ev->kind == RX_ERROR) {
        weft__rx_emit_error(&h->sink, ev->data);
    } else if (ev->kind == RX_COMPLETED) {
        int k = kind_of(h);
        if (k == SAMPLE) {
            t->gate = 1;
            return;
        }
        if (k == DEBOUNCE)
            flush(t);
        else if (k == BUFFER)
            emit_buffer(t);
        weft__rx_emit_completed(&h->sink);
    }
}

static void cleanup(rx_hub_t *h)
{
    struct time_sink *t = TS(h);
    weft__rx_action_cancel(t->pending);
    t->pending = NULL;
    if (t->has)
        rx_release(h->sink.in, t->value);
    t->has = 0;
    weft__rx_vec_clear(&t->vec, h->sink.in);
}

static void destroy(rx_sink_t *s)
{
    cleanup((rx_hub_t *)s); /* a hub never started has nothing, but be sure */
    weft_rx_observable_free(&TS(s)->op->o);
    weft__rx_hub_destroy(s);
}

#define TIME_CLASS(k)                                                          \
    {{sizeof(struct time_sink), weft__rx_hub_next, weft__rx_hub_error,         \
      weft__rx_hub_completed, weft__rx_hub_stop, destroy, NULL},               \
     handle,                                                                   \
     cleanup,                                                                  \
     NULL}

static const rx_hub_class_t classes[] = {TIME_CLASS(DEBOUNCE),
                                         TIME_CLASS(THROTTLE),
                                         TIME_CLASS(SAMPLE),
                                         TIME_CLASS(TIMEOUT),
                                         TIME_CLASS(BUFFER)};

static int kind_of(rx_hub_t *h)
{
    return (int)((const rx_hub_class_t *)h->sink.cls - classes);
}

static rx_sink_t *time_subscribe(weft_rx_observable_t *o, rx_sink_t *down);

static const rx_class_t obs_classes[] = {
    {"debounce", sizeof(rx_op_t), time_subscribe, weft__rx_op_destroy},
    {"throttle", sizeof(rx_op_t), time_subscribe, weft__rx_op_destroy},
    {"sample", sizeof(rx_op_t), time_subscribe, weft__rx_op_destroy},
    {"timeout", sizeof(rx_op_t), time_subscribe, weft__rx_op_destroy},
    {"buffer_with_time", sizeof(rx_op_t), time_subscribe,
     weft__rx_op_destroy}};

static rx_sink_t *time_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    rx_op_t *op = (rx_op_t *)o;
    int k = (int)(o->cls - obs_classes);
    rx_hub_t *h = weft__rx_hub_new(&classes[k], down, op->src->values);
    if (!h)
        return NULL;
    TS(h)->op = (rx_op_t *)weft_rx_observable_ref(o);
    weft__rx_hub_push(h, RX_OTHER, RX_TAG_START, NULL, 0);
    weft__rx_set_up(&h->sink, weft__rx_subscribe(op->src, &h->sink));
    return &h->sink;
}

static int make_time(int k, weft_rx_observable_t **out,
                     weft_rx_observable_t *src, double t,
                     weft_rx_scheduler_t *sched)
{
    const char *what = obs_classes[k].name;
    int rc = weft__rx_check_sched(sched, what);
    if (rc == 0)
        rc = weft__rx_check_time(t, what, 0);
    if (rc)
        return rc;
    rx_op_t *op = weft__rx_op_new(&obs_classes[k], out, src, k != BUFFER);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->t = t;
    op->sched = weft_rx_scheduler_ref(sched);
    if (k == BUFFER)
        op->o.values = &weft_rx_list_ops;
    return 0;
}

int weft_rx_debounce(weft_rx_observable_t **out, weft_rx_observable_t *src,
                     double due, weft_rx_scheduler_t *sched)
{
    return make_time(DEBOUNCE, out, src, due, sched);
}

int weft_rx_throttle(weft_rx_observable_t **out, weft_rx_observable_t *src,
                     double duration, weft_rx_scheduler_t *sched)
{
    return make_time(THROTTLE, out, src, duration, sched);
}

int weft_rx_sample(weft_rx_observable_t **out, weft_rx_observable_t *src,
                   double interval, weft_rx_scheduler_t *sched)
{
    return make_time(SAMPLE, out, src, interval, sched);
}

int weft_rx_timeout(weft_rx_observable_t **out, weft_rx_observable_t *src,
                    double due, weft_rx_scheduler_t *sched)
{
    return make_time(TIMEOUT, out, src, due, sched);
}

int weft_rx_buffer_with_time(weft_rx_observable_t **out,
                             weft_rx_observable_t *src, double timespan,
                             weft_rx_scheduler_t *sched)
{
    return make_time(BUFFER, out, src, timespan, sched);
}
