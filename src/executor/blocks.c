/* SPDX-License-Identifier: MIT */
/* Memory for tasks: blocks of one size recycled through per-thread
 * magazines (Bonwick's magazine allocator, as in Solaris' kmem).
 *
 * Each thread holds two magazines, arrays of free blocks: it allocates from
 * and frees into the loaded one, and swaps with the previous one when that
 * helps. Only when both are empty (or both full) does it visit the depot, a
 * list of full magazines under one lock, to trade a whole magazine. So a
 * block freed on a thief's thread comes back to the submitter's without
 * malloc, and the lock is paid once per MAG blocks, not per block.
 *
 * The depot keeps at most DEPOT_MAX full magazines; beyond that, blocks go
 * back to malloc. A thread that ends hands its magazines to the depot. */
#include "blocks.h"

#include <pthread.h>
#include <stdlib.h>

#include "weft/sync.h"

#define MAG 128
#define DEPOT_MAX 512 /* 64 Ki blocks */

struct magazine {
    struct magazine *next;
    unsigned count;
    void *items[MAG];
};

struct cache {
    struct magazine *loaded, *previous;
    int registered;
};

static _Thread_local struct cache tc;

static struct {
    weft_lock_t lock;
    struct magazine *full, *empty;
    unsigned nfull;
    size_t block_size;
    pthread_key_t key;
} depot = {WEFT_LOCK_INIT, NULL, NULL, 0, 0, 0};

static pthread_once_t depot_once = PTHREAD_ONCE_INIT;

/* ----- The depot ----- */

static struct magazine *depot_take(struct magazine **list, unsigned *count)
{
    weft_lock_acquire_shielded(&depot.lock);
    struct magazine *m = *list;
    if (m) {
        *list = m->next;
        if (count)
            (*count)--;
    }
    weft_lock_release(&depot.lock);
    return m;
}

static void empty_magazine(struct magazine *m)
{
    while (m->count)
        free(m->items[--m->count]);
}

/* Give a magazine to the depot: kept full if there is room, else emptied
 * back to malloc and kept as an empty one. */
static void depot_give(struct magazine *m)
{
    if (m->count == 0) {
        weft_lock_acquire_shielded(&depot.lock);
        m->next = depot.empty;
        depot.empty = m;
        weft_lock_release(&depot.lock);
        return;
    }
    weft_lock_acquire_shielded(&depot.lock);
    int keep = depot.nfull < DEPOT_MAX;
    if (keep) {
        m->next = depot.full;
        depot.full = m;
        depot.nfull++;
    }
    weft_lock_release(&depot.lock);
    if (!keep) {
        empty_magazine(m);
        depot_give(m);
    }
}

static struct magazine *new_empty(void)
{
    struct magazine *m = depot_take(&depot.empty, NULL);
    if (m == NULL) {
        m = malloc(sizeof *m);
        if (m)
            m->count = 0;
    }
    return m;
}

/* ----- A thread's cache ----- */

static void thread_ends(void *unused)
{
    if (tc.loaded)
        depot_give(tc.loaded);
    if (tc.previous)
        depot_give(tc.previous);
    tc.loaded = tc.previous = NULL;
}

static void make_key(void)
{
    pthread_key_create(&depot.key, thread_ends);
}

static void register_thread(void)
{
    pthread_once(&depot_once, make_key);
    pthread_setspecific(depot.key, (void *)1);
    tc.registered = 1;
}

static void swap(void)
{
    struct magazine *m = tc.loaded;
    tc.loaded = tc.previous;
    tc.previous = m;
}

static void *alloc_slow(size_t size)
{
    if (tc.previous && tc.previous->count) {
        swap();
        return tc.loaded->items[--tc.loaded->count];
    }
    struct magazine *full = depot_take(&depot.full, &depot.nfull);
    if (full == NULL)
        return malloc(size);
    if (!tc.registered)
        register_thread();
    if (tc.previous)
        depot_give(tc.previous); /* empty */
    tc.previous = tc.loaded;
    tc.loaded = full;
    return full->items[--full->count];
}

void *weft__block_alloc(size_t size)
{
    struct magazine *m = tc.loaded;
    if (m && m->count)
        return m->items[--m->count];
    return alloc_slow(size);
}

static void free_slow(void *p)
{
    if (!tc.registered)
        register_thread();
    if (tc.previous && tc.previous->count < MAG) {
        swap();
    } else {
        struct magazine *fresh = new_empty();
        if (fresh == NULL) {
            free(p);
            return;
        }
        if (tc.previous)
            depot_give(tc.previous); /* full */
        tc.previous = tc.loaded;
        tc.loaded = fresh;
    }
    tc.loaded->items[tc.loaded->count++] = p;
}

void weft__block_free(void *p)
{
    struct magazine *m = tc.loaded;
    if (m && m->count < MAG) {
        m->items[m->count++] = p;
        return;
    }
    free_slow(p);
}
