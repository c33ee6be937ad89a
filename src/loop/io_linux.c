/* SPDX-License-Identifier: MIT */
/* I/O on Linux: epoll for file descriptors, an eventfd to wake a sleeping
 * loop, and the queue of call_soon_threadsafe.
 *
 * Why a wake-up is never lost and rarely wasted. A producer pushes its
 * callback (tsq_count rises, seq_cst), then reads sleeping (seq_cst). The
 * loop, before a poll that may block, sets sleeping (seq_cst), then reads
 * tsq_count (seq_cst) and polls without blocking if it is not zero. In the
 * single order of seq_cst operations one of the two comes first: either the
 * loop sees the callback, or the producer sees the loop asleep and writes
 * the eventfd. wake_sent lets only the first of many producers write; the
 * loop clears it after reading the eventfd and before draining the queue,
 * so a producer that skipped its write because of it is drained then.
 * weft_loop_stop() is a producer of the same kind: it sets stopping
 * (seq_cst) and then reads sleeping, and the loop reads stopping (seq_cst)
 * after setting sleeping. Both sides must be seq_cst: a store that may
 * pass the load after it (x86's store buffer) would let each side miss the
 * other, and the loop sleep on with a stop asked.
 */
#include "base/check.h"
#include "loop_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/chaos.h"

#define MAX_EVENTS 128

int weft__io_init(weft_loop_t *loop)
{
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0)
        return weft_fail(WEFT_ESYS, "loop: epoll_create1: %s", strerror(errno));
    loop->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->evfd < 0) {
        int e = errno;
        close(loop->epfd);
        return weft_fail(WEFT_ESYS, "loop: eventfd: %s", strerror(e));
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = loop->evfd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev) != 0) {
        int e = errno;
        close(loop->evfd);
        close(loop->epfd);
        return weft_fail(WEFT_ESYS, "loop: epoll_ctl: %s", strerror(e));
    }
    return 0;
}

void weft__io_destroy(weft_loop_t *loop)
{
    close(loop->evfd);
    close(loop->epfd);
    free(loop->fds);
    loop->fds = NULL;
    loop->nfds = 0;
}

/* ----- Waking up ----- */

