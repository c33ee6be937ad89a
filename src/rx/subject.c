/* SPDX-License-Identifier: MIT */
/* Subject, BehaviorSubject and ReplaySubject.
 *
 * Every push (a value, an error, the end) and every new subscription goes
 * through the subject's serializer, so one thread at a time delivers, in
 * the order of the pushes, and a subscriber's first events (the latest
 * value, the replay) never overlap a delivery to it from another thread.
 * The subscribers are an immutable array, replaced whole under the lock
 * when one comes or goes; a delivery holds a reference to the array it
 * read, so a subscriber that leaves meanwhile stays valid until the
 * delivery is through (and hears nothing more: it has stopped).
 */
#include "base/check.h"
#include "rx_int.h"

#include <stdio.h>
#include <string.h>

enum { PLAIN, BEHAVIOR, REPLAY };

struct subs {
    _Atomic size_t refs;
    size_t n;
    rx_sink_t *s[];
};

struct kept {
    void *v;
    double t;
};

struct weft_rx_subject {
    weft_rx_observable_t o;
    int kind;
    pthread_mutex_t lock; /* guards subs; the rest is the handler's */
    struct subs *subs;
    rx_serial_t serial;
    _Atomic int pushed;
    int done; /* 0, RX_COMPLETED or RX_ERROR */
    weft_error_info_t err;
    void *latest;
    struct kept *buf;
    size_t n, cap, count;
    double window;
    weft_rx_scheduler_t *sched;
};

struct subj_sink {
    rx_sink_t s;
    weft_rx_subject_t *subject;
};

static void subs_release(struct subs *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    for (size_t i = 0; i < a->n; i++)
        weft__rx_sink_release(a->s[i]);
    free(a);
}

/* A copy of a (NULL: empty) with add appended or drop left out. */
static struct subs *subs_edit(struct subs *a, rx_sink_t *add, rx_sink_t *drop)
{
    size_t n = a ? a->n : 0;
    struct subs *b = malloc(sizeof *b + (n + 1) * sizeof(rx_sink_t *));
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->n = 0;
    for (size_t i = 0; i < n; i++)
        if (a->s[i] != drop)
            b->s[b->n++] = rx_ref(a->s[i]);
    if (add)
        b->s[b->n++] = rx_ref(add);
    return b;
}

static struct subs *subs_get(weft_rx_subject_t *s)
{
    pthread_mutex_lock(&s->lock);
    struct subs *a = s->subs;
    if (a)
        atomic_fetch_add(&a->refs, 1);
    pthread_mutex_unlock(&s->lock);
    return a;
}

static double clock_now(weft_rx_subject_t *s)
{
    return s->sched ? weft_rx_scheduler_now(s->sched) : weft_monotonic();
}

/* Replay: drop what is too many or too old. */
static void trim(weft_rx_subject_t *s)
{
    size_t drop = 0;
    if (s->count && s->n > s->count)
        drop = s->n - s->count;
    if (s->window >= 0) {
        double now = clock_now(s);
        while (drop < s->n && now - s->buf[drop].t > s->window)
            drop++;
    }
    if (drop == 0)
        return;
    for (size_t i = 0; i < drop; i++)
        rx_release(s->o.values, s->buf[i].v);
    memmove(s->buf, s->buf + drop, (s->n - drop) * sizeof *s->buf);
    s->n -= drop;
}

static void keep_value(weft_rx_subject_t *s, void *v)
{
    if (s->kind == BEHAVIOR) {
        void *old = s->latest;
        s->latest = rx_retain(s->o.values, v);
        rx_release(s->o.values, old);
    } else if (s->kind == REPLAY) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 16;
            struct kept *b = realloc(s->buf, cap * sizeof *b);
            if (!b)
                return; /* no memory: the value is not kept for replay */
            s->buf = b;
            s->cap = cap;
        }
        s->buf[s->n++] = (struct kept){rx_retain(s->o.values, v), clock_now(s)};
        trim(s);
    }
}

static void end_one(weft_rx_subject_t *s, rx_sink_t *x)
{
    if (s->done == RX_COMPLETED)
        weft__rx_emit_completed(x);
    else
        weft__rx_emit_error(x, &s->err);
}

