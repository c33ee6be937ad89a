/* SPDX-License-Identifier: MIT */
/* Queue, LifoQueue, PriorityQueue and SimpleQueue: what every kind shares.
 * Making and freeing, waiting and waking, task counting, shutdown, drain.
 * The storage is the kind's (ring.c, locked.c); this file never looks
 * inside it.
 *
 * Design: an eventcount over the kind's storage. A put or get first tries
 * the storage (kind->try_put/try_get). Only when that finds no room or no
 * item does the caller wait: it spins a little, yields a few times (on a
 * machine with more threads than cores the peer it waits for may need this
 * very core), and then sleeps through park:
 *
 *   sleeper                               waker (after a put or get)
 *   sleeping_X += 1          (seq_cst)    change the storage    (seq_cst)
 *   park on &sleeping_X, validating       if sleeping_X != 0    (seq_cst)
 *     kind->X_would_block() (seq_cst)         unpark one on &sleeping_X,
 *   unless unparked: sleeping_X -= 1          and if it chose one, under
 *                                             park's lock: sleeping_X -= 1
 *
 * Dekker's pattern: if the waker read sleeping_X == 0, its change came
 * before the sleeper's increment in the single order of seq_cst operations,
 * so the sleeper's validation sees the change and does not sleep; if it
 * read nonzero it unparks under park's lock, which either finds the sleeper
 * queued or comes before its validation (which then sees the change). So a
 * put or get touches park only when someone is actually about to sleep,
 * and no wake-up is lost. sleeping_X counts the sleepers not yet chosen:
 * the waker takes the one it chooses off the count at once, so the puts
 * and gets made while it gets back on a CPU (long, on a busy machine) do
 * not call park for it again.
 *
 * Each wake-up is owed a look: a woken context tries again and does not
 * sleep while a peer is half-way (QUEUE_BUSY) on the slot it needs; if it
 * gives up without an item or room (timeout, cancel, shutdown), it passes
 * the wake-up on to the next sleeper. Hence every put that sees a sleeping
 * getter brings one getter to the items, and none is stranded while a
 * getter sleeps (and the same for room and putters).
 *
 * Task counting: unfinished tasks = kind->accepted() - done. accepted grows
 * with every put, done with every task_done and with the items an
 * immediate shutdown counts done; both only grow, and done never passes
 * accepted (task_done refuses). join sleeps the same way, on
 * &sleeping_joiners, validating that tasks are unfinished; task_done reads
 * sleeping_joiners (seq_cst) after its seq_cst update of done.
 *
 * Shutdown: the kind freezes its storage (puts refused; gets too when
 * immediate), the items an immediate shutdown freezes count as done, and
 * every sleeper is unparked; the kinds' *_would_block() say no once shut,
 * so none sleeps again on a shut queue.
 */
#include "base/check.h"
#include "queue_int.h"
#include "ring.h"

#include <stdlib.h>
#include <string.h>

/* ----- Allocation ----- */

static _Thread_local unsigned fail_countdown;

void weft__queue_fail_alloc(unsigned nth)
{
    fail_countdown = nth;
}

void *weft__queue_alloc(size_t size)
{
    if (fail_countdown && --fail_countdown == 0)
        return NULL;
    if (size > SIZE_MAX - 63)
        return NULL;
    /* Cache-line aligned: the queue's hot words are a line each. */
    size_t rounded = size ? (size + 63) & ~(size_t)63 : 64;
    return aligned_alloc(64, rounded);
}

/* ----- Making and freeing ----- */

static int start(weft_queue_t **out, const char *fn, size_t maxsize,
                 int tracks_tasks, weft_queue_t **qp)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "%s: NULL out", fn);
    weft_queue_t *q = weft__queue_alloc(sizeof *q);
    if (q == NULL)
        return weft_fail(WEFT_ENOMEM, "%s: no memory", fn);
    memset(q, 0, sizeof *q);
    q->maxsize = maxsize;
    q->tracks_tasks = tracks_tasks;
    atomic_init(&q->state, 0);
    atomic_init(&q->sleeping_putters, 0);
    atomic_init(&q->sleeping_getters, 0);
    atomic_init(&q->sleeping_joiners, 0);
    atomic_init(&q->done, 0);
    *qp = q;
    return 0;
}

static int finish(weft_queue_t **out, weft_queue_t *q, int rc, const char *fn)
{
    if (rc) {
        free(q);
        return weft_fail(rc, "%s: no memory for the queue's storage", fn);
    }
    *out = q;
    return 0;
}

