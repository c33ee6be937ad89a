/* SPDX-License-Identifier: MIT */
/* Chains of single-input operators (map, filter, scan, reduce, take, skip,
 * take_while, distinct, distinct_until_changed, tap), which subscribe as
 * one fused sink: the same events, in the same order, as operators one
 * after another: each value through every stage before the next value,
 * an end that comes from inside the chain reaching only the stages after
 * it, no callback after a dispose, state kept per subscription, and owned
 * values released. */
#include <limits.h>

#include "owned.h"
#include "rx_record.h"

static weft_rx_scheduler_t *ts;

static int setup(void **state) { return weft_rx_test_scheduler_new(&ts); }
static int teardown(void **state)
{
    weft_rx_scheduler_free(ts);
    return 0;
}

/* What the callbacks saw, in order, as text. */
struct trail {
    char text[1024];
    size_t len;
    int calls;
};

static void say(struct trail *t, const char *what, long v)
{
    int n = snprintf(t->text + t->len, sizeof t->text - t->len, "%s%s%ld",
                     t->len ? " " : "", what, v);
    if (n > 0 && t->len + (size_t)n < sizeof t->text)
        t->len += (size_t)n;
    t->calls++;
}

static int logged_times10(void *ctx, void *v, void **out)
{
    say(ctx, "m", (long)(intptr_t)v);
    *out = (void *)((intptr_t)v * 10);
    return 0;
}

static int logged_keep(void *ctx, void *v, int *keep)
{
    say(ctx, "f", (long)(intptr_t)v);
    *keep = 1;
    return 0;
}

static void logged_next(void *ctx, void *v) { say(ctx, "", (long)(intptr_t)v); }
static void logged_end(void *ctx) { say(ctx, "|", 0); }
static void logged_error(void *ctx, const weft_error_info_t *e)
{
    say(ctx, "#", e->code);
}

static weft_rx_observer_t side(struct trail *t)
{
    weft_rx_observer_t o = {logged_next, logged_error, logged_end, t, NULL};
    return o;
}

static weft_rx_observable_t *range(long a, long n)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_range(&o, a, n), 0);
    return o;
}

static void each_value_goes_through_every_stage_before_the_next(void **state)
{
    struct trail t = {.len = 0};
    weft_rx_observer_t tap = side(&t);
    weft_rx_observable_t *o = range(1, 3);
    weft_rx_map(&o, o, logged_times10, &t);
    weft_rx_filter(&o, o, logged_keep, &t);
    weft_rx_tap(&o, o, &tap);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "10 20 30 |");
    assert_string_equal(t.text, "m1 f10 10 m2 f20 20 m3 f30 30 |0");
}

static void take_in_a_chain_ends_only_the_stages_after_it(void **state)
{
    struct trail before = {.len = 0}, after = {.len = 0};
    weft_rx_observer_t tb = side(&before), ta = side(&after);
    weft_rx_observable_t *o = range(1, LONG_MAX);
    weft_rx_tap(&o, o, &tb);
    weft_rx_map(&o, o, times10, NULL);
    weft_rx_take(&o, o, 3);
    weft_rx_tap(&o, o, &ta);
    weft_rx_reduce(&o, o, add, (void *)0, NULL);
    weft_rx_map(&o, o, times10, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "600 |");
    assert_string_equal(before.text, "1 2 3"); /* disposed: no end */
    assert_string_equal(after.text, "10 20 30 |0");
}

