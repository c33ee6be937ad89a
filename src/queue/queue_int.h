/* SPDX-License-Identifier: MIT */
/* Inside the queue layer only: the queue object, and what each kind of
 * storage gives the common core in queue.c.
 *
 * Two kinds of storage sit behind the one weft_queue_t:
 *   ring.c    a bounded FIFO without a lock (queue.Queue with a maxsize up
 *             to RING_MAX_CELLS): the fast path of the layer;
 *   locked.c  anything else, under a weft_lock_t: an unbounded or large FIFO
 *             (fifo.c), a LIFO (lifo.c) or a heap (priority.c).
 * Each kind only stores, takes and freezes; queue.c does the waiting, the
 * wake-ups, task counting and the messages, the same way for both.
 */
#ifndef WEFT_QUEUE_INT_H
#define WEFT_QUEUE_INT_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "weft/park.h"
#include "weft/queue.h"
#include "weft/sync.h"

/* What a try_put or try_get of a kind returns besides 0 and WEFT_E*: a peer
 * is half-way through an operation on the very slot needed (it claimed it
 * and is copying the item), so the answer comes within a few instructions
 * of that peer: look again shortly, do not sleep. */
#define QUEUE_BUSY (-1)

/* Bounded FIFO queues up to this many items use the ring (16 bytes a slot,
 * allocated up front); larger bounds use the growing FIFO. */
#define RING_MAX_CELLS ((size_t)1 << 16)

struct weft_queue;

typedef struct queue_kind {
    /* Store item: 0, WEFT_EFULL, WEFT_ESHUTDOWN, WEFT_ENOMEM, QUEUE_BUSY. */
    int (*try_put)(struct weft_queue *q, void *item);
    /* Take the next item: 0, WEFT_EEMPTY, WEFT_ESHUTDOWN (drained after a
     * shutdown, or any time after an immediate one unless draining),
     * QUEUE_BUSY. */
    int (*try_get)(struct weft_queue *q, void **item, int draining);
    /* Nonzero while a put (get) would find no room (no item) and the queue
     * is not shut down: the condition a sleeper validates under park's
     * lock. Reads only atomics, with seq_cst loads. */
    int (*put_would_block)(const struct weft_queue *q);
    int (*get_would_block)(const struct weft_queue *q);
    size_t (*size)(const struct weft_queue *q);
    /* How many items were ever accepted (the puts of task counting). */
    uint64_t (*accepted)(const struct weft_queue *q);
    /* Refuse puts from now on, and gets too when immediate. Returns how
     * many items this call froze in the queue by making it immediate (0
     * when it already was, or for a gentle shutdown). */
    size_t (*shutdown)(struct weft_queue *q, int immediate);
    void (*destroy)(struct weft_queue *q);
} queue_kind_t;

/* A slot of the ring: stamp says whose turn it is (see ring.c). */
struct ring_cell {
    _Atomic uint64_t stamp;
    void *item;
};

struct ring {
    struct ring_cell *cells;
    size_t cap;
    uint64_t one_lap;    /* the power of two above cap: the lap unit */
    uint64_t index_mask; /* one_lap - 1 */
    unsigned lap_shift;
    /* Written by every put (tail) and every get (head): a line each. */
    alignas(64) _Atomic uint64_t tail;
    alignas(64) _Atomic uint64_t head;
};

/* How a locked queue keeps its items (fifo.c, lifo.c, priority.c). Called
 * with the queue's lock held; push and pop keep len up to date. */
struct locked;
typedef struct store_ops {
    int (*push)(struct locked *l, void *item); /* 0 or WEFT_ENOMEM */
    void *(*pop)(struct locked *l);            /* only when len > 0 */
    void (*destroy)(struct locked *l);
} store_ops_t;

struct heap_entry {
    void *item;
    uint64_t seq; /* put order: equal items come out oldest first */
};

struct locked {
    weft_lock_t lock;
    const store_ops_t *store;
    /* Under the lock. */
    size_t len;
    size_t cap;
    size_t first; /* fifo: index of the oldest item */
    void **items; /* fifo (circular) and lifo */
    struct heap_entry *heap;
    uint64_t next_seq;
    int (*compare)(const void *a, const void *b, void *ctx);
    void *ctx;
    /* Written under the lock, read outside it. */
    _Atomic size_t count;      /* = len */
    _Atomic uint64_t accepted; /* items ever stored */
    _Atomic unsigned shut;     /* 0, SHUT_GENTLE or SHUT_IMMEDIATE */
};

#define SHUT_GENTLE 1u
#define SHUT_IMMEDIATE 2u

struct weft_queue {
    /* Read by every call, written only by new. */
    const queue_kind_t *kind;
    size_t maxsize;
    int tracks_tasks;
    _Atomic unsigned state; /* SHUT_* bits, for is_shutdown */
    /* Contexts that announced they are about to sleep, or sleep, waiting
     * for room, an item, or all tasks done; each is also the address they
     * park on. Read by every put and get, written only by sleepers. */
    alignas(64) _Atomic uint32_t sleeping_putters;
    alignas(64) _Atomic uint32_t sleeping_getters;
    alignas(64) _Atomic uint32_t sleeping_joiners;
    _Atomic uint64_t done; /* task_done calls, plus items an immediate
                              shutdown counted done */
    alignas(64) union {
        struct ring ring;
        struct locked locked;
    } u;
};

/* The ring's kind: queue.c tries the ring's common case inline (ring.h)
 * when q->kind is this one. */
extern const queue_kind_t weft__ring_kind;

/* Set up q->u for its kind and q->kind. Errors: WEFT_ENOMEM. */
int weft__ring_init(struct weft_queue *q, size_t cap);
int weft__locked_init(struct weft_queue *q, const store_ops_t *store);

extern const store_ops_t weft__fifo_store;
extern const store_ops_t weft__lifo_store;
extern const store_ops_t weft__heap_store;

/* Every allocation of the layer, so that tests can make one fail. */
void *weft__queue_alloc(size_t size);

/* Tests only: the nth allocation from now made by the calling thread in
 * this layer fails (0: none). Thread-local; not exported from the shared
 * library. */
void weft__queue_fail_alloc(unsigned nth);

#endif
