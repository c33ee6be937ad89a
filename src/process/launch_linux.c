/* SPDX-License-Identifier: MIT */
/* Starting a fresh copy of the program, and the descriptor work every start
 * method shares.
 *
 * A new process gets exactly the descriptors meant for it, at the numbers
 * meant for it: each one is first copied above every number in play (so no
 * placement can overwrite a descriptor still to be placed), then moved to
 * its number, and everything else from 3 up is closed. Between fork() and
 * exec only async-signal-safe calls are made (the parent may have threads
 * holding malloc's lock), so every array is built before fork().
 */
#include "process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/image.h"

extern char **environ;

/* Close every descriptor from lo to hi (inclusive). */
static void close_span(unsigned lo, unsigned hi)
{
    if (lo > hi)
        return;
    if (syscall(SYS_close_range, lo, hi, 0) == 0)
        return;
    struct rlimit rl;
    unsigned top =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)INT_MAX
            ? (unsigned)rl.rlim_cur
            : 65536;
    for (unsigned fd = lo; fd <= hi && fd < top; fd++)
        close((int)fd);
}

int weft__place_fds(struct weft__fd_move *m, size_t n)
{
    int floor = 3;
    for (size_t i = 0; i < n; i++) {
        if (m[i].src >= floor)
            floor = m[i].src + 1;
        if (m[i].dst >= floor)
            floor = m[i].dst + 1;
    }
    for (size_t i = 0; i < n; i++) {
        m[i].src = fcntl(m[i].src, F_DUPFD_CLOEXEC, floor);
        if (m[i].src < 0)
            return -1;
    }
    unsigned lo = 3;
    for (size_t i = 0; i < n; i++) {
        if (dup2(m[i].src, m[i].dst) < 0)
            return -1;
        if (m[i].cloexec && fcntl(m[i].dst, F_SETFD, FD_CLOEXEC) < 0)
            return -1;
        close_span(lo, (unsigned)m[i].dst - 1);
        lo = (unsigned)m[i].dst + 1;
    }
    close_span(lo, ~0u);
    return 0;
}

/* ----- exec /proc/self/exe ----- */

struct launch {
    struct weft__fd_move *moves;
    size_t n;
    char **env;
    char *argv[2];
    const char *path; /* what to exec: the program again */
    int err_at;     /* where the child reports a failed exec */
    pid_t lifeline; /* the parent to die with (0: none) */
};

static int cmp_dst(const void *a, const void *b)
{
    const struct weft__fd_move *x = a, *y = b;
    return (x->dst > y->dst) - (x->dst < y->dst);
}

/* The environment with name=value added (replacing an inherited one). */
static char **environment_with(const char *name, int value)
{
    size_t n = 0, len = strlen(name);
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(strncmp(environ[i], name, len) == 0 && environ[i][len] == '='))
            env[k++] = environ[i];
    if (asprintf(&env[k], "%s=%d", name, value) < 0) {
        free(env);
        return NULL;
    }
    return env;
}

static int prepare(struct launch *l, const char *env_name, int chan,
                   const struct weft__fd_move *moves, size_t n, int err_w)
{
    l->moves = calloc(n + 2, sizeof *l->moves);
    if (l->moves == NULL)
        return weft_fail(WEFT_ENOMEM, "process start: no memory");
    if (n)
        memcpy(l->moves, moves, n * sizeof *moves);
    int top = 2;
    for (size_t i = 0; i < n; i++)
        if (moves[i].dst > top)
            top = moves[i].dst;
    l->moves[n] = (struct weft__fd_move){chan, top + 1, 0};
    l->moves[n + 1] = (struct weft__fd_move){err_w, top + 2, 1};
    l->err_at = top + 2;
    l->n = n + 2;
    qsort(l->moves, l->n, sizeof *l->moves, cmp_dst);
    l->env = environment_with(env_name, top + 1);
    l->argv[0] = program_invocation_name;
    l->argv[1] = NULL;
    l->path = weft__self_exe();
    if (l->env == NULL) {
        free(l->moves);
        return weft_fail(WEFT_ENOMEM, "process start: no memory");
    }
    return 0;
}

static void release(struct launch *l)
{
    size_t k = 0;
    while (l->env[k])
        k++;
    free(l->env[k - 1]); /* the one entry we made: the last */
    free(l->env);
    free(l->moves);
}

/* The child between fork() and exec: async-signal-safe calls only. The
 * lifeline is asked for before exec (it survives exec), so that the new
 * program's constructors already run under it. */
static void exec_child(void *arg)
{
    struct launch *l = arg;
    if (l->lifeline) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != l->lifeline) /* it died before we asked */
            _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int err = 0;
    if (weft__place_fds(l->moves, l->n) == 0)
        execve(l->path, l->argv, l->env);
    err = errno;
    ssize_t w = write(l->err_at, &err, sizeof err);
    (void)w;
    _exit(127);
}

/* After fork, in the parent: did the child reach exec? */
static int exec_outcome(int err_r, pid_t pid)
{
    int err = 0;
    ssize_t got;
    do
        got = read(err_r, &err, sizeof err);
    while (got < 0 && errno == EINTR);
    if (got <= 0)
        return 0;
    waitpid(pid, NULL, 0);
    return weft_fail(WEFT_ESYS, "could not run /proc/self/exe: %s",
                     strerror(err));
}

int weft__exec_self(const char *env_name, int chan,
                    const struct weft__fd_move *moves, size_t n, int lifeline,
                    pid_t *pid, int *pidfd)
{
    int err[2];
    if (pipe2(err, O_CLOEXEC) < 0)
        return weft_fail(WEFT_ESYS, "pipe2: %s", strerror(errno));
    struct launch l;
    int rc = prepare(&l, env_name, chan, moves, n, err[1]);
    if (rc) {
        close(err[0]);
        close(err[1]);
        return rc;
    }
    l.lifeline = lifeline ? getpid() : 0;
    pid_t child;
    rc = weft__launch(exec_child, &l, &child);
    close(err[1]);
    release(&l);
    if (rc) {
        close(err[0]);
        return rc;
    }
    *pidfd = weft__pidfd_open(child);
    rc = exec_outcome(err[0], child);
    close(err[0]);
    if (rc && *pidfd >= 0)
        close(*pidfd);
    *pid = child;
    return rc;
}

/* ----- Waiting on a descriptor ----- */

int weft__exitcode_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return 255;
}
