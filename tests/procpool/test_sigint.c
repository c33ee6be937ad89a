/* SPDX-License-Identifier: MIT */
/* procpool: Ctrl-C. The first SIGINT cancels what has not started, stops
 * the workers and then ends the process as SIGINT does; a program with its
 * own handler keeps it. Each case runs in a spawned child. */
#include "testing_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sleep_for(const weft_bytes_t *arg, weft_bytes_t *result)
{
    double s;
    memcpy(&s, arg->data, sizeof s);
    weft_sleep(s);
    return 0;
}

static weft_future_t *submit_sleep(weft_executor_t *ex, double s)
{
    weft_future_t *f = NULL;
    if (weft_executor_submit_bytes(ex, sleep_for, &s, sizeof s, &f) != 0)
        exit(4);
    return f;
}

static int report_cancel(weft_future_t *f, void *arg)
{
    int fd = *(int *)arg;
    char c = weft_future_cancelled(f) ? 'C' : 'X';
    ssize_t n = write(fd, &c, 1);
    (void)n;
    return 0;
}

/* Two running tasks and a queued one; the workers' pids go to the pipe,
 * then SIGINT. */
static int interrupted(const weft_bytes_t *arg)
{
    static int fd;
    memcpy(&fd, arg->data, sizeof fd);
    signal(SIGINT, SIG_DFL);
    weft_executor_t *ex;
    weft_process_pool_opts_t o = {0};
    o.max_workers = 2;
    if (weft_process_pool_new(&ex, &o) != 0)
        return 2;
    weft_future_t *a = submit_sleep(ex, 30), *b = submit_sleep(ex, 30);
    weft_future_t *queued = submit_sleep(ex, 0);
    weft_future_add_done_callback(queued, report_cancel, &fd);
    int pids[2];
    if (weft_process_pool_pids(ex, pids, 2) != 2 ||
        write(fd, pids, sizeof pids) != sizeof pids)
        return 3;
    while (!weft_future_running(a) || !weft_future_running(b))
        weft_sleep(0.001);
    raise(SIGINT);
    weft_future_wait(a, WEFT_FOREVER);
    weft_sleep(10); /* SIGINT should have ended us by now */
    return 5;
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

static weft_process_t *spawn_with_pipe(weft_process_fn target, int fds[2])
{
    testing_pipe(fds);
    weft_context_t *ctx;
    weft_get_context(&ctx, "spawn");
    weft_process_t *p;
    assert_int_equal(weft_context_process_new(ctx, &p, target, &fds[1],
                                              sizeof fds[1], NULL),
                     0);
    assert_int_equal(weft_process_pass_fd(p, fds[1]), 0);
    assert_int_equal(weft_process_start(p), 0);
    close(fds[1]);
    return p;
}

static void the_first_sigint_stops_the_work_then_ends_the_process(
    void **state)
{
    int fds[2];
    weft_process_t *p = spawn_with_pipe(interrupted, fds);
    int pids[2];
    assert_int_equal(read(fds[0], pids, sizeof pids), sizeof pids);
    double t0 = weft_monotonic();
    char c = 0;
    assert_int_equal(read(fds[0], &c, 1), 1);
    assert_int_equal(c, 'C'); /* the queued task was cancelled */
    assert_int_equal(weft_process_join(p, 10 * testing_scale()), 0);
    int code = 0;
    assert_int_equal(weft_process_exitcode(p, &code), 0);
    assert_int_equal(code, -SIGINT);
    assert_elapsed_between(weft_monotonic() - t0, 0, 3.0);
    close(fds[0]);
    weft_process_free(p);
    /* Its workers went with it. */
    t0 = weft_monotonic();
    while (!gone(pids[0]) || !gone(pids[1])) {
        assert_true(weft_monotonic() - t0 < 5 * testing_scale());
        weft_sleep(0.005);
    }
}

static _Atomic int handled;

static void own_handler(int sig)
{
    atomic_store(&handled, 1);
}

/* The program's own handler stays; the pool's work goes on. */
static int handles_sigint_itself(const weft_bytes_t *arg)
{
    signal(SIGINT, own_handler);
    weft_executor_t *ex;
    weft_process_pool_opts_t o = {0};
    o.max_workers = 1;
    if (weft_process_pool_new(&ex, &o) != 0)
        return 2;
    weft_future_t *f = submit_sleep(ex, 0.2);
    raise(SIGINT);
    int rc = weft_future_wait(f, 10.0) ||
             weft_future_result_bytes(f, 0, NULL) != 0;
    weft_future_free(f);
    weft_executor_free(ex);
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    if (rc || !atomic_load(&handled) || sa.sa_handler != own_handler)
        return 3;
    return 0;
}

static void a_program_with_its_own_handler_keeps_it(void **state)
{
    int fds[2];
    weft_process_t *p = spawn_with_pipe(handles_sigint_itself, fds);
    close(fds[0]);
    assert_int_equal(weft_process_join(p, 10 * testing_scale()), 0);
    int code = -1;
    assert_int_equal(weft_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    weft_process_free(p);
}

/* The handler goes with the last pool, and the default comes back. */
static int default_comes_back(const weft_bytes_t *arg)
{
    signal(SIGINT, SIG_DFL);
    weft_executor_t *ex;
    if (weft_process_pool_new(&ex, NULL) != 0)
        return 2;
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    int installed = sa.sa_handler != SIG_DFL;
    weft_executor_free(ex);
    sigaction(SIGINT, NULL, &sa);
    return installed && sa.sa_handler == SIG_DFL ? 0 : 3;
}

static void freeing_the_last_pool_restores_the_default(void **state)
{
    int fds[2];
    weft_process_t *p = spawn_with_pipe(default_comes_back, fds);
    close(fds[0]);
    assert_int_equal(weft_process_join(p, 10 * testing_scale()), 0);
    int code = -1;
    assert_int_equal(weft_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    weft_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(
            the_first_sigint_stops_the_work_then_ends_the_process),
        testing_proc_test(a_program_with_its_own_handler_keeps_it),
        testing_proc_test(freeing_the_last_pool_restores_the_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
