/* SPDX-License-Identifier: MIT */
/* procpool: the process pool as an executor: results, errors, maps, the
 * start methods, shutdown, and nothing left behind. */
#include "testing_proc.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static weft_executor_t *pool_of(unsigned workers, const char *method)
{
    weft_process_pool_opts_t o = {0};
    o.max_workers = workers;
    o.start_method = method;
    weft_executor_t *ex = NULL;
    assert_int_equal(weft_process_pool_new(&ex, &o), 0);
    return ex;
}

static long long_of(const weft_bytes_t *b)
{
    long v = 0;
    assert_int_equal(b->len, sizeof v);
    memcpy(&v, b->data, sizeof v);
    return v;
}

static int square(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    memcpy(&x, arg->data, sizeof x);
    x *= x;
    return weft_bytes_copy(result, &x, sizeof x);
}

static int fail_on_three(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    memcpy(&x, arg->data, sizeof x);
    if (x == 3)
        return weft_fail(WEFT_EUSER + 3, "An error occurred with input %ld", x);
    return weft_bytes_copy(result, &x, sizeof x);
}

static int sleep_a_while(const weft_bytes_t *arg, weft_bytes_t *result)
{
    double s;
    memcpy(&s, arg->data, sizeof s);
    weft_sleep(s);
    return 0;
}

static weft_future_t *submit_long(weft_executor_t *ex, weft_bytes_fn fn, long x)
{
    weft_future_t *f = NULL;
    assert_int_equal(weft_executor_submit_bytes(ex, fn, &x, sizeof x, &f), 0);
    return f;
}

static weft_future_t *submit_sleep(weft_executor_t *ex, double s)
{
    weft_future_t *f = NULL;
    assert_int_equal(
        weft_executor_submit_bytes(ex, sleep_a_while, &s, sizeof s, &f), 0);
    return f;
}

static long result_long(weft_future_t *f)
{
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, 10 * testing_scale(), &r), 0);
    return long_of(r);
}

/* ----- Results ----- */

static void results_come_back_in_their_futures(void **state)
{
    weft_executor_t *ex = pool_of(2, NULL);
    assert_string_equal(weft_executor_kind(ex), "process");
    assert_int_equal(weft_executor_max_workers(ex), 2);
    weft_future_t *fs[200];
    for (long i = 0; i < 200; i++)
        fs[i] = submit_long(ex, square, i);
    for (long i = 0; i < 200; i++) {
        assert_int_equal(result_long(fs[i]), i * i);
        weft_future_free(fs[i]);
    }
    weft_executor_free(ex);
}

static void a_failing_task_fails_only_its_own_future(void **state)
{
    weft_executor_t *ex = pool_of(2, NULL);
    weft_future_t *fs[5];
    for (long i = 1; i <= 5; i++)
        fs[i - 1] = submit_long(ex, fail_on_three, i);
    for (long i = 1; i <= 5; i++) {
        if (i == 3)
            assert_fails_with(
                weft_future_result_bytes(fs[i - 1], WEFT_FOREVER, NULL),
                WEFT_EUSER + 3, "An error occurred with input 3");
        else
            assert_int_equal(result_long(fs[i - 1]), i);
        weft_future_free(fs[i - 1]);
    }
    weft_executor_free(ex);
}

static void every_start_method_runs_tasks(void **state)
{
#if defined(WEFT_TSAN)
    /* fork and spawn fork this process, which by now has threads (earlier
     * pools' managers, ThreadSanitizer's own): not for ThreadSanitizer. */
    skip();
#endif
    const char *methods[] = {"fork", "spawn", "forkserver"};
    for (int m = 0; m < 3; m++) {
        weft_executor_t *ex = pool_of(2, methods[m]);
        weft_future_t *f = submit_long(ex, square, 12);
        assert_int_equal(result_long(f), 144);
        weft_future_free(f);
        weft_executor_free(ex);
    }
}

