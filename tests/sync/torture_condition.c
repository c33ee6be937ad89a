/* SPDX-License-Identifier: MIT */
/* Condition torture: waiters with random timeouts (and cancels from
 * another thread), notifiers calling notify(n) and notify_all, for each
 * kind of condition (its own RLock, a caller's Lock, a caller's RLock, the
 * last two shared with a second condition that is notified too).
 *
 * Accounting: everything happens under the condition's lock, so the
 * threads write one log in the order of the lock: each wait's arrival
 * (with the earliest moment its timeout could end it), each notify (with
 * the time just after it), each wait's return. A wait is queued before it
 * releases the lock, so the log's order of arrivals is the order of the
 * queue. Every so often the threads pause, the last waits are notified
 * out, and the log is replayed: a notify(n) must wake the n oldest waits
 * still queued, so in the order of arrival, each wait queued at that
 * notify either returned 0 (it is woken by this notify, as long as n
 * lasts) or returned without a notify, which it may only have done by
 * then if its timeout could have ended it or it was cancelled. Every wait
 * that returned 0 must be woken by a notify of its own condition, and a
 * wait without a timeout must never time out. Python's guarantee (notify
 * wakes that many of the waiting, none lost, none extra) is exactly this. */
#include "sync/sync_int.h"
#include "torture.h"

#include <stdlib.h>

#define WAITERS 5
#define NOTIFIERS 2
#define LOG_MAX 8192
#define LONG_WAIT 10.0 /* seconds, times the scale: "no timeout" */
#define ALL (-1)

enum kind { OWN, OVER_LOCK, OVER_RLOCK };
static const char *const kind_names[] = {"Condition()", "Condition(Lock())",
                                         "Condition(RLock())"};

enum what { ARRIVE, NOTIFY, RETURN };

struct event {
    enum what what;
    int who;   /* the waiter (ARRIVE, RETURN) */
    int n;     /* NOTIFY: how many, or ALL; RETURN: the code */
    int64_t t; /* ARRIVE: the earliest end by timeout; NOTIFY: just after */
    int scoped;
};

struct cond_torture {
    enum kind kind;
    weft_condition_t c, other;
    weft_lock_t lock;
    weft_rlock_t rlock;
    struct event log[LOG_MAX];
    int nlog, paused, waiting;
    _Atomic int stop;
    long waits, woken, timeouts, cancels, notifies, epochs;
    struct cancellable scopes[WAITERS];
    struct verdict v;
};

static void add(struct cond_torture *t, struct event e)
{
    if (t->nlog < LOG_MAX)
        t->log[t->nlog++] = e;
    else
        note_failure(&t->v, "the log overflowed");
}

static int uses_rlock(const struct cond_torture *t)
{
    return t->kind != OVER_LOCK;
}

static weft_rlock_t *rlock_of(struct cond_torture *t)
{
    return t->kind == OVER_RLOCK ? &t->rlock : &weft__condition(&t->c)->rlock_;
}

/* ----- Replaying an epoch's log ----- */

struct wait_record {
    int who, scoped, rc, woken;
    int64_t earliest_end;
    int arrived_at, returned_at;
};

