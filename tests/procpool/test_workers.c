/* SPDX-License-Identifier: MIT */
/* procpool: workers that die, time out, are stopped, retire or fail to
 * start, and what that does to the tasks: only the running one fails, and
 * nothing else is lost. */
#include "testing_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static weft_executor_t *pool_with(const weft_process_pool_opts_t *o)
{
    weft_executor_t *ex = NULL;
    int rc = weft_process_pool_new(&ex, o);
    if (rc)
        fprintf(stderr, "process_pool_new: %s\n", weft_last_message());
    assert_int_equal(rc, 0);
    return ex;
}

static weft_executor_t *pool_of(unsigned workers)
{
    weft_process_pool_opts_t o = {0};
    o.max_workers = workers;
    return pool_with(&o);
}

static long long_of(const weft_bytes_t *b)
{
    long v = 0;
    assert_int_equal(b->len, sizeof v);
    memcpy(&v, b->data, sizeof v);
    return v;
}

static long arg_long(const weft_bytes_t *arg)
{
    long v = 0;
    memcpy(&v, arg->data, sizeof v);
    return v;
}

static int square(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x = arg_long(arg) * arg_long(arg);
    return weft_bytes_copy(result, &x, sizeof x);
}

static int my_pid(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long pid = getpid();
    return weft_bytes_copy(result, &pid, sizeof pid);
}

static int segfault(const weft_bytes_t *arg, weft_bytes_t *result)
{
    signal(SIGSEGV, SIG_DFL); /* past any sanitizer's handler */
    raise(SIGSEGV);
    return 0;
}

static int call_abort(const weft_bytes_t *arg, weft_bytes_t *result)
{
    signal(SIGABRT, SIG_DFL);
    abort();
}

static int call_exit(const weft_bytes_t *arg, weft_bytes_t *result)
{
    exit((int)arg_long(arg));
}

static int kill_self(const weft_bytes_t *arg, weft_bytes_t *result)
{
    kill(getpid(), SIGKILL);
    return 0;
}

static int sleep_for(const weft_bytes_t *arg, weft_bytes_t *result)
{
    double s;
    memcpy(&s, arg->data, sizeof s);
    weft_sleep(s);
    return 0;
}

static int spin_forever(const weft_bytes_t *arg, weft_bytes_t *result)
{
    for (volatile unsigned long i = 0;; i++)
        ;
    return 0;
}

static weft_future_t *submit(weft_executor_t *ex, weft_bytes_fn fn, long x)
{
    weft_future_t *f = NULL;
    assert_int_equal(weft_executor_submit_bytes(ex, fn, &x, sizeof x, &f), 0);
    return f;
}

static weft_future_t *submit_sleep(weft_executor_t *ex, double s,
                                   double timeout)
{
    weft_future_t *f = NULL;
    assert_int_equal(weft_process_pool_submit_timeout(ex, sleep_for, &s,
                                                      sizeof s, timeout, &f),
                     0);
    return f;
}

static long result_long(weft_future_t *f)
{
    const weft_bytes_t *r;
    int rc = weft_future_result_bytes(f, 10 * testing_scale(), &r);
    if (rc)
        fprintf(stderr, "result: %s\n", weft_last_message());
    assert_int_equal(rc, 0);
    return long_of(r);
}

static void assert_squares(weft_executor_t *ex, long n)
{
    weft_future_t **fs = malloc((size_t)n * sizeof *fs);
    for (long i = 0; i < n; i++)
        fs[i] = submit(ex, square, i);
    for (long i = 0; i < n; i++) {
        assert_int_equal(result_long(fs[i]), i * i);
        weft_future_free(fs[i]);
    }
    free(fs);
}

/* ----- A dying worker fails only its task ----- */

