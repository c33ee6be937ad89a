/* SPDX-License-Identifier: MIT */
/* Sentinels without pidfd_open.
 *
 * A process's sentinel is the descriptor that turns readable when it ends:
 * its pidfd. pidfd_open may be missing: kernels before 5.3, and valgrind up
 * to 3.19 answer ENOSYS. WEFT_NO_PIDFD=1 in the environment makes weft act
 * as if it were (the tests run the process and process-pool cases over this
 * path that way; a child inherits the setting).
 *
 * Without it, the sentinel is the read end of a pipe whose write end only a
 * watcher thread holds. The watcher waits for the process to end, then
 * closes the write end: from then on the read end reports end of file
 * (POLLIN and POLLHUP, EPOLLHUP in an epoll set), as a pidfd reports its
 * process's end, for as long as it stays open. So every wait built on the
 * sentinel (join with a timeout, a coroutine's wait, the process pool's
 * epoll set) works unchanged.
 *
 * - A child is watched with waitid(WEXITED | WNOWAIT): it returns once the
 *   child has ended and leaves it to be reaped by whoever reaps it (the
 *   handle, by pid). If someone reaped it first, waitid fails with ECHILD:
 *   ended as well.
 * - A parent is not ours to wait for: its watcher looks every 20 ms whether
 *   it is gone (kill(pid, 0) fails with ESRCH) or a zombie.
 * - A fork server's child is not ours either: the server reports its end
 *   on the child's status channel, and the watcher waits until that is
 *   readable (the report, or the server's end of it closing).
 *
 * Why the end is never missed nor reported early: the write end is made
 * before the watcher starts and closed only by the watcher, after its
 * wait said the process ended; no other copy of it outlives a fork (next).
 *
 * fork(). A child made by fork() (ours or the program's) would inherit
 * copies of every write end and keep them open after the watcher closed
 * its own, hiding the end. The write ends are listed, and a fork handler
 * closes them all in the child (the watchers are not there). The list's
 * mutex is held from the making of a pipe until it is listed, and by the
 * fork handler across fork(), so no fork copies a write end that the list
 * does not name; a watcher removes its write end from the list and closes
 * it under the mutex, so the number a child closes is never another file's.
 * Both ends are close-on-exec, and exec'd children keep only the
 * descriptors meant for them (launch_linux.c).
 */
#include "process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/chaos.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int *write_ends; /* of the watchers running now */
static size_t n_ends, cap_ends;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
    pthread_mutex_lock(&lock);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

static void after_fork_child(void)
{
    for (size_t i = 0; i < n_ends; i++)
        close(write_ends[i]);
    n_ends = 0;
    pthread_mutex_unlock(&lock);
}

static void install_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int weft__pidfd_missing(void)
{
    const char *no = getenv("WEFT_NO_PIDFD");
    return no && *no && strcmp(no, "0") != 0;
}

/* Set once pidfd_open answered ENOSYS: it is not asked again (valgrind
 * warns at each try). */
static _Atomic int no_pidfd_open;

int weft__pidfd_open(pid_t pid)
{
    if (weft__pidfd_missing() ||
        atomic_load_explicit(&no_pidfd_open, memory_order_relaxed)) {
        errno = ENOSYS;
        return -1;
    }
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0 && errno == ENOSYS)
        atomic_store_explicit(&no_pidfd_open, 1, memory_order_relaxed);
    return fd;
}

/* Under lock: list fd. */
static int list_end(int fd)
{
    if (n_ends == cap_ends) {
        size_t cap = cap_ends ? cap_ends * 2 : 8;
        int *ends = realloc(write_ends, cap * sizeof *ends);
        if (ends == NULL)
            return -1;
        write_ends = ends;
        cap_ends = cap;
    }
    write_ends[n_ends++] = fd;
    return 0;
}

/* The watcher's end: unlist its write end and close it, under the lock. */
static void watch_over(int fd)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_ends; i++)
        if (write_ends[i] == fd) {
            write_ends[i] = write_ends[--n_ends];
            break;
        }
    close(fd);
    pthread_mutex_unlock(&lock);
}