static void replay(struct cond_torture *t)
{
    static struct wait_record w[LOG_MAX];
    int nw = 0, open[WAITERS] = {0};
    for (int i = 0; i < t->nlog; i++) {
        struct event *e = &t->log[i];
        if (e->what == ARRIVE) {
            w[nw] = (struct wait_record){e->who, e->scoped, -1,     0,
                                         e->t,   i,         t->nlog};
            open[e->who] = nw++;
        } else if (e->what == RETURN) {
            w[open[e->who]].rc = e->n;
            w[open[e->who]].returned_at = i;
        }
    }
    for (int i = 0; i < t->nlog; i++) {
        struct event *e = &t->log[i];
        if (e->what != NOTIFY)
            continue;
        int need = e->n == ALL ? LOG_MAX : e->n;
        for (int k = 0; k < nw && need > 0; k++) {
            if (w[k].arrived_at > i || w[k].returned_at < i || w[k].woken)
                continue; /* not queued at this notify */
            if (w[k].rc == 0) {
                w[k].woken = 1;
                need--;
            } else if (w[k].rc == WEFT_ETIMEDOUT && w[k].earliest_end > e->t) {
                note_failure(&t->v,
                             "%s: notify at event %d passed over waiter %d, "
                             "which was queued and not at its deadline",
                             kind_names[t->kind], i, w[k].who);
                return;
            }
        }
    }
    for (int k = 0; k < nw; k++)
        if (w[k].rc == 0 && !w[k].woken) {
            note_failure(&t->v, "%s: waiter %d returned 0 without a notify",
                         kind_names[t->kind], w[k].who);
            return;
        }
}

/* ----- The threads ----- */

static void acquire_c(struct cond_torture *t)
{
    if (weft_condition_acquire(&t->c, WEFT_FOREVER) != 0)
        note_failure(&t->v, "acquire failed");
}

static void wait_once(struct cond_torture *t, int i, testing_rng_t *rng)
{
    int scoped = testing_rng_below(rng, 8) == 0;
    int long_wait = testing_rng_below(rng, 3) == 0;
    double timeout = long_wait ? LONG_WAIT * testing_scale()
                               : testing_rng_below(rng, 3000) * 1e-6;
    unsigned depth =
        uses_rlock(t) ? 1 + (unsigned)testing_rng_below(rng, 2) : 1;
    for (unsigned d = 1; d < depth; d++)
        acquire_c(t);
    if (scoped)
        scope_open(&t->scopes[i]);
    int64_t earliest = weft_monotonic_ns() + (int64_t)(timeout * 1e9);
    add(t, (struct event){ARRIVE, i, 0, earliest, scoped});
    t->waiting++;
    t->waits++;
    int rc = weft_condition_wait(&t->c, timeout);
    t->waiting--;
    add(t, (struct event){RETURN, i, rc, 0, scoped});
    if (scoped)
        scope_close(&t->scopes[i]);
    if (rc == 0)
        t->woken++;
    else if (rc == WEFT_ETIMEDOUT && !long_wait)
        t->timeouts++;
    else if (rc == WEFT_ECANCELLED && scoped)
        t->cancels++;
    else
        note_failure(&t->v, "%s: wait returned %d (timeout %g)",
                     kind_names[t->kind], rc, timeout);
    if (uses_rlock(t) && weft_rlock_count(rlock_of(t)) != depth)
        note_failure(&t->v, "a wait came back holding %u levels, not %u",
                     weft_rlock_count(rlock_of(t)), depth);
    for (unsigned d = 1; d < depth; d++)
        weft_condition_release(&t->c);
}

static void waiter(struct cond_torture *t, int i)
{
    testing_rng_t rng;
    testing_rng_init(&rng, (uint64_t)(t->kind * 100 + i));
    while (!atomic_load(&t->stop) && !failed(&t->v)) {
        acquire_c(t);
        if (atomic_load(&t->stop)) { /* the last epoch may be closed */
            weft_condition_release(&t->c);
            break;
        }
        if (t->paused || t->nlog > LOG_MAX - 4 * WAITERS) {
            weft_condition_release(&t->c);
            weft_sleep(0.0002);
            continue;
        }
        wait_once(t, i, &rng);
        weft_condition_release(&t->c);
    }
}

static void notify_once(struct cond_torture *t, int n)
{
    int rc = n == ALL ? weft_condition_notify_all(&t->c)
                      : weft_condition_notify(&t->c, (unsigned)n);
    if (rc != 0)
        note_failure(&t->v, "notify returned %d", rc);
    add(t, (struct event){NOTIFY, -1, n, weft_monotonic_ns(), 0});
    t->notifies++;
}

