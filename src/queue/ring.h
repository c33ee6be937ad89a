/* SPDX-License-Identifier: MIT */
/* Inside the queue layer only: the ring's single steps, inline, so that
 * queue.c can try the common case of a put or get (the next cell is ready
 * and no peer takes it first) without a call, and ring.c can build its
 * full loop from the same steps. The design is in ring.c. */
#ifndef WEFT_QUEUE_RING_H
#define WEFT_QUEUE_RING_H

#include "base/chaos.h"
#include "queue_int.h"

/* The top bit of tail or head: puts (gets) refused after a shutdown. */
#define RING_FROZEN (UINT64_C(1) << 63)

static inline struct ring_cell *ring_cell(const struct ring *r, uint64_t pos)
{
    return &r->cells[pos & r->index_mask];
}

/* The position after pos: the next index, or index 0 of the next lap. */
static inline uint64_t ring_next(const struct ring *r, uint64_t pos)
{
    if ((pos & r->index_mask) + 1 < r->cap)
        return pos + 1;
    return (pos & ~r->index_mask) + r->one_lap;
}

/* Claim position tail for a put if its cell is free and tail still holds
 * it; on failure *tail holds tail's new value. A frozen tail never matches
 * a stamp, so a shut ring refuses here too. */
static inline int ring_claim_put(struct ring *r, struct ring_cell *c,
                                 uint64_t *tail)
{
    /* Acquire: pairs with the release that freed the cell in
     * ring_finish_get(), so the old item was read before we overwrite. */
    if (atomic_load_explicit(&c->stamp, memory_order_acquire) != *tail)
        return 0;
    /* seq_cst: the claim half of the Dekker pair with a sleeping getter's
     * get_would_block(). */
    return atomic_compare_exchange_weak_explicit(
        &r->tail, tail, ring_next(r, *tail), memory_order_seq_cst,
        memory_order_relaxed);
}

static inline void ring_finish_put(struct ring_cell *c, uint64_t tail,
                                   void *item)
{
    c->item = item;
    /* Release: pairs with the acquire stamp load of the get. */
    atomic_store_explicit(&c->stamp, tail + 1, memory_order_release);
}

/* Claim position head (frozen bit kept) for a get if its cell holds an
 * item and head still holds it; on failure *head holds head's new value. */
static inline int ring_claim_get(struct ring *r, struct ring_cell *c,
                                 uint64_t *head)
{
    uint64_t pos = *head & ~RING_FROZEN;
    /* Acquire: pairs with the release that published the item. */
    if (atomic_load_explicit(&c->stamp, memory_order_acquire) != pos + 1)
        return 0;
    /* seq_cst: the claim half of the Dekker pair with a sleeping putter's
     * put_would_block(). */
    return atomic_compare_exchange_weak_explicit(
        &r->head, head, ring_next(r, pos) | (*head & RING_FROZEN),
        memory_order_seq_cst, memory_order_relaxed);
}

static inline void *ring_finish_get(const struct ring *r, struct ring_cell *c,
                                    uint64_t pos)
{
    void *item = c->item;
    /* Release: pairs with the acquire stamp load of the put one lap on. */
    atomic_store_explicit(&c->stamp, pos + r->one_lap, memory_order_release);
    return item;
}

/* The common case of a put, tried once: 1 if item went in; 0 when the full
 * path (kind->try_put) must decide. */
static inline int ring_put_fast(struct ring *r, void *item)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    struct ring_cell *c = ring_cell(r, tail);
    if (!ring_claim_put(r, c, &tail))
        return 0;
    WEFT_CHAOS_POINT(); /* claimed, not yet published: getters see BUSY */
    ring_finish_put(c, tail, item);
    return 1;
}

/* The common case of a get, tried once (a frozen head is left to the full
 * path): 1 if *item was taken. */
static inline int ring_get_fast(struct ring *r, void **item)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    struct ring_cell *c = ring_cell(r, head);
    if ((head & RING_FROZEN) || !ring_claim_get(r, c, &head))
        return 0;
    WEFT_CHAOS_POINT(); /* claimed, not yet freed: putters see BUSY */
    *item = ring_finish_get(r, c, head);
    return 1;
}

#endif
