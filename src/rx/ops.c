/* SPDX-License-Identifier: MIT */
/* The single-input operators: map, filter, scan, reduce, take, skip,
 * take_while, distinct, distinct_until_changed, tap, buffer and window by
 * count. The first ten are stages of one fused sink (below): each is a few
 * lines of what it does with a value, and a run of them in a row becomes
 * one loop. buffer and window, which hold values and make new streams, are
 * sink classes over the common operator sink. The rest is shared
 * (construction, taking the source, subscribing, failing when the user's
 * callback fails).
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

/* ----- Fused chains of operators -----
 *
 * map, filter, scan, reduce, take, skip, take_while, distinct,
 * distinct_until_changed and tap take one value at a time, on their
 * upstream's thread, and keep only counters, keys and accumulators. A run
 * of them in a row subscribes as one sink, a pipe: each operator is a
 * stage (its callback, context and state, copied into the pipe), and a
 * value goes through the stages in one loop, each step a case of a switch
 * rather than a call through a sink class, until a stage drops it or it
 * leaves the last stage downstream. A synchronous source hands the pipe
 * its values in batches (weft__rx_feed), so that range, map, filter and
 * reduce run as one loop around the three user callbacks, with no lock
 * and no atomic write per value.
 *
 * One sink means one stop. A stage that ends the stream (take after its
 * n-th value, take_while at the first it rejects, a failing callback)
 * sends the end through the stages after it (reduce emits its total, tap
 * hears it) and then downstream; the pipe stops and disposes its source,
 * as the chain of separate sinks did. The pipe checks its stop after each
 * user callback, so that a callback that disposes the subscription is the
 * last one called.
 */

enum stage_kind {
    MAP,
    FILTER,
    SCAN,
    REDUCE,
    TAKE,
    SKIP,
    TAKE_WHILE,
    DISTINCT,
    DISTINCT_UNTIL_CHANGED,
    TAP,
    STAGE_KINDS
};

/* A map whose values have ops that release them: each value it makes is
 * released after the stages after it (a stage of its own, so that a plain
 * map need not ask). */
enum { OWNED_MAP = STAGE_KINDS };

/* What a step did with the value: pass it on (GO), keep it from the rest
 * (DROP), pass on a new owned value (OWNED), pass it on and then end the
 * stream (LAST), end the stream without it (END), or fail with the
 * callback's code (FAIL). */
enum { GO, DROP, OWNED, LAST, END, FAIL };

typedef struct stage {
    int kind;
    int has; /* scan, reduce: acc is held; distinct_until_changed: key is
                set; distinct: the key 0 was seen */
    void (*fn)(void);
    void *ctx;
    long n, i; /* take, skip: the count, and how many came */
    void *acc; /* scan, reduce */
    uintptr_t key;
    const weft_rx_value_ops_t *ops; /* of the values the stage makes */
    const rx_op_t *op;
    rx_vec_t set; /* distinct: the keys seen */
} stage_t;

struct pipe {
    rx_sink_t s;
    rx_op_t *op; /* the outermost operator (a reference: it holds the rest) */
    size_t n;
    stage_t st[];
};

/* The steps are inlined into each place that runs a stage, so that each
 * copy of the switch below is a branch of its own (see run). */
#define STEP_INLINE static inline __attribute__((always_inline))

STEP_INLINE int map_step(stage_t *st, void **v, int *rc)
{
    void *out = NULL;
    if ((*rc = ((weft_rx_map_fn)st->fn)(st->ctx, *v, &out)) != 0)
        return FAIL;
    *v = out;
    return GO;
}

/* filter and take_while: reject is what a value the predicate rejects
 * gets. */
STEP_INLINE int pred_step(stage_t *st, void *v, int *rc, int reject)
{
    int keep = 0;
    if ((*rc = ((weft_rx_pred_fn)st->fn)(st->ctx, v, &keep)) != 0)
        return FAIL;
    return keep ? GO : reject;
}

/* scan and reduce: acc = f(acc, v), from the seed (retained). */
STEP_INLINE int acc_step(stage_t *st, void *v, int *rc)
{
    if (!st->has) {
        st->acc = rx_retain(st->ops, st->op->seed);
        st->has = 1;
    }
    void *next = NULL;
    if ((*rc = ((weft_rx_acc_fn)st->fn)(st->ctx, st->acc, v, &next)) != 0)
        return FAIL;
    if (next != st->acc)
        rx_release(st->ops, st->acc);
    st->acc = next;
    return GO;
}

STEP_INLINE int take_step(stage_t *st)
{
    if (st->i >= st->n)
        return DROP;
    return ++st->i == st->n ? LAST : GO;
}

STEP_INLINE int skip_step(stage_t *st)
{
    if (st->i >= st->n)
        return GO;
    st->i++;
    return DROP;
}

