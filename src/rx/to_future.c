/* SPDX-License-Identifier: MIT */
/* weft_rx_to_future: where streams and futures meet. The subscription's
 * observer completes the future; a done callback on the future disposes
 * the subscription, so cancelling the future stops the stream. The shared
 * record lives until both the observer (its release) and the done
 * callback are through with it; its lock makes "the subscription handle
 * arrives" and "the future is done" exclusive, so the handle is freed
 * exactly once, by whichever comes second.
 */
#include "rx_int.h"

struct bridge {
    pthread_mutex_t lock;
    _Atomic int refs;
    weft_future_t *f;
    int mode;
    const weft_rx_value_ops_t *ops;
    void *last;
    int has;
    rx_vec_t all;
    int done;
    weft_rx_subscription_t *sub;
};

static void unref(struct bridge *b)
{
    if (atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    if (b->has)
        rx_release(b->ops, b->last);
    weft__rx_vec_clear(&b->all, b->ops);
    weft_future_free(b->f);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static void give(struct bridge *b, void *v)
{
    if (weft_future_set_result(b->f, v) != 0)
        rx_release(b->ops, v); /* cancelled first */
}

static void b_next(void *ctx, void *v)
{
    struct bridge *b = ctx;
    if (b->mode == WEFT_RX_FIRST) {
        give(b, rx_retain(b->ops, v));
    } else if (b->mode == WEFT_RX_LAST) {
        void *old = b->last;
        int had = b->has;
        b->last = rx_retain(b->ops, v);
        b->has = 1;
        if (had)
            rx_release(b->ops, old);
    } else if (weft__rx_vec_push(&b->all, rx_retain(b->ops, v)) != 0) {
        weft_future_set_error(b->f, WEFT_ENOMEM, "rx: to_future: no memory");
    }
}

static void b_error(void *ctx, const weft_error_info_t *e)
{
    struct bridge *b = ctx;
    weft_future_set_error(b->f, e->code, "%s", e->message);
}

static void b_completed(void *ctx)
{
    struct bridge *b = ctx;
    if (b->mode == WEFT_RX_LIST) {
        weft_rx_list_t *l = weft__rx_vec_take(&b->all);
        if (!l) {
            weft_future_set_error(b->f, WEFT_ENOMEM, "rx: no memory");
            return;
        }
        weft__rx_list_set_ops(l, b->ops);
        if (weft_future_set_result(b->f, l) != 0)
            weft_rx_list_free(l);
    } else if (b->mode == WEFT_RX_LAST && b->has) {
        b->has = 0;
        give(b, b->last);
    } else if (!weft_future_done(b->f)) {
        weft_future_set_error(b->f, WEFT_EEMPTY, "sequence contains no "
                                                 "elements");
    }
}

static void b_release(void *ctx) { unref(ctx); }

static int b_done(weft_future_t *f, void *arg)
{
    struct bridge *b = arg;
    pthread_mutex_lock(&b->lock);
    b->done = 1;
    weft_rx_subscription_t *s = b->sub;
    b->sub = NULL;
    pthread_mutex_unlock(&b->lock);
    weft_rx_subscription_free(s);
    unref(b);
    return 0;
}

int weft_rx_to_future(weft_rx_observable_t *o, int mode, weft_future_t **out)
{
    if (!o || !out)
        return weft_fail(WEFT_EINVAL, "weft_rx_to_future: NULL %s",
                         o ? "out" : "observable");
    if (mode < WEFT_RX_FIRST || mode > WEFT_RX_LIST)
        return weft_fail(WEFT_EINVAL, "weft_rx_to_future: bad mode %d", mode);
    struct bridge *b = calloc(1, sizeof *b);
    if (!b || weft_future_new(&b->f) != 0) {
        free(b);
        return weft_fail(WEFT_ENOMEM, "weft_rx_to_future: no memory");
    }
    pthread_mutex_init(&b->lock, NULL);
    atomic_init(&b->refs, 3); /* observer, done callback, this call */
    b->mode = mode;
    b->ops = o->values;
    *out = weft_future_ref(b->f);
    if (weft_future_add_done_callback(b->f, b_done, b) != 0)
        unref(b);
    weft_rx_observer_t obs = {b_next, b_error, b_completed, b, b_release};
    weft_rx_subscription_t *s = NULL;
    int rc = weft_rx_observable_subscribe(o, &obs, &s);
    if (rc) {
        unref(b); /* the observer's */
        weft_future_set_error(b->f, rc, "%s", weft_last_message());
    }
    pthread_mutex_lock(&b->lock);
    if (!b->done) {
        b->sub = s;
        s = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    weft_rx_subscription_free(s);
    unref(b);
    return 0;
}
