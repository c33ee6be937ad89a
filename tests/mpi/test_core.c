/* SPDX-License-Identifier: MIT */
/* mpi: the executor's core over the in-process transport (worker "ranks"
 * are threads), so that it runs, sanitizers included, without MPI: results,
 * errors, maps, waits, cancellation, shutdown, the initializer, large
 * arguments, a worker that falls silent, and an idle executor that does
 * not spin. tests/mpi/ranks_executor.c runs the same under mpirun. */
#include "testing.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "mpi/mpi_int.h"

static weft_executor_t *local(unsigned n, const weft_mpi_opts_t *opts,
                              weft__mpi_hub_t **hub)
{
    weft_executor_t *ex = NULL;
    assert_int_equal(weft__mpi_local_executor_new(&ex, n, opts, hub), 0);
    assert_string_equal(weft_executor_kind(ex), "mpi");
    assert_int_equal(weft_executor_max_workers(ex), n);
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
WEFT_MPI_TASK(square)

static int fail_on_three(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    memcpy(&x, arg->data, sizeof x);
    if (x == 3)
        return weft_fail(WEFT_EUSER + 3, "An error occurred with input %ld", x);
    return weft_bytes_copy(result, &x, sizeof x);
}

static weft_event_t gate;
static _Atomic int gated_started, ran_after_gate;

static int wait_gate(const weft_bytes_t *arg, weft_bytes_t *result)
{
    atomic_fetch_add(&gated_started, 1);
    weft_event_wait(&gate, WEFT_FOREVER);
    return 0;
}

static int count_run(const weft_bytes_t *arg, weft_bytes_t *result)
{
    atomic_fetch_add(&ran_after_gate, 1);
    return 0;
}

static weft_future_t *submit_long(weft_executor_t *ex, weft_bytes_fn fn, long x)
{
    weft_future_t *f = NULL;
    assert_int_equal(weft_executor_submit_bytes(ex, fn, &x, sizeof x, &f), 0);
    return f;
}

static void ten_thousand_tasks_each_give_their_own_result(void **state)
{
    weft_executor_t *ex = local(3, NULL, NULL);
    enum { N = 10000 };
    weft_future_t **fs = malloc(N * sizeof *fs);
    for (long i = 0; i < N; i++)
        fs[i] = submit_long(ex, square, i);
    for (long i = 0; i < N; i++) {
        const weft_bytes_t *r;
        assert_int_equal(weft_future_result_bytes(fs[i], WEFT_FOREVER, &r), 0);
        assert_int_equal(long_of(r), i * i);
        weft_future_free(fs[i]);
    }
    free(fs);
    weft_executor_free(ex);
}

static void a_failing_task_fails_alone_and_the_worker_serves_on(void **state)
{
    weft_executor_t *ex = local(2, NULL, NULL);
    weft_future_t *fs[8];
    for (long i = 0; i < 8; i++)
        fs[i] = submit_long(ex, fail_on_three, i);
    for (long i = 0; i < 8; i++) {
        const weft_bytes_t *r;
        int rc = weft_future_result_bytes(fs[i], WEFT_FOREVER, &r);
        if (i == 3) {
            assert_int_equal(rc, WEFT_EUSER + 3);
            assert_string_equal(weft_last_message(),
                                "An error occurred with input 3");
            weft_error_info_t e;
            assert_int_equal(weft_future_error(fs[i], 0, &e), 0);
            assert_int_equal(e.code, WEFT_EUSER + 3);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(long_of(r), i);
        }
        weft_future_free(fs[i]);
    }
    weft_executor_free(ex);
}

static void map_with_chunksize_and_progress_gives_every_result(void **state)
{
    weft_executor_t *ex = local(3, NULL, NULL);
    enum { N = 500 };
    long xs[N];
    weft_bytes_t args[N];
    for (long i = 0; i < N; i++) {
        xs[i] = i;
        args[i] = (weft_bytes_t){(unsigned char *)&xs[i], sizeof xs[i]};
    }
    weft_map_opts_t o = {0};
    o.timeout = WEFT_FOREVER;
    o.chunksize = 7;
    weft_map_t *m;
    assert_int_equal(weft_executor_map_bytes(&m, ex, square, args, N, &o), 0);
    const weft_bytes_t *r;
    size_t index, n = 0;
    while (weft_map_next_bytes(m, &r, &index) == 0) {
        assert_int_equal(index, n);
        assert_int_equal(long_of(r), (long)(n * n));
        n++;
    }
    assert_int_equal(n, N);
    weft_map_free(m);

    weft_progress_t *p;
    assert_int_equal(weft_progress_new(&p, 20, &(weft_progress_opts_t){
                                                   .force_terminal = -1,
                                                   .interval = 100}),
                     0);
    weft_future_t *fs[20];
    for (long i = 0; i < 20; i++) {
        fs[i] = submit_long(ex, square, i);
        assert_int_equal(weft_progress_track(p, fs[i]), 0);
    }
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, fs, 20, WEFT_FOREVER), 0);
    weft_future_t *f;
    size_t seen = 0;
    while (weft_as_completed_next(it, &f) == 0)
        seen++;
    assert_int_equal(seen, 20);
    assert_int_equal(weft_progress_completed(p), 20);
    size_t nd = 0;
    assert_int_equal(weft_wait(fs, 20, 0, WEFT_ALL_COMPLETED, NULL, &nd, NULL,
                               NULL),
                     0);
    assert_int_equal(nd, 20);
    weft_as_completed_free(it);
    for (int i = 0; i < 20; i++)
        weft_future_free(fs[i]);
    weft_progress_free(p);
    weft_executor_free(ex);
}

