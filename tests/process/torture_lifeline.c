/* SPDX-License-Identifier: MIT */
/* process: the torture of lifelines. Nothing a parent made outlives it.
 *
 * Each round forks a test-only parent, "the world", which sets up all that
 * must not outlive it, under one start method (fork, spawn, forkserver in
 * turn): a manager with a dict; a child that blocks every signal, has a
 * grandchild that does the same, and a named segment of its own; a child
 * that exec()s another program, started from a thread that then ends (a
 * child made by a thread used to die with that thread); named segments,
 * one with a generated name; a process pool whose worker runs a task that
 * blocks every signal and spins. Then we kill the world with SIGKILL,
 * either at a random point of its setup or once all of it is up.
 *
 * We are a subreaper, so every process the world leaves comes to us (and
 * is reaped by us, even when the test fails): once the world is dead, all
 * of its descendants must end within a bounded time (the manager's server
 * and the trackers first do their cleaning), and nothing may be left in
 * /dev/shm under the round's names or in the world's own TMPDIR (where the
 * manager puts its socket). Survivors are killed before the test fails,
 * so that no orphan outlives the test; the world itself dies with us.
 *
 * Runs for testing_torture_seconds(), and at least one round per method;
 * the seed (WEFT_CHAOS_SEED) picks the kill points. */
#include "testing_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const methods[] = {"fork", "spawn", "forkserver"};

/* ----- The world's children ----- */

static void block_every_signal(void)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
}

struct child_arg {
    int ready;      /* one byte when set up */
    char name[128]; /* a segment of its own */
    int grandchild; /* whether to start one */
};

static int say_ready(int fd)
{
    char c = 'r';
    return write(fd, &c, 1) == 1 ? 0 : 1;
}

/* Make its own segment, start a grandchild (which does the same but for
 * the grandchild), block every signal, say so, and wait forever. */
static int blocker(const weft_bytes_t *arg)
{
    struct child_arg a;
    memcpy(&a, arg->data, sizeof a);
    weft_shm_t *s;
    if (weft_shm_create(&s, a.name, 4096) != 0)
        return 1;
    if (a.grandchild) {
        struct child_arg g = a;
        g.grandchild = 0;
        strcat(g.name, "-g");
        weft_process_t *p;
        if (weft_process_new(&p, blocker, &g, sizeof g, NULL) != 0 ||
            weft_process_pass_fd(p, a.ready) != 0 || weft_process_start(p))
            return 2;
    }
    block_every_signal();
    if (say_ready(a.ready) != 0)
        return 3;
    for (;;)
        pause();
}

/* Become sleep, once the descriptor that tells the exec has happened is
 * marked to close at exec. */
static int exec_sleep(const weft_bytes_t *arg)
{
    int sign;
    memcpy(&sign, arg->data, sizeof sign);
    fcntl(sign, F_SETFD, FD_CLOEXEC);
    execl("/bin/sleep", "sleep", "1000", (char *)NULL);
    return 127;
}

/* The pool's task: block every signal, raise the flag in the segment its
 * argument names, and spin. */
static int block_and_spin(const weft_bytes_t *arg, weft_bytes_t *result)
{
    block_every_signal();
    char name[128] = "";
    memcpy(name, arg->data, arg->len < sizeof name ? arg->len : 0);
    weft_shm_t *s;
    if (weft_shm_attach(&s, name) != 0)
        return WEFT_EINVAL;
    atomic_store((_Atomic int *)weft_shm_buf(s), 1);
    volatile unsigned long spins = 0;
    for (;;)
        spins++;
}

/* ----- The world ----- */

struct world {
    int method;
    char prefix[64]; /* of its segments' names */
    int report;      /* to us: 'R' ready, 'F' failed */
    int ready[2];    /* from its children */
};

static _Noreturn void world_fails(const struct world *w, const char *why)
{
    fprintf(stderr, "the world (%s) failed: %s: %s\n", methods[w->method], why,
            weft_last_message());
    char c = 'F';
    if (write(w->report, &c, 1) != 1)
        _exit(1);
    for (;;)
        pause();
}

/* Wait for n bytes from the world's children. */
static void wait_ready(const struct world *w, int n)
{
    for (int i = 0; i < n; i++) {
        char c;
        if (read(w->ready[0], &c, 1) != 1)
            world_fails(w, "a child never said it was ready");
    }
}

