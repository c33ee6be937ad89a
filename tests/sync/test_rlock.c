/* SPDX-License-Identifier: MIT */
/* sync: RLock. */
#include "sync/sync_int.h"
#include "testing.h"

#include <math.h>

static void the_owner_may_reenter(void **state)
{
    weft_rlock_t r;
    weft_rlock_init(&r);
    assert_int_equal(weft_rlock_acquire(&r, WEFT_FOREVER), 0);
    assert_int_equal(weft_rlock_acquire(&r, 0), 0);
    assert_int_equal(weft_rlock_count(&r), 2);
    assert_true(weft_rlock_is_owned(&r));
    assert_int_equal(weft_rlock_release(&r), 0);
    assert_true(weft_rlock_is_owned(&r));
    assert_int_equal(weft_rlock_release(&r), 0);
    assert_false(weft_rlock_is_owned(&r));
    assert_fails_with(weft_rlock_release(&r), WEFT_EPERM, "un-acquired");
}

struct shared {
    weft_rlock_t r;
    int rc;
};

static void release_foreign(void *arg)
{
    struct shared *s = arg;
    s->rc = weft_rlock_release(&s->r);
}

static void acquire_foreign(void *arg)
{
    struct shared *s = arg;
    s->rc = weft_rlock_acquire(&s->r, 0.05);
}

static void others_can_neither_release_nor_take_it(void **state)
{
    struct shared s;
    weft_rlock_init(&s.r);
    weft_rlock_acquire(&s.r, WEFT_FOREVER);
    testing_thread_join(testing_thread_start(release_foreign, &s));
    assert_int_equal(s.rc, WEFT_EPERM);
    testing_thread_join(testing_thread_start(acquire_foreign, &s));
    assert_int_equal(s.rc, WEFT_ETIMEDOUT);
    assert_int_equal(weft_rlock_count(&s.r), 1);
    weft_rlock_release(&s.r);
}

/* The seeds' Counter: increment_many takes the lock and calls increment,
 * which takes it again. */
struct seed_counter {
    weft_rlock_t lock;
    long count;
};

static void increment(struct seed_counter *c)
{
    weft_rlock_acquire(&c->lock, WEFT_FOREVER);
    c->count++;
    weft_rlock_release(&c->lock);
}

static void increment_many(void *arg, unsigned i)
{
    struct seed_counter *c = arg;
    weft_rlock_acquire(&c->lock, WEFT_FOREVER);
    for (int k = 0; k < 1000; k++)
        increment(c);
    weft_rlock_release(&c->lock);
}

static void reentry_counts_exactly(void **state)
{
    struct seed_counter c;
    weft_rlock_init(&c.lock);
    c.count = 0;
    testing_run_threads(5, increment_many, &c);
    assert_int_equal(c.count, 5000);
}

static const double bad_timeouts[] = {-2.0, -0.5, -1e300, -INFINITY, NAN};
#define N_BAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

/* Refused before anything else: when r is free, and when the caller holds
 * it and would only count one more level. */
static void a_bad_timeout_is_refused_free_or_held(void **state)
{
    weft_rlock_t r;
    weft_rlock_init(&r);
    for (size_t i = 0; i < N_BAD; i++) {
        assert_fails_with(weft_rlock_acquire(&r, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_false(weft_rlock_is_owned(&r));
    }
    assert_int_equal(weft_rlock_acquire(&r, 0), 0);
    for (size_t i = 0; i < N_BAD; i++) {
        assert_fails_with(weft_rlock_acquire(&r, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_int_equal(weft_rlock_count(&r), 1);
    }
    assert_int_equal(weft_rlock_release(&r), 0);
    assert_false(weft_lock_locked(&weft__rlock(&r)->lock_));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_owner_may_reenter),
        cmocka_unit_test(others_can_neither_release_nor_take_it),
        cmocka_unit_test(reentry_counts_exactly),
        cmocka_unit_test(a_bad_timeout_is_refused_free_or_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
