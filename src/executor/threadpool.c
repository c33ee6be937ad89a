/* SPDX-License-Identifier: MIT */
/* The thread pool: ThreadPoolExecutor over work-stealing workers.
 *
 * Submissions from outside go to the injection queue (lock-free appends);
 * submissions from a worker of this pool go to that worker's deque.
 * Workers start lazily, one per submit that finds no idle worker, up to
 * max_workers, and sleep on work_seq when they find nothing to do.
 *
 * Waking (no lost wake-up, few system calls), as Go's scheduler does: an
 * idle worker first searches, awake (counted in searching), then sleeps
 * (counted in sleepers). A producer publishes its task, and after a full
 * fence reads the counts: if a worker is searching, it will find the task
 * and nothing more is done; otherwise one sleeper is woken. A searcher that
 * finds work and was the last one searching wakes a sleeper to search in
 * its place (a chain), so a burst spreads over the pool with one wake-up per
 * worker, not per task, and many idle workers do not all spin on the queues
 * at once.
 *
 * Why no wake-up is lost. A worker going to sleep counts itself in sleepers
 * before it stops counting in searching (so an idle worker is always
 * counted in one of them), reads shutdown, issues a full fence, reads
 * work_seq, looks at every queue once more, and parks only if work_seq
 * still holds what it read. A producer publishes (the exchange on the
 * injection queue's tail, its link, or a deque's bottom), issues a full
 * fence, then reads searching and sleepers. Of the two fences, one comes
 * first in the single order of sequentially consistent operations:
 *  - the producer's: the worker's last look at the queues, after its fence,
 *    sees the published task (or that it was taken);
 *  - the worker's: the producer's reads see the worker counted (in
 *    sleepers, or in searching if it had not stopped searching yet), so it
 *    bumps work_seq and unparks one sleeper, and a worker about to park
 *    finds work_seq changed; or it leaves the task to a searcher, which was
 *    still counted when the producer read searching, so that searcher's own
 *    fence comes after the producer's and its last look sees the task.
 * A last look that finds the injection queue's consumer lock held does not
 * park (the holder may have read the chain just before a link). A worker
 * that sees shutdown exits only if its last look found nothing and the
 * injection queue is empty: a submit whose own read of shutdown (after its
 * exchange) saw none is then in the queue, and the submit that saw it
 * cancels its own task unless a worker took it.
 *
 * Lifetime: the pool's state is shared by the executor handle and the
 * workers; the last of them to let go frees it, so workers stuck past a
 * timed-out shutdown never touch freed memory. */
#include "threadpool.h"

#include "base/chaos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic unsigned pool_counter;

int weft__pool_notify(struct pool *p)
{
    WEFT_CHAOS_POINT(); /* between publishing and the fence */
    /* Pairs with the fence of a worker going to sleep (see the top). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&p->searching, memory_order_relaxed) > 0)
        return 1;
    if (atomic_load_explicit(&p->sleepers, memory_order_relaxed) == 0)
        return 0;
    /* Release: a sleeper that reads the new value sees the task. */
    atomic_fetch_add_explicit(&p->work_seq, 1, memory_order_release);
    WEFT_CHAOS_POINT(); /* between the store and the unpark */
    weft_unpark_one(&p->work_seq, NULL, NULL);
    return 1;
}

static void wake_all(struct pool *p)
{
    atomic_fetch_add_explicit(&p->work_seq, 1, memory_order_seq_cst);
    weft_unpark_all(&p->work_seq, 0);
}

