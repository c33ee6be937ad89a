/* Lock placed in memory shared between processes (weft_lock_init_shared).
 *
 * The word. Bit 0 is LOCKED, as in the in-process lock (so locked() and
 * destroy() read it the same way); bit 1 is PARKED: someone may sleep in the
 * kernel on this word; bit 2 is always set, so the word is never 0 and the
 * in-process fast path (a compare-and-swap of 0 to LOCKED) fails on it and
 * sends the call here; bits 3 and up hold the id of the process that holds
 * the lock (Linux ids fit in 22 bits). Taking the lock writes the holder's
 * id in the same compare-and-swap that sets LOCKED, so there is no moment at
 * which the lock is held by no one known.
 *
 * Waiting is Drepper's futex mutex ("Futexes Are Tricky", mutex 3) on the
 * shared futex: a waiter sets PARKED and sleeps while the word holds what it
 * saw; release swaps in the free word and wakes one sleeper if PARKED was
 * set. A waiter that slept takes the lock with PARKED set, since others may
 * still sleep; so PARKED is set whenever a sleeper might need waking, and no
 * wake-up is lost.
 *
 * A dead holder. Sleeping is cut into slices of OWNER_CHECK_NS; after each
 * slice in which the word did not change, the waiter asks whether the
 * holder's process has ended (weft__sync_holder_gone: its pidfd is readable,
 * or another process now has its id). For the second question the holder
 * records its incarnation (id and start time) in reserved_ just after
 * taking the lock.
 * If it has, the waiter swaps the dead holder's word for its own, in one
 * compare-and-swap from exactly the word it saw, so one waiter alone takes
 * the lock over, and returns WEFT_EOWNERDEAD holding it. The data the lock
 * guards may be half-updated: the caller decides what to do about that.
 * This is the owner-id check rather than the kernel's robust futex list:
 * a robust list has one head per thread, which glibc already owns for its
 * robust mutexes, and its entries must sit at a fixed offset from the word
 * that a 16-byte lock cannot provide. The price is that a dead holder is
 * noticed within a slice rather than at once.
 *
 * As Python's Lock, any process may release the lock, not only its holder.
 */
#include "sync_int.h"

#include <sched.h>

#define SH_LOCKED 1u
#define SH_PARKED 2u
#define SH_MARK 4u
#define SH_ID_SHIFT 3
#define SH_FREE SH_MARK
#define OWNER_CHECK_NS 50000000 /* 50 ms */
#define SPINS 16

_Static_assert(sizeof(weft_lock_t) == 16, "weft_lock_t is 16 bytes");

int weft_lock_init_shared(weft_lock_t *l)
{
    if (l == NULL)
        return weft_fail(WEFT_EINVAL, "weft_lock_init_shared: NULL lock");
    atomic_init(&l->word_, SH_FREE);
    l->flags_ = WEFT__SHARED;
    l->reserved_ = 0;
    return 0;
}

static uint32_t own_word(void)
{
    return (weft__sync_pid() << SH_ID_SHIFT) | SH_MARK | SH_LOCKED;
}

/* Say who holds l now, for waiters checking on a holder that seems dead. */
static void record_holder(weft_lock_t *l)
{
    __atomic_store_n(&l->reserved_, weft__sync_incarnation(),
                     __ATOMIC_RELEASE);
}

/* Take the lock if it is free; 1 if taken. *w is the word seen. */
static int take_free(weft_lock_t *l, uint32_t *w, uint32_t extra)
{
    while (!(*w & SH_LOCKED)) {
        /* Acquire: pairs with the release in weft__lock_release_shared(). */
        if (atomic_compare_exchange_weak_explicit(
                &l->word_, w, own_word() | extra | (*w & SH_PARKED),
                memory_order_acquire, memory_order_relaxed)) {
            record_holder(l);
            return 1;
        }
    }
    return 0;
}

/* The holder recorded in w has ended: take the lock over from it, if the
 * word still holds w. */