/* Hold every worker in a task, queue more, cancel the queued ones: they
 * never run, and the rest do. */
static void tasks_not_sent_can_be_cancelled_and_never_run(void **state)
{
    weft_event_init(&gate);
    atomic_store(&gated_started, 0);
    atomic_store(&ran_after_gate, 0);
    weft_executor_t *ex = local(2, NULL, NULL);
    weft_future_t *held[2], *queued[10];
    for (int i = 0; i < 2; i++)
        held[i] = submit_long(ex, wait_gate, i);
    while (atomic_load(&gated_started) < 2)
        weft_sleep(0.001);
    for (int i = 0; i < 10; i++)
        queued[i] = submit_long(ex, count_run, i);
    /* Until a result says how long tasks take, a worker has one in flight:
     * these are all still at the root. */
    for (int i = 0; i < 10; i += 2)
        assert_int_equal(weft_future_cancel(queued[i]), 0);
    weft_event_set(&gate);
    for (int i = 0; i < 10; i++) {
        int rc = weft_future_result_bytes(queued[i], WEFT_FOREVER, NULL);
        assert_int_equal(rc, i % 2 ? 0 : WEFT_ECANCELLED);
        weft_future_free(queued[i]);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(weft_future_result_bytes(held[i], WEFT_FOREVER, NULL), 0);
        weft_future_free(held[i]);
    }
    weft_executor_free(ex);
    assert_int_equal(atomic_load(&ran_after_gate), 5);
}

static void shutdown_cancel_futures_cancels_the_queue_and_waits(void **state)
{
    weft_event_init(&gate);
    atomic_store(&gated_started, 0);
    atomic_store(&ran_after_gate, 0);
    weft_executor_t *ex = local(1, NULL, NULL);
    weft_future_t *held = submit_long(ex, wait_gate, 0);
    while (atomic_load(&gated_started) < 1)
        weft_sleep(0.001);
    weft_future_t *queued[5];
    for (int i = 0; i < 5; i++)
        queued[i] = submit_long(ex, count_run, i);
    assert_int_equal(weft_executor_shutdown(ex, 0, 1, 0), 0);
    weft_future_t *f;
    long x = 1;
    assert_fails_with(weft_executor_submit_bytes(ex, square, &x, sizeof x, &f),
                      WEFT_ESHUTDOWN, "after shutdown");
    for (int i = 0; i < 5; i++)
        assert_true(weft_future_cancelled(queued[i]));
    weft_event_set(&gate);
    assert_int_equal(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER), 0);
    assert_int_equal(weft_future_result_bytes(held, 0, NULL), 0);
    weft_future_free(held);
    for (int i = 0; i < 5; i++)
        weft_future_free(queued[i]);
    weft_executor_free(ex);
    assert_int_equal(atomic_load(&ran_after_gate), 0);
}

