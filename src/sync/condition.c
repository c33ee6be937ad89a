/* Condition: threading.Condition, with its own RLock.
 *
 * Waiters park on seq_'s address. A waiter is queued before it releases the
 * lock (park's before_sleep), and notify requires the lock, so a notify
 * always sees every waiter that came before it: Python's guarantee. notify
 * bumps seq_ so that the shared-memory variant can wait on the word; here it
 * only documents how many notifies happened.
 *
 * Shared (weft_condition_init_shared): a waiter reads seq_ while it holds
 * the lock, releases the lock, and sleeps on the kernel's futex of seq_
 * while seq_ still holds what it read. A notify, which needs the lock, comes
 * after that read, so it either changes seq_ before the waiter sleeps (the
 * futex wait then returns at once) or finds it asleep: no notify is missed.
 * Waiters that were between the two steps all return, so a notify(n) may
 * wake more than n of them: callers loop on their predicate, as wait_for()
 * does. */
#include "sync_int.h"

_Static_assert(sizeof(weft_condition_t) == 64, "weft_condition_t is 64 bytes");

int weft_condition_init(weft_condition_t *c)
{
    if (c == NULL)
        return weft_fail(WEFT_EINVAL, "weft_condition_init: NULL condition");
    weft_rlock_init(&c->rlock_);
    atomic_init(&c->seq_, 0);
    for (int i = 0; i < 7; i++)
        c->reserved_[i] = 0;
    return 0;
}

int weft_condition_init_shared(weft_condition_t *c)
{
    int rc = weft_condition_init(c);
    return rc ? rc : weft_rlock_init_shared(&c->rlock_);
}

int weft_condition_destroy(weft_condition_t *c)
{
    if (c == NULL)
        return weft_fail(WEFT_EINVAL, "weft_condition_destroy: NULL");
    return weft_rlock_destroy(&c->rlock_);
}

WEFT_HEAP_PRIMITIVE(weft_condition_t, condition)

int weft_condition_acquire(weft_condition_t *c, double timeout)
{
    return weft_rlock_acquire(&c->rlock_, timeout);
}

int weft_condition_release(weft_condition_t *c)
{
    return weft_rlock_release(&c->rlock_);
}

/* The shared wait: read seq_ under the lock, release, sleep on seq_, take
 * the lock back. Returns what the sleep returned, or WEFT_EOWNERDEAD when
 * taking the lock back found its holder dead. */
static int wait_shared(weft_condition_t *c, int64_t deadline)
{
    uint32_t seq = atomic_load_explicit(&c->seq_, memory_order_relaxed);
    weft_lock_release(&c->rlock_.lock_);
    WEFT_CHAOS_POINT(); /* released, not yet asleep: a notify may come */
    int rc;
    do {
        /* The futex returns early for a signal or a stray wake-up too;
         * only a moved seq_ says that a notify came. */
        rc = weft_park_wait_shared(&c->seq_, seq, deadline);
    } while (rc == 0 &&
             atomic_load_explicit(&c->seq_, memory_order_relaxed) == seq);
    if (atomic_load_explicit(&c->seq_, memory_order_relaxed) != seq)
        rc = 0; /* notified, if at the last moment */
    int taken = weft__lock_reacquire(&c->rlock_.lock_);
    return taken == WEFT_EOWNERDEAD ? taken : rc;
}

/* Release every level of the RLock around a wait, and restore them after:
 * Python's _release_save and _acquire_restore. */
static int wait_until(weft_condition_t *c, int64_t deadline)
{
    weft_rlock_t *r = &c->rlock_;
    uint32_t count = r->count_;
    uint64_t owner = atomic_load_explicit(&r->owner_, memory_order_relaxed);
    r->count_ = 0;
    atomic_store_explicit(&r->owner_, 0, memory_order_relaxed);
    int rc = weft__shared(r->lock_.flags_)
                 ? wait_shared(c, deadline)
                 : weft__wait_releasing(&c->seq_, &r->lock_, NULL, NULL,
                                        deadline);
    atomic_store_explicit(&r->owner_, owner, memory_order_relaxed);
    r->count_ = count;
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
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    if (!weft_rlock_is_owned(&c->rlock_))
        return weft_fail(WEFT_EPERM, "cannot wait on un-acquired lock");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    return rc ? rc : wait_until(c, deadline);
}

int weft_condition_wait_for(weft_condition_t *c, int (*predicate)(void *arg),
                            void *arg, double timeout)
{
    if (predicate == NULL)
        return weft_fail(WEFT_EINVAL, "wait_for: NULL predicate");
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    if (!weft_rlock_is_owned(&c->rlock_))
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
    if (!weft_rlock_is_owned(&c->rlock_))
        return weft_fail(WEFT_EPERM, "cannot notify on un-acquired lock");
    if (n == 0)
        return 0;
    atomic_fetch_add_explicit(&c->seq_, 1, memory_order_relaxed);
    WEFT_CHAOS_POINT(); /* counted, waiters not yet woken */
    if (weft__shared(c->rlock_.lock_.flags_))
        weft__wake_shared(&c->seq_, n);
    else
        weft_unpark_some(&c->seq_, n, 0);
    return 0;
}

int weft_condition_notify_all(weft_condition_t *c)
{
    return weft_condition_notify(c, UINT32_MAX);
}
