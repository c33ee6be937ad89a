/* SPDX-License-Identifier: MIT */
/* The sources: from_array, of, range, from_iter, empty, never, throw,
 * create, interval and timer (virtual time), from_future, from_queue,
 * from_fd, and a coroutine's repeated awaits (from_coroutine). */
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "rx_record.h"

static void from_array_emits_each_value_in_order_then_completes(void **state)
{
    void *vals[] = {(void *)1, (void *)2, (void *)3};
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_from_array(&o, vals, 3), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 3 |");
}

static void of_copies_its_arguments_and_can_be_subscribed_twice(void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_of(&o, 2, (void *)7, (void *)8), 0);
    rec_t a, b;
    weft_rx_subscription_free(rec_subscribe(&a, o));
    rec_run(&b, o);
    assert_string_equal(a.text, "7 8 |");
    assert_string_equal(b.text, "7 8 |");
}

static void range_counts_from_start_and_an_empty_range_completes(void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_range(&o, 5, 4), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "5 6 7 8 |");
    assert_int_equal(weft_rx_range(&o, 5, 0), 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "|");
    assert_fails_with(weft_rx_range(&o, 0, -1), WEFT_EINVAL, "count -1");
}

static void a_range_up_to_long_max_emits_and_one_past_it_is_refused(
    void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_range(&o, LONG_MAX - 2, 3), 0);
    rec_t r;
    rec_run(&r, o);
    char want[128];
    snprintf(want, sizeof want, "%ld %ld %ld |", LONG_MAX - 2, LONG_MAX - 1,
             LONG_MAX);
    assert_string_equal(r.text, want);
    assert_int_equal(weft_rx_range(&o, 1, LONG_MAX), 0); /* 1 .. LONG_MAX */
    assert_int_equal(weft_rx_take(&o, o, 3), 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 3 |");
    assert_fails_with(weft_rx_range(&o, LONG_MAX - 2, 4), WEFT_EINVAL,
                      "past LONG_MAX");
    assert_fails_with(weft_rx_range(&o, 2, LONG_MAX), WEFT_EINVAL,
                      "past LONG_MAX");
}

static int squares(void *ctx, size_t i, void **v)
{
    if (i == 4)
        return WEFT_EEOF;
    *v = (void *)(intptr_t)(i * i);
    return 0;
}

static int squares_then_fail(void *ctx, size_t i, void **v)
{
    if (i == 2)
        return weft_fail(WEFT_EUSER, "the sensor is gone");
    *v = (void *)(intptr_t)(i * i);
    return 0;
}

static void from_iter_restarts_at_index_0_for_each_subscription(void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_from_iter(&o, squares, NULL), 0);
    rec_t r;
    weft_rx_subscription_free(rec_subscribe(&r, o));
    assert_string_equal(r.text, "0 1 4 9 |");
    rec_run(&r, o);
    assert_string_equal(r.text, "0 1 4 9 |");
}

static void a_failing_iterator_ends_the_stream_with_its_error(void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_from_iter(&o, squares_then_fail, NULL), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "0 1 #WEFT_EUSER");
    assert_int_equal(r.err.code, WEFT_EUSER);
    assert_string_equal(r.err.message, "the sensor is gone");
}

static void empty_never_and_throw(void **state)
{
    weft_rx_observable_t *o;
    rec_t r;
    assert_int_equal(weft_rx_empty(&o), 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "|");

    assert_int_equal(weft_rx_never(&o), 0);
    weft_rx_subscription_t *s = rec_subscribe(&r, o);
    assert_false(weft_rx_subscription_closed(s));
    weft_rx_subscription_dispose(s);
    assert_true(weft_rx_subscription_closed(s));
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    assert_string_equal(r.text, "");

    assert_int_equal(weft_rx_throw(&o, WEFT_ETIMEDOUT, "too slow: %d", 3), 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "#WEFT_ETIMEDOUT");
    assert_string_equal(r.err.message, "too slow: 3");
    assert_fails_with(weft_rx_throw(&o, 0, "x"), WEFT_EINVAL, "code 0");
}

static int emit_two(void *ctx, weft_rx_emitter_t *e)
{
    weft_rx_emitter_next(e, (void *)1);
    weft_rx_emitter_next(e, (void *)2);
    if (ctx)
        return weft_fail(WEFT_EUSER, "broke after two");
    weft_rx_emitter_completed(e);
    weft_rx_emitter_next(e, (void *)3); /* after the end: dropped */
    return 0;
}

static void create_runs_at_each_subscription_and_stops_at_the_end(void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_create(&o, emit_two, NULL), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 |");
    assert_int_equal(weft_rx_create(&o, emit_two, (void *)1), 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 #WEFT_EUSER");
    assert_string_equal(r.err.message, "broke after two");
}

static void interval_ticks_every_period_until_disposed(void **state)
{
    weft_rx_scheduler_t *ts;
    weft_rx_test_scheduler_new(&ts);
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_interval(&o, 100, ts), 0);
    /* subscribed at 200, disposed at 1000: ticks at 300 ... 900 */
    expect_text(ts, o, "300:0 400:1 500:2 600:3 700:4 800:5 900:6");
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(ts);
}

