/* SPDX-License-Identifier: MIT */
/* Snapshots of children and /dev/shm entries, for tests of processes. */
#include "testing_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct snapshot {
    char children[4096];
    char shm[4096];
};

/* weft's helpers: started once, kept for the life of the process. */
static int is_weft_helper(long pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fgets(comm, sizeof comm, f) == NULL)
        comm[0] = '\0';
    fclose(f);
    return strncmp(comm, "weft-forkserver", 15) == 0 ||
           strncmp(comm, "weft-tracker", 12) == 0;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The pids in /proc/self/task/<tid>/children, for every thread. */
static void list_children(char *out, size_t size)
{
    testing_list_children(out, size, 0);
}

void testing_list_children(char *out, size_t size, int with_helpers)
{
    long pids[512];
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        long pid;
        while (n < 512 && fscanf(f, "%ld", &pid) == 1)
            if (with_helpers || !is_weft_helper(pid))
                pids[n++] = pid;
        fclose(f);
    }
    closedir(d);
    qsort(pids, n, sizeof pids[0], cmp_long);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len + 24 < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%ld ", pids[i]);
}

/* Whether the list "pid pid ... " holds pid. */
static int lists(const char *list, long pid)
{
    for (char *end;; list = end) {
        long p = strtol(list, &end, 10);
        if (end == list)
            return 0;
        if (p == pid)
            return 1;
    }
}

int testing_kill_children_but(const char *before)
{
    char now[4096];
    testing_list_children(now, sizeof now, 1);
    int n = 0;
    for (char *p = now, *end;; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            return n;
        if (!lists(before, pid)) {
            kill((pid_t)pid, SIGKILL);
            waitpid((pid_t)pid, NULL, 0);
            n++;
        }
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_shm(char *out, size_t size)
{
    char prefix[64];
    testing_shm_prefix(prefix, sizeof prefix);
    char *names[256];
    size_t n = 0;
    DIR *d = opendir("/dev/shm");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (len + strlen(names[i]) + 2 < size)
            len += (size_t)snprintf(out + len, size - len, "%s ", names[i]);
        free(names[i]);
    }
}

int testing_proc_setup(void **state)
{
    struct snapshot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    list_children(s->children, sizeof s->children);
    list_shm(s->shm, sizeof s->shm);
    *state = s;
    return 0;
}

int testing_proc_teardown(void **state)
{
    struct snapshot *s = *state, now;
    list_children(now.children, sizeof now.children);
    list_shm(now.shm, sizeof now.shm);
    int same =
        strcmp(s->children, now.children) == 0 && strcmp(s->shm, now.shm) == 0;
    if (!same)
        fprintf(stderr,
                "children before: [%s] after: [%s]\n"
                "/dev/shm before: [%s] after: [%s]\n",
                s->children, now.children, s->shm, now.shm);
    free(s);
    return same ? 0 : -1;
}

const char *testing_shm_prefix(char *buf, size_t size)
{
    snprintf(buf, size, "weft-%ld-", (long)getpid());
    return buf;
}

void testing_pipe(int fds[2])
{
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
}

char *testing_read_all(int fd)
{
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* The exit status of a child that came up at the wrong id. */
#define WRONG_ID 97

pid_t testing_fork_at_pid(pid_t pid, int (*fn)(void *arg), void *arg,
                          const char **why)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%ld", (long)pid - 1);
        if (fd < 0 || write(fd, buf, (size_t)len) != len) {
            if (fd >= 0)
                close(fd);
            *why = "cannot write /proc/sys/kernel/ns_last_pid (needs "
                   "CAP_SYS_ADMIN over the pid namespace)";
            return -1;
        }
        close(fd);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0)
            _exit(getpid() == pid ? fn(arg) : WRONG_ID);
        if (child == pid)
            return child;
        waitpid(child, NULL, 0); /* another process took the id first */
    }
    return 0;
}
