/* The single-input operators: map, filter, scan, reduce, take, skip,
 * take_while, distinct, distinct_until_changed, tap, buffer and window by
 * count. Each is a sink class over the common operator sink: a few lines
 * of what it does with a value, the rest shared (construction, taking the
 * source, subscribing, failing when the user's callback fails).
 */
#include "rx_int.h"

#include <string.h>

/* ----- The skeleton ----- */

rx_op_t *weft__rx_op_new(const rx_class_t *cls, weft_rx_observable_t **out,
                         weft_rx_observable_t *src, int inherit)
{
    if (!out) {
        weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL out", cls->name);
        return NULL;
    }
    if (weft__rx_check_src(src, cls->name))
        return NULL;
    rx_op_t *op = weft__rx_observable_new(cls, inherit ? src->values : NULL);
    if (!op)
        return NULL;
    op->src = src;
    *out = &op->o;
    return op;
}

void weft__rx_op_destroy(weft_rx_observable_t *o)
{
    rx_op_t *op = (rx_op_t *)o;
    weft_rx_observable_free(op->src);
    weft_rx_observable_free(op->other);
    weft_rx_scheduler_free(op->sched);
    for (size_t i = 0; i < op->nsrcs; i++)
        weft_rx_observable_free(op->srcs[i]);
    free(op->srcs);
    if (op->obs.release)
        op->obs.release(op->obs.ctx);
}

static void setup_op(rx_sink_t *s, void *arg)
{
    rx_op_sink_t *x = (rx_op_sink_t *)s;
    x->op = (rx_op_t *)weft_rx_observable_ref(arg);
}

rx_sink_t *weft__rx_op_chain(const rx_sink_class_t *cls,
                             weft_rx_observable_t *o, rx_sink_t *down)
{
    return weft__rx_chain(cls, down, ((rx_op_t *)o)->src, setup_op, o);
}

void weft__rx_op_sink_destroy(rx_sink_t *s)
{
    rx_op_sink_t *x = (rx_op_sink_t *)s;
    if (x->has)
        rx_release(x->op->o.values, x->acc);
    weft__rx_vec_clear(&x->vec, s->in);
    weft_rx_observable_free(&x->op->o);
}

#define OP(x) ((rx_op_sink_t *)(x))
#define FN(x, type) ((type)OP(x)->op->fn)
#define CTX(x) (OP(x)->op->ctx)

/* Define the observable class of an operator whose sink class is
 * name##_sink. */
#define OP_CLASS(name)                                                         \
    static rx_sink_t *name##_subscribe(weft_rx_observable_t *o,                \
                                       rx_sink_t *down)                        \
    {                                                                          \
        return weft__rx_op_chain(&name##_sink, o, down);                       \
    }                                                                          \
    static const rx_class_t name##_class = {#name, sizeof(rx_op_t),            \
                                            name##_subscribe,                  \
                                            weft__rx_op_destroy}

#define SINK(name, next, completed)                                            \
    static const rx_sink_class_t name##_sink = {                               \
        sizeof(rx_op_sink_t), next, weft__rx_pass_error, completed, NULL,      \
        weft__rx_op_sink_destroy}

static int no_fn(const char *what)
{
    return weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL function", what);
}

/* Make op of class cls with fn and ctx; inherit: values pass through. */
static int make(const rx_class_t *cls, weft_rx_observable_t **out,
                weft_rx_observable_t *src, void (*fn)(void), void *ctx,
                int inherit)
{
    rx_op_t *op = weft__rx_op_new(cls, out, src, inherit);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->fn = fn;
    op->ctx = ctx;
    return 0;
}

/* ----- map ----- */

static void map_next(rx_sink_t *s, void *v)
{
    void *out = NULL;
    int rc = FN(s, weft_rx_map_fn)(CTX(s), v, &out);
    if (rc) {
        weft__rx_emit_fail(s, rc);
        return;
    }
    rx_emit_next(s, out);
    rx_release(OP(s)->op->o.values, out);
}

SINK(map, map_next, weft__rx_pass_completed);
OP_CLASS(map);

