/* SPDX-License-Identifier: MIT */
/* Pumping: the manager thread over the pool's epoll set, the events it
 * handles, and the wait hook that lets a thread waiting on a task read its
 * worker's results itself.
 *
 * The manager waits on everything, always (see procpool_int.h for why no
 * wake-up is lost). A waiting thread polls only the socket and sentinel of
 * the worker its task is on, in slices of 20 ms so that a cancel of its
 * scope is seen; when the data comes it takes the lock and reads it,
 * whether or not the manager was woken too: whoever takes the lock first
 * reads, the other finds nothing. A task not on a worker yet (pending) is
 * waited for by parking, as for any future: the manager completes it.
 */
#include "procpool_int.h"

#include "base/chaos.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define SLICE_NS 20000000 /* 20 ms */

void weft__pp_poke(struct pp *pp)
{
    uint64_t one = 1;
    ssize_t n = write(pp->ctl, &one, sizeof one);
    (void)n; /* a full counter already means "look" */
}

/* ----- Events ----- */

static void on_sock(struct pp *pp, unsigned slot, uint32_t gen)
{
    struct pp_task *done = NULL;
    weft_lock_acquire_shielded(&pp->lock);
    struct pp_worker *w = weft__pp_worker_at(pp, slot, gen);
    /* An event from before a waiter took the socket: the data is the
     * waiter's to read (it polls for it), not ours to take from it. */
    if (w && !w->reader)
        weft__pp_pump(pp, w, &done);
    weft_lock_release(&pp->lock);
    weft__pp_complete(pp, done);
}

static void on_ctl(struct pp *pp)
{
    uint64_t v;
    ssize_t n = read(pp->ctl, &v, sizeof v);
    (void)n;
    weft_lock_acquire_shielded(&pp->lock);
    weft__pp_check_stops(pp);
    weft_lock_release(&pp->lock);
}

static void on_timer(struct pp *pp)
{
    uint64_t v;
    ssize_t n = read(pp->timer, &v, sizeof v);
    (void)n;
    struct pp_task *done = NULL;
    weft_lock_acquire_shielded(&pp->lock);
    weft__pp_check_deadlines(pp, &done);
    weft_lock_release(&pp->lock);
    weft__pp_complete(pp, done);
}

/* The first SIGINT: cancel what has not started, stop the workers. */
static void on_sigint(struct pp *pp, int fd)
{
    struct pp_task *done = NULL;
    weft_future_t **waiting = NULL;
    size_t n = 0;
    weft_lock_acquire_shielded(&pp->lock);
    epoll_ctl(pp->ep, EPOLL_CTL_DEL, fd, NULL);
    int first = !pp->interrupted;
    if (first) {
        pp->interrupted = pp->shutdown = 1;
        weft__pp_cancel_queued(pp, &done, &waiting, &n);
        for (unsigned i = 0; i < pp->max_workers; i++)
            if (pp->slots[i] && pp->slots[i]->state == W_LIVE)
                weft__pp_kill(pp->slots[i], WEFT_ECANCELLED, 0);
    }
    int none_left = pp->live == 0;
    weft_lock_release(&pp->lock);
    weft__pp_complete(pp, done);
    for (size_t i = 0; i < n; i++) {
        weft_future_cancel_and_notify(waiting[i]);
        weft_future_free(waiting[i]);
    }
    free(waiting);
    if (first && none_left)
        weft__pp_sigint_done(pp);
}

void weft__pp_event(struct pp *pp, uint64_t data, uint32_t events)
{
    unsigned kind = (unsigned)(data >> 56);
    unsigned slot = (unsigned)(data >> 32) & 0xffffff;
    uint32_t gen = (uint32_t)data;
    switch (kind) {
    case EV_SOCK:
        on_sock(pp, slot, gen);
        break;
    case EV_SENTINEL:
        weft__pp_on_death(pp, slot, gen);
        break;
    case EV_CTL:
        on_ctl(pp);
        break;
    case EV_TIMER:
        on_timer(pp);
        break;
    case EV_SIGINT:
        on_sigint(pp, (int)gen);
        break;
    }
}

/* ----- The manager ----- */