static void take_zero_in_a_chain_completes_what_follows_at_once(void **state)
{
    weft_rx_observable_t *xs, *o;
    weft_rx_test_cold(&xs, ts, "-1-2-|");
    weft_rx_map(&o, weft_rx_observable_ref(xs), times10, NULL);
    weft_rx_take(&o, o, 0);
    weft_rx_reduce(&o, o, add, (void *)7, NULL);
    weft_rx_map(&o, o, times10, NULL);
    expect_text(ts, o, "200:70 200:|");
    expect_subs(xs, "");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

struct disposer {
    struct trail t;
    weft_rx_subscription_t *sub;
};

static int map_disposing_at_3(void *ctx, void *v, void **out)
{
    struct disposer *d = ctx;
    say(&d->t, "m", (long)(intptr_t)v);
    if ((intptr_t)v == 3)
        weft_rx_subscription_dispose(d->sub);
    *out = v;
    return 0;
}

static int keep_logged(void *ctx, void *v, int *keep)
{
    say(&((struct disposer *)ctx)->t, "f", (long)(intptr_t)v);
    *keep = 1;
    return 0;
}

static void a_callback_that_disposes_is_the_last_one_called(void **state)
{
    weft_rx_subject_t *s;
    assert_int_equal(weft_rx_subject_new(&s), 0);
    struct disposer d = {.t = {.len = 0}};
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    weft_rx_map(&o, o, map_disposing_at_3, &d);
    weft_rx_filter(&o, o, keep_logged, &d);
    rec_t r;
    d.sub = rec_subscribe(&r, o);
    for (long i = 1; i <= 5; i++)
        weft_rx_subject_on_next(s, (void *)(intptr_t)i);
    weft_rx_subject_on_completed(s);
    assert_string_equal(d.t.text, "m1 f1 m2 f2 m3");
    assert_string_equal(r.text, "1 2");
    assert_true(weft_rx_subscription_closed(d.sub));
    weft_rx_subscription_free(d.sub);
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
}

static void an_error_in_a_stage_reaches_only_the_stages_after_it(void **state)
{
    struct trail before = {.len = 0}, after = {.len = 0};
    weft_rx_observer_t tb = side(&before), ta = side(&after);
    weft_rx_observable_t *o = range(1, 5);
    weft_rx_tap(&o, o, &tb);
    weft_rx_map(&o, o, fail_on_3, NULL);
    weft_rx_tap(&o, o, &ta);
    weft_rx_reduce(&o, o, add, (void *)0, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "#WEFT_EUSER");
    assert_string_equal(r.err.message, "three is bad");
    assert_string_equal(before.text, "1 2 3");
    char want[64];
    snprintf(want, sizeof want, "1 2 #%d", WEFT_EUSER);
    assert_string_equal(after.text, want);
}

static int count_calls(void *ctx, void *v, void **out)
{
    ((struct disposer *)ctx)->t.calls++;
    *out = v;
    return 0;
}

static void dispose_at_first(void *ctx, void *v)
{
    struct disposer *d = ctx;
    say(&d->t, "", (long)(intptr_t)v);
    weft_rx_subscription_dispose(d->sub);
}

static void a_range_stops_within_its_batch_when_disposed(void **state)
{
    struct disposer d = {.t = {.len = 0}};
    weft_rx_observable_t *o = range(1, 1000);
    weft_rx_map(&o, o, count_calls, &d);
    weft_rx_filter(&o, o, is_even, NULL);
    weft_rx_subscribe_on(&o, o, ts); /* the handle first, then the values */
    weft_rx_observer_t obs = {dispose_at_first, NULL, NULL, &d, NULL};
    assert_int_equal(weft_rx_observable_subscribe(o, &obs, &d.sub), 0);
    assert_int_equal(weft_rx_test_run(ts), 0);
    assert_string_equal(d.t.text, "2");
    assert_int_equal(d.t.calls, 3); /* the mapper's two, the observer's */
    weft_rx_subscription_free(d.sub);
    weft_rx_observable_free(o);
}

static void state_is_kept_per_subscription(void **state)
{
    weft_rx_observable_t *o = range(1, 6);
    weft_rx_scan(&o, o, add, (void *)0, NULL);  /* 1 3 6 10 15 21 */
    weft_rx_map(&o, o, times10, NULL);          /* 10 30 60 100 150 210 */
    weft_rx_skip(&o, o, 1);                     /* 30 60 100 150 210 */
    weft_rx_distinct_until_changed(&o, o, NULL, NULL);
    weft_rx_take_while(&o, o, is_even, NULL);   /* all even */
    weft_rx_take(&o, o, 3);                     /* 30 60 100 */
    for (int i = 0; i < 2; i++) {
        rec_t r;
        rec_run(&r, weft_rx_observable_ref(o));
        assert_string_equal(r.text, "30 60 100 |");
    }
    weft_rx_observable_free(o);
}

static void owned_values_through_fused_maps_leave_nothing(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_from_iter(&o, boxes, (void *)(intptr_t)50);
    weft_rx_observable_set_values(o, &box_ops);
    weft_rx_map(&o, o, box_times10, NULL);
    weft_rx_observable_set_values(o, &box_ops);
    weft_rx_map(&o, o, box_times10, NULL);
    weft_rx_observable_set_values(o, &box_ops);
    weft_rx_filter(&o, o, box_is_even, NULL);
    weft_rx_skip(&o, o, 1);
    weft_rx_take(&o, o, 3);
    rec_t r;
    weft_rx_observer_t obs = rec_observer(&r);
    r.ops = &box_ops;
    weft_rx_observable_subscribe(o, &obs, NULL);
    weft_rx_observable_free(o);
    assert_string_equal(r.text, "<200> <300> <400> |");
    assert_int_equal(atomic_load(&boxes_live), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(each_value_goes_through_every_stage_before_the_next),
        T(take_in_a_chain_ends_only_the_stages_after_it),
        T(take_zero_in_a_chain_completes_what_follows_at_once),
        T(a_callback_that_disposes_is_the_last_one_called),
        T(an_error_in_a_stage_reaches_only_the_stages_after_it),
        T(a_range_stops_within_its_batch_when_disposed),
        T(state_is_kept_per_subscription),
        T(owned_values_through_fused_maps_leave_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
