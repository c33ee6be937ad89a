/* SPDX-License-Identifier: MIT */
/* Barrier: threading.Barrier, Python's algorithm over park.
 *
 * States: FILLING (threads arrive), ACTION (the last arrival runs the action
 * with the barrier's lock released), DRAINING (released threads leave),
 * RESETTING (reset() while threads wait: they leave broken), BROKEN.
 * Threads that arrive while the barrier drains or resets wait for FILLING.
 * Every state change wakes every thread parked on gen_'s address; each
 * looks at the state again under the lock. Which event justifies a return
 * of 0: the state DRAINING, which only the last arrival of the waiter's own
 * generation sets, and which lasts until that generation's last party has
 * left (so no waiter of it can miss it); a wake-up alone proves nothing.
 *
 * Shared (weft_barrier_init_shared): the lock is a shared Lock, and a waiter
 * reads gen_ under it, releases it and sleeps on the kernel's futex of gen_
 * while gen_ holds what it read; every state change bumps gen_ under the
 * lock, so none is missed. A party that dies while it waits stays counted:
 * the others wait for it until the barrier's timeout breaks it. */
#include "base/check.h"
#include "sync_int.h"

WEFT__SYNC_FITS(barrier, 64);

_Static_assert(sizeof(weft_barrier_t) == 64, "weft_barrier_t is 64 bytes");

enum { FILLING = 0, DRAINING = 1, ACTION = 2, RESETTING = -1, BROKEN = -2 };

static int64_t default_deadline(const weft_barrier_t *b)
{
    if (weft__barrier(b)->timeout_ns_ < 0)
        return WEFT_NEVER;
    int64_t now = weft_monotonic_ns();
    return weft__barrier(b)->timeout_ns_ > WEFT_NEVER - now
               ? WEFT_NEVER
               : now + weft__barrier(b)->timeout_ns_;
}

int weft_barrier_init(weft_barrier_t *b, unsigned parties,
                      int (*action)(void *arg), void *arg, double timeout)
{
    if (b == NULL || parties == 0)
        return weft_fail(WEFT_EINVAL, "barrier: %s",
                         b ? "parties must be >= 1" : "NULL barrier");
    int64_t dl;
    int rc = weft_deadline(timeout, &dl);
    if (rc)
        return rc;
    weft_lock_init(&weft__barrier(b)->lock_);
    atomic_init(&weft__barrier(b)->gen_, 0);
    weft__barrier(b)->state_ = FILLING;
    weft__barrier(b)->parties_ = parties;
    weft__barrier(b)->count_ = 0;
    /* A timeout past weft_deadline's horizon (about 292 years) is as good
     * as none, and would not fit in nanoseconds. */
    weft__barrier(b)->timeout_ns_ =
        dl == WEFT_NEVER ? -1 : (int64_t)(timeout * 1e9);
    weft__barrier(b)->action_ = action;
    weft__barrier(b)->arg_ = arg;
    weft__barrier(b)->reserved_ = 0;
    return 0;
}

int weft_barrier_init_shared(weft_barrier_t *b, unsigned parties,
                             int (*action)(void *arg), void *arg,
                             double timeout)
{
    int rc = weft_barrier_init(b, parties, action, arg, timeout);
    return rc ? rc : weft_lock_init_shared(&weft__barrier(b)->lock_);
}

int weft_barrier_destroy(weft_barrier_t *b)
{
    if (b == NULL)
        return weft_fail(WEFT_EINVAL, "barrier: NULL barrier");
    return 0;
}

int weft_barrier_new(weft_barrier_t **out, unsigned parties,
                     int (*action)(void *arg), void *arg, double timeout)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "barrier_new: NULL out");
    weft_barrier_t *b = malloc(sizeof *b);
    if (b == NULL)
        return weft_fail(WEFT_ENOMEM, "barrier_new: no memory");
    int rc = weft_barrier_init(b, parties, action, arg, timeout);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void weft_barrier_free(weft_barrier_t *b)
{
    free(b);
}

/* With the lock held: change state and wake everyone to look at it. */
static void set_state(weft_barrier_t *b, int state)
{
    weft__barrier(b)->state_ = state;
    atomic_fetch_add_explicit(&weft__barrier(b)->gen_, 1, memory_order_relaxed);
    WEFT_CHAOS_POINT(); /* changed, waiters not yet woken */
    if (weft__shared(weft__lock(&weft__barrier(b)->lock_)->flags_))
        weft__wake_shared(&weft__barrier(b)->gen_, UINT64_MAX);
    else
        weft_unpark_all(&weft__barrier(b)->gen_, 0);
}

static int wait_change(weft_barrier_t *b, int64_t deadline)
{
    if (!weft__shared(weft__lock(&weft__barrier(b)->lock_)->flags_))
        return weft__wait_releasing(&weft__barrier(b)->gen_,
                                    &weft__barrier(b)->lock_, NULL, NULL,
                                    deadline);
    uint32_t gen =
        atomic_load_explicit(&weft__barrier(b)->gen_, memory_order_relaxed);
    weft_lock_release(&weft__barrier(b)->lock_);
    WEFT_CHAOS_POINT(); /* released, not yet asleep: a change may come */
    int rc = weft_park_wait_shared(&weft__barrier(b)->gen_, gen, deadline);
    weft_lock_acquire_shielded(&weft__barrier(b)->lock_);
    return rc;
}

