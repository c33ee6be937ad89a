/* SPDX-License-Identifier: MIT */
/* Locked storage: every queue that is not the ring (an unbounded or large
 * FIFO, a LIFO, a priority queue, a SimpleQueue) keeps its items in a store
 * (fifo.c, lifo.c, priority.c) under one weft_lock_t, held for a few
 * instructions per call (and for the comparator's calls, for a heap).
 *
 * What the lock guards: the store, shut, and the copies kept for readers
 * outside it (count, accepted). Those copies are atomics, written under the
 * lock and read without it: by qsize, by task counting, and by the
 * *_would_block() checks that a sleeper makes under park's lock. count is
 * stored seq_cst, the change half of the Dekker pair whose other half is a
 * sleeper's count check (see queue.c); shut needs no such pair, since a
 * shutdown unparks everyone after setting it.
 *
 * Lock order: this lock, then park's (never the other way: nothing here
 * runs inside a park callback but atomic loads).
 */
#include "queue_int.h"

#include "base/chaos.h"

/* The lock is held only for a few instructions (and the comparator), so
 * waiting for it is not a wait a caller may cancel. */
static void lock(struct locked *l)
{
    weft_lock_acquire_shielded(&l->lock);
}

static void unlock(struct locked *l)
{
    weft_lock_release(&l->lock);
}

/* Publish len for readers outside the lock. */
static void publish_len(struct locked *l)
{
    /* seq_cst: the change half of the Dekker pair with *_would_block(). */
    atomic_store_explicit(&l->count, l->len, memory_order_seq_cst);
}

static int locked_try_put(struct weft_queue *q, void *item)
{
    struct locked *l = &q->u.locked;
    lock(l);
    int rc;
    if (atomic_load_explicit(&l->shut, memory_order_relaxed))
        rc = WEFT_ESHUTDOWN;
    else if (q->maxsize && l->len >= q->maxsize)
        rc = WEFT_EFULL;
    else
        rc = l->store->push(l, item);
    if (rc == 0) {
        WEFT_CHAOS_POINT(); /* stored under the lock, not yet published */
        publish_len(l);
        /* Release: pairs with the seq_cst load in locked_accepted(). */
        atomic_fetch_add_explicit(&l->accepted, 1, memory_order_release);
    }
    unlock(l);
    return rc;
}

static int locked_try_get(struct weft_queue *q, void **item, int draining)
{
    struct locked *l = &q->u.locked;
    lock(l);
    unsigned shut = atomic_load_explicit(&l->shut, memory_order_relaxed);
    int rc = 0;
    if ((shut & SHUT_IMMEDIATE) && !draining)
        rc = WEFT_ESHUTDOWN;
    else if (l->len == 0)
        rc = shut ? WEFT_ESHUTDOWN : WEFT_EEMPTY;
    else {
        *item = l->store->pop(l);
        publish_len(l);
    }
    unlock(l);
    return rc;
}

static int locked_put_would_block(const struct weft_queue *q)
{
    const struct locked *l = &q->u.locked;
    if (atomic_load_explicit(&l->shut, memory_order_relaxed))
        return 0;
    /* seq_cst: the check half of the Dekker pair with publish_len(). */
    return q->maxsize &&
           atomic_load_explicit(&l->count, memory_order_seq_cst) >= q->maxsize;
}

static int locked_get_would_block(const struct weft_queue *q)
{
    const struct locked *l = &q->u.locked;
    if (atomic_load_explicit(&l->shut, memory_order_relaxed))
        return 0;
    /* seq_cst: the check half of the Dekker pair with publish_len(). */
    return atomic_load_explicit(&l->count, memory_order_seq_cst) == 0;
}

static size_t locked_size(const struct weft_queue *q)
{
    return atomic_load_explicit(&q->u.locked.count, memory_order_seq_cst);
}

static uint64_t locked_accepted(const struct weft_queue *q)
{
    return atomic_load_explicit(&q->u.locked.accepted, memory_order_seq_cst);
}

static size_t locked_shutdown(struct weft_queue *q, int immediate)
{
    struct locked *l = &q->u.locked;
    lock(l);
    unsigned shut = atomic_load_explicit(&l->shut, memory_order_relaxed);
    size_t frozen = 0;
    if (immediate && !(shut & SHUT_IMMEDIATE))
        frozen = l->len;
    shut |= SHUT_GENTLE | (immediate ? SHUT_IMMEDIATE : 0);
    atomic_store_explicit(&l->shut, shut, memory_order_seq_cst);
    unlock(l);
    return frozen;
}

static void locked_destroy(struct weft_queue *q)
{
    struct locked *l = &q->u.locked;
    l->store->destroy(l);
    weft_lock_destroy(&l->lock);
}

static const queue_kind_t locked_kind = {
    locked_try_put,         locked_try_get, locked_put_would_block,
    locked_get_would_block, locked_size,    locked_accepted,
    locked_shutdown,        locked_destroy,
};

int weft__locked_init(struct weft_queue *q, const store_ops_t *store)
{
    struct locked *l = &q->u.locked;
    weft_lock_init(&l->lock);
    l->store = store;
    l->len = l->cap = l->first = 0;
    l->items = NULL;
    l->heap = NULL;
    l->next_seq = 0;
    atomic_init(&l->count, 0);
    atomic_init(&l->accepted, 0);
    atomic_init(&l->shut, 0);
    q->kind = &locked_kind;
    return 0;
}