int weft_rx_map(weft_rx_observable_t **out, weft_rx_observable_t *src,
                weft_rx_map_fn fn, void *ctx)
{
    if (!fn)
        return no_fn("map");
    return make(&map_class, out, src, (void (*)(void))fn, ctx, 0);
}

/* ----- filter ----- */

static void filter_next(rx_sink_t *s, void *v)
{
    int keep = 0;
    int rc = FN(s, weft_rx_pred_fn)(CTX(s), v, &keep);
    if (rc)
        weft__rx_emit_fail(s, rc);
    else if (keep)
        rx_emit_next(s, v);
}

SINK(filter, filter_next, weft__rx_pass_completed);
OP_CLASS(filter);

int weft_rx_filter(weft_rx_observable_t **out, weft_rx_observable_t *src,
                   weft_rx_pred_fn fn, void *ctx)
{
    if (!fn)
        return no_fn("filter");
    return make(&filter_class, out, src, (void (*)(void))fn, ctx, 1);
}

/* ----- scan, reduce ----- */

/* acc = f(acc, v); 0, or the callback's code. */
static int accumulate(rx_sink_t *s, void *v)
{
    rx_op_sink_t *x = OP(s);
    const weft_rx_value_ops_t *ops = x->op->o.values;
    if (!x->has) {
        x->acc = rx_retain(ops, x->op->seed);
        x->has = 1;
    }
    void *next = NULL;
    int rc = FN(s, weft_rx_acc_fn)(CTX(s), x->acc, v, &next);
    if (rc)
        return rc;
    if (next != x->acc)
        rx_release(ops, x->acc);
    x->acc = next;
    return 0;
}

static void scan_next(rx_sink_t *s, void *v)
{
    int rc = accumulate(s, v);
    if (rc)
        weft__rx_emit_fail(s, rc);
    else
        rx_emit_next(s, OP(s)->acc);
}

static void reduce_next(rx_sink_t *s, void *v)
{
    int rc = accumulate(s, v);
    if (rc)
        weft__rx_emit_fail(s, rc);
}

static void reduce_completed(rx_sink_t *s)
{
    rx_op_sink_t *x = OP(s);
    rx_emit_next(s, x->has ? x->acc : x->op->seed);
    weft__rx_emit_completed(s);
}

SINK(scan, scan_next, weft__rx_pass_completed);
OP_CLASS(scan);
SINK(reduce, reduce_next, reduce_completed);
OP_CLASS(reduce);

static int make_acc(const rx_class_t *cls, weft_rx_observable_t **out,
                    weft_rx_observable_t *src, weft_rx_acc_fn fn, void *seed,
                    void *ctx)
{
    if (!fn)
        return no_fn(cls->name);
    int rc = make(cls, out, src, (void (*)(void))fn, ctx, 0);
    if (rc == 0)
        ((rx_op_t *)*out)->seed = seed;
    return rc;
}

int weft_rx_scan(weft_rx_observable_t **out, weft_rx_observable_t *src,
                 weft_rx_acc_fn fn, void *seed, void *ctx)
{
    return make_acc(&scan_class, out, src, fn, seed, ctx);
}

int weft_rx_reduce(weft_rx_observable_t **out, weft_rx_observable_t *src,
                   weft_rx_acc_fn fn, void *seed, void *ctx)
{
    return make_acc(&reduce_class, out, src, fn, seed, ctx);
}

/* ----- take, skip, take_while ----- */

static void take_next(rx_sink_t *s, void *v)
{
    rx_op_sink_t *x = OP(s);
    if (x->i >= x->op->n)
        return;
    x->i++;
    rx_emit_next(s, v);
    if (x->i == x->op->n)
        weft__rx_emit_completed(s);
}

/* take(0) completes at subscription, without subscribing the source. */
static rx_sink_t *take_subscribe(weft_rx_observable_t *o, rx_sink_t *down);

static const rx_sink_class_t take_sink = {
    sizeof(rx_op_sink_t), take_next, weft__rx_pass_error,
    weft__rx_pass_completed, NULL, weft__rx_op_sink_destroy};
static const rx_class_t take_class = {"take", sizeof(rx_op_t), take_subscribe,
                                      weft__rx_op_destroy};

