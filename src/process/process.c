/* SPDX-License-Identifier: MIT */
/* Process: multiprocessing.Process.
 *
 * States: NEW (made, not started), STARTED (a child exists), DONE (the child
 * ended and was reaped: exitcode known), CLOSED (resources released). Each
 * change happens under the handle's lock; reading the state does not take
 * it. A child is reaped exactly once: whoever takes the lock first and finds
 * it STARTED and its sentinel readable collects the status; the others then
 * find DONE.
 *
 * Waiting (join) happens outside the lock: the waiter polls the descriptor
 * that turns readable when the child ends (the pidfd; for a fork-server
 * child, the channel the server reports the status on), then takes the lock
 * to reap.
 */
#include "base/check.h"
#include "process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weft/log.h"

static int state_of(const weft_process_t *p)
{
    return atomic_load_explicit(&((weft_process_t *)p)->state,
                                memory_order_acquire);
}

static void set_state(weft_process_t *p, int state)
{
    /* Release: pairs with the acquire in state_of(). */
    atomic_store_explicit(&p->state, state, memory_order_release);
}

/* ----- Creation ----- */

static int make(weft_process_t **out, int method, weft_process_fn target,
                const void *arg, size_t len, const weft_process_opts_t *opts)
{
    weft_process_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_process_new: no memory");
    atomic_init(&p->refs, 1);
    weft_lock_init(&p->lock);
    p->kind = KIND_CHILD;
    p->method = method;
    p->target = target;
    p->daemon = opts ? opts->daemon != 0 : 0;
    p->pidfd = p->status_fd = -1;
    p->identity = weft__next_identity();
    if (opts && opts->name)
        p->name = strdup(opts->name);
    else if (p->identity && asprintf(&p->name, "Process-%s", p->identity) < 0)
        p->name = NULL;
    if (p->identity == NULL || p->name == NULL ||
        (len && weft_bytes_copy(&p->arg, arg, len) != 0)) {
        weft_process_free(p);
        return weft_fail(WEFT_ENOMEM, "weft_process_new: no memory");
    }
    *out = p;
    return 0;
}

int weft_context_process_new(weft_context_t *ctx, weft_process_t **out,
                             weft_process_fn target, const void *arg,
                             size_t len, const weft_process_opts_t *opts)
{
    if (ctx == NULL || out == NULL || target == NULL || (!arg && len))
        return weft_fail(WEFT_EINVAL, "weft_process_new: %s",
                         target ? "NULL context, out, or argument"
                                : "NULL target");
    return make(out, ctx->method, target, arg, len, opts);
}

int weft_process_new(weft_process_t **out, weft_process_fn target,
                     const void *arg, size_t len,
                     const weft_process_opts_t *opts)
{
    weft_context_t *ctx;
    weft_get_context(&ctx, NULL);
    return weft_context_process_new(ctx, out, target, arg, len, opts);
}

