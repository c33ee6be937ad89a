/* SPDX-License-Identifier: MIT */
/* Waiting on a word in memory shared between processes: the kernel's futex,
 * since the parking table is private to one process.
 *
 * A cancel cannot wake a thread out of a futex it shares with other
 * processes without changing the word itself, so a thread inside a cancel
 * scope sleeps in slices and looks at its scopes between them. */
#include "base/check.h"
#include "park_int.h"

#define CANCEL_SLICE_NS 20000000 /* 20 ms */

int weft_park_wait_shared(const void *addr, uint32_t expected, int64_t deadline)
{
    WEFT_REFUSE_NULL(addr);
    const _Atomic uint32_t *word = addr;
    weft_waiter_t *w = weft_park_current();
    for (;;) {
        int64_t now = weft_monotonic_ns(), dl = deadline;
        if (weft__waiter(w)->scope_ && weft__scope_check(w, now, &dl))
            return WEFT_ECANCELLED;
        if (now >= deadline)
            return WEFT_ETIMEDOUT;
        if (weft__waiter(w)->scope_ && dl - now > CANCEL_SLICE_NS)
            dl = now + CANCEL_SLICE_NS;
        if (atomic_load_explicit(word, memory_order_acquire) != expected)
            return 0;
        WEFT_CHAOS_POINT(); /* between the look and the kernel's re-check */
        /* Woken, or the word changed: the caller looks again. Timed out at
         * a slice's or the deadline's end: the loop tells which. */
        if (weft__futex_wait(word, expected, dl, 1) == 0)
            return 0;
    }
}

void weft_park_wake_shared(const void *word, int n)
{
    weft__futex_wake(word, n, 1);
}
