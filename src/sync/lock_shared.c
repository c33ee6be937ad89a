/* SPDX-License-Identifier: MIT */
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
 * holder has ended (weft__sync_holder_gone). The word names the holder by
 * its process id only, which the kernel gives to another process once the
 * holder is reaped; so the lock also keeps, in reserved_, a record of the
 * holder that no other process with its id shares (its id and a
 * discriminator: shared_linux.c). If the holder has ended, the waiter takes
 * the lock over from the very word it judged, in one compare-and-swap, so
 * that one waiter alone takes it, and returns WEFT_EOWNERDEAD holding it.
 * The data the lock guards may be half-updated: the caller decides what to
 * do about that.
 *
 * The record. reserved_ is a second word, written after the lock word, so a
 * checker can read a record that is not the holder's. The protocol makes
 * sure that a record naming the holder's process id is the holder's own:
 *   1. Before the compare-and-swap that makes it the holder (from a free
 *      word, or taking over), a process tries to swap reserved_ from the
 *      value it last read to its own record.
 *   2. Once it holds the word, it stores its own record.
 * Take a holder H with id P. A record of another process with id P is one
 * written before H existed (the id was not yet free again) or after H
 * ended. H's attempt in step 1 (made while H lives, before H took the word)
 * either wrote reserved_ or failed because someone wrote it after H's read:
 * either way the value from before H's time is gone, and nobody alive with
 * id P but H writes it later while H lives. So while H lives, reserved_ is
 * H's record or one naming another id. A checker reads the word (acquire)
 * and then reserved_: a record naming the word's id is exactly the
 * holder's, and is asked about exactly (a live holder is never taken for
 * dead); any other record says nothing, and then only the id is asked
 * (gone, or a zombie: dead; in use: taken for alive, perhaps wrongly, which
 * delays a take-over but never doubles a holder).
 * Two checkers, or a checker and a newcomer at the dead holder's id (whose
 * lock word would look the same as the holder's), may judge one word at
 * once: each must first swap reserved_ from the record it judged to its
 * own (step 1, here required to succeed), so only one goes on to swap the
 * word; a checker that comes after a completed take-over finds another
 * record and gives up.
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
    atomic_init(&weft__lock(l)->word_, SH_FREE);
    weft__lock(l)->flags_ = WEFT__SHARED;
    weft__lock(l)->reserved_ = 0;
    return 0;
}

static uint32_t own_word(void)
{
    return (weft__sync_pid() << SH_ID_SHIFT) | SH_MARK | SH_LOCKED;
}

static uint64_t read_record(const weft_lock_t *l)
{
    return __atomic_load_n(&weft__lock(l)->reserved_, __ATOMIC_ACQUIRE);
}

/* Step 1 of the record's protocol: swap reserved_ from seen (the value
 * last read) to this process's record; 1 if it was swapped. */
static int claim_record(weft_lock_t *l, uint64_t seen)
{
    return __atomic_compare_exchange_n(&weft__lock(l)->reserved_, &seen,
                                       weft__sync_record(), 0, __ATOMIC_RELEASE,
                                       __ATOMIC_RELAXED);
}

/* Step 2: say who holds l now. */
static void record_holder(weft_lock_t *l)
{
    __atomic_store_n(&weft__lock(l)->reserved_, weft__sync_record(),
                     __ATOMIC_RELEASE);
}

/* Take the lock if it is free; 1 if taken. *w is the word seen, record
 * the record last read. */
static int take_free(weft_lock_t *l, uint32_t *w, uint64_t record,
                     uint32_t extra)
{
    while (!(*w & SH_LOCKED)) {
        claim_record(l, record);
        /* Acquire: pairs with the release in weft__lock_release_shared().
         * Release: a checker that sees this word sees the claim too. */
        if (atomic_compare_exchange_weak_explicit(
                &weft__lock(l)->word_, w, own_word() | extra | (*w & SH_PARKED),
                memory_order_acq_rel, memory_order_relaxed)) {
            record_holder(l);
            return 1;
        }
        record = read_record(l);
    }
    return 0;
}

/* The holder that word w names has ended: take the lock over from it, if
 * the word still holds w and no one else is taking it over. */
static int take_from_dead(weft_lock_t *l, uint32_t w)
{
    /* The record must be read after a word read with acquire (see "The
     * record"). */
    if (atomic_load_explicit(&weft__lock(l)->word_, memory_order_acquire) != w)
        return 0;
    uint64_t record = read_record(l);
    if (!weft__sync_holder_gone(w >> SH_ID_SHIFT, record))
        return 0;
    WEFT_CHAOS_POINT(); /* judged dead; the word may move on */
    if (!claim_record(l, record))
        return 0; /* someone else is taking it over, or took it */
    if (!atomic_compare_exchange_strong_explicit(
            &weft__lock(l)->word_, &w, own_word() | SH_PARKED,
            memory_order_acq_rel, memory_order_relaxed))
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
    if (!atomic_compare_exchange_strong_explicit(&weft__lock(l)->word_, w, want,
                                                 memory_order_relaxed,
                                                 memory_order_relaxed))
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
    int rc = weft_park_wait_shared(&weft__lock(l)->word_, w, slice);
    if (rc == WEFT_ETIMEDOUT && slice < deadline)
        return WEFT_EAGAIN; /* a slice ended: time to check the holder */
    return rc;
}

int weft__lock_acquire_shared(weft_lock_t *l, int64_t deadline, int try_only)
{
    uint32_t extra = 0;
    for (unsigned spins = 0;; spins++) {
        uint64_t record = read_record(l);
        /* Acquire: a holder's claim of reserved_ is seen with its word. */
        uint32_t w =
            atomic_load_explicit(&weft__lock(l)->word_, memory_order_acquire);
        if (take_free(l, &w, record, extra))
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
    uint32_t w =
        atomic_load_explicit(&weft__lock(l)->word_, memory_order_relaxed);
    do {
        if (!(w & SH_LOCKED))
            return weft_fail(WEFT_ESTATE, "release unlocked lock");
        /* Release: pairs with the acquire in take_free(). */
    } while (!atomic_compare_exchange_weak_explicit(
        &weft__lock(l)->word_, &w, SH_FREE, memory_order_release,
        memory_order_relaxed));
    WEFT_CHAOS_POINT(); /* released, sleepers not yet woken */
    if (w & SH_PARKED)
        weft_park_wake_shared(&weft__lock(l)->word_, 1);
    return 0;
}