static void notifier(struct cond_torture *t, int i)
{
    static const int choices[] = {0, 1, 1, 1, 2, 3, ALL};
    testing_rng_t rng;
    testing_rng_init(&rng, (uint64_t)(t->kind * 100 + 50 + i));
    while (!atomic_load(&t->stop) && !failed(&t->v)) {
        acquire_c(t);
        if (!t->paused && t->nlog < LOG_MAX - 4 * WAITERS) {
            notify_once(t, choices[testing_rng_below(&rng, 7)]);
            /* A notify of the other condition over the same lock wakes
             * none of this one's waiters. */
            if (t->kind != OWN && testing_rng_below(&rng, 4) == 0)
                weft_condition_notify_all(&t->other);
        }
        weft_condition_release(&t->c);
        weft_sleep(testing_rng_below(&rng, 400) * 1e-6);
    }
}

/* Pause the others, notify the last waits out, replay the log. The last
 * epoch stays paused. */
static void close_epoch(struct cond_torture *t, int last)
{
    acquire_c(t);
    t->paused = 1;
    while (t->waiting > 0 && !failed(&t->v)) {
        notify_once(t, ALL);
        weft_condition_release(&t->c);
        weft_sleep(0.0005);
        acquire_c(t);
    }
    replay(t);
    t->nlog = 0;
    t->epochs++;
    t->paused = last;
    weft_condition_release(&t->c);
}

static void controller(struct cond_torture *t, double seconds)
{
    testing_rng_t rng;
    testing_rng_init(&rng, (uint64_t)(t->kind * 100 + 99));
    double end = weft_monotonic() + seconds;
    while (weft_monotonic() < end && !failed(&t->v)) {
        for (int k = 0; k < 20; k++) {
            weft_sleep(0.001);
            scope_cancel(&t->scopes[testing_rng_below(&rng, WAITERS)]);
        }
        close_epoch(t, 0);
    }
    /* Set before the last epoch takes the lock: a waiter that takes it
     * later sees it and waits no more. */
    atomic_store(&t->stop, 1);
    close_epoch(t, 1);
}

struct member_arg {
    struct cond_torture *t;
    double seconds;
};

static void member(void *arg, unsigned i)
{
    struct member_arg *m = arg;
    if (i < WAITERS)
        waiter(m->t, (int)i);
    else if (i < WAITERS + NOTIFIERS)
        notifier(m->t, (int)(i - WAITERS));
    else
        controller(m->t, m->seconds);
}

static void torture(enum kind kind, double seconds)
{
    struct cond_torture *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->kind = kind;
    weft_lock_init(&t->lock);
    weft_rlock_init(&t->rlock);
    if (kind == OWN) {
        weft_condition_init(&t->c);
    } else if (kind == OVER_LOCK) {
        weft_condition_init_with(&t->c, &t->lock);
        weft_condition_init_with(&t->other, &t->lock);
    } else {
        weft_condition_init_with(&t->c, &t->rlock);
        weft_condition_init_with(&t->other, &t->rlock);
    }
    for (int i = 0; i < WAITERS; i++)
        pthread_mutex_init(&t->scopes[i].m, NULL);
    struct member_arg m = {t, seconds};
    testing_run_threads(WAITERS + NOTIFIERS + 1, member, &m);
    fprintf(stderr,
            "%s: %ld epochs, %ld waits, %ld woken by %ld notifies, %ld "
            "timed out, %ld cancelled\n",
            kind_names[kind], t->epochs, t->waits, t->woken, t->notifies,
            t->timeouts, t->cancels);
    check_verdict(&t->v);
    assert_true(t->woken > 0);
    free(t);
}

static void every_notify_wakes_the_oldest_waiters_it_may(void **state)
{
    double third = testing_torture_seconds() / 3;
    torture(OWN, third);
    torture(OVER_LOCK, third);
    torture(OVER_RLOCK, third);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_notify_wakes_the_oldest_waiters_it_may),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
