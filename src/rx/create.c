/* SPDX-License-Identifier: MIT */
/* Sources: arrays, ranges, iterators, empty, never, throw, create and the
 * blocking producers (generate, from_coroutine, from_queue).
 *
 * A synchronous source runs its whole stream inside subscribe, on the
 * subscribing thread, checking before each value whether its sink has
 * stopped (a take downstream, a dispose from another thread), so that an
 * endless range under take(3) stops after three.
 */
#include "base/check.h"
#include "rx_int.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weft/park.h"

/* The sink of a source: nobody upstream; its emitter functions. */
static const rx_sink_class_t source_class = {
    sizeof(rx_sink_t), NULL, NULL, NULL, NULL, NULL, NULL};

static rx_sink_t *source_sink(rx_sink_t *down, const weft_rx_value_ops_t *v)
{
    return weft__rx_sink_new(&source_class, down, v);
}

/* ----- from_array, of ----- */

struct array_obs {
    weft_rx_observable_t o;
    void *const *values;
    size_t n;
    void **owned; /* of's copy */
};

static rx_sink_t *array_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct array_obs *a = (struct array_obs *)o;
    rx_sink_t *s = source_sink(down, o->values);
    if (!s)
        return NULL;
    weft__rx_feed(s, a->values, a->n);
    weft__rx_emit_completed(s);
    return s;
}

static void array_destroy(weft_rx_observable_t *o)
{
    free(((struct array_obs *)o)->owned);
}

static const rx_class_t array_class = {"from_array", sizeof(struct array_obs),
                                       array_subscribe, array_destroy};

int weft_rx_from_array(weft_rx_observable_t **out, void *const *values,
                       size_t n)
{
    if (!out || (!values && n))
        return weft_fail(WEFT_EINVAL, "weft_rx_from_array: NULL %s",
                         out ? "values" : "out");
    struct array_obs *a = weft__rx_observable_new(&array_class, NULL);
    if (!a)
        return WEFT_ENOMEM;
    a->values = values;
    a->n = n;
    *out = &a->o;
    return 0;
}

int weft_rx_of(weft_rx_observable_t **out, size_t n, ...)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_of: NULL out");
    void **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return weft_fail(WEFT_ENOMEM, "weft_rx_of: no memory");
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        v[i] = va_arg(ap, void *);
    va_end(ap);
    int rc = weft_rx_from_array(out, v, n);
    if (rc)
        free(v);
    else
        ((struct array_obs *)*out)->owned = v;
    return rc;
}

/* ----- range ----- */

struct range_obs {
    weft_rx_observable_t o;
    long start, count;
};

enum { RANGE_CHUNK = 256 };

static rx_sink_t *range_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct range_obs *r = (struct range_obs *)o;
    rx_sink_t *s = source_sink(down, NULL);
    if (!s)
        return NULL;
    /* In chunks, so that a fused chain downstream runs each in one loop.
     * Counted, not compared with start + count: the last value may be
     * LONG_MAX, and the end one past it would overflow. */
    void *chunk[RANGE_CHUNK];
    for (long k = 0; k < r->count && !rx_stopped(s);) {
        long m = r->count - k < RANGE_CHUNK ? r->count - k : RANGE_CHUNK;
        for (long j = 0; j < m; j++)
            chunk[j] = (void *)(intptr_t)(r->start + k + j);
        weft__rx_feed(s, chunk, (size_t)m);
        k += m;
    }
    weft__rx_emit_completed(s);
    return s;
}

static const rx_class_t range_class = {"range", sizeof(struct range_obs),
                                       range_subscribe, NULL};

int weft_rx_range(weft_rx_observable_t **out, long start, long count)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_range: NULL out");
    if (count < 0)
        return weft_fail(WEFT_EINVAL, "weft_rx_range: count %ld < 0", count);
    if (count > 0 && start > LONG_MAX - (count - 1))
        return weft_fail(WEFT_EINVAL, "weft_rx_range: %ld values from %ld go "
                                      "past LONG_MAX",
                         count, start);
    struct range_obs *r = weft__rx_observable_new(&range_class, NULL);
    if (!r)
        return WEFT_ENOMEM;
    r->start = start;
    r->count = count;
    *out = &r->o;
    return 0;
}

/* ----- from_iter ----- */

struct iter_obs {
    weft_rx_observable_t o;
    weft_rx_iter_fn fn;
    void *ctx;
};

static rx_sink_t *iter_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct iter_obs *it = (struct iter_obs *)o;
    rx_sink_t *s = source_sink(down, o->values);
    if (!s)
        return NULL;
    for (size_t i = 0; !rx_stopped(s); i++) {
        void *v = NULL;
        int rc = it->fn(it->ctx, i, &v);
        if (rc == WEFT_EEOF) {
            weft__rx_emit_completed(s);
        } else if (rc) {
            weft__rx_emit_fail(s, rc);
        } else {
            rx_emit_next(s, v);
            rx_release(o->values, v);
        }
    }
    return s;
}

