/* SPDX-License-Identifier: MIT */
/* The child's side: who the current process is, its parent, the lifeline
 * that ends it when the parent dies, and the entry of a spawned child.
 *
 * Entry. A spawned child (and the fork server) is /proc/self/exe run again
 * with WEFT_SPAWN (or WEFT_FORKSERVER) in its environment, naming the
 * descriptor its specification arrives on. A constructor of this file sees
 * it and becomes the child instead of letting main() run. So that the child
 * starts from the state main() would see, it first runs the constructors
 * that come after it: the rest of its own image's .init_array and, when
 * weft is a shared library (initialized before the program), the program's.
 * Those constructors never run twice: this one never returns.
 *
 * Lifeline. A child asks the kernel for SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG), then checks that the parent is still the process
 * that made it (it may have died before the child asked) and ends at once
 * if not. SIGKILL cannot be blocked, caught or ignored, so whatever the
 * target does with its signals, it ends with its parent; the signal is
 * kept across exec, so a target that becomes another program ends too.
 * The kernel sends it when the *thread* that made the child ends, which is
 * why children are made by the launcher (launcher.c), a thread that ends
 * only with its process. A fork server's children get the same lifeline to
 * the server, which ends with its own parent. A child of weft that must
 * clean up before it goes (the manager's server) asks for a signal it can
 * watch instead (weft_set_parent_death_signal()).
 */
#include "base/check.h"
#include "process_int.h"

#include <errno.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "weft/log.h"
#include "weft/thread.h"

/* ----- The current process and its parent ----- */

static char main_name[] = "MainProcess";
static char no_identity[] = "";

static weft_process_t current = {
    .kind = KIND_CURRENT,
    .name = main_name,
    .identity = no_identity,
    .method = METHOD_DEFAULT,
    .pidfd = -1,
    .status_fd = -1,
};
static weft_process_t parent = {
    .kind = KIND_PARENT,
    .method = METHOD_DEFAULT,
    .pidfd = -1,
    .status_fd = -1,
};
static int have_parent;

static unsigned char authkey[WEFT__AUTHKEY_LEN];
static pthread_once_t authkey_once = PTHREAD_ONCE_INIT;
static _Atomic unsigned child_counter;

weft_process_t *weft_current_process(void)
{
    return &current;
}

weft_process_t *weft_parent_process(void)
{
    return have_parent ? &parent : NULL;
}

const char *weft__current_name(void)
{
    return current.name;
}

const char *weft__current_identity(void)
{
    return current.identity;
}

int weft__current_daemon(void)
{
    return current.daemon;
}

/* The parent's sentinel. Without pidfd_open it is a watcher's pipe, and a
 * watcher is a thread: made only when the sentinel itself is asked for
 * (a forked child of a process with threads cannot start one under
 * ThreadSanitizer); join and is_alive look at the parent directly until
 * then. */
static pthread_mutex_t parent_lock = PTHREAD_MUTEX_INITIALIZER;
static int parent_unwatched; /* no pidfd; a watcher not asked for yet */

static int parent_fd(int make)
{
    pthread_mutex_lock(&parent_lock);
    if (parent_unwatched && make) {
        parent_unwatched = 0;
        parent.pidfd = weft__sentinel_of_parent(parent.pid);
    }
    int fd = parent.pidfd;
    pthread_mutex_unlock(&parent_lock);
    return fd;
}

int weft__parent_sentinel(void)
{
    return parent_fd(1);
}

int weft__parent_join(int64_t deadline)
{
    int fd = parent_fd(0);
    if (fd >= 0)
        return weft_park_wait_fd(fd, POLLIN, deadline);
    while (parent.pid > 0 && !weft__pid_gone(parent.pid)) {
        if (deadline != WEFT_NEVER && weft_monotonic_ns() >= deadline)
            return WEFT_ETIMEDOUT;
        int rc = weft_sleep(0.02);
        if (rc)
            return rc;
    }
    return 0;
}

int weft__parent_alive(void)
{
    int fd = parent_fd(0);
    struct pollfd p = {fd, POLLIN, 0};
    if (fd < 0)
        return parent.pid > 0 && !weft__pid_gone(parent.pid);
    return poll(&p, 1, 0) == 0;
}