/* ----- The injection queue -----
 *
 * Vyukov's intrusive multi-producer queue. A producer appends in two steps:
 * it exchanges tail for its node (taking the previous last node, prev), then
 * links prev->next to its node. The consumer (one worker at a time, holding
 * the consumer lock) takes from head. A stub node keeps the chain from ever
 * being empty: before taking the last node, the consumer appends the stub
 * behind it, as a producer would.
 *
 * Facts the argument uses. (a) The chain is the order of the exchanges on
 * tail: from head, following next, the nodes come in the order they were
 * exchanged in, except that a producer between its exchange and its link
 * leaves a gap (prev->next still NULL) until it links. (b) head only moves
 * forward, and moves onto the stub only by taking the node just before it
 * (or is the stub from the start). (c) The consumer appends the stub only
 * while head is a task, and stores that head before the append; so the stub
 * is in the chain at most once.
 *
 * Empty exactly when tail is the stub and head is the stub. tail alone is
 * not enough: let the consumer find head X with no next and tail == X; a
 * producer then exchanges tail (its prev is X) and stalls before linking;
 * the consumer appends the stub (behind the new node), still finds no
 * X->next, and returns nothing, leaving head at X. tail is now the stub, yet
 * X and the new node are queued before it. With head: if tail and head are
 * both the stub, the stub was the last node exchanged (tail) and every node
 * exchanged before it has been taken (b), so no task is queued; and if a
 * task is queued, either head is a task (it, or one before it) or head is
 * the stub and the task was exchanged after it, so tail is not the stub.
 *
 * inj_maybe_nonempty reads the two without the lock: tail first (acquire),
 * then head. Suppose its read of tail comes after some producer's exchange
 * E (in tail's order). If tail reads as a task, the answer is "maybe
 * non-empty". If it reads as the stub, it read an append of the stub S that
 * came after E, so E's node is before the stub in the chain (a); the
 * consumer stored head (a task, (c)) before S, and the acquire makes the
 * read of head see that store or a later one; head is the stub again only
 * once every node before the stub, E's included, has been taken (b). So
 * "empty" is never answered while a node exchanged before the read of tail
 * is still queued. Reading head first would be wrong: head could read as
 * the stub before the consumer moves onto X, and tail as the stub after the
 * race above.
 *
 * No task is left behind: a producer links, then notifies (a full fence,
 * then the worker counts); the sleep protocol in worker.c makes sure that
 * some worker looks at the queue after that, and a worker that takes a task
 * while the queue still looks non-empty wakes another (the chain). A
 * worker that finds the consumer lock held does not go to sleep on that
 * (busy in weft__pool_take_injected): the holder may have read the chain
 * just before a link. A pop that finds a producer's gap returns nothing and
 * does not wake anyone: that producer notifies once it has linked. */

static void inj_init(struct injection *q)
{
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->tail, &q->stub);
    atomic_init(&q->head, &q->stub);
    atomic_init(&q->consumer, 0);
}

/* Any thread. The exchange orders the append before the caller's later
 * reads (of sleepers, of shutdown): it is sequentially consistent. */
static void inj_push(struct injection *q, struct task *t)
{
    atomic_store_explicit(&t->next, NULL, memory_order_relaxed);
    struct task *prev = atomic_exchange(&q->tail, t);
    WEFT_CHAOS_POINT(); /* the gap: t is queued but not linked */
    /* Release: the consumer that reads this link sees t's contents. */
    atomic_store_explicit(&prev->next, t, memory_order_release);
}

static int inj_maybe_nonempty(struct injection *q)
{
    /* tail first, then head: see above. Acquire: pairs with the exchange
     * that appended the stub, after the consumer's store of head. */
    if (atomic_load_explicit(&q->tail, memory_order_acquire) != &q->stub)
        return 1;
    WEFT_CHAOS_POINT();
    return atomic_load_explicit(&q->head, memory_order_acquire) != &q->stub;
}

int weft__pool_inj_maybe_nonempty(struct pool *p)
{
    return inj_maybe_nonempty(&p->inj);
}

/* Consumer lock held. Release: a reader of head that then finds the stub at
 * tail sees this store or a later one (see inj_maybe_nonempty). */
static void inj_set_head(struct injection *q, struct task *head)
{
    atomic_store_explicit(&q->head, head, memory_order_release);
}

/* Consumer lock held. The oldest task, or NULL when the queue is empty or
 * a producer is between its exchange and its link (it will be there soon). */
static struct task *inj_pop(struct injection *q)
{
    struct task *head = atomic_load_explicit(&q->head, memory_order_relaxed);
    struct task *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (head == &q->stub) {
        if (next == NULL)
            return NULL;
        inj_set_head(q, head = next);
        next = atomic_load_explicit(&head->next, memory_order_acquire);
    }
    if (next) {
        inj_set_head(q, next);
        return head;
    }
    if (atomic_load_explicit(&q->tail, memory_order_acquire) != head)
        return NULL;
    WEFT_CHAOS_POINT(); /* a producer may exchange tail here */
    inj_push(q, &q->stub); /* head is the last: put the stub behind it */
    WEFT_CHAOS_POINT();
    next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (next == NULL)
        return NULL; /* that producer's gap: head stays, a task */
    inj_set_head(q, next);
    return head;
}

