/* SPDX-License-Identifier: MIT */
/* The thread pool's parts, shared by threadpool.c (the pool and its
 * queues), worker.c (what a worker does) and task.c (task objects). Inside
 * the executor layer only.
 *
 * Locks: the start lock and the injection queue's consumer lock are taken
 * alone (a future's internal lock may be taken inside either). */
#ifndef WEFT_EXECUTOR_THREADPOOL_H
#define WEFT_EXECUTOR_THREADPOOL_H

#include "deque.h"
#include "executor_int.h"
#include "weft/thread.h"

struct pool;
struct worker;

/* A task: its future, then this. 64 + 56 = 120 bytes with the future. */
struct task {
    weft__call_t call;
    struct pool *pool;
    _Atomic(struct worker *) runner; /* set once running, for stop */
    _Atomic(struct task *) next;     /* in the injection queue */
};

/* The injection queue: Vyukov's intrusive multi-producer queue. Producers
 * (threads outside the pool) append with one exchange on tail; one worker
 * at a time, holding the consumer lock, takes from head. A stub node keeps
 * the list never empty. Empty exactly when tail and head are both the stub
 * (threadpool.c says why tail alone is not enough). */
struct injection {
    _Alignas(64) _Atomic(struct task *) tail;
    /* Written only by the consumer, under its lock; read by anyone. */
    _Alignas(64) _Atomic(struct task *) head;
    _Atomic uint32_t consumer; /* try-lock of the taking side */
    struct task stub;
};

struct worker {
    struct weft__deque deque;
    struct pool *pool;
    weft_thread_t *thread; /* NULL if it failed to start */
    _Atomic int joined;    /* a shutdown has joined it */
    weft_waiter_t *waiter;     /* its thread's, for stop requests */
    weft_cancel_scope_t scope; /* watches the running task's stop bit */
    weft_future_t *running;    /* the innermost task it runs */
    unsigned index;
    uint32_t rng;
    int depth;    /* tasks nested by helping */
    int injected; /* the last task found came from the injection queue */
};

struct pool {
    _Atomic uint32_t refs; /* the executor's, and each live worker's */
    unsigned max_workers;
    _Atomic unsigned started;  /* workers started (slots filled) */
    struct worker **workers;   /* max_workers slots */
    weft_lock_t start_lock;

    struct injection inj;

    _Atomic uint32_t work_seq;  /* bumped to wake a sleeping worker */
    _Atomic uint32_t sleepers;  /* workers parked, or about to park */
    _Atomic uint32_t searching; /* workers looking for work, awake */
    _Atomic int shutdown;
    _Atomic int broken;
    char broken_message[WEFT_MESSAGE_MAX];

    weft_fn initializer;
    void *initarg;
    char prefix[48];
};

/* The classes of the pool's task futures: pointer and byte tasks. */
extern const weft_future_class_t weft__task_class;
extern const weft_future_class_t weft__bytes_task_class;

static inline int weft__is_task(const weft_future_t *f)
{
    const weft_future_class_t *c = weft_future_class_of(f);
    return c == &weft__task_class || c == &weft__bytes_task_class;
}

static inline struct task *weft__task_of(weft_future_t *f)
{
    return weft_future_extra(f);
}

static inline weft_future_t *weft__future_of(struct task *t)
{
    return (weft_future_t *)((unsigned char *)t - WEFT_FUTURE_SIZE);
}

/* task.c: a new pending task with two references (caller and queue). */
int weft__task_new(struct pool *p, const weft__call_t *call,
                   weft_future_t **out);

/* worker.c */
int weft__worker_start(struct pool *p);
struct worker *weft__current_worker(void);
/* Run a task taken from a queue: claim it, run it if the claim holds, and
 * drop the queue's reference. */
void weft__worker_run(struct worker *w, weft_future_t *f);
/* Take work for w: its deque, then the injection queue, then others. */
weft_future_t *weft__worker_find(struct worker *w);

/* threadpool.c */
/* New work is there: make sure an idle worker will see it. Returns 0 when
 * no worker is idle (all are busy), 1 otherwise. */
int weft__pool_notify(struct pool *p);
/* New work is queued in d (NULL: the injection queue): notify, and if no
 * worker is idle and the work is still queued, start one (up to
 * max_workers). */
void weft__pool_wake_or_start(struct pool *p, struct weft__deque *d);
/* If no worker is idle, start one (up to max_workers). */
void weft__pool_maybe_start_worker(struct pool *p);
/* The oldest task of the injection queue, or NULL: the queue is empty, a
 * producer is between its exchange and its link (it notifies once linked),
 * or another worker holds the consumer lock (*busy is then set, if busy is
 * not NULL: that worker may miss a task, so the caller must not sleep). */
weft_future_t *weft__pool_take_injected(struct pool *p, int *busy);
/* Nonzero unless the injection queue is certainly empty (see threadpool.c). */
int weft__pool_inj_maybe_nonempty(struct pool *p);
void weft__pool_release(struct pool *p);
void weft__pool_break(struct pool *p, const char *message);

#endif
