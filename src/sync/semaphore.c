/* SPDX-License-Identifier: MIT */
/* Semaphore and BoundedSemaphore: threading's.
 *
 * value_ is the counter; waiters_ counts contexts that may be parked on it.
 * Both sides use sequentially consistent operations (Dekker's pattern):
 * a waiter raises waiters_ and then, under park's lock, sees value_ still 0;
 * a releaser raises value_ and then reads waiters_. One of them sees the
 * other's write, so a release never skips the unpark that a sleeper needs,
 * and an uncontended release costs no park call at all.
 *
 * Which event justifies a return of 0: this caller's own decrement of a
 * positive value_; a wake-up only sends a waiter back to try.
 *
 * Shared (the _init_shared variants): the same protocol, with the waiter
 * sleeping on the kernel's futex of value_ while it holds 0, and release
 * waking through that futex. */
#include "base/check.h"
#include "sync_int.h"

WEFT__SYNC_FITS(semaphore, 16);

#define SEM_BOUNDED 1u

_Static_assert(sizeof(weft_semaphore_t) == 16, "weft_semaphore_t is 16 bytes");

static int setup(weft_semaphore_t *s, unsigned value, int bounded)
{
    if (s == NULL)
        return weft_fail(WEFT_EINVAL, "semaphore: NULL semaphore");
    if (value >= UINT32_MAX)
        return weft_fail(WEFT_EINVAL, "semaphore: initial value too large");
    atomic_init(&weft__semaphore(s)->value_, value);
    atomic_init(&weft__semaphore(s)->waiters_, 0);
    weft__semaphore(s)->bound_ = bounded ? value : 0;
    weft__semaphore(s)->flags_ = bounded ? SEM_BOUNDED : 0;
    return 0;
}

int weft_semaphore_init(weft_semaphore_t *s, unsigned value)
{
    return setup(s, value, 0);
}

int weft_bounded_semaphore_init(weft_semaphore_t *s, unsigned value)
{
    return setup(s, value, 1);
}

int weft_semaphore_init_shared(weft_semaphore_t *s, unsigned value)
{
    int rc = setup(s, value, 0);
    if (rc == 0)
        weft__semaphore(s)->flags_ |= WEFT__SHARED;
    return rc;
}

int weft_bounded_semaphore_init_shared(weft_semaphore_t *s, unsigned value)
{
    int rc = setup(s, value, 1);
    if (rc == 0)
        weft__semaphore(s)->flags_ |= WEFT__SHARED;
    return rc;
}

int weft_semaphore_destroy(weft_semaphore_t *s)
{
    return s ? 0 : weft_fail(WEFT_EINVAL, "semaphore: NULL semaphore");
}

static int new_semaphore(weft_semaphore_t **out, unsigned value, int bounded)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "semaphore_new: NULL out");
    weft_semaphore_t *s = malloc(sizeof *s);
    if (s == NULL)
        return weft_fail(WEFT_ENOMEM, "semaphore_new: no memory");
    int rc = bounded ? weft_bounded_semaphore_init(s, value)
                     : weft_semaphore_init(s, value);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int weft_semaphore_new(weft_semaphore_t **out, unsigned value)
{
    return new_semaphore(out, value, 0);
}

int weft_bounded_semaphore_new(weft_semaphore_t **out, unsigned value)
{
    return new_semaphore(out, value, 1);
}

void weft_semaphore_free(weft_semaphore_t *s)
{
    free(s);
}

static int try_take(weft_semaphore_t *s)
{
    uint32_t v =
        atomic_load_explicit(&weft__semaphore(s)->value_, memory_order_relaxed);
    while (v > 0)
        if (atomic_compare_exchange_weak_explicit(
                &weft__semaphore(s)->value_, &v, v - 1, memory_order_acquire,
                memory_order_relaxed))
            return 1;
    return 0;
}

static int still_empty(void *ctx)
{
    weft_semaphore_t *s = ctx;
    return atomic_load(&weft__semaphore(s)->value_) == 0;
}

static const weft_park_ops_t sem_park_ops = {still_empty, NULL, NULL};

/* Sleep until value_ may be positive: park's table, or the kernel's futex
 * for a shared semaphore. */
static int sleep_on(weft_semaphore_t *s, int64_t deadline)
{
    if (weft__shared(weft__semaphore(s)->flags_))
        return weft_park_wait_shared(&weft__semaphore(s)->value_, 0, deadline);
    return weft_park(&weft__semaphore(s)->value_, &sem_park_ops, s, deadline,
                     NULL);
}

static int acquire_slow(weft_semaphore_t *s, int64_t deadline)
{
    int rc = 0;
    atomic_fetch_add(&weft__semaphore(s)->waiters_, 1);
    while (!try_take(s)) {
        WEFT_CHAOS_POINT(); /* seen at 0; a release may come now */
        rc = sleep_on(s, deadline);
        if (rc == WEFT_ETIMEDOUT || rc == WEFT_ECANCELLED)
            break;
        rc = 0;
    }
    atomic_fetch_sub(&weft__semaphore(s)->waiters_, 1);
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "semaphore acquire timed out");
    if (rc == WEFT_ECANCELLED)
        return weft_fail(rc, "semaphore acquire cancelled");
    return 0;
}

int weft_semaphore_acquire(weft_semaphore_t *s, double timeout)
{
    WEFT_REFUSE_NULL(s);
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    if (try_take(s))
        return 0;
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    if (timeout == 0)
        return weft_fail(WEFT_ETIMEDOUT, "semaphore is at 0");
    return acquire_slow(s, deadline);
}

int weft_semaphore_release(weft_semaphore_t *s, unsigned n)
{
    if (n == 0)
        return weft_fail(WEFT_EINVAL, "semaphore: release(n) needs n >= 1");
    int bounded = weft__semaphore(s)->flags_ & SEM_BOUNDED;
    uint32_t limit = bounded ? weft__semaphore(s)->bound_ : UINT32_MAX - 1;
    uint32_t v =
        atomic_load_explicit(&weft__semaphore(s)->value_, memory_order_relaxed);
    do {
        if (n > limit || v > limit - n)
            return weft_fail(WEFT_EINVAL,
                             bounded ? "Semaphore released too many times"
                                     : "semaphore value would overflow");
    } while (
        !atomic_compare_exchange_weak(&weft__semaphore(s)->value_, &v, v + n));
    WEFT_CHAOS_POINT(); /* raised, waiters not yet looked at */
    if (atomic_load(&weft__semaphore(s)->waiters_) == 0)
        return 0;
    WEFT_CHAOS_POINT(); /* between the look and the wake */
    if (weft__shared(weft__semaphore(s)->flags_))
        weft__wake_shared(&weft__semaphore(s)->value_, n);
    else
        weft_unpark_some(&weft__semaphore(s)->value_, n, 0);
    return 0;
}

unsigned weft_semaphore_value(const weft_semaphore_t *s)
{
    WEFT_REFUSE_NULL_OR(s, 0);
    return atomic_load_explicit(&weft__semaphore(s)->value_,
                                memory_order_relaxed);
}
