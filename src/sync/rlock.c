/* SPDX-License-Identifier: MIT */
/* RLock: threading.RLock. A Lock plus the owning context's id and a count.
 * owner_ is written only by the holder; others read it only to learn that
 * they are not the owner, for which a stale value is as good as a fresh one
 * (it can never be their own id unless they wrote it).
 *
 * A shared RLock (weft_rlock_init_shared) records ids that no context of
 * another process has (weft__shared_context_id: the context's id mixed with
 * a random number of its process), so a process that gets a dead owner's
 * process id, and a main thread with the dead owner's thread id, is still
 * not the owner. Its Lock reports a dead holder: the next acquirer then
 * holds the RLock once and gets WEFT_EOWNERDEAD. */
#include "base/check.h"
#include "sync_int.h"

WEFT__SYNC_FITS(rlock, 32);

_Static_assert(sizeof(weft_rlock_t) == 32, "weft_rlock_t is 32 bytes");

int weft_rlock_init(weft_rlock_t *r)
{
    if (r == NULL)
        return weft_fail(WEFT_EINVAL, "weft_rlock_init: NULL lock");
    weft_lock_init(&weft__rlock(r)->lock_);
    atomic_init(&weft__rlock(r)->owner_, 0);
    weft__rlock(r)->count_ = 0;
    weft__rlock(r)->reserved_ = 0;
    return 0;
}

int weft_rlock_init_shared(weft_rlock_t *r)
{
    int rc = weft_rlock_init(r);
    return rc ? rc : weft_lock_init_shared(&weft__rlock(r)->lock_);
}

int weft_rlock_destroy(weft_rlock_t *r)
{
    if (r == NULL)
        return weft_fail(WEFT_EINVAL, "weft_rlock_destroy: NULL lock");
    return weft_lock_destroy(&weft__rlock(r)->lock_);
}

WEFT_HEAP_PRIMITIVE(weft_rlock_t, rlock)

static uint64_t owner_of(const weft_rlock_t *r)
{
    return atomic_load_explicit(&weft__rlock(r)->owner_, memory_order_relaxed);
}

/* The id the calling context has for r. */
static uint64_t me_for(const weft_rlock_t *r)
{
    return weft__shared(weft__lock(&weft__rlock(r)->lock_)->flags_)
               ? weft__shared_context_id()
               : weft_park_context_id();
}

int weft_rlock_acquire(weft_rlock_t *r, double timeout)
{
    WEFT_REFUSE_NULL(r);
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    uint64_t me = me_for(r);
    if (owner_of(r) == me) {
        if (weft__rlock(r)->count_ == UINT32_MAX)
            return weft_fail(WEFT_ESTATE, "RLock count would overflow");
        weft__rlock(r)->count_++;
        return 0;
    }
    int rc = weft_lock_acquire(&weft__rlock(r)->lock_, timeout);
    if (rc != 0 && rc != WEFT_EOWNERDEAD)
        return rc;
    WEFT_CHAOS_POINT(); /* held, owner not yet recorded */
    atomic_store_explicit(&weft__rlock(r)->owner_, me, memory_order_relaxed);
    weft__rlock(r)->count_ = 1;
    return rc;
}

int weft_rlock_release(weft_rlock_t *r)
{
    WEFT_REFUSE_NULL(r);
    if (owner_of(r) != me_for(r))
        return weft_fail(WEFT_EPERM, "cannot release un-acquired lock");
    if (--weft__rlock(r)->count_ > 0)
        return 0;
    atomic_store_explicit(&weft__rlock(r)->owner_, 0, memory_order_relaxed);
    return weft_lock_release(&weft__rlock(r)->lock_);
}

int weft_rlock_is_owned(const weft_rlock_t *r)
{
    WEFT_REFUSE_NULL_OR(r, 0);
    return owner_of(r) == me_for(r);
}

unsigned weft_rlock_count(const weft_rlock_t *r)
{
    WEFT_REFUSE_NULL_OR(r, 0);
    return weft_rlock_is_owned(r) ? weft__rlock(r)->count_ : 0;
}
