/* SPDX-License-Identifier: MIT */
/* merge, concat, flat_map, concat_map (one machine: merge_all with a limit
 * on the inner subscriptions at once, 1 for concat), zip and
 * combine_latest. All are hubs: every input (the outer source, each inner
 * one) pushes into the hub's serializer with its tag, and the handler alone
 * keeps the books (which inputs run, what is queued), so the output hears
 * one call at a time whatever threads the inputs emit on.
 */
#include "rx_int.h"

#include <string.h>

struct slot {
    int tag;
    rx_sink_t *in;
};

struct comb_sink {
    rx_hub_t h;
    rx_op_t *op;
    /* merge_all */
    struct slot *slots;
    size_t nslots, capslots;
    int next_tag;
    rx_vec_t waiting; /* inner observables not yet subscribed */
    int outer_done;
    /* zip, combine_latest: one per source */
    rx_vec_t *queues;
    void **latest;
    unsigned char *has, *done;
    size_t n, nhas;
};

#define CS(h) ((struct comb_sink *)(h))

static const weft_rx_value_ops_t *comb_ops(rx_hub_t *h, int tag)
{
    rx_op_t *op = CS(h)->op;
    if (op->nsrcs && tag >= 1 && (size_t)tag <= op->nsrcs)
        return op->srcs[tag - 1]->values;
    return tag == 0 ? op->src->values : op->o.values;
}

static void drop_inputs(struct comb_sink *c)
{
    for (size_t i = 0; i < c->nslots; i++) {
        weft__rx_dispose(c->slots[i].in);
        weft__rx_sink_release(c->slots[i].in);
    }
    c->nslots = 0;
    for (size_t i = 0; i < c->waiting.n; i++)
        weft_rx_observable_free(c->waiting.v[i]);
    c->waiting.n = 0;
}

static void comb_cleanup(rx_hub_t *h)
{
    struct comb_sink *c = CS(h);
    drop_inputs(c);
    for (size_t i = 0; i < c->n; i++) {
        const weft_rx_value_ops_t *ops = comb_ops(h, (int)i + 1);
        if (c->queues)
            weft__rx_vec_clear(&c->queues[i], ops);
        if (c->latest && c->has[i])
            rx_release(ops, c->latest[i]);
        if (c->has)
            c->has[i] = 0;
    }
}

static void comb_destroy(rx_sink_t *s)
{
    struct comb_sink *c = CS(s);
    comb_cleanup(&c->h);
    free(c->slots);
    free(c->waiting.v);
    free(c->queues);
    free(c->latest);
    free(c->has);
    free(c->done);
    weft_rx_observable_free(&c->op->o);
    weft__rx_hub_destroy(s);
}

/* ----- merge_all ----- */

static void subscribe_inner(struct comb_sink *c, weft_rx_observable_t *inner)
{
    if (c->nslots == c->capslots) {
        size_t cap = c->capslots ? 2 * c->capslots : 8;
        struct slot *s = realloc(c->slots, cap * sizeof *s);
        if (!s) {
            weft_rx_observable_free(inner);
            weft__rx_emit_fail(&c->h.sink, weft_fail(WEFT_ENOMEM, "rx: merge: "
                                                                  "no memory"));
            return;
        }
        c->slots = s;
        c->capslots = cap;
    }
    int tag = c->next_tag++;
    c->slots[c->nslots++] = (struct slot){tag, NULL};
    rx_sink_t *in = weft__rx_input(&c->h, tag, inner);
    weft_rx_observable_free(inner);
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].tag == tag) {
            c->slots[i].in = in;
            return;
        }
    weft__rx_sink_release(in); /* already over and gone from the slots */
}

static void inner_done(struct comb_sink *c, int tag)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].tag == tag) {
            weft__rx_sink_release(c->slots[i].in);
            c->slots[i] = c->slots[--c->nslots];
            break;
        }
    if (c->waiting.n) {
        weft_rx_observable_t *next = c->waiting.v[0];
        memmove(c->waiting.v, c->waiting.v + 1,
                --c->waiting.n * sizeof(void *));
        subscribe_inner(c, next);
    } else if (c->outer_done && c->nslots == 0) {
        weft__rx_emit_completed(&c->h.sink);
    }
}