static void maps_run_over_the_pool(void **state)
{
    weft_executor_t *ex = pool_of(2, NULL);
    enum { N = 2000 };
    long *xs = malloc(N * sizeof *xs);
    weft_bytes_t *args = malloc(N * sizeof *args);
    for (long i = 0; i < N; i++) {
        xs[i] = i;
        args[i] = (weft_bytes_t){(unsigned char *)&xs[i], sizeof xs[i]};
    }
    for (int unordered = 0; unordered < 2; unordered++) {
        weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
        o.unordered = unordered;
        weft_map_t *m;
        assert_int_equal(weft_executor_map_bytes(&m, ex, square, args, N, &o),
                         0);
        long sum = 0;
        size_t index, count = 0;
        const weft_bytes_t *r;
        while (weft_map_next_bytes(m, &r, &index) == 0) {
            assert_int_equal(long_of(r), (long)(index * index));
            if (!unordered)
                assert_int_equal(index, count);
            sum += long_of(r);
            count++;
        }
        assert_int_equal(count, N);
        assert_int_equal(sum, (long)(N - 1) * N * (2 * N - 1) / 6);
        weft_map_free(m);
    }
    free(args);
    free(xs);
    weft_executor_free(ex);
}

static int echo(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_bytes_copy(result, arg->data, arg->len);
}

static void large_arguments_and_results_arrive_whole(void **state)
{
    weft_executor_t *ex = pool_of(2, NULL);
    size_t sizes[] = {0, 1, 100000, 3 << 20};
    for (int i = 0; i < 4; i++) {
        unsigned char *big = malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++)
            big[k] = (unsigned char)(k * 7 + i);
        weft_future_t *f;
        assert_int_equal(
            weft_executor_submit_bytes(ex, echo, big, sizes[i], &f), 0);
        const weft_bytes_t *r;
        assert_int_equal(weft_future_result_bytes(f, 10 * testing_scale(), &r),
                         0);
        assert_int_equal(r->len, sizes[i]);
        if (sizes[i])
            assert_memory_equal(r->data, big, sizes[i]);
        weft_future_free(f);
        free(big);
    }
    weft_executor_free(ex);
}

/* Large payloads go through the rings behind each worker's page when they
 * fit (procpool_int.h), the rest through the socket; nothing may be
 * overwritten before it is read. Sizes on both sides of the threshold and
 * of a ring's size. Arguments: many at once behind a sleeping task, so
 * that the argument ring fills while the worker sleeps. Results: made
 * from small arguments while the pool's thread is held up in a callback,
 * so that the result ring fills before the pool reads it. */
enum { LARGE_N = 32 };

static size_t large_size(size_t i)
{
    static const size_t odd[] = {0, (64 << 10) - 1, 64 << 10, (4 << 20) + 3};
    if (i < 4)
        return i ? odd[i] : 1 << 20;
    return i == LARGE_N - 2   ? 8 << 20
           : i == LARGE_N - 1 ? (9 << 20) + 1
                              : 1 << 20;
}

static unsigned char pattern(size_t k, size_t task)
{
    return (unsigned char)(k * 7 + task * 13 + k / 4093);
}

static void fill(unsigned char *p, size_t len, size_t task)
{
    for (size_t k = 0; k < len; k++)
        p[k] = pattern(k, task);
}

/* The argument's bytes plus one, or (an 8-byte argument: its task) that
 * task's pattern. */
static int make_large(const weft_bytes_t *arg, weft_bytes_t *result)
{
    if (arg->len != sizeof(size_t)) {
        int rc = weft_bytes_copy(result, arg->data, arg->len);
        for (size_t k = 0; rc == 0 && k < result->len; k++)
            result->data[k]++;
        return rc;
    }
    size_t task;
    memcpy(&task, arg->data, sizeof task);
    size_t len = large_size(task);
    result->data = malloc(len + 1);
    result->len = len;
    fill(result->data, len, task);
    return 0;
}