static void timer_fires_once_or_periodically(void **state)
{
    weft_rx_scheduler_t *ts;
    weft_rx_test_scheduler_new(&ts);
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_timer(&o, 50, 0, ts), 0);
    expect_text(ts, o, "250:0 250:|");
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(ts);
    weft_rx_test_scheduler_new(&ts);
    assert_int_equal(weft_rx_timer(&o, 50, 300, ts), 0);
    expect_text(ts, o, "250:0 550:1 850:2");
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(ts);
    assert_fails_with(weft_rx_interval(&o, 0, ts), WEFT_EINVAL, "bad time");
    assert_fails_with(weft_rx_timer(&o, 1, 1, NULL), WEFT_EINVAL,
                      "NULL scheduler");
}

static void from_future_emits_the_result_or_the_error(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_from_future(&o, f), 0);
    rec_t r;
    weft_rx_subscription_t *s = rec_subscribe(&r, o);
    assert_string_equal(r.text, "");
    weft_future_set_result(f, (void *)42);
    assert_string_equal(r.text, "42 |");
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_future_free(f);

    weft_future_new(&f);
    weft_future_set_error(f, WEFT_EUSER, "no reading");
    assert_int_equal(weft_rx_from_future(&o, f), 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "#WEFT_EUSER");
    assert_string_equal(r.err.message, "no reading");
    weft_future_free(f);

    weft_future_new(&f);
    weft_future_cancel(f);
    assert_int_equal(weft_rx_from_future(&o, f), 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "#WEFT_ECANCELLED");
    weft_future_free(f);
}

static void a_disposed_future_subscription_hears_nothing(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_rx_observable_t *o;
    weft_rx_from_future(&o, f);
    rec_t r;
    weft_rx_subscription_free(rec_subscribe(&r, o));
    weft_future_set_result(f, (void *)1);
    assert_string_equal(r.text, "");
    weft_rx_observable_free(o);
    weft_future_free(f);
}

static void from_queue_emits_every_item_and_completes_on_shutdown(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_new(&ex, &(weft_thread_pool_opts_t){.max_workers = 1});
    weft_rx_scheduler_t *sched;
    weft_rx_executor_scheduler_new(&sched, ex);
    weft_queue_t *q;
    weft_queue_new(&q, 0);
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_from_queue(&o, q, sched), 0);
    weft_future_t *f;
    assert_int_equal(weft_rx_to_future(o, WEFT_RX_LIST, &f), 0);
    for (intptr_t i = 1; i <= 5; i++)
        weft_queue_put(q, (void *)i, WEFT_FOREVER);
    weft_queue_shutdown(q, 0);
    void *res;
    assert_int_equal(weft_future_result(f, 10 * testing_scale(), &res), 0);
    char text[64];
    weft_rx_list_ops.format(res, text, sizeof text);
    assert_string_equal(text, "[1,2,3,4,5]");
    weft_rx_list_free(res);
    weft_future_free(f);
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(sched);
    weft_executor_free(ex);
    weft_queue_free(q);
}

static void disposing_a_queue_stream_cancels_the_blocked_get(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_new(&ex, &(weft_thread_pool_opts_t){.max_workers = 1});
    weft_rx_scheduler_t *sched;
    weft_rx_executor_scheduler_new(&sched, ex);
    weft_queue_t *q;
    weft_queue_new(&q, 0);
    weft_rx_observable_t *o;
    weft_rx_from_queue(&o, q, sched);
    rec_t r;
    weft_rx_subscription_t *s = rec_subscribe(&r, o);
    weft_sleep(0.05);
    weft_rx_subscription_free(s);
    /* The worker's get returned WEFT_ECANCELLED: the pool can shut down. */
    assert_int_equal(weft_executor_shutdown(ex, 1, 0, 5 * testing_scale()), 0);
    assert_string_equal(r.text, "");
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(sched);
    weft_executor_free(ex);
    weft_queue_free(q);
}

struct fdrun {
    rec_t r;
    weft_loop_t *loop;
};

static void fd_done(void *ctx)
{
    struct fdrun *x = ctx;
    rec_completed(&x->r);
    weft_loop_stop(x->loop);
}

static void from_fd_reads_chunks_until_end_of_file(void **state)
{
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    assert_int_equal(write(p[1], "hello", 5), 5);
    close(p[1]);
    struct fdrun x;
    weft_loop_new(&x.loop);
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_from_fd(&o, x.loop, p[0]), 0);
    weft_rx_observer_t obs = rec_observer(&x.r);
    x.r.ops = &weft_rx_bytes_ops;
    obs.on_completed = fd_done;
    obs.ctx = &x;
    weft_rx_subscription_t *s;
    weft_rx_observable_subscribe(o, &obs, &s);
    weft_loop_run_forever(x.loop);
    assert_string_equal(x.r.text, "hello |");
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_loop_free(x.loop);
    close(p[0]);
    assert_fails_with(weft_rx_from_fd(&o, NULL, 0), WEFT_EINVAL, "NULL loop");
}

