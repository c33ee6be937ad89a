/* SPDX-License-Identifier: MIT */
/* Schedulers and concurrency: subscribe_on and observe_on over a thread
 * pool and a loop (a stream produced on the pool, observed on the loop),
 * observe_on's full-queue policies, and disposal while values are on
 * their way. */
#include <stdlib.h>

#include "rx_record.h"

struct on_loop {
    rec_t r;
    weft_loop_t *loop;
    _Atomic int wrong_thread;
    _Atomic int ended;
};

static void loop_next(void *ctx, void *v)
{
    struct on_loop *x = ctx;
    if (weft_loop_running() != x->loop)
        atomic_fetch_add(&x->wrong_thread, 1);
    rec_next(&x->r, v);
}

static void loop_end(void *ctx)
{
    struct on_loop *x = ctx;
    rec_completed(&x->r);
    atomic_store(&x->ended, 1);
    weft_loop_stop(x->loop);
}

static void a_stream_made_on_a_pool_is_observed_on_the_loop(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_new(&ex, &(weft_thread_pool_opts_t){.max_workers = 2});
    weft_rx_scheduler_t *pool, *ls;
    weft_rx_executor_scheduler_new(&pool, ex);
    struct on_loop x;
    memset(&x, 0, sizeof x);
    weft_loop_new(&x.loop);
    assert_int_equal(weft_rx_loop_scheduler_new(&ls, x.loop), 0);
    weft_rx_observable_t *o;
    weft_rx_range(&o, 0, 1000);
    assert_int_equal(weft_rx_subscribe_on(&o, o, pool), 0);
    assert_int_equal(weft_rx_map(&o, o, times10, NULL), 0);
    assert_int_equal(weft_rx_observe_on(&o, o, ls, NULL), 0);
    weft_rx_take(&o, o, 5);
    weft_rx_observer_t obs = {loop_next, rec_error, loop_end, &x, NULL};
    weft_rx_subscription_t *s;
    weft_rx_observable_subscribe(o, &obs, &s);
    weft_loop_run_forever(x.loop);
    assert_string_equal(x.r.text, "0 10 20 30 40 |");
    assert_int_equal(atomic_load(&x.wrong_thread), 0);
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER);
    weft_rx_scheduler_free(pool);
    weft_rx_scheduler_free(ls);
    weft_executor_free(ex);
    weft_loop_free(x.loop);
}

static void interval_on_a_loop_ticks_for_real(void **state)
{
    struct on_loop x;
    memset(&x, 0, sizeof x);
    weft_loop_new(&x.loop);
    weft_rx_scheduler_t *ls;
    weft_rx_loop_scheduler_new(&ls, x.loop);
    weft_rx_observable_t *o;
    weft_rx_interval(&o, 0.01, ls);
    weft_rx_take(&o, o, 3);
    weft_rx_observer_t obs = {loop_next, rec_error, loop_end, &x, NULL};
    weft_rx_subscription_t *s;
    double t0 = weft_monotonic();
    weft_rx_observable_subscribe(o, &obs, &s);
    weft_loop_run_forever(x.loop);
    assert_true(weft_monotonic() - t0 >= 0.03);
    assert_string_equal(x.r.text, "0 1 2 |");
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(ls);
    weft_loop_free(x.loop);
}

/* observe_on on the test scheduler: the queue fills while the clock
 * stands still, and drains when it moves. */
static void run_policy(int policy, const char *want, size_t want_dropped)
{
    weft_rx_scheduler_t *ts;
    weft_rx_test_scheduler_new(&ts);
    weft_rx_observable_t *o;
    weft_rx_range(&o, 1, 6);
    weft_rx_observe_on_opts_t opts = {3, policy};
    assert_int_equal(weft_rx_observe_on(&o, o, ts, &opts), 0);
    rec_t r;
    weft_rx_subscription_t *s = rec_subscribe(&r, o);
    assert_string_equal(r.text, "");
    weft_rx_test_run(ts);
    assert_string_equal(r.text, want);
    assert_int_equal(weft_rx_observe_on_dropped(o), want_dropped);
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(ts);
}

static void observe_on_drop_oldest_keeps_the_newest(void **state)
{
    run_policy(WEFT_RX_DROP_OLDEST, "4 5 6 |", 3);
}

static void observe_on_keep_latest_keeps_the_first_and_the_last(void **state)
{
    run_policy(WEFT_RX_KEEP_LATEST, "1 2 6 |", 3);
}