void weft__io_wake(weft_loop_t *loop)
{
    if (!atomic_load(&loop->sleeping))
        return;
    WEFT_CHAOS_POINT(); /* seen asleep, not yet claimed the write */
    if (atomic_exchange(&loop->wake_sent, 1))
        return;
    uint64_t one = 1;
    ssize_t n = write(loop->evfd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is full, so the loop wakes anyway */
}

static void consume_wake(weft_loop_t *loop)
{
    uint64_t v;
    ssize_t n = read(loop->evfd, &v, sizeof v);
    (void)n;
    WEFT_CHAOS_POINT(); /* read, producers still think a write is out */
    atomic_store(&loop->wake_sent, 0);
}

int weft_loop_call_soon_threadsafe(weft_loop_t *loop, weft_callback fn,
                                   void *arg)
{
    if (loop == NULL || fn == NULL)
        return weft_fail(WEFT_EINVAL, "call_soon_threadsafe: NULL %s",
                         loop ? "callback" : "loop");
    pthread_mutex_lock(&loop->tsq_lock);
    if (loop->closed) {
        pthread_mutex_unlock(&loop->tsq_lock);
        return weft_fail(WEFT_ECLOSED, "call_soon_threadsafe: the loop is "
                                       "closed");
    }
    if (loop->tsq_len == loop->tsq_cap) {
        size_t cap = loop->tsq_cap ? loop->tsq_cap * 2 : 64;
        struct tsentry *q = realloc(loop->tsq, cap * sizeof *q);
        if (q == NULL) {
            pthread_mutex_unlock(&loop->tsq_lock);
            return weft_fail(WEFT_ENOMEM, "call_soon_threadsafe: no memory");
        }
        loop->tsq = q;
        loop->tsq_cap = cap;
    }
    loop->tsq[loop->tsq_len++] = (struct tsentry){fn, arg};
    atomic_store(&loop->tsq_count, loop->tsq_len);
    WEFT_CHAOS_POINT(); /* queued and counted, the loop not yet woken */
    /* Under the lock: once it is released, the callback may run and free
     * the loop (weft_loop_free closes the queue under the same lock). */
    weft__io_wake(loop);
    pthread_mutex_unlock(&loop->tsq_lock);
    return 0;
}

void weft__tsq_drain(weft_loop_t *loop)
{
    pthread_mutex_lock(&loop->tsq_lock);
    size_t i = 0;
    for (; i < loop->tsq_len; i++)
        if (ring_push(&loop->ready, loop->tsq[i].fn, loop->tsq[i].arg, NULL))
            break; /* out of memory: the rest waits for the next turn */
    memmove(loop->tsq, loop->tsq + i, (loop->tsq_len - i) * sizeof *loop->tsq);
    loop->tsq_len -= i;
    atomic_store(&loop->tsq_count, loop->tsq_len);
    pthread_mutex_unlock(&loop->tsq_lock);
}

/* ----- Polling ----- */

static void dispatch_level(weft_loop_t *loop, int fd, uint32_t events)
{
    struct fdrec *r = &loop->fds[fd];
    /* An error or hang-up wakes both sides, as asyncio does: the read or
     * write they then make reports it. */
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && r->rfn)
        run_callback(loop, r->rfn, r->rarg);
    if ((size_t)fd < loop->nfds &&
        (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && loop->fds[fd].wfn)
        run_callback(loop, loop->fds[fd].wfn, loop->fds[fd].warg);
}

static void dispatch(weft_loop_t *loop, const struct epoll_event *ev)
{
    int fd = ev->data.fd;
    if (fd == loop->evfd) {
        consume_wake(loop);
        return;
    }
    if ((size_t)fd >= loop->nfds)
        return;
    struct fdrec *r = &loop->fds[fd];
    if (r->mode == 2) {
        unsigned what = 0;
        if (ev->events & EPOLLIN)
            what |= WEFT_IO_READ;
        if (ev->events & EPOLLOUT)
            what |= WEFT_IO_WRITE;
        if (ev->events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
            what |= WEFT_IO_CLOSED;
        r->efn(r->earg, what);
    } else if (r->mode == 1) {
        dispatch_level(loop, fd, ev->events);
    }
}

void weft__io_poll(weft_loop_t *loop, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    if (timeout_ms != 0) {
        atomic_store(&loop->sleeping, 1);
        WEFT_CHAOS_POINT(); /* announced asleep, queue not yet looked at */
        /* seq_cst both: the check half of the pairs with a producer's
         * count and a stopper's flag (see above). */
        if (atomic_load(&loop->tsq_count) || atomic_load(&loop->stopping))
            timeout_ms = 0;
    }
    int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout_ms);
    WEFT_CHAOS_POINT(); /* awake, not yet said so */
    atomic_store_explicit(&loop->sleeping, 0, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        dispatch(loop, &evs[i]);
}

/* ----- File descriptors ----- */

static int fdrec_reserve(weft_loop_t *loop, int fd)
{
    if ((size_t)fd < loop->nfds)
        return 0;
    size_t n = loop->nfds ? loop->nfds : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct fdrec *fds = realloc(loop->fds, n * sizeof *fds);
    if (fds == NULL)
        return weft_fail(WEFT_ENOMEM, "loop: no memory for fd %d", fd);
    memset(fds + loop->nfds, 0, (n - loop->nfds) * sizeof *fds);
    loop->fds = fds;
    loop->nfds = n;
    return 0;
}

/* Tell epoll what fd's record now asks for. The record may be stale (the
 * fd closed and reused without being removed): MOD and ADD fall back on
 * each other. */
static int fd_sync(weft_loop_t *loop, int fd, uint32_t want)
{
    struct fdrec *r = &loop->fds[fd];
    struct epoll_event ev = {.events = want, .data.fd = fd};
    int rc = 0;
    if (want == 0) {
        if (r->events)
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, &ev);
    } else if (r->events) {
        rc = epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
        if (rc && errno == ENOENT)
            rc = epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
    } else {
        rc = epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
        if (rc && errno == EEXIST)
            rc = epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    if (rc)
        return weft_fail(WEFT_ESYS, "loop: epoll_ctl on fd %d: %s", fd,
                         strerror(errno));
    r->events = want;
    return 0;
}

static int check_fd(weft_loop_t *loop, int fd, const void *fn)
{
    if (fd < 0 || fd == loop->evfd || fd == loop->epfd)
        return weft_fail(WEFT_EINVAL, "loop: bad file descriptor %d", fd);
    if (fn == NULL)
        return weft_fail(WEFT_EINVAL, "loop: NULL callback for fd %d", fd);
    return fdrec_reserve(loop, fd);
}

int weft__fd_reader(weft_loop_t *loop, int fd, weft_callback fn, void *arg,
                    int write)
{
    int rc = check_fd(loop, fd, (const void *)fn);
    if (rc)
        return rc;
    struct fdrec *r = &loop->fds[fd];
    if (r->mode == 2)
        return weft_fail(WEFT_EINVAL,
                         "loop: fd %d is watched edge-"
                         "triggered",
                         fd);
    uint32_t want =
        (r->rfn || !write ? EPOLLIN : 0) | (r->wfn || write ? EPOLLOUT : 0);
    rc = fd_sync(loop, fd, want);
    if (rc)
        return rc;
    r->mode = 1;
    if (write) {
        r->wfn = fn;
        r->warg = arg;
    } else {
        r->rfn = fn;
        r->rarg = arg;
    }
    return 0;
}

int weft_loop_add_reader(weft_loop_t *loop, int fd, weft_callback fn, void *arg)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_add_reader");
    return weft__fd_reader(loop, fd, fn, arg, 0);
}

int weft_loop_add_writer(weft_loop_t *loop, int fd, weft_callback fn, void *arg)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_add_writer");
    return weft__fd_reader(loop, fd, fn, arg, 1);
}