static void outer_next(struct comb_sink *c, void *v)
{
    weft_rx_observable_t *inner = NULL;
    weft_rx_flat_fn fn = (weft_rx_flat_fn)c->op->fn;
    int rc = fn ? fn(c->op->ctx, v, &inner) : 0;
    if (!fn)
        inner = weft_rx_observable_ref(v);
    if (rc || !inner) {
        weft__rx_emit_fail(&c->h.sink,
                           rc ? rc
                              : weft_fail(WEFT_EINVAL, "rx: flat_map: the "
                                                       "function gave no "
                                                       "observable"));
        return;
    }
    size_t limit = (size_t)c->op->n;
    if (limit && c->nslots >= limit) {
        if (weft__rx_vec_push(&c->waiting, inner)) {
            weft_rx_observable_free(inner);
            weft__rx_emit_fail(&c->h.sink, WEFT_ENOMEM);
        }
        return;
    }
    subscribe_inner(c, inner);
}

static void merge_handle(rx_hub_t *h, rx_event_t *ev)
{
    struct comb_sink *c = CS(h);
    if (ev->kind == RX_ERROR) {
        weft__rx_emit_error(&h->sink, ev->data);
    } else if (ev->tag == 0 && ev->kind == RX_NEXT) {
        outer_next(c, ev->data);
    } else if (ev->tag == 0 && ev->kind == RX_COMPLETED) {
        c->outer_done = 1;
        if (c->nslots == 0 && c->waiting.n == 0)
            weft__rx_emit_completed(&h->sink);
    } else if (ev->kind == RX_NEXT) {
        rx_emit_next(&h->sink, ev->data);
    } else if (ev->kind == RX_COMPLETED) {
        inner_done(c, ev->tag);
    }
}

static const rx_hub_class_t merge_hub = {
    {sizeof(struct comb_sink), weft__rx_hub_next, weft__rx_hub_error,
     weft__rx_hub_completed, weft__rx_hub_stop, comb_destroy, NULL},
    merge_handle,
    comb_cleanup,
    comb_ops};

static rx_sink_t *merge_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    rx_op_t *op = (rx_op_t *)o;
    struct comb_sink *c = weft__rx_hub_new(&merge_hub, down, op->src->values);
    if (!c)
        return NULL;
    c->op = (rx_op_t *)weft_rx_observable_ref(o);
    c->next_tag = 1;
    weft__rx_set_up(&c->h.sink, weft__rx_subscribe(op->src, &c->h.sink));
    return &c->h.sink;
}

static const rx_class_t merge_class = {"merge_all", sizeof(rx_op_t),
                                       merge_subscribe, weft__rx_op_destroy};

int weft__rx_merge_all(weft_rx_observable_t **out, weft_rx_observable_t *src,
                       size_t max_concurrent, weft_rx_flat_fn fn, void *ctx)
{
    rx_op_t *op = weft__rx_op_new(&merge_class, out, src, 0);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->n = (long)max_concurrent;
    op->fn = (void (*)(void))fn;
    op->ctx = ctx;
    return 0;
}

/* Check and take n sources into a new array. */
static int take_sources(weft_rx_observable_t *const *srcs, size_t n,
                        const char *what, weft_rx_observable_t ***copy)
{
    if (!srcs && n)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL sources", what);
    for (size_t i = 0; i < n; i++)
        if (!srcs[i])
            return weft_fail(WEFT_EINVAL, "weft_rx_%s: source %zu is NULL",
                             what, i);
    *copy = malloc((n ? n : 1) * sizeof **copy);
    if (!*copy)
        return weft_fail(WEFT_ENOMEM, "weft_rx_%s: no memory", what);
    if (n)
        memcpy(*copy, srcs, n * sizeof **copy);
    return 0;
}

static int merge_n(weft_rx_observable_t **out,
                   weft_rx_observable_t *const *srcs, size_t n, size_t limit,
                   const char *what)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL out", what);
    weft_rx_observable_t **copy, *outer;
    int rc = take_sources(srcs, n, what, &copy);
    if (rc)
        return rc;
    rc = weft_rx_from_array(&outer, (void *const *)copy, n);
    if (rc == 0)
        rc = weft__rx_merge_all(out, outer, limit, NULL, NULL);
    if (rc) {
        weft_rx_observable_free(outer);
        free(copy);
        return rc;
    }
    rx_op_t *op = (rx_op_t *)*out;
    op->srcs = copy;
    op->nsrcs = n;
    op->o.values = n ? srcs[0]->values : NULL;
    return 0;
}

