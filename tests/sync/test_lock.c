/* SPDX-License-Identifier: MIT */
/* sync: Lock. */
#include "testing.h"

#include <math.h>

#include <string.h>

static void acquire_release_and_locked(void **state)
{
    weft_lock_t l;
    assert_int_equal(weft_lock_init(&l), 0);
    assert_false(weft_lock_locked(&l));
    assert_int_equal(weft_lock_acquire(&l, WEFT_FOREVER), 0);
    assert_true(weft_lock_locked(&l));
    assert_int_equal(weft_lock_release(&l), 0);
    assert_false(weft_lock_locked(&l));
    assert_int_equal(weft_lock_destroy(&l), 0);
}

static void releasing_an_unlocked_lock_is_an_error(void **state)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    assert_fails_with(weft_lock_release(&l), WEFT_ESTATE,
                      "release unlocked lock");
    assert_false(weft_lock_locked(&l));
}

static void a_held_lock_cannot_be_destroyed(void **state)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    weft_lock_acquire(&l, 0);
    assert_fails_with(weft_lock_destroy(&l), WEFT_ESTATE, "held");
    weft_lock_release(&l);
}

static void zero_timeout_does_not_wait(void **state)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    assert_int_equal(weft_lock_acquire(&l, 0), 0);
    double t0 = weft_monotonic();
    assert_fails_with(weft_lock_acquire(&l, 0), WEFT_ETIMEDOUT, "held");
    assert_true(weft_monotonic() - t0 < 0.1 * testing_scale());
    weft_lock_release(&l);
}

static void timeout_waits_at_least_the_timeout(void **state)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    weft_lock_acquire(&l, WEFT_FOREVER);
    double t0 = weft_monotonic();
    assert_fails_with(weft_lock_acquire(&l, 0.2), WEFT_ETIMEDOUT, "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_lock_acquire(&l, -5), WEFT_EINVAL, "timeout");
    weft_lock_release(&l);
    /* The timed-out waiter left nothing behind: release is clean. */
    assert_int_equal(weft_lock_acquire(&l, 0), 0);
    assert_int_equal(weft_lock_release(&l), 0);
}

struct counter {
    weft_lock_t lock;
    long value;
    int per_thread;
};

static void add_under_lock(void *arg, unsigned i)
{
    struct counter *c = arg;
    for (int k = 0; k < c->per_thread; k++) {
        assert_int_equal(weft_lock_acquire(&c->lock, WEFT_FOREVER), 0);
        c->value++;
        assert_int_equal(weft_lock_release(&c->lock), 0);
    }
}

static void the_lock_protects_a_counter_exactly(void **state)
{
    struct counter c = {WEFT_LOCK_INIT, 0, 100000};
    testing_run_threads(5, add_under_lock, &c);
    assert_int_equal(c.value, 500000);
    assert_false(weft_lock_locked(&c.lock));
}

static void add_with_timeouts(void *arg, unsigned i)
{
    struct counter *c = arg;
    for (int k = 0; k < c->per_thread;) {
        int rc = weft_lock_acquire(&c->lock, (k % 3) * 0.0001);
        if (rc == WEFT_ETIMEDOUT)
            continue;
        assert_int_equal(rc, 0);
        c->value++;
        k++;
        weft_lock_release(&c->lock);
    }
}

static void timed_acquires_never_lose_or_double_a_hold(void **state)
{
    struct counter c = {WEFT_LOCK_INIT, 0, 20000};
    testing_run_threads(4, add_with_timeouts, &c);
    assert_int_equal(c.value, 80000);
}

struct holder {
    weft_lock_t *l;
    weft_cancel_scope_t scope;
    _Atomic int ready;
    int rc;
};

static void wait_for_held_lock(void *arg)
{
    struct holder *h = arg;
    weft_cancel_scope_enter(&h->scope, WEFT_FOREVER, 0);
    atomic_store(&h->ready, 1);
    h->rc = weft_lock_acquire(h->l, WEFT_FOREVER);
    weft_cancel_scope_exit(&h->scope);
}