static const rx_class_t iter_class = {"from_iter", sizeof(struct iter_obs),
                                      iter_subscribe, NULL};

int weft_rx_from_iter(weft_rx_observable_t **out, weft_rx_iter_fn fn,
                      void *ctx)
{
    if (!out || !fn)
        return weft_fail(WEFT_EINVAL, "weft_rx_from_iter: NULL %s",
                         out ? "function" : "out");
    struct iter_obs *it = weft__rx_observable_new(&iter_class, NULL);
    if (!it)
        return WEFT_ENOMEM;
    it->fn = fn;
    it->ctx = ctx;
    *out = &it->o;
    return 0;
}

/* ----- empty, never, throw ----- */

struct const_obs {
    weft_rx_observable_t o;
    int kind;
    weft_error_info_t err;
};

static rx_sink_t *const_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct const_obs *c = (struct const_obs *)o;
    rx_sink_t *s = source_sink(down, NULL);
    if (!s)
        return NULL;
    if (c->kind == RX_COMPLETED)
        weft__rx_emit_completed(s);
    else if (c->kind == RX_ERROR)
        weft__rx_emit_error(s, &c->err);
    return s;
}

static const rx_class_t const_class = {"constant", sizeof(struct const_obs),
                                       const_subscribe, NULL};

static int const_new(weft_rx_observable_t **out, int kind, const char *what)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL out", what);
    struct const_obs *c = weft__rx_observable_new(&const_class, NULL);
    if (!c)
        return WEFT_ENOMEM;
    c->kind = kind;
    *out = &c->o;
    return 0;
}

int weft_rx_empty(weft_rx_observable_t **out)
{
    return const_new(out, RX_COMPLETED, "empty");
}

int weft_rx_never(weft_rx_observable_t **out)
{
    return const_new(out, 0, "never");
}

int weft_rx_throw(weft_rx_observable_t **out, int code, const char *fmt, ...)
{
    if (code == 0)
        return weft_fail(WEFT_EINVAL, "weft_rx_throw: code 0 is no error");
    int rc = const_new(out, RX_ERROR, "throw");
    if (rc)
        return rc;
    struct const_obs *c = (struct const_obs *)*out;
    c->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    if (fmt)
        vsnprintf(c->err.message, sizeof c->err.message, fmt, ap);
    else
        c->err.message[0] = '\0';
    va_end(ap);
    return 0;
}

/* ----- create and the emitter ----- */

/* An emitter is the sink of its subscription; generate's adds the cancel
 * scope that dispose cancels, which its producer runs inside. */
struct weft_rx_emitter {
    rx_sink_t s;
    weft_cancel_scope_t scope;
    weft_rx_create_fn fn;
    void *ctx;
};

static void emitter_stop(rx_sink_t *s)
{
    /* Safe before the producer enters the scope and after it left:
     * the scope lives in the sink, which the producer holds. */
    weft_cancel_scope_cancel(&((weft_rx_emitter_t *)s)->scope);
}

static const rx_sink_class_t emitter_class = {
    sizeof(weft_rx_emitter_t), NULL, NULL, NULL, emitter_stop, NULL, NULL};

void weft_rx_emitter_next(weft_rx_emitter_t *e, void *value)
{
    if (!e)
        return;
    rx_emit_next(&e->s, value);
    rx_release(e->s.in, value);
}

void weft_rx_emitter_error(weft_rx_emitter_t *e, int code, const char *fmt,
                           ...)
{
    if (!e)
        return;
    weft_error_info_t err;
    err.code = code ? code : WEFT_ETASK;
    va_list ap;
    va_start(ap, fmt);
    if (fmt)
        vsnprintf(err.message, sizeof err.message, fmt, ap);
    else
        err.message[0] = '\0';
    va_end(ap);
    weft__rx_emit_error(&e->s, &err);
}

void weft_rx_emitter_completed(weft_rx_emitter_t *e)
{
    if (e)
        weft__rx_emit_completed(&e->s);
}

int weft_rx_emitter_disposed(const weft_rx_emitter_t *e)
{
    WEFT_REFUSE_NULL_OR(e, 1);
    return rx_stopped(&e->s);
}

weft_rx_emitter_t *weft_rx_emitter_ref(weft_rx_emitter_t *e)
{
    WEFT_REFUSE_NULL_OR(e, NULL);
    if (e)
        rx_ref(&e->s);
    return e;
}

void weft_rx_emitter_free(weft_rx_emitter_t *e)
{
    weft__rx_sink_release(e ? &e->s : NULL);
}

struct create_obs {
    weft_rx_observable_t o;
    weft_rx_create_fn fn;
    void *ctx;
    weft_rx_scheduler_t *sched; /* generate */
};