static int hold_up(weft_future_t *f, void *arg)
{
    weft_sleep(0.3);
    return 0;
}

static void check_large(weft_future_t *f, size_t task, size_t len, int plus)
{
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, 30 * testing_scale(), &r), 0);
    assert_int_equal(r->len, len);
    for (size_t k = 0; k < r->len; k++)
        if (r->data[k] != (unsigned char)(pattern(k, task) + plus))
            fail_msg("task %zu: byte %zu of %zu is wrong", task, k, r->len);
    weft_future_free(f);
}

/* The pool keeps about 2 ms of work in flight per worker, as it learns
 * from run times: teach it that tasks are short, so that many go. */
static void learn_short_tasks(weft_executor_t *ex)
{
    for (long i = 0; i < 60; i++) {
        weft_future_t *f = submit_long(ex, square, i);
        assert_int_equal(result_long(f), i * i);
        weft_future_free(f);
    }
}

static void many_large_payloads_in_flight_stay_intact(void **state)
{
    weft_executor_t *ex = pool_of(1, NULL);
    learn_short_tasks(ex);
    double nap = 0.2;
    weft_future_t *gate, *fs[LARGE_N];
    assert_int_equal(
        weft_executor_submit_bytes(ex, sleep_a_while, &nap, sizeof nap, &gate),
        0);
    for (size_t i = 0; i < LARGE_N; i++) {
        size_t len = large_size(i);
        unsigned char *big = malloc(len + 1);
        fill(big, len, i);
        assert_int_equal(
            weft_executor_submit_bytes(ex, make_large, big, len, &fs[i]), 0);
        free(big);
    }
    for (size_t i = 0; i < LARGE_N; i++)
        check_large(fs[i], i, large_size(i), 1);
    weft_future_free(gate);

    learn_short_tasks(ex);
    for (size_t i = 0; i < LARGE_N; i++) {
        assert_int_equal(
            weft_executor_submit_bytes(ex, make_large, &i, sizeof i, &fs[i]),
            0);
        if (i == 0)
            assert_int_equal(
                weft_future_add_done_callback(fs[0], hold_up, NULL), 0);
    }
    /* Not waiting yet: the pool's own thread completes fs[0] and is held
     * up in its callback while the worker goes on. */
    weft_sleep(0.2);
    for (size_t i = 0; i < LARGE_N; i++)
        check_large(fs[i], i, large_size(i), 0);
    weft_executor_free(ex);
}

static void as_completed_and_callbacks_see_process_results(void **state)
{
    weft_executor_t *ex = pool_of(2, NULL);
    weft_future_t *fs[20];
    for (long i = 0; i < 20; i++)
        fs[i] = submit_long(ex, square, i);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, fs, 20, 10 * testing_scale()),
                     0);
    long sum = 0;
    weft_future_t *f;
    while (weft_as_completed_next(it, &f) == 0)
        sum += result_long(f);
    assert_int_equal(sum, 2470);
    weft_as_completed_free(it);
    for (int i = 0; i < 20; i++)
        weft_future_free(fs[i]);
    weft_executor_free(ex);
}

/* ----- Misuse ----- */