weft_process_t *weft_process_ref(weft_process_t *p)
{
    WEFT_REFUSE_NULL_OR(p, NULL);
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

static void release_resources(weft_process_t *p)
{
    if (p->pidfd >= 0)
        close(p->pidfd);
    if (p->status_fd >= 0)
        close(p->status_fd);
    p->pidfd = p->status_fd = -1;
}

void weft_process_free(weft_process_t *p)
{
    if (p == NULL || p->kind != KIND_CHILD)
        return;
    /* Acq_rel: the last dropper sees every write made under the others. */
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    release_resources(p);
    for (size_t i = 0; i < p->n_old_names; i++)
        free(p->old_names[i]);
    free(p->old_names);
    free(p->name);
    free(p->identity);
    free(p->fds);
    weft_bytes_free(&p->arg);
    free(p);
}

/* ----- Passing descriptors ----- */

static int fcntl_ok(int fd)
{
    return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

static int add_fd(weft_process_t *p, int fd)
{
    for (size_t i = 0; i < p->n_fds; i++)
        if (p->fds[i] == fd)
            return 0;
    int *fds = realloc(p->fds, (p->n_fds + 1) * sizeof *fds);
    if (fds == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_process_pass: no memory");
    fds[p->n_fds++] = fd;
    p->fds = fds;
    return 0;
}

static int check_passable(const weft_process_t *p, int fd)
{
    if (p == NULL || p->kind != KIND_CHILD)
        return weft_fail(WEFT_EINVAL, "weft_process_pass: not a child");
    if (state_of(p) != ST_NEW)
        return weft_fail(WEFT_ESTATE, "pass descriptors before start");
    if (fd < 3 || fcntl_ok(fd) != 0)
        return weft_fail(WEFT_EINVAL,
                         "descriptor %d cannot be passed (below 3 or not "
                         "open)",
                         fd);
    return 0;
}

int weft_process_pass_fd(weft_process_t *p, int fd)
{
    int rc = check_passable(p, fd);
    if (rc)
        return rc;
    weft_lock_acquire(&p->lock, WEFT_FOREVER);
    rc = add_fd(p, fd);
    weft_lock_release(&p->lock);
    return rc;
}

int weft_process_pass(weft_process_t *p, const weft_share_t *h)
{
    WEFT_REFUSE_NULL(p);
    if (h == NULL || h->nfds > WEFT_SHARE_MAX_FDS)
        return weft_fail(WEFT_EINVAL, "weft_process_pass: bad share");
    for (uint32_t i = 0; i < h->nfds; i++) {
        int rc = weft_process_pass_fd(p, h->fds[i]);
        if (rc)
            return rc;
    }
    return 0;
}

const weft_share_t *weft_arg_share(const weft_bytes_t *arg, size_t index)
{
    WEFT_REFUSE_NULL_OR(arg, NULL);
    if (arg == NULL || arg->data == NULL ||
        arg->len / sizeof(weft_share_t) <= index)
        return NULL;
    return (const weft_share_t *)arg->data + index;
}

/* ----- Start ----- */

static int start_with(weft_process_t *p, int method)
{
    struct weft__child_spec spec;
    int rc = weft__spec_for(&spec, p, method);
    if (rc)
        return rc;
    switch (method) {
    case METHOD_FORK:
        rc = weft__start_fork(p, &spec);
        break;
    case METHOD_SPAWN:
        rc = weft__start_spawn(p, &spec);
        break;
    default:
        rc = weft__start_forkserver(p, &spec);
    }
    weft__spec_clear(&spec);
    return rc;
}

static int check_startable(const weft_process_t *p)
{
    if (p == NULL || p->kind != KIND_CHILD)
        return weft_fail(WEFT_EINVAL, "weft_process_start: not a child");
    if (state_of(p) != ST_NEW)
        return weft_fail(WEFT_ESTATE, "processes can only be started once");
    if (weft__current_daemon())
        return weft_fail(WEFT_ESTATE,
                         "daemonic processes are not allowed to have "
                         "children");
    return 0;
}

/* A child started without a pidfd (pidfd_open missing) gets a watcher's
 * pipe as its sentinel. */
static void watch_without_pidfd(weft_process_t *p)
{
    if (p->pidfd >= 0)
        return;
    int is_pidfd = 0;
    p->pidfd = p->status_fd >= 0 ? weft__sentinel_of_channel(p->status_fd)
                                 : weft__sentinel_of_child(p->pid, &is_pidfd);
    p->watched = p->pidfd >= 0 && !is_pidfd;
}

int weft_process_start(weft_process_t *p)
{
    int rc = check_startable(p);
    if (rc)
        return rc;
    weft__entry_anchor();
    weft__children_reap_finished();
    weft__children_install_exit_handler();
    weft_lock_acquire(&p->lock, WEFT_FOREVER);
    if (state_of(p) != ST_NEW)
        rc = weft_fail(WEFT_ESTATE, "processes can only be started once");
    else {
        if (p->method == METHOD_DEFAULT)
            p->method = weft__default_method();
        rc = start_with(p, p->method);
        if (rc == 0)
            watch_without_pidfd(p);
    }
    if (rc == 0)
        set_state(p, ST_STARTED);
    weft_lock_release(&p->lock);
    if (rc == 0)
        weft__children_add(p);
    return rc;
}

/* ----- Reaping ----- */

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The descriptor that turns readable when the child has ended. A
 * watcher's pipe comes last (after a fork server's report, for its
 * children): waiting on it, a join returns with the sentinel readable, as
 * with a pidfd. */
static int end_fd(const weft_process_t *p)
{
    return p->status_fd >= 0 && !p->watched ? p->status_fd : p->pidfd;
}

static int ended(const weft_process_t *p)
{
    int fd = end_fd(p);
    if (fd < 0) {
        siginfo_t si;
        si.si_pid = 0;
        return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
                   0 &&
               si.si_pid != 0;
    }
    struct pollfd pf = {fd, POLLIN, 0};
    return poll(&pf, 1, 0) == 1;
}

static int code_of(const siginfo_t *si)
{
    return si->si_code == CLD_EXITED ? si->si_status : -si->si_status;
}

/* Under p->lock, with the child ended: collect its status. */
static void reap_locked(weft_process_t *p)
{
    int code = 255;
    if (p->status_fd >= 0) {
        weft__forkserver_reap(p, &code);
    } else {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int r;
        do
            r = p->pidfd >= 0 && !p->watched
                    ? waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED)
                    : waitid(P_PID, (id_t)p->pid, &si, WEXITED);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            code = code_of(&si);
    }
    p->exitcode = code;
    set_state(p, ST_DONE);
}

int weft__process_try_reap(weft_process_t *p)
{
    if (state_of(p) != ST_STARTED)
        return state_of(p) != ST_NEW;
    if (!ended(p))
        return 0;
    weft_lock_acquire(&p->lock, WEFT_FOREVER);
    if (state_of(p) == ST_STARTED)
        reap_locked(p);
    weft_lock_release(&p->lock);
    return 1;
}

/* Wait for the child to end, by the deadline. */
static int wait_end(weft_process_t *p, int64_t deadline)
{
    if (end_fd(p) >= 0)
        return weft_park_wait_fd(end_fd(p), POLLIN, deadline);
    /* No pidfd on this kernel: look every few milliseconds. */
    while (!ended(p)) {
        if (deadline != WEFT_NEVER && weft_monotonic_ns() >= deadline)
            return WEFT_ETIMEDOUT;
        int rc = weft_sleep(0.002);
        if (rc)
            return rc;
    }
    return 0;
}

/* ----- Join, is_alive, exitcode ----- */

int weft__parent_join(int64_t deadline);
int weft__parent_alive(void);
int weft__parent_sentinel(void);

static int check_child(const weft_process_t *p, const char *what)
{
    if (p == NULL)
        return weft_fail(WEFT_EINVAL, "%s: NULL process", what);
    if (p->kind != KIND_CHILD)
        return weft_fail(WEFT_ESTATE, "can only %s a child process", what);
    switch (state_of(p)) {
    case ST_NEW:
        return weft_fail(WEFT_ESTATE, "can only %s a started process", what);
    case ST_CLOSED:
        return weft_fail(WEFT_ESTATE, "process object is closed");
    default:
        return 0;
    }
}

int weft_process_join(weft_process_t *p, double timeout)
{
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    if (p && p->kind == KIND_PARENT)
        rc = weft__parent_join(deadline);
    else if ((rc = check_child(p, "join")) == 0 && state_of(p) == ST_STARTED)
        rc = wait_end(p, deadline);
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "join timed out: the process still runs");
    if (rc == WEFT_ECANCELLED)
        return weft_fail(rc, "join cancelled");
    if (rc == 0 && p->kind == KIND_CHILD)
        weft__process_try_reap(p);
    return rc;
}

