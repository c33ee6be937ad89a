/* SPDX-License-Identifier: MIT */
/* Event torture, two ways.
 *
 * A ring: RING threads pass one turn round, each waiting on an Event of
 * its own with random timeouts (and now and then inside a scope that
 * another thread cancels), clearing it, and setting the next one's. The
 * turn is announced before the set() that hands it on, so every wait that
 * returns 0 must find its own thread's turn: a wait woken by a set() it had
 * already seen and cleared (the late unpark of an earlier turn) finds
 * another. A turn that stops moving for the bound is a lost wake-up.
 *
 * A storm: setters, clearers and waiters on one Event, the waiters with
 * random timeouts and cancels. Each set() is counted when it starts and
 * when it returns. A waiter reads how many set()s had returned, then
 * whether the flag is set, then waits, then reads how many had started:
 * if the flag was clear and no set() started after that first read, a
 * wait that returns 0 was justified by nothing. */
#include "torture.h"

#define RING 3
#define STORM_WAITERS 3

/* ----- The ring ----- */

struct ring {
    weft_event_t e[RING];
    _Atomic long turn; /* turn t belongs to thread t % RING */
    _Atomic long moved_at_ns;
    struct cancellable scopes[RING];
    double end;
    _Atomic int stop;
    _Atomic long timeouts, cancels;
    struct verdict v;
};

static void ring_member(void *arg, unsigned i)
{
    struct ring *r = arg;
    testing_rng_t rng;
    testing_rng_init(&rng, i);
    if (i == RING) { /* the canceller, and the watch on progress */
        while (!atomic_load(&r->stop) && !failed(&r->v)) {
            scope_cancel(&r->scopes[testing_rng_below(&rng, RING)]);
            weft_sleep(testing_rng_below(&rng, 1000) * 1e-6);
            int64_t still = weft_monotonic_ns() - atomic_load(&r->moved_at_ns);
            if (still > (int64_t)(10e9 * testing_scale()))
                note_failure(&r->v, "turn %ld has not moved for 10 s",
                             atomic_load(&r->turn));
        }
        return;
    }
    for (;;) {
        if (atomic_load(&r->stop) || failed(&r->v))
            return;
        int scoped = testing_rng_below(&rng, 4) == 0;
        if (scoped)
            scope_open(&r->scopes[i]);
        double timeout = random_timeout(&rng);
        int rc = weft_event_wait(&r->e[i], timeout);
        if (scoped)
            scope_close(&r->scopes[i]);
        if (rc == WEFT_ETIMEDOUT || rc == WEFT_ECANCELLED) {
            atomic_fetch_add(rc == WEFT_ETIMEDOUT ? &r->timeouts : &r->cancels,
                             1);
            if (rc == WEFT_ETIMEDOUT && timeout == WEFT_FOREVER)
                note_failure(&r->v, "a wait without timeout timed out");
            continue;
        }
        if (rc != 0) {
            note_failure(&r->v, "event wait returned %d", rc);
            return;
        }
        if (atomic_load(&r->stop))
            return; /* the last turn's release */
        long t = atomic_load(&r->turn);
        if (t % RING != i) {
            note_failure(&r->v, "thread %u woke on turn %ld, not its own", i,
                         t);
            return;
        }
        weft_event_clear(&r->e[i]);
        if (weft_monotonic() >= r->end) {
            atomic_store(&r->stop, 1);
            for (unsigned k = 0; k < RING; k++) /* release the others */
                weft_event_set(&r->e[k]);
            return;
        }
        atomic_store(&r->turn, t + 1);
        atomic_store(&r->moved_at_ns, weft_monotonic_ns());
        weft_event_set(&r->e[(i + 1) % RING]);
    }
}