static int manager_main(void *arg, void **result)
{
    struct pp *pp = arg;
    struct epoll_event ev[64];
    while (!atomic_load_explicit(&pp->quit, memory_order_acquire)) {
        int n = epoll_wait(pp->ep, ev, 64, -1);
        for (int i = 0; i < n; i++)
            weft__pp_event(pp, ev[i].data.u64, ev[i].events);
        if (n < 0 && errno != EINTR)
            break; /* the set is gone: only at teardown */
    }
    return 0;
}

int weft__pp_manager_start(struct pp *pp)
{
    weft_thread_opts_t opts = {"ProcessPoolManager", 1, 0};
    int rc = weft_thread_new(&pp->manager, manager_main, pp, &opts);
    if (rc)
        return rc;
    rc = weft_thread_start(pp->manager);
    if (rc) {
        weft_thread_free(pp->manager);
        pp->manager = NULL;
    }
    return rc;
}

void weft__pp_manager_stop(struct pp *pp)
{
    if (pp->manager == NULL)
        return;
    /* Release: pairs with the manager's acquire load of quit. */
    atomic_store_explicit(&pp->quit, 1, memory_order_release);
    weft__pp_poke(pp);
    weft_thread_join(pp->manager, WEFT_FOREVER);
    weft_thread_free(pp->manager);
    pp->manager = NULL;
}

/* ----- Waiting threads pump too ----- */

/* Poll w's socket and sentinel until one is ready or the slice ends:
 * bit 1 the socket, bit 2 the sentinel (w ended). */
static int poll_worker(struct pp_worker *w, int want_out, int64_t deadline)
{
    int64_t now = weft_monotonic_ns();
    int64_t end = deadline - now < SLICE_NS ? deadline : now + SLICE_NS;
    int ms = end <= now ? 0 : (int)((end - now + 999999) / 1000000);
    struct pollfd p[2] = {
        {w->sock, (short)(POLLIN | (want_out ? POLLOUT : 0)), 0},
        {w->sentinel, POLLIN, 0}};
    if (poll(p, 2, ms) <= 0)
        return 0;
    return (p[0].revents ? 1 : 0) | (p[1].revents ? 2 : 0);
}

/* Under the lock: become the one direct reader of the worker t is on
 * (with a reference to it), taking its socket from the epoll set; NULL
 * when t is not on a live worker (pending, or done) or the worker has a
 * reader already: then the caller parks. */
static struct pp_worker *claim_worker(struct pp *pp, struct pp_task *t)
{
    struct pp_worker *w = pp->torn ? NULL : t->worker;
    if (w == NULL || w->state != W_LIVE || w->reader || !w->in_epoll)
        return NULL;
    w->refs++;
    w->reader = 1;
    weft__pp_watch_events(pp, w);
    return w;
}

/* Under the lock: give w's socket back to the epoll set. */
static void release_worker(struct pp *pp, struct pp_worker *w)
{
    w->reader = 0;
    if (w->state == W_LIVE)
        weft__pp_watch_events(pp, w);
    weft__pp_worker_unref(w);
}

int weft__pp_wait(weft_future_t *f, int64_t deadline)
{
    struct pp_task *t = weft__pp_task(f);
    struct pp *pp = t->pool; /* alive while f is: t holds a reference */
    while (!weft_future_done(f)) {
        weft_lock_acquire_shielded(&pp->lock);
        struct pp_worker *w = claim_worker(pp, t);
        int want_out = w && w->want_out;
        weft_lock_release(&pp->lock);
        if (w == NULL)
            return weft_future_done(f) ? 0 : WEFT_EAGAIN;
        WEFT_CHAOS_POINT(); /* the socket is ours, out of the epoll set */
        int seen = poll_worker(w, want_out, deadline);
        WEFT_CHAOS_POINT();
        struct pp_task *done = NULL;
        weft_lock_acquire_shielded(&pp->lock);
        unsigned slot = w->slot;
        uint32_t gen = w->gen;
        /* A due result that had not come is looked for again here too:
         * the timer leaves this worker to its reader. */
        if ((seen || w->recheck) && w->state == W_LIVE)
            weft__pp_pump(pp, w, &done);
        release_worker(pp, w);
        weft_lock_release(&pp->lock);
        weft__pp_complete(pp, done);
        if (seen & 2)
            weft__pp_on_death(pp, slot, gen);
        if (weft_future_done(f))
            return 0;
        if (weft_cancelled())
            return WEFT_ECANCELLED;
        if (deadline != WEFT_NEVER && weft_monotonic_ns() >= deadline)
            return WEFT_ETIMEDOUT;
    }
    return 0;
}