int weft_queue_new(weft_queue_t **out, size_t maxsize)
{
    weft_queue_t *q = NULL;
    int rc = start(out, "weft_queue_new", maxsize, 1, &q);
    if (rc)
        return rc;
    if (maxsize > 0 && maxsize <= RING_MAX_CELLS)
        rc = weft__ring_init(q, maxsize);
    else
        rc = weft__locked_init(q, &weft__fifo_store);
    return finish(out, q, rc, "weft_queue_new");
}

int weft_lifo_queue_new(weft_queue_t **out, size_t maxsize)
{
    weft_queue_t *q = NULL;
    int rc = start(out, "weft_lifo_queue_new", maxsize, 1, &q);
    if (rc)
        return rc;
    rc = weft__locked_init(q, &weft__lifo_store);
    return finish(out, q, rc, "weft_lifo_queue_new");
}

int weft_priority_queue_new(weft_queue_t **out, size_t maxsize,
                            int (*compare)(const void *a, const void *b,
                                           void *ctx),
                            void *ctx)
{
    if (compare == NULL)
        return weft_fail(WEFT_EINVAL, "weft_priority_queue_new: NULL compare");
    weft_queue_t *q = NULL;
    int rc = start(out, "weft_priority_queue_new", maxsize, 1, &q);
    if (rc)
        return rc;
    rc = weft__locked_init(q, &weft__heap_store);
    q->u.locked.compare = compare;
    q->u.locked.ctx = ctx;
    return finish(out, q, rc, "weft_priority_queue_new");
}

int weft_simple_queue_new(weft_queue_t **out)
{
    weft_queue_t *q = NULL;
    int rc = start(out, "weft_simple_queue_new", 0, 0, &q);
    if (rc)
        return rc;
    rc = weft__locked_init(q, &weft__fifo_store);
    return finish(out, q, rc, "weft_simple_queue_new");
}

void weft_queue_free(weft_queue_t *q)
{
    if (q == NULL)
        return;
    q->kind->destroy(q);
    free(q);
}

/* ----- Waiting and waking ----- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Under park's lock, as unpark_one() chooses a sleeper: take it off the
 * count at once, so that the puts and gets that come before it runs again
 * do not call park for it. */
static uintptr_t count_off(void *ctx, weft_unpark_result_t r)
{
    if (r.unparked)
        atomic_fetch_sub_explicit((_Atomic uint32_t *)ctx, 1,
                                  memory_order_relaxed);
    return 0;
}

/* Wake one sleeper of a side, if any announced itself and was not chosen
 * yet. The caller changed the storage (seq_cst) just before. */
static inline void wake_one(_Atomic uint32_t *sleepers)
{
    WEFT_CHAOS_POINT(); /* the storage changed, the sleepers not read */
    /* seq_cst: the check half of the Dekker pair with sleep_on(). */
    if (atomic_load_explicit(sleepers, memory_order_seq_cst) != 0)
        weft_unpark_one(sleepers, count_off, sleepers);
}

/* Wake up to n sleepers (SIZE_MAX: all), taking them off the count. */
static void wake_some(_Atomic uint32_t *sleepers, size_t n)
{
    WEFT_CHAOS_POINT(); /* the change made, the sleepers not read */
    /* seq_cst: as in wake_one(). */
    if (atomic_load_explicit(sleepers, memory_order_seq_cst) == 0)
        return;
    size_t woken = weft_unpark_some(sleepers, n, 0);
    if (woken)
        atomic_fetch_sub_explicit(sleepers, (uint32_t)woken,
                                  memory_order_relaxed);
}

/* How long to wait before sleeping, measured with bench/bench_queue.c (2
 * putters, 2 getters, 2 cores): a few pauses, then yields. Longer pausing
 * (up to 127 pauses) cost a third more per item, since the peer that would
 * make progress often waits for this very core; 16 yields before a park
 * keep parks to a handful per million items. */
#define PAUSE_ROUNDS 2 /* 1 + 2 pauses */
#define YIELD_ROUNDS 16

static void pause_or_yield(unsigned round)
{
    if (round < PAUSE_ROUNDS) {
        for (unsigned i = 0; i < (1u << round); i++)
            cpu_relax();
    } else {
        weft_sleep(0);
    }
}

