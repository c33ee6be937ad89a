/* SPDX-License-Identifier: MIT */
/* park torture: parkers and unparkers on a few addresses, with deadlines,
 * cancelled scopes, scope deadlines and validate refusals in the middle.
 *
 * Every wake is accounted for exactly: each unpark call carries a token of
 * its own (its call number and address); the number of parkers that
 * return 0 holding a call's token must equal the number that call said it
 * woke. A parker that returns 0 without a token of a real call on its own
 * address was woken by nothing; a call that reports more wakes than
 * parkers receive lost one. Counts are kept per call modulo BUCKETS, so
 * that a long run needs no log. Every other return is checked against the
 * cause the parker set up: WEFT_ETIMEDOUT only with a deadline and never
 * before it, WEFT_ECANCELLED only inside a scope, WEFT_EAGAIN only when
 * validate said no. */
#include "testing.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ADDRS 4
#define PARKERS 6
#define UNPARKERS 2
#define BUCKETS 4096

struct slot {
    pthread_mutex_t m;
    weft_cancel_scope_t scope;
    int active; /* the scope is set up and may be cancelled */
    int refuse; /* validate says no */
};

struct park_torture {
    int addr[ADDRS];
    double end;
    _Atomic int stop, parkers_left;
    _Atomic uint64_t calls;
    _Atomic uint64_t woken[BUCKETS], received[BUCKETS];
    _Atomic uint64_t total_woken, total_received;
    _Atomic uint64_t timeouts, cancels, refusals;
    struct slot slots[PARKERS];
    _Atomic int failed;
    char why[256];
    pthread_mutex_t why_lock;
};

static void note_failure(struct park_torture *t, const char *fmt, ...)
{
    pthread_mutex_lock(&t->why_lock);
    if (!atomic_exchange(&t->failed, 1)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->why, sizeof t->why, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&t->why_lock);
}

static uintptr_t token_of(uint64_t call, unsigned a)
{
    return (uintptr_t)(call * ADDRS + a + 1);
}

/* Count what call (on address a) says it woke. */
static void count_woken(struct park_torture *t, uint64_t call, size_t n)
{
    atomic_fetch_add(&t->woken[call % BUCKETS], n);
    atomic_fetch_add(&t->total_woken, n);
}

static int refuse_if_told(void *ctx)
{
    return !((struct slot *)ctx)->refuse;
}

static const weft_park_ops_t parker_ops = {refuse_if_told, NULL, NULL};

/* One park of parker i, with a cause of return chosen at random. */
static void park_once(struct park_torture *t, unsigned i, testing_rng_t *rng)
{
    struct slot *s = &t->slots[i];
    unsigned a = (unsigned)testing_rng_below(rng, ADDRS);
    unsigned how = (unsigned)testing_rng_below(rng, 8);
    int64_t deadline = WEFT_NEVER;
    if (how == 0 || how == 1)
        weft_deadline(testing_rng_below(rng, 2000) * 1e-6, &deadline);
    int scoped = how == 2 || how == 3 || how == 4;
    pthread_mutex_lock(&s->m);
    s->refuse = how == 5 && testing_rng_below(rng, 2);
    if (scoped) {
        weft_cancel_scope_init(&s->scope);
        s->active = 1;
    }
    pthread_mutex_unlock(&s->m);
    if (scoped)
        weft_cancel_scope_enter(
            &s->scope,
            how == 4 ? testing_rng_below(rng, 1000) * 1e-6 : WEFT_FOREVER, 0);
    uintptr_t token = 0;
    int rc = weft_park(&t->addr[a], &parker_ops, s, deadline, &token);
    if (scoped) {
        weft_cancel_scope_exit(&s->scope);
        pthread_mutex_lock(&s->m);
        s->active = 0;
        pthread_mutex_unlock(&s->m);
    }
    switch (rc) {
    case 0:
        if (token == 0 || (token - 1) % ADDRS != a) {
            note_failure(t, "a park on address %u returned 0 with token %lu", a,
                         (unsigned long)token);
            return;
        }
        atomic_fetch_add(&t->received[((token - 1) / ADDRS) % BUCKETS], 1);
        atomic_fetch_add(&t->total_received, 1);
        return;
    case WEFT_ETIMEDOUT:
        atomic_fetch_add(&t->timeouts, 1);
        if (deadline == WEFT_NEVER) {
            note_failure(t, "WEFT_ETIMEDOUT without a deadline");
            return;
        }
        if (weft_monotonic_ns() < deadline) {
            note_failure(t, "WEFT_ETIMEDOUT before the deadline");
            return;
        }
        return;
    case WEFT_ECANCELLED:
        atomic_fetch_add(&t->cancels, 1);
        if (!scoped) {
            note_failure(t, "WEFT_ECANCELLED outside any scope");
            return;
        }
        return;
    case WEFT_EAGAIN:
        atomic_fetch_add(&t->refusals, 1);
        if (!s->refuse) {
            note_failure(t, "WEFT_EAGAIN though validate said yes");
            return;
        }
        return;
    default: {
        note_failure(t, "park returned %d", rc);
        return;
    }
    }
}

