/* SPDX-License-Identifier: MIT */
/* Signals on the loop, through a signalfd.
 *
 * A signal handled by a loop is blocked in the loop's thread, so the kernel
 * keeps it pending there and the loop's signalfd reads it. A process-wide
 * signal may still be delivered to another thread that does not block it;
 * there a small handler passes it on to the loop's thread with pthread_kill
 * (async-signal-safe), where it is blocked and so goes to the signalfd too.
 * The table of owners is global (one loop per signal): written under a
 * mutex, read by the handler through the owned flag, which is set after the
 * thread and cleared before.
 */
#include "base/check.h"
#include "loop_int.h"

#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static weft_loop_t *owner_loop[NSIG];
static pthread_t owner_thread[NSIG];
static volatile sig_atomic_t owned[NSIG];
static struct sigaction previous[NSIG];
static int was_blocked[NSIG];

static void pass_on(int sig)
{
    int saved = errno;
    if (sig > 0 && sig < NSIG && owned[sig])
        pthread_kill(owner_thread[sig], sig);
    errno = saved;
}

static int read_signals(void *arg)
{
    weft_loop_t *loop = arg;
    struct signalfd_siginfo si;
    while (read(loop->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig > 0 && sig < NSIG && loop->signals[sig].fn)
            run_callback(loop, loop->signals[sig].fn, loop->signals[sig].arg);
    }
    return 0;
}

static int update_fd(weft_loop_t *loop)
{
    int fd = signalfd(loop->sigfd, &loop->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "signalfd: %s", strerror(errno));
    if (loop->sigfd < 0) {
        int rc = weft_loop_add_reader(loop, fd, read_signals, loop);
        if (rc) {
            close(fd);
            return rc;
        }
    }
    loop->sigfd = fd;
    return 0;
}

static int check_signal(weft_loop_t *loop, int sig)
{
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
        return weft_fail(WEFT_EINVAL, "add_signal_handler: bad signal %d", sig);
    if (owned[sig] && owner_loop[sig] != loop)
        return weft_fail(WEFT_EEXIST, "signal %d is handled by another loop",
                         sig);
    return 0;
}

/* Block sig here and send it here from elsewhere; with table_lock held. */
static int take_signal(int sig)
{
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_BLOCK, &one, &old);
    was_blocked[sig] = sigismember(&old, sig);
    owner_thread[sig] = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pass_on;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, &previous[sig]) != 0) {
        int e = errno;
        if (!was_blocked[sig])
            pthread_sigmask(SIG_UNBLOCK, &one, NULL);
        return weft_fail(WEFT_ESYS, "sigaction(%d): %s", sig, strerror(e));
    }
    owned[sig] = 1;
    return 0;
}

static void give_back(int sig)
{
    owned[sig] = 0;
    sigaction(sig, &previous[sig], NULL);
    if (!was_blocked[sig]) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    }
}

int weft_loop_add_signal_handler(weft_loop_t *loop, int sig, weft_callback fn,
                                 void *arg)
{
    LOOP_OWN_THREAD(loop, "weft_loop_add_signal_handler");
    if (fn == NULL)
        return weft_fail(WEFT_EINVAL, "add_signal_handler: NULL callback");
    pthread_mutex_lock(&table_lock);
    int rc = check_signal(loop, sig);
    if (rc == 0 && !owned[sig]) {
        rc = take_signal(sig);
        if (rc == 0) {
            owner_loop[sig] = loop;
            sigaddset(&loop->sigmask, sig);
            rc = update_fd(loop);
            if (rc) {
                sigdelset(&loop->sigmask, sig);
                give_back(sig);
                owner_loop[sig] = NULL;
            }
        }
    }
    if (rc == 0) {
        loop->signals[sig].fn = fn;
        loop->signals[sig].arg = arg;
    }
    pthread_mutex_unlock(&table_lock);
    return rc;
}

int weft_loop_remove_signal_handler(weft_loop_t *loop, int sig)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_remove_signal_handler");
    pthread_mutex_lock(&table_lock);
    if (sig <= 0 || sig >= NSIG || !owned[sig] || owner_loop[sig] != loop) {
        pthread_mutex_unlock(&table_lock);
        return weft_fail(WEFT_EKEY,
                         "remove_signal_handler: no handler for "
                         "signal %d",
                         sig);
    }
    loop->signals[sig].fn = NULL;
    sigdelset(&loop->sigmask, sig);
    give_back(sig);
    owner_loop[sig] = NULL;
    signalfd(loop->sigfd, &loop->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
    pthread_mutex_unlock(&table_lock);
    return 0;
}

void weft__signals_destroy(weft_loop_t *loop)
{
    if (loop->sigfd < 0)
        return;
    for (int sig = 1; sig < NSIG; sig++)
        if (loop->signals[sig].fn)
            weft_loop_remove_signal_handler(loop, sig);
    weft_loop_remove_reader(loop, loop->sigfd);
    close(loop->sigfd);
    loop->sigfd = -1;
}