/* One round of waiting for a peer half-way through an operation on our
 * slot: a few pauses, then yields, so that a preempted peer gets to run. */
static void wait_for_peer(unsigned *rounds)
{
    pause_or_yield(*rounds);
    if (*rounds < PAUSE_ROUNDS)
        (*rounds)++;
}

/* One round of waiting before sleeping; 0 when it is time to sleep. A
 * park costs system calls on both sides, and on a busy machine the item
 * or room usually comes within a few time slices of the peers. */
static int spin_before_sleep(unsigned *rounds)
{
    if (*rounds >= PAUSE_ROUNDS + YIELD_ROUNDS)
        return 0;
    pause_or_yield((*rounds)++);
    return 1;
}

static int put_validate(void *ctx)
{
    const weft_queue_t *q = ctx;
    return q->kind->put_would_block(q);
}

static int get_validate(void *ctx)
{
    const weft_queue_t *q = ctx;
    return q->kind->get_would_block(q);
}

static const weft_park_ops_t put_park_ops = {put_validate, NULL, NULL};
static const weft_park_ops_t get_park_ops = {get_validate, NULL, NULL};

/* One side of the queue, as the waiting loop sees it. */
struct side {
    const char *verb;           /* "put" or "get" */
    _Atomic uint32_t *sleepers; /* where this side sleeps */
    _Atomic uint32_t *others;   /* whom its success wakes */
    const weft_park_ops_t *ops; /* validates that it would still block */
    int miss;                   /* WEFT_EFULL or WEFT_EEMPTY */
    int (*attempt)(weft_queue_t *q, void *arg);
};

/* Announce, park, and withdraw unless a waker did (it takes whom it
 * unparks off the count). Returns what weft_park() returns. */
static int sleep_on(_Atomic uint32_t *sleepers, const weft_park_ops_t *ops,
                    weft_queue_t *q, int64_t deadline)
{
    /* seq_cst: the announce half of the Dekker pair with wake_one(). */
    atomic_fetch_add_explicit(sleepers, 1, memory_order_seq_cst);
    WEFT_CHAOS_POINT(); /* announced, not yet parked */
    int rc = weft_park(sleepers, ops, q, deadline, NULL);
    if (rc != 0)
        atomic_fetch_sub_explicit(sleepers, 1, memory_order_relaxed);
    return rc;
}

static int wait_failed(const struct side *s, int rc, double timeout)
{
    switch (rc) {
    case WEFT_ESHUTDOWN:
        return weft_fail(rc, "queue %s: the queue is shut down", s->verb);
    case WEFT_ECANCELLED:
        return weft_fail(rc, "queue %s cancelled", s->verb);
    case WEFT_ENOMEM:
        return weft_fail(rc, "queue %s: no memory to grow the queue", s->verb);
    default:
        break;
    }
    const char *what = rc == WEFT_EFULL ? "full" : "empty";
    if (timeout == 0)
        return weft_fail(rc, "queue %s: the queue is %s", s->verb, what);
    return weft_fail(rc, "queue %s timed out after %g s: the queue is %s",
                     s->verb, timeout, what);
}

/* The slow path of put and get: rc is what the first attempt said. */
static int wait_loop(weft_queue_t *q, const struct side *s, void *arg,
                     double timeout, int rc)
{
    int64_t deadline;
    weft_deadline(timeout, &deadline); /* checked by the caller */
    unsigned rounds = 0;
    int expired = timeout == 0, woken = 0;
    for (;; rc = s->attempt(q, arg)) {
        if (rc == 0) {
            wake_one(s->others);
            return 0;
        }
        if (rc == QUEUE_BUSY) {
            wait_for_peer(&rounds);
            continue;
        }
        if (rc != s->miss || expired)
            break;
        if (spin_before_sleep(&rounds))
            continue;
        int prc = sleep_on(s->sleepers, s->ops, q, deadline);
        if (prc == 0) {
            woken = 1;
            rounds = 0;
        } else if (prc == WEFT_ETIMEDOUT) {
            expired = 1; /* one last look */
        } else if (prc == WEFT_ECANCELLED) {
            rc = prc;
            break;
        }
    }
    if (woken)
        wake_one(s->sleepers); /* pass on the wake-up we did not use */
    return wait_failed(s, rc, timeout);
}

static int attempt_put(weft_queue_t *q, void *arg)
{
    return q->kind->try_put(q, arg);
}

static int attempt_get(weft_queue_t *q, void *arg)
{
    return q->kind->try_get(q, arg, 0);
}

