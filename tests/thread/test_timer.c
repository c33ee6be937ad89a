/* SPDX-License-Identifier: MIT */
/* thread: Timer (threading.Timer). */
#include "testing.h"

#include <math.h>
#include <stdio.h>

struct shot {
    _Atomic int fired;
    double at;
};

static int fire(void *arg, void **result)
{
    struct shot *s = arg;
    s->at = weft_monotonic();
    atomic_fetch_add(&s->fired, 1);
    *result = arg;
    return 0;
}

static void a_timer_runs_its_function_after_the_interval(void **state)
{
    struct shot s = {0, 0};
    weft_thread_t *t;
    assert_int_equal(weft_timer_new(&t, 0.2, fire, &s, NULL), 0);
    double t0 = weft_monotonic();
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_int_equal(atomic_load(&s.fired), 1);
    assert_elapsed_between(s.at - t0, 0.2, 1.0);
    void *result = NULL;
    assert_int_equal(weft_thread_result(t, &result), 0);
    assert_ptr_equal(result, &s);
    weft_thread_free(t);
}

static void a_cancelled_timer_never_runs_and_ends_at_once(void **state)
{
    struct shot s = {0, 0};
    weft_thread_t *t;
    assert_int_equal(weft_timer_new(&t, 30.0, fire, &s, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    double t0 = weft_monotonic();
    assert_int_equal(weft_timer_cancel(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_elapsed_between(weft_monotonic() - t0, 0, 1.0);
    assert_int_equal(atomic_load(&s.fired), 0);
    void *result = (void *)1;
    assert_int_equal(weft_thread_result(t, &result), 0);
    assert_null(result);
    assert_int_equal(weft_timer_cancel(t), 0);
    weft_thread_free(t);
}

static void a_timer_cancelled_before_start_never_runs(void **state)
{
    struct shot s = {0, 0};
    weft_thread_t *t;
    assert_int_equal(weft_timer_new(&t, 0, fire, &s, NULL), 0);
    assert_int_equal(weft_timer_cancel(t), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_int_equal(atomic_load(&s.fired), 0);
    weft_thread_free(t);
}

static void a_timer_is_named_like_a_thread_without_target(void **state)
{
    weft_thread_t *t, *u;
    assert_int_equal(weft_timer_new(&t, 1, fire, NULL, NULL), 0);
    weft_thread_opts_t o = {.name = "alarm", .daemon = 1};
    assert_int_equal(weft_timer_new(&u, 1, fire, NULL, &o), 0);
    unsigned n;
    char rest;
    assert_int_equal(sscanf(weft_thread_name(t), "Thread-%u%c", &n, &rest), 1);
    assert_string_equal(weft_thread_name(u), "alarm");
    assert_true(weft_thread_daemon(u));
    weft_thread_free(t);
    weft_thread_free(u);
}

static int just_run(void *arg, void **result)
{
    return 0;
}

static void bad_intervals_and_non_timers_are_refused(void **state)
{
    weft_thread_t *t;
    assert_fails_with(weft_timer_new(&t, -1, fire, NULL, NULL), WEFT_EINVAL,
                      "interval");
    assert_fails_with(weft_timer_new(&t, NAN, fire, NULL, NULL), WEFT_EINVAL,
                      "interval");
    assert_fails_with(weft_timer_new(&t, 1, NULL, NULL, NULL), WEFT_EINVAL,
                      "NULL target");
    assert_int_equal(weft_thread_new(&t, just_run, NULL, NULL), 0);
    assert_fails_with(weft_timer_cancel(t), WEFT_EINVAL, "not a timer");
    assert_fails_with(weft_timer_cancel(NULL), WEFT_EINVAL, "NULL");
    weft_thread_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_timer_runs_its_function_after_the_interval),
        cmocka_unit_test(a_cancelled_timer_never_runs_and_ends_at_once),
        cmocka_unit_test(a_timer_cancelled_before_start_never_runs),
        cmocka_unit_test(a_timer_is_named_like_a_thread_without_target),
        cmocka_unit_test(bad_intervals_and_non_timers_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
