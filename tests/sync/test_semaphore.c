/* SPDX-License-Identifier: MIT */
/* sync: Semaphore and BoundedSemaphore. */
#include "testing.h"

#include <math.h>

static void acquire_takes_and_release_gives(void **state)
{
    weft_semaphore_t s;
    weft_semaphore_init(&s, 2);
    assert_int_equal(weft_semaphore_acquire(&s, 0), 0);
    assert_int_equal(weft_semaphore_acquire(&s, 0), 0);
    assert_fails_with(weft_semaphore_acquire(&s, 0), WEFT_ETIMEDOUT, "0");
    assert_int_equal(weft_semaphore_release(&s, 3), 0);
    assert_int_equal(weft_semaphore_value(&s), 3);
    assert_fails_with(weft_semaphore_release(&s, 0), WEFT_EINVAL, "n >= 1");
}

static void a_bounded_semaphore_refuses_over_release(void **state)
{
    weft_semaphore_t s;
    weft_bounded_semaphore_init(&s, 1);
    assert_fails_with(weft_semaphore_release(&s, 1), WEFT_EINVAL,
                      "released too many times");
    assert_int_equal(weft_semaphore_acquire(&s, 0), 0);
    assert_int_equal(weft_semaphore_release(&s, 1), 0);
    assert_int_equal(weft_semaphore_value(&s), 1);
    weft_semaphore_t z;
    weft_bounded_semaphore_init(&z, 0);
    assert_fails_with(weft_semaphore_release(&z, 1), WEFT_EINVAL, "too many");
}

static void overflow_is_refused(void **state)
{
    weft_semaphore_t s;
    assert_fails_with(weft_semaphore_init(&s, UINT32_MAX), WEFT_EINVAL,
                      "too large");
    weft_semaphore_init(&s, UINT32_MAX - 1);
    assert_fails_with(weft_semaphore_release(&s, 1), WEFT_EINVAL, "overflow");
}

static void acquire_times_out_within_bounds(void **state)
{
    weft_semaphore_t s;
    weft_semaphore_init(&s, 0);
    double t0 = weft_monotonic();
    assert_fails_with(weft_semaphore_acquire(&s, 0.2), WEFT_ETIMEDOUT,
                      "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
}

/* At most 3 threads inside at once, and every pass counted. */
struct gate {
    weft_semaphore_t s;
    _Atomic int inside, max_inside, passes;
};

static void through_gate(void *arg, unsigned i)
{
    struct gate *g = arg;
    for (int k = 0; k < 2000; k++) {
        assert_int_equal(weft_semaphore_acquire(&g->s, WEFT_FOREVER), 0);
        int now = atomic_fetch_add(&g->inside, 1) + 1;
        int m = atomic_load(&g->max_inside);
        while (now > m && !atomic_compare_exchange_weak(&g->max_inside, &m, now))
            ;
        atomic_fetch_add(&g->passes, 1);
        atomic_fetch_sub(&g->inside, 1);
        assert_int_equal(weft_semaphore_release(&g->s, 1), 0);
    }
}

static void a_semaphore_admits_at_most_its_value(void **state)
{
    struct gate g;
    weft_bounded_semaphore_init(&g.s, 3);
    atomic_init(&g.inside, 0);
    atomic_init(&g.max_inside, 0);
    atomic_init(&g.passes, 0);
    testing_run_threads(8, through_gate, &g);
    assert_int_equal(atomic_load(&g.passes), 16000);
    assert_true(atomic_load(&g.max_inside) <= 3);
    assert_int_equal(weft_semaphore_value(&g.s), 3);
}

struct handoff {
    weft_semaphore_t s;
    _Atomic int got;
};

static void take_or_give(void *arg, unsigned i)
{
    struct handoff *h = arg;
    if (i < 4) {
        assert_int_equal(weft_semaphore_acquire(&h->s, WEFT_FOREVER), 0);
        atomic_fetch_add(&h->got, 1);
    } else {
        weft_sleep(0.05);
        assert_int_equal(weft_semaphore_release(&h->s, 4), 0);
    }
}

static void release_n_wakes_n_waiters(void **state)
{
    struct handoff h;
    weft_semaphore_init(&h.s, 0);
    atomic_init(&h.got, 0);
    testing_run_threads(5, take_or_give, &h);
    assert_int_equal(atomic_load(&h.got), 4);
    assert_int_equal(weft_semaphore_value(&h.s), 0);
}

static const double bad_timeouts[] = {-2.0, -0.5, -1e300, -INFINITY, NAN};
#define N_BAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

static void a_bad_timeout_is_refused_even_with_the_counter_up(void **state)
{
    weft_semaphore_t s;
    weft_semaphore_init(&s, 3);
    for (size_t i = 0; i < N_BAD; i++) {
        assert_fails_with(weft_semaphore_acquire(&s, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_int_equal(weft_semaphore_value(&s), 3);
    }
    weft_bounded_semaphore_init(&s, 1);
    assert_fails_with(weft_semaphore_acquire(&s, NAN), WEFT_EINVAL,
                      "timeout");
    assert_int_equal(weft_semaphore_value(&s), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acquire_takes_and_release_gives),
        cmocka_unit_test(a_bounded_semaphore_refuses_over_release),
        cmocka_unit_test(overflow_is_refused),
        cmocka_unit_test(acquire_times_out_within_bounds),
        cmocka_unit_test(a_semaphore_admits_at_most_its_value),
        cmocka_unit_test(release_n_wakes_n_waiters),
        cmocka_unit_test(a_bad_timeout_is_refused_even_with_the_counter_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
