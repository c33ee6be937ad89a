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
#include "park_int.h"

#include <math.h>
#include <sched.h>

void weft_cancel_scope_init(weft_cancel_scope_t *s)
{
    s->parent_ = NULL;
    s->waiter_ = NULL;
    s->deadline_ = WEFT_NEVER;
    atomic_store_explicit(&s->lock_, 0, memory_order_relaxed);
    atomic_store_explicit(&s->cancelled_, 0, memory_order_relaxed);
    s->flags_ = 0;
    s->watch_ = NULL;
    s->watch_mask_ = 0;
}

void weft_cancel_scope_watch(weft_cancel_scope_t *s,
                             const _Atomic uint32_t *word, uint32_t mask)
{
    s->watch_ = word;
    s->watch_mask_ = mask;
}

void weft_park_poke(weft_waiter_t *w)
{
    w->ops->wake(w, WEFT_WAITER_POKED);
}

/* A scope counts as cancelled once its flag is set or its watched bit. */
static int scope_flagged(const weft_cancel_scope_t *s)
{
    if (atomic_load(&s->cancelled_))
        return 1;
    return s->watch_ &&
           (atomic_load_explicit(s->watch_, memory_order_acquire) &
            s->watch_mask_);
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
    for (weft_cancel_scope_t *it = w->scope_; it; it = it->parent_)
        if (it == s)
            return weft_fail(WEFT_EINVAL, "cancel scope: already entered");
    weft__wordlock_lock(&s->lock_);
    s->waiter_ = w;
    s->deadline_ = deadline;
    s->flags_ = flags;
    s->parent_ = w->scope_;
    weft__wordlock_unlock(&s->lock_);
    w->scope_ = s;
    return 0;
}

int weft_cancel_scope_exit(weft_cancel_scope_t *s)
{
    weft_waiter_t *w = weft_park_current();
    if (s == NULL || w->scope_ != s)
        return weft_fail(WEFT_EINVAL,
                         "cancel scope: exit of a scope that is not the "
                         "innermost one of this context");
    w->scope_ = s->parent_;
    weft__wordlock_lock(&s->lock_);
    s->waiter_ = NULL;
    weft__wordlock_unlock(&s->lock_);
    if (atomic_load_explicit(&s->cancelled_, memory_order_acquire) == 0 &&
        s->deadline_ != WEFT_NEVER && weft_monotonic_ns() >= s->deadline_)
        atomic_store_explicit(&s->cancelled_, WEFT_ETIMEDOUT,
                              memory_order_release);
    int why = atomic_load_explicit(&s->cancelled_, memory_order_acquire);
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
    atomic_compare_exchange_strong(&s->cancelled_, &none, WEFT_ECANCELLED);
    WEFT_CHAOS_POINT(); /* between the flag and the poke */
    weft__wordlock_lock(&s->lock_);
    weft_waiter_t *w = s->waiter_;
    if (w)
        w->ops->wake(w, WEFT_WAITER_POKED);
    weft__wordlock_unlock(&s->lock_);
}

int weft_cancel_scope_cancelled(const weft_cancel_scope_t *s)
{
    return scope_flagged(s);
}

int weft__scope_check(weft_waiter_t *w, int64_t now, int64_t *deadline)
{
    for (weft_cancel_scope_t *s = w->scope_; s; s = s->parent_) {
        if (scope_flagged(s))
            return WEFT_ECANCELLED;
        if (s->deadline_ != WEFT_NEVER && now < 0)
            now = weft_monotonic_ns(); /* only a deadline needs the clock */
        if (s->deadline_ != WEFT_NEVER && now >= s->deadline_) {
            int none = 0;
            atomic_compare_exchange_strong(&s->cancelled_, &none,
                                           WEFT_ETIMEDOUT);
            return WEFT_ECANCELLED;
        }
        if (deadline && s->deadline_ < *deadline)
            *deadline = s->deadline_;
        if (s->flags_ & WEFT_SCOPE_SHIELD)
            break;
    }
    return 0;
}

int weft_cancelled(void)
{
    weft_waiter_t *w = weft_park_current();
    if (w->scope_ == NULL)
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
        rc = weft_park(&w->token_, NULL, NULL, deadline, NULL);
    while (rc == 0);
    if (rc == WEFT_ECANCELLED)
        return weft_fail(WEFT_ECANCELLED, "sleep cancelled");
    return 0;
}