static _Atomic int initialized;

static int init_ok(const weft_bytes_t *arg, weft_bytes_t *result)
{
    assert_int_equal(arg->len, 5);
    assert_memory_equal(arg->data, "hello", 5);
    atomic_fetch_add(&initialized, 1);
    return 0;
}

static int init_fails(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_fail(WEFT_EUSER, "no database here");
}

static void the_initializer_runs_once_on_every_worker(void **state)
{
    atomic_store(&initialized, 0);
    weft_mpi_opts_t o = {0};
    o.initializer = init_ok;
    o.initarg = "hello";
    o.initarg_len = 5;
    weft_executor_t *ex = local(3, &o, NULL);
    assert_int_equal(atomic_load(&initialized), 3);
    weft_future_t *f = submit_long(ex, square, 4);
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, WEFT_FOREVER, &r), 0);
    assert_int_equal(long_of(r), 16);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void a_failing_initializer_breaks_the_executor(void **state)
{
    weft_mpi_opts_t o = {0};
    o.initializer = init_fails;
    weft_executor_t *ex = local(2, &o, NULL);
    weft_future_t *f;
    long x = 1;
    assert_fails_with(weft_executor_submit_bytes(ex, square, &x, sizeof x, &f),
                      WEFT_EBROKEN, "initializer failed");
    assert_true(testing_message_has("no database here"));
    assert_true(testing_message_has("WEFT_EUSER: no database here"));
    weft_executor_free(ex);
}

static void submit_by_name_finds_registered_tasks_only(void **state)
{
    weft_executor_t *ex = local(2, NULL, NULL);
    weft_future_t *f = NULL;
    long x = 9;
    assert_int_equal(weft_mpi_submit_name(ex, "square", &x, sizeof x, &f), 0);
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, WEFT_FOREVER, &r), 0);
    assert_int_equal(long_of(r), 81);
    weft_future_free(f);
    assert_fails_with(weft_mpi_submit_name(ex, "no_such_task", &x, sizeof x, &f),
                      WEFT_EKEY, "no_such_task");
    weft_executor_free(ex);
    assert_fails_with(weft_mpi_register("square", fail_on_three), WEFT_EEXIST,
                      "taken");
    assert_int_equal(weft_mpi_register("square", square), 0);
    assert_fails_with(weft_mpi_register("", square), WEFT_EINVAL, "1 to 255");
}

static void names_that_differ_between_ranks_are_named(void **state)
{
    weft_bytes_t a = {(unsigned char *)"a\0b\0", 4};
    weft_bytes_t ab = {(unsigned char *)"a\0b\0", 4};
    weft_bytes_t only_a = {(unsigned char *)"a\0", 2};
    weft_bytes_t abc = {(unsigned char *)"a\0b\0c\0", 6};
    assert_int_equal(weft__mpi_names_check(&a, &ab, 0, 2), 0);
    assert_fails_with(weft__mpi_names_check(&a, &only_a, 0, 2), WEFT_EINVAL,
                      "task 'b' is registered on rank 0 (the root) but not on "
                      "rank 2");
    assert_fails_with(weft__mpi_names_check(&a, &abc, 0, 4), WEFT_EINVAL,
                      "task 'c' is registered on rank 4 but not on rank 0");
}

static int echo_sum(const weft_bytes_t *arg, weft_bytes_t *result)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < arg->len; i++)
        h = (h ^ arg->data[i]) * 1099511628211ull;
    return weft_bytes_copy(result, &h, sizeof h);
}

static void a_64_mib_argument_arrives_whole(void **state)
{
    weft_executor_t *ex = local(2, NULL, NULL);
    size_t len = (size_t)64 << 20;
    unsigned char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = (unsigned char)(i * 2654435761u >> 13);
    weft_bytes_t b = {big, len};
    weft_bytes_t want;
    assert_int_equal(echo_sum(&b, &want), 0);
    weft_future_t *f;
    assert_int_equal(weft_executor_submit_bytes(ex, echo_sum, big, len, &f), 0);
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, WEFT_FOREVER, &r), 0);
    assert_int_equal(r->len, want.len);
    assert_memory_equal(r->data, want.data, want.len);
    weft_future_free(f);
    weft_bytes_free(&want);
    free(big);
    weft_executor_free(ex);
}

