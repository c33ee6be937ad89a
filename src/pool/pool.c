/* SPDX-License-Identifier: MIT */
/* Pool: multiprocessing.Pool's vocabulary over any executor.
 *
 * Every task the pool submits is tracked until done (a list under the
 * pool's lock, entries removed by each future's done callback), so that
 * terminate() can cancel or stop what is outstanding and join() can wait
 * for the count to reach zero.
 *
 * map_async cuts the input into chunks, one task each; a chunk runs fn
 * over its items and keeps each item's result or error. When the last
 * chunk completes, its callback settles the AsyncResult: the first failing
 * item by position decides the outcome, as in Python. */
#include "base/check.h"
#include "pool_int.h"

#include <stdlib.h>
#include <string.h>

enum { RUN, CLOSE, TERMINATE };

struct tracked {
    weft_future_t *f;
    struct tracked *prev, *next;
    weft_pool_t *pool;
};

struct weft_pool {
    weft_executor_t *ex;
    int owns;
    weft_lock_t lock; /* the state and the tracked list */
    int state;
    struct tracked *head;
    _Atomic uint32_t outstanding;
};

/* ----- Tracking ----- */

static int untrack(weft_future_t *f, void *arg)
{
    struct tracked *t = arg;
    weft_pool_t *p = t->pool;
    weft_lock_acquire_shielded(&p->lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        p->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    weft_lock_release(&p->lock);
    weft_future_free(t->f);
    free(t);
    if (atomic_fetch_sub(&p->outstanding, 1) == 1)
        weft_unpark_all(&p->outstanding, 0);
    return 0;
}

/* Submit fn(arg), or bfn over the len bytes at arg, and track its future;
 * *out gets a reference. */
static int submit_tracked(weft_pool_t *p, weft_fn fn, weft_bytes_fn bfn,
                          void *arg, size_t len, weft_future_callback then,
                          void *then_arg, weft_future_t **out)
{
    struct tracked *t = calloc(1, sizeof *t);
    if (t == NULL)
        return weft_fail(WEFT_ENOMEM, "pool: no memory");
    weft_lock_acquire_shielded(&p->lock);
    int rc = p->state != RUN
                 ? weft_fail(WEFT_ESTATE, "Pool not running")
             : bfn ? weft_executor_submit_bytes(p->ex, bfn, arg, len, out)
                   : weft_executor_submit(p->ex, fn, arg, out);
    if (rc == 0) {
        t->f = weft_future_ref(*out);
        t->pool = p;
        t->next = p->head;
        if (p->head)
            p->head->prev = t;
        p->head = t;
        atomic_fetch_add(&p->outstanding, 1);
    }
    weft_lock_release(&p->lock);
    if (rc) {
        free(t);
        return rc;
    }
    if (then && weft_future_add_done_callback(*out, then, then_arg)) {
        weft_future_wait(*out, WEFT_FOREVER); /* no memory: settle here */
        then(*out, then_arg);
    }
    if (weft_future_add_done_callback(*out, untrack, t)) {
        weft_future_wait(*out, WEFT_FOREVER);
        untrack(*out, t);
    }
    return 0;
}

int weft__pool_submit(weft_pool_t *p, weft_fn fn, void *arg,
                      weft_future_callback then, void *then_arg,
                      weft_future_t **out)
{
    return submit_tracked(p, fn, NULL, arg, 0, then, then_arg, out);
}

int weft__pool_submit_bytes(weft_pool_t *p, weft_bytes_fn fn, const void *arg,
                            size_t len, weft_future_callback then,
                            void *then_arg, weft_future_t **out)
{
    return submit_tracked(p, NULL, fn, (void *)arg, len, then, then_arg, out);
}

/* ----- Life ----- */

int weft_pool_new(weft_pool_t **out, weft_executor_t *ex, int owns)
{
    if (out == NULL || ex == NULL)
        return weft_fail(WEFT_EINVAL, "pool_new: NULL %s",
                         out ? "executor" : "out");
    weft_pool_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "pool_new: no memory");
    p->ex = ex;
    p->owns = owns;
    weft_lock_init(&p->lock);
    p->state = RUN;
    atomic_init(&p->outstanding, 0);
    *out = p;
    return 0;
}

int weft_thread_pool_pool_new(weft_pool_t **out, unsigned processes)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "pool_new: NULL out");
    weft_thread_pool_opts_t o = {processes ? processes : weft__cpu_count(),
                                 "ThreadPool", NULL, NULL};
    weft_executor_t *ex;
    int rc = weft_thread_pool_new(&ex, &o);
    if (rc)
        return rc;
    rc = weft_pool_new(out, ex, 1);
    if (rc)
        weft_executor_free(ex);
    return rc;
}

weft_executor_t *weft_pool_executor(weft_pool_t *p)
{
    WEFT_REFUSE_NULL_OR(p, NULL);
    return p->ex;
}

static int set_state(weft_pool_t *p, int state)
{
    weft_lock_acquire_shielded(&p->lock);
    if (p->state < state)
        p->state = state;
    weft_lock_release(&p->lock);
    return 0;
}

int weft_pool_close(weft_pool_t *p)
{
    WEFT_REFUSE_NULL(p);
    return set_state(p, CLOSE);
}

/* Stop every outstanding task: cancel the queued, ask the running to stop.
 * References are taken under the lock and used outside it, since stopping
 * may complete a future and run untrack. */
int weft_pool_terminate(weft_pool_t *p)
{
    WEFT_REFUSE_NULL(p);
    weft_lock_acquire_shielded(&p->lock);
    p->state = TERMINATE;
    size_t n = 0;
    for (struct tracked *t = p->head; t; t = t->next)
        n++;
    weft_future_t **fs = malloc((n ? n : 1) * sizeof *fs);
    size_t k = 0;
    for (struct tracked *t = p->head; fs && t; t = t->next)
        fs[k++] = weft_future_ref(t->f);
    weft_lock_release(&p->lock);
    for (size_t i = 0; i < k; i++) {
        weft_future_stop(fs[i]);
        weft_future_free(fs[i]);
    }
    free(fs);
    return fs || n == 0 ? 0 : weft_fail(WEFT_ENOMEM, "terminate: no memory");
}

static int some_outstanding(void *ctx)
{
    weft_pool_t *p = ctx;
    return atomic_load(&p->outstanding) != 0;
}

static const weft_park_ops_t outstanding_ops = {some_outstanding, NULL, NULL};

int weft_pool_join(weft_pool_t *p, double timeout)
{
    WEFT_REFUSE_NULL(p);
    weft_lock_acquire_shielded(&p->lock);
    int running = p->state == RUN;
    weft_lock_release(&p->lock);
    if (running)
        return weft_fail(WEFT_ESTATE, "Pool is still running");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    while (rc == 0 && atomic_load(&p->outstanding) != 0) {
        rc = weft_park(&p->outstanding, &outstanding_ops, p, deadline, NULL);
        if (rc == WEFT_EAGAIN || rc == 0)
            rc = 0;
        else
            rc = weft_fail(rc, "pool join: %u tasks outstanding",
                           atomic_load(&p->outstanding));
    }
    return rc;
}

void weft_pool_free(weft_pool_t *p)
{
    if (p == NULL)
        return;
    weft_lock_acquire_shielded(&p->lock);
    int closed = p->state != RUN;
    weft_lock_release(&p->lock);
    if (!closed)
        weft_pool_terminate(p);
    weft_pool_join(p, WEFT_FOREVER);
    if (p->owns)
        weft_executor_free(p->ex);
    free(p);
}
