/* SPDX-License-Identifier: MIT */
/* Torture: the future's state machine and the waiters of weft_wait and
 * as_completed, under every mix of operations at once.
 *
 * Each round makes NF futures and releases NT threads on them together.
 * Each thread does random operations on random futures: complete them
 * (set_result, set_error, finish), cancel them (cancel, stop,
 * cancel_and_notify), claim them as an executor would (try_start,
 * set_running_or_notify_cancel: a claim that wins runs the "task" and
 * finishes it at once), add done callbacks, wait on one (random timeouts),
 * and weft_wait / as_completed over random sets with duplicates. The last
 * thread owns the futures that waits without a limit may wait for: it
 * settles them (each counts for wait by then) before it leaves.
 *
 * Accounting, checked after the round:
 *   - each future ended in exactly one way: FINISHED with the value or code
 *     of the one completion that succeeded, or cancelled with none (or
 *     with the one finish of a stopped task);
 *   - at most one claim ran each future, and a claimed future was never
 *     cancelled but by its own finish;
 *   - every done callback ran exactly once, and only once its future was
 *     done;
 * and, during the round, every answer is justified: a future weft_wait
 * puts in done counts for it (finished, or cancelled and notified); one it
 * leaves in not_done did not count before the wait began (the moment a
 * future was first seen to count is recorded, never earlier than it
 * did); a wait that returned before return_when held had run out its
 * timeout; as_completed yields each distinct future once, only futures
 * that count, and all of them unless it timed out, after the timeout. */
#include "testing.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define NF 48
#define NT 4
#define OPS 300
#define FINISHER (NT - 1)

struct fut {
    weft_future_t *f;
    _Atomic int completions;   /* set_result / set_error / finish that won */
    _Atomic int finish_cancel; /* a finish that left it cancelled */
    _Atomic intptr_t value;    /* what the winning completion set */
    _Atomic int claims;        /* claims that said "run it" */
    _Atomic int registered;    /* done callbacks added */
    _Atomic int ran;           /* done callbacks run */
    _Atomic int early;         /* callbacks run before it was done */
    _Atomic int64_t counted_at; /* first seen to count for wait (ns) */
};

struct round {
    struct fut fs[NF];
    unsigned number;
    _Atomic long violations;
    char first[256];
    _Atomic int have_first;
};

static struct round *cur;

