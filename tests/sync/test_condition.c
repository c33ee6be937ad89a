/* SPDX-License-Identifier: MIT */
/* sync: Condition. */
#include "sync/sync_int.h"
#include "testing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void waiting_or_notifying_without_the_lock_is_an_error(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    assert_fails_with(weft_condition_wait(&c, 0.01), WEFT_EPERM,
                      "un-acquired");
    assert_fails_with(weft_condition_notify(&c, 1), WEFT_EPERM, "un-acquired");
    assert_fails_with(weft_condition_notify_all(&c), WEFT_EPERM,
                      "un-acquired");
}

static void wait_times_out_and_still_holds_the_lock(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    weft_condition_acquire(&c, WEFT_FOREVER);
    weft_condition_acquire(&c, WEFT_FOREVER); /* two levels */
    double t0 = weft_monotonic();
    assert_fails_with(weft_condition_wait(&c, 0.2), WEFT_ETIMEDOUT,
                      "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_int_equal(weft_rlock_count(&weft__condition(&c)->rlock_), 2);
    weft_condition_release(&c);
    weft_condition_release(&c);
    assert_fails_with(weft_condition_release(&c), WEFT_EPERM, NULL);
}

/* Producer/consumer over a condition: every item is seen exactly once. */
struct box {
    weft_condition_t c;
    int items, taken, produced_all;
    long sum;
};

static int has_items(void *arg)
{
    struct box *b = arg;
    return b->items > 0 || b->produced_all;
}

static void box_member(void *arg, unsigned i)
{
    struct box *b = arg;
    if (i == 0) {
        for (int k = 1; k <= 10000; k++) {
            weft_condition_acquire(&b->c, WEFT_FOREVER);
            b->items++;
            weft_condition_notify(&b->c, 1);
            weft_condition_release(&b->c);
        }
        weft_condition_acquire(&b->c, WEFT_FOREVER);
        b->produced_all = 1;
        weft_condition_notify_all(&b->c);
        weft_condition_release(&b->c);
        return;
    }
    weft_condition_acquire(&b->c, WEFT_FOREVER);
    for (;;) {
        assert_int_equal(
            weft_condition_wait_for(&b->c, has_items, b, WEFT_FOREVER), 0);
        if (b->items == 0)
            break;
        b->items--;
        b->taken++;
    }
    weft_condition_release(&b->c);
}

static void notify_hands_every_item_to_one_consumer(void **state)
{
    struct box b;
    memset(&b, 0, sizeof b);
    weft_condition_init(&b.c);
    testing_run_threads(4, box_member, &b);
    assert_int_equal(b.taken, 10000);
    assert_int_equal(b.items, 0);
}

struct sleepers {
    weft_condition_t c;
    int waiting, woken, go;
};

static void sleeper(void *arg, unsigned i)
{
    struct sleepers *s = arg;
    weft_condition_acquire(&s->c, WEFT_FOREVER);
    if (i == 0) {
        while (s->waiting < 5) {
            weft_condition_release(&s->c);
            weft_sleep(0.001);
            weft_condition_acquire(&s->c, WEFT_FOREVER);
        }
        weft_condition_notify(&s->c, 2);
        weft_condition_release(&s->c);
        weft_sleep(0.1);
        weft_condition_acquire(&s->c, WEFT_FOREVER);
        assert_int_equal(s->woken, 2); /* notify(2) woke exactly two */
        weft_condition_notify_all(&s->c);
        weft_condition_release(&s->c);
        return;
    }
    s->waiting++;
    assert_int_equal(weft_condition_wait(&s->c, WEFT_FOREVER), 0);
    s->woken++;
    weft_condition_release(&s->c);
}

static void notify_n_wakes_n_and_notify_all_the_rest(void **state)
{
    struct sleepers s;
    memset(&s, 0, sizeof s);
    weft_condition_init(&s.c);
    testing_run_threads(6, sleeper, &s);
    assert_int_equal(s.woken, 5);
}

static int never(void *arg)
{
    (void)arg;
    return 0;
}

static void wait_for_times_out_when_the_predicate_stays_false(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    weft_condition_acquire(&c, WEFT_FOREVER);
    double t0 = weft_monotonic();
    assert_fails_with(weft_condition_wait_for(&c, never, NULL, 0.2),
                      WEFT_ETIMEDOUT, "predicate");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_condition_wait_for(&c, NULL, NULL, 0.2),
                      WEFT_EINVAL, "predicate");
    assert_true(weft_rlock_is_owned(&weft__condition(&c)->rlock_));
    weft_condition_release(&c);
}

