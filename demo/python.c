/* SPDX-License-Identifier: MIT */
/* The Python side: finding an interpreter and the seeds' programs
 * (examples/python/), running one under a time limit, and reading the
 * "result" lines it prints (tab-separated key=value fields). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo.h"

extern char **environ;

/* ----- Running a program, its output captured ----- */

struct capture {
    char *data;
    size_t len, cap;
};

static void capture_add(struct capture *c, const char *buf, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *p = realloc(c->data, cap);
        if (p == NULL)
            return;
        c->data = p;
        c->cap = cap;
    }
    memcpy(c->data + c->len, buf, n);
    c->len += n;
    c->data[c->len] = '\0';
}

/* Read fds[0] into out and fds[1] into err until both end or the
 * deadline passes; returns 0, or -1 at the deadline. */
static int drain(int fds[2], struct capture *out, struct capture *err,
                 double deadline)
{
    struct capture *into[2] = {out, err};
    int open = 2;
    while (open > 0) {
        double left = deadline - weft_monotonic();
        if (left <= 0)
            return -1;
        struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        int n = poll(p, 2, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            char buf[4096];
            ssize_t got = read(fds[i], buf, sizeof buf);
            if (got > 0) {
                capture_add(into[i], buf, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close(fds[i]);
                fds[i] = -1;
                open--;
            }
        }
    }
    return 0;
}

static void last_line(const char *text, char *note, size_t size)
{
    if (text == NULL || *text == '\0')
        return;
    const char *end = text + strlen(text);
    while (end > text && end[-1] == '\n')
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(note, size, "%.*s", (int)(end - start), start);
}

/* The process group of the program running now, so that a ^C (or a
 * SIGTERM) that ends weft-demo ends it too: it runs in a group of its own,
 * which the terminal's signals do not reach. */
static volatile sig_atomic_t running_group;

static void end_with_us(int sig)
{
    if (running_group > 0)
        kill(-running_group, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void forward_signals(void)
{
    static int done;
    if (done++)
        return;
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa = {.sa_handler = end_with_us};
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(sigs[i], &sa, NULL);
    }
}

/* Start argv in a process group of its own, stdin from /dev/null, stdout
 * and stderr into pipes whose reading ends go to fds. Returns the pid, or
 * -1 with note saying why. */
static pid_t spawn_captured(char *const *argv, int fds[2], char *note,
                            size_t note_size)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(po[1]);
    close(pe[1]);
    fds[0] = po[0];
    fds[1] = pe[0];
    if (err == 0)
        return pid;
    demo_note(note, note_size, "cannot run %s: %s", argv[0], strerror(err));
    close(po[0]);
    close(pe[0]);
    return -1;
}

int demo_run(char *const *argv, double limit, char **out, char *note,
             size_t note_size)
{
    forward_signals();
    int fds[2];
    pid_t pid = spawn_captured(argv, fds, note, note_size);
    if (pid < 0) {
        *out = strdup("");
        return -1;
    }
    running_group = pid;
    struct capture o = {0}, e = {0};
    int late = drain(fds, &o, &e, weft_monotonic() + limit);
    if (late)
        kill(-pid, SIGKILL);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* what the program left behind */
    running_group = 0;
    *out = o.data ? o.data : strdup("");
    if (late)
        demo_note(note, note_size, "stopped after %.0f s", limit);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        last_line(e.data, note, note_size);
    free(e.data);
    return !late && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ----- Finding Python ----- */

static int executable(const char *path)
{
    return access(path, X_OK) == 0;
}

int demo_which(const char *name, char *buf, size_t size)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return 0;
    char copy[4096];
    demo_copy(copy, sizeof copy, path);
    for (char *save, *dir = strtok_r(copy, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        snprintf(buf, size, "%s/%s", *dir ? dir : ".", name);
        if (executable(buf))
            return 1;
    }
    return 0;
}

static int file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The programs: $WEFT_DEMO_PYTHON_DIR, else beside an installed weft-demo
 * (PREFIX/share/weft/python), else the source tree it was built from. */
static int find_programs(char *dir, size_t size)
{
    const char *env = getenv("WEFT_DEMO_PYTHON_DIR");
    if (env && *env) {
        demo_copy(dir, size, env);
        return file_exists(dir, "primes.py");
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            demo_note(dir, size, "%s/../share/weft/python", exe);
            if (file_exists(dir, "primes.py"))
                return 1;
        }
    }
#ifdef WEFT_DEMO_SOURCE_PYTHON_DIR
    demo_copy(dir, size, WEFT_DEMO_SOURCE_PYTHON_DIR);
    return file_exists(dir, "primes.py");
#else
    return 0;
#endif
}

static void not_found(python_info_t *p, const char *why)
{
    p->found = 0;
    demo_copy(p->reason, sizeof p->reason, why);
}

void python_find(demo_t *d)
{
    python_info_t *p = &d->python;
    if (d->opts.no_python)
        return not_found(p, "not run (--no-python)");
    if (!find_programs(p->dir, sizeof p->dir))
        return not_found(p, "the Python programs (examples/python) are not "
                            "installed");
    if (d->opts.python)
        demo_copy(p->path, sizeof p->path, d->opts.python);
    else if (executable("/usr/bin/python3"))
        demo_copy(p->path, sizeof p->path, "/usr/bin/python3");
    else if (!demo_which("python3", p->path, sizeof p->path))
        return not_found(p, "python3 is not installed");
    char *argv[] = {p->path, "--version", NULL};
    char *out = NULL, note[160] = "";
    int rc = demo_run(argv, 30, &out, note, sizeof note);
    if (rc != 0 || strncmp(out, "Python 3", 8) != 0) {
        char why[160];
        demo_note(why, sizeof why, "%s does not run: %s", p->path,
                  *note ? note : "no version");
        free(out);
        return not_found(p, why);
    }
    out[strcspn(out, "\n")] = '\0';
    demo_copy(p->version, sizeof p->version, out);
    free(out);
    p->found = 1;
}

int python_run(const demo_t *d, const char *script, const char *const *args,
               double limit, char **out, char *note, size_t note_size)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", d->python.dir, script);
    char *argv[24] = {(char *)d->python.path, "-B", "-u", path};
    size_t n = 4;
    for (; args && *args && n < 23; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    note[0] = '\0';
    return demo_run(argv, limit, out, note, note_size);
}

/* ----- Result lines ----- */

const char *result_field(const char *line, const char *key, char *buf,
                         size_t size)
{
    size_t k = strlen(key);
    for (const char *f = line; f; f = strchr(f, '\t')) {
        if (*f == '\t')
            f++;
        if (strncmp(f, key, k) == 0 && f[k] == '=') {
            const char *v = f + k + 1;
            size_t len = strcspn(v, "\t\n");
            snprintf(buf, size, "%.*s", (int)len, v);
            return buf;
        }
    }
    return NULL;
}

int result_next(const char **pos, char *buf, size_t size)
{
    const char *p = *pos;
    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *next = end ? end + 1 : p + len;
        if (strncmp(p, "result\t", 7) == 0) {
            snprintf(buf, size, "%.*s", (int)len, p);
            *pos = next;
            return 1;
        }
        p = next;
    }
    *pos = p;
    return 0;
}