static void make_authkey(void)
{
    size_t got = 0;
    while (got < sizeof authkey) {
        ssize_t n = getrandom(authkey + got, sizeof authkey - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            abort(); /* no entropy at all: nothing safe to fall back to */
    }
}

void weft__current_authkey(unsigned char key[WEFT__AUTHKEY_LEN])
{
    pthread_once(&authkey_once, make_authkey);
    memcpy(key, authkey, sizeof authkey);
}

const unsigned char *weft_process_authkey(size_t *len)
{
    WEFT_REFUSE_NULL_OR(len, NULL);
    pthread_once(&authkey_once, make_authkey);
    if (len)
        *len = sizeof authkey;
    return authkey;
}

char *weft__next_identity(void)
{
    unsigned n = atomic_fetch_add(&child_counter, 1) + 1;
    char *id = NULL;
    if (current.identity[0] == '\0')
        return asprintf(&id, "%u", n) < 0 ? NULL : id;
    return asprintf(&id, "%s:%u", current.identity, n) < 0 ? NULL : id;
}

void weft__counter_reset(void)
{
    atomic_store(&child_counter, 0);
}

/* ----- Lifeline ----- */

/* The parent this process dies with (0: none, weft did not start it), and
 * the signal it asked for. Set once, early in the child, before any other
 * thread exists; dropped in any child of fork(), which the kernel gives no
 * parent-death signal (weft's own children then set theirs). */
static pid_t lifeline_parent;
static _Atomic int lifeline_signal;

static void drop_lifeline_in_child(void)
{
    lifeline_parent = 0;
    atomic_store_explicit(&lifeline_signal, 0, memory_order_relaxed);
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, drop_lifeline_in_child);
}

int weft_parent_death_signal(void)
{
    return atomic_load_explicit(&lifeline_signal, memory_order_relaxed);
}

int weft_set_parent_death_signal(int sig)
{
    if (sig <= 0 || sig > SIGRTMAX || sig == SIGSTOP)
        return weft_fail(WEFT_EINVAL, "%d is not a signal to die by", sig);
    if (lifeline_parent == 0)
        return weft_fail(WEFT_ESTATE, "this process has no lifeline: weft "
                                      "did not start it");
    if (prctl(PR_SET_PDEATHSIG, sig) != 0)
        return weft_fail(WEFT_ESYS, "prctl: %s", strerror(errno));
    atomic_store_explicit(&lifeline_signal, sig, memory_order_relaxed);
    if (getppid() != lifeline_parent) /* gone before we asked */
        return weft_fail(WEFT_ESTATE, "the parent is gone");
    return 0;
}

static void set_lifeline(pid_t real_parent)
{
    lifeline_parent = real_parent;
    atomic_store_explicit(&lifeline_signal, SIGKILL, memory_order_relaxed);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != real_parent) /* died before we asked */
        kill(getpid(), SIGKILL);
}

/* ----- Becoming the child ----- */

/* The key came from the parent: mark it made, so it is not drawn anew. */
static void keep_authkey(void)
{
}

static void become(struct weft__child_spec *spec)
{
    /* exec of /proc/self/exe named us "exe", and a fork server's child is
     * named after the server: take the program's name back. */
    prctl(PR_SET_NAME, program_invocation_short_name);
    weft__forget_parent_state();
    current.name = spec->name;
    current.identity = spec->identity;
    current.daemon = spec->daemon;
    memcpy(authkey, spec->authkey, sizeof authkey);
    pthread_once(&authkey_once, keep_authkey);
    parent.name = spec->parent_name;
    parent.pid = (pid_t)spec->parent_pid;
    parent.pidfd = weft__pidfd_open(parent.pid);
    parent_unwatched = parent.pidfd < 0;
    pthread_mutex_init(&parent_lock, NULL); /* held at fork(), perhaps */
    have_parent = 1;
    weft__set_inherited_method(spec->default_method);
    weft_log_set_process_name(spec->name);
    spec->name = spec->identity = spec->parent_name = NULL; /* now ours */
}

/* Python's threading._shutdown in the child: wait for its non-daemon
 * threads before it exits. */
static void join_threads(void)
{
    for (;;) {
        weft_thread_t **list, *t = NULL;
        size_t n;
        if (weft_enumerate(&list, &n) != 0)
            return;
        for (size_t i = 0; i < n && t == NULL; i++)
            if (list[i] != weft_current_thread() &&
                !weft_thread_daemon(list[i]) && weft_thread_is_alive(list[i]))
                t = list[i];
        if (t)
            weft_thread_join(t, WEFT_FOREVER);
        weft_thread_list_free(list, n);
        if (t == NULL)
            return;
    }
}

_Noreturn void weft__child_main(struct weft__child_spec *spec,
                                pid_t real_parent)
{
    set_lifeline(real_parent);
    become(spec);
    if (weft__target_resolve(&spec->target) != 0) {
        fprintf(stderr, "weft: %s cannot run its target: %s\n", current.name,
                weft_last_message());
        _exit(255);
    }
    int status = spec->target.fn(&spec->arg);
    join_threads();
    weft__children_at_exit();
    fflush(NULL);
    _exit(status & 0xff);
}
