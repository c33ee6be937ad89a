/* SPDX-License-Identifier: MIT */
/** weft/sync.h: Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event
 * and Barrier, the primitives of Python's `threading` module.
 *
 * Each one is a small struct of words with no pointers in it, set up on the
 * caller's storage with _init and torn down with _destroy, so that it can
 * live on the stack, inside another struct, or in memory shared between
 * processes (the shm layer places them there). Heap handles (_new/_free) are
 * there for those who prefer them. The fields are private: their layout may
 * change between versions, their size will not.
 *
 * Every wait goes through park, so the same calls work from OS threads and,
 * with the coro layer, from coroutines (which then suspend alone), and every
 * one of them returns WEFT_ECANCELLED inside a cancelled scope.
 *
 * Between processes (multiprocessing.Lock and friends): set a primitive up
 * with its _init_shared variant on storage in memory that the processes
 * share (the shm layer's SharedMemory, Value or Array, or any MAP_SHARED
 * mapping), and the same calls work across processes: same type, same
 * functions. A shared primitive waits on the kernel's futex of its word
 * (weft_park_wait_shared), so only OS threads wait on it, and a wait inside
 * a cancel scope notices the cancel within 20 ms. Beyond Python, a shared
 * Lock or RLock whose holder's process dies is not held forever: the next
 * acquirer takes it over and gets WEFT_EOWNERDEAD (within 50 ms of the
 * death; see weft_lock_acquire). A holder is known by more than its process
 * id, so a process that later gets a dead holder's id is neither taken for
 * the holder nor made an owner of its RLock (on kernels before Linux 6.9,
 * which lack pidfs, one that started within the clock tick in which the
 * holder started passes for alive: the take-over then waits for it to end,
 * and two holders never result). The processes must share one pid
 * namespace. Set up a shared primitive once, in one process; the storage
 * must stay mapped at the same offsets in every process that uses it. The
 * in-process variants cost nothing for this.
 *
 * Timeouts are double seconds: WEFT_FOREVER blocks, 0 tries without waiting
 * (Python's blocking=False), and a timeout that passes returns
 * WEFT_ETIMEDOUT. NaN or a negative timeout other than WEFT_FOREVER is
 * WEFT_EINVAL, checked first: such a call changes nothing, even where it
 * could have succeeded at once (a free lock, a set flag, a held RLock).
 *
 * Defaults for this layer: thread-safe; non-blocking unless marked; a failed
 * call changes nothing (no lock held, no count taken); user callbacks (the
 * Barrier's action, wait_for's predicate) never run under an internal lock
 * of weft's.
 *
 * Global state: for the shared variants, the calling process's id, the
 * record that names it as a holder and a random number that tells its
 * contexts from other processes' (drawn on first use; a child made by
 * fork() draws its own).
 * \file */
#ifndef WEFT_SYNC_H
#define WEFT_SYNC_H

#ifndef __cplusplus
#include <stdatomic.h> /* C callers have long had it from here */
#endif
#include <stdint.h>

#include "weft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----- Lock (threading.Lock) ----- */

/** A mutual exclusion lock. Any thread may release it (as in Python), and
 * it is not re-entrant: acquiring it twice from one thread waits forever or
 * until the timeout. Eventually fair: a waiter that has waited long gets the
 * lock handed over rather than racing for it. 16 bytes. */
typedef struct weft_lock {
    union {
        unsigned char bytes[16];
        uint64_t align;
    } opaque_;
} weft_lock_t;

/** A lock set up at compile time, as weft_lock_init() would (C and C++). */
#define WEFT_LOCK_INIT {{{0}}}

/** Set up / tear down l on the caller's storage. _destroy of a held lock is
 * WEFT_ESTATE (and leaves it as it is). */
WEFT_API int weft_lock_init(weft_lock_t *l);
WEFT_API int weft_lock_destroy(weft_lock_t *l);

/** Set up l in memory shared between processes (multiprocessing.Lock).
 * The lock records which process holds it, so that a holder's death is
 * noticed. Errors: WEFT_EINVAL (NULL l). */
WEFT_API int weft_lock_init_shared(weft_lock_t *l);

/** A lock on the heap. Errors: WEFT_ENOMEM, WEFT_EINVAL (NULL out). */
WEFT_API int weft_lock_new(weft_lock_t **out);
WEFT_API void weft_lock_free(weft_lock_t *l);

