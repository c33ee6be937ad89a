/* SPDX-License-Identifier: MIT */
/* Inside the park layer only: futex calls and the small lock that guards a
 * bucket of the parking table or a cancel scope. */
#ifndef WEFT_PARK_INT_H
#define WEFT_PARK_INT_H

#include "base/chaos.h"
#include "weft/park.h"

/* Kernel futex: wait while *word == expected, until the absolute monotonic
 * deadline (WEFT_NEVER: none). shared selects a futex visible across
 * processes. Returns 0 or WEFT_ETIMEDOUT; early returns are allowed. */
int weft__futex_wait(const _Atomic uint32_t *word, uint32_t expected,
                     int64_t deadline, int shared);
void weft__futex_wake(const _Atomic uint32_t *word, int n, int shared);

/* A three-state futex lock (0 free, 1 held, 2 held with sleepers) for the
 * table's buckets and the scopes: short critical sections that must not go
 * through park themselves. */
void weft__wordlock_lock_slow(_Atomic uint32_t *l);

static inline void weft__wordlock_lock(_Atomic uint32_t *l)
{
    uint32_t expected = 0;
    /* Pairs with the release in weft__wordlock_unlock(). */
    if (!atomic_compare_exchange_strong_explicit(
            l, &expected, 1, memory_order_acquire, memory_order_relaxed))
        weft__wordlock_lock_slow(l);
}

static inline void weft__wordlock_unlock(_Atomic uint32_t *l)
{
    if (atomic_exchange_explicit(l, 0, memory_order_release) == 2)
        weft__futex_wake(l, 1, 0);
}

/* ----- What a waiter and a cancel scope hold -----
 *
 * park.h gives callers only the size and alignment of weft_waiter_t's
 * private part and of weft_cancel_scope_t, so that C++ can include it; the
 * fields are here, reached through weft__waiter() and weft__scope(), casts
 * that cost nothing. waiter.c and scope.c check that they fit. The coro
 * layer, whose coroutines are a kind of waiter, reaches them the same way. */
struct weft__waiter_impl {
    const weft_waiter_ops_t *ops; /* the public fields, at the same offsets */
    void *data;
    uint64_t id;
    _Atomic uint32_t state; /* WEFT_WAITER_* bits */
    weft_waiter_t *next_;
    const void *addr_;
    uintptr_t token_;
    weft_cancel_scope_t *scope_;
};

struct weft__scope_impl {
    weft_cancel_scope_t *parent_;
    weft_waiter_t *waiter_;
    int64_t deadline_;
    _Atomic uint32_t lock_;
    _Atomic int cancelled_; /* 0, or why: WEFT_ECANCELLED, WEFT_ETIMEDOUT */
    unsigned flags_;
    const _Atomic uint32_t *watch_;
    uint32_t watch_mask_;
};

static inline struct weft__waiter_impl *weft__waiter(const weft_waiter_t *w)
{
    return (struct weft__waiter_impl *)w;
}

static inline struct weft__scope_impl *weft__scope(const weft_cancel_scope_t *s)
{
    return (struct weft__scope_impl *)s;
}

/* The chain of scopes of w at time now (-1: read the clock only if a scope
 * has a deadline): WEFT_ECANCELLED if one (up to a shield) is cancelled or
 * past its deadline, marking it so; else 0, with *deadline (if not NULL)
 * lowered to the earliest scope deadline. */
int weft__scope_check(weft_waiter_t *w, int64_t now, int64_t *deadline);

#endif