/* ----- Put and get ----- */

static inline int bad_timeout(double timeout)
{
    return !(timeout >= 0) && timeout != WEFT_FOREVER;
}

static int bad_call(const weft_queue_t *q, const char *verb, double timeout)
{
    if (q == NULL)
        return weft_fail(WEFT_EINVAL, "queue %s: NULL queue", verb);
    return weft_fail(WEFT_EINVAL,
                     "queue %s: timeout must be >= 0 or WEFT_FOREVER, got %g",
                     verb, timeout);
}

static int put_slow(weft_queue_t *q, void *item, double timeout, int rc)
{
    const struct side s = {.verb = "put",
                           .sleepers = &q->sleeping_putters,
                           .others = &q->sleeping_getters,
                           .ops = &put_park_ops,
                           .miss = WEFT_EFULL,
                           .attempt = attempt_put};
    return wait_loop(q, &s, item, timeout, rc);
}

/* Every put but the ring's common case. Out of line, so that the common
 * case needs no stack frame (measured: a tenth of a put on the ring). */
__attribute__((noinline)) static int put_any(weft_queue_t *q, void *item,
                                             double timeout)
{
    int rc = q->kind->try_put(q, item);
    if (rc == 0) {
        wake_one(&q->sleeping_getters);
        return 0;
    }
    return put_slow(q, item, timeout, rc);
}

int weft_queue_put(weft_queue_t *q, void *item, double timeout)
{
    if (q == NULL || bad_timeout(timeout))
        return bad_call(q, "put", timeout);
    if (q->kind == &weft__ring_kind && ring_put_fast(&q->u.ring, item)) {
        wake_one(&q->sleeping_getters);
        return 0;
    }
    return put_any(q, item, timeout);
}

int weft_queue_put_nowait(weft_queue_t *q, void *item)
{
    return weft_queue_put(q, item, 0);
}

static int get_slow(weft_queue_t *q, void **item, double timeout, int rc)
{
    const struct side s = {.verb = "get",
                           .sleepers = &q->sleeping_getters,
                           .others = &q->sleeping_putters,
                           .ops = &get_park_ops,
                           .miss = WEFT_EEMPTY,
                           .attempt = attempt_get};
    return wait_loop(q, &s, item, timeout, rc);
}

/* Every get but the ring's common case, out of line as put_any(). */
__attribute__((noinline)) static int get_any(weft_queue_t *q, void **item,
                                             double timeout)
{
    int rc = q->kind->try_get(q, item, 0);
    if (rc == 0) {
        wake_one(&q->sleeping_putters);
        return 0;
    }
    return get_slow(q, item, timeout, rc);
}

int weft_queue_get(weft_queue_t *q, void **item, double timeout)
{
    if (q == NULL || bad_timeout(timeout))
        return bad_call(q, "get", timeout);
    if (item == NULL)
        return weft_fail(WEFT_EINVAL, "queue get: NULL item pointer");
    if (q->kind == &weft__ring_kind && ring_get_fast(&q->u.ring, item)) {
        wake_one(&q->sleeping_putters);
        return 0;
    }
    return get_any(q, item, timeout);
}

int weft_queue_get_nowait(weft_queue_t *q, void **item)
{
    return weft_queue_get(q, item, 0);
}

/* ----- Snapshots ----- */

size_t weft_queue_qsize(const weft_queue_t *q)
{
    return q ? q->kind->size(q) : 0;
}

int weft_queue_empty(const weft_queue_t *q)
{
    return weft_queue_qsize(q) == 0;
}

int weft_queue_full(const weft_queue_t *q)
{
    return q && q->maxsize > 0 && q->kind->size(q) >= q->maxsize;
}

size_t weft_queue_maxsize(const weft_queue_t *q)
{
    return q ? q->maxsize : 0;
}

/* ----- Tasks ----- */

static uint64_t unfinished(const weft_queue_t *q)
{
    /* done first: accepted only grows and is never below done, so a later
     * read of it is at least this done. */
    uint64_t done = atomic_load_explicit(&q->done, memory_order_seq_cst);
    return q->kind->accepted(q) - done;
}

static int no_tasks(const weft_queue_t *q, const char *fn)
{
    if (q == NULL)
        return weft_fail(WEFT_EINVAL, "%s: NULL queue", fn);
    return weft_fail(WEFT_ENOTSUP, "%s: a SimpleQueue does not count tasks",
                     fn);
}

