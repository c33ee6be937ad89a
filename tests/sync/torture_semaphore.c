/* SPDX-License-Identifier: MIT */
/* Semaphore and BoundedSemaphore torture: threads take one or several
 * units with random timeouts and cancels, hold them a moment, and give
 * them back, one at a time or all at once with release(n).
 *
 * Accounting: the units held never exceed the initial value (each thread
 * counts its units in before it holds them and out before it gives them
 * back); every failed acquire fits its cause; at the end the counter is
 * back at its initial value, and the units taken equal the units given.
 * A bounded semaphore is also released past its bound while a thread holds
 * every unit (so nobody can take one in between): that must be refused
 * with WEFT_EINVAL and change nothing. */
#include "torture.h"

#define THREADS 5
#define UNITS 3

struct sem_torture {
    weft_semaphore_t sem;
    int bounded;
    _Atomic int held;
    _Atomic long taken, given, timeouts, cancels, refused;
    struct cancellable scopes[THREADS];
    double end;
    _Atomic int done;
    struct verdict v;
};

static void count_in(struct sem_torture *t, unsigned n)
{
    int now = atomic_fetch_add(&t->held, (int)n) + (int)n;
    if (now > UNITS)
        note_failure(&t->v, "%d units held of %d", now, UNITS);
    atomic_fetch_add(&t->taken, n);
}

static void give_back(struct sem_torture *t, unsigned n, testing_rng_t *rng)
{
    atomic_fetch_sub(&t->held, (int)n);
    atomic_fetch_add(&t->given, n);
    if (n > 1 && testing_rng_below(rng, 2)) {
        if (weft_semaphore_release(&t->sem, n) != 0)
            note_failure(&t->v, "release(%u) failed", n);
        return;
    }
    for (unsigned k = 0; k < n; k++)
        if (weft_semaphore_release(&t->sem, 1) != 0)
            note_failure(&t->v, "release(1) failed");
}

/* With every unit held, the counter is 0: a release past the bound is
 * refused and leaves it there. */
static void over_release(struct sem_torture *t)
{
    if (!t->bounded)
        return;
    int rc = weft_semaphore_release(&t->sem, UNITS + 1);
    unsigned value = weft_semaphore_value(&t->sem);
    if (rc != WEFT_EINVAL || value != 0)
        note_failure(&t->v, "release past the bound: rc %d, value %u", rc,
                     value);
    else
        atomic_fetch_add(&t->refused, 1);
}

static void take_some(struct sem_torture *t, unsigned i, testing_rng_t *rng)
{
    unsigned want = 1 + (unsigned)testing_rng_below(rng, UNITS);
    unsigned got = 0;
    while (got < want) {
        /* Only the first unit may be waited for without limit: a thread
         * that holds some and waits for more without limit could wait
         * for others that do the same. */
        double timeout = random_timeout(rng);
        if (got > 0 && timeout == WEFT_FOREVER)
            timeout = 0.001;
        int scoped = testing_rng_below(rng, 4) == 0;
        if (scoped)
            scope_open(&t->scopes[i]);
        int rc = weft_semaphore_acquire(&t->sem, timeout);
        if (scoped)
            scope_close(&t->scopes[i]);
        if (rc != 0) {
            if (!fits(rc, timeout, scoped))
                note_failure(&t->v, "acquire returned %d", rc);
            atomic_fetch_add(rc == WEFT_ETIMEDOUT ? &t->timeouts : &t->cancels,
                             1);
            break; /* give back what was taken */
        }
        count_in(t, 1);
        got++;
    }
    if (got == UNITS)
        over_release(t);
    if (testing_rng_below(rng, 4) == 0)
        weft_sleep(0);
    if (got > 0)
        give_back(t, got, rng);
}

static void sem_member(void *arg, unsigned i)
{
    struct sem_torture *t = arg;
    testing_rng_t rng;
    testing_rng_init(&rng, i + (t->bounded ? 50 : 0));
    if (i == THREADS) { /* the canceller */
        while (atomic_load(&t->done) < THREADS) {
            scope_cancel(&t->scopes[testing_rng_below(&rng, THREADS)]);
            weft_sleep(testing_rng_below(&rng, 300) * 1e-6);
        }
        return;
    }
    while (weft_monotonic() < t->end && !failed(&t->v))
        take_some(t, i, &rng);
    atomic_fetch_add(&t->done, 1);
}

static void torture(int bounded)
{
    static struct sem_torture t;
    memset(&t, 0, sizeof t);
    t.bounded = bounded;
    if (bounded)
        weft_bounded_semaphore_init(&t.sem, UNITS);
    else
        weft_semaphore_init(&t.sem, UNITS);
    for (int i = 0; i < THREADS; i++)
        pthread_mutex_init(&t.scopes[i].m, NULL);
    t.end = weft_monotonic() + testing_torture_seconds();
    testing_run_threads(THREADS + 1, sem_member, &t);
    fprintf(stderr,
            "%s: %ld units taken, %ld timeouts, %ld cancels, %ld "
            "refused over-releases\n",
            bounded ? "BoundedSemaphore" : "Semaphore", atomic_load(&t.taken),
            atomic_load(&t.timeouts), atomic_load(&t.cancels),
            atomic_load(&t.refused));
    check_verdict(&t.v);
    assert_int_equal(atomic_load(&t.taken), atomic_load(&t.given));
    assert_int_equal(atomic_load(&t.held), 0);
    assert_int_equal(weft_semaphore_value(&t.sem), UNITS);
    assert_true(atomic_load(&t.taken) > 0);
}

static void a_semaphore_never_lends_more_than_it_has(void **state)
{
    torture(0);
}

static void a_bounded_semaphore_also_refuses_to_pass_its_bound(void **state)
{
    torture(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_semaphore_never_lends_more_than_it_has),
        cmocka_unit_test(a_bounded_semaphore_also_refuses_to_pass_its_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
