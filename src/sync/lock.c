/* SPDX-License-Identifier: MIT */
/* Lock: threading.Lock.
 *
 * Design (parking_lot's RawMutex). The word holds two bits: LOCKED, and
 * PARKED meaning "someone may be parked on this lock". Uncontended, acquire
 * is one compare-and-swap of 0 to LOCKED and release one of LOCKED to 0.
 *
 * A contender spins a little while nobody is parked, then sets PARKED and
 * parks on the word's address, validating under park's lock that the word
 * is still LOCKED|PARKED. A release that sees PARKED unparks one waiter and,
 * under the same park lock, learns whether others remain: it leaves PARKED
 * set exactly when they do. So PARKED is never clear while a waiter sleeps,
 * and no wake-up is lost: a waiter either fails validation (the word
 * changed) or is queued before the releaser looks.
 *
 * Which event justifies a return of 0: this caller's own compare-and-swap
 * that set LOCKED, or a release that handed the lock over (its token says
 * so, and it left LOCKED set for the waiter). Any other wake-up only sends
 * the waiter back to compete.
 *
 * Fairness: about every 0.5 ms park asks an unpark to be fair; the release
 * then hands the lock over directly (the word stays LOCKED, the woken waiter
 * owns it), so a waiter cannot be starved by a thread that re-acquires in a
 * loop. Between handovers, barging keeps throughput high.
 *
 * While the process has a single thread (glibc's __libc_single_threaded),
 * nothing can race for a process-private lock, and a plain load and store
 * do the job of the atomic read-modify-write, as glibc's own mutexes do.
 * Coroutines of that thread never switch in the middle of either.
 *
 * A lock set up with weft_lock_init_shared() never holds 0 (lock_shared.c),
 * so the fast paths below fail on it exactly as on a held lock; the shared
 * case is sent to lock_shared.c only from the slow paths, and costs the
 * in-process lock nothing.
 */
#include "base/check.h"
#include "sync_int.h"

#include <sys/single_threaded.h>

WEFT__SYNC_FITS(lock, 16);

#define TOKEN_HANDOFF 1u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

int weft_lock_init(weft_lock_t *l)
{
    if (l == NULL)
        return weft_fail(WEFT_EINVAL, "weft_lock_init: NULL lock");
    atomic_init(&weft__lock(l)->word_, 0);
    weft__lock(l)->flags_ = 0;
    weft__lock(l)->reserved_ = 0;
    return 0;
}

int weft_lock_destroy(weft_lock_t *l)
{
    if (l == NULL)
        return weft_fail(WEFT_EINVAL, "weft_lock_destroy: NULL lock");
    if (atomic_load_explicit(&weft__lock(l)->word_, memory_order_relaxed) &
        LOCK_LOCKED)
        return weft_fail(WEFT_ESTATE, "weft_lock_destroy: the lock is held");
    return 0;
}

WEFT_HEAP_PRIMITIVE(weft_lock_t, lock)

/* Nonzero when no other thread can touch l: the process has one thread
 * and l is not shared with other processes. */
static inline int alone(const weft_lock_t *l)
{
    return __libc_single_threaded && weft__lock(l)->flags_ == 0;
}

static inline int try_lock(weft_lock_t *l)
{
    if (alone(l)) {
        if (atomic_load_explicit(&weft__lock(l)->word_, memory_order_relaxed) !=
            0)
            return 0;
        atomic_store_explicit(&weft__lock(l)->word_, LOCK_LOCKED,
                              memory_order_relaxed);
        return 1;
    }
    uint32_t expected = 0;
    /* Acquire: pairs with the release in weft_lock_release(). */
    return atomic_compare_exchange_weak_explicit(
        &weft__lock(l)->word_, &expected, LOCK_LOCKED, memory_order_acquire,
        memory_order_relaxed);
}

/* One attempt at taking the lock whatever PARKED says; 1 if taken. */
static int grab(weft_lock_t *l, uint32_t *state)
{
    while (!(*state & LOCK_LOCKED)) {
        if (atomic_compare_exchange_weak_explicit(
                &weft__lock(l)->word_, state, *state | LOCK_LOCKED,
                memory_order_acquire, memory_order_relaxed))
            return 1;
    }
    return 0;
}

/* Spin before parking, while no one is parked: short waits are common and
 * a park costs two system calls. parking_lot's SpinWait: three rounds of
 * 2, 4 and 8 pauses (a holder running on another core is often out within
 * that), then seven yields, so that a holder preempted on this core, or
 * waiting for one, gets to run; then park. A longer spin of pauses only
 * burns the time a preempted holder needs: with ten rounds of up to 256
 * pauses (about 18 us on a 2-core EPYC) before the yields, two threads
 * pinned to the two cores of a loaded machine ran lock_contended's loop 7
 * to 25% slower. */
static int spin_once(unsigned *spins)
{
    if (*spins >= 10)
        return 0;
    (*spins)++;
    if (*spins <= 3) {
        for (unsigned i = 0; i < (1u << *spins); i++)
            cpu_relax();
    } else {
        weft_sleep(0);
    }
    return 1;
}

static int still_contended(void *ctx)
{
    weft_lock_t *l = ctx;
    return atomic_load_explicit(&weft__lock(l)->word_, memory_order_relaxed) ==
           (LOCK_LOCKED | LOCK_PARKED);
}

static void left_queue(void *ctx, int last)
{
    weft_lock_t *l = ctx;
    if (last)
        atomic_fetch_and_explicit(&weft__lock(l)->word_, ~LOCK_PARKED,
                                  memory_order_relaxed);
}

