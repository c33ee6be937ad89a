/* SPDX-License-Identifier: MIT */
/* The LIFO store (queue.LifoQueue): a stack of item pointers that doubles
 * when full and halves when a quarter full. Called with the queue's lock
 * held. */
#include "queue_int.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

static int resize(struct locked *l, size_t new_cap)
{
    if (new_cap > SIZE_MAX / sizeof(void *))
        return WEFT_ENOMEM;
    void **items = weft__queue_alloc(new_cap * sizeof *items);
    if (items == NULL)
        return WEFT_ENOMEM;
    if (l->len)
        memcpy(items, l->items, l->len * sizeof *items);
    free(l->items);
    l->items = items;
    l->cap = new_cap;
    return 0;
}

static int lifo_push(struct locked *l, void *item)
{
    if (l->len == l->cap) {
        int rc = resize(l, l->cap ? l->cap * 2 : MIN_CAP);
        if (rc)
            return rc;
    }
    l->items[l->len++] = item;
    return 0;
}

static void *lifo_pop(struct locked *l)
{
    void *item = l->items[--l->len];
    /* Best effort: a failed resize keeps the larger array. */
    if (l->cap > MIN_CAP && l->len <= l->cap / 4)
        resize(l, l->cap / 2);
    return item;
}

static void lifo_destroy(struct locked *l)
{
    free(l->items);
    l->items = NULL;
}

const store_ops_t weft__lifo_store = {lifo_push, lifo_pop, lifo_destroy};
