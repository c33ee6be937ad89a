/* SPDX-License-Identifier: MIT */
/* Observables and sinks: references, subscribing, stopping, and the sink
 * at the end of every chain that calls the user's observer.
 *
 * A sink's state word says whether it has stopped (RX_STOPPED: a terminal
 * event went out, or it was disposed) and whether the stop work was done
 * (RX_CLEANED). Setting RX_STOPPED with a fetch-or picks the one terminal
 * event that goes out; setting RX_CLEANED the same way picks the one thread
 * that disposes the upstream and runs the class's stop hook, so a dispose
 * racing a completion does both jobs once.
 *
 * The upstream slot pairs with the stop: whoever stops exchanges it for
 * RX_GONE and disposes what it held; whoever sets it afterwards sees
 * RX_GONE and disposes its upstream at once, so a sink that stopped during
 * its own subscription (a synchronous source that completed, a dispose from
 * another thread) never leaves its source running. A new sink fills its
 * downstream's slot as it is made, before its source can emit; the handle
 * that subscribe returns later is then the same sink and only its extra
 * reference is dropped.
 */
#include "base/check.h"
#include "rx_int.h"

#include <stdio.h>
#include <string.h>

#define RX_GONE ((rx_sink_t *)(uintptr_t)1)

void *weft__rx_observable_new(const rx_class_t *cls,
                              const weft_rx_value_ops_t *values)
{
    weft_rx_observable_t *o = calloc(1, cls->size);
    if (!o) {
        weft_fail(WEFT_ENOMEM, "rx: no memory for %s", cls->name);
        return NULL;
    }
    atomic_init(&o->refs, 1);
    o->cls = cls;
    o->values = values;
    return o;
}

weft_rx_observable_t *weft_rx_observable_ref(weft_rx_observable_t *o)
{
    WEFT_REFUSE_NULL_OR(o, NULL);
    if (o)
        atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    return o;
}

void weft_rx_observable_free(weft_rx_observable_t *o)
{
    if (!o || atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (o->cls->destroy)
        o->cls->destroy(o);
    free(o);
}

int weft_rx_observable_set_values(weft_rx_observable_t *o,
                                  const weft_rx_value_ops_t *ops)
{
    if (!o)
        return weft_fail(WEFT_EINVAL, "weft_rx_observable_set_values: NULL "
                                      "observable");
    if (atomic_load(&o->subscribed))
        return weft_fail(WEFT_ESTATE, "weft_rx_observable_set_values: the "
                                      "observable was already subscribed");
    o->values = ops;
    return 0;
}

int weft__rx_check_src(const weft_rx_observable_t *src, const char *what)
{
    if (!src)
        return weft_fail(WEFT_EINVAL, "weft_rx_%s: NULL source", what);
    return 0;
}

rx_sink_t *weft__rx_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    atomic_store_explicit(&o->subscribed, 1, memory_order_relaxed);
    return o->cls->subscribe(o, down);
}

/* ----- Sinks ----- */

void *weft__rx_sink_new(const rx_sink_class_t *cls, rx_sink_t *down,
                        const weft_rx_value_ops_t *in)
{
    return weft__rx_sink_alloc(cls, cls->size, down, in);
}

void *weft__rx_sink_alloc(const rx_sink_class_t *cls, size_t size,
                          rx_sink_t *down, const weft_rx_value_ops_t *in)
{
    rx_sink_t *s = calloc(1, size);
    if (!s) {
        weft_fail(WEFT_ENOMEM, "rx: no memory for a subscription");
        if (down)
            weft__rx_fail_sink(down, WEFT_ENOMEM);
        return NULL;
    }
    s->cls = cls;
    atomic_init(&s->refs, 1);
    s->down = down ? rx_ref(down) : NULL;
    s->in = in;
    /* Tell down at once who its upstream is, before anything is emitted,
     * so that a downstream that stops during a synchronous source's run
     * (take on an endless range) reaches it and stops it; the handle that
     * subscribe returns later is then the same sink. */
    if (down)
        weft__rx_set_up(down, rx_ref(s));
    return s;
}

void weft__rx_sink_release(rx_sink_t *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    rx_sink_t *up = atomic_exchange(&s->up, RX_GONE);
    if (up && up != RX_GONE)
        weft__rx_sink_release(up);
    if (s->cls->destroy)
        s->cls->destroy(s);
    rx_sink_t *down = s->down;
    free(s);
    weft__rx_sink_release(down);
}

void weft__rx_set_up(rx_sink_t *s, rx_sink_t *up)
{
    if (!up)
        return;
    rx_sink_t *expected = NULL;
    if (atomic_compare_exchange_strong(&s->up, &expected, up))
        return;
    if (expected != up) /* RX_GONE: s has stopped */
        weft__rx_dispose(up);
    weft__rx_sink_release(up);
}

