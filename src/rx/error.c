/* SPDX-License-Identifier: MIT */
/* catch and retry: operators that subscribe again after an error. Both
 * are hubs whose inputs are the successive subscriptions (tag 1, 2, ...):
 * the handler alone swaps them, and a source that fails synchronously is
 * subscribed again from the handler's queue, not by recursion, so
 * retry(WEFT_RX_FOREVER) over a source that always fails at once loops
 * without growing the stack.
 */
#include "rx_int.h"

enum { CATCH, RETRY };

struct again_sink {
    rx_hub_t h;
    rx_op_t *op;
    rx_sink_t *in;
    int tag;
    long attempts;
};

#define AS(h) ((struct again_sink *)(h))

static int kind_of(rx_hub_t *h);

static void cleanup(rx_hub_t *h)
{
    struct again_sink *a = AS(h);
    weft__rx_dispose(a->in);
    weft__rx_sink_release(a->in);
    a->in = NULL;
}

static void destroy(rx_sink_t *s)
{
    cleanup((rx_hub_t *)s);
    weft_rx_observable_free(&AS(s)->op->o);
    weft__rx_hub_destroy(s);
}

static void subscribe_to(struct again_sink *a, weft_rx_observable_t *src)
{
    cleanup(&a->h);
    a->attempts++;
    a->in = weft__rx_input(&a->h, ++a->tag, src);
}

/* The observable to go on with after e, a new reference, or NULL after
 * failing the hub. */
static weft_rx_observable_t *fallback(struct again_sink *a,
                                      const weft_error_info_t *e)
{
    rx_op_t *op = a->op;
    if (kind_of(&a->h) == RETRY) {
        if (op->n != WEFT_RX_FOREVER && a->attempts >= op->n)
            return NULL;
        return weft_rx_observable_ref(op->src);
    }
    if (a->tag > 1)
        return NULL; /* the fallback failed too */
    if (op->other)
        return weft_rx_observable_ref(op->other);
    weft_rx_observable_t *next = NULL;
    int rc = ((weft_rx_catch_fn)op->fn)(op->ctx, e, &next);
    if (rc) {
        weft__rx_emit_fail(&a->h.sink, rc);
        return NULL;
    }
    return next;
}

static void handle(rx_hub_t *h, rx_event_t *ev)
{
    struct again_sink *a = AS(h);
    if (ev->kind == RX_OTHER && ev->tag == RX_TAG_START) {
        subscribe_to(a, a->op->src);
        return;
    }
    if (ev->tag != a->tag)
        return; /* from a subscription already replaced */
    if (ev->kind == RX_NEXT) {
        rx_emit_next(&h->sink, ev->data);
    } else if (ev->kind == RX_COMPLETED) {
        weft__rx_emit_completed(&h->sink);
    } else if (ev->kind == RX_ERROR) {
        weft_rx_observable_t *next = fallback(a, ev->data);
        if (next) {
            subscribe_to(a, next);
            weft_rx_observable_free(next);
        } else {
            weft__rx_emit_error(&h->sink, ev->data);
        }
    }
}

static const weft_rx_value_ops_t *ops_of(rx_hub_t *h, int tag)
{
    return AS(h)->op->o.values;
}

#define AGAIN_CLASS                                                            \
    {{sizeof(struct again_sink), NULL, NULL, NULL, weft__rx_hub_stop,          \
      destroy, NULL},                                                          \
     handle,                                                                   \
     cleanup,                                                                  \
     ops_of}

static const rx_hub_class_t hubs[] = {AGAIN_CLASS, AGAIN_CLASS};

static int kind_of(rx_hub_t *h)
{
    return (int)((const rx_hub_class_t *)h->sink.cls - hubs);
}

static rx_sink_t *again_subscribe(weft_rx_observable_t *o, rx_sink_t *down);
static const rx_class_t classes[] = {
    {"catch", sizeof(rx_op_t), again_subscribe, weft__rx_op_destroy},
    {"retry", sizeof(rx_op_t), again_subscribe, weft__rx_op_destroy}};

static rx_sink_t *again_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    int k = (int)(o->cls - classes);
    struct again_sink *a = weft__rx_hub_new(&hubs[k], down, NULL);
    if (!a)
        return NULL;
    a->op = (rx_op_t *)weft_rx_observable_ref(o);
    weft__rx_hub_push(&a->h, RX_OTHER, RX_TAG_START, NULL, 0);
    return &a->h.sink;
}

int weft_rx_catch(weft_rx_observable_t **out, weft_rx_observable_t *src,
                  weft_rx_observable_t *fallback_src)
{
    if (!fallback_src)
        return weft_fail(WEFT_EINVAL, "weft_rx_catch: NULL fallback");
    rx_op_t *op = weft__rx_op_new(&classes[CATCH], out, src, 1);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->other = fallback_src;
    return 0;
}

int weft_rx_catch_handler(weft_rx_observable_t **out,
                          weft_rx_observable_t *src, weft_rx_catch_fn fn,
                          void *ctx)
{
    if (!fn)
        return weft_fail(WEFT_EINVAL, "weft_rx_catch_handler: NULL function");
    rx_op_t *op = weft__rx_op_new(&classes[CATCH], out, src, 1);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->fn = (void (*)(void))fn;
    op->ctx = ctx;
    return 0;
}

int weft_rx_retry(weft_rx_observable_t **out, weft_rx_observable_t *src,
                  long attempts)
{
    if (attempts < 1 && attempts != WEFT_RX_FOREVER)
        return weft_fail(WEFT_EINVAL, "weft_rx_retry: attempts %ld < 1",
                         attempts);
    rx_op_t *op = weft__rx_op_new(&classes[RETRY], out, src, 1);
    if (!op)
        return !out || !src ? WEFT_EINVAL : WEFT_ENOMEM;
    op->n = attempts;
    return 0;
}