/* A coroutine that awaits three futures completed by a timer thread, and
 * emits each result: a stream from repeated awaits. */
static int ticker(void *arg, void **result)
{
    weft_future_t **fs = arg;
    for (int i = 0; i < 3; i++) {
        weft_sleep(0.01);
        weft_future_set_result(fs[i], (void *)(intptr_t)(i + 1) );
    }
    return 0;
}

struct coro_ctx {
    weft_future_t *fs[3];
};

static int awaits(void *ctx, weft_rx_emitter_t *e)
{
    struct coro_ctx *c = ctx;
    for (int i = 0; i < 3; i++) {
        void *v;
        int rc = weft_future_result(c->fs[i], WEFT_FOREVER, &v);
        if (rc)
            return rc;
        weft_rx_emitter_next(e, (void *)((intptr_t)v * 100));
    }
    return 0;
}

static int subscription_closed(void *s)
{
    return weft_rx_subscription_closed(s);
}

static void a_coroutines_awaits_become_a_stream(void **state)
{
    weft_loop_t *loop;
    weft_loop_new(&loop);
    struct coro_ctx c;
    for (int i = 0; i < 3; i++)
        weft_future_new(&c.fs[i]);
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_from_coroutine(&o, loop, awaits, &c), 0);
    rec_t r;
    weft_rx_observer_t obs = rec_observer(&r);
    weft_rx_subscription_t *s;
    weft_rx_observable_subscribe(o, &obs, &s);
    weft_thread_t *t;
    weft_thread_new(&t, ticker, c.fs, NULL);
    weft_thread_start(t);
    weft_loop_run_until(loop, subscription_closed, s);
    assert_string_equal(r.text, "100 200 300 |");
    weft_thread_join(t, WEFT_FOREVER);
    weft_thread_free(t);
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    for (int i = 0; i < 3; i++)
        weft_future_free(c.fs[i]);
    weft_loop_free(loop);
}

static void bad_arguments_fail_with_einval_and_a_message(void **state)
{
    weft_rx_observable_t *o;
    assert_fails_with(weft_rx_from_array(NULL, NULL, 0), WEFT_EINVAL, "NULL");
    assert_fails_with(weft_rx_from_array(&o, NULL, 2), WEFT_EINVAL, "values");
    assert_fails_with(weft_rx_from_iter(&o, NULL, NULL), WEFT_EINVAL,
                      "function");
    assert_fails_with(weft_rx_create(&o, NULL, NULL), WEFT_EINVAL, "function");
    assert_fails_with(weft_rx_from_future(&o, NULL), WEFT_EINVAL, "future");
    assert_fails_with(weft_rx_from_queue(&o, NULL, NULL), WEFT_EINVAL, "queue");
    weft_rx_range(&o, 0, 1);
    assert_fails_with(weft_rx_observable_subscribe(o, NULL, NULL), WEFT_EINVAL,
                      "observer");
    weft_rx_observer_t obs = {0};
    assert_fails_with(weft_rx_observable_subscribe(NULL, &obs, NULL),
                      WEFT_EINVAL, "observable");
    weft_rx_observable_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_array_emits_each_value_in_order_then_completes),
        cmocka_unit_test(of_copies_its_arguments_and_can_be_subscribed_twice),
        cmocka_unit_test(range_counts_from_start_and_an_empty_range_completes),
        cmocka_unit_test(
            a_range_up_to_long_max_emits_and_one_past_it_is_refused),
        cmocka_unit_test(from_iter_restarts_at_index_0_for_each_subscription),
        cmocka_unit_test(a_failing_iterator_ends_the_stream_with_its_error),
        cmocka_unit_test(empty_never_and_throw),
        cmocka_unit_test(create_runs_at_each_subscription_and_stops_at_the_end),
        cmocka_unit_test(interval_ticks_every_period_until_disposed),
        cmocka_unit_test(timer_fires_once_or_periodically),
        cmocka_unit_test(from_future_emits_the_result_or_the_error),
        cmocka_unit_test(a_disposed_future_subscription_hears_nothing),
        cmocka_unit_test(from_queue_emits_every_item_and_completes_on_shutdown),
        cmocka_unit_test(disposing_a_queue_stream_cancels_the_blocked_get),
        cmocka_unit_test(from_fd_reads_chunks_until_end_of_file),
        cmocka_unit_test(a_coroutines_awaits_become_a_stream),
        cmocka_unit_test(bad_arguments_fail_with_einval_and_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
