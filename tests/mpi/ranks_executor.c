/* SPDX-License-Identifier: MIT */
/* mpi: the executor on real MPI ranks, run by ctest under mpirun with 3
 * and with 5 ranks (argv[1] is the size asked for, checked first). Rank 0
 * runs the cmocka tests; before each test's executor it tells the other
 * ranks (MPI_Bcast) to serve one more, as MPICommExecutor's workers do.
 *
 * `ranks_executor N kill` is another program: rank 1 is killed (SIGKILL)
 * inside a task, and the root must report it and end cleanly; run by
 * tests/mpi/test_mpirun.c, under mpirun --enable-recovery and without. */
#include <mpi.h>

#include "testing.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/mpi.h"

static int world_rank, world_size;

/* ----- Tasks (registered on every rank) ----- */

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
WEFT_MPI_TASK(fail_on_three)

static int slow(const weft_bytes_t *arg, weft_bytes_t *result)
{
    weft_sleep(0.2);
    return 0;
}
WEFT_MPI_TASK(slow)

static int fnv(const weft_bytes_t *arg, weft_bytes_t *result)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < arg->len; i++)
        h = (h ^ arg->data[i]) * 1099511628211ull;
    /* The result is as large as the argument, to carry it back too. */
    int rc = weft_bytes_copy(result, arg->data, arg->len);
    if (rc == 0)
        memcpy(result->data, &h, sizeof h);
    return rc;
}
WEFT_MPI_TASK(fnv)

static int which_rank(const weft_bytes_t *arg, weft_bytes_t *result)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    int v = r ? atoi(r) : -1;
    return weft_bytes_copy(result, &v, sizeof v);
}
WEFT_MPI_TASK(which_rank)

static int fail_on_rank_2(const weft_bytes_t *arg, weft_bytes_t *result)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (r && atoi(r) == 2)
        return weft_fail(WEFT_EUSER, "rank 2 has no database");
    return 0;
}
WEFT_MPI_TASK(fail_on_rank_2)

static int die(const weft_bytes_t *arg, weft_bytes_t *result)
{
    raise(SIGKILL);
    return 0;
}
WEFT_MPI_TASK(die)

/* ----- The root's side ----- */

/* Tell the workers whether another executor comes (1; 2: one whose start
 * fails; 3: register "late" after it) or not (0). */
static void announce(int more)
{
    MPI_Bcast(&more, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

static weft_executor_t *executor_as(const weft_mpi_opts_t *opts, int what)
{
    announce(what);
    weft_executor_t *ex = NULL;
    assert_int_equal(weft_mpi_comm_executor_new(&ex, MPI_COMM_WORLD, opts), 0);
    assert_non_null(ex);
    assert_string_equal(weft_executor_kind(ex), "mpi");
    assert_int_equal(weft_executor_max_workers(ex), world_size - 1);
    return ex;
}

static weft_executor_t *executor(const weft_mpi_opts_t *opts)
{
    return executor_as(opts, 1);
}

static long long_of(const weft_bytes_t *b)
{
    long v = 0;
    assert_int_equal(b->len, sizeof v);
    memcpy(&v, b->data, sizeof v);
    return v;
}

static weft_future_t *submit_long(weft_executor_t *ex, weft_bytes_fn fn, long x)
{
    weft_future_t *f = NULL;
    assert_int_equal(weft_executor_submit_bytes(ex, fn, &x, sizeof x, &f), 0);
    return f;
}

static void the_world_has_the_size_asked_for(void **state)
{
    int *want = *state;
    assert_int_equal(world_size, *want);
}

static void ten_thousand_tasks_spread_over_every_worker(void **state)
{
    weft_executor_t *ex = executor(NULL);
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
    /* Every worker takes part when tasks are slow enough to share. */
    int seen[64] = {0};
    weft_map_t *m;
    long xs[40];
    weft_bytes_t args[40];
    for (int i = 0; i < 40; i++) {
        xs[i] = i;
        args[i] = (weft_bytes_t){(unsigned char *)&xs[i], sizeof xs[i]};
    }
    weft_map_opts_t o = {0};
    o.timeout = WEFT_FOREVER;
    o.chunksize = 4;
    assert_int_equal(weft_executor_map_bytes(&m, ex, slow, args, 8, &o), 0);
    const weft_bytes_t *r;
    size_t n = 0;
    while (weft_map_next_bytes(m, &r, NULL) == 0)
        n++;
    assert_int_equal(n, 8);
    weft_map_free(m);
    assert_int_equal(weft_executor_map_bytes(&m, ex, which_rank, args,
                                             (size_t)world_size * 4, &o),
                     0);
    while (weft_map_next_bytes(m, &r, NULL) == 0) {
        int rank;
        memcpy(&rank, r->data, sizeof rank);
        assert_true(rank > 0 && rank < world_size);
        seen[rank]++;
    }
    weft_map_free(m);
    free(fs);
    weft_executor_free(ex);
    (void)seen;
}

static void a_failing_task_fails_alone(void **state)
{
    weft_executor_t *ex = executor(NULL);
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
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(long_of(r), i);
        }
        weft_future_free(fs[i]);
    }
    weft_executor_free(ex);
}