static int inj_trylock(struct injection *q)
{
    uint32_t free_ = 0;
    return atomic_load_explicit(&q->consumer, memory_order_relaxed) == 0 &&
           atomic_compare_exchange_strong_explicit(&q->consumer, &free_, 1,
                                                   memory_order_acquire,
                                                   memory_order_relaxed);
}

static void inj_unlock(struct injection *q)
{
    atomic_store_explicit(&q->consumer, 0, memory_order_release);
}

/* Take the oldest task, or NULL (empty, or another worker taking now).
 * One at a time, so that submissions from outside start in the order they
 * were made, as in Python's pool; a worker never hoards a batch that idle
 * workers could have run. */
weft_future_t *weft__pool_take_injected(struct pool *p, int *busy)
{
    struct injection *q = &p->inj;
    if (!inj_maybe_nonempty(q))
        return NULL;
    if (!inj_trylock(q)) {
        if (busy)
            *busy = 1;
        return NULL;
    }
    struct task *t = inj_pop(q);
    int more = inj_maybe_nonempty(q);
    inj_unlock(q);
    if (t && more)
        weft__pool_wake_or_start(p, NULL); /* the chain: the next one */
    return t ? weft__future_of(t) : NULL;
}

/* Take everything out of the queue (shutdown, breaking, destroying). */
static struct task *inj_take_all(struct injection *q)
{
    while (!inj_trylock(q))
        weft_sleep(0);
    struct task *list = NULL, **tail = &list, *t;
    for (;;) {
        while ((t = inj_pop(q)) != NULL) {
            *tail = t;
            tail = (struct task **)&t->next;
        }
        if (!inj_maybe_nonempty(q))
            break;
        weft_sleep(0); /* a producer is mid-append: let it finish */
    }
    *tail = NULL;
    inj_unlock(q);
    return list;
}

/* ----- Starting workers ----- */

/* No worker is idle: start one more, up to max_workers (Python starts a
 * thread per submit that finds no idle one). */
void weft__pool_maybe_start_worker(struct pool *p)
{
    if (atomic_load_explicit(&p->started, memory_order_relaxed) >=
        p->max_workers)
        return;
    weft_lock_acquire_shielded(&p->start_lock);
    if (atomic_load(&p->started) < p->max_workers &&
        atomic_load(&p->sleepers) == 0 && atomic_load(&p->searching) == 0 &&
        !atomic_load(&p->shutdown))
        weft__worker_start(p);
    weft_lock_release(&p->start_lock);
}

/* Work is queued in d (NULL: the injection queue): wake an idle worker, or
 * start one if none is idle and the work is still there (a worker that
 * took it meanwhile runs it: no new worker is needed, as Python's idle
 * count would say). Also where a worker hands queued work on (the chain),
 * not only at submit: a searcher counted by several submits takes one
 * task, and the others must not wait for it to finish while the pool has
 * room (a task may block until they run). */
void weft__pool_wake_or_start(struct pool *p, struct weft__deque *d)
{
    if (weft__pool_notify(p) ||
        atomic_load_explicit(&p->started, memory_order_relaxed) >=
            p->max_workers) /* full: the common case under load */
        return;
    /* After notify's fence: sees the work unless someone took it. */
    if (d ? weft__deque_size(d) > 0 : inj_maybe_nonempty(&p->inj))
        weft__pool_maybe_start_worker(p);
}

/* ----- Submitting ----- */

static int refuse(struct pool *p)
{
    if (atomic_load_explicit(&p->broken, memory_order_acquire))
        return weft_fail(WEFT_EBROKEN, "%s", p->broken_message);
    return 0;
}

/* From outside the pool: append, wake a sleeper, start a worker if none
 * is idle. A shutdown that raced with the append wins: the task is then
 * cancelled (unless a worker already took it) and the submit refused. */
