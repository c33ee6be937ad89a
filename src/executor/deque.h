/* SPDX-License-Identifier: MIT */
/* The work-stealing deque of one worker (Chase and Lev; the C11 orders of
 * Le, Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing
 * for Weak Memory Models", 2013). The owner pushes and pops at the bottom;
 * thieves steal from the top. Inside the executor layer only. */
#ifndef WEFT_EXECUTOR_DEQUE_H
#define WEFT_EXECUTOR_DEQUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct weft__deque_array;

struct weft__deque {
    _Alignas(64) _Atomic int64_t top;
    _Alignas(64) _Atomic int64_t bottom;
    _Atomic(struct weft__deque_array *) array;
    struct weft__deque_array *retired; /* outgrown arrays, freed at the end */
};

/* What steal returns when it lost a race: try again, or elsewhere. */
#define WEFT__DEQUE_ABORT ((void *)1)

int weft__deque_init(struct weft__deque *d, size_t capacity);
void weft__deque_destroy(struct weft__deque *d);

/* Owner only. push returns 0, or WEFT_ENOMEM when it cannot grow. */
int weft__deque_push(struct weft__deque *d, void *item);
void *weft__deque_pop(struct weft__deque *d);

/* Any thread: the oldest item, NULL when empty, WEFT__DEQUE_ABORT on a
 * lost race. */
void *weft__deque_steal(struct weft__deque *d);

/* Take item out if it is the oldest (any thread) or the newest (owner
 * only); 1 if taken. How a worker that waits on a task it queued itself
 * takes it back without leaving a stale entry behind. */
int weft__deque_steal_if(struct weft__deque *d, void *item);
int weft__deque_pop_if(struct weft__deque *d, void *item);

/* A snapshot of the size, for heuristics only. */
int64_t weft__deque_size(struct weft__deque *d);

#endif
