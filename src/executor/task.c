/* The thread pool's task objects: a future and its call in one block of
 * 120 bytes, recycled through a small per-thread cache, since a pool can go
 * through millions of them a second and malloc would dominate. A block
 * freed on one thread may be reused by another; each cache keeps at most
 * CACHE_MAX blocks (8 MiB) and gives them back to malloc when its thread
 * ends. */
#include "threadpool.h"

#include <pthread.h>
#include <stdlib.h>

#define TASK_SIZE (WEFT_FUTURE_SIZE + sizeof(struct task))
#define CACHE_MAX 65536

_Static_assert(TASK_SIZE <= 128, "a task and its future stay under 128 B");

struct block {
    struct block *next;
};

static _Thread_local struct block *cache;
static _Thread_local unsigned cached;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void drain_cache(void *unused)
{
    while (cache) {
        struct block *next = cache->next;
        free(cache);
        cache = next;
    }
    cached = 0;
}

static void make_key(void)
{
    pthread_key_create(&cache_key, drain_cache);
}

static void *block_alloc(void)
{
    struct block *b = cache;
    if (b) {
        cache = b->next;
        cached--;
        return b;
    }
    /* malloc's 16-byte alignment suffices, and 120 bytes stays within
     * glibc's fast bins. */
    return malloc(TASK_SIZE);
}

static void block_free(void *p)
{
    if (cached >= CACHE_MAX) {
        free(p);
        return;
    }
    if (cache == NULL) {
        /* First block here: make sure the thread's end drains the cache. */
        pthread_once(&cache_once, make_key);
        pthread_setspecific(cache_key, (void *)1);
    }
    struct block *b = p;
    b->next = cache;
    cache = b;
    cached++;
}

static void task_destroy(weft_future_t *f)
{
    weft__call_release(&weft__task_of(f)->call);
    block_free(f);
}

/* Ask the running task to stop: poke its worker awake. Runs under f's lock,
 * so the task cannot finish (and its worker move on) meanwhile; the runner
 * is set just after the claim, so wait the few instructions it takes. */
static void task_stop(weft_future_t *f)
{
    struct task *t = weft__task_of(f);
    struct worker *w;
    while ((w = atomic_load_explicit(&t->runner, memory_order_acquire)) ==
           NULL)
        ;
    weft_park_poke(w->waiter);
}

const weft_future_class_t weft__task_class = {TASK_SIZE, task_destroy,
                                              task_stop};

int weft__task_new(struct pool *p, const weft__call_t *call,
                   weft_future_t **out)
{
    void *memory = block_alloc();
    if (memory == NULL)
        return weft_fail(WEFT_ENOMEM, "submit: no memory for a task");
    weft_future_t *f = weft_future_init_of(memory, &weft__task_class, 2);
    struct task *t = weft__task_of(f);
    t->call = *call;
    t->pool = p;
    atomic_init(&t->runner, NULL);
    atomic_init(&t->next, NULL);
    *out = f;
    return 0;
}