int weft_queue_task_done(weft_queue_t *q)
{
    if (q == NULL || !q->tracks_tasks)
        return no_tasks(q, "task_done()");
    uint64_t done = atomic_load_explicit(&q->done, memory_order_relaxed);
    uint64_t accepted;
    do {
        accepted = q->kind->accepted(q);
        if (done >= accepted)
            return weft_fail(WEFT_EINVAL, "task_done() called too many times");
        /* seq_cst: the change half of the Dekker pair with a joiner. */
    } while (!atomic_compare_exchange_weak_explicit(
        &q->done, &done, done + 1, memory_order_seq_cst, memory_order_relaxed));
    WEFT_CHAOS_POINT(); /* counted done, the joiners not yet looked at */
    if (done + 1 == q->kind->accepted(q))
        wake_some(&q->sleeping_joiners, SIZE_MAX);
    return 0;
}

static int join_validate(void *ctx)
{
    return unfinished(ctx) != 0;
}

static const weft_park_ops_t join_park_ops = {join_validate, NULL, NULL};

int weft_queue_join(weft_queue_t *q, double timeout)
{
    if (q == NULL || !q->tracks_tasks)
        return no_tasks(q, "join()");
    int64_t deadline;
    if (weft_deadline(timeout, &deadline))
        return weft_fail(WEFT_EINVAL,
                         "join(): timeout must be >= 0 or WEFT_FOREVER, "
                         "got %g",
                         timeout);
    for (;;) {
        uint64_t open = unfinished(q);
        if (open == 0)
            return 0;
        if (timeout == 0 || weft_monotonic_ns() >= deadline)
            return weft_fail(WEFT_ETIMEDOUT,
                             "join() timed out with %llu tasks unfinished",
                             (unsigned long long)open);
        int rc = sleep_on(&q->sleeping_joiners, &join_park_ops, q, deadline);
        if (rc == WEFT_ECANCELLED)
            return weft_fail(rc, "join() cancelled");
    }
}

/* ----- Shutdown and drain ----- */

/* Count as done the frozen items, as Python's immediate shutdown does for
 * each item it drops: never more than the tasks still unfinished. */
static void count_frozen_done(weft_queue_t *q, size_t frozen)
{
    uint64_t done = atomic_load_explicit(&q->done, memory_order_relaxed);
    for (;;) {
        uint64_t open = q->kind->accepted(q) - done;
        uint64_t take = frozen < open ? frozen : open;
        if (atomic_compare_exchange_weak_explicit(&q->done, &done, done + take,
                                                  memory_order_seq_cst,
                                                  memory_order_relaxed))
            return;
    }
}

int weft_queue_shutdown(weft_queue_t *q, int immediate)
{
    if (q == NULL)
        return weft_fail(WEFT_EINVAL, "queue shutdown: NULL queue");
    atomic_fetch_or_explicit(&q->state,
                             SHUT_GENTLE | (immediate ? SHUT_IMMEDIATE : 0),
                             memory_order_seq_cst);
    size_t frozen = q->kind->shutdown(q, immediate);
    WEFT_CHAOS_POINT(); /* frozen, the sleepers not yet woken */
    if (frozen && q->tracks_tasks)
        count_frozen_done(q, frozen);
    /* A sleeper validates under park's lock after announcing itself, so it
     * either sees the frozen storage or is counted and found here. */
    wake_some(&q->sleeping_putters, SIZE_MAX);
    wake_some(&q->sleeping_getters, SIZE_MAX);
    wake_some(&q->sleeping_joiners, SIZE_MAX);
    return 0;
}

int weft_queue_is_shutdown(const weft_queue_t *q)
{
    return q && atomic_load_explicit(&q->state, memory_order_seq_cst) != 0;
}

size_t weft_queue_drain(weft_queue_t *q, void **items, size_t max)
{
    WEFT_REFUSE_NULL_OR(q, 0);
    WEFT_REFUSE_NULL_OR(items, 0);
    if (q == NULL || items == NULL)
        return 0;
    size_t n = 0;
    unsigned rounds = 0;
    while (n < max) {
        int rc = q->kind->try_get(q, &items[n], 1);
        if (rc == 0)
            n++;
        else if (rc == QUEUE_BUSY)
            wait_for_peer(&rounds);
        else
            break;
    }
    if (n)
        wake_some(&q->sleeping_putters, n);
    return n;
}
