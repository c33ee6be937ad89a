/* SPDX-License-Identifier: MIT */
/* sync: Event. */
#include "park/park_int.h"
#include "testing.h"

#include <math.h>

#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

/* Two threads pass turns with two Events. Each announces the turn it hands
 * over before the set() that hands it over, so every wait that returns 0
 * must find the turn it waited for: a wait woken by the late unpark of a
 * set() whose flag it had already seen and cleared (an earlier turn's)
 * finds the previous turn instead. A lost wake-up runs into the bound.
 * Threads report to the main thread, which checks; the first failure
 * releases the partner so that nothing hangs. */
#define TURNS 20000

enum { PASSED = 0, UNJUSTIFIED = 1, STUCK = 2 };

struct rounds {
    weft_event_t ping, pong;
    _Atomic long pinged, ponged; /* the turn each set() hands over */
    _Atomic int failure;
    _Atomic long failed_at;
};

static int fail_turn(struct rounds *r, int why, long turn)
{
    int none = PASSED;
    if (atomic_compare_exchange_strong(&r->failure, &none, why))
        atomic_store(&r->failed_at, turn);
    weft_event_set(&r->ping);
    weft_event_set(&r->pong);
    return 1;
}

/* Wait for e, then check that the turn announced is this one. */
static int take_turn(struct rounds *r, weft_event_t *e, _Atomic long *turn,
                     long k)
{
    if (weft_event_wait(e, 10 * testing_scale()) != 0)
        return fail_turn(r, STUCK, k);
    if (atomic_load(&r->failure) != PASSED)
        return 1;
    if (atomic_load(turn) != k)
        return fail_turn(r, UNJUSTIFIED, k);
    weft_event_clear(e);
    return 0;
}

static void ping_pong(void *arg, unsigned i)
{
    struct rounds *r = arg;
    for (long k = 1; k <= TURNS; k++) {
        if (i == 0) {
            atomic_store(&r->pinged, k);
            weft_event_set(&r->ping);
            if (take_turn(r, &r->pong, &r->ponged, k))
                return;
        } else {
            if (take_turn(r, &r->ping, &r->pinged, k))
                return;
            atomic_store(&r->ponged, k);
            weft_event_set(&r->pong);
        }
    }
}

static void events_pass_turns_and_every_wake_has_its_set(void **state)
{
    struct rounds r;
    memset(&r, 0, sizeof r);
    weft_event_init(&r.ping);
    weft_event_init(&r.pong);
    testing_run_threads(2, ping_pong, &r);
    if (atomic_load(&r.failure) != PASSED)
        fprintf(stderr, "turn %ld: %s\n", atomic_load(&r.failed_at),
                atomic_load(&r.failure) == UNJUSTIFIED
                    ? "a wait returned 0 without a set() after it began"
                    : "a wait saw no set() within the bound");
    assert_int_equal(atomic_load(&r.failure), PASSED);
}

/* A waiter kind that counts the contexts asleep in park, so that a test
 * knows its waiters are parked without sleeping to find out. */
struct counted {
    _Atomic int asleep;
};

static void counted_wait(weft_waiter_t *w, int64_t deadline)
{
    struct counted *c = w->data;
    struct timespec ts = {deadline / 1000000000, deadline % 1000000000};
    atomic_fetch_add(&c->asleep, 1);
    syscall(SYS_futex, &weft__waiter(w)->state,
            FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0,
            deadline == WEFT_NEVER ? NULL : &ts, NULL, FUTEX_BITSET_MATCH_ANY);
    atomic_fetch_sub(&c->asleep, 1);
}

static void counted_wake(weft_waiter_t *w, uint32_t bits)
{
    atomic_fetch_or(&weft__waiter(w)->state, bits);
    syscall(SYS_futex, &weft__waiter(w)->state, FUTEX_WAKE_PRIVATE, 1, NULL,
            NULL, 0);
}

static const weft_waiter_ops_t counted_ops = {counted_wait, counted_wake,
                                              NULL, NULL};

struct set_clear {
    weft_event_t e;
    struct counted sleepers;
    _Atomic int returned_zero;
};

static void wait_counted(void *arg, unsigned i)
{
    struct set_clear *sc = arg;
    if (i == 0) {
        while (atomic_load(&sc->sleepers.asleep) < 4)
            sched_yield();
        weft_event_set(&sc->e);
        weft_event_clear(&sc->e);
        return;
    }
    weft_waiter_t w;
    weft_waiter_init(&w, &counted_ops, &sc->sleepers);
    weft_waiter_t *prev = weft_park_set_waiter(&w);
    if (weft_event_wait(&sc->e, 10 * testing_scale()) == 0)
        atomic_fetch_add(&sc->returned_zero, 1);
    weft_park_set_waiter(prev);
}

/* Python's test_set_and_clear: waiters woken by set() return True even
 * when clear() came before they ran. */
static void a_set_then_clear_still_wakes_every_waiter(void **state)
{
    struct set_clear sc;
    memset(&sc, 0, sizeof sc);
    weft_event_init(&sc.e);
    testing_run_threads(5, wait_counted, &sc);
    assert_int_equal(atomic_load(&sc.returned_zero), 4);
    assert_false(weft_event_is_set(&sc.e));
}

static const double bad_timeouts[] = {-2.0, -0.5, -1e300, -INFINITY, NAN};
#define N_BAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

static void a_bad_timeout_is_refused_even_when_the_flag_is_set(void **state)
{
    weft_event_t e;
    weft_event_init(&e);
    weft_event_set(&e);
    for (size_t i = 0; i < N_BAD; i++)
        assert_fails_with(weft_event_wait(&e, bad_timeouts[i]), WEFT_EINVAL,
                          "timeout");
    assert_true(weft_event_is_set(&e));
    assert_int_equal(weft_event_wait(&e, INFINITY), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_clear_and_is_set),
        cmocka_unit_test(wait_times_out_within_bounds),
        cmocka_unit_test(set_wakes_every_waiter),
        cmocka_unit_test(events_pass_turns_and_every_wake_has_its_set),
        cmocka_unit_test(a_set_then_clear_still_wakes_every_waiter),
        cmocka_unit_test(a_bad_timeout_is_refused_even_when_the_flag_is_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
