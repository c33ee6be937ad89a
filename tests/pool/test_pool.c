/* SPDX-License-Identifier: MIT */
/* pool: multiprocessing.Pool's API over executors. */
#include "testing.h"

#include <stdlib.h>

static int square(void *arg, void **result)
{
    intptr_t x = (intptr_t)arg;
    *result = (void *)(x * x);
    return 0;
}

static int fail_on_odd(void *arg, void **result)
{
    if ((intptr_t)arg % 2)
        return weft_fail(WEFT_EUSER + (int)(intptr_t)arg, "odd %d",
                         (int)(intptr_t)arg);
    *result = arg;
    return 0;
}

static weft_pool_t *threads(unsigned n)
{
    weft_pool_t *p;
    assert_int_equal(weft_thread_pool_pool_new(&p, n), 0);
    return p;
}

static void **range(size_t n)
{
    void **a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = (void *)(intptr_t)i;
    return a;
}

static void map_squares_in_order_for_every_chunksize(void **state)
{
    weft_pool_t *p = threads(4);
    void **args = range(100);
    void *out[100];
    for (size_t cs = 0; cs <= 33; cs += 11) {
        assert_int_equal(weft_pool_map(p, square, args, 100, cs, out, NULL), 0);
        for (intptr_t i = 0; i < 100; i++)
            assert_int_equal((intptr_t)out[i], i * i);
    }
    free(args);
    weft_pool_free(p);
}

static void map_reports_the_first_error_by_position(void **state)
{
    weft_pool_t *p = threads(3);
    void *args[6] = {(void *)0, (void *)2, (void *)5, (void *)4, (void *)3,
                     (void *)6};
    void *out[6] = {0};
    size_t failed = 99;
    assert_fails_with(weft_pool_map(p, fail_on_odd, args, 6, 1, out, &failed),
                      WEFT_EUSER + 5, "odd 5");
    assert_int_equal(failed, 2);
    assert_int_equal((intptr_t)out[3], 4); /* the others still ran */
    assert_int_equal((intptr_t)out[5], 6);
    weft_pool_free(p);
}

static int power(void *const *args, void **result)
{
    intptr_t b = (intptr_t)args[0], e = (intptr_t)args[1], r = 1;
    while (e-- > 0)
        r *= b;
    *result = (void *)r;
    return 0;
}

static void starmap_unpacks_argument_lists(void **state)
{
    weft_pool_t *p = threads(2);
    void *t0[2] = {(void *)2, (void *)10}, *t1[2] = {(void *)3, (void *)3};
    void *const *tuples[2] = {t0, t1};
    void *out[2];
    assert_int_equal(weft_pool_starmap(p, power, tuples, 2, 0, out, NULL), 0);
    assert_int_equal((intptr_t)out[0], 1024);
    assert_int_equal((intptr_t)out[1], 27);
    weft_pool_free(p);
}

static void note_result(void *result, void *ctx)
{
    *(intptr_t *)ctx = (intptr_t)result;
}

static void note_error(int code, void *ctx)
{
    *(intptr_t *)ctx = -code;
}

static void apply_and_apply_async(void **state)
{
    weft_pool_t *p = threads(2);
    void *r;
    assert_int_equal(weft_pool_apply(p, square, (void *)9, &r), 0);
    assert_int_equal((intptr_t)r, 81);
    intptr_t seen = 0;
    weft_async_result_t *a;
    assert_int_equal(weft_pool_apply_async(&a, p, square, (void *)5,
                                           note_result, note_error, &seen),
                     0);
    assert_int_equal(weft_async_result_get(a, 5.0, &r), 0);
    assert_int_equal((intptr_t)r, 25);
    assert_int_equal(seen, 25);
    int ok = 0;
    assert_int_equal(weft_async_result_successful(a, &ok), 0);
    assert_true(ok);
    weft_async_result_free(a);
    assert_int_equal(weft_pool_apply_async(&a, p, fail_on_odd, (void *)7,
                                           note_result, note_error, &seen),
                     0);
    assert_fails_with(weft_async_result_get(a, 5.0, NULL), WEFT_EUSER + 7,
                      "odd 7");
    assert_int_equal(seen, -(WEFT_EUSER + 7));
    weft_async_result_successful(a, &ok);
    assert_false(ok);
    weft_async_result_free(a);
    weft_pool_free(p);
}

static int wait_gate(void *arg, void **result)
{
    return weft_event_wait(arg, WEFT_FOREVER);
}

