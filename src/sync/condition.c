/* SPDX-License-Identifier: MIT */
/* Condition: threading.Condition, over its own RLock or a caller's Lock or
 * RLock (Condition(lock)), which several conditions may share.
 *
 * The lock. A condition made by weft_condition_init uses the RLock inside
 * it; one made with weft_condition_init_with_lock/_rlock records where the
 * caller's lock lies as an offset from the condition itself, not as a
 * pointer, so that a condition and its lock placed together in one shared
 * mapping work in every process that maps it, wherever it lands. "Held"
 * means what Python's _is_owned() means: an RLock is held by the calling
 * context; a Lock is held when it is locked, by anyone. A wait releases an
 * RLock fully (all its levels) and restores them after, Python's
 * _release_save and _acquire_restore; a Lock is released once.
 *
 * In a process, waiters park on seq_'s address. A waiter is queued before
 * it releases the lock (park's before_sleep), and notify requires the lock,
 * so a notify always sees every waiter that came before it, and wakes the
 * oldest n of them: Python's guarantee. Which notify justifies a wake: the
 * one whose unpark chose this waiter under park's bucket lock; a waiter
 * whose timeout races with it either left the queue first (and returns
 * WEFT_ETIMEDOUT, the notify going to the next waiter) or was chosen (and
 * returns 0), never both and never neither, so no notify is lost. notify
 * bumps seq_ too; here that only counts notifies.
 *
 * Shared (a shared lock: weft_condition_init_shared, or a caller's lock set
 * up with _init_shared): a waiter reads seq_ while it holds the lock,
 * releases the lock, and sleeps on the kernel's futex of seq_ until seq_
 * moves. A notify, which needs the lock, comes after that read, so it
 * either moves seq_ before the waiter sleeps (the futex wait then returns
 * at once) or finds it asleep: no notify is missed. The futex also returns
 * for signals and stray wake-ups: a waiter returns 0 only once seq_ moved,
 * that is, after a notify. Waiters that were between the two steps all
 * return, so a notify(n) may wake more than n of them: callers loop on
 * their predicate, as wait_for() does. */
#include "base/check.h"
#include "sync_int.h"

WEFT__SYNC_FITS(condition, 64);

_Static_assert(sizeof(weft_condition_t) == 64, "weft_condition_t is 64 bytes");

/* Whose lock a condition waits under (kind_). */
enum { OWN_RLOCK = 0, CALLERS_LOCK = 1, CALLERS_RLOCK = 2 };

static void *callers(const weft_condition_t *c)
{
    return (void *)((uintptr_t)c + (uintptr_t)weft__condition(c)->lock_at_);
}

/* The RLock c waits under, or NULL when it is a caller's Lock. */
static weft_rlock_t *rlock_of(weft_condition_t *c)
{
    if (weft__condition(c)->kind_ == CALLERS_LOCK)
        return NULL;
    return weft__condition(c)->kind_ == CALLERS_RLOCK
               ? callers(c)
               : &weft__condition(c)->rlock_;
}

/* The Lock underneath: the one a wait releases and takes back. */
static weft_lock_t *lock_of(weft_condition_t *c)
{
    weft_rlock_t *r = rlock_of(c);
    return r ? &weft__rlock(r)->lock_ : callers(c);
}

/* Python's _is_owned(). */
static int held(weft_condition_t *c)
{
    weft_rlock_t *r = rlock_of(c);
    return r ? weft_rlock_is_owned(r) : weft_lock_locked(lock_of(c));
}

static void setup(weft_condition_t *c, uint32_t kind, const void *lock)
{
    atomic_init(&weft__condition(c)->seq_, 0);
    weft__condition(c)->kind_ = kind;
    weft__condition(c)->lock_at_ =
        lock ? (int64_t)((uintptr_t)lock - (uintptr_t)c) : 0;
    for (int i = 0; i < 4; i++)
        weft__condition(c)->reserved_[i] = 0;
}

int weft_condition_init(weft_condition_t *c)
{
    if (c == NULL)
        return weft_fail(WEFT_EINVAL, "weft_condition_init: NULL condition");
    weft_rlock_init(&weft__condition(c)->rlock_);
    setup(c, OWN_RLOCK, NULL);
    return 0;
}

int weft_condition_init_shared(weft_condition_t *c)
{
    int rc = weft_condition_init(c);
    return rc ? rc : weft_rlock_init_shared(&weft__condition(c)->rlock_);
}

int weft_condition_init_with_lock(weft_condition_t *c, weft_lock_t *l)
{
    if (c == NULL || l == NULL)
        return weft_fail(WEFT_EINVAL, "weft_condition_init_with_lock: %s",
                         c ? "NULL lock" : "NULL condition");
    weft_rlock_init(
        &weft__condition(c)->rlock_); /* unused, but set up all the same */
    setup(c, CALLERS_LOCK, l);
    return 0;
}

int weft_condition_init_with_rlock(weft_condition_t *c, weft_rlock_t *r)
{
    if (c == NULL || r == NULL)
        return weft_fail(WEFT_EINVAL, "weft_condition_init_with_rlock: %s",
                         c ? "NULL lock" : "NULL condition");
    weft_rlock_init(&weft__condition(c)->rlock_);
    setup(c, CALLERS_RLOCK, r);
    return 0;
}

int weft_condition_destroy(weft_condition_t *c)
{
    if (c == NULL)
        return weft_fail(WEFT_EINVAL, "weft_condition_destroy: NULL");
    /* A caller's lock stays the caller's. */
    return weft__condition(c)->kind_ == OWN_RLOCK
               ? weft_rlock_destroy(&weft__condition(c)->rlock_)
               : 0;
}

