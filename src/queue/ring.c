/* SPDX-License-Identifier: MIT */
/* The ring: a bounded FIFO without a lock, for queue.Queue(maxsize).
 *
 * Design (Vyukov's bounded MPMC queue, with the lap encoding of crossbeam's
 * ArrayQueue so that any capacity works without a division).
 *
 * Positions. tail is where the next put goes and head where the next get
 * comes from. A position is lap + index: index < cap picks the cell, and
 * lap counts in units of one_lap, the power of two above cap. Moving on from
 * the last index starts the next lap at index 0. So the items accepted so
 * far are count(tail) = (tail / one_lap) * cap + index, the items taken
 * count(head), and the queue holds count(tail) - count(head).
 *
 * Cells. Each cell has a stamp saying whose turn it is:
 *   stamp == pos        free for the put at pos;
 *   stamp == pos + 1    holds the item put at pos, for the get at pos;
 * and after the get at pos the stamp becomes pos + one_lap, the position of
 * the same cell one lap later. A put claims pos by moving tail from pos on
 * (compare-and-swap), then writes the item and publishes stamp pos + 1
 * (release; the get's acquire load of the stamp pairs with it). A get claims
 * pos by moving head on, reads the item, and frees the cell with stamp pos
 * + one_lap (release; pairs with the put's acquire load). Claims are
 * exclusive, so every item is written once and read once: none is lost or
 * delivered twice.
 *
 * Full, empty, busy. Between its claim and its stamp a peer is "half-way".
 * A put whose cell is not free checks head: if the queue holds cap items
 * by claims (head + one_lap == tail) it is full; otherwise a get has
 * claimed the cell and is still reading it, and the put says QUEUE_BUSY.
 * Likewise a get whose cell holds nothing is empty when head == tail, and
 * busy when a put claimed the cell but has not published yet. Busy never
 * means sleep: the peer finishes within a few instructions of its own,
 * unless it was preempted, so callers spin and yield. That keeps the ring
 * exact: a nowait get fails only when every put claimed so far has been
 * taken, and a nowait put only when cap items are in the queue.
 *
 * Shutdown. The top bit of tail (RING_FROZEN) refuses puts; the top bit of head
 * refuses gets (immediate shutdown). Each is set with one fetch-or, so every
 * later claim's compare-and-swap fails and sees it; a claim made before
 * completes normally. An immediate shutdown learns from its fetch-or on head
 * the exact position at which gets stopped, so the items it counts as done
 * are exactly those left. A drain takes items past a frozen head, keeping
 * the bit.
 *
 * Sleeping is queue.c's business. For it the claims are what matter: a get
 * may sleep only while head == tail, a put only while the queue is full by
 * claims, both checked by *_would_block() with seq_cst loads; every claim is
 * a seq_cst compare-and-swap, and the claimer reads the other side's
 * sleeper count (seq_cst) after finishing. That is Dekker's pattern: either
 * the sleeper sees the claim and does not sleep, or the claimer sees the
 * sleeper and wakes it.
 */
#include "ring.h"

#include <stdlib.h>

static inline uint64_t unfrozen(uint64_t pos)
{
    return pos & ~RING_FROZEN;
}

static inline uint64_t count_of(const struct ring *r, uint64_t pos)
{
    pos = unfrozen(pos);
    return (pos >> r->lap_shift) * r->cap + (pos & r->index_mask);
}

/* The put at tail found its cell taken: full, or a get is half-way. */
static int put_blocked(struct ring *r, uint64_t tail)
{
    /* seq_cst: a head moved on by a claim before this look is seen. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
    return unfrozen(head) + r->one_lap == tail ? WEFT_EFULL : QUEUE_BUSY;
}

static int ring_try_put(struct weft_queue *q, void *item)
{
    struct ring *r = &q->u.ring;
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    for (;;) {
        if (tail & RING_FROZEN)
            return WEFT_ESHUTDOWN;
        struct ring_cell *c = ring_cell(r, tail);
        uint64_t seen = tail;
        if (ring_claim_put(r, c, &tail)) {
            WEFT_CHAOS_POINT(); /* claimed, not yet published */
            ring_finish_put(c, tail, item);
            return 0;
        }
        if (tail != seen)
            continue; /* a compare-and-swap lost to another putter */
        tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
        if (tail == seen)
            return put_blocked(r, tail);
    }
}

