/* SPDX-License-Identifier: MIT */
/* map, scan, reduce, buffer_with_count, window_with_count and tap: values,
 * completion, errors from the user's callbacks (which dispose the source),
 * and owned values that must not leak. */
#include "owned.h"
#include "rx_record.h"

static weft_rx_scheduler_t *ts;

static int setup(void **state) { return weft_rx_test_scheduler_new(&ts); }
static int teardown(void **state)
{
    weft_rx_scheduler_free(ts);
    return 0;
}

static weft_rx_observable_t *range(long a, long n)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_range(&o, a, n), 0);
    return o;
}

static void map_applies_the_function_to_each_value(void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_map(&o, range(1, 3), times10, NULL), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "10 20 30 |");
}

static void a_failing_mapper_errors_and_disposes_the_source(void **state)
{
    weft_rx_observable_t *xs, *o;
    weft_rx_test_hot(&xs, ts, "^-1-2-3-4-|");
    weft_rx_map(&o, weft_rx_observable_ref(xs), fail_on_3, NULL);
    expect_text(ts, o, "210:1 230:2 250:#WEFT_EUSER");
    expect_subs(xs, "200-250");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void map_passes_errors_and_completion_through(void **state)
{
    weft_rx_observable_t *o, *src;
    weft_rx_throw(&src, WEFT_EEOF, "gone");
    weft_rx_map(&o, src, times10, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "#WEFT_EEOF");
    assert_string_equal(r.err.message, "gone");
}

static void scan_emits_every_running_total(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_scan(&o, range(1, 4), add, (void *)100, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "101 103 106 110 |");
}

static void reduce_emits_the_total_at_completion_or_the_seed(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_reduce(&o, range(1, 4), add, (void *)0, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "10 |");
    weft_rx_reduce(&o, range(1, 0), add, (void *)7, NULL);
    rec_run(&r, o);
    assert_string_equal(r.text, "7 |");
}

static void reduce_emits_nothing_when_the_source_fails(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_test_cold(&o, ts, "-1-2-#");
    weft_rx_reduce(&o, o, add, (void *)0, NULL);
    expect_text(ts, o, "250:#WEFT_ETASK");
    weft_rx_observable_free(o);
}

static void buffer_with_count_groups_and_flushes_the_rest(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_buffer_with_count(&o, range(1, 7), 3, 0);
    rec_t r;
    weft_rx_observer_t obs = rec_observer(&r);
    r.ops = &weft_rx_list_ops;
    weft_rx_observable_subscribe(o, &obs, NULL);
    weft_rx_observable_free(o);
    assert_string_equal(r.text, "[1,2,3] [4,5,6] [7] |");
}

static void buffer_with_count_and_skip_overlaps(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_buffer_with_count(&o, range(1, 5), 3, 1);
    expect_text(ts, o, "200:[1,2,3] 200:[2,3,4] 200:[3,4,5] 200:[4,5] "
                       "200:[5] 200:|");
    weft_rx_observable_free(o);
    weft_rx_observable_t *src = range(1, 1);
    assert_fails_with(weft_rx_buffer_with_count(&o, src, 0, 0), WEFT_EINVAL,
                      "count < 1");
    weft_rx_observable_free(src); /* a failed call does not take it */
}

struct windows {
    rec_t inner[4];
    int n;
};

static void window_opened(void *ctx, void *v)
{
    struct windows *w = ctx;
    weft_rx_observer_t obs = rec_observer(&w->inner[w->n++]);
    weft_rx_observable_subscribe(v, &obs, NULL);
}

static void window_with_count_emits_windows_of_values(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_window_with_count(&o, range(1, 5), 2);
    struct windows w = {.n = 0};
    weft_rx_observer_t obs = {window_opened, NULL, NULL, &w, NULL};
    weft_rx_observable_subscribe(o, &obs, NULL);
    weft_rx_observable_free(o);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.inner[0].text, "1 2 |");
    assert_string_equal(w.inner[1].text, "3 4 |");
    assert_string_equal(w.inner[2].text, "5 |");
}

static void count_tap(void *ctx, void *v) { (*(int *)ctx) += (int)(intptr_t)v; }
static void tap_done(void *ctx) { (*(int *)ctx) += 1000; }

static void tap_sees_each_event_before_it_passes_on(void **state)
{
    int seen = 0;
    weft_rx_observer_t side = {count_tap, NULL, tap_done, &seen, NULL};
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_tap(&o, range(1, 4), &side), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 3 4 |");
    assert_int_equal(seen, 1010);
    weft_rx_observable_t *src = range(1, 1);
    assert_fails_with(weft_rx_tap(&o, src, NULL), WEFT_EINVAL,
                      "NULL observer");
    weft_rx_observable_free(src);
}

static void owned_values_through_map_filter_buffer_leave_nothing(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_from_iter(&o, boxes, (void *)(intptr_t)10);
    weft_rx_observable_set_values(o, &box_ops);
    weft_rx_map(&o, o, box_times10, NULL);
    weft_rx_observable_set_values(o, &box_ops);
    weft_rx_filter(&o, o, box_is_even, NULL);
    weft_rx_buffer_with_count(&o, o, 4, 0);
    weft_rx_take(&o, o, 2); /* the last boxes are made and dropped */
    rec_t r;
    weft_rx_observer_t obs = rec_observer(&r);
    r.ops = &weft_rx_list_ops;
    weft_rx_observable_subscribe(o, &obs, NULL);
    weft_rx_observable_free(o);
    assert_string_equal(r.text, "[<10>,<20>,<30>,<40>] [<50>,<60>,<70>,<80>] |");
    assert_int_equal(atomic_load(&boxes_live), 0);
}

static void set_values_after_a_subscription_is_refused(void **state)
{
    weft_rx_observable_t *o = range(1, 1);
    rec_t r;
    rec_run(&r, weft_rx_observable_ref(o));
    assert_fails_with(weft_rx_observable_set_values(o, &box_ops), WEFT_ESTATE,
                      "already subscribed");
    weft_rx_observable_free(o);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(map_applies_the_function_to_each_value),
        T(a_failing_mapper_errors_and_disposes_the_source),
        T(map_passes_errors_and_completion_through),
        T(scan_emits_every_running_total),
        T(reduce_emits_the_total_at_completion_or_the_seed),
        T(reduce_emits_nothing_when_the_source_fails),
        T(buffer_with_count_groups_and_flushes_the_rest),
        T(buffer_with_count_and_skip_overlaps),
        T(window_with_count_emits_windows_of_values),
        T(tap_sees_each_event_before_it_passes_on),
        T(owned_values_through_map_filter_buffer_leave_nothing),
        T(set_values_after_a_subscription_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