static void a_cancelled_waiter_gives_up_the_wait(void **state)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    weft_lock_acquire(&l, 0);
    struct holder h = {.l = &l, .rc = -1};
    weft_cancel_scope_init(&h.scope);
    testing_thread_t *t = testing_thread_start(wait_for_held_lock, &h);
    while (!atomic_load(&h.ready))
        weft_sleep(0.001);
    weft_sleep(0.05);
    weft_cancel_scope_cancel(&h.scope);
    testing_thread_join(t);
    assert_int_equal(h.rc, WEFT_ECANCELLED);
    assert_int_equal(weft_lock_release(&l), 0);
    assert_false(weft_lock_locked(&l));
}

struct held {
    weft_lock_t *l;
};

static void release_later(void *arg)
{
    struct held *h = arg;
    weft_sleep(0.05);
    weft_lock_release(h->l);
}

static void a_shielded_acquire_waits_even_in_a_cancelled_scope(void **state)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    weft_lock_acquire(&l, 0);
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    weft_cancel_scope_enter(&s, WEFT_FOREVER, 0);
    weft_cancel_scope_cancel(&s);
    /* A plain acquire of a held lock gives up in a cancelled scope... */
    assert_int_equal(weft_lock_acquire(&l, WEFT_FOREVER), WEFT_ECANCELLED);
    struct held h = {&l};
    testing_thread_t *t = testing_thread_start(release_later, &h);
    /* ...a shielded one waits for it. */
    weft_lock_acquire_shielded(&l);
    assert_true(weft_lock_locked(&l));
    weft_cancel_scope_exit(&s);
    testing_thread_join(t);
    weft_lock_release(&l);
}

static void heap_locks(void **state)
{
    weft_lock_t *l = NULL;
    assert_int_equal(weft_lock_new(&l), 0);
    assert_int_equal(weft_lock_acquire(l, 0), 0);
    weft_lock_release(l);
    weft_lock_free(l);
    weft_lock_free(NULL);
    assert_fails_with(weft_lock_new(NULL), WEFT_EINVAL, "NULL");
}

static const double bad_timeouts[] = {-2.0, -0.5, -1e300, -INFINITY, NAN};
#define N_BAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

/* WEFT_FOREVER waits, 0 polls, any other negative or NaN is WEFT_EINVAL:
 * also when the lock is free and could be taken at once; nothing is taken
 * then. */
static void a_bad_timeout_is_refused_even_when_the_lock_is_free(void **state)
{
    weft_lock_t l = WEFT_LOCK_INIT;
    for (size_t i = 0; i < N_BAD; i++) {
        assert_fails_with(weft_lock_acquire(&l, bad_timeouts[i]), WEFT_EINVAL,
                          "timeout");
        assert_false(weft_lock_locked(&l));
    }
    assert_int_equal(weft_lock_acquire(&l, -0.0), 0); /* -0.0 is 0 */
    assert_fails_with(weft_lock_acquire(&l, NAN), WEFT_EINVAL, "timeout");
    assert_int_equal(weft_lock_release(&l), 0);
    assert_int_equal(weft_lock_acquire(&l, INFINITY), 0);
    assert_int_equal(weft_lock_release(&l), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acquire_release_and_locked),
        cmocka_unit_test(releasing_an_unlocked_lock_is_an_error),
        cmocka_unit_test(a_held_lock_cannot_be_destroyed),
        cmocka_unit_test(zero_timeout_does_not_wait),
        cmocka_unit_test(timeout_waits_at_least_the_timeout),
        cmocka_unit_test(the_lock_protects_a_counter_exactly),
        cmocka_unit_test(timed_acquires_never_lose_or_double_a_hold),
        cmocka_unit_test(a_cancelled_waiter_gives_up_the_wait),
        cmocka_unit_test(a_shielded_acquire_waits_even_in_a_cancelled_scope),
        cmocka_unit_test(heap_locks),
        cmocka_unit_test(a_bad_timeout_is_refused_even_when_the_lock_is_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