static void a_crash_fails_only_the_running_task(weft_bytes_fn crash, long arg,
                                                const char *words)
{
    weft_executor_t *ex = pool_of(2);
    assert_squares(ex, 50); /* learn that tasks are short: deep pipelines */
    weft_future_t *before[100], *after[100];
    for (long i = 0; i < 100; i++)
        before[i] = submit(ex, square, i);
    weft_future_t *bad = submit(ex, crash, arg);
    for (long i = 0; i < 100; i++)
        after[i] = submit(ex, square, i);
    assert_fails_with(weft_future_result_bytes(bad, 10 * testing_scale(), NULL),
                      WEFT_EWORKERDIED, words);
    assert_true(testing_message_has("died"));
    assert_true(testing_message_has("while running task"));
    for (long i = 0; i < 100; i++) {
        assert_int_equal(result_long(before[i]), i * i);
        assert_int_equal(result_long(after[i]), i * i);
        weft_future_free(before[i]);
        weft_future_free(after[i]);
    }
    weft_future_free(bad);
    assert_squares(ex, 20);       /* still usable */
    double t0 = weft_monotonic(); /* and the dead worker replaced */
    while (weft_process_pool_pids(ex, NULL, 0) != 2) {
        assert_true(weft_monotonic() - t0 < 2 * testing_scale());
        weft_sleep(0.001);
    }
    weft_executor_free(ex);
}

static void a_segfault_fails_only_its_task(void **state)
{
    a_crash_fails_only_the_running_task(segfault, 0,
                                        "killed by signal 11 (SIGSEGV)");
}

static void an_abort_fails_only_its_task(void **state)
{
    a_crash_fails_only_the_running_task(call_abort, 0,
                                        "killed by signal 6 (SIGABRT)");
}

static void an_exit_inside_a_task_fails_only_its_task(void **state)
{
    a_crash_fails_only_the_running_task(call_exit, 3, "exited with status 3");
}

static void a_sigkill_inside_a_task_fails_only_its_task(void **state)
{
    a_crash_fails_only_the_running_task(kill_self, 0,
                                        "killed by signal 9 (SIGKILL)");
}

/* Tasks with large arguments in flight behind a crash: those not started
 * go to the fresh worker (whose rings are new) and come back whole. */
static int negate(const weft_bytes_t *arg, weft_bytes_t *result)
{
    int rc = weft_bytes_copy(result, arg->data, arg->len);
    for (size_t k = 0; rc == 0 && k < result->len; k++)
        result->data[k] = (unsigned char)~result->data[k];
    return rc;
}

static weft_future_t *submit_large(weft_executor_t *ex, size_t i)
{
    size_t len = (1 << 20) + i;
    unsigned char *big = malloc(len);
    for (size_t k = 0; k < len; k++)
        big[k] = (unsigned char)(k * 3 + i);
    weft_future_t *f = NULL;
    assert_int_equal(weft_executor_submit_bytes(ex, negate, big, len, &f), 0);
    free(big);
    return f;
}

static void assert_large(weft_future_t *f, size_t i)
{
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, 30 * testing_scale(), &r), 0);
    assert_int_equal(r->len, (1 << 20) + i);
    for (size_t k = 0; k < r->len; k++)
        if (r->data[k] != (unsigned char)~(unsigned char)(k * 3 + i))
            fail_msg("task %zu: byte %zu is wrong", i, k);
    weft_future_free(f);
}

static void a_crash_loses_no_large_task_behind_it(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_future_t *fs[12];
    for (size_t i = 0; i < 6; i++)
        fs[i] = submit_large(ex, i);
    weft_future_t *bad = submit(ex, kill_self, 0);
    for (size_t i = 6; i < 12; i++)
        fs[i] = submit_large(ex, i);
    assert_fails_with(weft_future_result_bytes(bad, 30 * testing_scale(), NULL),
                      WEFT_EWORKERDIED, "SIGKILL");
    weft_future_free(bad);
    for (size_t i = 0; i < 12; i++)
        assert_large(fs[i], i);
    weft_executor_free(ex);
}

/* ----- Timeouts and stops ----- */