static int remove_side(weft_loop_t *loop, int fd, int write)
{
    if (fd < 0 || (size_t)fd >= loop->nfds || loop->fds[fd].mode != 1 ||
        (write ? loop->fds[fd].wfn : loop->fds[fd].rfn) == NULL)
        return weft_fail(WEFT_EKEY, "loop: no %s for fd %d",
                         write ? "writer" : "reader", fd);
    struct fdrec *r = &loop->fds[fd];
    if (write)
        r->wfn = NULL;
    else
        r->rfn = NULL;
    uint32_t want = (r->rfn ? EPOLLIN : 0) | (r->wfn ? EPOLLOUT : 0);
    fd_sync(loop, fd, want);
    if (want == 0)
        r->mode = 0;
    return 0;
}

int weft_loop_remove_reader(weft_loop_t *loop, int fd)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_remove_reader");
    return remove_side(loop, fd, 0);
}

int weft_loop_remove_writer(weft_loop_t *loop, int fd)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_remove_writer");
    return remove_side(loop, fd, 1);
}

int weft_loop_watch_fd(weft_loop_t *loop, int fd, weft_io_callback fn,
                       void *arg)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_watch_fd");
    int rc = check_fd(loop, fd, (const void *)fn);
    if (rc)
        return rc;
    struct fdrec *r = &loop->fds[fd];
    if (r->mode == 1)
        return weft_fail(WEFT_EINVAL, "loop: fd %d has a reader or writer", fd);
    rc = fd_sync(loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    if (rc)
        return rc;
    r->mode = 2;
    r->efn = fn;
    r->earg = arg;
    return 0;
}

int weft_loop_unwatch_fd(weft_loop_t *loop, int fd)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_unwatch_fd");
    if (fd < 0 || (size_t)fd >= loop->nfds || loop->fds[fd].mode != 2)
        return weft_fail(WEFT_EKEY, "loop: fd %d is not watched", fd);
    fd_sync(loop, fd, 0);
    loop->fds[fd].mode = 0;
    loop->fds[fd].efn = NULL;
    return 0;
}