static void a_turn_passed_round_a_ring_of_events_is_never_lost(void **state)
{
    static struct ring r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < RING; i++) {
        weft_event_init(&r.e[i]);
        pthread_mutex_init(&r.scopes[i].m, NULL);
    }
    r.end = weft_monotonic() + testing_torture_seconds();
    atomic_store(&r.moved_at_ns, weft_monotonic_ns());
    weft_event_set(&r.e[0]);
    testing_run_threads(RING + 1, ring_member, &r);
    fprintf(stderr, "%ld turns; %ld timeouts, %ld cancels\n",
            atomic_load(&r.turn), atomic_load(&r.timeouts),
            atomic_load(&r.cancels));
    check_verdict(&r.v);
    assert_true(atomic_load(&r.turn) > 0);
}

/* ----- The storm ----- */

struct storm {
    weft_event_t e;
    _Atomic long sets_started, sets_returned;
    _Atomic long zeros, checked, timeouts, cancels;
    struct cancellable scopes[STORM_WAITERS];
    double end;
    struct verdict v;
};

static void storm_wait(struct storm *s, unsigned i, testing_rng_t *rng)
{
    int scoped = testing_rng_below(rng, 4) == 0;
    long returned_before = atomic_load(&s->sets_returned);
    int was_set = weft_event_is_set(&s->e);
    if (scoped)
        scope_open(&s->scopes[i]);
    double timeout = testing_rng_below(rng, 3000) * 1e-6;
    int rc = weft_event_wait(&s->e, timeout);
    if (scoped)
        scope_close(&s->scopes[i]);
    long started_after = atomic_load(&s->sets_started);
    if (rc == 0) {
        atomic_fetch_add(&s->zeros, 1);
        if (!was_set && started_after == returned_before) {
            note_failure(&s->v, "a wait returned 0 with the flag clear and "
                                "no set() since");
            return;
        }
        if (!was_set)
            atomic_fetch_add(&s->checked, 1);
        weft_sleep(0); /* let the clearer in */
    } else if (rc == WEFT_ETIMEDOUT) {
        atomic_fetch_add(&s->timeouts, 1);
    } else if (rc == WEFT_ECANCELLED && scoped) {
        atomic_fetch_add(&s->cancels, 1);
    } else {
        note_failure(&s->v, "event wait returned %d", rc);
    }
}

static void storm_member(void *arg, unsigned i)
{
    struct storm *s = arg;
    testing_rng_t rng;
    testing_rng_init(&rng, 100 + i);
    while (weft_monotonic() < s->end && !failed(&s->v)) {
        if (i < STORM_WAITERS) {
            storm_wait(s, i, &rng);
        } else if (i == STORM_WAITERS) { /* the setter */
            atomic_fetch_add(&s->sets_started, 1);
            weft_event_set(&s->e);
            atomic_fetch_add(&s->sets_returned, 1);
            weft_sleep(testing_rng_below(&rng, 2000) * 1e-6);
        } else { /* the clearer, and the canceller */
            weft_event_clear(&s->e);
            scope_cancel(&s->scopes[testing_rng_below(&rng, STORM_WAITERS)]);
            weft_sleep(testing_rng_below(&rng, 200) * 1e-6);
        }
    }
}

static void every_successful_wait_in_a_storm_has_a_set(void **state)
{
    static struct storm s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < STORM_WAITERS; i++)
        pthread_mutex_init(&s.scopes[i].m, NULL);
    weft_event_init(&s.e);
    s.end = weft_monotonic() + testing_torture_seconds();
    testing_run_threads(STORM_WAITERS + 2, storm_member, &s);
    fprintf(stderr,
            "%ld set()s; %ld waits returned 0 (%ld of them checked), %ld "
            "timed out, %ld were cancelled\n",
            atomic_load(&s.sets_started), atomic_load(&s.zeros),
            atomic_load(&s.checked), atomic_load(&s.timeouts),
            atomic_load(&s.cancels));
    check_verdict(&s.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_turn_passed_round_a_ring_of_events_is_never_lost),
        cmocka_unit_test(every_successful_wait_in_a_storm_has_a_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
