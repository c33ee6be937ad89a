/* SPDX-License-Identifier: MIT */
/* The thread pool's task objects: a future and its call in one block of
 * 120 bytes, from the executor's block allocator (blocks.c), since a pool
 * can go through millions of them a second and malloc would dominate. */
#include "blocks.h"
#include "threadpool.h"

#define TASK_SIZE (WEFT_FUTURE_SIZE + sizeof(struct task))

_Static_assert(TASK_SIZE <= 128, "a task and its future stay under 128 B");

static void *block_alloc(void)
{
    return weft__block_alloc(TASK_SIZE);
}

static void block_free(void *p)
{
    weft__block_free(p);
}

/* A pointer task owns nothing but its block: destroying it reads none of
 * the task's fields, whose cache line may sit with the worker that ran it. */
static void task_destroy(weft_future_t *f)
{
    block_free(f);
}

/* A byte task owns its argument, unless a refused submit handed it back
 * (call.bytes cleared). */
static void bytes_task_destroy(weft_future_t *f)
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
                                              task_stop, NULL};
const weft_future_class_t weft__bytes_task_class = {
    TASK_SIZE, bytes_task_destroy, task_stop, NULL};

int weft__task_new(struct pool *p, const weft__call_t *call,
                   weft_future_t **out)
{
    void *memory = block_alloc();
    if (memory == NULL)
        return weft_fail(WEFT_ENOMEM, "submit: no memory for a task");
    weft_future_t *f = weft_future_init_of(
        memory, call->bytes ? &weft__bytes_task_class : &weft__task_class, 2);
    struct task *t = weft__task_of(f);
    t->call = *call;
    t->pool = p;
    atomic_init(&t->runner, NULL);
    atomic_init(&t->next, NULL);
    *out = f;
    return 0;
}