static rx_sink_t *take_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    rx_op_t *op = (rx_op_t *)o;
    if (op->n > 0)
        return weft__rx_op_chain(&take_sink, o, down);
    rx_sink_t *s = weft__rx_sink_new(&take_sink, down, o->values);
    if (s) {
        OP(s)->op = (rx_op_t *)weft_rx_observable_ref(o);
        weft__rx_emit_completed(s);
    }
    return s;
}

static void skip_next(rx_sink_t *s, void *v)
{
    rx_op_sink_t *x = OP(s);
    if (x->i < x->op->n)
        x->i++;
    else
        rx_emit_next(s, v);
}

SINK(skip, skip_next, weft__rx_pass_completed);
OP_CLASS(skip);

static int make_count(const rx_class_t *cls, weft_rx_observable_t **out,
                      weft_rx_observable_t *src, long n)
{
    if (n < 0)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: count %ld < 0", cls->name,
                         n);
    int rc = make(cls, out, src, NULL, NULL, 1);
    if (rc == 0)
        ((rx_op_t *)*out)->n = n;
    return rc;
}

int weft_rx_take(weft_rx_observable_t **out, weft_rx_observable_t *src, long n)
{
    return make_count(&take_class, out, src, n);
}

int weft_rx_skip(weft_rx_observable_t **out, weft_rx_observable_t *src, long n)
{
    return make_count(&skip_class, out, src, n);
}

static void take_while_next(rx_sink_t *s, void *v)
{
    int keep = 0;
    int rc = FN(s, weft_rx_pred_fn)(CTX(s), v, &keep);
    if (rc)
        weft__rx_emit_fail(s, rc);
    else if (keep)
        rx_emit_next(s, v);
    else
        weft__rx_emit_completed(s);
}

SINK(take_while, take_while_next, weft__rx_pass_completed);
OP_CLASS(take_while);

int weft_rx_take_while(weft_rx_observable_t **out, weft_rx_observable_t *src,
                       weft_rx_pred_fn fn, void *ctx)
{
    if (!fn)
        return no_fn("take_while");
    return make(&take_while_class, out, src, (void (*)(void))fn, ctx, 1);
}

/* ----- distinct, distinct_until_changed ----- */

static uintptr_t key_of(rx_sink_t *s, void *v)
{
    weft_rx_key_fn fn = FN(s, weft_rx_key_fn);
    return fn ? fn(CTX(s), v) : (uintptr_t)v;
}

/* An open-addressing set of keys in x->vec (cap a power of two, slot 0
 * of the key space stored apart). Returns 1 when k was new. */
static int set_add(rx_op_sink_t *x, uintptr_t k)
{
    if (k == 0) {
        int fresh = !(x->has & 2);
        x->has |= 2;
        return fresh;
    }
    rx_vec_t *t = &x->vec;
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        void **nv = calloc(cap, sizeof *nv);
        if (!nv)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            uintptr_t old = (uintptr_t)t->v[i];
            size_t j = (old * 0x9E3779B97F4A7C15ull) & (cap - 1);
            while (old && nv[j])
                j = (j + 1) & (cap - 1);
            if (old)
                nv[j] = (void *)old;
        }
        free(t->v);
        t->v = nv;
        t->cap = cap;
    }
    size_t j = (k * 0x9E3779B97F4A7C15ull) & (t->cap - 1);
    while (t->v[j]) {
        if ((uintptr_t)t->v[j] == k)
            return 0;
        j = (j + 1) & (t->cap - 1);
    }
    t->v[j] = (void *)k;
    t->n++;
    return 1;
}

static void distinct_next(rx_sink_t *s, void *v)
{
    int fresh = set_add(OP(s), key_of(s, v));
    if (fresh < 0)
        weft__rx_emit_fail(s, weft_fail(WEFT_ENOMEM, "rx: distinct: no memory"));
    else if (fresh)
        rx_emit_next(s, v);
}

static void distinct_destroy(rx_sink_t *s)
{
    rx_op_sink_t *x = OP(s);
    free(x->vec.v);
    x->vec = (rx_vec_t){0};
    x->has = 0;
    weft__rx_op_sink_destroy(s);
}

static const rx_sink_class_t distinct_sink = {
    sizeof(rx_op_sink_t), distinct_next, weft__rx_pass_error,
    weft__rx_pass_completed, NULL, distinct_destroy};