static const weft_park_ops_t lock_park_ops = {still_contended, NULL,
                                              left_queue};

static int acquire_slow(weft_lock_t *l, int64_t deadline)
{
    if (weft__shared(weft__lock(l)->flags_))
        return weft__lock_acquire_shared(l, deadline, 0);
    unsigned spins = 0;
    for (;;) {
        uint32_t state =
            atomic_load_explicit(&weft__lock(l)->word_, memory_order_relaxed);
        if (grab(l, &state))
            return 0;
        if (!(state & LOCK_PARKED)) {
            if (spin_once(&spins))
                continue;
            if (!atomic_compare_exchange_weak_explicit(
                    &weft__lock(l)->word_, &state, state | LOCK_PARKED,
                    memory_order_relaxed, memory_order_relaxed))
                continue;
        }
        WEFT_CHAOS_POINT(); /* PARKED is up; the word may change before park
                               looks again */
        uintptr_t token = 0;
        int rc = weft_park(&weft__lock(l)->word_, &lock_park_ops, l, deadline,
                           &token);
        if (rc == 0 && token == TOKEN_HANDOFF)
            return 0;
        if (rc == WEFT_ETIMEDOUT)
            return weft_fail(WEFT_ETIMEDOUT, "lock acquire timed out");
        if (rc == WEFT_ECANCELLED)
            return weft_fail(WEFT_ECANCELLED, "lock acquire cancelled");
        spins = 0;
    }
}

/* Everything but a good timeout and a free lock: kept out of line, so that
 * the fast path below needs no stack frame. */
static __attribute__((noinline)) int acquire_other(weft_lock_t *l,
                                                   double timeout)
{
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    if (timeout == 0) {
        if (weft__shared(weft__lock(l)->flags_))
            return weft__lock_acquire_shared(l, deadline, 1);
        uint32_t state =
            atomic_load_explicit(&weft__lock(l)->word_, memory_order_relaxed);
        return grab(l, &state) ? 0
                               : weft_fail(WEFT_ETIMEDOUT, "lock is held");
    }
    return acquire_slow(l, deadline);
}

int weft_lock_acquire(weft_lock_t *l, double timeout)
{
    WEFT_REFUSE_NULL(l);
    /* The timeout is checked before the lock is tried: a bad one is
     * refused even when the lock is free. */
    if (!weft__timeout_bad(timeout) && try_lock(l))
        return 0;
    return acquire_other(l, timeout);
}

/* The slow half of a shielded acquire: no timeout, cancels kept out. Out
 * of line, so that the fast path of weft_lock_acquire_shielded() (the
 * acquire of the library's own internal locks) needs no frame for the
 * scope. */
static __attribute__((noinline)) int acquire_shielded(weft_lock_t *l)
{
    weft_cancel_scope_t shield;
    weft_cancel_scope_init(&shield);
    weft_cancel_scope_enter(&shield, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    int rc = acquire_slow(l, WEFT_NEVER);
    weft_cancel_scope_exit(&shield);
    return rc;
}

void weft_lock_acquire_shielded(weft_lock_t *l)
{
    WEFT_REFUSE_NULL_OR(l, );
    if (try_lock(l))
        return;
    acquire_shielded(l);
}

int weft__lock_reacquire(weft_lock_t *l)
{
    return try_lock(l) ? 0 : acquire_shielded(l);
}

static uintptr_t hand_over(void *ctx, weft_unpark_result_t r)
{
    weft_lock_t *l = ctx;
    /* Release: pairs with the acquire in grab() or the waiter's park. */
    if (r.unparked && r.be_fair) {
        uint32_t word = LOCK_LOCKED | (r.have_more ? LOCK_PARKED : 0);
        atomic_store_explicit(&weft__lock(l)->word_, word,
                              memory_order_release);
        return TOKEN_HANDOFF;
    }
    atomic_store_explicit(&weft__lock(l)->word_, r.have_more ? LOCK_PARKED : 0,
                          memory_order_release);
    return 0;
}

/* Kept out of line, as acquire_other() is: inlined, park's unpark (which
 * link-time optimization brings in) made weft_lock_release() save six
 * registers and open a frame on every call, the fast path included. */
static __attribute__((noinline)) int release_slow(weft_lock_t *l)
{
    if (weft__shared(weft__lock(l)->flags_))
        return weft__lock_release_shared(l);
    WEFT_CHAOS_POINT(); /* PARKED seen; waiters may come and go */
    weft_unpark_one(&weft__lock(l)->word_, hand_over, l);
    return 0;
}

int weft_lock_release(weft_lock_t *l)
{
    WEFT_REFUSE_NULL(l);
    if (alone(l) && atomic_load_explicit(&weft__lock(l)->word_,
                                         memory_order_relaxed) == LOCK_LOCKED) {
        atomic_store_explicit(&weft__lock(l)->word_, 0, memory_order_relaxed);
        return 0;
    }
    uint32_t expected = LOCK_LOCKED;
    if (atomic_compare_exchange_strong_explicit(
            &weft__lock(l)->word_, &expected, 0, memory_order_release,
            memory_order_relaxed))
        return 0;
    if (!(expected & LOCK_LOCKED))
        return weft_fail(WEFT_ESTATE, "release unlocked lock");
    return release_slow(l);
}

int weft_lock_locked(const weft_lock_t *l)
{
    WEFT_REFUSE_NULL_OR(l, 0);
    return (atomic_load_explicit(&weft__lock(l)->word_, memory_order_relaxed) &
            LOCK_LOCKED) != 0;
}
