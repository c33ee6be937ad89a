/* SPDX-License-Identifier: MIT */
/* Waiting on a file descriptor, the one way: a waiter kind that knows how
 * (a coroutine: its loop watches the fd) does it; an OS thread sleeps in
 * poll(2), in slices while inside a cancel scope, since a cancel cannot
 * interrupt poll without a signal. */
#include "park_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>

#define CANCEL_SLICE_NS 20000000 /* 20 ms */

static int poll_ms(int64_t now, int64_t until)
{
    if (until == WEFT_NEVER)
        return -1;
    if (until <= now)
        return 0;
    double ms = ceil((double)(until - now) / 1e6);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* One sleep in poll(2): nonzero when fd is ready or failed. */
static int thread_wait_fd(weft_waiter_t *w, int fd, short events,
                          int64_t until)
{
    int64_t now = weft_monotonic_ns();
    if (weft__waiter(w)->scope_ &&
        (until == WEFT_NEVER || until - now > CANCEL_SLICE_NS))
        until = now + CANCEL_SLICE_NS;
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, poll_ms(now, until));
    return r > 0 || (r < 0 && errno != EINTR);
}

static int ready_now(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    return poll(&p, 1, 0) != 0;
}

/* One wait of the current context's kind; nonzero when fd is ready. A kind
 * of its own is asked only when fd is not ready already. */
static int wait_once(weft_waiter_t *w, int fd, short events, int64_t now,
                     int64_t until)
{
    if (w->ops->wait_fd == NULL)
        return thread_wait_fd(w, fd, events, until);
    if (ready_now(fd, events))
        return 1;
    return now < until && w->ops->wait_fd(w, fd, events, until);
}

int weft_park_wait_fd(int fd, short events, int64_t deadline)
{
    if (fd < 0)
        return weft_fail(WEFT_EINVAL, "wait_fd: bad descriptor %d", fd);
    weft_waiter_t *w = weft_park_current();
    for (;;) {
        int64_t now = weft_monotonic_ns(), dl = deadline;
        if (weft__waiter(w)->scope_ && weft__scope_check(w, now, &dl))
            return weft_fail(WEFT_ECANCELLED, "wait on descriptor %d "
                                              "cancelled", fd);
        if (wait_once(w, fd, events, now, dl))
            return 0; /* a zero timeout still looks once */
        if (weft_monotonic_ns() >= deadline)
            return weft_fail(WEFT_ETIMEDOUT, "descriptor %d not ready", fd);
        /* Woken early (a poke, a slice's end, a signal): look again. The
         * state bits of a waiter outside park are only pokes. */
        atomic_fetch_and_explicit(&weft__waiter(w)->state, ~WEFT_WAITER_POKED,
                                  memory_order_acquire);
    }
}