static int inject(struct pool *p, weft_future_t *f)
{
    inj_push(&p->inj, weft__task_of(f));
    weft__pool_wake_or_start(p, NULL);
    if (atomic_load(&p->shutdown) && weft_future_cancel(f) == 0) {
        /* It will never run: its argument stays the caller's. */
        weft__task_of(f)->call.bytes = 0;
        weft_future_free(f); /* the caller's; the queue keeps its own */
        return weft_fail(WEFT_ESHUTDOWN,
                         "cannot schedule new futures after shutdown");
    }
    return 0;
}

static int submit_call(struct pool *p, const weft__call_t *call,
                       weft_future_t **out)
{
    int rc = refuse(p);
    if (rc == 0 && atomic_load_explicit(&p->shutdown, memory_order_relaxed) &&
        weft__current_worker() == NULL)
        rc = weft_fail(WEFT_ESHUTDOWN,
                       "cannot schedule new futures after shutdown");
    if (rc)
        return rc;
    weft_future_t *f;
    rc = weft__task_new(p, call, &f);
    if (rc)
        return rc;
    struct worker *w = weft__current_worker();
    if (w && w->pool == p) {
        /* A task's subtask: onto this worker's deque, even during
         * shutdown, so running work can finish what it started. */
        int was_empty = weft__deque_size(&w->deque) == 0;
        rc = weft__deque_push(&w->deque, f);
        if (rc == 0 && was_empty)
            weft__pool_wake_or_start(p, &w->deque);
        if (rc) {
            /* Refused: what the call holds stays the caller's. */
            weft__task_of(f)->call.bytes = 0;
            weft_future_free(f);
            weft_future_free(f);
            return rc;
        }
    } else if ((rc = inject(p, f)) != 0) {
        return rc;
    }
    *out = f;
    return 0;
}

static int pool_submit(void *impl, weft_fn fn, void *arg, weft_future_t **out)
{
    weft__call_t call = {.bytes = 0, .fn.ptr = fn, .arg.ptr = arg};
    return submit_call(impl, &call, out);
}

static int pool_submit_bytes(void *impl, weft_bytes_fn fn, weft_bytes_t *arg,
                             weft_future_t **out)
{
    weft__call_t call = {.bytes = 1, .fn.bytes = fn, .arg.bytes = *arg};
    int rc = submit_call(impl, &call, out);
    if (rc == 0)
        *arg = (weft_bytes_t){NULL, 0}; /* the task owns it now */
    return rc;
}

/* ----- Breaking, shutting down ----- */

/* Cancel (or fail, when broken) every task not yet started. */
static void fail_queued(struct pool *p, weft_future_t *f, int broken)
{
    if (broken && weft_future_try_start(f))
        weft_future_set_error(f, WEFT_EBROKEN, "%s", p->broken_message);
    else
        weft_future_cancel_and_notify(f);
    weft_future_free(f);
}

static void drain_queues(struct pool *p, int broken)
{
    struct task *list = inj_take_all(&p->inj);
    while (list) {
        struct task *next = atomic_load(&list->next);
        fail_queued(p, weft__future_of(list), broken);
        list = next;
    }
    unsigned n = atomic_load(&p->started);
    for (unsigned i = 0; i < n; i++) {
        void *x;
        while ((x = weft__deque_steal(&p->workers[i]->deque)) != NULL)
            if (x != WEFT__DEQUE_ABORT)
                fail_queued(p, x, broken);
    }
}

void weft__pool_break(struct pool *p, const char *message)
{
    weft_lock_acquire_shielded(&p->start_lock);
    int first = atomic_load(&p->broken) == 0;
    if (first) {
        snprintf(p->broken_message, sizeof p->broken_message, "%s", message);
        atomic_store_explicit(&p->broken, 1, memory_order_release);
    }
    weft_lock_release(&p->start_lock);
    if (first)
        drain_queues(p, 1);
}

/* Workers not joined yet, the calling one aside. */
static unsigned unjoined(struct pool *p, unsigned n, const struct worker *self)
{
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct worker *w = p->workers[i];
        count += w != self && w->thread && !atomic_load(&w->joined);
    }
    return count;
}