struct one {
    weft_unpark_result_t r;
    uintptr_t token;
};

static uintptr_t hand_token(void *ctx, weft_unpark_result_t r)
{
    struct one *o = ctx;
    o->r = r;
    return o->token;
}

/* One unpark call of a kind chosen at random; returns how many it woke. */
static size_t unpark_once(struct park_torture *t, testing_rng_t *rng)
{
    unsigned a = (unsigned)testing_rng_below(rng, ADDRS);
    uint64_t call = atomic_fetch_add(&t->calls, 1);
    uintptr_t token = token_of(call, a);
    size_t n;
    switch (testing_rng_below(rng, 4)) {
    case 0: {
        struct one o = {{0, 0, 0}, token};
        n = weft_unpark_one(&t->addr[a], hand_token, &o);
        if (o.r.unparked != n)
            note_failure(t, "unpark_one returned %zu but told its callback %zu",
                         n, o.r.unparked);
        break;
    }
    case 1:
        n = weft_unpark_all(&t->addr[a], token);
        break;
    default:
        n = weft_unpark_some(&t->addr[a], 1 + testing_rng_below(rng, 3), token);
        break;
    }
    count_woken(t, call, n);
    return n;
}

static void member(void *arg, unsigned i)
{
    struct park_torture *t = arg;
    testing_rng_t rng;
    testing_rng_init(&rng, i);
    if (i < PARKERS) {
        while (!atomic_load(&t->stop) && !atomic_load(&t->failed))
            park_once(t, i, &rng);
        atomic_fetch_sub(&t->parkers_left, 1);
        return;
    }
    if (i < PARKERS + UNPARKERS) {
        while (weft_monotonic() < t->end && !atomic_load(&t->failed)) {
            unpark_once(t, &rng);
            if (testing_rng_below(&rng, 4) == 0)
                weft_sleep(0);
        }
        atomic_store(&t->stop, 1);
        return;
    }
    /* The canceller. */
    while (!atomic_load(&t->stop)) {
        struct slot *s = &t->slots[testing_rng_below(&rng, PARKERS)];
        pthread_mutex_lock(&s->m);
        if (s->active)
            weft_cancel_scope_cancel(&s->scope);
        pthread_mutex_unlock(&s->m);
        weft_sleep(testing_rng_below(&rng, 500) * 1e-6);
    }
}

/* Once the unparkers stop, wake whoever still waits without a deadline,
 * until every parker has seen stop; these wakes are counted too. */
static void drain(void *arg)
{
    struct park_torture *t = arg;
    while (!atomic_load(&t->stop))
        weft_sleep(0.001);
    while (atomic_load(&t->parkers_left) > 0) {
        for (unsigned a = 0; a < ADDRS; a++) {
            uint64_t call = atomic_fetch_add(&t->calls, 1);
            count_woken(t, call,
                        weft_unpark_all(&t->addr[a], token_of(call, a)));
        }
        weft_sleep(0.0005);
    }
}

static void every_wake_has_its_unpark_and_every_unpark_its_wakes(void **state)
{
    static struct park_torture t;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.why_lock, NULL);
    for (int i = 0; i < PARKERS; i++)
        pthread_mutex_init(&t.slots[i].m, NULL);
    atomic_store(&t.parkers_left, PARKERS);
    t.end = weft_monotonic() + testing_torture_seconds();
    testing_thread_t *d = testing_thread_start(drain, &t);
    testing_run_threads(PARKERS + UNPARKERS + 1, member, &t);
    testing_thread_join(d);
    fprintf(stderr,
            "%lu unpark calls woke %lu; %lu timeouts, %lu cancels, "
            "%lu refusals\n",
            (unsigned long)atomic_load(&t.calls),
            (unsigned long)atomic_load(&t.total_woken),
            (unsigned long)atomic_load(&t.timeouts),
            (unsigned long)atomic_load(&t.cancels),
            (unsigned long)atomic_load(&t.refusals));
    if (atomic_load(&t.failed))
        fprintf(stderr, "failed: %s\n", t.why);
    assert_false(atomic_load(&t.failed));
    assert_int_equal(atomic_load(&t.total_received),
                     atomic_load(&t.total_woken));
    for (int b = 0; b < BUCKETS; b++)
        assert_int_equal(atomic_load(&t.received[b]), atomic_load(&t.woken[b]));
    assert_true(atomic_load(&t.total_woken) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_wake_has_its_unpark_and_every_unpark_its_wakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