static const double bad_timeouts[] = {-2.0, -0.5, -1e300, -INFINITY, NAN};
#define N_BAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

static int always(void *arg)
{
    return 1;
}

/* Refused before the predicate runs, though it holds at once, and before a
 * wait would release the lock; the lock stays held, at its count. */
static void a_bad_timeout_is_refused_before_anything_happens(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    for (size_t i = 0; i < N_BAD; i++)
        assert_fails_with(weft_condition_acquire(&c, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
    assert_int_equal(weft_condition_acquire(&c, 0), 0);
    assert_int_equal(weft_condition_acquire(&c, 0), 0);
    for (size_t i = 0; i < N_BAD; i++) {
        assert_fails_with(weft_condition_acquire(&c, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_fails_with(weft_condition_wait(&c, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_fails_with(weft_condition_wait_for(&c, always, NULL,
                                                  bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_int_equal(weft_rlock_count(&weft__condition(&c)->rlock_), 2);
    }
    weft_condition_release(&c);
    weft_condition_release(&c);
    assert_false(
        weft_lock_locked(&weft__rlock(&weft__condition(&c)->rlock_)->lock_));
}


/* ----- Condition(lock): over a caller's Lock or RLock ----- */

/* The three kinds of condition, each tested the same way. */
enum kind { OWN, OVER_LOCK, OVER_RLOCK };
#define KINDS 3

static const char *const kind_names[] = {"Condition()", "Condition(Lock())",
                                         "Condition(RLock())"};

struct cv {
    weft_condition_t c;
    weft_lock_t lock;
    weft_rlock_t rlock;
};

static void cv_init(struct cv *v, enum kind kind)
{
    memset(v, 0, sizeof *v);
    weft_lock_init(&v->lock);
    weft_rlock_init(&v->rlock);
    if (kind == OWN)
        assert_int_equal(weft_condition_init(&v->c), 0);
    else if (kind == OVER_LOCK)
        assert_int_equal(weft_condition_init_with(&v->c, &v->lock), 0);
    else
        assert_int_equal(weft_condition_init_with(&v->c, &v->rlock), 0);
}

/* Python's ConditionTests.test_acquire. */
static void the_condition_acquires_the_callers_lock(void **state)
{
    struct cv v;
    cv_init(&v, OWN); /* by default an RLock: acquired twice */
    assert_int_equal(weft_condition_acquire(&v.c, WEFT_FOREVER), 0);
    assert_int_equal(weft_condition_acquire(&v.c, WEFT_FOREVER), 0);
    assert_int_equal(weft_condition_release(&v.c), 0);
    assert_int_equal(weft_condition_release(&v.c), 0);

    cv_init(&v, OVER_LOCK);
    assert_int_equal(weft_condition_acquire(&v.c, WEFT_FOREVER), 0);
    assert_fails_with(weft_lock_acquire(&v.lock, 0), WEFT_ETIMEDOUT, "held");
    assert_int_equal(weft_condition_release(&v.c), 0);
    assert_int_equal(weft_lock_acquire(&v.lock, 0), 0);
    assert_fails_with(weft_condition_acquire(&v.c, 0), WEFT_ETIMEDOUT, "held");
    assert_int_equal(weft_lock_release(&v.lock), 0);
    assert_int_equal(weft_condition_acquire(&v.c, 0), 0);
    assert_true(weft_lock_locked(&v.lock));
    assert_int_equal(weft_condition_release(&v.c), 0);
    assert_false(weft_lock_locked(&v.lock));

    cv_init(&v, OVER_RLOCK);
    assert_int_equal(weft_condition_acquire(&v.c, 0), 0);
    assert_int_equal(weft_rlock_acquire(&v.rlock, 0), 0);
    assert_int_equal(weft_rlock_count(&v.rlock), 2);
    assert_int_equal(weft_condition_release(&v.c), 0);
    assert_int_equal(weft_condition_release(&v.c), 0);
    assert_false(weft_rlock_is_owned(&v.rlock));
    assert_fails_with(weft_condition_release(&v.c), WEFT_EPERM, "un-acquired");
    assert_int_equal(weft_condition_destroy(&v.c), 0);
    /* The RLock is still the caller's. */
    assert_int_equal(weft_rlock_acquire(&v.rlock, 0), 0);
    weft_rlock_release(&v.rlock);
}

static void bad_arguments_to_init_with_are_refused(void **state)
{
    weft_condition_t c;
    weft_lock_t l = WEFT_LOCK_INIT;
    weft_rlock_t r;
    weft_rlock_init(&r);
    assert_fails_with(weft_condition_init_with_lock(&c, NULL), WEFT_EINVAL,
                      "NULL lock");
    assert_fails_with(weft_condition_init_with_rlock(&c, NULL), WEFT_EINVAL,
                      "NULL lock");
    assert_fails_with(weft_condition_init_with_lock(NULL, &l), WEFT_EINVAL,
                      "NULL condition");
    assert_fails_with(weft_condition_init_with_rlock(NULL, &r), WEFT_EINVAL,
                      "NULL condition");
}

struct holder {
    struct cv *v;
    enum kind kind;
    _Atomic int held, go;
};

static void hold_the_lock(void *arg)
{
    struct holder *h = arg;
    weft_condition_acquire(&h->v->c, WEFT_FOREVER);
    atomic_store(&h->held, 1);
    while (!atomic_load(&h->go))
        weft_sleep(0.001);
    weft_condition_release(&h->v->c);
}

/* test_unacquired_wait and test_unacquired_notify, for every kind; and
 * Python's notion of held: an RLock held by another thread is not held,
 * a Lock locked by another thread is. */
static void waiting_or_notifying_needs_the_lock_held(void **state)
{
    for (int k = 0; k < KINDS; k++) {
        struct cv v;
        cv_init(&v, k);
        assert_fails_with(weft_condition_wait(&v.c, 0.01), WEFT_EPERM,
                          "cannot wait on un-acquired lock");
        assert_fails_with(weft_condition_notify(&v.c, 1), WEFT_EPERM,
                          "cannot notify on un-acquired lock");
        assert_fails_with(weft_condition_notify_all(&v.c), WEFT_EPERM,
                          "cannot notify on un-acquired lock");
        struct holder h = {&v, k, 0, 0};
        testing_thread_t *t = testing_thread_start(hold_the_lock, &h);
        while (!atomic_load(&h.held))
            weft_sleep(0.001);
        if (k == OVER_LOCK) {
            assert_int_equal(weft_condition_notify(&v.c, 1), 0);
        } else {
            assert_fails_with(weft_condition_notify(&v.c, 1), WEFT_EPERM,
                              "un-acquired");
            assert_fails_with(weft_condition_wait(&v.c, 0.01), WEFT_EPERM,
                              "un-acquired");
        }
        atomic_store(&h.go, 1);
        testing_thread_join(t);
    }
}

/* Python's ConditionTests._check_notify, with its phases made exact: a
 * waiter counts itself in under the lock before it waits, and since a wait
 * is queued before it releases the lock, the main thread that holds the
 * lock and sees the count knows them all queued. Waiters note the phase
 * they wake in, which the main thread sets before it releases the lock. */
#define NOTIFIED 5

struct check_notify {
    struct cv v;
    int phase, entered1, entered2, returned;
    int r1[NOTIFIED], r2[NOTIFIED], n1, n2;
};

static void wait_twice(void *arg)
{
    struct check_notify *t = arg;
    double bound = 10 * testing_scale();
    weft_condition_acquire(&t->v.c, WEFT_FOREVER);
    t->entered1++;
    int rc = weft_condition_wait(&t->v.c, bound);
    t->r1[t->n1++] = rc ? -rc : t->phase;
    t->returned++;
    weft_condition_release(&t->v.c);
    weft_condition_acquire(&t->v.c, WEFT_FOREVER);
    t->entered2++;
    rc = weft_condition_wait(&t->v.c, bound);
    t->r2[t->n2++] = rc ? -rc : t->phase;
    t->returned++;
    weft_condition_release(&t->v.c);
}

/* Take the condition's lock once *count has reached n; 0 if it does not
 * within the bound (the lock is then not held). */
static int held_once_reached(struct check_notify *t, const int *count, int n)
{
    double until = weft_monotonic() + 10 * testing_scale();
    do {
        weft_condition_acquire(&t->v.c, WEFT_FOREVER);
        if (*count >= n)
            return 1;
        weft_condition_release(&t->v.c);
        weft_sleep(0.001);
    } while (weft_monotonic() < until);
    return 0;
}

static void check_phases(const int *got, int n, const int *want)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

static void check_notify(struct check_notify *t)
{
    testing_thread_t *th[NOTIFIED];
    for (int i = 0; i < NOTIFIED; i++)
        th[i] = testing_thread_start(wait_twice, t);
    assert_true(held_once_reached(t, &t->entered1, NOTIFIED));
    assert_int_equal(weft_condition_notify(&t->v.c, 3), 0);
    t->phase = 1;
    weft_condition_release(&t->v.c);
    /* The three woken are in their second wait; two are still in the
     * first. notify(5) wakes all five, from either wait. */
    assert_true(held_once_reached(t, &t->entered2, 3));
    assert_int_equal(t->n1, 3);
    assert_int_equal(t->n2, 0);
    check_phases(t->r1, 3, (const int[]){1, 1, 1});
    assert_int_equal(weft_condition_notify(&t->v.c, 5), 0);
    t->phase = 2;
    weft_condition_release(&t->v.c);
    /* All five woken have returned, and the two from their first wait are
     * in their second. */
    assert_true(held_once_reached(t, &t->returned, 8));
    weft_condition_release(&t->v.c);
    assert_true(held_once_reached(t, &t->entered2, NOTIFIED));
    assert_int_equal(t->returned, 8);
    check_phases(t->r1, 5, (const int[]){1, 1, 1, 2, 2});
    check_phases(t->r2, 3, (const int[]){2, 2, 2});
    assert_int_equal(weft_condition_notify_all(&t->v.c), 0);
    t->phase = 3;
    weft_condition_release(&t->v.c);
    for (int i = 0; i < NOTIFIED; i++)
        testing_thread_join(th[i]);
    assert_int_equal(t->returned, 10);
    check_phases(t->r2, 5, (const int[]){2, 2, 2, 3, 3});
}

static void notify_wakes_as_many_as_asked_for_every_kind(void **state)
{
    for (int k = 0; k < KINDS; k++) {
        struct check_notify t;
        memset(&t, 0, sizeof t);
        cv_init(&t.v, k);
        for (int round = 0; round < 2; round++) { /* internal state still ok */
            fprintf(stderr, "%s, round %d\n", kind_names[k], round);
            struct cv v = t.v;
            memset(&t, 0, sizeof t);
            t.v = v;
            check_notify(&t);
        }
    }
}

/* Waiters queued one after another wake one per notify, oldest first. */
struct queue_order {
    struct cv v;
    int entered, next_turn, order[4], woken;
};

static void wait_in_turn(void *arg, unsigned i)
{
    struct queue_order *q = arg;
    double until = weft_monotonic() + 10 * testing_scale();
    weft_condition_acquire(&q->v.c, WEFT_FOREVER);
    while (q->entered != (int)i && weft_monotonic() < until) {
        weft_condition_release(&q->v.c);
        weft_sleep(0.001);
        weft_condition_acquire(&q->v.c, WEFT_FOREVER);
    }
    q->entered++;
    if (weft_condition_wait(&q->v.c, 10 * testing_scale()) == 0)
        q->order[q->woken++] = (int)i;
    weft_condition_release(&q->v.c);
}

static void notify_one(void *arg)
{
    struct queue_order *q = arg;
    for (int k = 0; k < 4; k++) {
        double until = weft_monotonic() + 10 * testing_scale();
        weft_condition_acquire(&q->v.c, WEFT_FOREVER);
        while ((q->entered < 4 || q->woken < k) && weft_monotonic() < until) {
            weft_condition_release(&q->v.c);
            weft_sleep(0.001);
            weft_condition_acquire(&q->v.c, WEFT_FOREVER);
        }
        weft_condition_notify(&q->v.c, 1);
        weft_condition_release(&q->v.c);
    }
}

static void notify_wakes_the_longest_waiting_first(void **state)
{
    for (int k = 0; k < KINDS; k++) {
        struct queue_order q;
        memset(&q, 0, sizeof q);
        cv_init(&q.v, k);
        testing_thread_t *n = testing_thread_start(notify_one, &q);
        testing_run_threads(4, wait_in_turn, &q);
        testing_thread_join(n);
        assert_int_equal(q.woken, 4);
        for (int i = 0; i < 4; i++)
            assert_int_equal(q.order[i], i);
    }
}

/* Python's test_timeout: five waiters, nobody notifies. */
struct timeouts {
    struct cv v;
    _Atomic int timed_out;
    _Atomic int too_early;
};

static void wait_out(void *arg, unsigned i)
{
    struct timeouts *t = arg;
    weft_condition_acquire(&t->v.c, WEFT_FOREVER);
    double t0 = weft_monotonic();
    if (weft_condition_wait(&t->v.c, 0.2) == WEFT_ETIMEDOUT)
        atomic_fetch_add(&t->timed_out, 1);
    if (weft_monotonic() - t0 < 0.2)
        atomic_fetch_add(&t->too_early, 1);
    weft_condition_release(&t->v.c);
}

static void every_waiter_times_out_when_nobody_notifies(void **state)
{
    for (int k = 0; k < KINDS; k++) {
        struct timeouts t;
        memset(&t, 0, sizeof t);
        cv_init(&t.v, k);
        testing_run_threads(5, wait_out, &t);
        assert_int_equal(atomic_load(&t.timed_out), 5);
        assert_int_equal(atomic_load(&t.too_early), 0);
    }
}

/* Python's test_waitfor and test_waitfor_timeout. */
struct counting {
    struct cv v;
    int state, rc, state_seen, increments;
    double waited;
};

static int state_is_4(void *arg)
{
    return ((struct counting *)arg)->state == 4;
}

static void wait_for_4(void *arg)
{
    struct counting *c = arg;
    weft_condition_acquire(&c->v.c, WEFT_FOREVER);
    double t0 = weft_monotonic();
    c->rc = weft_condition_wait_for(&c->v.c, state_is_4, c,
                                    c->increments == 4 ? 10 * testing_scale()
                                                       : 0.1);
    c->waited = weft_monotonic() - t0;
    c->state_seen = c->state;
    weft_condition_release(&c->v.c);
}

static void wait_for_waits_for_the_predicate(void **state)
{
    for (int k = 0; k < KINDS; k++) {
        for (int increments = 3; increments <= 4; increments++) {
            struct counting c;
            memset(&c, 0, sizeof c);
            cv_init(&c.v, k);
            c.increments = increments;
            testing_thread_t *t = testing_thread_start(wait_for_4, &c);
            for (int i = 0; i < increments; i++) {
                weft_sleep(0.01);
                weft_condition_acquire(&c.v.c, WEFT_FOREVER);
                c.state++;
                weft_condition_notify(&c.v.c, 1);
                weft_condition_release(&c.v.c);
            }
            testing_thread_join(t);
            if (increments == 4) {
                assert_int_equal(c.rc, 0);
                assert_int_equal(c.state_seen, 4);
            } else {
                assert_int_equal(c.rc, WEFT_ETIMEDOUT);
                assert_true(c.waited >= 0.1);
            }
        }
    }
}

/* A wait releases an RLock fully, whatever its count, and restores the
 * count: another thread takes the lock while the waiter waits. */
struct levels {
    struct cv v;
    int waiting, rc;
    unsigned count_after;
};

static void wait_holding_three_levels(void *arg)
{
    struct levels *l = arg;
    for (int i = 0; i < 3; i++)
        weft_condition_acquire(&l->v.c, WEFT_FOREVER);
    l->waiting = 1;
    l->rc = weft_condition_wait(&l->v.c, 10 * testing_scale());
    weft_rlock_t *r = weft__condition(&l->v.c)->kind_ == OVER_RLOCK
                          ? &l->v.rlock
                          : &weft__condition(&l->v.c)->rlock_;
    l->count_after = weft_rlock_count(r);
    for (int i = 0; i < 3; i++)
        weft_condition_release(&l->v.c);
}

static void a_wait_releases_every_level_of_an_rlock(void **state)
{
    const enum kind kinds[] = {OWN, OVER_RLOCK};
    for (int k = 0; k < 2; k++) {
        struct levels l;
        memset(&l, 0, sizeof l);
        cv_init(&l.v, kinds[k]);
        testing_thread_t *t =
            testing_thread_start(wait_holding_three_levels, &l);
        int waiting = 0;
        double until = weft_monotonic() + 10 * testing_scale();
        while (!waiting && weft_monotonic() < until) {
            /* Taken at all only once the waiter released every level. */
            if (weft_condition_acquire(&l.v.c, 0.01) != 0)
                continue;
            waiting = l.waiting;
            if (waiting)
                weft_condition_notify(&l.v.c, 1);
            weft_condition_release(&l.v.c);
        }
        testing_thread_join(t);
        assert_true(waiting);
        assert_int_equal(l.rc, 0);
        assert_int_equal(l.count_after, 3);
    }
}

/* The point of Condition(lock): two conditions over one lock, a bounded
 * buffer's not_empty and not_full. Every item is taken exactly once. */
#define ROOM 4
#define PER_PRODUCER 5000

struct buffer {
    weft_lock_t lock;
    weft_rlock_t rlock;
    weft_condition_t not_empty, not_full;
    long items[ROOM];
    int head, count, producers_left;
    long taken, sum;
};

static int has_room(void *arg)
{
    return ((struct buffer *)arg)->count < ROOM;
}

static int has_item_or_end(void *arg)
{
    struct buffer *b = arg;
    return b->count > 0 || b->producers_left == 0;
}

static void produce_or_consume(void *arg, unsigned i)
{
    struct buffer *b = arg;
    double bound = 10 * testing_scale();
    if (i < 2) {
        for (long k = 1; k <= PER_PRODUCER; k++) {
            weft_condition_acquire(&b->not_full, WEFT_FOREVER);
            if (weft_condition_wait_for(&b->not_full, has_room, b, bound)) {
                weft_condition_release(&b->not_full);
                return;
            }
            b->items[(b->head + b->count++) % ROOM] = k;
            weft_condition_notify(&b->not_empty, 1);
            weft_condition_release(&b->not_full);
        }
        weft_condition_acquire(&b->not_empty, WEFT_FOREVER);
        if (--b->producers_left == 0)
            weft_condition_notify_all(&b->not_empty);
        weft_condition_release(&b->not_empty);
        return;
    }
    weft_condition_acquire(&b->not_empty, WEFT_FOREVER);
    while (weft_condition_wait_for(&b->not_empty, has_item_or_end, b,
                                   bound) == 0 &&
           b->count > 0) {
        b->sum += b->items[b->head];
        b->head = (b->head + 1) % ROOM;
        b->count--;
        b->taken++;
        weft_condition_notify(&b->not_full, 1);
    }
    weft_condition_release(&b->not_empty);
}

static void two_conditions_share_one_lock(void **state)
{
    for (int k = OVER_LOCK; k <= OVER_RLOCK; k++) {
        struct buffer b;
        memset(&b, 0, sizeof b);
        weft_lock_init(&b.lock);
        weft_rlock_init(&b.rlock);
        if (k == OVER_LOCK) {
            weft_condition_init_with(&b.not_empty, &b.lock);
            weft_condition_init_with(&b.not_full, &b.lock);
        } else {
            weft_condition_init_with(&b.not_empty, &b.rlock);
            weft_condition_init_with(&b.not_full, &b.rlock);
        }
        b.producers_left = 2;
        testing_run_threads(5, produce_or_consume, &b);
        assert_int_equal(b.taken, 2 * PER_PRODUCER);
        assert_int_equal(b.sum, 2L * PER_PRODUCER * (PER_PRODUCER + 1) / 2);
        assert_int_equal(b.count, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waiting_or_notifying_without_the_lock_is_an_error),
        cmocka_unit_test(wait_times_out_and_still_holds_the_lock),
        cmocka_unit_test(notify_hands_every_item_to_one_consumer),
        cmocka_unit_test(notify_n_wakes_n_and_notify_all_the_rest),
        cmocka_unit_test(wait_for_times_out_when_the_predicate_stays_false),
        cmocka_unit_test(a_bad_timeout_is_refused_before_anything_happens),
        cmocka_unit_test(the_condition_acquires_the_callers_lock),
        cmocka_unit_test(bad_arguments_to_init_with_are_refused),
        cmocka_unit_test(waiting_or_notifying_needs_the_lock_held),
        cmocka_unit_test(notify_wakes_as_many_as_asked_for_every_kind),
        cmocka_unit_test(notify_wakes_the_longest_waiting_first),
        cmocka_unit_test(every_waiter_times_out_when_nobody_notifies),
        cmocka_unit_test(wait_for_waits_for_the_predicate),
        cmocka_unit_test(a_wait_releases_every_level_of_an_rlock),
        cmocka_unit_test(two_conditions_share_one_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
