/* SPDX-License-Identifier: MIT */
/* Cancel scopes, and sleep.
 *
 * A scope is entered by one context (its waiter_) and may be cancelled from
 * any thread. The scope's small lock makes "cancel pokes the waiter" and
 * "exit forgets the waiter" exclusive, so a cancel never pokes a waiter whose
 * context has left the scope (and may no longer exist). A poke sets POKED
 * and wakes the waiter; park then looks at the scope chain again. Since
 * cancelled_ is set before the poke and park checks cancelled_ after
 * queueing itself, a cancel that comes while a context is going to sleep is
 * either seen by the check or wakes the sleep. */
#include "base/check.h"
#include "park_int.h"

#include <math.h>
#include <sched.h>

/* park.h's weft_cancel_scope_t is the storage of a struct weft__scope_impl. */
_Static_assert(sizeof(struct weft__scope_impl) <= sizeof(weft_cancel_scope_t),
               "weft_cancel_scope_t is too small for its fields");
_Static_assert(_Alignof(struct weft__scope_impl) <=
                   _Alignof(weft_cancel_scope_t),
               "weft_cancel_scope_t is not aligned enough for its fields");
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(weft_cancel_scope_t) == 56,
               "weft_cancel_scope_t changed size");
#endif

void weft_cancel_scope_init(weft_cancel_scope_t *s)
{
    WEFT_REFUSE_NULL_OR(s, );
    weft__scope(s)->parent_ = NULL;
    weft__scope(s)->waiter_ = NULL;
    weft__scope(s)->deadline_ = WEFT_NEVER;
    atomic_store_explicit(&weft__scope(s)->lock_, 0, memory_order_relaxed);
    atomic_store_explicit(&weft__scope(s)->cancelled_, 0, memory_order_relaxed);
    weft__scope(s)->flags_ = 0;
    weft__scope(s)->watch_ = NULL;
    weft__scope(s)->watch_mask_ = 0;
}

void weft_cancel_scope_watch(weft_cancel_scope_t *s, const void *word,
                             uint32_t mask)
{
    WEFT_REFUSE_NULL_OR(s, );
    weft__scope(s)->watch_ = word;
    weft__scope(s)->watch_mask_ = mask;
}

void weft_park_poke(weft_waiter_t *w)
{
    WEFT_REFUSE_NULL_OR(w, );
    w->ops->wake(w, WEFT_WAITER_POKED);
}

/* A scope counts as cancelled once its flag is set or its watched bit. */
static int scope_flagged(const weft_cancel_scope_t *s)
{
    if (atomic_load(&weft__scope(s)->cancelled_))
        return 1;
    return weft__scope(s)->watch_ &&
           (atomic_load_explicit(weft__scope(s)->watch_, memory_order_acquire) &
            weft__scope(s)->watch_mask_);
}

int weft_cancel_scope_enter(weft_cancel_scope_t *s, double timeout,
                            unsigned flags)
{
    if (s == NULL)
        return weft_fail(WEFT_EINVAL, "cancel scope: NULL scope");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    weft_waiter_t *w = weft_park_current();
    for (weft_cancel_scope_t *it = weft__waiter(w)->scope_; it;
         it = weft__scope(it)->parent_)
        if (it == s)
            return weft_fail(WEFT_EINVAL, "cancel scope: already entered");
    weft__wordlock_lock(&weft__scope(s)->lock_);
    weft__scope(s)->waiter_ = w;
    weft__scope(s)->deadline_ = deadline;
    weft__scope(s)->flags_ = flags;
    weft__scope(s)->parent_ = weft__waiter(w)->scope_;
    weft__wordlock_unlock(&weft__scope(s)->lock_);
    weft__waiter(w)->scope_ = s;
    return 0;
}

