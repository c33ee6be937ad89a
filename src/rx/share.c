/* SPDX-License-Identifier: MIT */
/* publish, connect, ref_count and share: one subscription to the source,
 * passed on to many through a Subject. The connection and the count of
 * ref_count's subscribers sit under the published observable's lock;
 * connecting and disconnecting (user code may run: the source's subscribe)
 * happen outside it.
 */
#include "rx_int.h"

struct published {
    weft_rx_observable_t o;
    weft_rx_observable_t *src;
    weft_rx_subject_t *subject;
    pthread_mutex_t lock;
    weft_rx_subscription_t *conn;
    size_t count;
};

static rx_sink_t *pub_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct published *p = (struct published *)o;
    weft_rx_observable_t *so = weft_rx_subject_observable(p->subject);
    rx_sink_t *s = weft__rx_subscribe(so, down);
    weft_rx_observable_free(so);
    return s;
}

static void pub_destroy(weft_rx_observable_t *o)
{
    struct published *p = (struct published *)o;
    weft_rx_subscription_free(p->conn);
    weft_rx_subject_free(p->subject);
    weft_rx_observable_free(p->src);
    pthread_mutex_destroy(&p->lock);
}

static const rx_class_t pub_class = {"publish", sizeof(struct published),
                                     pub_subscribe, pub_destroy};

int weft_rx_publish(weft_rx_observable_t **out, weft_rx_observable_t *src)
{
    if (!out || !src)
        return weft_fail(WEFT_EINVAL, "weft_rx_publish: NULL %s",
                         out ? "source" : "out");
    struct published *p = weft__rx_observable_new(&pub_class, src->values);
    if (!p)
        return WEFT_ENOMEM;
    if (weft_rx_subject_new(&p->subject) != 0) {
        free(p);
        return WEFT_ENOMEM;
    }
    weft_rx_subject_set_values(p->subject, src->values);
    pthread_mutex_init(&p->lock, NULL);
    p->src = src;
    *out = &p->o;
    return 0;
}

static struct published *as_pub(weft_rx_observable_t *o)
{
    return o && o->cls == &pub_class ? (struct published *)o : NULL;
}

/* Connect p if it is not; its live connection (a new reference to it). */
static int connect_pub(struct published *p, weft_rx_subscription_t **out)
{
    pthread_mutex_lock(&p->lock);
    weft_rx_subscription_t *c = p->conn;
    if (c && !weft_rx_subscription_closed(c)) {
        atomic_fetch_add(&((rx_sink_t *)c)->refs, 1);
        pthread_mutex_unlock(&p->lock);
        *out = c;
        return 0;
    }
    pthread_mutex_unlock(&p->lock);
    weft_rx_observer_t obs = weft_rx_subject_observer(p->subject);
    int rc = weft_rx_observable_subscribe(p->src, &obs, &c);
    if (rc) {
        obs.release(obs.ctx);
        return rc;
    }
    pthread_mutex_lock(&p->lock);
    weft_rx_subscription_t *old = p->conn;
    p->conn = c;
    atomic_fetch_add(&((rx_sink_t *)c)->refs, 1);
    pthread_mutex_unlock(&p->lock);
    weft_rx_subscription_free(old);
    *out = c;
    return 0;
}

int weft_rx_connect(weft_rx_observable_t *published,
                    weft_rx_subscription_t **connection)
{
    struct published *p = as_pub(published);
    if (!p || !connection)
        return weft_fail(WEFT_EINVAL, "weft_rx_connect: %s",
                         p ? "NULL connection" : "not a published observable");
    return connect_pub(p, connection);
}

/* ----- ref_count ----- */

static void rc_stop(rx_sink_t *s)
{
    struct published *p = as_pub(((rx_op_sink_t *)s)->op->src);
    pthread_mutex_lock(&p->lock);
    weft_rx_subscription_t *c = NULL;
    if (--p->count == 0) {
        c = p->conn;
        p->conn = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    weft_rx_subscription_free(c);
}

static const rx_sink_class_t rc_sink = {
    sizeof(rx_op_sink_t), weft__rx_pass_next, weft__rx_pass_error,
    weft__rx_pass_completed, rc_stop, weft__rx_op_sink_destroy, NULL};

static rx_sink_t *rc_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct published *p = as_pub(((rx_op_t *)o)->src);
    pthread_mutex_lock(&p->lock);
    int first = p->count++ == 0;
    pthread_mutex_unlock(&p->lock);
    rx_sink_t *s = weft__rx_op_chain(&rc_sink, o, down);
    if (!s) {
        pthread_mutex_lock(&p->lock);
        p->count--;
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }
    if (first) {
        weft_rx_subscription_t *c;
        int rc = connect_pub(p, &c);
        if (rc)
            weft__rx_emit_fail(s, rc);
        else
            weft__rx_sink_release((rx_sink_t *)c);
    }
    return s;
}

static const rx_class_t rc_class = {"ref_count", sizeof(rx_op_t),
                                    rc_subscribe, weft__rx_op_destroy};

int weft_rx_ref_count(weft_rx_observable_t **out,
                      weft_rx_observable_t *published)
{
    if (published && !as_pub(published))
        return weft_fail(WEFT_EINVAL, "weft_rx_ref_count: not a published "
                                      "observable");
    rx_op_t *op = weft__rx_op_new(&rc_class, out, published, 1);
    if (!op)
        return !out || !published ? WEFT_EINVAL : WEFT_ENOMEM;
    return 0;
}

int weft_rx_share(weft_rx_observable_t **out, weft_rx_observable_t *src)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_share: NULL out");
    weft_rx_observable_t *p;
    int rc = weft_rx_publish(&p, src);
    if (rc)
        return rc;
    rc = weft_rx_ref_count(out, p);
    if (rc) {
        /* give src back: publish took it */
        struct published *pp = (struct published *)p;
        pp->src = NULL;
        weft_rx_observable_free(p);
    }
    return rc;
}