/* Rank 1 falls silent while it runs a task: that task fails with
 * WEFT_EWORKERDIED once the timeout passes, and the others finish on the
 * worker left. */
static void a_silent_worker_fails_its_task_and_the_rest_go_on(void **state)
{
    weft_event_init(&gate);
    atomic_store(&gated_started, 0);
    weft_mpi_opts_t o = {0};
    /* Long enough that the live worker's heartbeats (every fifth of it)
     * are never late enough to give it up too, even in a slow build. */
    o.worker_timeout = 0.5 * testing_scale();
    weft__mpi_hub_t *hub;
    weft_executor_t *ex = local(2, &o, &hub);
    weft_future_t *held[2];
    for (int i = 0; i < 2; i++)
        held[i] = submit_long(ex, wait_gate, i);
    while (atomic_load(&gated_started) < 2)
        weft_sleep(0.001);
    weft_future_t *more[6];
    for (int i = 0; i < 6; i++)
        more[i] = submit_long(ex, square, i);
    weft__mpi_hub_kill(hub, 1);
    /* Rank 2 must not finish its held task: the dead worker's is the only
     * one to fail, by the timeout. */
    weft_future_t *first = NULL;
    size_t nd = 0;
    weft_future_t *done[2];
    assert_int_equal(weft_wait(held, 2, 30 * testing_scale(),
                               WEFT_FIRST_COMPLETED, done, &nd, NULL, NULL),
                     0);
    assert_int_equal(nd, 1);
    first = done[0];
    /* The silence counts from the worker's last heartbeat, which may come
     * a little before the cut: no lower bound on the wait here. */
    assert_fails_with(weft_future_result_bytes(first, 0, NULL),
                      WEFT_EWORKERDIED, "rank 1 sent nothing");
    assert_true(testing_message_has("presumed dead"));
    assert_int_equal(weft_mpi_live_workers(ex), 1);
    weft_event_set(&gate);
    for (int i = 0; i < 6; i++) {
        const weft_bytes_t *r;
        assert_int_equal(weft_future_result_bytes(more[i], WEFT_FOREVER, &r), 0);
        assert_int_equal(long_of(r), i * i);
        weft_future_free(more[i]);
    }
    for (int i = 0; i < 2; i++)
        weft_future_free(held[i]);
    weft_executor_free(ex);
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* Four progress threads and three serving threads wait for a second: a
 * spinning one alone would burn a whole second of CPU. */
static void an_idle_executor_does_not_spin(void **state)
{
    weft_executor_t *ex = local(3, NULL, NULL);
    weft_future_t *f = submit_long(ex, square, 2);
    assert_int_equal(weft_future_result_bytes(f, WEFT_FOREVER, NULL), 0);
    weft_future_free(f);
    double c0 = cpu_seconds(), t0 = weft_monotonic();
    weft_sleep(1.0);
    double cpu = cpu_seconds() - c0, wall = weft_monotonic() - t0;
    print_message("idle: %.3f s of CPU in %.3f s\n", cpu, wall);
    assert_true(cpu < 0.25 * wall * testing_scale());
    weft_executor_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ten_thousand_tasks_each_give_their_own_result),
        cmocka_unit_test(a_failing_task_fails_alone_and_the_worker_serves_on),
        cmocka_unit_test(map_with_chunksize_and_progress_gives_every_result),
        cmocka_unit_test(tasks_not_sent_can_be_cancelled_and_never_run),
        cmocka_unit_test(shutdown_cancel_futures_cancels_the_queue_and_waits),
        cmocka_unit_test(the_initializer_runs_once_on_every_worker),
        cmocka_unit_test(a_failing_initializer_breaks_the_executor),
        cmocka_unit_test(submit_by_name_finds_registered_tasks_only),
        cmocka_unit_test(names_that_differ_between_ranks_are_named),
        cmocka_unit_test(a_64_mib_argument_arrives_whole),
        cmocka_unit_test(a_silent_worker_fails_its_task_and_the_rest_go_on),
        cmocka_unit_test(an_idle_executor_does_not_spin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
