/* SPDX-License-Identifier: MIT */
/* The tracker: cleans up the named segments of a creator that ended without
 * unlinking them (SharedMemory's resource tracker, minus its false alarms).
 *
 * Each process that creates a named segment starts its own tracker (a fork
 * child drops the connection it inherited and starts its own when it needs
 * one), so a tracker's creator is exactly one process: the tracker learns
 * it has ended when its socket reads end of file, whatever the manner of
 * the end, SIGKILL included. The creator tells it "+<inode> <name>" before
 * it gives a new segment (inode) its name (segment.c), and "-<inode>
 * <name>" when it unlinks it or could not give the name, one line each (a
 * name holds no newline; it is everything after the first space, so it may
 * hold spaces). Once its creator has ended, the tracker looks at each name
 * left: if /dev/shm/<name> is not that inode (never named, unlinked, and
 * maybe made again by someone else) it forgets it; if some process still
 * maps that inode (it reads every /proc/<pid>/maps, once a round for all
 * names) it looks again 50 ms later; otherwise it unlinks it. When no name
 * is left, it exits. So a segment is never removed while a process still
 * maps it, and never left behind once none does.
 *
 * The tracker is /proc/self/exe run again with WEFT_SHM_TRACKER naming its
 * socket; a constructor of this file sees that and runs the tracker instead
 * of main(). It is a child of its creator, in a session of its own (so a
 * ^C at the terminal does not reach it), ignoring SIGINT, SIGTERM and
 * SIGHUP, as Python's does, and it asks for no parent-death signal: it
 * must outlive its creator. Its name is "weft-tracker".
 */
#include "shm_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/chaos.h"
#include "base/image.h"

#define TRACKER_ENV "WEFT_SHM_TRACKER"
#define TRACKER_FD 3
#define RECHECK_NS 50000000 /* 50 ms */
#define LINE_MAX_LEN 400

extern char **environ;

/* ----- The creator's side ----- */

static weft_lock_t client_lock = WEFT_LOCK_INIT;
static int client_fd = -1;

/* The environment with TRACKER_ENV=TRACKER_FD added; built before fork(). */
static char **tracker_environment(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], TRACKER_ENV "=", sizeof TRACKER_ENV) != 0)
            env[k++] = environ[i];
    env[k] = (char *)TRACKER_ENV "=3";
    return env;
}

/* Between fork() and exec: async-signal-safe calls only. */
static _Noreturn void exec_tracker(int sock, char **env)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    if (sock == TRACKER_FD ? fcntl(sock, F_SETFD, 0) == 0
                           : dup2(sock, TRACKER_FD) == TRACKER_FD) {
        syscall(SYS_close_range, TRACKER_FD + 1, ~0u, 0);
        char *argv[] = {program_invocation_name, NULL};
        execve(weft__self_exe(), argv, env);
    }
    _exit(127);
}

static int start_tracker_locked(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return weft_fail(WEFT_ESYS, "socketpair: %s", strerror(errno));
    char **env = tracker_environment();
    weft__self_exe(); /* resolved before fork(), read after it */
    pid_t pid = env ? fork() : -1;
    if (pid == 0)
        exec_tracker(sv[1], env);
    int err = errno;
    free(env);
    close(sv[1]);
    char ready = 0;
    if (pid > 0 && read(sv[0], &ready, 1) != 1) /* it runs, and is named */
        err = ECHILD;
    if (pid < 0 || ready != 'R') {
        close(sv[0]);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        return weft_fail(WEFT_ESYS, "cannot start the tracker: %s",
                         strerror(err));
    }
    client_fd = sv[0];
    return 0;
}

static int send_line(const char *line)
{
    size_t len = strlen(line);
    ssize_t n;
    do
        n = send(client_fd, line, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : -1;
}

int weft__tracker_register(const char *name, ino_t ino)
{
    char line[LINE_MAX_LEN];
    snprintf(line, sizeof line, "+%llu %s\n", (unsigned long long)ino, name);
    WEFT_CHAOS_POINT(); /* a creator may be killed anywhere around here */
    weft_lock_acquire(&client_lock, WEFT_FOREVER);
    int rc = client_fd < 0 ? start_tracker_locked() : 0;
    if (rc == 0 && send_line(line) != 0) {
        /* The tracker died: start another one for this name on. */
        close(client_fd);
        client_fd = -1;
        rc = start_tracker_locked();
        if (rc == 0 && send_line(line) != 0)
            rc = weft_fail(WEFT_ESYS, "the tracker does not listen");
    }
    weft_lock_release(&client_lock);
    return rc;
}

void weft__tracker_unregister(const char *name, ino_t ino)
{
    char line[LINE_MAX_LEN];
    snprintf(line, sizeof line, "-%llu %s\n", (unsigned long long)ino, name);
    weft_lock_acquire(&client_lock, WEFT_FOREVER);
    if (client_fd >= 0)
        send_line(line);
    weft_lock_release(&client_lock);
}

/* In a child of fork(): the parent's tracker watches the parent alone. */
static void forget_tracker_in_child(void)
{
    if (client_fd >= 0)
        close(client_fd);
    client_fd = -1;
    weft_lock_init(&client_lock);
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_tracker_in_child);
}