static void a_task_past_its_timeout_is_stopped_with_its_worker(void **state)
{
    weft_executor_t *ex = pool_of(1);
    int pids[1];
    assert_int_equal(weft_process_pool_pids(ex, pids, 1), 1);
    double t0 = weft_monotonic();
    weft_future_t *f = submit_sleep(ex, 30, 0.2);
    assert_fails_with(weft_future_result_bytes(f, WEFT_FOREVER, NULL),
                      WEFT_ETIMEDOUT, "timed out after 0.2 s");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 2.0);
    assert_false(weft_future_cancelled(f));
    weft_future_free(f);
    /* A fresh worker took its place. */
    weft_future_t *g = submit(ex, my_pid, 0);
    assert_int_not_equal(result_long(g), pids[0]);
    weft_future_free(g);
    /* One that finishes in time keeps its result. */
    g = submit_sleep(ex, 0.01, 5.0);
    assert_int_equal(weft_future_result_bytes(g, WEFT_FOREVER, NULL), 0);
    weft_future_free(g);
    weft_executor_free(ex);
}

static void the_pool_default_timeout_applies_to_every_task(void **state)
{
    weft_process_pool_opts_t o = {0};
    o.max_workers = 2;
    o.has_timeout = 1;
    o.timeout = 0.2;
    weft_executor_t *ex = pool_with(&o);
    weft_future_t *f;
    long x = 0;
    assert_int_equal(
        weft_executor_submit_bytes(ex, spin_forever, &x, sizeof x, &f), 0);
    assert_fails_with(weft_future_result_bytes(f, 10 * testing_scale(), NULL),
                      WEFT_ETIMEDOUT, "timed out after 0.2 s");
    weft_future_free(f);
    /* WEFT_FOREVER overrides the default. */
    weft_future_t *g = submit_sleep(ex, 0.4, WEFT_FOREVER);
    assert_int_equal(weft_future_result_bytes(g, WEFT_FOREVER, NULL), 0);
    weft_future_free(g);
    assert_squares(ex, 20);
    weft_executor_free(ex);
}