/* The get at pos found no item in its cell: empty, shut, or a put is
 * half-way. */
static int get_blocked(struct ring *r, uint64_t pos)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
    if (unfrozen(tail) != pos)
        return QUEUE_BUSY;
    return (tail & RING_FROZEN) ? WEFT_ESHUTDOWN : WEFT_EEMPTY;
}

static int ring_try_get(struct weft_queue *q, void **item, int draining)
{
    struct ring *r = &q->u.ring;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        if ((head & RING_FROZEN) && !draining)
            return WEFT_ESHUTDOWN;
        struct ring_cell *c = ring_cell(r, head);
        uint64_t seen = head;
        if (ring_claim_get(r, c, &head)) {
            WEFT_CHAOS_POINT(); /* claimed, not yet freed */
            *item = ring_finish_get(r, c, unfrozen(head));
            return 0;
        }
        if (head != seen)
            continue; /* a compare-and-swap lost to another getter */
        head = atomic_load_explicit(&r->head, memory_order_seq_cst);
        if (head == seen)
            return get_blocked(r, unfrozen(head));
    }
}

static int ring_put_would_block(const struct weft_queue *q)
{
    const struct ring *r = &q->u.ring;
    /* seq_cst: the check half of the Dekker pair with the claim in
     * ring_try_get(). */
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
    return !(tail & RING_FROZEN) && unfrozen(head) + r->one_lap == tail;
}

static int ring_get_would_block(const struct weft_queue *q)
{
    const struct ring *r = &q->u.ring;
    /* seq_cst: the check half of the Dekker pair with the claim in
     * ring_try_put(). */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
    return !(head & RING_FROZEN) && !(tail & RING_FROZEN) && head == tail;
}

static uint64_t ring_accepted(const struct weft_queue *q)
{
    const struct ring *r = &q->u.ring;
    return count_of(r, atomic_load_explicit(&r->tail, memory_order_seq_cst));
}

static size_t ring_size(const struct weft_queue *q)
{
    const struct ring *r = &q->u.ring;
    for (;;) {
        /* A head read between two equal reads of tail is a consistent
         * pair: head never passes tail. */
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
        uint64_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
        if (atomic_load_explicit(&r->tail, memory_order_seq_cst) == tail)
            return (size_t)(count_of(r, tail) - count_of(r, head));
    }
}

static size_t ring_shutdown(struct weft_queue *q, int immediate)
{
    struct ring *r = &q->u.ring;
    atomic_fetch_or_explicit(&r->tail, RING_FROZEN, memory_order_seq_cst);
    if (!immediate)
        return 0;
    WEFT_CHAOS_POINT(); /* puts refused, gets not yet */
    uint64_t head =
        atomic_fetch_or_explicit(&r->head, RING_FROZEN, memory_order_seq_cst);
    if (head & RING_FROZEN)
        return 0;
    /* tail is frozen: no claim can move it any more. */
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
    return (size_t)(count_of(r, tail) - count_of(r, head));
}

static void ring_destroy(struct weft_queue *q)
{
    free(q->u.ring.cells);
}

const queue_kind_t weft__ring_kind = {
    ring_try_put, ring_try_get,  ring_put_would_block, ring_get_would_block,
    ring_size,    ring_accepted, ring_shutdown,        ring_destroy,
};

int weft__ring_init(struct weft_queue *q, size_t cap)
{
    struct ring *r = &q->u.ring;
    r->cells = weft__queue_alloc(cap * sizeof *r->cells);
    if (r->cells == NULL)
        return WEFT_ENOMEM;
    r->cap = cap;
    r->one_lap = 1;
    r->lap_shift = 0;
    while (r->one_lap < (uint64_t)cap + 1) {
        r->one_lap <<= 1;
        r->lap_shift++;
    }
    r->index_mask = r->one_lap - 1;
    for (size_t i = 0; i < cap; i++)
        atomic_init(&r->cells[i].stamp, i);
    atomic_init(&r->tail, 0);
    atomic_init(&r->head, 0);
    q->kind = &weft__ring_kind;
    return 0;
}