static uintptr_t key_of(const stage_t *st, void *v)
{
    weft_rx_key_fn fn = (weft_rx_key_fn)st->fn;
    return fn ? fn(st->ctx, v) : (uintptr_t)v;
}

/* An open-addressing set of keys in st->set (cap a power of two; the key
 * 0, which marks a free slot, is kept in st->has). Returns 1 when k was
 * new, 0 when seen, -1 on no memory. */
static int set_add(stage_t *st, uintptr_t k)
{
    if (k == 0) {
        int fresh = !st->has;
        st->has = 1;
        return fresh;
    }
    rx_vec_t *t = &st->set;
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

static int distinct_step(stage_t *st, void *v, int *rc)
{
    int fresh = set_add(st, key_of(st, v));
    if (fresh < 0) {
        *rc = weft_fail(WEFT_ENOMEM, "rx: distinct: no memory");
        return FAIL;
    }
    return fresh ? GO : DROP;
}

STEP_INLINE int changed_step(stage_t *st, void *v)
{
    uintptr_t k = key_of(st, v);
    if (st->has && st->key == k)
        return DROP;
    st->has = 1;
    st->key = k;
    return GO;
}

STEP_INLINE int tap_step(const stage_t *st, void *v)
{
    const weft_rx_observer_t *o = &st->op->obs;
    if (o->on_next)
        o->on_next(o->ctx, v);
    return GO;
}

/* One stage's work on *v (which map and scan replace). The common kinds
 * are tested first, as plain branches: a switch's jump table costs more
 * per stage, even where its jump is predicted. */
STEP_INLINE int step(stage_t *st, void **v, int *rc)
{
    if (st->kind == MAP)
        return map_step(st, v, rc);
    if (st->kind == FILTER)
        return pred_step(st, *v, rc, DROP);
    if (st->kind == REDUCE)
        return acc_step(st, *v, rc) == GO ? DROP : FAIL;
    switch (st->kind) {
    case OWNED_MAP:
        return map_step(st, v, rc) == GO ? OWNED : FAIL;
    case SCAN:
        if (acc_step(st, *v, rc) != GO)
            return FAIL;
        *v = st->acc;
        return GO;
    case TAKE:
        return take_step(st);
    case SKIP:
        return skip_step(st);
    case TAKE_WHILE:
        return pred_step(st, *v, rc, END);
    case DISTINCT:
        return distinct_step(st, *v, rc);
    case DISTINCT_UNTIL_CHANGED:
        return changed_step(st, *v);
    default:
        return tap_step(st, *v);
    }
}

static void complete_from(struct pipe *p, size_t k);
static void fail_from(struct pipe *p, size_t k, int code);
static void run_from(struct pipe *p, size_t k, void *v);

/* What is left to do after stage k answered r (not DROP) for v: an owned
 * value that map made goes through the rest and is released; the end of
 * the stream, or an error, goes through the rest. */
static void settle(struct pipe *p, size_t k, int r, void *v, int rc)
{
    if (r == OWNED) {
        if (!rx_stopped(&p->s))
            run_from(p, k + 1, v);
        rx_release(p->st[k].ops, v);
        return;
    }
    if (r == LAST)
        run_from(p, k + 1, v);
    if (r == LAST || r == END)
        complete_from(p, k + 1);
    else if (r == FAIL)
        fail_from(p, k + 1, rc);
}

/* Stage k on *v: nonzero when *v goes on to stage k + 1 (the common case,
 * handled here), zero when it stops here (dropped, or settled). */
STEP_INLINE int pass(struct pipe *p, size_t k, void **v)
{
    stage_t *st = &p->st[k];
    int rc = 0, r = step(st, v, &rc);
    if (__builtin_expect(r == GO, 1))
        return !rx_stopped(&p->s);
    if (r != DROP)
        settle(p, k, r, *v, rc);
    return 0;
}

/* Run v through the stages from k on; what leaves the last goes
 * downstream. */
static void run_from(struct pipe *p, size_t k, void *v)
{
    for (; k < p->n; k++)
        if (!pass(p, k, &v))
            return;
    rx_emit_next(&p->s, v);
}

/* Run v through the whole pipe. The first stages are unrolled: each has
 * its own copy of the step, whose switch then always takes the same case
 * for a given chain, which the branch predictor learns per place; one
 * shared switch that takes map, filter, reduce in turn costs as much as
 * the separate sinks' calls did. */
STEP_INLINE void run(struct pipe *p, void *v)
{
    size_t n = p->n;
    if (n > 0 && !pass(p, 0, &v))
        return;
    if (n > 1 && !pass(p, 1, &v))
        return;
    if (n > 2 && !pass(p, 2, &v))
        return;
    if (n > 3 && !pass(p, 3, &v))
        return;
    if (n > 4)
        run_from(p, 4, v);
    else
        rx_emit_next(&p->s, v);
}

/* The end of the stream reaches stage k and those after: a reduce sends
 * its total through the rest, a tap hears it; then downstream. */
static void complete_from(struct pipe *p, size_t k)
{
    for (; k < p->n && !rx_stopped(&p->s); k++) {
        stage_t *st = &p->st[k];
        const weft_rx_observer_t *o = &st->op->obs;
        if (st->kind == REDUCE)
            run_from(p, k + 1, st->has ? st->acc : st->op->seed);
        else if (st->kind == TAP && o->on_completed)
            o->on_completed(o->ctx);
    }
    weft__rx_emit_completed(&p->s);
}

static void error_from(struct pipe *p, size_t k, const weft_error_info_t *e)
{
    for (; k < p->n && !rx_stopped(&p->s); k++) {
        const weft_rx_observer_t *o = &p->st[k].op->obs;
        if (p->st[k].kind == TAP && o->on_error)
            o->on_error(o->ctx, e);
    }
    weft__rx_emit_error(&p->s, e);
}

static void fail_from(struct pipe *p, size_t k, int code)
{
    weft_error_info_t e;
    weft__rx_error_now(&e, code);
    error_from(p, k, &e);
}

static void pipe_next(rx_sink_t *s, void *v)
{
    if (!rx_stopped(s))
        run((struct pipe *)s, v);
}

static void pipe_batch(rx_sink_t *s, void *const *v, size_t n)
{
    struct pipe *p = (struct pipe *)s;
    for (size_t i = 0; i < n && !rx_stopped(s); i++)
        run(p, v[i]);
}

static void pipe_error(rx_sink_t *s, const weft_error_info_t *e)
{
    error_from((struct pipe *)s, 0, e);
}

static void pipe_completed(rx_sink_t *s)
{
    complete_from((struct pipe *)s, 0);
}

static void pipe_destroy(rx_sink_t *s)
{
    struct pipe *p = (struct pipe *)s;
    for (size_t k = 0; k < p->n; k++) {
        stage_t *st = &p->st[k];
        if ((st->kind == SCAN || st->kind == REDUCE) && st->has)
            rx_release(st->ops, st->acc);
        free(st->set.v);
    }
    weft_rx_observable_free(&p->op->o);
}

static const rx_sink_class_t pipe_class = {
    sizeof(struct pipe), pipe_next, pipe_error, pipe_completed, NULL,
    pipe_destroy, pipe_batch};

static rx_sink_t *pipe_subscribe(weft_rx_observable_t *o, rx_sink_t *down);

#define STAGE_CLASS(name)                                                      \
    {                                                                          \
        #name, sizeof(rx_op_t), pipe_subscribe, weft__rx_op_destroy            \
    }

static const rx_class_t stage_classes[STAGE_KINDS] = {
    [MAP] = STAGE_CLASS(map),
    [FILTER] = STAGE_CLASS(filter),
    [SCAN] = STAGE_CLASS(scan),
    [REDUCE] = STAGE_CLASS(reduce),
    [TAKE] = STAGE_CLASS(take),
    [SKIP] = STAGE_CLASS(skip),
    [TAKE_WHILE] = STAGE_CLASS(take_while),
    [DISTINCT] = STAGE_CLASS(distinct),
    [DISTINCT_UNTIL_CHANGED] = STAGE_CLASS(distinct_until_changed),
    [TAP] = STAGE_CLASS(tap),
};

/* The stage kind of o, or -1 when o does not fuse. */
static int kind_of(const weft_rx_observable_t *o)
{
    return o->cls->subscribe == pipe_subscribe ? (int)(o->cls - stage_classes)
                                               : -1;
}

/* How many operators from o inward make one pipe, and the source the
 * innermost subscribes (*src; NULL after a take(0), which completes at
 * once without subscribing its source). */
static size_t pipe_length(weft_rx_observable_t *o, weft_rx_observable_t **src)
{
    size_t n = 0;
    for (; kind_of(o) >= 0; o = ((rx_op_t *)o)->src) {
        n++;
        if (kind_of(o) == TAKE && ((rx_op_t *)o)->n == 0) {
            *src = NULL;
            return n;
        }
    }
    *src = o;
    return n;
}

static rx_sink_t *pipe_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    weft_rx_observable_t *src;
    size_t n = pipe_length(o, &src);
    struct pipe *p = weft__rx_sink_alloc(&pipe_class,
                                         sizeof *p + n * sizeof(stage_t), down,
                                         src ? src->values : NULL);
    if (!p)
        return NULL;
    p->op = (rx_op_t *)weft_rx_observable_ref(o);
    p->n = n;
    for (size_t k = n; k-- > 0; o = ((rx_op_t *)o)->src) {
        const rx_op_t *op = (const rx_op_t *)o;
        p->st[k] = (stage_t){.kind = kind_of(o), .fn = op->fn,
                             .ctx = op->ctx, .n = op->n,
                             .ops = op->o.values, .op = op};
        if (p->st[k].kind == MAP && op->o.values && op->o.values->release)
            p->st[k].kind = OWNED_MAP;
        atomic_store_explicit(&o->subscribed, 1, memory_order_relaxed);
    }
    if (src)
        weft__rx_set_up(&p->s, weft__rx_subscribe(src, &p->s));
    else
        complete_from(p, 0);
    return &p->s;
}