static int produce_fast(void *ctx, weft_rx_emitter_t *e)
{
    for (intptr_t i = 0; i < 200 && !weft_rx_emitter_disposed(e); i++)
        weft_rx_emitter_next(e, (void *)i);
    return 0;
}

static void slow_next(void *ctx, void *v) { weft_sleep(0.0002); }

static void observe_on_block_holds_the_producer_back_and_loses_nothing(
    void **state)
{
    weft_executor_t *a, *b;
    weft_thread_pool_new(&a, &(weft_thread_pool_opts_t){.max_workers = 1});
    weft_thread_pool_new(&b, &(weft_thread_pool_opts_t){.max_workers = 1});
    weft_rx_scheduler_t *producer, *consumer;
    weft_rx_executor_scheduler_new(&producer, a);
    weft_rx_executor_scheduler_new(&consumer, b);
    weft_rx_observable_t *o;
    weft_rx_generate(&o, producer, produce_fast, NULL);
    weft_rx_observe_on_opts_t opts = {4, WEFT_RX_BLOCK};
    weft_rx_observe_on(&o, o, consumer, &opts);
    weft_rx_observable_t *queued = weft_rx_observable_ref(o);
    weft_rx_observer_t slow = {slow_next, NULL, NULL, NULL, NULL};
    weft_rx_tap(&o, o, &slow); /* a consumer slower than its producer */
    weft_future_t *f;
    weft_rx_reduce(&o, o, add, (void *)0, NULL);
    assert_int_equal(weft_rx_to_future(o, WEFT_RX_LAST, &f), 0);
    void *sum;
    assert_int_equal(weft_future_result(f, 30 * testing_scale(), &sum), 0);
    assert_int_equal((intptr_t)sum, 199 * 200 / 2);
    assert_int_equal(weft_rx_observe_on_dropped(queued), 0);
    weft_rx_observable_free(queued);
    weft_future_free(f);
    weft_rx_observable_free(o);
    weft_executor_shutdown(a, 1, 0, WEFT_FOREVER);
    weft_executor_shutdown(b, 1, 0, WEFT_FOREVER);
    weft_rx_scheduler_free(producer);
    weft_rx_scheduler_free(consumer);
    weft_executor_free(a);
    weft_executor_free(b);
}

static void disposing_a_blocked_observe_on_frees_the_producer(void **state)
{
    weft_executor_t *a;
    weft_thread_pool_new(&a, &(weft_thread_pool_opts_t){.max_workers = 1});
    weft_rx_scheduler_t *producer, *ts;
    weft_rx_executor_scheduler_new(&producer, a);
    weft_rx_test_scheduler_new(&ts); /* never advanced: nothing drains */
    weft_rx_observable_t *o;
    weft_rx_generate(&o, producer, produce_fast, NULL);
    weft_rx_observe_on_opts_t opts = {2, WEFT_RX_BLOCK};
    weft_rx_observe_on(&o, o, ts, &opts);
    rec_t r;
    weft_rx_subscription_t *s = rec_subscribe(&r, o);
    weft_sleep(0.05); /* the producer is blocked on the full queue */
    weft_rx_subscription_free(s);
    assert_int_equal(weft_executor_shutdown(a, 1, 0, 10 * testing_scale()), 0);
    assert_string_equal(r.text, "");
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(producer);
    weft_rx_scheduler_free(ts);
    weft_executor_free(a);
}

static void dispose_from_another_thread_stops_an_interval(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_new(&ex, &(weft_thread_pool_opts_t){.max_workers = 2});
    weft_rx_scheduler_t *pool;
    weft_rx_executor_scheduler_new(&pool, ex);
    weft_rx_observable_t *o;
    weft_rx_interval(&o, 0.002, pool);
    rec_t r;
    weft_rx_subscription_t *s = rec_subscribe(&r, o);
    weft_sleep(0.03);
    weft_rx_subscription_dispose(s);
    int n = atomic_load(&r.nexts);
    weft_sleep(0.02);
    /* at most one already on its way */
    assert_true(atomic_load(&r.nexts) <= n + 1);
    assert_true(n >= 1);
    assert_true(weft_rx_subscription_closed(s));
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    assert_int_equal(weft_executor_shutdown(ex, 1, 0, 10 * testing_scale()),
                     0);
    weft_rx_scheduler_free(pool);
    weft_executor_free(ex);
}