/* A new subscriber, on the handler's thread. */
static void welcome(weft_rx_subject_t *s, rx_sink_t *x)
{
    if (s->kind == BEHAVIOR && !s->done)
        rx_emit_next(x, s->latest);
    if (s->kind == REPLAY) {
        trim(s);
        for (size_t i = 0; i < s->n; i++)
            rx_emit_next(x, s->buf[i].v);
    }
    if (s->done) {
        end_one(s, x);
        return;
    }
    if (rx_stopped(x))
        return;
    pthread_mutex_lock(&s->lock);
    struct subs *old = s->subs, *a = subs_edit(old, x, NULL);
    if (a)
        s->subs = a;
    pthread_mutex_unlock(&s->lock);
    if (a)
        subs_release(old);
    else
        weft__rx_fail_sink(x, weft_fail(WEFT_ENOMEM, "rx: no memory for a "
                                                     "subscriber"));
}

static void handle(void *owner, rx_event_t *ev)
{
    weft_rx_subject_t *s = owner;
    if (ev->kind == RX_OTHER) {
        welcome(s, ev->data);
        weft__rx_sink_release(ev->data);
        return;
    }
    if (s->done)
        return;
    if (ev->kind == RX_NEXT) {
        keep_value(s, ev->data);
        struct subs *a = subs_get(s);
        for (size_t i = 0; a && i < a->n; i++)
            rx_emit_next(a->s[i], ev->data);
        subs_release(a);
        return;
    }
    s->done = ev->kind;
    if (ev->kind == RX_ERROR)
        s->err = *(const weft_error_info_t *)ev->data;
    pthread_mutex_lock(&s->lock);
    struct subs *a = s->subs;
    s->subs = NULL;
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; a && i < a->n; i++)
        end_one(s, a->s[i]);
    subs_release(a);
}

static const weft_rx_value_ops_t *ops_of(void *owner, int tag)
{
    return ((weft_rx_subject_t *)owner)->o.values;
}

/* ----- The subscriber's sink ----- */

static void ss_stop(rx_sink_t *x)
{
    weft_rx_subject_t *s = ((struct subj_sink *)x)->subject;
    pthread_mutex_lock(&s->lock);
    struct subs *old = s->subs, *a = NULL;
    int there = 0;
    for (size_t i = 0; old && i < old->n; i++)
        there |= old->s[i] == x;
    if (there && (a = subs_edit(old, NULL, x)) != NULL)
        s->subs = a;
    pthread_mutex_unlock(&s->lock);
    if (a)
        subs_release(old);
    /* No memory for a smaller array: x stays listed, stopped and silent,
     * until the subject ends or is freed. */
}

static void ss_destroy(rx_sink_t *x)
{
    weft_rx_observable_free(&((struct subj_sink *)x)->subject->o);
}

static const rx_sink_class_t ss_class = {
    sizeof(struct subj_sink), weft__rx_pass_next, weft__rx_pass_error,
    weft__rx_pass_completed, ss_stop, ss_destroy, NULL};

static rx_sink_t *subject_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    weft_rx_subject_t *s = (weft_rx_subject_t *)o;
    struct subj_sink *x = weft__rx_sink_new(&ss_class, down, o->values);
    if (!x)
        return NULL;
    x->subject = (weft_rx_subject_t *)weft_rx_observable_ref(o);
    rx_event_t ev = {RX_OTHER, 0, rx_ref(&x->s), 0};
    weft__rx_serial_push(&s->serial, ev);
    return &x->s;
}

static void subject_destroy(weft_rx_observable_t *o)
{
    weft_rx_subject_t *s = (weft_rx_subject_t *)o;
    subs_release(s->subs);
    weft__rx_serial_destroy(&s->serial);
    pthread_mutex_destroy(&s->lock);
    if (s->kind == BEHAVIOR)
        rx_release(o->values, s->latest);
    for (size_t i = 0; i < s->n; i++)
        rx_release(o->values, s->buf[i].v);
    free(s->buf);
    weft_rx_scheduler_free(s->sched);
}

static const rx_class_t subject_class = {"subject", sizeof(weft_rx_subject_t),
                                         subject_subscribe, subject_destroy};

int weft__rx_subject_is(const weft_rx_observable_t *o)
{
    return o && o->cls == &subject_class;
}

