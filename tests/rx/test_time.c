/* SPDX-License-Identifier: MIT */
/* The time operators in virtual time, checked to the tick against RxPY's
 * own tests (tests/test_observable/test_debounce.py, test_sample.py,
 * test_throttlefirst.py, ...): values, completion, errors, and when the
 * source was subscribed and disposed. */
#include "rx_record.h"

static weft_rx_scheduler_t *ts;

static int setup(void **state)
{
    return weft_rx_test_scheduler_new(&ts);
}

static int teardown(void **state)
{
    weft_rx_scheduler_free(ts);
    return 0;
}

static weft_rx_observable_t *hot(const char *events)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_test_hot(&o, ts, events), 0);
    return o;
}

#define DEBOUNCE_SOURCE                                                        \
    "150:1 200:2 250:3 300:4 350:5 400:6 450:7 500:8 550:|"

static void debounce_lets_each_value_through_after_a_quiet_spell(void **state)
{
    weft_rx_observable_t *xs = hot(DEBOUNCE_SOURCE), *o;
    assert_int_equal(weft_rx_debounce(&o, weft_rx_observable_ref(xs), 40, ts),
                     0);
    expect_text(ts, o, "290:3 340:4 390:5 440:6 490:7 540:8 550:|");
    expect_subs(xs, "200-550");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void debounce_longer_than_the_gaps_keeps_only_the_last(void **state)
{
    weft_rx_observable_t *xs = hot(DEBOUNCE_SOURCE), *o;
    weft_rx_debounce(&o, xs, 60, ts);
    expect_text(ts, o, "550:8 550:|");
    weft_rx_observable_free(o);
}

static void debounce_drops_the_pending_value_on_error(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_debounce(&o, hot("150:1 200:2 250:3 300:4 350:5 400:6 450:7 "
                             "500:8 550:#"),
                     60, ts);
    expect_text(ts, o, "550:#WEFT_ETASK");
    weft_rx_observable_free(o);
}

static void debounce_some_drop(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_debounce(&o, hot("150:1 250:2 350:3 370:4 421:5 480:6 490:7 "
                             "500:8 600:|"),
                     50, ts);
    expect_text(ts, o, "300:2 420:4 471:5 550:8 600:|");
    weft_rx_observable_free(o);
}

static void debounce_of_empty_throw_and_never(void **state)
{
    weft_rx_observable_t *o, *src;
    weft_rx_empty(&src);
    weft_rx_debounce(&o, src, 10, ts);
    expect_text(ts, o, "200:|");
    weft_rx_observable_free(o);
    teardown(state);
    setup(state);
    weft_rx_throw(&src, WEFT_ETASK, "ex");
    weft_rx_debounce(&o, src, 10, ts);
    expect_text(ts, o, "200:#WEFT_ETASK");
    weft_rx_observable_free(o);
}

static void debounce_of_never_emits_nothing_and_is_disposed_at_1000(
    void **state)
{
    weft_rx_observable_t *xs = hot("150:1"), *o;
    weft_rx_debounce(&o, weft_rx_observable_ref(xs), 10, ts);
    expect_text(ts, o, "");
    expect_subs(xs, "200-1000");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void sample_takes_the_latest_value_at_each_tick(void **state)
{
    weft_rx_observable_t *xs = hot("150:1 210:2 230:3 260:4 300:5 350:6 "
                                   "380:7 390:|"),
                         *o;
    weft_rx_sample(&o, weft_rx_observable_ref(xs), 50, ts);
    expect_text(ts, o, "250:3 300:5 350:6 400:7 400:|");
    expect_subs(xs, "200-390");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void sample_passes_an_error_at_once(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_sample(&o, hot("150:1 210:2 230:3 260:4 300:5 310:6 330:#"), 50,
                   ts);
    expect_text(ts, o, "250:3 300:5 330:#WEFT_ETASK");
    weft_rx_observable_free(o);
}

static void throttle_lets_one_value_through_per_duration(void **state)
{
    weft_rx_observable_t *xs = hot("150:1 210:2 250:3 310:4 350:5 410:6 "
                                   "450:7 500:|"),
                         *o;
    weft_rx_throttle(&o, weft_rx_observable_ref(xs), 200, ts);
    expect_text(ts, o, "210:2 410:6 500:|");
    expect_subs(xs, "200-500");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void throttle_passes_errors_and_unsubscribes(void **state)
{
    weft_rx_observable_t *xs = hot("150:1 210:2 250:3 310:4 350:5 410:# "
                                   "450:7 500:|"),
                         *o;
    weft_rx_throttle(&o, weft_rx_observable_ref(xs), 200, ts);
    expect_text(ts, o, "210:2 410:#WEFT_ETASK");
    expect_subs(xs, "200-410");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void timeout_does_not_fire_while_values_come_in_time(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_timeout(&o, hot("150:1 210:2 230:3 260:4 300:5 350:6 400:|"),
                    200, ts);
    expect_text(ts, o, "210:2 230:3 260:4 300:5 350:6 400:|");
    weft_rx_observable_free(o);
}

static void timeout_fails_when_a_gap_is_too_long(void **state)
{
    weft_rx_observable_t *xs = hot("150:1 210:2 230:3 300:4 400:|"), *o;
    weft_rx_timeout(&o, weft_rx_observable_ref(xs), 50, ts);
    expect_text(ts, o, "210:2 230:3 280:#WEFT_ETIMEDOUT");
    expect_subs(xs, "200-280");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void timeout_counts_from_the_subscription(void **state)
{
    weft_rx_observable_t *o, *src;
    weft_rx_never(&src);
    weft_rx_timeout(&o, src, 100, ts);
    expect_text(ts, o, "300:#WEFT_ETIMEDOUT");
    weft_rx_observable_free(o);
}

static void buffer_with_time_emits_every_timespan_and_what_is_left(
    void **state)
{
    weft_rx_observable_t *o;
    weft_rx_buffer_with_time(&o, hot("150:1 210:2 240:3 280:4 320:5 350:6 "
                                     "380:7 420:8 470:9 560:|"),
                             100, ts);
    expect_text(ts, o, "300:[2,3,4] 400:[5,6,7] 500:[8,9] 560:[] 560:|");
    weft_rx_observable_free(o);
}

static void interval_in_marbles(void **state)
{
    weft_rx_observable_t *o, *src;
    weft_rx_interval(&src, 20, ts);
    weft_rx_take(&o, src, 3);
    expect_marbles(ts, o, "--0-1-(2,|)");
    weft_rx_observable_free(o);
}

static void marbles_drive_hot_and_cold_sources(void **state)
{
    weft_rx_observable_t *xs, *o;
    assert_int_equal(weft_rx_test_hot(&xs, ts, "-1-^-2-3-|"), 0);
    weft_rx_observable_ref(xs);
    weft_rx_map(&o, xs, times10, NULL);
    expect_marbles(ts, o, "-20-30-|");
    expect_subs(xs, "200-250");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
    /* a cold one counts from the subscription */
    teardown(state);
    setup(state);
    assert_int_equal(weft_rx_test_cold(&xs, ts, "--1--|"), 0);
    expect_text(ts, xs, "220:1 250:|");
    weft_rx_observable_free(xs);
    assert_fails_with(weft_rx_test_hot(&xs, ts, "-1-x|"), WEFT_EINVAL,
                      "position 3");
    assert_fails_with(weft_rx_test_cold(&xs, ts, "(1,2"), WEFT_EINVAL,
                      "unclosed");
}

static void time_operators_refuse_bad_times(void **state)
{
    weft_rx_observable_t *o, *src;
    weft_rx_never(&src);
    assert_fails_with(weft_rx_debounce(&o, src, 0, ts), WEFT_EINVAL,
                      "bad time");
    assert_fails_with(weft_rx_sample(&o, src, -1, ts), WEFT_EINVAL, "bad time");
    assert_fails_with(weft_rx_throttle(&o, src, 1, NULL), WEFT_EINVAL,
                      "NULL scheduler");
    assert_fails_with(weft_rx_timeout(&o, src, 0.0 / 0.0, ts), WEFT_EINVAL,
                      "bad time");
    assert_fails_with(weft_rx_buffer_with_time(&o, NULL, 1, ts), WEFT_EINVAL,
                      "NULL source");
    weft_rx_observable_free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            debounce_lets_each_value_through_after_a_quiet_spell, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            debounce_longer_than_the_gaps_keeps_only_the_last, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            debounce_drops_the_pending_value_on_error, setup, teardown),
        cmocka_unit_test_setup_teardown(debounce_some_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(debounce_of_empty_throw_and_never,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            debounce_of_never_emits_nothing_and_is_disposed_at_1000, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            sample_takes_the_latest_value_at_each_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(sample_passes_an_error_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            throttle_lets_one_value_through_per_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(
            throttle_passes_errors_and_unsubscribes, setup, teardown),
        cmocka_unit_test_setup_teardown(
            timeout_does_not_fire_while_values_come_in_time, setup, teardown),
        cmocka_unit_test_setup_teardown(timeout_fails_when_a_gap_is_too_long,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(timeout_counts_from_the_subscription,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            buffer_with_time_emits_every_timespan_and_what_is_left, setup,
            teardown),
        cmocka_unit_test_setup_teardown(interval_in_marbles, setup, teardown),
        cmocka_unit_test_setup_teardown(marbles_drive_hot_and_cold_sources,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(time_operators_refuse_bad_times, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
