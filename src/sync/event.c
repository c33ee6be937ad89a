/* Event: threading.Event. The word holds SET, and WAITERS once someone may
 * be parked; set() swaps in SET alone and unparks only if WAITERS was there.
 * A waiter raises WAITERS before parking and validates, under park's lock,
 * that SET is still clear; set() changes the word before unparking under
 * the same lock, so either the waiter sees SET or set() finds it queued. */
#include "sync_int.h"

#define EVENT_SET 1u
#define EVENT_WAITERS 2u

int weft_event_init(weft_event_t *e)
{
    if (e == NULL)
        return weft_fail(WEFT_EINVAL, "weft_event_init: NULL event");
    atomic_init(&e->word_, 0);
    e->flags_ = 0;
    e->reserved_ = 0;
    return 0;
}

int weft_event_destroy(weft_event_t *e)
{
    return e ? 0 : weft_fail(WEFT_EINVAL, "weft_event_destroy: NULL event");
}

WEFT_HEAP_PRIMITIVE(weft_event_t, event)

void weft_event_set(weft_event_t *e)
{
    /* Release: pairs with the acquire load in weft_event_wait(). */
    uint32_t old = atomic_exchange_explicit(&e->word_, EVENT_SET,
                                            memory_order_release);
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
    for (;;) {
        atomic_fetch_or_explicit(&e->word_, EVENT_WAITERS,
                                 memory_order_relaxed);
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
