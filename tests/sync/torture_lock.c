/* SPDX-License-Identifier: MIT */
/* Lock and RLock torture: threads take the lock with random timeouts (a
 * poll, a short wait, none), some of them inside scopes that another
 * thread cancels, and some with the shielded acquire inside a cancelled
 * scope; while they hold it they count into a plain variable.
 *
 * Accounting: a holder marks itself inside on entry and must find nobody
 * there (two holders at once fail at once); at the end the plain counter
 * equals the number of holds, so no hold was lost or doubled; every failed
 * acquire must fit the cause the thread set up (a timeout only with one, a
 * cancel only in a scope). The RLock threads also take it again to random
 * depths, check their count at each level, and try to release an RLock
 * they do not hold, which must be refused and change nothing. */
#include "sync/sync_int.h"
#include "torture.h"

#define THREADS 4

struct lock_torture {
    weft_lock_t lock;
    weft_rlock_t rlock;
    int use_rlock;
    _Atomic int inside;
    long counter; /* plain: only a holder touches it */
    _Atomic long holds, timeouts, cancels, refused_releases;
    struct cancellable scopes[THREADS];
    double end;
    _Atomic int done;
    struct verdict v;
};

static void enter_inside(struct lock_torture *t)
{
    if (atomic_fetch_add(&t->inside, 1) != 0)
        note_failure(&t->v, "two holders at once");
    t->counter++;
    atomic_fetch_add(&t->holds, 1);
}

static void leave_inside(struct lock_torture *t)
{
    atomic_fetch_sub(&t->inside, 1);
}

static int acquire_first(struct lock_torture *t, double timeout)
{
    return t->use_rlock ? weft_rlock_acquire(&t->rlock, timeout)
                        : weft_lock_acquire(&t->lock, timeout);
}

/* Take the RLock again to depth levels in all, checking the count. */
static void go_deeper(struct lock_torture *t, unsigned depth,
                      testing_rng_t *rng)
{
    for (unsigned level = 2; level <= depth; level++) {
        int rc = weft_rlock_acquire(&t->rlock, random_timeout(rng));
        if (rc != 0 || weft_rlock_count(&t->rlock) != level)
            note_failure(&t->v, "re-entry to level %u: rc %d, count %u", level,
                         rc, weft_rlock_count(&t->rlock));
    }
}

static void release_all(struct lock_torture *t, unsigned depth)
{
    if (!t->use_rlock) {
        if (weft_lock_release(&t->lock) != 0)
            note_failure(&t->v, "release of a held Lock failed");
        return;
    }
    for (unsigned level = depth; level >= 1; level--) {
        if (level == 1)
            leave_inside(t);
        if (weft_rlock_release(&t->rlock) != 0 ||
            weft_rlock_count(&t->rlock) != level - 1)
            note_failure(&t->v, "release at level %u", level);
    }
}

static void hold_once(struct lock_torture *t, unsigned i, testing_rng_t *rng)
{
    unsigned how = (unsigned)testing_rng_below(rng, 8);
    double timeout = random_timeout(rng);
    int scoped = how < 2;
    if (scoped)
        scope_open(&t->scopes[i]);
    int rc;
    if (how == 2 && !t->use_rlock) {
        /* Shielded, in a scope that is cancelled already. */
        weft_cancel_scope_t cancelled;
        weft_cancel_scope_init(&cancelled);
        weft_cancel_scope_cancel(&cancelled);
        weft_cancel_scope_enter(&cancelled, WEFT_FOREVER, 0);
        weft_lock_acquire_shielded(&t->lock);
        weft_cancel_scope_exit(&cancelled);
        rc = 0;
    } else {
        rc = acquire_first(t, timeout);
    }
    if (scoped)
        scope_close(&t->scopes[i]);
    if (rc != 0) {
        if (!fits(rc, timeout, scoped))
            note_failure(&t->v, "acquire returned %d (timeout %g, %s)", rc,
                         timeout, scoped ? "in a scope" : "no scope");
        atomic_fetch_add(rc == WEFT_ETIMEDOUT ? &t->timeouts : &t->cancels, 1);
        return;
    }
    enter_inside(t);
    unsigned depth = 1;
    if (t->use_rlock) {
        depth = 1 + (unsigned)testing_rng_below(rng, 3);
        go_deeper(t, depth, rng);
    } else if (!weft_lock_locked(&t->lock)) {
        note_failure(&t->v, "a held Lock is not locked");
    }
    if (testing_rng_below(rng, 4) == 0)
        weft_sleep(0);
    if (!t->use_rlock)
        leave_inside(t);
    release_all(t, depth);
}

/* Release an RLock this thread does not hold: refused, nothing changed
 * (its holder's own checks of its count would see a change). */
static void release_foreign(struct lock_torture *t)
{
    if (weft_rlock_release(&t->rlock) != WEFT_EPERM)
        note_failure(&t->v, "a release by a non-owner was not refused");
    else
        atomic_fetch_add(&t->refused_releases, 1);
}

static void lock_member(void *arg, unsigned i)
{
    struct lock_torture *t = arg;
    testing_rng_t rng;
    testing_rng_init(&rng, i + (t->use_rlock ? 50 : 0));
    if (i == THREADS) { /* the canceller */
        while (atomic_load(&t->done) < THREADS) {
            scope_cancel(&t->scopes[testing_rng_below(&rng, THREADS)]);
            weft_sleep(testing_rng_below(&rng, 300) * 1e-6);
        }
        return;
    }
    while (weft_monotonic() < t->end && !failed(&t->v)) {
        if (t->use_rlock && testing_rng_below(&rng, 16) == 0)
            release_foreign(t);
        else
            hold_once(t, i, &rng);
    }
    atomic_fetch_add(&t->done, 1);
}

static void torture(int use_rlock)
{
    static struct lock_torture t;
    memset(&t, 0, sizeof t);
    weft_lock_init(&t.lock);
    weft_rlock_init(&t.rlock);
    t.use_rlock = use_rlock;
    for (int i = 0; i < THREADS; i++)
        pthread_mutex_init(&t.scopes[i].m, NULL);
    t.end = weft_monotonic() + testing_torture_seconds();
    testing_run_threads(THREADS + 1, lock_member, &t);
    fprintf(stderr,
            "%s: %ld holds, %ld timeouts, %ld cancels, %ld refused "
            "releases\n",
            use_rlock ? "RLock" : "Lock", atomic_load(&t.holds),
            atomic_load(&t.timeouts), atomic_load(&t.cancels),
            atomic_load(&t.refused_releases));
    check_verdict(&t.v);
    assert_int_equal(t.counter, atomic_load(&t.holds));
    assert_int_equal(atomic_load(&t.inside), 0);
    if (use_rlock) {
        assert_false(weft_lock_locked(&weft__rlock(&t.rlock)->lock_));
    } else {
        assert_false(weft_lock_locked(&t.lock));
    }
    assert_true(atomic_load(&t.holds) > 0);
}

static void a_lock_has_one_holder_and_loses_no_hold(void **state)
{
    torture(0);
}

static void an_rlock_has_one_owner_and_counts_every_level(void **state)
{
    torture(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_lock_has_one_holder_and_loses_no_hold),
        cmocka_unit_test(an_rlock_has_one_owner_and_counts_every_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
