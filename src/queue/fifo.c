/* SPDX-License-Identifier: MIT */
/* The growing FIFO store: a circular array of item pointers that doubles
 * when full and halves when a quarter full, so an unbounded queue holds
 * memory in proportion to what it holds (as Python's deque does). cap is
 * always a power of two, so indexes wrap with a mask. Used by
 * queue.Queue without a maxsize (or with one too large for the ring) and by
 * SimpleQueue. Called with the queue's lock held. */
#include "queue_int.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

/* Move the items into a new array of new_cap slots, oldest at index 0. */
static int resize(struct locked *l, size_t new_cap)
{
    if (new_cap > SIZE_MAX / sizeof(void *))
        return WEFT_ENOMEM;
    void **items = weft__queue_alloc(new_cap * sizeof *items);
    if (items == NULL)
        return WEFT_ENOMEM;
    size_t head_part = l->cap - l->first;
    if (head_part > l->len)
        head_part = l->len;
    if (l->len) {
        memcpy(items, l->items + l->first, head_part * sizeof *items);
        memcpy(items + head_part, l->items,
               (l->len - head_part) * sizeof *items);
    }
    free(l->items);
    l->items = items;
    l->cap = new_cap;
    l->first = 0;
    return 0;
}

static int fifo_push(struct locked *l, void *item)
{
    if (l->len == l->cap) {
        int rc = resize(l, l->cap ? l->cap * 2 : MIN_CAP);
        if (rc)
            return rc;
    }
    l->items[(l->first + l->len) & (l->cap - 1)] = item;
    l->len++;
    return 0;
}

static void *fifo_pop(struct locked *l)
{
    void *item = l->items[l->first];
    l->first = (l->first + 1) & (l->cap - 1);
    l->len--;
    /* Giving memory back is best effort: a failed resize keeps the larger
     * array. */
    if (l->cap > MIN_CAP && l->len <= l->cap / 4)
        resize(l, l->cap / 2);
    return item;
}

static void fifo_destroy(struct locked *l)
{
    free(l->items);
    l->items = NULL;
}

const store_ops_t weft__fifo_store = {fifo_push, fifo_pop, fifo_destroy};
