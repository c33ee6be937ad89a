/* SPDX-License-Identifier: MIT */
/* The heap store (queue.PriorityQueue): a binary min-heap of entries, each
 * an item and its put number. An entry comes before another when compare
 * ranks its item lower, or, when they compare equal, when it was put
 * earlier: so equal items come out in put order, which Python's heapq of
 * bare items does not promise but the (priority, count, item) idiom does.
 * The array doubles when full and halves when a quarter full. Called with
 * the queue's lock held; the comparator runs under it (queue.h says so). */
#include "queue_int.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

static int resize(struct locked *l, size_t new_cap)
{
    if (new_cap > SIZE_MAX / sizeof(struct heap_entry))
        return WEFT_ENOMEM;
    struct heap_entry *heap = weft__queue_alloc(new_cap * sizeof *heap);
    if (heap == NULL)
        return WEFT_ENOMEM;
    if (l->len)
        memcpy(heap, l->heap, l->len * sizeof *heap);
    free(l->heap);
    l->heap = heap;
    l->cap = new_cap;
    return 0;
}

static int before(const struct locked *l, const struct heap_entry *a,
                  const struct heap_entry *b)
{
    int c = l->compare(a->item, b->item, l->ctx);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

static void sift_up(struct locked *l, size_t i)
{
    struct heap_entry e = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(l, &e, &l->heap[parent]))
            break;
        l->heap[i] = l->heap[parent];
        i = parent;
    }
    l->heap[i] = e;
}

static void sift_down(struct locked *l, size_t i)
{
    struct heap_entry e = l->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= l->len)
            break;
        if (child + 1 < l->len &&
            before(l, &l->heap[child + 1], &l->heap[child]))
            child++;
        if (!before(l, &l->heap[child], &e))
            break;
        l->heap[i] = l->heap[child];
        i = child;
    }
    l->heap[i] = e;
}

static int heap_push(struct locked *l, void *item)
{
    if (l->len == l->cap) {
        int rc = resize(l, l->cap ? l->cap * 2 : MIN_CAP);
        if (rc)
            return rc;
    }
    l->heap[l->len] = (struct heap_entry){item, l->next_seq++};
    sift_up(l, l->len++);
    return 0;
}

static void *heap_pop(struct locked *l)
{
    void *item = l->heap[0].item;
    l->heap[0] = l->heap[--l->len];
    if (l->len)
        sift_down(l, 0);
    /* Best effort: a failed resize keeps the larger array. */
    if (l->cap > MIN_CAP && l->len <= l->cap / 4)
        resize(l, l->cap / 2);
    return item;
}

static void heap_destroy(struct locked *l)
{
    free(l->heap);
    l->heap = NULL;
}

const store_ops_t weft__heap_store = {heap_push, heap_pop, heap_destroy};