static void start_manager(const struct world *w)
{
    weft_manager_t *m;
    weft_dict_proxy_t *d;
    if (weft_manager_start(&m, NULL, NULL, 0) != 0 ||
        weft_manager_dict(m, &d) != 0 ||
        weft_dict_proxy_set(d, "k", 1, "v", 1) != 0)
        world_fails(w, "manager");
}

static void start_blocker(const struct world *w)
{
    struct child_arg a = {w->ready[1], "", 1};
    snprintf(a.name, sizeof a.name, "%schild", w->prefix);
    weft_process_t *p;
    if (weft_process_new(&p, blocker, &a, sizeof a, NULL) != 0 ||
        weft_process_pass_fd(p, w->ready[1]) != 0 || weft_process_start(p) != 0)
        world_fails(w, "blocker");
    wait_ready(w, 2);
}

struct exec_start {
    int sign[2];
    weft_process_t *p;
};

static void start_exec(void *arg)
{
    struct exec_start *e = arg;
    if (weft_process_new(&e->p, exec_sleep, &e->sign[1], sizeof e->sign[1],
                         NULL) != 0 ||
        weft_process_pass_fd(e->p, e->sign[1]) != 0 ||
        weft_process_start(e->p) != 0)
        e->p = NULL;
    close(e->sign[1]);
    char c;
    while (read(e->sign[0], &c, 1) > 0) /* until it has exec()ed */
        ;
}

/* A child that execs, started from a thread that ends: the child lives on
 * (under ThreadSanitizer the calling thread makes children, so there the
 * thread is the world's own). */
static void start_exec_child(const struct world *w)
{
    struct exec_start e;
    if (pipe2(e.sign, O_CLOEXEC) != 0)
        world_fails(w, "pipe");
#if defined(WEFT_TSAN)
    start_exec(&e);
#else
    testing_thread_join(testing_thread_start(start_exec, &e));
#endif
    close(e.sign[0]);
    if (e.p == NULL)
        world_fails(w, "exec child");
    if (weft_process_join(e.p, 0.1) != WEFT_ETIMEDOUT)
        world_fails(w, "the exec()ed child died with its thread");
}

static void make_segments(const struct world *w)
{
    char name[128];
    weft_shm_t *kept, *generated, *unlinked;
    snprintf(name, sizeof name, "%skept", w->prefix);
    if (weft_shm_create(&kept, name, 4096) != 0 ||
        weft_shm_create(&generated, "", 4096) != 0)
        world_fails(w, "segments");
    snprintf(name, sizeof name, "%sunlinked", w->prefix);
    if (weft_shm_create(&unlinked, name, 4096) != 0 ||
        weft_shm_unlink(unlinked) != 0)
        world_fails(w, "an unlinked segment");
}

static void start_pool(const struct world *w)
{
    char flag_name[128];
    snprintf(flag_name, sizeof flag_name, "%sflag", w->prefix);
    weft_shm_t *flag;
    weft_process_pool_opts_t opts = {.max_workers = 2,
                                     .start_method = methods[w->method]};
    weft_executor_t *ex;
    weft_future_t *f;
    if (weft_shm_create(&flag, flag_name, 4096) != 0 ||
        weft_process_pool_new(&ex, &opts) != 0 ||
        weft_executor_submit_bytes(ex, block_and_spin, flag_name,
                                   strlen(flag_name) + 1, &f) != 0)
        world_fails(w, "pool");
    _Atomic int *up = weft_shm_buf(flag);
    for (double t0 = weft_monotonic(); !atomic_load(up);) {
        if (weft_monotonic() - t0 > 20 * testing_scale())
            world_fails(w, "the pool's task never started");
        weft_sleep(0.001);
    }
}

/* Set everything up, say so, and wait to be killed. The manager comes
 * first: under ThreadSanitizer a fork child of a process with threads may
 * not start threads, and the manager's server does. */
static _Noreturn void run_world(struct world *w, const char *tmpdir)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* if we die, so does the world */
    setenv("TMPDIR", tmpdir, 1);
    if (pipe2(w->ready, O_CLOEXEC) != 0 ||
        weft_set_start_method(methods[w->method], 1) != 0)
        world_fails(w, "setup");
    start_manager(w);
    start_blocker(w);
    start_exec_child(w);
    make_segments(w);
    start_pool(w);
    char c = 'R';
    if (write(w->report, &c, 1) != 1)
        _exit(1);
    for (;;)
        pause();
}

