/* SPDX-License-Identifier: MIT */
/* mpi: the executor's core under random traffic, over the in-process
 * transport: each round makes an executor of 1 to 4 worker threads,
 * submits a random mix of quick, slow and failing tasks, cancels some at
 * random, and shuts down at a random point (waiting or not, cancelling or
 * not). Every future must end exactly once, as its task says: the right
 * result, its task's error, or cancelled (only where a cancel was asked
 * or shutdown cancelled, or the executor was freed after a shutdown that
 * did not wait). Seeded from WEFT_CHAOS_SEED. */
#include "testing.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

static _Atomic long runs;

static int task(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x[2];
    memcpy(x, arg->data, sizeof x);
    atomic_fetch_add(&runs, 1);
    if (x[1] == 1)
        weft_sleep(0.0005);
    if (x[1] == 2)
        return weft_fail(WEFT_EUSER + 1, "task %ld fails", x[0]);
    long r = x[0] * 3;
    return weft_bytes_copy(result, &r, sizeof r);
}

static void one_round(testing_rng_t *rng)
{
    unsigned workers = 1 + (unsigned)testing_rng_below(rng, 4);
    weft_executor_t *ex;
    assert_int_equal(weft__mpi_local_executor_new(&ex, workers, NULL, NULL), 0);
    size_t n = 1 + testing_rng_below(rng, 400);
    size_t stop_at = testing_rng_below(rng, n + 1);
    int wait = (int)testing_rng_below(rng, 2), cancel = (int)testing_rng_below(rng, 2);
    weft_future_t **fs = calloc(n, sizeof *fs);
    long *kind = calloc(n, sizeof *kind);
    int *asked = calloc(n, sizeof *asked);
    size_t submitted = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == stop_at)
            weft_executor_shutdown(ex, 0, cancel, 0);
        long x[2] = {(long)i, (long)testing_rng_below(rng, 3)};
        kind[i] = x[1];
        int rc = weft_executor_submit_bytes(ex, task, x, sizeof x, &fs[i]);
        if (i >= stop_at) {
            assert_int_equal(rc, WEFT_ESHUTDOWN);
            continue;
        }
        assert_int_equal(rc, 0);
        submitted++;
        if (testing_rng_below(rng, 8) == 0)
            asked[i] = weft_future_cancel(fs[i]) == 0;
    }
    if (wait)
        assert_int_equal(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER), 0);
    weft_executor_free(ex);
    size_t cancelled = 0;
    for (size_t i = 0; i < submitted; i++) {
        assert_true(weft_future_done(fs[i]));
        const weft_bytes_t *r;
        int rc = weft_future_result_bytes(fs[i], 0, &r);
        if (rc == WEFT_ECANCELLED) {
            /* Asked for; or shutdown cancelled the queue; or the executor
             * was freed after a shutdown that did not wait (which cancels
             * what was not sent, as the process pool does). */
            assert_true(asked[i] || (cancel && i < stop_at) ||
                        (!wait && stop_at < n));
            cancelled++;
        } else if (kind[i] == 2) {
            assert_int_equal(rc, WEFT_EUSER + 1);
        } else {
            assert_int_equal(rc, 0);
            long v;
            memcpy(&v, r->data, sizeof v);
            assert_int_equal(v, (long)i * 3);
        }
        weft_future_free(fs[i]);
    }
    free(fs);
    free(kind);
    free(asked);
}

static void random_rounds_account_for_every_task(void **state)
{
    testing_rng_t rng;
    testing_rng_init(&rng, 1);
    double end = weft_monotonic() + testing_torture_seconds();
    int rounds = 0;
    do {
        one_round(&rng);
        rounds++;
    } while (weft_monotonic() < end);
    print_message("%d rounds, %ld tasks ran\n", rounds, atomic_load(&runs));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_rounds_account_for_every_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