static void async_results_time_out_and_know_when_ready(void **state)
{
    weft_pool_t *p = threads(1);
    weft_event_t gate;
    weft_event_init(&gate);
    weft_async_result_t *a;
    weft_pool_apply_async(&a, p, wait_gate, &gate, NULL, NULL, NULL);
    assert_false(weft_async_result_ready(a));
    int ok;
    assert_fails_with(weft_async_result_successful(a, &ok), WEFT_ESTATE,
                      "not ready");
    double t0 = weft_monotonic();
    assert_fails_with(weft_async_result_get(a, 0.2, NULL), WEFT_ETIMEDOUT,
                      "not ready");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    weft_event_set(&gate);
    assert_int_equal(weft_async_result_wait(a, 5.0), 0);
    assert_true(weft_async_result_ready(a));
    weft_async_result_free(a);
    weft_pool_free(p);
}

static void map_async_calls_back_with_every_result(void **state)
{
    weft_pool_t *p = threads(2);
    void **args = range(10);
    intptr_t seen = 0;
    weft_async_result_t *a;
    assert_int_equal(weft_pool_map_async(&a, p, square, args, 10, 3,
                                         note_result, note_error, &seen),
                     0);
    void *results;
    assert_int_equal(weft_async_result_get(a, 5.0, &results), 0);
    void **r = results;
    assert_int_equal((intptr_t)r[9], 81);
    assert_ptr_equal((void *)seen, results);
    weft_async_result_free(a);
    free(args);
    weft_pool_free(p);
}

static void imap_in_order_and_unordered(void **state)
{
    weft_pool_t *p = threads(3);
    void **args = range(50);
    weft_map_t *m;
    assert_int_equal(weft_pool_imap(&m, p, square, args, 50, 4), 0);
    void *r;
    for (intptr_t i = 0; i < 50; i++) {
        assert_int_equal(weft_map_next(m, &r, NULL), 0);
        assert_int_equal((intptr_t)r, i * i);
    }
    weft_map_free(m);
    assert_int_equal(weft_pool_imap_unordered(&m, p, square, args, 50, 4), 0);
    intptr_t sum = 0;
    int count = 0;
    while (weft_map_next(m, &r, NULL) == 0) {
        sum += (intptr_t)r;
        count++;
    }
    assert_int_equal(count, 50);
    assert_int_equal(sum, 49 * 50 * 99 / 6);
    weft_map_free(m);
    free(args);
    weft_pool_free(p);
}

static void close_refuses_new_work_and_join_needs_it(void **state)
{
    weft_pool_t *p = threads(2);
    assert_fails_with(weft_pool_join(p, 1.0), WEFT_ESTATE, "still running");
    assert_int_equal(weft_pool_close(p), 0);
    void *r;
    assert_fails_with(weft_pool_apply(p, square, (void *)2, &r), WEFT_ESTATE,
                      "Pool not running");
    assert_int_equal(weft_pool_join(p, 5.0), 0);
    weft_pool_free(p);
}

static void terminate_cancels_queued_work_and_stops_running_work(void **state)
{
    weft_pool_t *p = threads(1);
    weft_event_t never;
    weft_event_init(&never);
    weft_async_result_t *running, *queued;
    weft_pool_apply_async(&running, p, wait_gate, &never, NULL, NULL, NULL);
    weft_pool_apply_async(&queued, p, square, (void *)3, NULL, NULL, NULL);
    weft_sleep(0.05);
    assert_int_equal(weft_pool_terminate(p), 0);
    double t0 = weft_monotonic();
    assert_int_equal(weft_pool_join(p, 5.0), 0);
    assert_true(weft_monotonic() - t0 < 1.0 * testing_scale());
    assert_int_equal(weft_async_result_get(running, 0, NULL),
                     WEFT_ECANCELLED);
    assert_int_equal(weft_async_result_get(queued, 0, NULL), WEFT_ECANCELLED);
    weft_async_result_free(running);
    weft_async_result_free(queued);
    weft_pool_free(p);
}

static void a_pool_works_over_any_executor(void **state)
{
    weft_executor_t *ex;
    weft_inline_executor_new(&ex);
    weft_pool_t *p;
    assert_int_equal(weft_pool_new(&p, ex, 1), 0);
    void **args = range(5);
    void *out[5];
    assert_int_equal(weft_pool_map(p, square, args, 5, 2, out, NULL), 0);
    assert_int_equal((intptr_t)out[4], 16);
    free(args);
    weft_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_squares_in_order_for_every_chunksize),
        cmocka_unit_test(map_reports_the_first_error_by_position),
        cmocka_unit_test(starmap_unpacks_argument_lists),
        cmocka_unit_test(apply_and_apply_async),
        cmocka_unit_test(async_results_time_out_and_know_when_ready),
        cmocka_unit_test(map_async_calls_back_with_every_result),
        cmocka_unit_test(imap_in_order_and_unordered),
        cmocka_unit_test(close_refuses_new_work_and_join_needs_it),
        cmocka_unit_test(terminate_cancels_queued_work_and_stops_running_work),
        cmocka_unit_test(a_pool_works_over_any_executor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
