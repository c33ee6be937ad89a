/* SPDX-License-Identifier: MIT */
/* The serializer, and the hub: the operator skeleton for several inputs.
 *
 * Events from any number of threads reach one handler, one at a time, in
 * the order they were pushed, and the handler never runs under a lock. A
 * push takes the lock: if nobody is handling (busy is 0) it becomes the
 * handler (busy = 1), unlocks and handles its own event directly (no copy,
 * no retain); otherwise it queues a copy of the event (the value retained,
 * an error copied to the heap) and returns. The handling thread, after
 * each event, takes the lock and pops the next queued one, or clears busy
 * and leaves when the queue is empty. Since busy is cleared under the same
 * lock that a pusher checks it under, an event is either queued while a
 * handler will still look at the queue, or pushed by a thread that becomes
 * the handler itself: none is left behind. A handler that pushes (a
 * synchronous inner source subscribed from inside the handler) queues,
 * and its events run after the current one, on the same thread, without
 * recursion.
 */
#include "rx_int.h"

#include <string.h>

#include "base/chaos.h"

void weft__rx_serial_init(rx_serial_t *z, rx_handler handle,
                          const weft_rx_value_ops_t *(*ops_of)(void *owner,
                                                               int tag),
                          void *owner)
{
    z->ops_of = ops_of;
    pthread_mutex_init(&z->lock, NULL);
    z->busy = 0;
    z->lost = 0;
    z->q = NULL;
    z->head = z->n = z->cap = 0;
    z->handle = handle;
    z->owner = owner;
}

static void drop_event(rx_event_t *ev, const weft_rx_value_ops_t *ops)
{
    if (ev->kind == RX_NEXT)
        rx_release(ops, ev->data);
    else if (ev->kind == RX_ERROR)
        free(ev->data);
}

static const weft_rx_value_ops_t *ops_for(rx_serial_t *z, int tag)
{
    return z->ops_of ? z->ops_of(z->owner, tag) : NULL;
}

void weft__rx_serial_destroy(rx_serial_t *z)
{
    for (size_t i = 0; i < z->n; i++) {
        rx_event_t *ev = &z->q[(z->head + i) % z->cap];
        drop_event(ev, ops_for(z, ev->tag));
    }
    free(z->q);
    z->q = NULL;
    pthread_mutex_destroy(&z->lock);
}

/* Under the lock. Returns 0, or WEFT_ENOMEM (the event is then lost: the
 * caller fails the owner). */
static int enqueue(rx_serial_t *z, rx_event_t *ev)
{
    if (z->n == z->cap) {
        size_t cap = z->cap ? 2 * z->cap : 16;
        rx_event_t *q = malloc(cap * sizeof *q);
        if (!q)
            return WEFT_ENOMEM;
        for (size_t i = 0; i < z->n; i++)
            q[i] = z->q[(z->head + i) % z->cap];
        free(z->q);
        z->q = q;
        z->head = 0;
        z->cap = cap;
    }
    z->q[(z->head + z->n) % z->cap] = *ev;
    z->n++;
    return 0;
}

/* A copy of ev that outlives the push. */
static int keep(rx_event_t *ev, const weft_rx_value_ops_t *ops)
{
    if (ev->kind == RX_NEXT) {
        ev->data = rx_retain(ops, ev->data);
    } else if (ev->kind == RX_ERROR) {
        weft_error_info_t *e = malloc(sizeof *e);
        if (!e)
            return WEFT_ENOMEM;
        memcpy(e, ev->data, sizeof *e);
        ev->data = e;
    }
    return 0;
}

void weft__rx_serial_push(rx_serial_t *z, rx_event_t ev)
{
    pthread_mutex_lock(&z->lock);
    if (z->busy) {
        const weft_rx_value_ops_t *ops = ops_for(z, ev.tag);
        int rc = keep(&ev, ops);
        if (rc == 0 && (rc = enqueue(z, &ev)) != 0)
            drop_event(&ev, ops);
        /* No memory to queue: the stream cannot go on correctly; the
         * handling thread fails it once the queue is through. */
        if (rc)
            z->lost = 1;
        pthread_mutex_unlock(&z->lock);
        return;
    }
    z->busy = 1;
    pthread_mutex_unlock(&z->lock);
    WEFT_CHAOS_POINT();
    z->handle(z->owner, &ev);
    for (;;) {
        WEFT_CHAOS_POINT();
        pthread_mutex_lock(&z->lock);
        if (z->n == 0 && z->lost) {
            z->lost = 0;
            pthread_mutex_unlock(&z->lock);
            weft_error_info_t e = {WEFT_ENOMEM, "rx: no memory to queue an "
                                                "event"};
            rx_event_t fail = {RX_ERROR, -1, &e, 0};
            z->handle(z->owner, &fail);
            continue;
        }
        if (z->n == 0) {
            z->busy = 0;
            pthread_mutex_unlock(&z->lock);
            return;
        }
        rx_event_t next = z->q[z->head];
        z->head = (z->head + 1) % z->cap;
        z->n--;
        pthread_mutex_unlock(&z->lock);
        z->handle(z->owner, &next);
        /* The handler had it borrowed; the queue's copy goes now. */
        drop_event(&next, ops_for(z, next.tag));
    }
}