static void misuse_gets_codes_and_messages(void **state)
{
    weft_executor_t *ex = NULL;
    weft_process_pool_opts_t o = {0};
    o.start_method = "vfork";
    assert_fails_with(weft_process_pool_new(&ex, &o), WEFT_EINVAL,
                      "cannot find context for 'vfork'");
    o.start_method = NULL;
    o.has_timeout = 1;
    o.timeout = -2;
    assert_fails_with(weft_process_pool_new(&ex, &o), WEFT_EINVAL,
                      "bad timeout");
    o.timeout = NAN;
    assert_fails_with(weft_process_pool_new(&ex, &o), WEFT_EINVAL,
                      "bad timeout");
    /* A timeout without has_timeout would be ignored: refused instead. */
    o.has_timeout = 0;
    o.timeout = 0.5;
    assert_fails_with(weft_process_pool_new(&ex, &o), WEFT_EINVAL,
                      "has_timeout");
    assert_fails_with(weft_process_pool_new(NULL, NULL), WEFT_EINVAL, NULL);
    weft_executor_t *threads;
    assert_int_equal(weft_thread_pool_new(&threads, NULL), 0);
    weft_future_t *f;
    long x = 1;
    assert_fails_with(weft_process_pool_submit_timeout(threads, square, &x,
                                                       sizeof x, 1.0, &f),
                      WEFT_EINVAL, "not a process pool");
    assert_fails_with(weft_process_pool_terminate_workers(threads), WEFT_EINVAL,
                      "not a process pool");
    assert_int_equal(weft_process_pool_pids(threads, NULL, 0), 0);
    weft_executor_free(threads);

    ex = pool_of(1, NULL);
    assert_fails_with(weft_executor_submit_bytes(ex, NULL, &x, sizeof x, &f),
                      WEFT_EINVAL, NULL);
    assert_fails_with(
        weft_process_pool_submit_timeout(ex, square, &x, sizeof x, -3, &f),
        WEFT_EINVAL, "bad timeout");
    static unsigned char not_code[16];
    assert_fails_with(
        weft_executor_submit_bytes(
            ex, (weft_bytes_fn)(weft_any_fn)(void *)not_code, &x, sizeof x, &f),
        WEFT_EINVAL, "register it");
    weft_executor_free(ex);
}

/* Thousands of workers take minutes to start and are never what a caller
 * wants: refused at once, before any starts. The descriptor limit is
 * lowered meanwhile, so that a pool that did try would fail fast. */
static void an_unreasonable_max_workers_is_refused(void **state)
{
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    weft_process_pool_opts_t o = {0};
    weft_executor_t *ex = NULL;
    o.max_workers = 5000;
    int rc5000 = weft_process_pool_new(&ex, &o);
    int has5000 = testing_message_has("max_workers 5000");
    o.max_workers = 1025;
    int rc1025 = weft_process_pool_new(&ex, &o);
    int has1025 = testing_message_has("at most 1024");
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(rc5000, WEFT_EINVAL);
    assert_true(has5000);
    assert_int_equal(rc1025, WEFT_EINVAL);
    assert_true(has1025);
    assert_null(ex);
}

static int pointer_task(void *arg, void **result)
{
    return 0;
}

static void pointer_tasks_are_not_supported(void **state)
{
    weft_executor_t *ex = pool_of(1, NULL);
    weft_future_t *f;
    assert_fails_with(weft_executor_submit(ex, pointer_task, NULL, &f),
                      WEFT_ENOTSUP, "weft_executor_submit_bytes");
    weft_executor_free(ex);
}

/* ----- Shutdown ----- */

static void shutdown_refuses_new_tasks(void **state)
{
    weft_executor_t *ex = pool_of(2, NULL);
    weft_future_t *f = submit_long(ex, square, 4);
    assert_int_equal(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER), 0);
    assert_int_equal(result_long(f), 16); /* finished before shutdown ended */
    weft_future_free(f);
    long x = 1;
    assert_fails_with(weft_executor_submit_bytes(ex, square, &x, sizeof x, &f),
                      WEFT_ESHUTDOWN,
                      "cannot schedule new futures after "
                      "shutdown");
    assert_int_equal(weft_process_pool_pids(ex, NULL, 0), 0);
    weft_executor_free(ex);
}