int weft_rx_merge(weft_rx_observable_t **out, weft_rx_observable_t *const *srcs,
                  size_t n)
{
    return merge_n(out, srcs, n, 0, "merge");
}

int weft_rx_concat(weft_rx_observable_t **out,
                   weft_rx_observable_t *const *srcs, size_t n)
{
    return merge_n(out, srcs, n, 1, "concat");
}

int weft_rx_flat_map(weft_rx_observable_t **out, weft_rx_observable_t *src,
                     weft_rx_flat_fn fn, void *ctx)
{
    if (!fn)
        return weft_fail(WEFT_EINVAL, "weft_rx_flat_map: NULL function");
    return weft__rx_merge_all(out, src, 0, fn, ctx);
}

int weft_rx_concat_map(weft_rx_observable_t **out, weft_rx_observable_t *src,
                       weft_rx_flat_fn fn, void *ctx)
{
    if (!fn)
        return weft_fail(WEFT_EINVAL, "weft_rx_concat_map: NULL function");
    return weft__rx_merge_all(out, src, 1, fn, ctx);
}

/* ----- zip and combine_latest ----- */

static int is_zip(rx_hub_t *h);

/* The combined value of vals; emitted and let go. */
static void emit_combined(struct comb_sink *c, void *const *vals)
{
    rx_op_t *op = c->op;
    weft_rx_combine_fn fn = (weft_rx_combine_fn)op->fn;
    void *v = NULL;
    if (fn) {
        int rc = fn(op->ctx, vals, c->n, &v);
        if (rc) {
            weft__rx_emit_fail(&c->h.sink, rc);
            return;
        }
        rx_emit_next(&c->h.sink, v);
        rx_release(op->o.values, v);
        return;
    }
    weft_rx_list_t *l = weft__rx_list_new(c->n);
    if (!l) {
        weft__rx_emit_fail(&c->h.sink, weft_fail(WEFT_ENOMEM, "rx: no memory"));
        return;
    }
    const weft_rx_value_ops_t *ops = comb_ops(&c->h, 1);
    for (size_t i = 0; i < c->n; i++)
        l->items[i] = rx_retain(ops, vals[i]);
    weft__rx_list_set_ops(l, ops);
    rx_emit_next(&c->h.sink, l);
    weft_rx_list_free(l);
}

static void zip_try(struct comb_sink *c)
{
    for (;;) {
        /* A source that ended with nothing queued ends the zip, as RxPY. */
        int ready = 1;
        for (size_t i = 0; i < c->n; i++) {
            if (c->queues[i].n == 0 && c->done[i]) {
                weft__rx_emit_completed(&c->h.sink);
                return;
            }
            ready &= c->queues[i].n != 0;
        }
        if (!ready)
            return;
        void *vals[c->n];
        for (size_t i = 0; i < c->n; i++) {
            vals[i] = c->queues[i].v[0];
            memmove(c->queues[i].v, c->queues[i].v + 1,
                    --c->queues[i].n * sizeof(void *));
        }
        emit_combined(c, vals);
        for (size_t i = 0; i < c->n; i++)
            rx_release(comb_ops(&c->h, (int)i + 1), vals[i]);
        if (rx_stopped(&c->h.sink))
            return;
    }
}

static void combine_handle(rx_hub_t *h, rx_event_t *ev)
{
    struct comb_sink *c = CS(h);
    size_t i = (size_t)ev->tag - 1;
    if (ev->kind == RX_OTHER && ev->tag == RX_TAG_START) {
        if (c->n == 0)
            weft__rx_emit_completed(&h->sink);
        for (size_t k = 0; k < c->n && !rx_stopped(&h->sink); k++) {
            rx_sink_t *in = weft__rx_input(h, (int)k + 1, c->op->srcs[k]);
            c->slots[c->nslots++] = (struct slot){(int)k + 1, in};
        }
        return;
    }
    if (ev->kind == RX_ERROR) {
        weft__rx_emit_error(&h->sink, ev->data);
        return;
    }
    const weft_rx_value_ops_t *ops = comb_ops(h, ev->tag);
    if (ev->kind == RX_COMPLETED) {
        c->done[i] = 1;
        size_t ndone = 0;
        for (size_t k = 0; k < c->n; k++)
            ndone += c->done[k];
        if (is_zip(h))
            zip_try(c);
        else if (ndone == c->n || !c->has[i])
            weft__rx_emit_completed(&h->sink);
        return;
    }
    if (is_zip(h)) {
        if (weft__rx_vec_push(&c->queues[i], rx_retain(ops, ev->data)))
            weft__rx_emit_fail(&h->sink, WEFT_ENOMEM);
        zip_try(c);
        return;
    }
    void *old = c->latest[i];
    int had = c->has[i];
    c->latest[i] = rx_retain(ops, ev->data);
    c->has[i] = 1;
    if (had)
        rx_release(ops, old);
    else
        c->nhas++;
    if (c->nhas == c->n)
        emit_combined(c, c->latest);
}