static int touch(const weft_bytes_t *arg, weft_bytes_t *result)
{
    int fd =
        open((const char *)arg->data, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    return 0;
}

/* A timeout of 0 does not wait, as everywhere: the task gets no time to
 * run. It fails with WEFT_ETIMEDOUT without starting (asyncio's
 * wait_for(coro, 0) likewise cancels the task before it runs), and no
 * worker is stopped for it. WEFT_FOREVER is "no timeout". */
static void a_zero_timeout_gives_a_task_no_time_to_run(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_future_t *g = submit(ex, my_pid, 0);
    long pid = result_long(g);
    weft_future_free(g);
    char path[64];
    snprintf(path, sizeof path, "/tmp/weft-zero-timeout-%ld", (long)getpid());
    unlink(path);
    weft_future_t *f = NULL;
    assert_int_equal(weft_process_pool_submit_timeout(ex, touch, path,
                                                      strlen(path) + 1, 0, &f),
                     0);
    assert_fails_with(weft_future_result_bytes(f, 10 * testing_scale(), NULL),
                      WEFT_ETIMEDOUT, "timeout of 0");
    weft_future_free(f);
    assert_int_equal(access(path, F_OK), -1); /* it never ran */
    g = submit(ex, my_pid, 0);
    assert_int_equal(result_long(g), pid); /* and no worker was stopped */
    weft_future_free(g);
    g = submit_sleep(ex, 0.3, WEFT_FOREVER);
    assert_int_equal(weft_future_result_bytes(g, WEFT_FOREVER, NULL), 0);
    weft_future_free(g);
    double x = 1;
    assert_fails_with(
        weft_process_pool_submit_timeout(ex, sleep_for, &x, sizeof x, -0.5, &f),
        WEFT_EINVAL, "bad timeout");
    assert_fails_with(
        weft_process_pool_submit_timeout(ex, sleep_for, &x, sizeof x, NAN, &f),
        WEFT_EINVAL, "bad timeout");
    weft_executor_free(ex);
}

static void
a_timed_task_queued_behind_another_counts_from_its_start(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_future_t *first = submit_sleep(ex, 0.3, WEFT_FOREVER);
    weft_future_t *second = submit_sleep(ex, 0.1, 0.25);
    assert_int_equal(weft_future_result_bytes(first, WEFT_FOREVER, NULL), 0);
    assert_int_equal(weft_future_result_bytes(second, WEFT_FOREVER, NULL), 0);
    weft_future_free(first);
    weft_future_free(second);
    weft_executor_free(ex);
}

static void stop_ends_a_task_that_never_returns(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_future_t *f = submit(ex, spin_forever, 0);
    weft_future_t *queued = submit(ex, square, 9);
    while (!weft_future_running(f))
        weft_sleep(0.001);
    assert_int_equal(weft_future_wait(f, 0.1), WEFT_ETIMEDOUT);
    double t0 = weft_monotonic();
    assert_int_equal(weft_future_stop(f), 0);
    assert_fails_with(weft_future_result_bytes(f, WEFT_FOREVER, NULL),
                      WEFT_ECANCELLED, NULL);
    assert_elapsed_between(weft_monotonic() - t0, 0, 1.0);
    assert_true(weft_future_cancelled(f));
    /* The task queued behind it runs on the fresh worker. */
    assert_int_equal(result_long(queued), 81);
    assert_int_equal(weft_future_stop(queued), WEFT_ESTATE);
    weft_future_free(f);
    weft_future_free(queued);
    weft_executor_free(ex);
}

static void cancel_works_on_a_queued_task_only(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_future_t *running = submit_sleep(ex, 0.3, WEFT_FOREVER);
    weft_future_t *queued = submit(ex, square, 3);
    while (!weft_future_running(running))
        weft_sleep(0.001);
    assert_int_equal(weft_future_cancel(queued), 0);
    assert_fails_with(weft_future_cancel(running), WEFT_ESTATE, "running");
    assert_int_equal(weft_future_result_bytes(running, WEFT_FOREVER, NULL), 0);
    assert_true(weft_future_cancelled(queued));
    weft_future_free(running);
    weft_future_free(queued);
    assert_squares(ex, 5);
    weft_executor_free(ex);
}

/* ----- Retiring, initializers ----- */

static void max_tasks_per_child_replaces_the_workers(void **state)
{
    weft_process_pool_opts_t o = {0};
    o.max_workers = 1;
    o.max_tasks_per_child = 2;
    weft_executor_t *ex = pool_with(&o);
    long pids[12];
    weft_future_t *fs[12];
    for (int i = 0; i < 12; i++)
        fs[i] = submit(ex, my_pid, 0);
    for (int i = 0; i < 12; i++) {
        pids[i] = result_long(fs[i]);
        weft_future_free(fs[i]);
    }
    /* Two tasks a worker: pairs share a pid, and each pair has its own. */
    for (int i = 0; i < 12; i += 2) {
        assert_int_equal(pids[i], pids[i + 1]);
        if (i > 0)
            assert_int_not_equal(pids[i], pids[i - 1]);
    }
    weft_executor_free(ex);
}

static long initialized;

static int set_initialized(const weft_bytes_t *arg, weft_bytes_t *result)
{
    memcpy(&initialized, arg->data, sizeof initialized);
    return 0;
}

static int read_initialized(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_bytes_copy(result, &initialized, sizeof initialized);
}

static int failing_initializer(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_fail(WEFT_EINVAL, "no database here");
}

static void the_initializer_runs_first_in_each_worker(void **state)
{
    long value = 1234;
    weft_process_pool_opts_t o = {0};
    o.max_workers = 2;
    o.initializer = set_initialized;
    o.initarg = &value;
    o.initarg_len = sizeof value;
    weft_executor_t *ex = pool_with(&o);
    for (int i = 0; i < 4; i++) {
        weft_future_t *f = submit(ex, read_initialized, 0);
        assert_int_equal(result_long(f), 1234);
        weft_future_free(f);
    }
    weft_executor_free(ex);
}

/* Submit a square and wait for it: 0, or why it was refused or failed. */
static int square_of_two(weft_executor_t *ex)
{
    long x = 2;
    weft_future_t *f = NULL;
    int rc = weft_executor_submit_bytes(ex, square, &x, sizeof x, &f);
    if (rc == 0) {
        rc = weft_future_result_bytes(f, 10 * testing_scale(), NULL);
        weft_future_free(f);
    }
    return rc;
}

static void a_failing_initializer_breaks_the_pool(void **state)
{
    weft_process_pool_opts_t o = {0};
    o.max_workers = 2;
    o.initializer = failing_initializer;
    weft_executor_t *ex = pool_with(&o);
    /* The pool breaks as soon as a worker reports: a task submitted before
     * that fails, one submitted after is refused. */
    assert_int_equal(square_of_two(ex), WEFT_EBROKEN);
    assert_true(testing_message_has("no database here"));
    assert_true(testing_message_has("initializer failed"));
    long x = 2;
    weft_future_t *f = NULL;
    assert_fails_with(weft_executor_submit_bytes(ex, square, &x, sizeof x, &f),
                      WEFT_EBROKEN, "not usable anymore");
    weft_executor_free(ex);
}

static int crashing_initializer(const weft_bytes_t *arg, weft_bytes_t *result)
{
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
    return 0;
}

static void workers_that_die_as_they_start_break_the_pool(void **state)
{
    weft_process_pool_opts_t o = {0};
    o.max_workers = 1;
    o.initializer = crashing_initializer;
    weft_executor_t *ex = pool_with(&o);
    assert_int_equal(square_of_two(ex), WEFT_EBROKEN);
    assert_true(testing_message_has("workers die as they start"));
    assert_true(testing_message_has("SIGSEGV"));
    weft_executor_free(ex);
}

/* ----- Terminate and kill ----- */

static void terminate_and_kill_stop_every_worker(void **state)
{
    for (int kill = 0; kill < 2; kill++) {
        weft_executor_t *ex = pool_of(2);
        weft_future_t *a = submit_sleep(ex, 30, WEFT_FOREVER);
        weft_future_t *b = submit_sleep(ex, 30, WEFT_FOREVER);
        weft_future_t *queued = submit(ex, square, 2);
        while (!weft_future_running(a) || !weft_future_running(b))
            weft_sleep(0.001);
        double t0 = weft_monotonic();
        if (kill)
            assert_int_equal(weft_process_pool_kill_workers(ex), 0);
        else
            assert_int_equal(weft_process_pool_terminate_workers(ex), 0);
        assert_fails_with(weft_future_result_bytes(a, WEFT_FOREVER, NULL),
                          WEFT_ECANCELLED, NULL);
        assert_fails_with(weft_future_result_bytes(b, WEFT_FOREVER, NULL),
                          WEFT_ECANCELLED, NULL);
        assert_true(weft_future_cancelled(queued));
        assert_elapsed_between(weft_monotonic() - t0, 0, 2.0);
        long x = 1;
        weft_future_t *f;
        assert_fails_with(
            weft_executor_submit_bytes(ex, square, &x, sizeof x, &f),
            WEFT_ESHUTDOWN, NULL);
        weft_executor_free(ex);
        weft_future_free(a);
        weft_future_free(b);
        weft_future_free(queued);
    }
}

/* ----- Random kills during a long map ----- */

/* Each task logs "S index pid" as it starts and "F index pid" as it ends,
 * to a file the test reads afterwards: what really ran where. */
struct logged {
    long index;
    char path[64];
};

static void log_line(const char *path, char what, long index)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%c %ld %ld\n", what, index,
                     (long)getpid());
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
        close(fd);
    }
}