/* Make a stage operator; inherit: its values are its source's. */
static rx_op_t *make_stage(int kind, weft_rx_observable_t **out,
                           weft_rx_observable_t *src, void (*fn)(void),
                           void *ctx, int inherit, int *rc)
{
    rx_op_t *op = weft__rx_op_new(&stage_classes[kind], out, src, inherit);
    *rc = op ? 0 : !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    if (op) {
        op->fn = fn;
        op->ctx = ctx;
    }
    return op;
}

static int make_fn(int kind, weft_rx_observable_t **out,
                   weft_rx_observable_t *src, void (*fn)(void), void *ctx,
                   int inherit)
{
    int rc;
    if (!fn && kind != DISTINCT && kind != DISTINCT_UNTIL_CHANGED)
        return no_fn(stage_classes[kind].name);
    make_stage(kind, out, src, fn, ctx, inherit, &rc);
    return rc;
}

int weft_rx_map(weft_rx_observable_t **out, weft_rx_observable_t *src,
                weft_rx_map_fn fn, void *ctx)
{
    return make_fn(MAP, out, src, (void (*)(void))fn, ctx, 0);
}

int weft_rx_filter(weft_rx_observable_t **out, weft_rx_observable_t *src,
                   weft_rx_pred_fn fn, void *ctx)
{
    return make_fn(FILTER, out, src, (void (*)(void))fn, ctx, 1);
}

