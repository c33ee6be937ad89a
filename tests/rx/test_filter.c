/* SPDX-License-Identifier: MIT */
/* filter, take, skip, take_while, distinct and distinct_until_changed:
 * what passes, when the source is disposed (take stops it at once), and
 * bad counts. */
#include <limits.h>

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

static int fail_on_odd(void *ctx, void *v, int *keep)
{
    if ((intptr_t)v % 2)
        return weft_fail(WEFT_EUSER, "odd: %ld", (long)(intptr_t)v);
    *keep = 1;
    return 0;
}

static void filter_keeps_what_the_predicate_keeps(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_filter(&o, range(1, 6), is_even, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "2 4 6 |");
}

static void a_failing_predicate_errors_and_disposes_the_source(void **state)
{
    weft_rx_observable_t *xs, *o;
    weft_rx_test_hot(&xs, ts, "^-2-4-5-6-|");
    weft_rx_filter(&o, weft_rx_observable_ref(xs), fail_on_odd, NULL);
    expect_text(ts, o, "210:2 230:4 250:#WEFT_EUSER");
    expect_subs(xs, "200-250");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void take_completes_after_n_and_disposes_the_source(void **state)
{
    weft_rx_observable_t *xs, *o;
    weft_rx_test_hot(&xs, ts, "-1-^-2-3-4-5-|");
    weft_rx_take(&o, weft_rx_observable_ref(xs), 2);
    expect_marbles(ts, o, "-2-(3,|)");
    expect_subs(xs, "200-230");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void take_stops_an_endless_range(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_take(&o, range(0, LONG_MAX), 3);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "0 1 2 |");
}

static void take_zero_completes_without_subscribing(void **state)
{
    weft_rx_observable_t *xs, *o;
    weft_rx_test_cold(&xs, ts, "-1-|");
    weft_rx_take(&o, weft_rx_observable_ref(xs), 0);
    expect_text(ts, o, "200:|");
    expect_subs(xs, "");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void take_and_skip_refuse_negative_counts(void **state)
{
    weft_rx_observable_t *o, *src = range(0, 1);
    assert_fails_with(weft_rx_take(&o, src, -1), WEFT_EINVAL, "count -1 < 0");
    assert_fails_with(weft_rx_skip(&o, src, -5), WEFT_EINVAL, "count -5 < 0");
    assert_fails_with(weft_rx_take(&o, NULL, 1), WEFT_EINVAL, "NULL source");
    assert_fails_with(weft_rx_filter(&o, src, NULL, NULL), WEFT_EINVAL,
                      "NULL function");
    weft_rx_observable_free(src); /* a failed call did not take it */
}

static void skip_drops_the_first_n(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_skip(&o, range(1, 5), 3);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "4 5 |");
    weft_rx_skip(&o, range(1, 2), 3);
    rec_run(&r, o);
    assert_string_equal(r.text, "|");
}

static int below_4(void *ctx, void *v, int *keep)
{
    *keep = (intptr_t)v < 4;
    return 0;
}

static void take_while_completes_at_the_first_rejected(void **state)
{
    weft_rx_observable_t *xs, *o;
    weft_rx_test_hot(&xs, ts, "^-1-2-5-3-|");
    weft_rx_take_while(&o, weft_rx_observable_ref(xs), below_4, NULL);
    expect_text(ts, o, "210:1 230:2 250:|");
    expect_subs(xs, "200-250");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static uintptr_t mod3(void *ctx, void *v)
{
    return (uintptr_t)((intptr_t)v % 3);
}

static void distinct_lets_each_key_through_once(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_of(&o, 7, (void *)1, (void *)2, (void *)1, (void *)0, (void *)3,
               (void *)2, (void *)0);
    weft_rx_distinct(&o, o, NULL, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 0 3 |");
    weft_rx_distinct(&o, range(1, 9), mod3, NULL);
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 3 |");
}

static void distinct_remembers_many_keys(void **state)
{
    weft_rx_observable_t *a, *b, *o;
    weft_rx_range(&a, 0, 1000);
    weft_rx_range(&b, 500, 1000);
    weft_rx_observable_t *both[] = {a, b};
    weft_rx_concat(&o, both, 2);
    weft_rx_distinct(&o, o, NULL, NULL);
    weft_rx_reduce(&o, o, add, (void *)0, NULL);
    rec_t r;
    rec_run(&r, o);
    /* 0 + 1 + ... + 1499 */
    assert_string_equal(r.text, "1124250 |");
}

static void distinct_until_changed_drops_repeats_in_a_row(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_test_cold(&o, ts, "-1-1-2-2-1-3-3-|");
    weft_rx_distinct_until_changed(&o, o, NULL, NULL);
    expect_marbles(ts, o, "-1---2---1-3---|");
    weft_rx_observable_free(o);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(filter_keeps_what_the_predicate_keeps),
        T(a_failing_predicate_errors_and_disposes_the_source),
        T(take_completes_after_n_and_disposes_the_source),
        T(take_stops_an_endless_range),
        T(take_zero_completes_without_subscribing),
        T(take_and_skip_refuse_negative_counts),
        T(skip_drops_the_first_n),
        T(take_while_completes_at_the_first_rejected),
        T(distinct_lets_each_key_through_once),
        T(distinct_remembers_many_keys),
        T(distinct_until_changed_drops_repeats_in_a_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