int weft_process_is_alive(weft_process_t *p)
{
    WEFT_REFUSE_NULL_OR(p, 0);
    if (p == NULL)
        return 0;
    if (p->kind == KIND_CURRENT)
        return 1;
    if (p->kind == KIND_PARENT)
        return weft__parent_alive();
    return state_of(p) == ST_STARTED && !weft__process_try_reap(p);
}

int weft_process_exitcode(weft_process_t *p, int *code)
{
    if (p == NULL || code == NULL)
        return weft_fail(WEFT_EINVAL, "weft_process_exitcode: NULL");
    if (p->kind == KIND_CHILD)
        weft__process_try_reap(p);
    int st = p->kind == KIND_CHILD ? state_of(p) : ST_STARTED;
    if (st != ST_DONE && !(st == ST_CLOSED && p->pid != 0))
        return weft_fail(WEFT_ESTATE, "the process has not ended");
    *code = p->exitcode;
    return 0;
}

/* ----- Signals ----- */

static int send_signal(weft_process_t *p, int sig, const char *what)
{
    int rc = check_child(p, what);
    if (rc)
        return rc;
    weft_lock_acquire(&p->lock, WEFT_FOREVER);
    if (state_of(p) == ST_STARTED) {
        if (p->pidfd >= 0 && !p->watched)
            syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
        else
            kill(p->pid, sig);
    }
    weft_lock_release(&p->lock);
    return 0;
}