int weft_rx_take_while(weft_rx_observable_t **out, weft_rx_observable_t *src,
                       weft_rx_pred_fn fn, void *ctx)
{
    return make_fn(TAKE_WHILE, out, src, (void (*)(void))fn, ctx, 1);
}

int weft_rx_distinct(weft_rx_observable_t **out, weft_rx_observable_t *src,
                     weft_rx_key_fn fn, void *ctx)
{
    return make_fn(DISTINCT, out, src, (void (*)(void))fn, ctx, 1);
}

int weft_rx_distinct_until_changed(weft_rx_observable_t **out,
                                   weft_rx_observable_t *src,
                                   weft_rx_key_fn fn, void *ctx)
{
    return make_fn(DISTINCT_UNTIL_CHANGED, out, src, (void (*)(void))fn, ctx,
                   1);
}

static int make_acc(int kind, weft_rx_observable_t **out,
                    weft_rx_observable_t *src, weft_rx_acc_fn fn, void *seed,
                    void *ctx)
{
    int rc = make_fn(kind, out, src, (void (*)(void))fn, ctx, 0);
    if (rc == 0)
        ((rx_op_t *)*out)->seed = seed;
    return rc;
}

int weft_rx_scan(weft_rx_observable_t **out, weft_rx_observable_t *src,
                 weft_rx_acc_fn fn, void *seed, void *ctx)
{
    return make_acc(SCAN, out, src, fn, seed, ctx);
}

int weft_rx_reduce(weft_rx_observable_t **out, weft_rx_observable_t *src,
                   weft_rx_acc_fn fn, void *seed, void *ctx)
{
    return make_acc(REDUCE, out, src, fn, seed, ctx);
}

static int make_count(int kind, weft_rx_observable_t **out,
                      weft_rx_observable_t *src, long n)
{
    if (n < 0)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: count %ld < 0",
                         stage_classes[kind].name, n);
    int rc;
    rx_op_t *op = make_stage(kind, out, src, NULL, NULL, 1, &rc);
    if (op)
        op->n = n;
    return rc;
}

int weft_rx_take(weft_rx_observable_t **out, weft_rx_observable_t *src, long n)
{
    return make_count(TAKE, out, src, n);
}

int weft_rx_skip(weft_rx_observable_t **out, weft_rx_observable_t *src, long n)
{
    return make_count(SKIP, out, src, n);
}

int weft_rx_tap(weft_rx_observable_t **out, weft_rx_observable_t *src,
                const weft_rx_observer_t *observer)
{
    if (!observer)
        return weft_fail(WEFT_EINVAL, "weft_rx_tap: NULL observer");
    int rc;
    rx_op_t *op = make_stage(TAP, out, src, NULL, NULL, 1, &rc);
    if (op)
        op->obs = *observer;
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
    NULL, buffer_destroy, NULL};
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
    window_destroy, NULL};
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
