/* SPDX-License-Identifier: MIT */
/* Where streams meet futures and coroutines: weft_rx_to_future (first,
 * last, the list of all; empty streams, errors, cancelling the future
 * disposes the stream), and a future made into a stream and back. */
#include "owned.h"
#include "rx_record.h"

static weft_rx_observable_t *range(long a, long n)
{
    weft_rx_observable_t *o;
    weft_rx_range(&o, a, n);
    return o;
}

static int result_of(weft_rx_observable_t *o, int mode, void **r)
{
    weft_future_t *f;
    assert_int_equal(weft_rx_to_future(o, mode, &f), 0);
    int rc = weft_future_result(f, 10 * testing_scale(), r);
    weft_future_free(f);
    return rc;
}

static void to_future_gives_the_first_the_last_or_all(void **state)
{
    weft_rx_observable_t *o = range(3, 4);
    void *r;
    assert_int_equal(result_of(o, WEFT_RX_FIRST, &r), 0);
    assert_int_equal((intptr_t)r, 3);
    assert_int_equal(result_of(o, WEFT_RX_LAST, &r), 0);
    assert_int_equal((intptr_t)r, 6);
    assert_int_equal(result_of(o, WEFT_RX_LIST, &r), 0);
    weft_rx_list_t *l = r;
    assert_int_equal(l->n, 4);
    assert_int_equal((intptr_t)l->items[3], 6);
    weft_rx_list_free(l);
    weft_rx_observable_free(o);
}

static void to_future_of_an_empty_stream(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_empty(&o);
    void *r;
    assert_fails_with(result_of(o, WEFT_RX_FIRST, &r), WEFT_EEMPTY,
                      "no elements");
    assert_fails_with(result_of(o, WEFT_RX_LAST, &r), WEFT_EEMPTY,
                      "no elements");
    assert_int_equal(result_of(o, WEFT_RX_LIST, &r), 0);
    assert_int_equal(((weft_rx_list_t *)r)->n, 0);
    weft_rx_list_free(r);
    weft_rx_observable_free(o);
}

static void to_future_carries_the_streams_error(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_map(&o, range(1, 5), fail_on_3, NULL);
    void *r;
    assert_fails_with(result_of(o, WEFT_RX_LIST, &r), WEFT_EUSER,
                      "three is bad");
    weft_rx_observable_free(o);
}

static void to_future_first_disposes_the_rest_of_the_stream(void **state)
{
    weft_rx_scheduler_t *ts;
    weft_rx_test_scheduler_new(&ts);
    weft_rx_observable_t *xs;
    weft_rx_test_hot(&xs, ts, "-1-2-3-|");
    weft_future_t *f;
    weft_rx_to_future(xs, WEFT_RX_FIRST, &f);
    weft_rx_test_run(ts);
    void *r;
    assert_int_equal(weft_future_result(f, 0, &r), 0);
    assert_int_equal((intptr_t)r, 1);
    expect_subs(xs, "0-10");
    weft_future_free(f);
    weft_rx_observable_free(xs);
    weft_rx_scheduler_free(ts);
}

static void cancelling_the_future_disposes_the_stream(void **state)
{
    weft_rx_scheduler_t *ts;
    weft_rx_test_scheduler_new(&ts);
    weft_rx_observable_t *xs;
    weft_rx_test_hot(&xs, ts, "-1-2-3-|");
    weft_future_t *f;
    weft_rx_to_future(xs, WEFT_RX_LAST, &f);
    weft_rx_test_advance_to(ts, 25);
    assert_int_equal(weft_future_cancel(f), 0);
    weft_rx_test_run(ts);
    expect_subs(xs, "0-25");
    assert_int_equal(weft_future_result(f, 0, NULL), WEFT_ECANCELLED);
    weft_future_free(f);
    weft_rx_observable_free(xs);
    weft_rx_scheduler_free(ts);
}

static void to_future_of_owned_values_hands_one_reference_over(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_from_iter(&o, boxes, (void *)(intptr_t)3);
    weft_rx_observable_set_values(o, &box_ops);
    void *r;
    assert_int_equal(result_of(o, WEFT_RX_LAST, &r), 0);
    assert_int_equal(((box_t *)r)->v, 3);
    assert_int_equal(atomic_load(&boxes_live), 1);
    box_release(r);
    assert_int_equal(result_of(o, WEFT_RX_LIST, &r), 0);
    assert_int_equal(atomic_load(&boxes_live), 3);
    weft_rx_list_free(r);
    assert_int_equal(atomic_load(&boxes_live), 0);
    weft_rx_observable_free(o);
}

static int square(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg * (intptr_t)arg);
    return 0;
}

static void a_pool_future_becomes_a_stream_and_back(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_new(&ex, NULL);
    weft_future_t *task;
    weft_executor_submit(ex, square, (void *)9, &task);
    weft_rx_observable_t *o;
    weft_rx_from_future(&o, task);
    weft_rx_map(&o, o, times10, NULL);
    void *r;
    assert_int_equal(result_of(o, WEFT_RX_FIRST, &r), 0);
    assert_int_equal((intptr_t)r, 810);
    weft_rx_observable_free(o);
    weft_future_free(task);
    weft_executor_free(ex);
}

/* A coroutine on a loop awaits the stream's future, as asyncio code
 * would await an observable. */
static int awaiter(void *arg, void **result)
{
    weft_rx_observable_t *o = arg;
    weft_future_t *f;
    int rc = weft_rx_to_future(o, WEFT_RX_LAST, &f);
    if (rc)
        return rc;
    rc = weft_future_result(f, WEFT_FOREVER, result);
    weft_future_free(f);
    return rc;
}

static void a_coroutine_awaits_a_streams_last_value(void **state)
{
    weft_loop_t *loop;
    weft_loop_new(&loop);
    weft_rx_scheduler_t *ls;
    weft_rx_loop_scheduler_new(&ls, loop);
    weft_rx_observable_t *o;
    weft_rx_interval(&o, 0.005, ls);
    weft_rx_take(&o, o, 4);
    weft_future_t *task;
    weft_task_create(&task, loop, awaiter, o);
    void *r;
    assert_int_equal(weft_loop_run_until_complete(loop, task, &r), 0);
    assert_int_equal((intptr_t)r, 3);
    weft_future_free(task);
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(ls);
    weft_loop_free(loop);
}

static void to_future_checks_its_arguments(void **state)
{
    weft_future_t *f;
    weft_rx_observable_t *o = range(0, 1);
    assert_fails_with(weft_rx_to_future(NULL, WEFT_RX_FIRST, &f), WEFT_EINVAL,
                      "NULL observable");
    assert_fails_with(weft_rx_to_future(o, 7, &f), WEFT_EINVAL, "bad mode 7");
    weft_rx_observable_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(to_future_gives_the_first_the_last_or_all),
        cmocka_unit_test(to_future_of_an_empty_stream),
        cmocka_unit_test(to_future_carries_the_streams_error),
        cmocka_unit_test(to_future_first_disposes_the_rest_of_the_stream),
        cmocka_unit_test(cancelling_the_future_disposes_the_stream),
        cmocka_unit_test(to_future_of_owned_values_hands_one_reference_over),
        cmocka_unit_test(a_pool_future_becomes_a_stream_and_back),
        cmocka_unit_test(a_coroutine_awaits_a_streams_last_value),
        cmocka_unit_test(to_future_checks_its_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