OP_CLASS(distinct);

static void dcu_next(rx_sink_t *s, void *v)
{
    rx_op_sink_t *x = OP(s);
    uintptr_t k = key_of(s, v);
    if (x->i && x->key == k)
        return;
    x->i = 1;
    x->key = k;
    rx_emit_next(s, v);
}

SINK(distinct_until_changed, dcu_next, weft__rx_pass_completed);
OP_CLASS(distinct_until_changed);

int weft_rx_distinct(weft_rx_observable_t **out, weft_rx_observable_t *src,
                     weft_rx_key_fn fn, void *ctx)
{
    return make(&distinct_class, out, src, (void (*)(void))fn, ctx, 1);
}

int weft_rx_distinct_until_changed(weft_rx_observable_t **out,
                                   weft_rx_observable_t *src,
                                   weft_rx_key_fn fn, void *ctx)
{
    return make(&distinct_until_changed_class, out, src, (void (*)(void))fn,
                ctx, 1);
}

/* ----- tap ----- */

static void tap_next(rx_sink_t *s, void *v)
{
    weft_rx_observer_t *o = &OP(s)->op->obs;
    if (o->on_next)
        o->on_next(o->ctx, v);
    rx_emit_next(s, v);
}

static void tap_error(rx_sink_t *s, const weft_error_info_t *e)
{
    weft_rx_observer_t *o = &OP(s)->op->obs;
    if (o->on_error && !rx_stopped(s))
        o->on_error(o->ctx, e);
    weft__rx_emit_error(s, e);
}

static void tap_completed(rx_sink_t *s)
{
    weft_rx_observer_t *o = &OP(s)->op->obs;
    if (o->on_completed && !rx_stopped(s))
        o->on_completed(o->ctx);
    weft__rx_emit_completed(s);
}

static const rx_sink_class_t tap_sink = {
    sizeof(rx_op_sink_t), tap_next, tap_error, tap_completed, NULL,
    weft__rx_op_sink_destroy};
OP_CLASS(tap);

int weft_rx_tap(weft_rx_observable_t **out, weft_rx_observable_t *src,
                const weft_rx_observer_t *observer)
{
    if (!observer)
        return weft_fail(WEFT_EINVAL, "weft_rx_tap: NULL observer");
    int rc = make(&tap_class, out, src, NULL, NULL, 1);
    if (rc == 0)
        ((rx_op_t *)*out)->obs = *observer;
    return rc;
}

/* ----- buffer_with_count ----- */

/* Open buffers are x->vec of lists under construction: each entry a
 * rx_vec_t * of retained values. */
static void emit_list(rx_sink_t *s, rx_vec_t *b)
{
    weft_rx_list_t *l = weft__rx_vec_take(b);
    if (!l) {
        weft__rx_emit_fail(s, weft_fail(WEFT_ENOMEM, "rx: buffer: no memory"));
        return;
    }
    weft__rx_list_set_ops(l, s->in);
    rx_emit_next(s, l);
    weft_rx_list_free(l);
}

static void buffer_next(rx_sink_t *s, void *v)
{
    rx_op_sink_t *x = OP(s);
    long count = x->op->n, skip = x->op->m;
    if (x->i++ % skip == 0) {
        rx_vec_t *b = calloc(1, sizeof *b);
        if (!b || weft__rx_vec_push(&x->vec, b)) {
            free(b);
            weft__rx_emit_fail(s, WEFT_ENOMEM);
            return;
        }
    }
    for (size_t k = 0; k < x->vec.n; k++)
        if (weft__rx_vec_push(x->vec.v[k], rx_retain(s->in, v))) {
            weft__rx_emit_fail(s, WEFT_ENOMEM);
            return;
        }
    if (x->vec.n && (long)((rx_vec_t *)x->vec.v[0])->n == count) {
        rx_vec_t *b = x->vec.v[0];
        memmove(x->vec.v, x->vec.v + 1, --x->vec.n * sizeof(void *));
        emit_list(s, b);
        weft__rx_vec_clear(b, s->in);
        free(b);
    }
}