/* Python's _enter: wait out a drain or a reset; refuse a broken barrier. */
static int enter(weft_barrier_t *b)
{
    while (weft__barrier(b)->state_ == DRAINING ||
           weft__barrier(b)->state_ == RESETTING ||
           weft__barrier(b)->state_ == ACTION) {
        int rc = wait_change(b, WEFT_NEVER);
        if (rc == WEFT_ECANCELLED)
            return rc;
    }
    return weft__barrier(b)->state_ == BROKEN ? WEFT_EBROKEN : 0;
}

/* The last arrival: run the action without the lock, then release all. */
static int release_all(weft_barrier_t *b)
{
    int rc = 0;
    if (weft__barrier(b)->action_) {
        weft__barrier(b)->state_ = ACTION;
        weft_lock_release(&weft__barrier(b)->lock_);
        rc = weft__barrier(b)->action_(weft__barrier(b)->arg_);
        weft_lock_acquire_shielded(&weft__barrier(b)->lock_);
    }
    if (weft__barrier(b)->state_ != ACTION && weft__barrier(b)->action_)
        return WEFT_EBROKEN; /* aborted or reset while the action ran */
    if (rc) {
        set_state(b, BROKEN);
        return rc;
    }
    set_state(b, DRAINING);
    return 0;
}

/* The others: wait to be released, breaking the barrier on timeout. */
static int await_release(weft_barrier_t *b, int64_t deadline)
{
    while (weft__barrier(b)->state_ == FILLING ||
           weft__barrier(b)->state_ == ACTION) {
        int64_t dl = weft__barrier(b)->state_ == ACTION ? WEFT_NEVER : deadline;
        int rc = wait_change(b, dl);
        if ((rc == WEFT_ETIMEDOUT && weft__barrier(b)->state_ == FILLING) ||
            rc == WEFT_ECANCELLED) {
            set_state(b, BROKEN);
            return rc;
        }
    }
    return weft__barrier(b)->state_ < 0 ? WEFT_EBROKEN : 0;
}

/* Python's _exit: the last to leave a drain or reset refills the barrier. */
static void leave(weft_barrier_t *b)
{
    if (--weft__barrier(b)->count_ == 0 &&
        (weft__barrier(b)->state_ == DRAINING ||
         weft__barrier(b)->state_ == RESETTING))
        set_state(b, FILLING);
}

static int fail_wait(int rc, unsigned parties)
{
    switch (rc) {
    case WEFT_EBROKEN:
        return weft_fail(rc, "barrier of %u parties is broken", parties);
    case WEFT_ETIMEDOUT:
        return weft_fail(WEFT_EBROKEN, "barrier wait timed out: broken");
    case WEFT_ECANCELLED:
        return weft_fail(rc, "barrier wait cancelled: broken");
    default:
        return rc; /* the action's own code and message */
    }
}

static int barrier_wait(weft_barrier_t *b, int64_t deadline, unsigned *index)
{
    weft_lock_acquire_shielded(&weft__barrier(b)->lock_);
    int rc = enter(b);
    if (rc) {
        weft_lock_release(&weft__barrier(b)->lock_);
        return fail_wait(rc, weft__barrier(b)->parties_);
    }
    unsigned i = weft__barrier(b)->count_++;
    rc = i + 1 == weft__barrier(b)->parties_ ? release_all(b)
                                             : await_release(b, deadline);
    leave(b);
    unsigned parties = weft__barrier(b)->parties_;
    weft_lock_release(&weft__barrier(b)->lock_);
    if (rc)
        return fail_wait(rc, parties);
    if (index)
        *index = i;
    return 0;
}

int weft_barrier_wait(weft_barrier_t *b, unsigned *index)
{
    WEFT_REFUSE_NULL(b);
    return barrier_wait(b, default_deadline(b), index);
}

int weft_barrier_wait_timeout(weft_barrier_t *b, double timeout,
                              unsigned *index)
{
    WEFT_REFUSE_NULL(b);
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    return rc ? rc : barrier_wait(b, deadline, index);
}

void weft_barrier_reset(weft_barrier_t *b)
{
    WEFT_REFUSE_NULL_OR(b, );
    weft_lock_acquire_shielded(&weft__barrier(b)->lock_);
    if (weft__barrier(b)->count_ > 0 && weft__barrier(b)->state_ != DRAINING)
        set_state(b, RESETTING);
    else if (weft__barrier(b)->count_ == 0)
        set_state(b, FILLING);
    weft_lock_release(&weft__barrier(b)->lock_);
}

void weft_barrier_abort(weft_barrier_t *b)
{
    WEFT_REFUSE_NULL_OR(b, );
    weft_lock_acquire_shielded(&weft__barrier(b)->lock_);
    set_state(b, BROKEN);
    weft_lock_release(&weft__barrier(b)->lock_);
}

unsigned weft_barrier_parties(weft_barrier_t *b)
{
    WEFT_REFUSE_NULL_OR(b, 0);
    return weft__barrier(b)->parties_;
}

unsigned weft_barrier_n_waiting(weft_barrier_t *b)
{
    WEFT_REFUSE_NULL_OR(b, 0);
    weft_lock_acquire_shielded(&weft__barrier(b)->lock_);
    unsigned n =
        weft__barrier(b)->state_ == FILLING ? weft__barrier(b)->count_ : 0;
    weft_lock_release(&weft__barrier(b)->lock_);
    return n;
}

int weft_barrier_broken(weft_barrier_t *b)
{
    WEFT_REFUSE_NULL_OR(b, 0);
    weft_lock_acquire_shielded(&weft__barrier(b)->lock_);
    int broken = weft__barrier(b)->state_ == BROKEN;
    weft_lock_release(&weft__barrier(b)->lock_);
    return broken;
}