WEFT_HEAP_PRIMITIVE(weft_condition_t, condition)

int weft_condition_acquire(weft_condition_t *c, double timeout)
{
    WEFT_REFUSE_NULL(c);
    weft_rlock_t *r = rlock_of(c);
    return r ? weft_rlock_acquire(r, timeout)
             : weft_lock_acquire(lock_of(c), timeout);
}

int weft_condition_release(weft_condition_t *c)
{
    WEFT_REFUSE_NULL(c);
    weft_rlock_t *r = rlock_of(c);
    return r ? weft_rlock_release(r) : weft_lock_release(lock_of(c));
}

/* The shared wait: read seq_ under the lock l, release l, sleep on seq_
 * until it moves, take l back. Returns 0 (notified), WEFT_ETIMEDOUT,
 * WEFT_ECANCELLED, or WEFT_EOWNERDEAD when taking l back found its holder
 * dead. */
static int wait_shared(weft_condition_t *c, weft_lock_t *l, int64_t deadline)
{
    uint32_t seq =
        atomic_load_explicit(&weft__condition(c)->seq_, memory_order_relaxed);
    weft_lock_release(l);
    WEFT_CHAOS_POINT(); /* released, not yet asleep: a notify may come */
    int rc;
    do {
        /* The futex returns early for a signal or a stray wake-up too;
         * only a moved seq_ says that a notify came. */
        rc = weft_park_wait_shared(&weft__condition(c)->seq_, seq, deadline);
    } while (rc == 0 && atomic_load_explicit(&weft__condition(c)->seq_,
                                             memory_order_relaxed) == seq);
    if (atomic_load_explicit(&weft__condition(c)->seq_, memory_order_relaxed) !=
        seq)
        rc = 0; /* notified, if at the last moment */
    int taken = weft__lock_reacquire(l);
    return taken == WEFT_EOWNERDEAD ? taken : rc;
}

/* Release the lock around a wait and take it back after; an RLock with all
 * its levels, restored after: Python's _release_save and _acquire_restore. */
static int wait_until(weft_condition_t *c, int64_t deadline)
{
    weft_rlock_t *r = rlock_of(c);
    weft_lock_t *l = lock_of(c);
    uint32_t count = 0;
    uint64_t owner = 0;
    if (r) {
        count = weft__rlock(r)->count_;
        owner =
            atomic_load_explicit(&weft__rlock(r)->owner_, memory_order_relaxed);
        weft__rlock(r)->count_ = 0;
        atomic_store_explicit(&weft__rlock(r)->owner_, 0, memory_order_relaxed);
    }
    int rc = weft__shared(weft__lock(l)->flags_)
                 ? wait_shared(c, l, deadline)
                 : weft__wait_releasing(&weft__condition(c)->seq_, l, NULL,
                                        NULL, deadline);
    if (r) {
        atomic_store_explicit(&weft__rlock(r)->owner_, owner,
                              memory_order_relaxed);
        weft__rlock(r)->count_ = count;
    }
    if (rc == WEFT_EOWNERDEAD)
        return weft_fail(rc, "a process died holding the condition's lock: "
                             "the lock is held by the caller again");
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(WEFT_ETIMEDOUT, "condition wait timed out");
    if (rc == WEFT_ECANCELLED)
        return weft_fail(WEFT_ECANCELLED, "condition wait cancelled");
    return 0;
}

int weft_condition_wait(weft_condition_t *c, double timeout)
{
    WEFT_REFUSE_NULL(c);
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    if (!held(c))
        return weft_fail(WEFT_EPERM, "cannot wait on un-acquired lock");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    return rc ? rc : wait_until(c, deadline);
}

int weft_condition_wait_for(weft_condition_t *c, int (*predicate)(void *arg),
                            void *arg, double timeout)
{
    WEFT_REFUSE_NULL(c);
    if (predicate == NULL)
        return weft_fail(WEFT_EINVAL, "wait_for: NULL predicate");
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    if (!held(c))
        return weft_fail(WEFT_EPERM, "cannot wait on un-acquired lock");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    while (!predicate(arg)) {
        if (deadline != WEFT_NEVER && weft_monotonic_ns() >= deadline)
            return weft_fail(WEFT_ETIMEDOUT, "wait_for: predicate still false");
        rc = wait_until(c, deadline);
        if (rc == WEFT_ECANCELLED || rc == WEFT_EOWNERDEAD)
            return rc;
    }
    return 0;
}

int weft_condition_notify(weft_condition_t *c, unsigned n)
{
    WEFT_REFUSE_NULL(c);
    if (!held(c))
        return weft_fail(WEFT_EPERM, "cannot notify on un-acquired lock");
    if (n == 0)
        return 0;
    atomic_fetch_add_explicit(&weft__condition(c)->seq_, 1,
                              memory_order_relaxed);
    WEFT_CHAOS_POINT(); /* counted, waiters not yet woken */
    if (weft__shared(weft__lock(lock_of(c))->flags_))
        weft__wake_shared(&weft__condition(c)->seq_, n);
    else
        weft_unpark_some(&weft__condition(c)->seq_, n, 0);
    return 0;
}

int weft_condition_notify_all(weft_condition_t *c)
{
    WEFT_REFUSE_NULL(c);
    return weft_condition_notify(c, UINT32_MAX);
}
