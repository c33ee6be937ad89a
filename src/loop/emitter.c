/* SPDX-License-Identifier: MIT */
/* The event emitter: named events matched to handlers, run on a loop.
 *
 * emit() may come from any thread: it checks that someone listens, then
 * hands the emission to the loop with call_soon_threadsafe. On the loop,
 * the handlers registered for the name at that moment are copied under the
 * emitter's lock and run without it, so a handler may register, remove or
 * emit freely. An emitter freed with emissions on the way lives until the
 * last of them has run.
 */
#include "base/check.h"
#include "loop_int.h"

#include <stdlib.h>
#include <string.h>

struct handler {
    char *event;
    weft_emitter_fn fn;
    void *arg;
    struct handler *next;
};

struct weft_emitter {
    weft_loop_t *loop;
    pthread_mutex_t lock;
    struct handler *head;
    size_t pending; /* emissions scheduled, not yet run; under lock */
    int freed;
};

struct emission {
    weft_emitter_t *e;
    void *data;
    char event[]; /* the name, copied */
};

int weft_emitter_new(weft_emitter_t **out, weft_loop_t *loop)
{
    if (out == NULL || loop == NULL)
        return weft_fail(WEFT_EINVAL, "emitter_new: NULL argument");
    weft_emitter_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return weft_fail(WEFT_ENOMEM, "emitter_new: no memory");
    e->loop = loop;
    pthread_mutex_init(&e->lock, NULL);
    *out = e;
    return 0;
}

static void destroy(weft_emitter_t *e)
{
    while (e->head) {
        struct handler *next = e->head->next;
        free(e->head->event);
        free(e->head);
        e->head = next;
    }
    pthread_mutex_destroy(&e->lock);
    free(e);
}

void weft_emitter_free(weft_emitter_t *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->lock);
    e->freed = 1;
    int now = e->pending == 0;
    pthread_mutex_unlock(&e->lock);
    if (now)
        destroy(e);
}

int weft_emitter_on(weft_emitter_t *e, const char *event, weft_emitter_fn fn,
                    void *arg)
{
    if (e == NULL || event == NULL || fn == NULL)
        return weft_fail(WEFT_EINVAL, "emitter_on: NULL argument");
    struct handler *h = calloc(1, sizeof *h);
    char *name = strdup(event);
    if (h == NULL || name == NULL) {
        free(h);
        free(name);
        return weft_fail(WEFT_ENOMEM, "emitter_on: no memory");
    }
    *h = (struct handler){name, fn, arg, NULL};
    pthread_mutex_lock(&e->lock);
    struct handler **tail = &e->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
    pthread_mutex_unlock(&e->lock);
    return 0;
}

int weft_emitter_off(weft_emitter_t *e, const char *event, weft_emitter_fn fn,
                     void *arg)
{
    WEFT_REFUSE_NULL(fn);
    if (e == NULL || event == NULL)
        return weft_fail(WEFT_EINVAL, "emitter_off: NULL argument");
    pthread_mutex_lock(&e->lock);
    for (struct handler **it = &e->head; *it; it = &(*it)->next) {
        struct handler *h = *it;
        if (h->fn == fn && h->arg == arg && strcmp(h->event, event) == 0) {
            *it = h->next;
            pthread_mutex_unlock(&e->lock);
            free(h->event);
            free(h);
            return 0;
        }
    }
    pthread_mutex_unlock(&e->lock);
    return weft_fail(WEFT_EKEY, "emitter_off: no such handler for '%s'", event);
}

/* With the lock held: how many handlers listen to event. */
static size_t listeners(const weft_emitter_t *e, const char *event)
{
    size_t n = 0;
    for (const struct handler *h = e->head; h; h = h->next)
        n += strcmp(h->event, event) == 0;
    return n;
}

/* With the lock held: copy the handlers of event into a new array. */
static struct handler *snapshot(const weft_emitter_t *e, const char *event,
                                size_t *n)
{
    *n = listeners(e, event);
    struct handler *copy = calloc(*n ? *n : 1, sizeof *copy);
    if (copy == NULL) {
        *n = 0;
        return NULL;
    }
    size_t i = 0;
    for (const struct handler *h = e->head; h; h = h->next)
        if (strcmp(h->event, event) == 0)
            copy[i++] = *h;
    return copy;
}

/* On the loop. */
static int deliver(void *arg)
{
    struct emission *m = arg;
    weft_emitter_t *e = m->e;
    size_t n;
    pthread_mutex_lock(&e->lock);
    struct handler *hs = snapshot(e, m->event, &n);
    pthread_mutex_unlock(&e->lock);
    for (size_t i = 0; i < n; i++) {
        int rc = hs[i].fn(hs[i].arg, m->event, m->data);
        if (rc)
            weft__loop_report(e->loop, (const void *)hs[i].fn, hs[i].arg, rc);
    }
    free(hs);
    free(m);
    pthread_mutex_lock(&e->lock);
    int last = --e->pending == 0 && e->freed;
    pthread_mutex_unlock(&e->lock);
    if (last)
        destroy(e);
    return 0;
}

int weft_emitter_emit(weft_emitter_t *e, const char *event, void *data)
{
    if (e == NULL || event == NULL)
        return weft_fail(WEFT_EINVAL, "emitter_emit: NULL argument");
    size_t len = strlen(event) + 1;
    struct emission *m = malloc(sizeof *m + len);
    if (m == NULL)
        return weft_fail(WEFT_ENOMEM, "emitter_emit: no memory");
    m->e = e;
    m->data = data;
    memcpy(m->event, event, len);
    pthread_mutex_lock(&e->lock);
    int rc = listeners(e, event) == 0
                 ? weft_fail(WEFT_EKEY, "no handler for event '%s'", event)
                 : weft_loop_call_soon_threadsafe(e->loop, deliver, m);
    e->pending += rc == 0;
    pthread_mutex_unlock(&e->lock);
    if (rc)
        free(m);
    return rc;
}
