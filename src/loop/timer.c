/* SPDX-License-Identifier: MIT */
/* The timer queue: a 4-ary min-heap plus a sorted lane.
 *
 * Timers are ordered by (when, seq): deadline first, then the order they
 * were set, so ties run FIFO. Most programs set timers whose deadlines only
 * grow (zero delays, one timeout used everywhere, coroutines sleeping the
 * same time): such a timer, not earlier than the last one in the lane, is
 * appended to the lane, a ring in (when, seq) order, in O(1), and taken
 * from its head in O(1). Any other timer goes to the heap. The first timer
 * is the smaller of the lane's head and the heap's top.
 *
 * Cancelling a heap timer removes it at once (each node knows its index).
 * A lane timer is only marked; it is dropped when it reaches the head, and
 * the lane is compacted when more than half of it is cancelled, so
 * timeouts that are set and cancelled over and over do not pile up.
 */
#include "loop_int.h"

#include <stdlib.h>

#define NOT_IN_HEAP ((size_t)-1)

static inline int before(const struct lnode *a, const struct lnode *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

int weft__timers_init(struct timers *t)
{
    t->cap = 256;
    t->heap = malloc(t->cap * sizeof *t->heap);
    t->lmask = 255;
    t->lane = malloc((t->lmask + 1) * sizeof *t->lane);
    if (t->heap == NULL || t->lane == NULL) {
        free(t->heap);
        free(t->lane);
        return weft_fail(WEFT_ENOMEM, "loop: no memory for timers");
    }
    return 0;
}

void weft__timers_destroy(struct timers *t)
{
    free(t->heap);
    free(t->lane);
    t->heap = NULL;
    t->lane = NULL;
}

/* ----- The heap ----- */

static void heap_place(struct timers *t, size_t i, struct lnode *n)
{
    t->heap[i] = n;
    n->index = i;
}

static void sift_up(struct timers *t, size_t i, struct lnode *n)
{
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(n, t->heap[parent]))
            break;
        heap_place(t, i, t->heap[parent]);
        i = parent;
    }
    heap_place(t, i, n);
}

static void sift_down(struct timers *t, size_t i, struct lnode *n)
{
    for (;;) {
        size_t first = 4 * i + 1, best = i;
        struct lnode *min = n;
        size_t end = first + 4 < t->n ? first + 4 : t->n;
        for (size_t c = first; c < end; c++) {
            if (before(t->heap[c], min)) {
                min = t->heap[c];
                best = c;
            }
        }
        if (best == i)
            break;
        heap_place(t, i, min);
        i = best;
    }
    heap_place(t, i, n);
}

static int heap_push(struct timers *t, struct lnode *n)
{
    if (t->n == t->cap) {
        struct lnode **h = realloc(t->heap, 2 * t->cap * sizeof *h);
        if (h == NULL)
            return weft_fail(WEFT_ENOMEM, "loop: no memory for a timer");
        t->heap = h;
        t->cap *= 2;
    }
    n->state = NODE_HEAP;
    sift_up(t, t->n++, n);
    return 0;
}

static void heap_remove(struct timers *t, struct lnode *n)
{
    size_t i = n->index;
    struct lnode *last = t->heap[--t->n];
    n->index = NOT_IN_HEAP;
    if (last == n)
        return;
    if (i > 0 && before(last, t->heap[(i - 1) / 4]))
        sift_up(t, i, last);
    else
        sift_down(t, i, last);
}

/* ----- The lane ----- */

static size_t lane_count(const struct timers *t)
{
    return t->ltail - t->lhead;
}

static int lane_grow(struct timers *t)
{
    size_t cap = (t->lmask + 1) * 2, n = lane_count(t);
    struct lnode **lane = malloc(cap * sizeof *lane);
    if (lane == NULL)
        return weft_fail(WEFT_ENOMEM, "loop: no memory for a timer");
    for (size_t i = 0; i < n; i++)
        lane[i] = t->lane[(t->lhead + i) & t->lmask];
    free(t->lane);
    t->lane = lane;
    t->lmask = cap - 1;
    t->lhead = 0;
    t->ltail = n;
    return 0;
}

static struct lnode *lane_last(const struct timers *t)
{
    return t->lane[(t->ltail - 1) & t->lmask];
}

static int lane_push(struct timers *t, struct lnode *n)
{
    if (lane_count(t) > t->lmask && lane_grow(t))
        return WEFT_ENOMEM;
    n->state = NODE_LANE;
    t->lane[t->ltail++ & t->lmask] = n;
    return 0;
}

/* Drop cancelled timers in place, keeping the order of the rest. */
static void lane_compact(weft_loop_t *loop)
{
    struct timers *t = &loop->timers;
    size_t n = lane_count(t), kept = 0;
    for (size_t i = 0; i < n; i++) {
        struct lnode *x = t->lane[(t->lhead + i) & t->lmask];
        if (x->state == NODE_CANCELLED)
            weft__node_put(loop, x);
        else
            t->lane[(t->lhead + kept++) & t->lmask] = x;
    }
    t->ltail = t->lhead + kept;
    t->lane_cancelled = 0;
}

/* The lane's first live timer, dropping cancelled ones on the way. */
static struct lnode *lane_head(weft_loop_t *loop)
{
    struct timers *t = &loop->timers;
    while (t->lhead != t->ltail) {
        struct lnode *n = t->lane[t->lhead & t->lmask];
        if (n->state != NODE_CANCELLED)
            return n;
        t->lhead++;
        t->lane_cancelled--;
        weft__node_put(loop, n);
    }
    return NULL;
}

/* ----- The queue ----- */

int weft__timer_add(weft_loop_t *loop, struct lnode *n)
{
    struct timers *t = &loop->timers;
    n->seq = t->seq++;
    n->index = NOT_IN_HEAP;
    if (t->lhead == t->ltail || !before(n, lane_last(t)))
        return lane_push(t, n);
    return heap_push(t, n);
}

void weft__timer_cancel(weft_loop_t *loop, struct lnode *n)
{
    struct timers *t = &loop->timers;
    if (n->state == NODE_HEAP) {
        heap_remove(t, n);
        weft__node_put(loop, n);
        return;
    }
    n->state = NODE_CANCELLED;
    t->lane_cancelled++;
    if (t->lane_cancelled > 64 && t->lane_cancelled > lane_count(t) / 2)
        lane_compact(loop);
}

struct lnode *weft__timer_first(weft_loop_t *loop)
{
    struct lnode *l = lane_head(loop);
    struct lnode *h = loop->timers.n ? loop->timers.heap[0] : NULL;
    if (l == NULL)
        return h;
    return h && before(h, l) ? h : l;
}

/* Take the first timer out of the queue, given that it is first. */
static void take(weft_loop_t *loop, struct lnode *n)
{
    struct timers *t = &loop->timers;
    if (n->state == NODE_LANE)
        t->lhead++;
    else
        heap_remove(t, n);
}

int weft__timers_collect(weft_loop_t *loop)
{
    struct lnode *n;
    while ((n = weft__timer_first(loop)) && n->when <= loop->now) {
        int rc = ring_push(&loop->ready, n->fn, n->arg, n);
        if (rc)
            return rc; /* it stays queued, and runs once memory returns */
        take(loop, n);
        n->state = NODE_READY;
    }
    return 0;
}