void weft__rx_stop(rx_sink_t *s)
{
    uint32_t was = atomic_fetch_or(&s->state, RX_STOPPED | RX_CLEANED);
    if (was & RX_CLEANED)
        return;
    rx_sink_t *up = atomic_exchange(&s->up, RX_GONE);
    if (up && up != RX_GONE) {
        weft__rx_dispose(up);
        weft__rx_sink_release(up);
    }
    if (s->cls->stop)
        s->cls->stop(s);
}

void weft__rx_dispose(rx_sink_t *s)
{
    if (!s)
        return;
    atomic_fetch_or(&s->state, RX_STOPPED | RX_DISPOSED);
    weft__rx_stop(s);
}

void weft__rx_emit_error(rx_sink_t *s, const weft_error_info_t *e)
{
    if (atomic_fetch_or(&s->state, RX_STOPPED) & RX_STOPPED)
        return;
    rx_error(s->down, e);
    weft__rx_stop(s);
}

void weft__rx_emit_completed(rx_sink_t *s)
{
    if (atomic_fetch_or(&s->state, RX_STOPPED) & RX_STOPPED)
        return;
    rx_completed(s->down);
    weft__rx_stop(s);
}

void weft__rx_feed(rx_sink_t *s, void *const *v, size_t n)
{
    rx_sink_t *down = s->down;
    if (down->cls->next_batch && !rx_stopped(s)) {
        down->cls->next_batch(down, v, n);
        return;
    }
    for (size_t i = 0; i < n && !rx_stopped(s); i++)
        rx_next(down, v[i]);
}

void weft__rx_error_now(weft_error_info_t *e, int code)
{
    weft_error_capture(e, code ? code : WEFT_ETASK);
}

void weft__rx_emit_fail(rx_sink_t *s, int code)
{
    weft_error_info_t e;
    weft__rx_error_now(&e, code);
    weft__rx_emit_error(s, &e);
}

rx_sink_t *weft__rx_fail_sink(rx_sink_t *down, int code)
{
    weft_error_info_t e;
    weft__rx_error_now(&e, code);
    rx_error(down, &e);
    return NULL;
}

void weft__rx_pass_next(rx_sink_t *s, void *v) { rx_emit_next(s, v); }
void weft__rx_pass_error(rx_sink_t *s, const weft_error_info_t *e)
{
    weft__rx_emit_error(s, e);
}
void weft__rx_pass_completed(rx_sink_t *s) { weft__rx_emit_completed(s); }

rx_sink_t *weft__rx_chain(const rx_sink_class_t *cls, rx_sink_t *down,
                          weft_rx_observable_t *src,
                          void (*setup)(rx_sink_t *s, void *arg), void *arg)
{
    rx_sink_t *s = weft__rx_sink_new(cls, down, src->values);
    if (!s)
        return NULL;
    if (setup)
        setup(s, arg);
    weft__rx_set_up(s, weft__rx_subscribe(src, s));
    return s;
}

/* ----- The observer's end of a chain ----- */

struct obs_sink {
    rx_sink_t s;
    weft_rx_observer_t o;
};

static void obs_next(rx_sink_t *s, void *v)
{
    struct obs_sink *x = (struct obs_sink *)s;
    if (!rx_stopped(s) && x->o.on_next)
        x->o.on_next(x->o.ctx, v);
}

static void obs_error(rx_sink_t *s, const weft_error_info_t *e)
{
    struct obs_sink *x = (struct obs_sink *)s;
    if (atomic_fetch_or(&s->state, RX_STOPPED) & RX_STOPPED)
        return;
    if (x->o.on_error)
        x->o.on_error(x->o.ctx, e);
    weft__rx_stop(s);
}

static void obs_completed(rx_sink_t *s)
{
    struct obs_sink *x = (struct obs_sink *)s;
    if (atomic_fetch_or(&s->state, RX_STOPPED) & RX_STOPPED)
        return;
    if (x->o.on_completed)
        x->o.on_completed(x->o.ctx);
    weft__rx_stop(s);
}

static void obs_destroy(rx_sink_t *s)
{
    struct obs_sink *x = (struct obs_sink *)s;
    if (x->o.release)
        x->o.release(x->o.ctx);
}

static const rx_sink_class_t obs_class = {
    sizeof(struct obs_sink), obs_next, obs_error, obs_completed, NULL,
    obs_destroy, NULL};

rx_sink_t *weft__rx_observer_sink(const weft_rx_observer_t *obs,
                                  const weft_rx_value_ops_t *in)
{
    struct obs_sink *x = weft__rx_sink_new(&obs_class, NULL, in);
    if (x)
        x->o = *obs;
    return &x->s;
}