static void buffer_completed(rx_sink_t *s)
{
    rx_op_sink_t *x = OP(s);
    for (size_t k = 0; k < x->vec.n && !rx_stopped(s); k++)
        if (((rx_vec_t *)x->vec.v[k])->n)
            emit_list(s, x->vec.v[k]);
    weft__rx_emit_completed(s);
}

static void buffer_destroy(rx_sink_t *s)
{
    rx_op_sink_t *x = OP(s);
    for (size_t k = 0; k < x->vec.n; k++) {
        weft__rx_vec_clear(x->vec.v[k], s->in);
        free(x->vec.v[k]);
    }
    free(x->vec.v);
    x->vec = (rx_vec_t){0};
    weft__rx_op_sink_destroy(s);
}

static const rx_sink_class_t buffer_with_count_sink = {
    sizeof(rx_op_sink_t), buffer_next, weft__rx_pass_error, buffer_completed,
    NULL, buffer_destroy};
OP_CLASS(buffer_with_count);

int weft_rx_buffer_with_count(weft_rx_observable_t **out,
                              weft_rx_observable_t *src, long count, long skip)
{
    if (count < 1 || skip < 0)
        return weft_fail(WEFT_EINVAL, "weft_rx_buffer_with_count: %s %ld",
                         count < 1 ? "count < 1:" : "skip < 0:",
                         count < 1 ? count : skip);
    int rc = make(&buffer_with_count_class, out, src, NULL, NULL, 0);
    if (rc == 0) {
        rx_op_t *op = (rx_op_t *)*out;
        op->n = count;
        op->m = skip ? skip : count;
        op->o.values = &weft_rx_list_ops;
    }
    return rc;
}

/* ----- window_with_count ----- */

/* The open window is a replay subject in x->acc (all its values, so that a
 * subscriber that comes late hears the whole window). */
static void window_open(rx_sink_t *s)
{
    rx_op_sink_t *x = OP(s);
    weft_rx_subject_t *w;
    if (weft_rx_replay_subject_new(&w, 0, WEFT_FOREVER, NULL) != 0 ||
        weft_rx_subject_set_values(w, s->in) != 0) {
        weft__rx_emit_fail(s, WEFT_ENOMEM);
        return;
    }
    x->extra = w;
    weft_rx_observable_t *o = weft_rx_subject_observable(w);
    rx_emit_next(s, o);
    weft_rx_observable_free(o);
}

static void window_close(rx_op_sink_t *x, const weft_error_info_t *e)
{
    weft_rx_subject_t *w = x->extra;
    x->extra = NULL;
    if (!w)
        return;
    if (e)
        weft_rx_subject_on_error(w, e->code, "%s", e->message);
    else
        weft_rx_subject_on_completed(w);
    weft_rx_subject_free(w);
}

static void window_next(rx_sink_t *s, void *v)
{
    rx_op_sink_t *x = OP(s);
    if (!x->extra)
        window_open(s);
    if (!x->extra)
        return;
    weft_rx_subject_on_next(x->extra, v);
    if (++x->i == x->op->n) {
        x->i = 0;
        window_close(x, NULL);
    }
}

static void window_error(rx_sink_t *s, const weft_error_info_t *e)
{
    window_close(OP(s), e);
    weft__rx_emit_error(s, e);
}

static void window_completed(rx_sink_t *s)
{
    window_close(OP(s), NULL);
    weft__rx_emit_completed(s);
}

static void window_destroy(rx_sink_t *s)
{
    weft_rx_subject_free(OP(s)->extra);
    weft__rx_op_sink_destroy(s);
}

static const rx_sink_class_t window_with_count_sink = {
    sizeof(rx_op_sink_t), window_next, window_error, window_completed, NULL,
    window_destroy};
OP_CLASS(window_with_count);

int weft_rx_window_with_count(weft_rx_observable_t **out,
                              weft_rx_observable_t *src, long count)
{
    if (count < 1)
        return weft_fail(WEFT_EINVAL, "weft_rx_window_with_count: count %ld "
                                      "< 1",
                         count);
    int rc = make(&window_with_count_class, out, src, NULL, NULL, 0);
    if (rc == 0) {
        ((rx_op_t *)*out)->n = count;
        ((rx_op_t *)*out)->o.values = &weft_rx_observable_ops;
    }
    return rc;
}