static int logged_square(const weft_bytes_t *arg, weft_bytes_t *result)
{
    struct logged l;
    memcpy(&l, arg->data, sizeof l);
    log_line(l.path, 'S', l.index);
    volatile long sink = 0;
    for (int i = 0; i < 2000; i++)
        sink = sink + i;
    long x = l.index * l.index + sink * 0;
    log_line(l.path, 'F', l.index);
    return weft_bytes_copy(result, &x, sizeof x);
}

struct killer {
    weft_executor_t *ex;
    _Atomic int stop;
    int killed[64];
    int nkilled;
};

static void kill_random_workers(void *arg)
{
    struct killer *k = arg;
    unsigned seed = 12345;
    while (!atomic_load(&k->stop) && k->nkilled < 8) {
        weft_sleep(0.02 + (rand_r(&seed) % 30) / 1000.0);
        int pids[8];
        size_t n = weft_process_pool_pids(k->ex, pids, 8);
        if (n == 0 || atomic_load(&k->stop))
            continue;
        int pid = pids[rand_r(&seed) % (n < 8 ? n : 8)];
        if (kill(pid, SIGKILL) == 0)
            k->killed[k->nkilled++] = pid;
    }
}

static int was_killed(const struct killer *k, long pid)
{
    for (int i = 0; i < k->nkilled; i++)
        if (k->killed[i] == pid)
            return 1;
    return 0;
}