/** Acquire l, waiting up to timeout seconds.
 * Blocks: yes, unless timeout is 0.
 * Returns: 0, or for a shared lock WEFT_EOWNERDEAD: the process that held
 *   l died without releasing it, and the caller now holds l (this is the
 *   one failure code after which something changed: the lock is taken;
 *   what it guards may be half-updated). The holder's liveness is checked
 *   while waiting, every 50 ms, and on a try with timeout 0.
 * Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL (bad timeout). */
WEFT_API int weft_lock_acquire(weft_lock_t *l, double timeout);

/** Acquire l without timeout and whatever the caller's cancel scopes say:
 * for a layer's own short critical sections, which are not waits a caller
 * may cancel. Blocks: yes, briefly. Cannot fail (a shared lock whose
 * holder died is taken over, as weft_lock_acquire does). */
WEFT_API void weft_lock_acquire_shielded(weft_lock_t *l);

/** Release l. Errors: WEFT_ESTATE when l is not held ("release unlocked
 * lock"). */
WEFT_API int weft_lock_release(weft_lock_t *l);

/** Nonzero while l is held by someone. */
WEFT_API int weft_lock_locked(const weft_lock_t *l);

/* ----- RLock (threading.RLock) ----- */

/** A re-entrant lock: the context (thread or coroutine) that holds it may
 * acquire it again, and must release it as many times. 32 bytes. */
typedef struct weft_rlock {
    union {
        unsigned char bytes[32];
        uint64_t align;
    } opaque_;
} weft_rlock_t;

/** Set up / tear down r on the caller's storage. _destroy of a held lock is
 * WEFT_ESTATE. */
WEFT_API int weft_rlock_init(weft_rlock_t *r);
WEFT_API int weft_rlock_destroy(weft_rlock_t *r);

/** Set up r in memory shared between processes (multiprocessing.RLock): the
 * owner is a context of a process, and a dead owner's RLock is taken over
 * as a Lock's is (the acquirer then holds it once). */
WEFT_API int weft_rlock_init_shared(weft_rlock_t *r);
WEFT_API int weft_rlock_new(weft_rlock_t **out);
WEFT_API void weft_rlock_free(weft_rlock_t *r);

/** Acquire r; at once if the caller holds it already (the count goes up).
 * Blocks: yes, unless timeout is 0 or the caller holds r.
 * Returns: 0, or WEFT_EOWNERDEAD for a shared RLock whose owner's process
 *   died: the caller now holds r, once (see weft_lock_acquire).
 * Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL, WEFT_ESTATE (the
 * count would overflow). */
WEFT_API int weft_rlock_acquire(weft_rlock_t *r, double timeout);

/** Release one level of r. Errors: WEFT_EPERM when the caller does not hold
 * r ("cannot release un-acquired lock"). */
WEFT_API int weft_rlock_release(weft_rlock_t *r);

/** Nonzero when the calling context holds r. */
WEFT_API int weft_rlock_is_owned(const weft_rlock_t *r);

/** How many times the calling context holds r (0 if it does not). */
WEFT_API unsigned weft_rlock_count(const weft_rlock_t *r);

/* ----- Condition (threading.Condition) ----- */

/** A condition variable over a lock: its own re-entrant lock, as Python's
 * Condition() makes when given none, or a Lock or RLock of the caller's
 * (Condition(lock)), which several conditions may share. 64 bytes. */
typedef struct weft_condition {
    union {
        unsigned char bytes[64];
        uint64_t align;
    } opaque_;
} weft_condition_t;

/** Set up / tear down c on the caller's storage, with an RLock of its own
 * (Python's default). */
WEFT_API int weft_condition_init(weft_condition_t *c);
WEFT_API int weft_condition_destroy(weft_condition_t *c);

/** Set up c, and its RLock, in memory shared between processes
 * (multiprocessing.Condition). A notify(n) of a shared condition may wake
 * more than n waiters; loop on the predicate (weft_condition_wait_for). */
WEFT_API int weft_condition_init_shared(weft_condition_t *c);
WEFT_API int weft_condition_new(weft_condition_t **out);
WEFT_API void weft_condition_free(weft_condition_t *c);

/** Set up c over the caller's Lock l or RLock r (Condition(lock)); any
 * number of conditions may share one lock, and the lock stays usable on its
 * own. c's acquire and release are the lock's; a wait releases it (an RLock
 * with all its levels, taken back as many) and takes it back. "Held", for
 * wait and notify, is Python's: an RLock held by the calling context, a
 * Lock held by anyone.
 * c records where the lock lies relative to itself, not a pointer: the lock
 * must stay where it is for as long as c is used, and c must not be copied.
 * If the lock was set up with _init_shared, c is a shared condition
 * (multiprocessing.Condition(lock)): it then works across processes when c
 * and the lock lie in the same shared mapping (the offset between them is
 * then the same in every process), and not otherwise.
 * Ownership: the lock is borrowed; _destroy of c leaves it alone.
 * Errors: WEFT_EINVAL (NULL c or lock). */