/* Producers on a pool, merged, observed on a loop through a small
 * BLOCK queue, subscribed from the loop's thread before it runs: the
 * merge's serializer may hand the pool's values to the subscribing thread,
 * which must not wait for a drain only it can run (it used to, forever). */
struct late_loop {
    weft_event_t done;
    long count;
    weft_loop_t *loop;
};

static int count_from_pool(void *ctx, weft_rx_emitter_t *e)
{
    for (intptr_t i = 0; i < 5000; i++)
        weft_rx_emitter_next(e, (void *)i);
    return 0;
}

static void count_one(void *ctx, void *v) { ((struct late_loop *)ctx)->count++; }
static void count_done(void *ctx) { weft_loop_stop(((struct late_loop *)ctx)->loop); }

static int loop_owner(void *arg, void **result)
{
    struct late_loop *x = arg;
    weft_executor_t *ex;
    weft_thread_pool_new(&ex, &(weft_thread_pool_opts_t){.max_workers = 4});
    weft_rx_scheduler_t *pool, *ls;
    weft_rx_executor_scheduler_new(&pool, ex);
    weft_loop_new(&x->loop);
    weft_rx_loop_scheduler_new(&ls, x->loop);
    weft_rx_observable_t *src[4], *o;
    for (int i = 0; i < 4; i++)
        weft_rx_generate(&src[i], pool, count_from_pool, NULL);
    weft_rx_merge(&o, src, 4);
    weft_rx_observe_on_opts_t opts = {8, WEFT_RX_BLOCK};
    weft_rx_observe_on(&o, o, ls, &opts);
    weft_rx_observer_t obs = {count_one, NULL, count_done, x, NULL};
    weft_rx_subscription_t *s;
    weft_rx_observable_subscribe(o, &obs, &s);
    weft_loop_run_forever(x->loop);
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER);
    weft_rx_scheduler_free(pool);
    weft_rx_scheduler_free(ls);
    weft_executor_free(ex);
    weft_loop_free(x->loop);
    weft_event_set(&x->done);
    return 0;
}

static void a_blocking_observe_on_never_waits_on_its_own_loop(void **state)
{
    struct late_loop *x = calloc(1, sizeof *x); /* left if the thread hangs */
    weft_event_init(&x->done);
    weft_thread_t *t;
    weft_thread_new(&t, loop_owner, x, &(weft_thread_opts_t){.daemon = 1});
    weft_thread_start(t);
    assert_int_equal(weft_event_wait(&x->done, 20 * testing_scale()), 0);
    weft_thread_join(t, WEFT_FOREVER);
    weft_thread_free(t);
    assert_int_equal(x->count, 4 * 5000);
    free(x);
}

static void scheduler_arguments_are_checked(void **state)
{
    weft_rx_scheduler_t *s;
    weft_rx_observable_t *o, *src;
    assert_fails_with(weft_rx_loop_scheduler_new(&s, NULL), WEFT_EINVAL,
                      "NULL loop");
    assert_fails_with(weft_rx_executor_scheduler_new(&s, NULL), WEFT_EINVAL,
                      "NULL executor");
    weft_rx_never(&src);
    assert_fails_with(weft_rx_observe_on(&o, src, NULL, NULL), WEFT_EINVAL,
                      "NULL scheduler");
    weft_rx_test_scheduler_new(&s);
    weft_rx_observe_on_opts_t bad = {4, 9};
    assert_fails_with(weft_rx_observe_on(&o, src, s, &bad), WEFT_EINVAL,
                      "overflow");
    assert_fails_with(weft_rx_subscribe_on(&o, src, NULL), WEFT_EINVAL,
                      "NULL scheduler");
    assert_fails_with(weft_rx_test_advance_to(NULL, 1), WEFT_EINVAL,
                      "not a test scheduler");
    weft_rx_scheduler_free(s);
    weft_rx_observable_free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_stream_made_on_a_pool_is_observed_on_the_loop),
        cmocka_unit_test(interval_on_a_loop_ticks_for_real),
        cmocka_unit_test(observe_on_drop_oldest_keeps_the_newest),
        cmocka_unit_test(observe_on_keep_latest_keeps_the_first_and_the_last),
        cmocka_unit_test(
            observe_on_block_holds_the_producer_back_and_loses_nothing),
        cmocka_unit_test(disposing_a_blocked_observe_on_frees_the_producer),
        cmocka_unit_test(dispose_from_another_thread_stops_an_interval),
        cmocka_unit_test(a_blocking_observe_on_never_waits_on_its_own_loop),
        cmocka_unit_test(scheduler_arguments_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
