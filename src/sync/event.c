/* SPDX-License-Identifier: MIT */
/* Event: threading.Event, in one word, the same in a process and between
 * processes.
 *
 * The word holds SET, WAITERS (someone may be asleep on the word) and, in
 * bits 2 and up, how many times set() has turned the flag on. set() turns
 * SET on, clears WAITERS and counts one, in one compare-and-swap, and only
 * then wakes the sleepers if WAITERS was there. A waiter reads the word on
 * entry; it returns 0 at once if SET is on, and otherwise remembers the
 * count it saw. It raises WAITERS and sleeps while the word still holds
 * exactly what it saw (park's validate under the bucket lock in a process,
 * the kernel's futex compare between processes).
 *
 * Which set() justifies a wake: a waiter returns 0 only when it finds SET
 * on or the count moved since its entry, that is, when a set() made its
 * store after the wait began. A wake-up alone proves nothing: the late
 * unpark of a set() whose flag this waiter had already seen (and cleared)
 * in an earlier wait lands in the next wait; such a waiter finds the count
 * it entered with and sleeps again. So a waiter woken by set() returns 0
 * even if clear() came first, as Python promises, and no other wait does.
 *
 * Why no wake is lost: set() changes the word before it looks for
 * sleepers; a waiter sleeps only while the word is what it saw, and the
 * check is made under the same lock (park) or atomically with the sleep
 * (futex) that set()'s wake takes. Either the waiter sees the new word, or
 * set() finds it asleep. clear() cannot move a waiter's word (it only drops
 * SET, which a sleeper's word never has).
 *
 * The count has 30 bits: a waiter would miss its set() only if exactly a
 * multiple of 2^30 set()s came between its entry and its look, while the
 * first of them had already woken it. */
#include "base/check.h"
#include "sync_int.h"

WEFT__SYNC_FITS(event, 16);

#define EVENT_SET 1u
#define EVENT_WAITERS 2u
#define EVENT_COUNT_SHIFT 2
#define EVENT_COUNT_ONE (1u << EVENT_COUNT_SHIFT)

_Static_assert(sizeof(weft_event_t) == 16, "weft_event_t is 16 bytes");

int weft_event_init(weft_event_t *e)
{
    if (e == NULL)
        return weft_fail(WEFT_EINVAL, "weft_event_init: NULL event");
    atomic_init(&weft__event(e)->word_, 0);
    weft__event(e)->flags_ = 0;
    weft__event(e)->reserved_ = 0;
    return 0;
}

int weft_event_init_shared(weft_event_t *e)
{
    int rc = weft_event_init(e);
    if (rc == 0)
        weft__event(e)->flags_ = WEFT__SHARED;
    return rc;
}

int weft_event_destroy(weft_event_t *e)
{
    return e ? 0 : weft_fail(WEFT_EINVAL, "weft_event_destroy: NULL event");
}

WEFT_HEAP_PRIMITIVE(weft_event_t, event)

/* Wake everyone asleep on e's word. */
static void wake_all(weft_event_t *e)
{
    if (weft__shared(weft__event(e)->flags_))
        weft__wake_shared(&weft__event(e)->word_, UINT64_MAX);
    else
        weft_unpark_all(&weft__event(e)->word_, 0);
}

void weft_event_set(weft_event_t *e)
{
    WEFT_REFUSE_NULL_OR(e, );
    uint32_t w =
        atomic_load_explicit(&weft__event(e)->word_, memory_order_relaxed);
    uint32_t next;
    do {
        /* Already on: every sleeper was there before the set() that turned
         * it on, and that set() wakes them. */
        if (w & EVENT_SET)
            return;
        next = ((w & ~EVENT_WAITERS) + EVENT_COUNT_ONE) | EVENT_SET;
        /* Release: pairs with the acquire loads in weft_event_wait(). */
    } while (!atomic_compare_exchange_weak_explicit(&weft__event(e)->word_, &w,
                                                    next, memory_order_release,
                                                    memory_order_relaxed));
    WEFT_CHAOS_POINT(); /* set, waiters not yet woken */
    if (w & EVENT_WAITERS)
        wake_all(e);
}

void weft_event_clear(weft_event_t *e)
{
    WEFT_REFUSE_NULL_OR(e, );
    atomic_fetch_and_explicit(&weft__event(e)->word_, ~EVENT_SET,
                              memory_order_relaxed);
}

int weft_event_is_set(const weft_event_t *e)
{
    WEFT_REFUSE_NULL_OR(e, 0);
    return (atomic_load_explicit(&weft__event(e)->word_, memory_order_acquire) &
            EVENT_SET) != 0;
}

static int fail_wait(int rc)
{
    return weft_fail(rc, rc == WEFT_ETIMEDOUT ? "event wait timed out"
                                              : "event wait cancelled");
}

/* Nonzero when word w shows a set() since the count sets_at_entry. */
static int set_since(uint32_t w, uint32_t sets_at_entry)
{
    return (w & EVENT_SET) || (w >> EVENT_COUNT_SHIFT) != sets_at_entry;
}

/* Sleep while e's word holds w: 0 when woken or the word moved (look
 * again), WEFT_ETIMEDOUT, WEFT_ECANCELLED. */
static int sleep_while(weft_event_t *e, uint32_t w, int64_t deadline)
{
    if (weft__shared(weft__event(e)->flags_))
        return weft_park_wait_shared(&weft__event(e)->word_, w, deadline);
    return weft_park_wait(&weft__event(e)->word_, w, deadline);
}

/* w: the word at entry, SET off. */
static int wait_slow(weft_event_t *e, uint32_t w, int64_t deadline)
{
    const uint32_t sets_at_entry = w >> EVENT_COUNT_SHIFT;
    for (;;) {
        if (!(w & EVENT_WAITERS)) {
            /* Acquire on failure too: the word seen may show a set(). */
            if (!atomic_compare_exchange_weak_explicit(
                    &weft__event(e)->word_, &w, w | EVENT_WAITERS,
                    memory_order_acquire, memory_order_acquire)) {
                if (set_since(w, sets_at_entry))
                    return 0;
                continue;
            }
            w |= EVENT_WAITERS;
        }
        WEFT_CHAOS_POINT(); /* WAITERS is up, not yet asleep */
        int rc = sleep_while(e, w, deadline);
        /* Acquire: pairs with the release in weft_event_set(). */
        uint32_t now =
            atomic_load_explicit(&weft__event(e)->word_, memory_order_acquire);
        if (set_since(now, sets_at_entry))
            return 0;
        if (rc)
            return fail_wait(rc);
        w = now; /* a wake-up that no set() of this wait explains */
    }
}

int weft_event_wait(weft_event_t *e, double timeout)
{
    WEFT_REFUSE_NULL(e);
    if (weft__timeout_bad(timeout))
        return weft__timeout_refused(timeout);
    uint32_t w =
        atomic_load_explicit(&weft__event(e)->word_, memory_order_acquire);
    if (w & EVENT_SET)
        return 0;
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    if (timeout == 0)
        return weft_fail(WEFT_ETIMEDOUT, "event is not set");
    return wait_slow(e, w, deadline);
}