WEFT_API int weft_condition_init_with_lock(weft_condition_t *c,
                                           weft_lock_t *l);
WEFT_API int weft_condition_init_with_rlock(weft_condition_t *c,
                                            weft_rlock_t *r);

#ifndef __cplusplus
/** Either of the two, chosen by the type of lock (C only: _Generic; C++
 * calls the one it means). */
#define weft_condition_init_with(c, lock)                                      \
    _Generic((lock),                                                           \
        weft_lock_t *: weft_condition_init_with_lock,                          \
        weft_rlock_t *: weft_condition_init_with_rlock)((c), (lock))
#endif

/** The condition's lock: as weft_rlock_acquire()/release() on it, or
 * weft_lock_acquire()/release() for a caller's Lock. */
WEFT_API int weft_condition_acquire(weft_condition_t *c, double timeout);
WEFT_API int weft_condition_release(weft_condition_t *c);

/** Release the lock (an RLock with all its levels), wait until notified or
 * timeout seconds pass, and take the lock back (as many levels) before
 * returning, whatever the outcome. Returns 0 only for a notify made after
 * the wait began. Blocks: yes.
 * Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL, WEFT_EPERM (the
 * caller does not hold the lock: "cannot wait on un-acquired lock"),
 * WEFT_EOWNERDEAD (shared: a process died holding the lock while the caller
 * waited; the caller holds it again). */
WEFT_API int weft_condition_wait(weft_condition_t *c, double timeout);

/** Wait until predicate(arg) is nonzero, checking it first and after each
 * wake-up, at most timeout seconds in all (Condition.wait_for). The
 * predicate runs with the condition's lock held (the caller's, not an
 * internal one). Returns 0 once it holds. Blocks: yes.
 * Errors: WEFT_ETIMEDOUT (it still does not hold), WEFT_ECANCELLED,
 * WEFT_EINVAL, WEFT_EPERM. */
WEFT_API int weft_condition_wait_for(weft_condition_t *c,
                                     int (*predicate)(void *arg), void *arg,
                                     double timeout);

/** Wake the n longest-waiting waiters (notify; fewer if fewer wait), or all
 * of them (notify_all); n == 0 wakes none. The caller must hold the lock.
 * Errors: WEFT_EPERM ("cannot notify on un-acquired lock"). */
WEFT_API int weft_condition_notify(weft_condition_t *c, unsigned n);
WEFT_API int weft_condition_notify_all(weft_condition_t *c);

/* ----- Semaphore and BoundedSemaphore (threading) ----- */

/** A counter that acquire takes from and release gives to. A bounded
 * semaphore refuses to be released above its initial value. 16 bytes. */
typedef struct weft_semaphore {
    union {
        unsigned char bytes[16];
        uint64_t align;
    } opaque_;
} weft_semaphore_t;

/** Set up with value (Semaphore(value)), or bounded at value
 * (BoundedSemaphore(value)); the _shared variants in memory shared between
 * processes. Errors: WEFT_EINVAL (value > UINT32_MAX - 1). */
WEFT_API int weft_semaphore_init(weft_semaphore_t *s, unsigned value);
WEFT_API int weft_bounded_semaphore_init(weft_semaphore_t *s, unsigned value);
WEFT_API int weft_semaphore_init_shared(weft_semaphore_t *s, unsigned value);
WEFT_API int weft_bounded_semaphore_init_shared(weft_semaphore_t *s,
                                                unsigned value);
WEFT_API int weft_semaphore_destroy(weft_semaphore_t *s);
WEFT_API int weft_semaphore_new(weft_semaphore_t **out, unsigned value);
WEFT_API int weft_bounded_semaphore_new(weft_semaphore_t **out,
                                        unsigned value);
WEFT_API void weft_semaphore_free(weft_semaphore_t *s);

/** Take one from the counter, waiting up to timeout seconds for it to be
 * positive. Blocks: yes, unless timeout is 0.
 * Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL. */
WEFT_API int weft_semaphore_acquire(weft_semaphore_t *s, double timeout);

/** Add n (>= 1) to the counter, waking up to n waiters.
 * Errors: WEFT_EINVAL (n == 0, the counter would overflow, or a bounded
 * semaphore would pass its bound: "Semaphore released too many times"). */