/* ----- Hubs ----- */

static void hub_handle(void *owner, rx_event_t *ev)
{
    rx_hub_t *h = owner;
    const rx_hub_class_t *hc = (const rx_hub_class_t *)h->sink.cls;
    if (ev->kind == RX_OTHER && ev->tag == RX_TAG_STOP) {
        if (hc->cleanup)
            hc->cleanup(h);
        return;
    }
    if (ev->kind == RX_ERROR && ev->tag == -1) {
        weft__rx_emit_error(&h->sink, ev->data); /* lost to no memory */
        return;
    }
    if (!rx_stopped(&h->sink))
        hc->handle(h, ev);
}

void weft__rx_hub_stop(rx_sink_t *s)
{
    weft__rx_hub_push((rx_hub_t *)s, RX_OTHER, RX_TAG_STOP, NULL, 0);
}

static const weft_rx_value_ops_t *hub_ops(void *owner, int tag)
{
    rx_hub_t *h = owner;
    const rx_hub_class_t *hc = (const rx_hub_class_t *)h->sink.cls;
    return hc->ops_of ? hc->ops_of(h, tag) : h->sink.in;
}

void *weft__rx_hub_new(const rx_hub_class_t *cls, rx_sink_t *down,
                       const weft_rx_value_ops_t *in)
{
    rx_hub_t *h = weft__rx_sink_new(&cls->sink, down, in);
    if (h)
        weft__rx_serial_init(&h->serial, hub_handle, hub_ops, h);
    return h;
}

void weft__rx_hub_destroy(rx_sink_t *s)
{
    rx_hub_t *h = (rx_hub_t *)s;
    weft__rx_serial_destroy(&h->serial);
}

void weft__rx_hub_push(rx_hub_t *h, int kind, int tag, void *data,
                       uintptr_t aux)
{
    rx_event_t ev = {kind, tag, data, aux};
    weft__rx_serial_push(&h->serial, ev);
}

void weft__rx_hub_next(rx_sink_t *s, void *v)
{
    weft__rx_hub_push((rx_hub_t *)s, RX_NEXT, 0, v, 0);
}

void weft__rx_hub_error(rx_sink_t *s, const weft_error_info_t *e)
{
    weft__rx_hub_push((rx_hub_t *)s, RX_ERROR, 0, (void *)e, 0);
}

void weft__rx_hub_completed(rx_sink_t *s)
{
    weft__rx_hub_push((rx_hub_t *)s, RX_COMPLETED, 0, NULL, 0);
}

/* ----- Inputs ----- */

struct input {
    rx_sink_t s;
    int tag;
};

static void in_next(rx_sink_t *s, void *v)
{
    if (!rx_stopped(s))
        weft__rx_hub_push((rx_hub_t *)s->down, RX_NEXT,
                          ((struct input *)s)->tag, v, 0);
}

static void in_error(rx_sink_t *s, const weft_error_info_t *e)
{
    if (atomic_fetch_or(&s->state, RX_STOPPED) & RX_STOPPED)
        return;
    weft__rx_hub_push((rx_hub_t *)s->down, RX_ERROR, ((struct input *)s)->tag,
                      (void *)e, 0);
    weft__rx_stop(s);
}

static void in_completed(rx_sink_t *s)
{
    if (atomic_fetch_or(&s->state, RX_STOPPED) & RX_STOPPED)
        return;
    weft__rx_hub_push((rx_hub_t *)s->down, RX_COMPLETED,
                      ((struct input *)s)->tag, NULL, 0);
    weft__rx_stop(s);
}

static const rx_sink_class_t input_class = {
    sizeof(struct input), in_next, in_error, in_completed, NULL, NULL, NULL};

rx_sink_t *weft__rx_input(rx_hub_t *h, int tag, weft_rx_observable_t *src)
{
    struct input *in = weft__rx_sink_new(&input_class, NULL, src->values);
    if (!in) {
        weft_error_info_t e;
        weft__rx_error_now(&e, WEFT_ENOMEM);
        weft__rx_hub_push(h, RX_ERROR, tag, &e, 0);
        return NULL;
    }
    in->s.down = rx_ref(&h->sink);
    in->tag = tag;
    weft__rx_set_up(&in->s, weft__rx_subscribe(src, &in->s));
    return &in->s;
}