/* ----- The tracker itself ----- */

struct tracked {
    char *name;
    unsigned long long ino;
};

static struct tracked *names;
static size_t n_names;

static void track(const char *name, unsigned long long ino)
{
    struct tracked *t = realloc(names, (n_names + 1) * sizeof *t);
    char *copy = strdup(name);
    if (t == NULL || copy == NULL) {
        free(copy);
        return;
    }
    names = t;
    names[n_names++] = (struct tracked){copy, ino};
}

static void forget(size_t i)
{
    free(names[i].name);
    names[i] = names[--n_names];
}

static void untrack(const char *name, unsigned long long ino)
{
    for (size_t i = 0; i < n_names; i++)
        if (names[i].ino == ino && strcmp(names[i].name, name) == 0) {
            forget(i);
            return;
        }
}

/* "+<inode> <name>" or "-<inode> <name>": the name is all after the first
 * space, as is. */
static void take_line(char *line)
{
    char *end;
    if (line[0] != '+' && line[0] != '-')
        return;
    errno = 0;
    unsigned long long ino = strtoull(line + 1, &end, 10);
    if (errno || end == line + 1 || *end != ' ' || end[1] == '\0')
        return;
    if (line[0] == '+')
        track(end + 1, ino);
    else
        untrack(end + 1, ino);
}

/* Read lines until the creator has ended (end of file). */
static void listen_to_creator(int fd)
{
    char buf[LINE_MAX_LEN * 4];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        len += (size_t)n;
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            *nl = '\0';
            take_line(buf);
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len);
        }
        if (len == sizeof buf) /* a line too long to be ours */
            len = 0;
    }
}

static int still_there(const struct tracked *t)
{
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm/%s", t->name);
    return stat(path, &st) == 0 && (unsigned long long)st.st_ino == t->ino;
}

/* Mark in mapped[] each name whose inode a line of /proc/<pid>/maps maps
 * from /dev/shm. */
static void mark_mapped_by(const char *pid, char *mapped)
{
    char path[300], line[1024];
    snprintf(path, sizeof path, "/proc/%s/maps", pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long long inode = 0;
        int at = 0;
        if (sscanf(line, "%*s %*s %*s %*s %llu %n", &inode, &at) != 1 ||
            inode == 0 || strstr(line + at, "/dev/shm/") == NULL)
            continue;
        for (size_t i = 0; i < n_names; i++)
            if (names[i].ino == inode)
                mapped[i] = 1;
    }
    fclose(f);
}

/* mapped[i]: whether some process maps names[i]'s inode. Every one when
 * /proc cannot be read: better late than wrong. */
static void find_mapped(char *mapped)
{
    DIR *d = opendir("/proc");
    memset(mapped, d == NULL, n_names);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
            mark_mapped_by(e->d_name, mapped);
    closedir(d);
}

/* One round over the names left; 0 when none is. */
static int clean_round(void)
{
    char *mapped = malloc(n_names ? n_names : 1);
    if (mapped == NULL)
        return 1; /* try again next round */
    find_mapped(mapped);
    for (size_t i = n_names; i-- > 0;) {
        if (!still_there(&names[i])) {
            forget(i);
        } else if (!mapped[i]) {
            char shm_path[300];
            snprintf(shm_path, sizeof shm_path, "/%s", names[i].name);
            shm_unlink(shm_path);
            forget(i);
        }
    }
    free(mapped);
    return n_names > 0;
}

static void clean_up(void)
{
    while (n_names > 0 && clean_round()) {
        struct timespec ts = {0, RECHECK_NS};
        nanosleep(&ts, NULL);
    }
}

static _Noreturn void tracker_main(int fd)
{
    prctl(PR_SET_NAME, "weft-tracker");
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (write(fd, "R", 1) != 1)
        _exit(1);
    listen_to_creator(fd);
    close(fd);
    clean_up();
    _exit(0);
}

__attribute__((constructor)) static void weft_tracker_entry(void)
{
    const char *v = getenv(TRACKER_ENV);
    if (v == NULL || strcmp(v, "3") != 0 || fcntl(TRACKER_FD, F_GETFD) < 0)
        return;
    unsetenv(TRACKER_ENV);
    tracker_main(TRACKER_FD);
}
