/* SPDX-License-Identifier: MIT */
/** weft/queue.h: Queue, LifoQueue, PriorityQueue and SimpleQueue, Python's
 * `queue` module, for threads (and, with the coro layer, coroutines) of one
 * process. The ipc layer has the queues that cross processes.
 *
 * Items are pointers, passed on as they are: weft never looks at or frees
 * what they point to, and NULL is an item like any other (the seeds' None
 * sentinel). No item accepted by put is ever lost or delivered twice: it
 * goes to exactly one get, or stays in the queue (weft_queue_drain() takes
 * out what a shutdown leaves behind).
 *
 * maxsize 0 means unbounded, as in Python. Timeouts are double seconds:
 * WEFT_FOREVER blocks, 0 does not wait (put_nowait/get_nowait), and a put
 * that finds no room in time returns WEFT_EFULL, a get that finds nothing
 * WEFT_EEMPTY. Answers are exact: a nowait get fails only when every item
 * put so far has been taken, a nowait put only when maxsize items are in
 * (to say so, it may wait for another thread that is half-way through a
 * put or get on the same slot; that takes a few instructions, unless that
 * thread was preempted). Inside a cancelled scope (park.h) a call that has
 * to wait returns WEFT_ECANCELLED; one that can finish at once does.
 *
 * Memory: a FIFO queue with 0 < maxsize <= 65536 allocates its slots (16
 * bytes each) when made and never takes a lock; every other queue grows
 * and shrinks with what it holds.
 *
 * Shutdown follows Python 3.13: after weft_queue_shutdown(q, 0) every put
 * returns WEFT_ESHUTDOWN and gets go on until the queue is empty, then
 * return WEFT_ESHUTDOWN; after weft_queue_shutdown(q, 1) gets return
 * WEFT_ESHUTDOWN at once, the items left count as done for join(), and they
 * stay in the queue for weft_queue_drain(). Threads blocked in put or get
 * wake up (to WEFT_ESHUTDOWN, or to the items still to be got); a thread
 * blocked in join returns once no task is unfinished, which an immediate
 * shutdown can make true at once.
 *
 * Defaults for this layer: thread-safe, any number of putters and getters;
 * blocking only where marked. The comparator of a priority queue runs with
 * the queue's internal lock held: it must not call into the queue.
 * \file */
#ifndef WEFT_QUEUE_H
#define WEFT_QUEUE_H

#include <stddef.h>

#include "weft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A queue of any kind: see the constructors below. */
typedef struct weft_queue weft_queue_t;

/** A FIFO queue (queue.Queue), a LIFO queue (queue.LifoQueue), or a priority
 * queue (queue.PriorityQueue) whose get returns the item that compare ranks
 * lowest (compare(a, b, ctx) < 0 when a comes before b); items that compare
 * equal come out in the order they were put.
 * Ownership: *out returns new, freed with weft_queue_free().
 * Errors: WEFT_EINVAL (NULL out or compare), WEFT_ENOMEM. *out is set
 * only on success. */
WEFT_API int weft_queue_new(weft_queue_t **out, size_t maxsize);
WEFT_API int weft_lifo_queue_new(weft_queue_t **out, size_t maxsize);
WEFT_API int weft_priority_queue_new(weft_queue_t **out, size_t maxsize,
                                     int (*compare)(const void *a,
                                                    const void *b, void *ctx),
                                     void *ctx);

/** An unbounded FIFO queue without task tracking (queue.SimpleQueue):
 * task_done and join are WEFT_ENOTSUP on it. Unlike Python's, it can be
 * shut down like the others. */
WEFT_API int weft_simple_queue_new(weft_queue_t **out);

/** Free q. Items still inside are not freed (weft does not own them): drain
 * them first if they need freeing. No thread may be using q. NULL: no-op. */
WEFT_API void weft_queue_free(weft_queue_t *q);

/** Put item in q, waiting up to timeout seconds for room.
 * Blocks: until there is room, the timeout passes, or q shuts down.
 * Ownership: item is passed on as is to exactly one getter.
 * Errors: WEFT_EFULL, WEFT_ESHUTDOWN (checked first, as in Python),
 * WEFT_ECANCELLED, WEFT_EINVAL (NULL q, bad timeout), WEFT_ENOMEM (a
 * growing queue could not grow); q is then unchanged. */
WEFT_API int weft_queue_put(weft_queue_t *q, void *item, double timeout);
WEFT_API int weft_queue_put_nowait(weft_queue_t *q, void *item);

/** Take the next item into *item, waiting up to timeout seconds for one.
 * Blocks: until there is an item, the timeout passes, or q shuts down.
 * Errors: WEFT_EEMPTY, WEFT_ESHUTDOWN, WEFT_ECANCELLED, WEFT_EINVAL (NULL
 * q or item, bad timeout); *item is then unchanged and no item was taken.
 */
WEFT_API int weft_queue_get(weft_queue_t *q, void **item, double timeout);
WEFT_API int weft_queue_get_nowait(weft_queue_t *q, void **item);

/** Snapshots: how many items are in q, whether it is empty or full, and its
 * maxsize (0: unbounded). An item counts from the moment its put has
 * claimed a slot until its get has. NULL q: 0. */
WEFT_API size_t weft_queue_qsize(const weft_queue_t *q);
WEFT_API int weft_queue_empty(const weft_queue_t *q);
WEFT_API int weft_queue_full(const weft_queue_t *q);
WEFT_API size_t weft_queue_maxsize(const weft_queue_t *q);

/** Say that an item taken by get has been dealt with.
 * Errors: WEFT_EINVAL when called more times than items were put
 * ("task_done() called too many times") or on a NULL q, WEFT_ENOTSUP on a
 * SimpleQueue. */
WEFT_API int weft_queue_task_done(weft_queue_t *q);

/** Wait until every item put has been got and marked done, up to timeout
 * seconds (Python's join has no timeout; WEFT_FOREVER is the same).
 * Blocks: yes. Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL,
 * WEFT_ENOTSUP on a SimpleQueue. */
WEFT_API int weft_queue_join(weft_queue_t *q, double timeout);

/** Shut q down (see above); immediate nonzero for shutdown(immediate=True).
 * Shutting down twice is allowed; an immediate shutdown after a gentle one
 * makes it immediate, and counts done the items left at that moment (as
 * many as tasks are unfinished: never more). Errors: WEFT_EINVAL (NULL q).
 * weft_queue_is_shutdown: nonzero once shut down (0 for a NULL q). */
WEFT_API int weft_queue_shutdown(weft_queue_t *q, int immediate);
WEFT_API int weft_queue_is_shutdown(const weft_queue_t *q);

/** Take up to max items out of q without waiting, in get order, into items;
 * returns how many (0 for a NULL q or items). Works in every state, shut
 * down or not. An item taken needs task_done() like one taken by get,
 * unless an immediate shutdown has already counted it done. Room it makes
 * wakes blocked putters. */
WEFT_API size_t weft_queue_drain(weft_queue_t *q, void **items, size_t max);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_QUEUE_H */