static void tasks_not_sent_are_cancelled_at_shutdown(void **state)
{
    weft_executor_t *ex = executor(NULL);
    enum { N = 40 };
    weft_future_t *fs[N];
    for (long i = 0; i < N; i++)
        fs[i] = submit_long(ex, slow, i);
    assert_int_equal(weft_future_cancel(fs[N - 1]), 0);
    while (!weft_future_running(fs[0]))
        weft_sleep(0.001);
    assert_int_equal(weft_executor_shutdown(ex, 1, 1, WEFT_FOREVER), 0);
    size_t cancelled = 0, ran = 0;
    for (long i = 0; i < N; i++) {
        int rc = weft_future_result_bytes(fs[i], 0, NULL);
        assert_true(rc == 0 || rc == WEFT_ECANCELLED);
        cancelled += rc == WEFT_ECANCELLED;
        ran += rc == 0;
        weft_future_free(fs[i]);
    }
    /* One task a worker was running (or sent) when shutdown came. */
    assert_true(ran >= 1 && ran <= (size_t)world_size - 1);
    assert_int_equal(cancelled + ran, N);
    weft_future_t *f;
    long x = 1;
    assert_fails_with(weft_executor_submit_bytes(ex, square, &x, sizeof x, &f),
                      WEFT_ESHUTDOWN, "after shutdown");
    weft_executor_free(ex);
}

static void a_64_mib_argument_and_result_arrive_whole(void **state)
{
    weft_executor_t *ex = executor(NULL);
    size_t len = (size_t)64 << 20;
    unsigned char *big = malloc(len);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        big[i] = (unsigned char)(i * 2654435761u >> 13);
        h = (h ^ big[i]) * 1099511628211ull;
    }
    weft_future_t *f;
    assert_int_equal(weft_executor_submit_bytes(ex, fnv, big, len, &f), 0);
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, WEFT_FOREVER, &r), 0);
    assert_int_equal(r->len, len);
    assert_memory_equal(r->data, &h, sizeof h);
    assert_memory_equal(r->data + 8, big + 8, len - 8);
    weft_future_free(f);
    free(big);
    weft_executor_free(ex);
}

static void unknown_names_fail_at_submit_or_on_the_worker(void **state)
{
    weft_executor_t *ex = executor_as(NULL, 3);
    weft_future_t *f = NULL;
    long x = 7;
    assert_fails_with(weft_mpi_submit_name(ex, "no_such_task", &x, sizeof x, &f),
                      WEFT_EKEY, "no_such_task");
    /* Registered here after the start: the workers do not know it. */
    assert_int_equal(weft_mpi_register("late", square), 0);
    assert_int_equal(weft_mpi_submit_name(ex, "late", &x, sizeof x, &f), 0);
    assert_fails_with(weft_future_result_bytes(f, WEFT_FOREVER, NULL),
                      WEFT_EKEY, "no task registered as 'late' on rank");
    weft_future_free(f);
    assert_int_equal(weft_mpi_submit_name(ex, "square", &x, sizeof x, &f), 0);
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, WEFT_FOREVER, &r), 0);
    assert_int_equal(long_of(r), 49);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void a_failing_initializer_breaks_the_executor(void **state)
{
    weft_mpi_opts_t o = {0};
    o.initializer = fail_on_rank_2;
    weft_executor_t *ex = executor(&o);
    weft_future_t *f;
    long x = 1;
    assert_fails_with(weft_executor_submit_bytes(ex, square, &x, sizeof x, &f),
                      WEFT_EBROKEN, "initializer failed on rank 2");
    assert_true(testing_message_has("rank 2 has no database"));
    weft_executor_free(ex);
}