int weft_process_terminate(weft_process_t *p)
{
    return send_signal(p, SIGTERM, "terminate");
}

int weft_process_kill(weft_process_t *p)
{
    return send_signal(p, SIGKILL, "kill");
}

int weft_process_close(weft_process_t *p)
{
    if (p == NULL || p->kind != KIND_CHILD)
        return weft_fail(WEFT_EINVAL, "weft_process_close: not a child");
    if (state_of(p) == ST_STARTED && !weft__process_try_reap(p))
        return weft_fail(WEFT_ESTATE, "Cannot close a process while it is "
                                      "still running. You should first "
                                      "call join() or terminate().");
    weft_lock_acquire(&p->lock, WEFT_FOREVER);
    release_resources(p);
    set_state(p, ST_CLOSED);
    weft_lock_release(&p->lock);
    return 0;
}

/* ----- Attributes ----- */

const char *weft_process_name(const weft_process_t *p)
{
    WEFT_REFUSE_NULL_OR(p, NULL);
    return p ? p->name : NULL;
}

int weft_process_set_name(weft_process_t *p, const char *name)
{
    if (p == NULL || name == NULL)
        return weft_fail(WEFT_EINVAL, "weft_process_set_name: NULL");
    char *copy = strdup(name);
    weft_lock_acquire(&p->lock, WEFT_FOREVER);
    char **old =
        copy ? realloc(p->old_names, (p->n_old_names + 1) * sizeof *old) : NULL;
    if (old) {
        old[p->n_old_names++] = p->name;
        p->old_names = old;
        p->name = copy;
        if (p->kind == KIND_CURRENT) /* %(processName)s follows it */
            weft_log_set_process_name(copy);
    }
    weft_lock_release(&p->lock);
    if (old == NULL) {
        free(copy);
        return weft_fail(WEFT_ENOMEM, "weft_process_set_name: no memory");
    }
    return 0;
}

int weft_process_daemon(const weft_process_t *p)
{
    WEFT_REFUSE_NULL_OR(p, 0);
    return p ? p->daemon : 0;
}

int weft_process_set_daemon(weft_process_t *p, int daemon)
{
    if (p == NULL || p->kind != KIND_CHILD)
        return weft_fail(WEFT_EINVAL, "weft_process_set_daemon: not a child");
    if (state_of(p) != ST_NEW)
        return weft_fail(WEFT_ESTATE, "process has already started");
    p->daemon = daemon != 0;
    return 0;
}

int weft_process_pid(const weft_process_t *p)
{
    WEFT_REFUSE_NULL_OR(p, 0);
    if (p && p->kind == KIND_CURRENT)
        return (int)getpid();
    return p ? (int)p->pid : 0;
}

int weft_process_sentinel(const weft_process_t *p)
{
    WEFT_REFUSE_NULL_OR(p, -1);
    if (p && p->kind == KIND_PARENT)
        return weft__parent_sentinel();
    return p ? p->pidfd : -1;
}

const char *weft_process_start_method(const weft_process_t *p)
{
    WEFT_REFUSE_NULL_OR(p, weft__method_name(METHOD_DEFAULT));
    return weft__method_name(p->method);
}
