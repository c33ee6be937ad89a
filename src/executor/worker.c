/* SPDX-License-Identifier: MIT */
/* What a worker of the thread pool does: find work, run it, help while it
 * waits, sleep when there is nothing.
 *
 * Finding work: the worker's own deque (newest first, for locality), then
 * the injection queue (a batch at a time), then the other workers' deques
 * (oldest first), starting at a random victim.
 *
 * Helping (the wait hook every worker installs): a task that waits on a
 * future of this pool first claims it and runs it inline if nobody has
 * started it (the deque still holds it; whoever pops it later finds it
 * claimed and drops it). If someone else runs it, the waiter steals only
 * from that worker's deque, where the awaited task's descendants are
 * (leapfrogging), so it never picks up an unrelated long task. Nesting is
 * bounded by WEFT_HELP_DEPTH; past it, or with nothing to take, the wait
 * parks like any other (after waking a sleeper if this worker's own deque
 * holds work someone else could do).
 *
 * Stop requests: each worker enters one cancel scope for its whole life and
 * points it at the running task's stop bit; weft_future_stop() sets the bit
 * and pokes the worker, so the task's blocking calls return
 * WEFT_ECANCELLED. */
#include "threadpool.h"

#include "base/chaos.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local struct worker *current;

struct worker *weft__current_worker(void)
{
    return current;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint32_t next_random(struct worker *w)
{
    uint32_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    w->rng = x;
    return x;
}

/* ----- Running ----- */

/* This worker runs f now (nested in the task it ran before, if helping):
 * a stop request for f reaches it. Returns that outer task. */
static weft_future_t *enter_task(struct worker *w, weft_future_t *f)
{
    atomic_store_explicit(&weft__task_of(f)->runner, w, memory_order_release);
    weft_future_t *outer = w->running;
    w->running = f;
    weft_cancel_scope_watch(&w->scope, weft_future_stop_word(f),
                            WEFT_FUTURE_STOP_BIT);
    w->depth++;
    return outer;
}

/* Back to the task this one was nested in (helping), if any. */
static void leave_task(struct worker *w, weft_future_t *outer)
{
    w->depth--;
    w->running = outer;
    weft_cancel_scope_watch(&w->scope,
                            outer ? weft_future_stop_word(outer) : NULL,
                            WEFT_FUTURE_STOP_BIT);
}

static void run_claimed(struct worker *w, weft_future_t *f)
{
    struct task *t = weft__task_of(f);
    weft__outcome_t o;
    weft_future_t *outer = enter_task(w, f);
    weft__call_invoke(&t->call, &o);
    leave_task(w, outer);
    weft__call_complete(&t->call, f, &o);
}

void weft__worker_run(struct worker *w, weft_future_t *f)
{
    if (weft_future_try_start(f))
        run_claimed(w, f);
    weft_future_free(f); /* the queue's reference */
}

/* A task taken at the top of the worker's loop. If it was submitted from
 * outside and nothing else is queued for this worker, the worker counts as
 * searching (idle) from the moment the task's function has returned,
 * before its future is completed: whoever waits on that future and submits
 * again then finds it idle and starts no new worker (Python's idle
 * semaphore; test_idle_thread_reuse). Tasks from deques (submitted inside
 * tasks, whose submitters help run them) skip this, so fork-join pays no
 * shared counter per task. Returns 1 when it is left counted. */
static int run_top(struct worker *w, weft_future_t *f)
{
    int searching = 0;
    if (weft_future_try_start(f)) {
        struct task *t = weft__task_of(f);
        weft__outcome_t o;
        weft_future_t *outer = enter_task(w, f);
        weft__call_invoke(&t->call, &o);
        leave_task(w, outer);
        searching = w->injected && weft__deque_size(&w->deque) == 0 &&
                    !weft__pool_inj_maybe_nonempty(w->pool);
        if (searching)
            atomic_fetch_add(&w->pool->searching, 1);
        weft__call_complete(&t->call, f, &o);
    }
    weft_future_free(f); /* the queue's reference */
    return searching;
}

/* ----- Finding work ----- */

static weft_future_t *steal_from(struct worker *victim)
{
    for (int tries = 0; tries < 4; tries++) {
        void *x = weft__deque_steal(&victim->deque);
        if (x != WEFT__DEQUE_ABORT)
            return x;
    }
    return NULL;
}

static weft_future_t *steal_any(struct worker *w)
{
    struct pool *p = w->pool;
    unsigned n = atomic_load_explicit(&p->started, memory_order_acquire);
    if (n < 2)
        return NULL;
    unsigned start = next_random(w) % n;
    for (unsigned k = 0; k < n; k++) {
        struct worker *v = p->workers[(start + k) % n];
        if (v == w || v == NULL)
            continue;
        weft_future_t *f = steal_from(v);
        if (f) {
            if (weft__deque_size(&v->deque) > 0)
                weft__pool_wake_or_start(p, &v->deque); /* the next */
            return f;
        }
    }
    return NULL;
}

/* Own deque (newest first), then the injection queue, then the others;
 * w->injected says whether the task came from the injection queue.
 * *busy (if busy is not NULL): as in weft__pool_take_injected. */
static weft_future_t *find(struct worker *w, int *busy)
{
    weft_future_t *f = weft__deque_pop(&w->deque);
    w->injected = 0;
    if (f == NULL && (f = weft__pool_take_injected(w->pool, busy)) != NULL)
        w->injected = 1;
    if (f == NULL)
        f = steal_any(w);
    return f;
}

weft_future_t *weft__worker_find(struct worker *w)
{
    return find(w, NULL);
}

/* ----- Sleeping (the protocol is in threadpool.c) ----- */

struct seq_check {
    struct pool *p;
    uint32_t seen;
};

static int nothing_changed(void *ctx)
{
    struct seq_check *c = ctx;
    return atomic_load(&c->p->work_seq) == c->seen &&
           !atomic_load(&c->p->shutdown);
}

static const weft_park_ops_t sleep_ops = {nothing_changed, NULL, NULL};

/* Counted in searching: stop. A searcher that found work and was the last
 * one searching wakes a sleeper to go on searching, in case there is more
 * (the chain in threadpool.c); if work is still queued and no worker is
 * idle, it starts one: a submit that counted on this searcher may have
 * come after it found its own task. */
static void stop_searching(struct worker *w, int found)
{
    struct pool *p = w->pool;
    if (atomic_fetch_sub(&p->searching, 1) != 1 || !found)
        return;
    /* After notify's fence: the look sees what such a submit queued. */
    if (!weft__pool_notify(p) && (weft__deque_size(&w->deque) > 0 ||
                                  weft__pool_inj_maybe_nonempty(p)))
        weft__pool_maybe_start_worker(p);
}

/* Work found on the last look before sleeping, by a worker counted in
 * sleepers until now: a submit may have counted on it (and a chain
 * notify made meanwhile saw it still counted), so if more work is queued,
 * hand it on as the last searcher does. */
static void hand_on(struct worker *w)
{
    struct pool *p = w->pool;
    /* Pairs with the producers' fence: either a producer that counted on
     * this worker sees it gone, or this look sees that producer's task. */
    atomic_thread_fence(memory_order_seq_cst);
    if (weft__deque_size(&w->deque) > 0)
        weft__pool_wake_or_start(p, &w->deque);
    else if (weft__pool_inj_maybe_nonempty(p))
        weft__pool_wake_or_start(p, NULL);
}

/* Search a while, awake (counted in searching): spin, then yield, looking
 * for work. */
static weft_future_t *search(struct worker *w)
{
    weft_future_t *f = NULL;
    for (int spin = 0; spin < 32 && f == NULL; spin++) {
        if (spin < 16)
            cpu_relax();
        else
            sched_yield();
        f = weft__worker_find(w);
    }
    return f;
}

/* From searching to sleeping, and back: work found on the last look (no
 * longer counted anywhere), or NULL counted in searching again, or NULL
 * with *exit set (counted nowhere) when the pool shuts down and nothing is
 * left. */
static weft_future_t *nap(struct worker *w, int *exit)
{
    struct pool *p = w->pool;
    atomic_fetch_add(&p->sleepers, 1); /* before leaving searching */
    atomic_fetch_sub(&p->searching, 1);
    WEFT_CHAOS_POINT();
    int shut = atomic_load(&p->shutdown);
    /* Pairs with the fence in weft__pool_notify: either the producer sees
     * this worker counted, or the look below sees its task. */
    atomic_thread_fence(memory_order_seq_cst);
    struct seq_check c = {p, atomic_load(&p->work_seq)};
    WEFT_CHAOS_POINT();
    int busy = 0;
    weft_future_t *f = find(w, &busy);
    if (f == NULL && !busy) {
        if (shut && !weft__pool_inj_maybe_nonempty(p))
            *exit = 1;
        else if (!shut) {
            WEFT_CHAOS_POINT(); /* between the look and the park */
            weft_park(&p->work_seq, &sleep_ops, &c, WEFT_NEVER, NULL);
        }
    }
    if (f == NULL && !*exit)
        atomic_fetch_add(&p->searching, 1); /* before leaving sleepers */
    atomic_fetch_sub(&p->sleepers, 1);
    if (f)
        hand_on(w);
    return f;
}

/* Nothing to do (counted in searching on entry): search, then sleep,
 * until work comes. Returns work (no longer counted), or NULL when the pool
 * shuts down and nothing is left. */
static weft_future_t *idle(struct worker *w)
{
    for (;;) {
        weft_future_t *f = search(w);
        if (f) {
            stop_searching(w, 1);
            return f;
        }
        int exit = 0;
        f = nap(w, &exit);
        if (f || exit)
            return f;
    }
}

/* ----- Helping while waiting ----- */

static int leapfrog(struct worker *w, weft_future_t *f, int64_t deadline)
{
    struct task *t = weft__task_of(f);
    for (int idle_rounds = 0; !weft_future_done(f);) {
        struct worker *runner =
            atomic_load_explicit(&t->runner, memory_order_acquire);
        if (runner == w)
            return weft_fail(WEFT_EDEADLK, "a task waits on its own future");
        weft_future_t *x = runner ? steal_from(runner) : NULL;
        if (x) {
            weft__worker_run(w, x);
            idle_rounds = 0;
            continue;
        }
        if (weft_cancelled())
            return WEFT_ECANCELLED;
        if (deadline != WEFT_NEVER && weft_monotonic_ns() >= deadline)
            return WEFT_ETIMEDOUT;
        if (++idle_rounds > 64)
            break;
        if (idle_rounds > 32)
            sched_yield();
        else
            cpu_relax();
    }
    if (weft_future_done(f))
        return 0;
    if (weft__deque_size(&w->deque) > 0)
        weft__pool_wake_or_start(w->pool, &w->deque);
    return WEFT_EAGAIN;
}

static int help_wait(weft_future_t *f, int64_t deadline)
{
    struct worker *w = current;
    if (w == NULL || !weft__is_task(f) ||
        weft__task_of(f)->pool != w->pool || w->depth >= WEFT_HELP_DEPTH)
        return WEFT_EAGAIN;
    /* Queued here, at either end: take it back and run it, queue
     * reference and all. Anywhere else: claim it where it lies. */
    if (weft__deque_pop_if(&w->deque, f) ||
        weft__deque_steal_if(&w->deque, f)) {
        weft__worker_run(w, f);
        return weft_future_done(f) ? 0 : leapfrog(w, f, deadline);
    }
    if (weft_future_try_start(f)) {
        run_claimed(w, f);
        return 0;
    }
    return leapfrog(w, f, deadline);
}

/* ----- A worker's life ----- */

/* Run the initializer; on failure the pool is broken, as Python's. */
static int initialize(struct worker *w)
{
    struct pool *p = w->pool;
    if (p->initializer == NULL)
        return 0;
    weft_clear_message();
    void *ignored = NULL;
    int rc = p->initializer(p->initarg, &ignored);
    if (rc == 0)
        return 0;
    char message[WEFT_MESSAGE_MAX];
    snprintf(message, sizeof message,
             "A thread initializer failed, the thread pool is not usable "
             "anymore (%s: %s)",
             weft_errname(rc) ? weft_errname(rc) : "error",
             weft_last_message());
    weft__pool_break(p, message);
    return rc;
}

/* Find work, run it, go idle when there is none, until the pool shuts
 * down. searching: counted in the pool's searching (by run_top, or on the
 * way into idle). */
static void work(struct worker *w)
{
    int searching = 0;
    for (;;) {
        weft_future_t *f = weft__worker_find(w);
        if (f && searching) {
            stop_searching(w, 1);
        } else if (f == NULL) {
            if (!searching)
                atomic_fetch_add(&w->pool->searching, 1);
            if ((f = idle(w)) == NULL)
                return;
        }
        searching = run_top(w, f); /* f from the last find */
    }
}

static int worker_main(void *arg, void **result)
{
    struct worker *w = arg;
    struct pool *p = w->pool;
    current = w;
    w->waiter = weft_park_current();
    weft_cancel_scope_init(&w->scope);
    weft_cancel_scope_enter(&w->scope, WEFT_FOREVER, 0);
    weft_future_set_wait_hook(help_wait);
    if (initialize(w) == 0)
        work(w);
    weft_future_set_wait_hook(NULL);
    weft_cancel_scope_exit(&w->scope);
    current = NULL;
    weft__pool_release(p);
    return 0;
}

/* With the start lock held: a new worker in the next slot. */
int weft__worker_start(struct pool *p)
{
    unsigned index = atomic_load(&p->started);
    struct worker *w = calloc(1, sizeof *w);
    if (w == NULL || weft__deque_init(&w->deque, 256)) {
        free(w);
        return weft_fail(WEFT_ENOMEM, "thread pool: no memory for a worker");
    }
    w->pool = p;
    w->index = index;
    w->rng = 0x9E3779B9u * (index + 1);
    char name[64];
    snprintf(name, sizeof name, "%s_%u", p->prefix, index);
    weft_thread_opts_t opts = {name, 1, 0};
    weft_thread_t *th;
    int rc = weft_thread_new(&th, worker_main, w, &opts);
    if (rc) {
        weft__deque_destroy(&w->deque);
        free(w);
        return rc;
    }
    w->thread = th; /* kept to join it, freed with the pool */
    p->workers[index] = w;
    atomic_fetch_add(&p->refs, 1);
    atomic_store_explicit(&p->started, index + 1, memory_order_release);
    rc = weft_thread_start(th);
    if (rc) {
        /* The slot stays, empty of a thread; its deque is never pushed. */
        w->thread = NULL;
        weft_thread_free(th);
        atomic_fetch_sub(&p->refs, 1);
    }
    return rc;
}