static const rx_hub_class_t zip_hub = {
    {sizeof(struct comb_sink), NULL, NULL, NULL, weft__rx_hub_stop,
     comb_destroy, NULL},
    combine_handle,
    comb_cleanup,
    comb_ops};
static const rx_hub_class_t latest_hub = {
    {sizeof(struct comb_sink), NULL, NULL, NULL, weft__rx_hub_stop,
     comb_destroy, NULL},
    combine_handle,
    comb_cleanup,
    comb_ops};

static int is_zip(rx_hub_t *h)
{
    return h->sink.cls == &zip_hub.sink;
}

static rx_sink_t *zip_subscribe(weft_rx_observable_t *o, rx_sink_t *down);
static const rx_class_t zip_class = {"zip", sizeof(rx_op_t), zip_subscribe,
                                     weft__rx_op_destroy};
static const rx_class_t latest_class = {"combine_latest", sizeof(rx_op_t),
                                        zip_subscribe, weft__rx_op_destroy};

static rx_sink_t *zip_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    rx_op_t *op = (rx_op_t *)o;
    int zip = o->cls == &zip_class;
    struct comb_sink *c = weft__rx_hub_new(zip ? &zip_hub : &latest_hub, down,
                                           NULL);
    if (!c)
        return NULL;
    c->op = (rx_op_t *)weft_rx_observable_ref(o);
    c->n = op->nsrcs;
    size_t n = c->n ? c->n : 1;
    c->slots = calloc(n, sizeof *c->slots);
    c->queues = zip ? calloc(n, sizeof *c->queues) : NULL;
    c->latest = zip ? NULL : calloc(n, sizeof *c->latest);
    c->has = calloc(n, 1);
    c->done = calloc(n, 1);
    if (!c->slots || (zip ? !c->queues : !c->latest) || !c->has || !c->done) {
        weft__rx_emit_fail(&c->h.sink, weft_fail(WEFT_ENOMEM, "rx: no memory"));
        return &c->h.sink;
    }
    /* The inputs are subscribed by the handler, which alone touches the
     * slots; what synchronous inputs emit meanwhile waits in the queue. */
    weft__rx_hub_push(&c->h, RX_OTHER, RX_TAG_START, NULL, 0);
    return &c->h.sink;
}

static int make_zip(const rx_class_t *cls, weft_rx_observable_t **out,
                    weft_rx_observable_t *const *srcs, size_t n,
                    weft_rx_combine_fn fn, void *ctx)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL out", cls->name);
    weft_rx_observable_t **copy;
    int rc = take_sources(srcs, n, cls->name, &copy);
    if (rc)
        return rc;
    rx_op_t *op = weft__rx_observable_new(cls, fn ? NULL : &weft_rx_list_ops);
    if (!op) {
        free(copy);
        return WEFT_ENOMEM;
    }
    op->srcs = copy;
    op->nsrcs = n;
    op->fn = (void (*)(void))fn;
    op->ctx = ctx;
    *out = &op->o;
    return 0;
}

int weft_rx_zip(weft_rx_observable_t **out, weft_rx_observable_t *const *srcs,
                size_t n, weft_rx_combine_fn fn, void *ctx)
{
    return make_zip(&zip_class, out, srcs, n, fn, ctx);
}

int weft_rx_combine_latest(weft_rx_observable_t **out,
                           weft_rx_observable_t *const *srcs, size_t n,
                           weft_rx_combine_fn fn, void *ctx)
{
    return make_zip(&latest_class, out, srcs, n, fn, ctx);
}