/* The pid and the write end travel in the thread's argument itself, so
 * that a watcher that never ends holds no allocation. */
static void *pack(pid_t pid, int fd)
{
    return (void *)(((uintptr_t)(uint32_t)pid << 32) | (uint32_t)fd);
}

static void unpack(void *arg, pid_t *pid, int *fd)
{
    *pid = (pid_t)(uint32_t)((uintptr_t)arg >> 32);
    *fd = (int)(uint32_t)(uintptr_t)arg;
}

static void *watch_child(void *arg)
{
    pid_t pid;
    int fd;
    unpack(arg, &pid, &fd);
    siginfo_t si;
    int r;
    do
        r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    while (r < 0 && errno == EINTR);
    WEFT_CHAOS_POINT(); /* ended, the sentinel not yet readable */
    watch_over(fd);
    return NULL;
}

int weft__pid_gone(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    /* "pid (comm) S ...": the state follows the last ')'. */
    int c, last = 0;
    while ((c = fgetc(f)) != EOF && c != '\n')
        if (last == ')' && c != ' ')
            state = (char)c, last = 0;
        else if (c == ')')
            last = c, state = 0;
    fclose(f);
    return state == 'Z' || state == 'X';
}

static void *watch_parent(void *arg)
{
    pid_t pid;
    int fd;
    unpack(arg, &pid, &fd);
    const struct timespec tick = {0, 20 * 1000 * 1000};
    while (!weft__pid_gone(pid))
        nanosleep(&tick, NULL);
    watch_over(fd);
    return NULL;
}

/* A pipe, its write end listed, and a detached watcher thread (every
 * signal blocked) that closes it once pid has ended; the read end, or -1
 * with errno set. */
static int start_watcher(pid_t pid, void *(*watcher)(void *))
{
    pthread_once(&atfork_once, install_atfork);
    int fds[2];
    pthread_mutex_lock(&lock);
    if (pipe2(fds, O_CLOEXEC) < 0) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    int err = list_end(fds[1]) ? ENOMEM : 0;
    pthread_attr_t attr;
    sigset_t all, old;
    sigfillset(&all);
    if (err == 0 && (err = pthread_attr_init(&attr)) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_t t;
        err = pthread_create(&t, &attr, watcher, pack(pid, fds[1]));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (err)
            n_ends--; /* listed last, under the lock held since */
    }
    if (err) {
        close(fds[0]);
        close(fds[1]);
    }
    pthread_mutex_unlock(&lock);
    if (err) {
        errno = err;
        return -1;
    }
    return fds[0];
}

int weft__sentinel_of_child(pid_t pid, int *is_pidfd)
{
    int fd = weft__pidfd_open(pid);
    *is_pidfd = fd >= 0;
    return fd >= 0 ? fd : start_watcher(pid, watch_child);
}

/* A fork-server child's end shows on its status channel, which the reap
 * then reads: the watcher waits on a copy of it (its own, so that the
 * number stays its file whoever closes the original) and turns the end
 * into a sentinel that stays readable. */
static void *watch_channel(void *arg)
{
    pid_t chan;
    int fd;
    unpack(arg, &chan, &fd);
    struct pollfd pf = {(int)chan, POLLIN, 0};
    while (poll(&pf, 1, -1) < 0 && errno == EINTR)
        ;
    close((int)chan);
    WEFT_CHAOS_POINT(); /* ended, the sentinel not yet readable */
    watch_over(fd);
    return NULL;
}

int weft__sentinel_of_channel(int chan)
{
    int copy = fcntl(chan, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return -1;
    int fd = start_watcher((pid_t)copy, watch_channel);
    if (fd < 0)
        close(copy);
    return fd;
}

int weft__sentinel_of_parent(pid_t pid)
{
    int fd = weft__pidfd_open(pid);
    return fd >= 0 ? fd : start_watcher(pid, watch_parent);
}
