/* SPDX-License-Identifier: MIT */
/* Futures on the loop: call_when_done and run_until_complete.
 *
 * A future may complete on any thread, and after the loop that waits for it
 * is gone. Each registration is a small record shared by the loop (its list
 * of registrations) and the future (its done callback), freed when both
 * are through with it. Its lock makes "the done callback schedules onto the
 * loop" and "the loop is freed" exclusive: the loop, as it goes, clears the
 * record's loop pointer under that lock, and the callback schedules only
 * while the pointer is set.
 */
#include "loop_int.h"

#include <stdlib.h>

struct when_done {
    pthread_mutex_t lock;
    weft_loop_t *loop; /* NULL once the loop is freed */
    _Atomic int refs;
    weft_future_t *f;
    weft_future_callback fn;
    void *arg;
    struct when_done *prev, *next; /* the loop's list, under wd_lock */
};

static void unref(struct when_done *w)
{
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&w->lock);
    weft_future_free(w->f);
    free(w);
}

static void unlink_from(weft_loop_t *loop, struct when_done *w)
{
    pthread_mutex_lock(&loop->wd_lock);
    if (w->prev)
        w->prev->next = w->next;
    else if (loop->when_done == w)
        loop->when_done = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    pthread_mutex_unlock(&loop->wd_lock);
}

/* On the loop: the future is done; run the callback. */
static int run_it(void *arg)
{
    struct when_done *w = arg;
    weft_loop_t *loop = w->loop;
    unlink_from(loop, w);
    unref(w); /* the list's reference */
    int rc = w->fn(w->f, w->arg);
    if (rc)
        weft__loop_report(loop, (const void *)w->fn, w->arg, rc);
    unref(w); /* the callback's */
    return 0;
}

/* On whichever thread completed the future. */
static int on_done(weft_future_t *f, void *arg)
{
    struct when_done *w = arg;
    pthread_mutex_lock(&w->lock);
    int scheduled =
        w->loop && weft_loop_call_soon_threadsafe(w->loop, run_it, w) == 0;
    pthread_mutex_unlock(&w->lock);
    if (!scheduled)
        unref(w);
    return 0;
}

int weft_loop_call_when_done(weft_loop_t *loop, weft_future_t *f,
                             weft_future_callback fn, void *arg)
{
    if (loop == NULL || f == NULL || fn == NULL)
        return weft_fail(WEFT_EINVAL, "call_when_done: NULL argument");
    struct when_done *w = calloc(1, sizeof *w);
    if (w == NULL)
        return weft_fail(WEFT_ENOMEM, "call_when_done: no memory");
    pthread_mutex_init(&w->lock, NULL);
    w->loop = loop;
    atomic_init(&w->refs, 2);
    w->f = weft_future_ref(f);
    w->fn = fn;
    w->arg = arg;
    pthread_mutex_lock(&loop->wd_lock);
    w->next = loop->when_done;
    if (w->next)
        w->next->prev = w;
    loop->when_done = w;
    pthread_mutex_unlock(&loop->wd_lock);
    int rc = weft_future_add_done_callback(f, on_done, w);
    if (rc) {
        unlink_from(loop, w);
        unref(w);
        unref(w);
    }
    return rc;
}

/* The loop is being freed: no registration may schedule onto it again. A
 * run already scheduled is dropped with the ring; weft__when_done_drop
 * releases what it held. */
void weft__when_done_close(weft_loop_t *loop)
{
    pthread_mutex_lock(&loop->wd_lock);
    struct when_done *w = loop->when_done;
    loop->when_done = NULL;
    pthread_mutex_unlock(&loop->wd_lock);
    while (w) {
        struct when_done *next = w->next;
        pthread_mutex_lock(&w->lock);
        w->loop = NULL;
        pthread_mutex_unlock(&w->lock);
        w->prev = w->next = NULL;
        unref(w);
        w = next;
    }
}

void weft__when_done_drop(weft_callback fn, void *arg)
{
    if (fn == run_it)
        unref(arg);
}

/* ----- run_until_complete ----- */

struct waker {
    pthread_mutex_t lock;
    weft_loop_t *loop;
    _Atomic int refs;
};

static void waker_unref(struct waker *k)
{
    if (atomic_fetch_sub(&k->refs, 1) == 1) {
        pthread_mutex_destroy(&k->lock);
        free(k);
    }
}

static int nothing(void *arg)
{
    return 0;
}

/* Scheduling a callback, even one that does nothing, is what wakes the
 * loop without a race (see io_linux.c). */
static int wake_loop(weft_future_t *f, void *arg)
{
    struct waker *k = arg;
    pthread_mutex_lock(&k->lock);
    if (k->loop)
        weft_loop_call_soon_threadsafe(k->loop, nothing, NULL);
    pthread_mutex_unlock(&k->lock);
    waker_unref(k);
    return 0;
}

static int future_done(void *f)
{
    return weft_future_done(f);
}

int weft_loop_run_until_complete(weft_loop_t *loop, weft_future_t *f,
                                 void **result)
{
    if (loop == NULL || f == NULL)
        return weft_fail(WEFT_EINVAL, "run_until_complete: NULL %s",
                         loop ? "future" : "loop");
    struct waker *k = calloc(1, sizeof *k);
    if (k == NULL)
        return weft_fail(WEFT_ENOMEM, "run_until_complete: no memory");
    pthread_mutex_init(&k->lock, NULL);
    k->loop = loop;
    atomic_init(&k->refs, 2);
    int rc = weft_future_add_done_callback(f, wake_loop, k);
    if (rc) {
        free(k);
        return rc;
    }
    rc = weft_loop_run_until(loop, future_done, f);
    pthread_mutex_lock(&k->lock);
    k->loop = NULL;
    pthread_mutex_unlock(&k->lock);
    waker_unref(k);
    if (rc)
        return rc;
    return weft_future_result(f, 0, result);
}