/* Last: it leaves a name registered on rank 2 alone. */
static void a_name_missing_on_a_rank_fails_the_start(void **state)
{
    announce(2);
    weft_executor_t *ex = NULL;
    assert_fails_with(weft_mpi_comm_executor_new(&ex, MPI_COMM_WORLD, NULL),
                      WEFT_EINVAL, "task 'only_on_rank_2' is registered on "
                                   "rank 2 but not on rank 0");
    assert_null(ex);
}

/* ----- The workers' side ----- */

static int serve(void)
{
    for (;;) {
        int more = 0;
        MPI_Bcast(&more, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (more == 0)
            return 0;
        if (more == 2 && world_rank == 2)
            weft_mpi_register("only_on_rank_2", square);
        weft_executor_t *ex = NULL;
        int rc = weft_mpi_comm_executor_new(&ex, MPI_COMM_WORLD, NULL);
        if (ex != NULL || (rc != 0) != (more == 2)) {
            fprintf(stderr, "rank %d: serving ended with %d (%s)\n",
                    world_rank, rc, weft_last_message());
            return 1;
        }
        /* The root registers "late" while this executor runs (see
         * unknown_names_fail_at_submit_or_on_the_worker); the workers
         * catch up once it has ended, so that the next one starts. */
        if (more == 3)
            weft_mpi_register("late", square);
    }
}

/* ----- A worker killed ----- */

static int killed(void)
{
    if (world_rank != 0) {
        weft_executor_t *ex = NULL;
        int rc = weft_mpi_comm_executor_new(&ex, MPI_COMM_WORLD, NULL);
        return rc != 0;
    }
    weft_mpi_opts_t o = {0};
    o.worker_timeout = 2.0;
    weft_executor_t *ex = NULL;
    if (weft_mpi_comm_executor_new(&ex, MPI_COMM_WORLD, &o) != 0)
        return 1;
    /* The first task goes to rank 1 (all idle: the first worker). */
    weft_future_t *d;
    weft_executor_submit_bytes(ex, die, NULL, 0, &d);
    weft_future_t *fs[20];
    for (long i = 0; i < 20; i++)
        weft_executor_submit_bytes(ex, square, &i, sizeof i, &fs[i]);
    int ok = 0;
    for (long i = 0; i < 20; i++) {
        const weft_bytes_t *r;
        long v;
        if (weft_future_result_bytes(fs[i], WEFT_FOREVER, &r) == 0 &&
            (memcpy(&v, r->data, sizeof v), v == i * i))
            ok++;
        weft_future_free(fs[i]);
    }
    int rc = weft_future_result_bytes(d, WEFT_FOREVER, NULL);
    printf("die: %s: %s\n", weft_errname(rc) ? weft_errname(rc) : "0",
           weft_last_message());
    printf("squares ok: %d of 20, live workers: %u\n", ok,
           weft_mpi_live_workers(ex));
    weft_future_free(d);
    weft_executor_free(ex);
    printf("root: freed the executor\n");
    fflush(stdout);
    return rc == WEFT_EWORKERDIED && ok == 20 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int provided;
    /* A rank dies in the "kill" mode: without this, Open MPI's MPI_Finalize
     * waits in its opening fence for the dead rank too, at times forever
     * (see "A worker that dies" in weft/mpi.h). Read by MPI_Init. */
    if (argc > 2 && strcmp(argv[2], "kill") == 0)
        setenv("OMPI_MCA_async_mpi_finalize", "1", 0);
    /* Small pieces, so that the 64 MiB test goes as many MPI messages
     * (every rank must agree on the piece size). */
    setenv("WEFT_MPI_PIECE_BYTES", "1048576", 1);
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    int want = argc > 1 ? atoi(argv[1]) : 0;
    if (world_size != want) {
        fprintf(stderr, "the world has %d ranks, not the %d asked for\n",
                world_size, want);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int rc;
    if (argc > 2 && strcmp(argv[2], "kill") == 0) {
        rc = killed();
    } else if (world_rank != 0) {
        rc = serve();
    } else {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_prestate(the_world_has_the_size_asked_for, &want),
            cmocka_unit_test(ten_thousand_tasks_spread_over_every_worker),
            cmocka_unit_test(a_failing_task_fails_alone),
            cmocka_unit_test(tasks_not_sent_are_cancelled_at_shutdown),
            cmocka_unit_test(a_64_mib_argument_and_result_arrive_whole),
            cmocka_unit_test(unknown_names_fail_at_submit_or_on_the_worker),
            cmocka_unit_test(a_failing_initializer_breaks_the_executor),
            cmocka_unit_test(a_name_missing_on_a_rank_fails_the_start),
        };
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        announce(0);
    }
    MPI_Finalize();
    return rc;
}