static weft_rx_emitter_t *emitter_new(struct create_obs *c, rx_sink_t *down)
{
    weft_rx_emitter_t *e = weft__rx_sink_new(&emitter_class, down,
                                             c->o.values);
    if (e) {
        weft_cancel_scope_init(&e->scope);
        e->fn = c->fn;
        e->ctx = c->ctx;
    }
    return e;
}

static void finish(weft_rx_emitter_t *e, int rc)
{
    if (rc == 0)
        weft__rx_emit_completed(&e->s);
    else
        weft__rx_emit_fail(&e->s, rc);
}

static rx_sink_t *create_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct create_obs *c = (struct create_obs *)o;
    weft_rx_emitter_t *e = emitter_new(c, down);
    if (!e)
        return NULL;
    int rc = c->fn(c->ctx, e);
    if (rc)
        weft__rx_emit_fail(&e->s, rc);
    return &e->s;
}

static void create_destroy(weft_rx_observable_t *o)
{
    weft_rx_scheduler_free(((struct create_obs *)o)->sched);
}

static const rx_class_t create_class = {"create", sizeof(struct create_obs),
                                        create_subscribe, create_destroy};

int weft_rx_create(weft_rx_observable_t **out, weft_rx_create_fn fn, void *ctx)
{
    if (!out || !fn)
        return weft_fail(WEFT_EINVAL, "weft_rx_create: NULL %s",
                         out ? "function" : "out");
    struct create_obs *c = weft__rx_observable_new(&create_class, NULL);
    if (!c)
        return WEFT_ENOMEM;
    c->fn = fn;
    c->ctx = ctx;
    *out = &c->o;
    return 0;
}

/* ----- generate: a producer that may block, on a scheduler ----- */

static int produce(void *arg, void **result)
{
    weft_rx_emitter_t *e = arg;
    int rc = 0;
    if (!rx_stopped(&e->s) &&
        weft_cancel_scope_enter(&e->scope, WEFT_FOREVER, 0) == 0) {
        rc = e->fn(e->ctx, e);
        weft_cancel_scope_exit(&e->scope);
    }
    if (!rx_stopped(&e->s))
        finish(e, rc);
    weft__rx_sink_release(&e->s);
    return 0;
}

static rx_sink_t *generate_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct create_obs *c = (struct create_obs *)o;
    weft_rx_emitter_t *e = emitter_new(c, down);
    if (!e)
        return NULL;
    rx_ref(&e->s); /* the producer's */
    int rc = weft__rx_spawn(c->sched, produce, e);
    if (rc) {
        weft__rx_sink_release(&e->s);
        weft__rx_emit_fail(&e->s, rc);
    }
    return &e->s;
}

static const rx_class_t generate_class = {"generate", sizeof(struct create_obs),
                                          generate_subscribe, create_destroy};

int weft_rx_generate(weft_rx_observable_t **out, weft_rx_scheduler_t *sched,
                     weft_rx_create_fn fn, void *ctx)
{
    if (!out || !fn || !sched)
        return weft_fail(WEFT_EINVAL, "weft_rx_generate: NULL %s",
                         !out ? "out" : !fn ? "function" : "scheduler");
    struct create_obs *c = weft__rx_observable_new(&generate_class, NULL);
    if (!c)
        return WEFT_ENOMEM;
    c->fn = fn;
    c->ctx = ctx;
    c->sched = weft_rx_scheduler_ref(sched);
    *out = &c->o;
    return 0;
}

int weft_rx_from_coroutine(weft_rx_observable_t **out, weft_loop_t *loop,
                           weft_rx_create_fn fn, void *ctx)
{
    weft_rx_scheduler_t *s;
    if (!loop)
        return weft_fail(WEFT_EINVAL, "weft_rx_from_coroutine: NULL loop");
    int rc = weft_rx_loop_scheduler_new(&s, loop);
    if (rc)
        return rc;
    rc = weft_rx_generate(out, s, fn, ctx);
    weft_rx_scheduler_free(s);
    return rc;
}

/* ----- from_queue ----- */

static int pump_queue(void *ctx, weft_rx_emitter_t *e)
{
    weft_queue_t *q = ctx;
    for (;;) {
        void *item;
        int rc = weft_queue_get(q, &item, WEFT_FOREVER);
        if (rc == WEFT_ESHUTDOWN)
            return 0;
        if (rc)
            return rc;
        weft_rx_emitter_next(e, item);
        if (weft_rx_emitter_disposed(e))
            return 0;
    }
}

int weft_rx_from_queue(weft_rx_observable_t **out, weft_queue_t *q,
                       weft_rx_scheduler_t *sched)
{
    if (!q)
        return weft_fail(WEFT_EINVAL, "weft_rx_from_queue: NULL queue");
    return weft_rx_generate(out, sched, pump_queue, q);
}