/* ----- Watching the world end ----- */

/* Reap what comes to us until only before's children are left, or the
 * bound passes: then describe and kill the survivors (and theirs) and
 * return how many there were. */
static int survivors(const char *before, char *who, size_t size)
{
    int found = 0;
    who[0] = '\0';
    for (double t0 = weft_monotonic();;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        char now[4096];
        testing_list_children(now, sizeof now, 1);
        if (strcmp(now, before) == 0)
            return found;
        if (weft_monotonic() - t0 > 10 * testing_scale()) {
            if (!found)
                snprintf(who, size, "%s", now);
            found += testing_kill_children_but(before);
        } else {
            weft_sleep(0.005);
        }
    }
}

/* Remove what a world left under dir (at most two levels: the manager's
 * directory and its socket); how many entries there were. */
static int remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        n++;
        if (depth > 0)
            n += remove_tree(path, depth - 1);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    return n;
}

/* Remove and count the entries of /dev/shm that start with prefix. */
static int segments_left(const char *prefix)
{
    DIR *d = opendir("/dev/shm");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            char path[300];
            snprintf(path, sizeof path, "/%s", e->d_name);
            shm_unlink(path);
            n++;
        }
    closedir(d);
    return n;
}

struct round {
    unsigned number;
    int method;
    int waited; /* killed once ready, else at a random point of the setup */
};

/* Fork the world, kill it, and check what it left; 0 or a message. */
static int one_round(const struct round *r, testing_rng_t *rng,
                     const char *before, char *msg, size_t size)
{
    char tmpdir[] = "/tmp/weft-torture-XXXXXX";
    assert_non_null(mkdtemp(tmpdir));
    struct world w = {r->method, "", -1, {-1, -1}};
    snprintf(w.prefix, sizeof w.prefix, "weft-torture-%d-%u-", (int)getpid(),
             r->number);
    int report[2];
    testing_pipe(report);
    w.report = report[1];
    pid_t world = fork();
    assert_true(world >= 0);
    if (world == 0)
        run_world(&w, tmpdir);
    close(report[1]);
    char said = 0;
    if (r->waited) {
        if (read(report[0], &said, 1) != 1)
            said = 'E';
        weft_sleep((double)testing_rng_below(rng, 2000) / 1e6);
    } else {
        weft_sleep((double)testing_rng_below(rng, 60000) / 1e6);
    }
    kill(world, SIGKILL);
    assert_int_equal(waitpid(world, NULL, 0), world);
    close(report[0]);
    char who[4096], prefix[64];
    int alive = survivors(before, who, sizeof who);
    snprintf(prefix, sizeof prefix, "weft-%d-", (int)world);
    int left = segments_left(w.prefix) + segments_left(prefix);
    int files = remove_tree(tmpdir, 2);
    rmdir(tmpdir);
    if (said == 'F' || said == 'E' || alive || left || files) {
        snprintf(msg, size,
                 "round %u (%s, killed %s): world %s, %d survivors [%s], "
                 "%d segments and %d files left",
                 r->number, methods[r->method],
                 r->waited ? "once ready" : "during setup",
                 said == 'F'   ? "failed"
                 : said == 'E' ? "vanished"
                               : "ok",
                 alive, who, left, files);
        return -1;
    }
    return 0;
}

static void nothing_outlives_a_killed_parent(void **state)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    testing_rng_t rng;
    testing_rng_init(&rng, 0);
    char before[4096];
    testing_list_children(before, sizeof before, 1);
    double t0 = weft_monotonic(), seconds = testing_torture_seconds();
    unsigned rounds = 0, ready = 0;
    char msg[8192] = "";
    int failed = 0;
    while (!failed && (rounds < 6 || weft_monotonic() - t0 < seconds)) {
        /* Each method killed once ready and once in its setup, first. */
        struct round r = {rounds, (int)(rounds % 3),
                          rounds < 6 ? rounds < 3
                                     : testing_rng_below(&rng, 3) != 0};
        failed = one_round(&r, &rng, before, msg, sizeof msg) != 0;
        ready += r.waited;
        rounds++;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    fprintf(stderr, "%u rounds (%u killed once ready) in %.1f s\n", rounds,
            ready, weft_monotonic() - t0);
    if (failed)
        fail_msg("%s", msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_outlives_a_killed_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
