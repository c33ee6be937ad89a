/* sync: Event. */
#include "testing.h"

static void set_clear_and_is_set(void **state)
{
    weft_event_t e;
    weft_event_init(&e);
    assert_false(weft_event_is_set(&e));
    weft_event_set(&e);
    assert_true(weft_event_is_set(&e));
    assert_int_equal(weft_event_wait(&e, 0), 0);
    weft_event_clear(&e);
    assert_false(weft_event_is_set(&e));
    assert_fails_with(weft_event_wait(&e, 0), WEFT_ETIMEDOUT, "not set");
}

static void wait_times_out_within_bounds(void **state)
{
    weft_event_t e;
    weft_event_init(&e);
    double t0 = weft_monotonic();
    assert_fails_with(weft_event_wait(&e, 0.2), WEFT_ETIMEDOUT, "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_event_wait(&e, -7), WEFT_EINVAL, "timeout");
}

struct crowd {
    weft_event_t e;
    _Atomic int woke;
};

static void wait_or_set(void *arg, unsigned i)
{
    struct crowd *c = arg;
    if (i == 0) {
        weft_sleep(0.05);
        weft_event_set(&c->e);
        return;
    }
    assert_int_equal(weft_event_wait(&c->e, WEFT_FOREVER), 0);
    atomic_fetch_add(&c->woke, 1);
}

static void set_wakes_every_waiter(void **state)
{
    struct crowd c;
    weft_event_init(&c.e);
    atomic_init(&c.woke, 0);
    testing_run_threads(9, wait_or_set, &c);
    assert_int_equal(atomic_load(&c.woke), 8);
}

/* Many rounds of set/clear against waiters: a lost wake-up hangs. */
struct rounds {
    weft_event_t ping, pong;
};

static void ping_pong(void *arg, unsigned i)
{
    struct rounds *r = arg;
    for (int k = 0; k < 5000; k++) {
        if (i == 0) {
            weft_event_set(&r->ping);
            assert_int_equal(weft_event_wait(&r->pong, WEFT_FOREVER), 0);
            weft_event_clear(&r->pong);
        } else {
            assert_int_equal(weft_event_wait(&r->ping, WEFT_FOREVER), 0);
            weft_event_clear(&r->ping);
            weft_event_set(&r->pong);
        }
    }
}

static void events_pass_turns_without_losing_any(void **state)
{
    struct rounds r;
    weft_event_init(&r.ping);
    weft_event_init(&r.pong);
    testing_run_threads(2, ping_pong, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_clear_and_is_set),
        cmocka_unit_test(wait_times_out_within_bounds),
        cmocka_unit_test(set_wakes_every_waiter),
        cmocka_unit_test(events_pass_turns_without_losing_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