int weft_rx_observable_subscribe(weft_rx_observable_t *o,
                                 const weft_rx_observer_t *observer,
                                 weft_rx_subscription_t **out)
{
    if (!o || !observer)
        return weft_fail(WEFT_EINVAL, "weft_rx_observable_subscribe: NULL %s",
                         o ? "observer" : "observable");
    rx_sink_t *s = weft__rx_observer_sink(observer, o->values);
    if (!s)
        return WEFT_ENOMEM;
    weft__rx_set_up(s, weft__rx_subscribe(o, s));
    if (out)
        *out = (weft_rx_subscription_t *)s;
    else
        weft__rx_sink_release(s);
    return 0;
}

void weft_rx_subscription_dispose(weft_rx_subscription_t *s)
{
    weft__rx_dispose((rx_sink_t *)s);
}

int weft_rx_subscription_closed(const weft_rx_subscription_t *s)
{
    WEFT_REFUSE_NULL_OR(s, 1);
    return rx_stopped((const rx_sink_t *)s) != 0;
}

void weft_rx_subscription_free(weft_rx_subscription_t *s)
{
    if (!s)
        return;
    weft__rx_dispose((rx_sink_t *)s);
    weft__rx_sink_release((rx_sink_t *)s);
}

/* ----- Lists, vectors, formatting ----- */

struct list_box {
    _Atomic size_t refs;
    const weft_rx_value_ops_t *ops; /* of the items */
    weft_rx_list_t list;
};

#define BOX_OF(l) ((struct list_box *)((char *)(l) - offsetof(struct list_box, list)))

weft_rx_list_t *weft__rx_list_new(size_t n)
{
    struct list_box *b = calloc(1, sizeof *b + n * sizeof(void *));
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->list.n = n;
    return &b->list;
}

/* The items' ops, for release: set by whoever fills the list. */
void weft__rx_list_set_ops(weft_rx_list_t *l, const weft_rx_value_ops_t *ops);
void weft__rx_list_set_ops(weft_rx_list_t *l, const weft_rx_value_ops_t *ops)
{
    BOX_OF(l)->ops = ops;
}

static void *list_retain(void *v)
{
    atomic_fetch_add(&BOX_OF(v)->refs, 1);
    return v;
}

void weft_rx_list_free(weft_rx_list_t *l)
{
    if (!l)
        return;
    struct list_box *b = BOX_OF(l);
    if (atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    for (size_t i = 0; i < l->n; i++)
        rx_release(b->ops, l->items[i]);
    free(b);
}

static void list_release(void *v) { weft_rx_list_free(v); }

static int list_format(void *v, char *buf, size_t size)
{
    weft_rx_list_t *l = v;
    size_t at = 0;
    int n = snprintf(buf, size, "[");
    at += (size_t)n;
    for (size_t i = 0; i < l->n; i++) {
        char item[64];
        weft__rx_format(BOX_OF(l)->ops, l->items[i], item, sizeof item);
        n = snprintf(at < size ? buf + at : NULL, at < size ? size - at : 0,
                     "%s%s", i ? "," : "", item);
        at += (size_t)n;
    }
    n = snprintf(at < size ? buf + at : NULL, at < size ? size - at : 0, "]");
    return (int)(at + (size_t)n);
}

const weft_rx_value_ops_t weft_rx_list_ops = {list_retain, list_release,
                                              list_format};

static void *obs_retain(void *v) { return weft_rx_observable_ref(v); }
static void obs_release(void *v) { weft_rx_observable_free(v); }

const weft_rx_value_ops_t weft_rx_observable_ops = {obs_retain, obs_release,
                                                    NULL};

int weft__rx_format(const weft_rx_value_ops_t *ops, void *v, char *buf,
                    size_t size)
{
    if (ops && ops->format)
        return ops->format(v, buf, size);
    return snprintf(buf, size, "%ld", (long)(intptr_t)v);
}

int weft__rx_vec_push(rx_vec_t *x, void *v)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 8;
        void **nv = realloc(x->v, cap * sizeof *nv);
        if (!nv)
            return weft_fail(WEFT_ENOMEM, "rx: no memory to hold values");
        x->v = nv;
        x->cap = cap;
    }
    x->v[x->n++] = v;
    return 0;
}

weft_rx_list_t *weft__rx_vec_take(rx_vec_t *x)
{
    weft_rx_list_t *l = weft__rx_list_new(x->n);
    if (!l)
        return NULL;
    if (x->n)
        memcpy(l->items, x->v, x->n * sizeof(void *));
    x->n = 0;
    return l;
}

void weft__rx_vec_clear(rx_vec_t *x, const weft_rx_value_ops_t *ops)
{
    for (size_t i = 0; i < x->n; i++)
        rx_release(ops, x->v[i]);
    free(x->v);
    x->v = NULL;
    x->n = x->cap = 0;
}