static int take_from_dead(weft_lock_t *l, uint32_t w)
{
    uint64_t tag = __atomic_load_n(&l->reserved_, __ATOMIC_ACQUIRE);
    if (!weft__sync_holder_gone(w >> SH_ID_SHIFT, tag))
        return 0;
    WEFT_CHAOS_POINT(); /* judged dead; the word may move on */
    if (!atomic_compare_exchange_strong_explicit(
            &l->word_, &w, own_word() | SH_PARKED, memory_order_acquire,
            memory_order_relaxed))
        return 0;
    record_holder(l);
    return 1;
}

static int owner_dead(void)
{
    return weft_fail(WEFT_EOWNERDEAD,
                     "the process holding the lock died: the lock is now "
                     "held by the caller");
}

/* Spin briefly while the holder runs: a futex sleep costs two system calls
 * and a wake-up. Yields after a while so a holder on the same core runs.
 * Kept short (SPINS): processes sharing a lock often outnumber the CPUs,
 * and then a long spin only burns the time the holder needs (four
 * processes on two cores moved items through a process queue 1.5 times
 * faster with 16 rounds than with 64). */
static void spin(unsigned i)
{
    if (i < SPINS / 2) {
        for (unsigned k = 0; k < (1u << (i < 8 ? i : 8)); k++)
            atomic_signal_fence(memory_order_seq_cst);
    } else {
        sched_yield();
    }
}

/* Make sure PARKED is set in the word we are about to sleep on; 0 if the
 * word changed meanwhile (look again). */
static int mark_parked(weft_lock_t *l, uint32_t *w)
{
    if (*w & SH_PARKED)
        return 1;
    uint32_t want = *w | SH_PARKED;
    if (!atomic_compare_exchange_strong_explicit(
            &l->word_, w, want, memory_order_relaxed, memory_order_relaxed))
        return 0;
    *w = want;
    return 1;
}

static int sleep_slice(weft_lock_t *l, uint32_t w, int64_t deadline)
{
    int64_t now = weft_monotonic_ns();
    if (now >= deadline)
        return WEFT_ETIMEDOUT;
    int64_t slice =
        deadline - now > OWNER_CHECK_NS ? now + OWNER_CHECK_NS : deadline;
    int rc = weft_park_wait_shared(&l->word_, w, slice);
    if (rc == WEFT_ETIMEDOUT && slice < deadline)
        return WEFT_EAGAIN; /* a slice ended: time to check the holder */
    return rc;
}

int weft__lock_acquire_shared(weft_lock_t *l, int64_t deadline, int try_only)
{
    uint32_t extra = 0;
    for (unsigned spins = 0;; spins++) {
        uint32_t w = atomic_load_explicit(&l->word_, memory_order_relaxed);
        if (take_free(l, &w, extra))
            return 0;
        if (try_only)
            return take_from_dead(l, w)
                       ? owner_dead()
                       : weft_fail(WEFT_ETIMEDOUT, "lock is held");
        if (spins < SPINS && !(w & SH_PARKED)) {
            spin(spins);
            continue;
        }
        if (!mark_parked(l, &w))
            continue;
        WEFT_CHAOS_POINT(); /* PARKED is up, not yet asleep */
        int rc = sleep_slice(l, w, deadline);
        if (rc == WEFT_EAGAIN && take_from_dead(l, w))
            return owner_dead();
        if (rc == WEFT_ETIMEDOUT)
            return weft_fail(rc, "lock acquire timed out");
        if (rc == WEFT_ECANCELLED)
            return weft_fail(rc, "lock acquire cancelled");
        extra = SH_PARKED;
    }
}

int weft__lock_release_shared(weft_lock_t *l)
{
    uint32_t w = atomic_load_explicit(&l->word_, memory_order_relaxed);
    do {
        if (!(w & SH_LOCKED))
            return weft_fail(WEFT_ESTATE, "release unlocked lock");
        /* Release: pairs with the acquire in take_free(). */
    } while (!atomic_compare_exchange_weak_explicit(
        &l->word_, &w, SH_FREE, memory_order_release, memory_order_relaxed));
    WEFT_CHAOS_POINT(); /* released, sleepers not yet woken */
    if (w & SH_PARKED)
        weft_park_wake_shared(&l->word_, 1);
    return 0;
}