/* From the log: for each task, the pid it started in last without
 * finishing there (0: none). */
static void read_log(const char *path, long *unfinished, long n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char what;
    long index, pid;
    while (fscanf(f, " %c %ld %ld", &what, &index, &pid) == 3) {
        assert_true(index >= 0 && index < n);
        if (what == 'S')
            unfinished[index] = pid;
        else if (unfinished[index] == pid)
            unfinished[index] = 0;
    }
    fclose(f);
}

static void ten_thousand_tasks_survive_random_kills(void **state)
{
    enum { N = 10000 };
    char path[64];
    snprintf(path, sizeof path, "/tmp/weft-kills-%ld.log", (long)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    weft_executor_t *ex = pool_of(2);
    struct logged *args = calloc(N, sizeof *args);
    weft_bytes_t *bargs = calloc(N, sizeof *bargs);
    for (long i = 0; i < N; i++) {
        args[i].index = i;
        snprintf(args[i].path, sizeof args[i].path, "%s", path);
        bargs[i] = (weft_bytes_t){(unsigned char *)&args[i], sizeof args[i]};
    }
    struct killer k = {ex, 0, {0}, 0};
    testing_thread_t *t = testing_thread_start(kill_random_workers, &k);
    weft_map_t *m;
    assert_int_equal(
        weft_executor_map_bytes(&m, ex, logged_square, bargs, N, NULL), 0);
    int *code = calloc(N, sizeof *code);
    char(*why)[WEFT_MESSAGE_MAX] = calloc(N, sizeof *why);
    const weft_bytes_t *r;
    size_t index, seen = 0;
    int rc;
    while ((rc = weft_map_next_bytes(m, &r, &index)) != WEFT_EEOF) {
        seen++;
        code[index] = rc;
        if (rc == 0)
            assert_int_equal(long_of(r), (long)(index * index));
        else
            snprintf(why[index], WEFT_MESSAGE_MAX, "%s", weft_last_message());
    }
    weft_map_free(m);
    atomic_store(&k.stop, 1);
    testing_thread_join(t);
    assert_int_equal(seen, N);
    long *unfinished = calloc(N, sizeof *unfinished);
    read_log(path, unfinished, N);
    int failures = 0;
    for (long i = 0; i < N; i++) {
        /* A task that started in a killed worker and never finished there
         * was running when it was killed: it, and only such a task, fails
         * with WEFT_EWORKERDIED, naming that worker. (One may also fail
         * that logged its end just before the kill landed.) */
        if (unfinished[i] && was_killed(&k, unfinished[i]))
            assert_int_equal(code[i], WEFT_EWORKERDIED);
        if (code[i] == 0)
            continue;
        failures++;
        assert_int_equal(code[i], WEFT_EWORKERDIED);
        assert_non_null(strstr(why[i], "killed by signal 9 (SIGKILL)"));
        long pid = atol(strstr(why[i], "worker ") + 7);
        assert_true(was_killed(&k, pid));
    }
    assert_true(failures <= k.nkilled);
    assert_true(k.nkilled > 0);
    assert_squares(ex, 100); /* usable afterwards */
    weft_executor_free(ex);
    unlink(path);
    free(unfinished);
    free(why);
    free(code);
    free(bargs);
    free(args);
}

/* ----- The parent's death ----- */

/* In a spawned child: a pool of 2, its workers' pids written to the pipe
 * passed in, then wait to be killed. */
static int run_pool_and_wait(const weft_bytes_t *arg)
{
    int fd;
    memcpy(&fd, arg->data, sizeof fd);
    weft_executor_t *ex;
    weft_process_pool_opts_t o = {0};
    o.max_workers = 2;
    if (weft_process_pool_new(&ex, &o) != 0)
        return 2;
    int pids[2];
    if (weft_process_pool_pids(ex, pids, 2) != 2 ||
        write(fd, pids, sizeof pids) != sizeof pids)
        return 3;
    for (;;)
        pause();
}

static int gone(int pid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 1;
    int n = fgets(stat, sizeof stat, f) != NULL;
    fclose(f);
    const char *close_paren = strrchr(stat, ')');
    return !n || (close_paren && close_paren[2] == 'Z');
}

static void a_parent_killed_with_sigkill_leaves_no_worker(void **state)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* orphans come to us: reap them */
    char before[1024];
    testing_list_children(before, sizeof before, 1);
    int fds[2];
    testing_pipe(fds);
    weft_context_t *ctx;
    weft_get_context(&ctx, "spawn");
    weft_process_t *p;
    assert_int_equal(weft_context_process_new(ctx, &p, run_pool_and_wait,
                                              &fds[1], sizeof fds[1], NULL),
                     0);
    assert_int_equal(weft_process_pass_fd(p, fds[1]), 0);
    assert_int_equal(weft_process_start(p), 0);
    close(fds[1]);
    int pids[2];
    assert_int_equal(read(fds[0], pids, sizeof pids), sizeof pids);
    close(fds[0]);
    assert_true(!gone(pids[0]) && !gone(pids[1]));
    assert_int_equal(weft_process_kill(p), 0);
    assert_int_equal(weft_process_join(p, 10 * testing_scale()), 0);
    double t0 = weft_monotonic();
    while (!gone(pids[0]) || !gone(pids[1])) {
        assert_true(weft_monotonic() - t0 < 5 * testing_scale());
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        weft_sleep(0.005);
    }
    /* Reap what came to us (its fork server and workers), until only the
     * children of before are left. */
    for (;;) {
        char kids[1024];
        testing_list_children(kids, sizeof kids, 1);
        pid_t got = waitpid(-1, NULL, WNOHANG);
        if (got <= 0 && strcmp(kids, before) == 0)
            break;
        assert_true(weft_monotonic() - t0 < 5 * testing_scale());
        if (got <= 0)
            weft_sleep(0.005);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    weft_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(a_segfault_fails_only_its_task),
        testing_proc_test(an_abort_fails_only_its_task),
        testing_proc_test(an_exit_inside_a_task_fails_only_its_task),
        testing_proc_test(a_sigkill_inside_a_task_fails_only_its_task),
        testing_proc_test(a_crash_loses_no_large_task_behind_it),
        testing_proc_test(a_task_past_its_timeout_is_stopped_with_its_worker),
        testing_proc_test(the_pool_default_timeout_applies_to_every_task),
        testing_proc_test(
            a_timed_task_queued_behind_another_counts_from_its_start),
        testing_proc_test(a_zero_timeout_gives_a_task_no_time_to_run),
        testing_proc_test(stop_ends_a_task_that_never_returns),
        testing_proc_test(cancel_works_on_a_queued_task_only),
        testing_proc_test(max_tasks_per_child_replaces_the_workers),
        testing_proc_test(the_initializer_runs_first_in_each_worker),
        testing_proc_test(a_failing_initializer_breaks_the_pool),
        testing_proc_test(workers_that_die_as_they_start_break_the_pool),
        testing_proc_test(terminate_and_kill_stop_every_worker),
        testing_proc_test(ten_thousand_tasks_survive_random_kills),
        testing_proc_test(a_parent_killed_with_sigkill_leaves_no_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
