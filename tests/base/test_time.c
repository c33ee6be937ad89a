/* SPDX-License-Identifier: MIT */
/* base: clocks and deadlines. */
#include "testing.h"

#include <math.h>

static void forever_is_never(void **state)
{
    int64_t d = 0;
    assert_int_equal(weft_deadline(WEFT_FOREVER, &d), 0);
    assert_true(d == WEFT_NEVER);
    assert_true(weft_deadline_remaining(d) == WEFT_FOREVER);
}

static void bad_timeouts_are_refused_and_change_nothing(void **state)
{
    int64_t d = 123;
    assert_fails_with(weft_deadline(-2.0, &d), WEFT_EINVAL, "timeout");
    assert_fails_with(weft_deadline(NAN, &d), WEFT_EINVAL, "timeout");
    assert_fails_with(weft_deadline(-0.5, &d), WEFT_EINVAL, "timeout");
    assert_int_equal(d, 123);
}

static void a_deadline_lies_timeout_ahead(void **state)
{
    int64_t before = weft_monotonic_ns(), d;
    assert_int_equal(weft_deadline(0.25, &d), 0);
    int64_t after = weft_monotonic_ns();
    assert_true(d >= before + 250000000);
    assert_true(d <= after + 250000000);
    double left = weft_deadline_remaining(d);
    assert_true(left > 0.0 && left <= 0.25);
    assert_int_equal(weft_deadline(0, &d), 0);
    assert_true(weft_deadline_remaining(d) == 0.0);
}

static void huge_timeouts_do_not_overflow(void **state)
{
    int64_t d;
    assert_int_equal(weft_deadline(1e300, &d), 0);
    assert_true(d == WEFT_NEVER);
    assert_int_equal(weft_deadline(INFINITY, &d), 0);
    assert_true(d == WEFT_NEVER);
}

static void clocks_move_forward(void **state)
{
    double a = weft_monotonic();
    double b = weft_monotonic();
    assert_true(b >= a);
    assert_true(weft_time() > 1.7e9); /* after 2023 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forever_is_never),
        cmocka_unit_test(bad_timeouts_are_refused_and_change_nothing),
        cmocka_unit_test(a_deadline_lies_timeout_ahead),
        cmocka_unit_test(huge_timeouts_do_not_overflow),
        cmocka_unit_test(clocks_move_forward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
