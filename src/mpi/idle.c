/* SPDX-License-Identifier: MIT */
/* Waiting without spinning: the back-off of a progress thread.
 *
 * MPI gives no descriptor to sleep on, so a progress thread with traffic
 * in flight probes, and between probes sleeps a little longer each time
 * nothing came: first a few sched_yield() (which also lets the other
 * ranks of an oversubscribed machine run), then 1 us, 2 us, ... up to
 * 1 ms. The sleep is a poll() on the thread's eventfd, so that a thread
 * that hands it work (a submission, a result to send) wakes it at once.
 * The thread's timer slack is set to 1 us, since Linux otherwise stretches
 * a short sleep by 50 us.
 *
 * No wake is lost: the eventfd counts writes until the sleeper reads it,
 * and the sleeper reads it only after poll() saw it readable, so a write
 * made while the sleeper was busy makes its next poll() return at once. */
#include "mpi_int.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define YIELDS 8
#define SLEEP_MAX_NS 1000000

int weft__mpi_idle_init(struct weft__mpi_idle *w)
{
    w->step = 0;
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0)
        return weft_fail(WEFT_ESYS, "eventfd: %s", strerror(errno));
    return 0;
}

void weft__mpi_idle_destroy(struct weft__mpi_idle *w)
{
    if (w->efd >= 0)
        close(w->efd);
    w->efd = -1;
}

void weft__mpi_idle_wake(struct weft__mpi_idle *w)
{
    uint64_t one = 1;
    WEFT_CHAOS_POINT();
    while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

void weft__mpi_idle_thread_setup(void)
{
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
}

static void sleep_ns(int efd, int64_t ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    if (efd < 0) {
        nanosleep(&ts, NULL);
        return;
    }
    struct pollfd p = {efd, POLLIN, 0};
    if (ppoll(&p, 1, ns == WEFT_NEVER ? NULL : &ts, NULL) > 0) {
        uint64_t v;
        WEFT_CHAOS_POINT(); /* seen readable, not read yet */
        while (read(efd, &v, sizeof v) < 0 && errno == EINTR)
            ;
    }
}

void weft__mpi_idle_wait(struct weft__mpi_idle *w, int64_t max_ns, int block)
{
    if (max_ns < 0)
        max_ns = 0;
    if (block) {
        sleep_ns(w->efd, max_ns);
        w->step = 0;
        return;
    }
    unsigned s = w->step++;
    if (s < YIELDS) {
        sched_yield();
        return;
    }
    s -= YIELDS;
    int64_t ns = s >= 10 ? SLEEP_MAX_NS : (int64_t)1000 << s;
    if (ns > SLEEP_MAX_NS)
        ns = SLEEP_MAX_NS;
    if (max_ns < ns)
        ns = max_ns;
    if (w->step > YIELDS + 11)
        w->step = YIELDS + 11;
    sleep_ns(w->efd, ns);
}