WEFT_API int weft_semaphore_release(weft_semaphore_t *s, unsigned n);

/** The counter now (a snapshot). */
WEFT_API unsigned weft_semaphore_value(const weft_semaphore_t *s);

/* ----- Event (threading.Event) ----- */

/** A flag that threads wait to see set. 16 bytes. */
typedef struct weft_event {
    union {
        unsigned char bytes[16];
        uint64_t align;
    } opaque_;
} weft_event_t;

/** Set up / tear down e on the caller's storage, cleared. */
WEFT_API int weft_event_init(weft_event_t *e);
WEFT_API int weft_event_destroy(weft_event_t *e);

/** Set up e in memory shared between processes (multiprocessing.Event). */
WEFT_API int weft_event_init_shared(weft_event_t *e);
WEFT_API int weft_event_new(weft_event_t **out);
WEFT_API void weft_event_free(weft_event_t *e);

/** Set the flag and wake every waiter; clear it. */
WEFT_API void weft_event_set(weft_event_t *e);
WEFT_API void weft_event_clear(weft_event_t *e);
WEFT_API int weft_event_is_set(const weft_event_t *e);

/** Return 0 once the flag is set (at once if it is), waiting up to timeout
 * seconds. A waiter woken by set() returns 0 even if the flag was cleared
 * again before it ran, as in Python; a wait returns 0 only for the flag set
 * at entry or a set() made after it began, never for an earlier set().
 * Blocks: yes, unless timeout is 0.
 * Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL. */
WEFT_API int weft_event_wait(weft_event_t *e, double timeout);

/* ----- Barrier (threading.Barrier) ----- */

/** parties threads wait until all have arrived, then go on together; the last
 * to arrive runs the action first. A barrier breaks when a wait times out,
 * the action fails, or abort() is called: every waiter, and every later
 * wait until reset(), then gets WEFT_EBROKEN. 64 bytes.
 *
 * The action is a code pointer: a barrier in shared memory should have none
 * unless every process runs the same executable image at the same address
 * (children made by fork()). */
typedef struct weft_barrier {
    union {
        unsigned char bytes[64];
        uint64_t align;
    } opaque_;
} weft_barrier_t;

/** Set up for parties (>= 1) threads. action(arg), if not NULL, runs in the
 * last thread to arrive, before the others are released; a nonzero return
 * breaks the barrier. timeout is the default for waits (WEFT_FOREVER: none).
 * Errors: WEFT_EINVAL (parties == 0, bad timeout). */
WEFT_API int weft_barrier_init(weft_barrier_t *b, unsigned parties,
                               int (*action)(void *arg), void *arg,
                               double timeout);
WEFT_API int weft_barrier_destroy(weft_barrier_t *b);

/** The same in memory shared between processes (multiprocessing.Barrier).
 * action runs in whichever process arrives last: pass NULL unless every
 * process was made by fork() from the one that set b up. */
WEFT_API int weft_barrier_init_shared(weft_barrier_t *b, unsigned parties,
                                      int (*action)(void *arg), void *arg,
                                      double timeout);
WEFT_API int weft_barrier_new(weft_barrier_t **out, unsigned parties,
                              int (*action)(void *arg), void *arg,
                              double timeout);
WEFT_API void weft_barrier_free(weft_barrier_t *b);

/** Wait for all parties, up to the barrier's default timeout (_wait) or the
 * given one (_wait_timeout). *index (if not NULL) receives a number from 0
 * to parties - 1, different for each thread released together.
 * Blocks: yes.
 * Errors: WEFT_EBROKEN (broken, reset while waiting, timed out, or the
 * action failed: the thread whose action failed gets the action's own code
 * instead), WEFT_ECANCELLED (the barrier breaks for the others too),
 * WEFT_EINVAL. */
WEFT_API int weft_barrier_wait(weft_barrier_t *b, unsigned *index);
WEFT_API int weft_barrier_wait_timeout(weft_barrier_t *b, double timeout,
                                       unsigned *index);

/** Back to the initial state; threads waiting now get WEFT_EBROKEN. */
WEFT_API void weft_barrier_reset(weft_barrier_t *b);

/** Break the barrier: waiting and later waits get WEFT_EBROKEN. */
WEFT_API void weft_barrier_abort(weft_barrier_t *b);

/** Barrier.parties, n_waiting and broken. */
WEFT_API unsigned weft_barrier_parties(weft_barrier_t *b);
WEFT_API unsigned weft_barrier_n_waiting(weft_barrier_t *b);
WEFT_API int weft_barrier_broken(weft_barrier_t *b);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_SYNC_H */
