/* Event: threading.Event. The word holds SET, and WAITERS once someone may
 * be parked; set() swaps in SET alone and unparks only if WAITERS was there.
 * A waiter raises WAITERS before parking and validates, under park's lock,
 * that SET is still clear; set() changes the word before unparking under
 * the same lock, so either the waiter sees SET or set() finds it queued.
 *
 * Shared (weft_event_init_shared): the word also counts set() calls in its
 * bits 2 and up. A waiter raises WAITERS and sleeps on the kernel's futex of
 * the word while it holds what it saw; set() changes the count along with
 * SET, so a waiter that wakes to a new count knows set() ran, and returns 0
 * even if clear() came before it looked, as Python promises. */
#include "sync_int.h"

#define EVENT_SET 1u
#define EVENT_WAITERS 2u
#define EVENT_COUNT_ONE 4u

_Static_assert(sizeof(weft_event_t) == 16, "weft_event_t is 16 bytes");

int weft_event_init(weft_event_t *e)
{
    if (e == NULL)
        return weft_fail(WEFT_EINVAL, "weft_event_init: NULL event");
    atomic_init(&e->word_, 0);
    e->flags_ = 0;
    e->reserved_ = 0;
    return 0;
}

int weft_event_init_shared(weft_event_t *e)
{
    int rc = weft_event_init(e);
    if (rc == 0)
        e->flags_ = WEFT__SHARED;
    return rc;
}

int weft_event_destroy(weft_event_t *e)
{
    return e ? 0 : weft_fail(WEFT_EINVAL, "weft_event_destroy: NULL event");
}

WEFT_HEAP_PRIMITIVE(weft_event_t, event)

static void set_shared(weft_event_t *e)
{
    uint32_t w = atomic_load_explicit(&e->word_, memory_order_relaxed);
    uint32_t next;
    do {
        next = ((w & ~(EVENT_SET | EVENT_WAITERS)) + EVENT_COUNT_ONE) |
               EVENT_SET;
        /* Release: pairs with the acquire load in wait_shared(). */
    } while (!atomic_compare_exchange_weak_explicit(
        &e->word_, &w, next, memory_order_release, memory_order_relaxed));
    WEFT_CHAOS_POINT(); /* set, waiters not yet woken */
    if (w & EVENT_WAITERS)
        weft__wake_shared(&e->word_, UINT64_MAX);
}

void weft_event_set(weft_event_t *e)
{
    if (weft__shared(e->flags_)) {
        set_shared(e);
        return;
    }
    /* Release: pairs with the acquire load in weft_event_wait(). */
    uint32_t old = atomic_exchange_explicit(&e->word_, EVENT_SET,
                                            memory_order_release);
    WEFT_CHAOS_POINT(); /* set, waiters not yet woken */
    if (old & EVENT_WAITERS)
        weft_unpark_all(&e->word_, 0);
}

void weft_event_clear(weft_event_t *e)
{
    atomic_fetch_and_explicit(&e->word_, ~EVENT_SET, memory_order_relaxed);
}

int weft_event_is_set(const weft_event_t *e)
{
    return (atomic_load_explicit(&e->word_, memory_order_acquire) &
            EVENT_SET) != 0;
}

static int still_clear(void *ctx)
{
    weft_event_t *e = ctx;
    return !(atomic_load_explicit(&e->word_, memory_order_relaxed) &
             EVENT_SET);
}

static const weft_park_ops_t event_park_ops = {still_clear, NULL, NULL};

static int fail_wait(int rc)
{
    return weft_fail(rc, rc == WEFT_ETIMEDOUT ? "event wait timed out"
                                              : "event wait cancelled");
}

static int wait_shared(weft_event_t *e, int64_t deadline)
{
    uint32_t w = atomic_load_explicit(&e->word_, memory_order_acquire);
    for (;;) {
        if (w & EVENT_SET)
            return 0;
        if (!(w & EVENT_WAITERS)) {
            if (!atomic_compare_exchange_weak_explicit(
                    &e->word_, &w, w | EVENT_WAITERS, memory_order_acquire,
                    memory_order_acquire))
                continue;
            w |= EVENT_WAITERS;
        }
        WEFT_CHAOS_POINT(); /* WAITERS is up, not yet asleep */
        int rc = weft_park_wait_shared(&e->word_, w, deadline);
        uint32_t now = atomic_load_explicit(&e->word_, memory_order_acquire);
        if ((now & EVENT_SET) || now >> 2 != w >> 2)
            return 0; /* set, if only for a moment */
        if (rc)
            return fail_wait(rc);
        w = now;
    }
}

int weft_event_wait(weft_event_t *e, double timeout)
{
    if (weft_event_is_set(e))
        return 0;
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    if (timeout == 0)
        return weft_fail(WEFT_ETIMEDOUT, "event is not set");
    if (weft__shared(e->flags_))
        return wait_shared(e, deadline);
    for (;;) {
        atomic_fetch_or_explicit(&e->word_, EVENT_WAITERS,
                                 memory_order_relaxed);
        WEFT_CHAOS_POINT(); /* WAITERS is up, not yet parked */
        rc = weft_park(&e->word_, &event_park_ops, e, deadline, NULL);
        if (rc == 0) /* woken by set() */
            return 0;
        if (rc == WEFT_ETIMEDOUT)
            return weft_fail(rc, "event wait timed out");
        if (rc == WEFT_ECANCELLED)
            return weft_fail(rc, "event wait cancelled");
        if (weft_event_is_set(e)) /* WEFT_EAGAIN: set meanwhile */
            return 0;
    }
}