static void shutdown_with_cancel_futures_cancels_the_queued(void **state)
{
    weft_executor_t *ex = pool_of(1, NULL);
    weft_future_t *first = submit_sleep(ex, 0.3);
    weft_future_t *queued[10];
    for (int i = 0; i < 10; i++)
        queued[i] = submit_long(ex, square, i);
    assert_int_equal(weft_future_wait(first, 0.05), WEFT_ETIMEDOUT);
    assert_true(weft_future_running(first));
    assert_int_equal(weft_executor_shutdown(ex, 1, 1, WEFT_FOREVER), 0);
    assert_int_equal(weft_future_result_bytes(first, 0, NULL), 0);
    for (int i = 0; i < 10; i++) {
        assert_true(weft_future_cancelled(queued[i]));
        assert_fails_with(weft_future_result_bytes(queued[i], 0, NULL),
                          WEFT_ECANCELLED, NULL);
        weft_future_free(queued[i]);
    }
    weft_future_free(first);
    weft_executor_free(ex);
}

static void shutdown_without_waiting_lets_the_queue_finish(void **state)
{
    weft_executor_t *ex = pool_of(1, NULL);
    weft_future_t *fs[10];
    fs[0] = submit_sleep(ex, 0.1);
    for (long i = 1; i < 10; i++)
        fs[i] = submit_long(ex, square, i);
    assert_int_equal(weft_executor_shutdown(ex, 0, 0, 0), 0);
    for (long i = 1; i < 10; i++) {
        assert_int_equal(result_long(fs[i]), i * i);
        weft_future_free(fs[i]);
    }
    weft_future_free(fs[0]);
    weft_executor_free(ex);
}

static void a_timed_out_shutdown_is_reported(void **state)
{
    weft_executor_t *ex = pool_of(1, NULL);
    weft_future_t *f = submit_sleep(ex, 10);
    double t0 = weft_monotonic();
    assert_fails_with(weft_executor_shutdown(ex, 1, 0, 0.2), WEFT_ETIMEDOUT,
                      "still running");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    /* Freeing stops what still runs. */
    weft_executor_free(ex);
    assert_true(weft_future_cancelled(f));
    weft_future_free(f);
}

/* ----- Nothing left behind ----- */

static void list_fds(char *out, size_t size)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int self = dirfd(d);
    size_t len = 0;
    struct dirent *e;
    out[0] = '\0';
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == self)
            continue;
        len += (size_t)snprintf(out + len, size - len, "%s ", e->d_name);
    }
    closedir(d);
}

static void no_descriptor_or_child_is_left(void **state)
{
    /* The fork server is started once and kept: start it first. */
    weft_executor_t *ex = pool_of(1, NULL);
    weft_executor_free(ex);
    char before[1024], after[1024], kids[1024], kids_after[1024];
    list_fds(before, sizeof before);
    testing_list_children(kids, sizeof kids, 1);
    ex = pool_of(2, NULL);
    weft_future_t *fs[50];
    for (long i = 0; i < 50; i++)
        fs[i] = submit_long(ex, square, i);
    for (long i = 0; i < 50; i++) {
        assert_int_equal(result_long(fs[i]), i * i);
        weft_future_free(fs[i]);
    }
    weft_executor_free(ex);
    list_fds(after, sizeof after);
    testing_list_children(kids_after, sizeof kids_after, 1);
    assert_string_equal(before, after);
    assert_string_equal(kids, kids_after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(results_come_back_in_their_futures),
        testing_proc_test(a_failing_task_fails_only_its_own_future),
        testing_proc_test(maps_run_over_the_pool),
        testing_proc_test(large_arguments_and_results_arrive_whole),
        testing_proc_test(many_large_payloads_in_flight_stay_intact),
        testing_proc_test(as_completed_and_callbacks_see_process_results),
        testing_proc_test(misuse_gets_codes_and_messages),
        testing_proc_test(an_unreasonable_max_workers_is_refused),
        testing_proc_test(pointer_tasks_are_not_supported),
        testing_proc_test(shutdown_refuses_new_tasks),
        testing_proc_test(shutdown_with_cancel_futures_cancels_the_queued),
        testing_proc_test(shutdown_without_waiting_lets_the_queue_finish),
        testing_proc_test(a_timed_out_shutdown_is_reported),
        testing_proc_test(no_descriptor_or_child_is_left),
        testing_proc_test(every_start_method_runs_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
