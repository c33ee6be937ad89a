/* SPDX-License-Identifier: MIT */
/* Ctrl-C: the first SIGINT cancels what the pools have not started and
 * stops their workers, once; then the signal takes its usual effect.
 *
 * The handler is installed only over the default disposition, with
 * SA_RESETHAND, so it runs once and a second SIGINT ends the process at
 * once. All it does is write an eventfd that every pool's epoll set
 * watches; the eventfd is never read, so it stays readable and each pool
 * sees it once (and stops watching it). When the last pool has stopped its
 * workers, SIGINT is sent again, to the process, with the default
 * disposition back in place.
 *
 * The eventfd is closed when the last pool goes. A handler may be running
 * on another thread at that moment: it counts itself in in_handler before
 * it reads the descriptor, and the closer waits for that count to fall to
 * 0 after taking the descriptor away, so no write lands on a reused
 * number. */
#include "procpool_int.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static weft_lock_t reg_lock = WEFT_LOCK_INIT;
static size_t registered, stopped;
static int installed;
static _Atomic int sig_fd = -1;
static _Atomic int seen;
static _Atomic int in_handler;

static void on_sigint(int sig)
{
    int saved = errno;
    atomic_fetch_add(&in_handler, 1);
    atomic_store(&seen, 1);
    int fd = atomic_load(&sig_fd);
    if (fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(fd, &one, sizeof one);
        (void)n;
    }
    atomic_fetch_sub(&in_handler, 1);
    errno = saved;
}

int weft__pp_sigint_seen(void)
{
    return atomic_load(&seen);
}

/* Under reg_lock: install the handler if SIGINT has its default. */
static void install(void)
{
    struct sigaction cur;
    if (sigaction(SIGINT, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
        cur.sa_handler != SIG_DFL)
        return;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return;
    atomic_store(&sig_fd, fd);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    installed = 1;
}

/* Under reg_lock: put the default back if the handler is still ours, and
 * close the eventfd once no handler can be writing it. */
static void uninstall(void)
{
    struct sigaction cur;
    if (sigaction(SIGINT, NULL, &cur) == 0 && cur.sa_handler == on_sigint)
        signal(SIGINT, SIG_DFL);
    int fd = atomic_exchange(&sig_fd, -1);
    while (atomic_load(&in_handler) != 0)
        sched_yield();
    if (fd >= 0)
        close(fd);
    installed = 0;
}

int weft__pp_sigint_register(struct pp *pp)
{
    weft_lock_acquire_shielded(&reg_lock);
    if (registered == 0 && !installed)
        install();
    int fd = atomic_load(&sig_fd);
    int rc = 0;
    if (fd >= 0) {
        struct epoll_event ev = {
            EPOLLIN, {.u64 = weft__pp_ev(EV_SIGINT, 0, (uint32_t)fd)}};
        if (epoll_ctl(pp->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            rc = weft_fail(WEFT_ESYS, "epoll_ctl: %s", strerror(errno));
    }
    if (rc == 0) {
        registered++;
        pp->sigint_registered = 1;
    } else if (registered == 0 && installed) {
        uninstall();
    }
    weft_lock_release(&reg_lock);
    return rc;
}

void weft__pp_sigint_unregister(struct pp *pp)
{
    weft_lock_acquire_shielded(&reg_lock);
    registered--;
    if (pp->interrupted && stopped > 0)
        stopped--;
    pp->sigint_registered = 0;
    if (registered == 0 && installed)
        uninstall();
    weft_lock_release(&reg_lock);
}

void weft__pp_sigint_done(struct pp *pp)
{
    weft_lock_acquire_shielded(&reg_lock);
    int all = ++stopped >= registered;
    weft_lock_release(&reg_lock);
    if (!all)
        return;
    /* Every pool has stopped: SIGINT now does what it would have done. */
    signal(SIGINT, SIG_DFL);
    kill(getpid(), SIGINT);
}