static void violation(struct round *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void violation(struct round *r, const char *fmt, ...)
{
    atomic_fetch_add(&r->violations, 1);
    if (atomic_exchange(&r->have_first, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first, sizeof r->first, fmt, ap);
        va_end(ap);
    }
}

static int counts_now(weft_future_t *f)
{
    int st = weft_future_state(f);
    return st == WEFT_FUTURE_FINISHED ||
           st == WEFT_FUTURE_CANCELLED_AND_NOTIFIED;
}

/* Record that f counts, if it does: the first time seen, which is never
 * before it began to. */
static void note_counts(struct fut *x)
{
    if (!counts_now(x->f))
        return;
    int64_t zero = 0;
    atomic_compare_exchange_strong(&x->counted_at, &zero, weft_monotonic_ns());
}

static int on_done(weft_future_t *f, void *arg)
{
    struct fut *x = arg;
    if (!weft_future_done(f))
        atomic_fetch_add(&x->early, 1);
    atomic_fetch_add(&x->ran, 1);
    return 0;
}

static double pick_timeout(testing_rng_t *g)
{
    static const double t[] = {0, 0, 1e-4, 5e-4, 2e-3};
    return t[testing_rng_below(g, sizeof t / sizeof t[0])];
}

static intptr_t value_of(unsigned i, unsigned thread)
{
    return (intptr_t)(i * 16 + thread + 1);
}

/* ----- Completing, cancelling, claiming ----- */

static void complete(struct fut *x, unsigned i, unsigned me, int how)
{
    intptr_t v = value_of(i, me);
    int rc;
    if (how == 0) {
        rc = weft_future_set_result(x->f, (void *)v);
    } else if (how == 1) {
        rc = weft_future_set_error(x->f, WEFT_EUSER + (int)v, "task %u", i);
        v = -v;
    } else {
        weft_fail(WEFT_EUSER + (int)v, "task %u", i);
        rc = weft_future_finish(x->f, WEFT_EUSER + (int)v, NULL);
        v = -v;
    }
    if (rc == 0) {
        atomic_fetch_add(&x->completions, 1);
        atomic_store(&x->value, v);
    } else if (rc != WEFT_ESTATE) {
        violation(cur, "completion of %u returned %d", i, rc);
    }
}

/* An executor's worker: claim, and if it wins, run and finish at once
 * (sometimes as a stopped task that gives up). */
static void claim_and_run(struct fut *x, unsigned i, unsigned me,
                          testing_rng_t *g)
{
    int run;
    if (testing_rng_below(g, 2))
        run = weft_future_try_start(x->f);
    else {
        int rc = weft_future_set_running_or_notify_cancel(x->f);
        run = rc == 0;
        if (rc != 0 && rc != WEFT_ECANCELLED && rc != WEFT_ESTATE)
            violation(cur, "set_running_or_notify_cancel of %u: %d", i, rc);
    }
    if (!run)
        return;
    atomic_fetch_add(&x->claims, 1);
    if (testing_rng_below(g, 4) == 0) {
        weft_future_stop(x->f); /* asked to stop while running */
        if (weft_future_finish(x->f, WEFT_ECANCELLED, NULL) == 0) {
            if (weft_future_cancelled(x->f))
                atomic_fetch_add(&x->finish_cancel, 1);
            else { /* not ours to stop: an ordinary error */
                atomic_fetch_add(&x->completions, 1);
                atomic_store(&x->value, -(intptr_t)WEFT_ECANCELLED);
            }
        }
        return;
    }
    complete(x, i, me, (int)testing_rng_below(g, 3));
}

static void cancel_some_way(struct fut *x, unsigned i, testing_rng_t *g)
{
    int rc;
    switch (testing_rng_below(g, 3)) {
    case 0:
        rc = weft_future_cancel(x->f);
        break;
    case 1:
        rc = weft_future_stop(x->f);
        break;
    default:
        rc = weft_future_cancel_and_notify(x->f);
        break;
    }
    if (rc != 0 && rc != WEFT_ESTATE)
        violation(cur, "cancel of %u returned %d", i, rc);
}

/* ----- Waiting ----- */

static void wait_one(struct fut *x, unsigned i, testing_rng_t *g)
{
    double t = pick_timeout(g);
    double t0 = weft_monotonic();
    void *r;
    int rc = testing_rng_below(g, 2) ? weft_future_wait(x->f, t)
                                     : weft_future_result(x->f, t, &r);
    if (rc == WEFT_ETIMEDOUT) {
        if (weft_monotonic() - t0 < t)
            violation(cur, "wait on %u timed out early", i);
        return;
    }
    if (!weft_future_done(x->f))
        violation(cur, "wait on %u returned %d but it is not done", i, rc);
}

/* A random set of indexes, with duplicates; all of the finisher's when
 * the wait may have no limit. */
static size_t pick_set(testing_rng_t *g, unsigned *idx, int finisher_only)
{
    size_t n = 1 + testing_rng_below(g, 8);
    for (size_t k = 0; k < n; k++) {
        unsigned i = (unsigned)testing_rng_below(g, NF);
        if (finisher_only)
            i = i - i % NT + FINISHER;
        idx[k] = i;
    }
    return n;
}

static int is_failed(weft_future_t *f)
{
    weft_error_info_t e;
    return weft_future_state(f) == WEFT_FUTURE_FINISHED &&
           weft_future_error(f, 0, &e) == 0 && e.code != 0;
}

static void check_sets(unsigned *idx, size_t n, weft_future_t **done,
                       size_t nd, weft_future_t **nd_set, size_t nn,
                       int64_t t0)
{
    size_t distinct = 0;
    for (size_t k = 0; k < n; k++) {
        int first = 1;
        for (size_t j = 0; j < k; j++)
            first &= idx[j] != idx[k];
        distinct += first;
    }
    if (nd + nn != distinct)
        violation(cur, "wait sorted %zu + %zu of %zu", nd, nn, distinct);
    for (size_t k = 0; k < nd; k++)
        if (!counts_now(done[k]))
            violation(cur, "wait called done a future that does not count");
    for (size_t k = 0; k < nn; k++) {
        for (size_t j = 0; j < n; j++) {
            struct fut *x = &cur->fs[idx[j]];
            int64_t at = atomic_load(&x->counted_at);
            if (x->f == nd_set[k] && at != 0 && at < t0)
                violation(cur, "wait left %u not done, counted before",
                          idx[j]);
        }
    }
}

static void wait_many(testing_rng_t *g, unsigned me)
{
    int forever = me != FINISHER && testing_rng_below(g, 8) == 0;
    unsigned idx[8];
    size_t n = pick_set(g, idx, forever);
    weft_future_t *fs[8], *done[8], *not_done[8];
    for (size_t k = 0; k < n; k++)
        fs[k] = cur->fs[idx[k]].f;
    int when = 1 + (int)testing_rng_below(g, 3);
    double t = forever ? WEFT_FOREVER : pick_timeout(g);
    int64_t t0 = weft_monotonic_ns();
    size_t nd = 0, nn = 0;
    int rc = weft_wait(fs, n, t, when, done, &nd, not_done, &nn);
    double took = (double)(weft_monotonic_ns() - t0) / 1e9;
    if (rc != 0) {
        violation(cur, "weft_wait returned %d", rc);
        return;
    }
    check_sets(idx, n, done, nd, not_done, nn, t0);
    int any_failed = 0;
    for (size_t k = 0; k < nd; k++)
        any_failed |= is_failed(done[k]);
    int held = when == WEFT_ALL_COMPLETED     ? nn == 0
               : when == WEFT_FIRST_COMPLETED ? nd > 0
                                              : nn == 0 || any_failed;
    if (!held && (t == WEFT_FOREVER || took < t))
        violation(cur, "weft_wait(%d) returned early (%zu done, %zu not)",
                  when, nd, nn);
}

static void iterate(testing_rng_t *g, unsigned me)
{
    int forever = me != FINISHER && testing_rng_below(g, 8) == 0;
    unsigned idx[8];
    size_t n = pick_set(g, idx, forever);
    weft_future_t *fs[8];
    for (size_t k = 0; k < n; k++)
        fs[k] = cur->fs[idx[k]].f;
    double t = forever ? WEFT_FOREVER : pick_timeout(g);
    double t0 = weft_monotonic();
    /* Half the time, the last future comes in while iterating. */
    size_t first = n > 1 && testing_rng_below(g, 2) ? n - 1 : n;
    weft_as_completed_t *it;
    if (weft_as_completed_new(&it, fs, first, t) != 0) {
        violation(cur, "as_completed_new failed");
        return;
    }
    weft_future_t *seen[8];
    size_t yielded = 0;
    int rc;
    weft_future_t *f;
    while ((rc = weft_as_completed_next(it, &f)) == 0) {
        if (!counts_now(f))
            violation(cur, "as_completed yielded a future that does not count");
        for (size_t k = 0; k < yielded; k++)
            if (seen[k] == f)
                violation(cur, "as_completed yielded a future twice");
        if (yielded < 8)
            seen[yielded++] = f;
        if (first < n) {
            weft_as_completed_add(it, fs[first]);
            first = n;
        }
    }
    size_t distinct = 0;
    for (size_t k = 0; k < first; k++) {
        int fresh = 1;
        for (size_t j = 0; j < k; j++)
            fresh &= fs[j] != fs[k];
        distinct += fresh;
    }
    if (rc == WEFT_EEOF && yielded != distinct)
        violation(cur, "as_completed ended after %zu of %zu", yielded,
                  distinct);
    if (rc == WEFT_ETIMEDOUT && (t == WEFT_FOREVER || weft_monotonic() - t0 < t))
        violation(cur, "as_completed timed out early");
    if (rc != WEFT_EEOF && rc != WEFT_ETIMEDOUT)
        violation(cur, "as_completed_next returned %d", rc);
    weft_as_completed_free(it);
}

/* ----- The threads ----- */

static void one_op(testing_rng_t *g, unsigned me)
{
    unsigned i = (unsigned)testing_rng_below(g, NF);
    struct fut *x = &cur->fs[i];
    switch (testing_rng_below(g, 10)) {
    case 0:
        complete(x, i, me, (int)testing_rng_below(g, 3));
        break;
    case 1:
        cancel_some_way(x, i, g);
        break;
    case 2:
    case 3:
        claim_and_run(x, i, me, g);
        break;
    case 4:
    case 5:
        atomic_fetch_add(&x->registered, 1);
        if (weft_future_add_done_callback(x->f, on_done, x) != 0) {
            atomic_fetch_sub(&x->registered, 1);
            violation(cur, "add_done_callback failed");
        }
        break;
    case 6:
        wait_one(x, i, g);
        break;
    case 7:
    case 8:
        wait_many(g, me);
        break;
    default:
        iterate(g, me);
        break;
    }
    note_counts(x);
}

/* The finisher's last duty: each of its futures counts for wait, or runs
 * (claimed by a thread that finishes it next, without blocking). */
static void settle(unsigned me)
{
    for (unsigned i = me; i < NF; i += NT) {
        struct fut *x = &cur->fs[i];
        int st = weft_future_state(x->f);
        if (weft_future_cancel_and_notify(x->f) != 0 &&
            (st = weft_future_state(x->f)) != WEFT_FUTURE_FINISHED &&
            st != WEFT_FUTURE_RUNNING)
            violation(cur, "future %u cannot be settled: state %d", i, st);
        note_counts(x);
    }
}

static void worker(void *arg, unsigned me)
{
    struct round *r = arg;
    testing_rng_t g;
    testing_rng_init(&g, (uint64_t)r->number * NT + me);
    for (int k = 0; k < OPS; k++)
        one_op(&g, me);
    if (me == FINISHER)
        settle(me);
}

/* ----- Accounting ----- */

static void account(struct round *r, unsigned i)
{
    struct fut *x = &r->fs[i];
    /* Whatever is still open ends now, so every callback is due. */
    weft_future_cancel_and_notify(x->f);
    int st = weft_future_state(x->f);
    int wins = atomic_load(&x->completions);
    if (st == WEFT_FUTURE_FINISHED) {
        void *v = NULL;
        weft_error_info_t e;
        weft_future_error(x->f, 0, &e);
        intptr_t got = e.code ? -(intptr_t)(e.code == WEFT_ECANCELLED
                                                ? WEFT_ECANCELLED
                                                : e.code - WEFT_EUSER)
                              : (weft_future_result(x->f, 0, &v), (intptr_t)v);
        if (wins != 1 || got != atomic_load(&x->value))
            violation(r, "future %u finished with %ld, %d wins of %ld", i,
                      (long)got, wins, (long)atomic_load(&x->value));
    } else if (st == WEFT_FUTURE_CANCELLED_AND_NOTIFIED) {
        if (wins != 0 || atomic_load(&x->finish_cancel) > 1)
            violation(r, "future %u cancelled after %d completions", i, wins);
        if (atomic_load(&x->claims) && !atomic_load(&x->finish_cancel))
            violation(r, "future %u ran and was cancelled", i);
    } else {
        violation(r, "future %u ended in state %d", i, st);
    }
    if (atomic_load(&x->claims) > 1)
        violation(r, "future %u was claimed %d times", i,
                  atomic_load(&x->claims));
    if (atomic_load(&x->ran) != atomic_load(&x->registered) ||
        atomic_load(&x->early))
        violation(r, "future %u: %d callbacks added, %d ran, %d early", i,
                  atomic_load(&x->registered), atomic_load(&x->ran),
                  atomic_load(&x->early));
}

static void futures_survive_every_mix_of_operations(void **state)
{
    double end = weft_monotonic() + testing_torture_seconds();
    unsigned rounds = 0;
    long callbacks = 0;
    do {
        struct round *r = calloc(1, sizeof *r);
        assert_non_null(r);
        r->number = rounds;
        for (unsigned i = 0; i < NF; i++)
            assert_int_equal(weft_future_new(&r->fs[i].f), 0);
        cur = r;
        testing_run_threads(NT, worker, r);
        for (unsigned i = 0; i < NF; i++) {
            account(r, i);
            callbacks += atomic_load(&r->fs[i].ran);
            weft_future_free(r->fs[i].f);
        }
        if (atomic_load(&r->violations))
            fail_msg("round %u: %ld violations; first: %s", rounds,
                     atomic_load(&r->violations), r->first);
        free(r);
        rounds++;
    } while (weft_monotonic() < end);
    fprintf(stderr, "torture_future: %u rounds, %ld callbacks, all "
                    "accounted for\n",
            rounds, callbacks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(futures_survive_every_mix_of_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