/* Join every worker, as Python's shutdown(wait=True) does: once this
 * returns 0 their threads have finished (thread-local values destroyed,
 * out of weft_active_count()). Not the calling thread, if it is one of
 * them: a task that shuts its own pool down cannot wait for itself. A
 * worker joined once is not waited for again. */
static int join_workers(struct pool *p, int64_t deadline)
{
    /* No worker starts once shutdown is set: maybe_start_worker looks
     * under the start lock, so after it every started slot is counted. */
    weft_lock_acquire_shielded(&p->start_lock);
    unsigned n = atomic_load(&p->started);
    weft_lock_release(&p->start_lock);
    struct worker *self = weft__current_worker();
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = p->workers[i];
        if (w == self || w->thread == NULL || atomic_load(&w->joined))
            continue;
        int rc = weft_thread_join(w->thread, weft_deadline_remaining(deadline));
        if (rc == WEFT_ETIMEDOUT)
            return weft_fail(rc, "shutdown: %u workers still busy",
                             unjoined(p, n, self));
        if (rc == WEFT_ECANCELLED)
            return weft_fail(rc, "shutdown wait cancelled");
        if (rc)
            return rc;
        atomic_store(&w->joined, 1);
    }
    return 0;
}

static int pool_shutdown(void *impl, int wait, int cancel_futures,
                         int64_t deadline)
{
    struct pool *p = impl;
    atomic_store(&p->shutdown, 1);
    if (cancel_futures)
        drain_queues(p, 0);
    wake_all(p);
    return wait ? join_workers(p, deadline) : 0;
}

void weft__pool_release(struct pool *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* Tasks a racing submit left behind after the workers were gone. */
    for (struct task *t = inj_take_all(&p->inj); t;) {
        struct task *next = atomic_load(&t->next);
        weft_future_free(weft__future_of(t));
        t = next;
    }
    unsigned n = atomic_load(&p->started);
    for (unsigned i = 0; i < n; i++) {
        weft_thread_free(p->workers[i]->thread); /* may still be finishing */
        weft__deque_destroy(&p->workers[i]->deque);
        free(p->workers[i]);
    }
    free(p->workers);
    free(p);
}

static void pool_destroy(void *impl)
{
    weft__pool_release(impl);
}

static unsigned pool_max_workers(const void *impl)
{
    const struct pool *p = impl;
    return p->max_workers;
}

static const weft_executor_class_t pool_class = {
    "thread", pool_submit, pool_submit_bytes, pool_shutdown, pool_destroy,
    pool_max_workers};

/* ----- Creation ----- */

static unsigned default_workers(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = (unsigned)(cpus > 0 ? cpus : 1) + 4;
    return n < 32 ? n : 32;
}

static struct pool *pool_alloc(const weft_thread_pool_opts_t *o)
{
    struct pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->max_workers = o->max_workers ? o->max_workers : default_workers();
    p->workers = calloc(p->max_workers, sizeof *p->workers);
    if (p->workers == NULL) {
        free(p);
        return NULL;
    }
    atomic_init(&p->refs, 1);
    weft_lock_init(&p->start_lock);
    inj_init(&p->inj);
    p->initializer = o->initializer;
    p->initarg = o->initarg;
    if (o->thread_name_prefix)
        snprintf(p->prefix, sizeof p->prefix, "%s", o->thread_name_prefix);
    else
        snprintf(p->prefix, sizeof p->prefix, "ThreadPoolExecutor-%u",
                 atomic_fetch_add(&pool_counter, 1));
    return p;
}

int weft_thread_pool_new(weft_executor_t **out,
                         const weft_thread_pool_opts_t *opts)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "thread_pool_new: NULL out");
    weft_thread_pool_opts_t o = opts ? *opts : (weft_thread_pool_opts_t){0};
    if (o.max_workers > WEFT_THREAD_POOL_MAX_WORKERS)
        return weft_fail(WEFT_EINVAL, "max_workers must be at most %u (got %u)",
                         WEFT_THREAD_POOL_MAX_WORKERS, o.max_workers);
    struct pool *p = pool_alloc(&o);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "thread_pool_new: no memory");
    int rc = weft_executor_new(out, &pool_class, p);
    if (rc)
        weft__pool_release(p);
    return rc;
}