int weft_cancel_scope_exit(weft_cancel_scope_t *s)
{
    weft_waiter_t *w = weft_park_current();
    if (s == NULL || weft__waiter(w)->scope_ != s)
        return weft_fail(WEFT_EINVAL,
                         "cancel scope: exit of a scope that is not the "
                         "innermost one of this context");
    weft__waiter(w)->scope_ = weft__scope(s)->parent_;
    weft__wordlock_lock(&weft__scope(s)->lock_);
    weft__scope(s)->waiter_ = NULL;
    weft__wordlock_unlock(&weft__scope(s)->lock_);
    if (atomic_load_explicit(&weft__scope(s)->cancelled_,
                             memory_order_acquire) == 0 &&
        weft__scope(s)->deadline_ != WEFT_NEVER &&
        weft_monotonic_ns() >= weft__scope(s)->deadline_)
        atomic_store_explicit(&weft__scope(s)->cancelled_, WEFT_ETIMEDOUT,
                              memory_order_release);
    int why =
        atomic_load_explicit(&weft__scope(s)->cancelled_, memory_order_acquire);
    if (why == WEFT_ETIMEDOUT)
        return weft_fail(WEFT_ETIMEDOUT, "cancel scope: deadline passed");
    if (why)
        return weft_fail(WEFT_ECANCELLED, "cancel scope: cancelled");
    return 0;
}

void weft_cancel_scope_cancel(weft_cancel_scope_t *s)
{
    if (s == NULL)
        return;
    int none = 0;
    /* seq_cst: pairs with the load in weft__scope_check() after queueing. */
    atomic_compare_exchange_strong(&weft__scope(s)->cancelled_, &none,
                                   WEFT_ECANCELLED);
    WEFT_CHAOS_POINT(); /* between the flag and the poke */
    weft__wordlock_lock(&weft__scope(s)->lock_);
    weft_waiter_t *w = weft__scope(s)->waiter_;
    if (w)
        w->ops->wake(w, WEFT_WAITER_POKED);
    weft__wordlock_unlock(&weft__scope(s)->lock_);
}

int weft_cancel_scope_cancelled(const weft_cancel_scope_t *s)
{
    WEFT_REFUSE_NULL_OR(s, 0);
    return scope_flagged(s);
}

int weft__scope_check(weft_waiter_t *w, int64_t now, int64_t *deadline)
{
    for (weft_cancel_scope_t *s = weft__waiter(w)->scope_; s;
         s = weft__scope(s)->parent_) {
        if (scope_flagged(s))
            return WEFT_ECANCELLED;
        if (weft__scope(s)->deadline_ != WEFT_NEVER && now < 0)
            now = weft_monotonic_ns(); /* only a deadline needs the clock */
        if (weft__scope(s)->deadline_ != WEFT_NEVER &&
            now >= weft__scope(s)->deadline_) {
            int none = 0;
            atomic_compare_exchange_strong(&weft__scope(s)->cancelled_, &none,
                                           WEFT_ETIMEDOUT);
            return WEFT_ECANCELLED;
        }
        if (deadline && weft__scope(s)->deadline_ < *deadline)
            *deadline = weft__scope(s)->deadline_;
        if (weft__scope(s)->flags_ & WEFT_SCOPE_SHIELD)
            break;
    }
    return 0;
}

int weft_cancelled(void)
{
    weft_waiter_t *w = weft_park_current();
    if (weft__waiter(w)->scope_ == NULL)
        return 0;
    if (weft__scope_check(w, -1, NULL))
        return weft_fail(WEFT_ECANCELLED, "the current task was cancelled");
    return 0;
}

int weft_sleep(double seconds)
{
    if (isnan(seconds) || seconds < 0)
        return weft_fail(WEFT_EINVAL, "sleep length must be >= 0, got %g",
                         seconds);
    weft_waiter_t *w = weft_park_current();
    if (seconds == 0) {
        if (w->ops->yield)
            w->ops->yield(w);
        else
            sched_yield();
        return weft_cancelled();
    }
    int64_t deadline;
    int rc = weft_deadline(seconds, &deadline);
    if (rc)
        return rc;
    /* Park on an address no one should unpark; one that does anyway has
     * not ended the sleep: only the deadline or a cancel ends it. */
    do
        rc = weft_park(&weft__waiter(w)->token_, NULL, NULL, deadline, NULL);
    while (rc == 0);
    if (rc == WEFT_ECANCELLED)
        return weft_fail(WEFT_ECANCELLED, "sleep cancelled");
    return 0;
}
