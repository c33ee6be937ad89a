/* SPDX-License-Identifier: MIT */
/* sync: Barrier. */
#include "testing.h"

#include <math.h>

#include <string.h>

struct meet {
    weft_barrier_t b;
    _Atomic int arrived, after, actions;
    _Atomic unsigned index_mask;
    int action_saw;
};

static int count_action(void *arg)
{
    struct meet *m = arg;
    /* Every party has arrived, and none has gone on yet. */
    m->action_saw = atomic_load(&m->arrived) * 100 + atomic_load(&m->after);
    atomic_fetch_add(&m->actions, 1);
    return 0;
}

static void meet_member(void *arg, unsigned i)
{
    struct meet *m = arg;
    for (int round = 0; round < 50; round++) {
        atomic_fetch_add(&m->arrived, 1);
        unsigned idx = 99;
        assert_int_equal(weft_barrier_wait(&m->b, &idx), 0);
        assert_true(idx < 4);
        if (round == 0)
            atomic_fetch_or(&m->index_mask, 1u << idx);
        if (round == 0)
            atomic_fetch_add(&m->after, 1);
    }
}

static void all_parties_meet_and_the_action_runs_once_a_round(void **state)
{
    struct meet m;
    memset(&m, 0, sizeof m);
    assert_int_equal(weft_barrier_init(&m.b, 4, count_action, &m, WEFT_FOREVER),
                     0);
    testing_run_threads(4, meet_member, &m);
    assert_int_equal(atomic_load(&m.actions), 50);
    assert_int_equal(atomic_load(&m.index_mask), 0xF); /* 0..3, each once */
    assert_int_equal(weft_barrier_parties(&m.b), 4);
    assert_int_equal(weft_barrier_n_waiting(&m.b), 0);
    assert_false(weft_barrier_broken(&m.b));
}

static void bad_arguments_are_refused(void **state)
{
    weft_barrier_t b;
    assert_fails_with(weft_barrier_init(&b, 0, NULL, NULL, WEFT_FOREVER),
                      WEFT_EINVAL, "parties");
    assert_fails_with(weft_barrier_init(&b, 2, NULL, NULL, -4), WEFT_EINVAL,
                      "timeout");
}

static void a_timeout_breaks_the_barrier(void **state)
{
    weft_barrier_t b;
    weft_barrier_init(&b, 2, NULL, NULL, WEFT_FOREVER);
    double t0 = weft_monotonic();
    assert_fails_with(weft_barrier_wait_timeout(&b, 0.2, NULL), WEFT_EBROKEN,
                      "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_true(weft_barrier_broken(&b));
    assert_fails_with(weft_barrier_wait(&b, NULL), WEFT_EBROKEN, "broken");
    weft_barrier_reset(&b);
    assert_false(weft_barrier_broken(&b));
}

static void default_timeout_applies(void **state)
{
    weft_barrier_t b;
    weft_barrier_init(&b, 3, NULL, NULL, 0.1);
    assert_int_equal(weft_barrier_wait(&b, NULL), WEFT_EBROKEN);
}

struct breakers {
    weft_barrier_t b;
    int rc[3];
};

static void wait_then_record(void *arg, unsigned i)
{
    struct breakers *s = arg;
    if (i == 2) {
        while (weft_barrier_n_waiting(&s->b) < 2)
            weft_sleep(0.001);
        weft_barrier_abort(&s->b);
        s->rc[i] = 0;
        return;
    }
    s->rc[i] = weft_barrier_wait(&s->b, NULL);
}

static void abort_fails_every_waiter(void **state)
{
    struct breakers s;
    weft_barrier_init(&s.b, 3, NULL, NULL, WEFT_FOREVER);
    testing_run_threads(3, wait_then_record, &s);
    assert_int_equal(s.rc[0], WEFT_EBROKEN);
    assert_int_equal(s.rc[1], WEFT_EBROKEN);
    assert_true(weft_barrier_broken(&s.b));
}

static void reset_then_record(void *arg, unsigned i)
{
    struct breakers *s = arg;
    if (i == 2) {
        while (weft_barrier_n_waiting(&s->b) < 2)
            weft_sleep(0.001);
        weft_barrier_reset(&s->b);
        return;
    }
    s->rc[i] = weft_barrier_wait(&s->b, NULL);
}

static void reset_fails_the_waiters_and_refills(void **state)
{
    struct breakers s;
    weft_barrier_init(&s.b, 3, NULL, NULL, WEFT_FOREVER);
    testing_run_threads(3, reset_then_record, &s);
    assert_int_equal(s.rc[0], WEFT_EBROKEN);
    assert_int_equal(s.rc[1], WEFT_EBROKEN);
    assert_false(weft_barrier_broken(&s.b));
    assert_int_equal(weft_barrier_n_waiting(&s.b), 0);
}

static int failing_action(void *arg)
{
    (void)arg;
    return weft_fail(WEFT_EUSER + 3, "the action failed");
}

static void twice_wait(void *arg, unsigned i)
{
    struct breakers *s = arg;
    s->rc[i] = weft_barrier_wait(&s->b, NULL);
}

static void a_failing_action_breaks_the_barrier(void **state)
{
    struct breakers s;
    weft_barrier_init(&s.b, 2, failing_action, NULL, WEFT_FOREVER);
    testing_run_threads(2, twice_wait, &s);
    /* One thread ran the action and got its code; the other is broken. */
    int mine = s.rc[0] == WEFT_EUSER + 3 ? 0 : 1;
    assert_int_equal(s.rc[mine], WEFT_EUSER + 3);
    assert_int_equal(s.rc[1 - mine], WEFT_EBROKEN);
    assert_true(weft_barrier_broken(&s.b));
}

static const double bad_timeouts[] = {-2.0, -0.5, -1e300, -INFINITY, NAN};
#define N_BAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

/* A barrier of one party would pass at once; a bad timeout is refused
 * first, and the barrier is left as it was. A timeout too long for
 * nanoseconds is no timeout. */
static void a_bad_timeout_is_refused_before_the_barrier_is_entered(void **state)
{
    weft_barrier_t b;
    assert_int_equal(weft_barrier_init(&b, 1, NULL, NULL, WEFT_FOREVER), 0);
    for (size_t i = 0; i < N_BAD; i++) {
        assert_fails_with(weft_barrier_wait_timeout(&b, bad_timeouts[i], NULL),
                          WEFT_EINVAL, "timeout");
        assert_false(weft_barrier_broken(&b));
        assert_fails_with(weft_barrier_init(&b, 1, NULL, NULL,
                                            bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
    }
    unsigned index = 9;
    assert_int_equal(weft_barrier_wait_timeout(&b, INFINITY, &index), 0);
    assert_int_equal(index, 0);
    assert_int_equal(weft_barrier_init(&b, 1, NULL, NULL, 1e300), 0);
    assert_int_equal(weft_barrier_wait(&b, &index), 0);
    assert_int_equal(weft_barrier_init(&b, 1, NULL, NULL, INFINITY), 0);
    assert_int_equal(weft_barrier_wait(&b, &index), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_parties_meet_and_the_action_runs_once_a_round),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(a_timeout_breaks_the_barrier),
        cmocka_unit_test(default_timeout_applies),
        cmocka_unit_test(abort_fails_every_waiter),
        cmocka_unit_test(reset_fails_the_waiters_and_refills),
        cmocka_unit_test(a_failing_action_breaks_the_barrier),
        cmocka_unit_test(
            a_bad_timeout_is_refused_before_the_barrier_is_entered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