static int subject_new(weft_rx_subject_t **out, int kind, const char *what)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s_new: NULL out", what);
    weft_rx_subject_t *s = weft__rx_observable_new(&subject_class, NULL);
    if (!s)
        return WEFT_ENOMEM;
    s->kind = kind;
    s->window = -1;
    pthread_mutex_init(&s->lock, NULL);
    weft__rx_serial_init(&s->serial, handle, ops_of, s);
    *out = s;
    return 0;
}

int weft_rx_subject_new(weft_rx_subject_t **out)
{
    return subject_new(out, PLAIN, "subject");
}

int weft_rx_behavior_subject_new(weft_rx_subject_t **out, void *initial)
{
    int rc = subject_new(out, BEHAVIOR, "behavior_subject");
    if (rc == 0)
        (*out)->latest = initial;
    return rc;
}

int weft_rx_replay_subject_new(weft_rx_subject_t **out, size_t count,
                               double window, weft_rx_scheduler_t *sched)
{
    if (window != WEFT_FOREVER &&
        weft__rx_check_time(window, "replay_subject_new", 1) != 0)
        return WEFT_EINVAL;
    int rc = subject_new(out, REPLAY, "replay_subject");
    if (rc)
        return rc;
    (*out)->count = count;
    (*out)->window = window == WEFT_FOREVER ? -1 : window;
    (*out)->sched = weft_rx_scheduler_ref(sched);
    return 0;
}

int weft_rx_subject_set_values(weft_rx_subject_t *s,
                               const weft_rx_value_ops_t *ops)
{
    if (!s)
        return weft_fail(WEFT_EINVAL, "weft_rx_subject_set_values: NULL "
                                      "subject");
    if (atomic_load(&s->pushed) || atomic_load(&s->o.subscribed))
        return weft_fail(WEFT_ESTATE, "weft_rx_subject_set_values: the "
                                      "subject is already in use");
    s->o.values = ops;
    if (s->kind == BEHAVIOR)
        s->latest = rx_retain(ops, s->latest);
    return 0;
}

static void push(weft_rx_subject_t *s, int kind, void *data)
{
    if (!s)
        return;
    atomic_store_explicit(&s->pushed, 1, memory_order_relaxed);
    rx_event_t ev = {kind, 0, data, 0};
    weft__rx_serial_push(&s->serial, ev);
}

void weft_rx_subject_on_next(weft_rx_subject_t *s, void *value)
{
    push(s, RX_NEXT, value);
}

void weft_rx_subject_on_error(weft_rx_subject_t *s, int code, const char *fmt,
                              ...)
{
    weft_error_info_t e;
    e.code = code ? code : WEFT_ETASK;
    va_list ap;
    va_start(ap, fmt);
    if (fmt)
        vsnprintf(e.message, sizeof e.message, fmt, ap);
    else
        e.message[0] = '\0';
    va_end(ap);
    push(s, RX_ERROR, &e);
}

void weft_rx_subject_on_completed(weft_rx_subject_t *s)
{
    push(s, RX_COMPLETED, NULL);
}

weft_rx_observable_t *weft_rx_subject_observable(weft_rx_subject_t *s)
{
    WEFT_REFUSE_NULL_OR(s, NULL);
    return s ? weft_rx_observable_ref(&s->o) : NULL;
}

static void obs_next(void *ctx, void *v) { weft_rx_subject_on_next(ctx, v); }
static void obs_error(void *ctx, const weft_error_info_t *e)
{
    weft_rx_subject_on_error(ctx, e->code, "%s", e->message);
}
static void obs_completed(void *ctx) { weft_rx_subject_on_completed(ctx); }
static void obs_release(void *ctx) { weft_rx_subject_free(ctx); }

weft_rx_observer_t weft_rx_subject_observer(weft_rx_subject_t *s)
{
    WEFT_REFUSE_NULL_OR(s, (weft_rx_observer_t){0});
    weft_rx_observer_t o = {obs_next, obs_error, obs_completed, s,
                            obs_release};
    weft_rx_observable_ref(&s->o);
    return o;
}

size_t weft_rx_subject_observers(const weft_rx_subject_t *s)
{
    WEFT_REFUSE_NULL_OR(s, 0);
    if (!s)
        return 0;
    weft_rx_subject_t *m = (weft_rx_subject_t *)s;
    pthread_mutex_lock(&m->lock);
    size_t n = m->subs ? m->subs->n : 0;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void weft_rx_subject_free(weft_rx_subject_t *s)
{
    weft_rx_observable_free(s ? &s->o : NULL);
}
