/* SPDX-License-Identifier: MIT */
/* Inside the loop layer only: the loop's layout, its ready ring, its timer
 * queue and its handle nodes.
 *
 * The ready ring holds (fn, arg, node) entries; node is NULL for callbacks
 * nobody can cancel (call_soon without a handle, I/O, wake-ups), so the
 * common path allocates nothing. A handle's node comes from a pool of slabs
 * owned by the loop; releasing a node bumps its generation, so a stale
 * handle (its callback ran) is told apart from a live one without ever
 * freeing the node's memory while the loop lives.
 */
#ifndef WEFT_LOOP_INT_H
#define WEFT_LOOP_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "weft/loop.h"

enum node_state {
    NODE_FREE = 0,
    NODE_READY,     /* in the ready ring */
    NODE_HEAP,      /* a timer in the heap */
    NODE_LANE,      /* a timer in the lane (see timer.c) */
    NODE_CANCELLED, /* cancelled; still in the ring or the lane */
};

struct lnode {
    weft_callback fn;
    void *arg;
    uint64_t gen;
    int64_t when; /* timers: monotonic ns */
    uint64_t seq; /* timers: order of setting, for ties */
    size_t index; /* timers in the heap: position */
    unsigned state;
    struct lnode *next_free;
    weft_loop_t *loop;
};

struct entry {
    weft_callback fn;
    void *arg;
    struct lnode *node;
};

/* A power-of-two ring of entries; head is the next to pop. */
struct ring {
    struct entry *buf;
    size_t mask;
    size_t head, tail;
};

/* Timers: a 4-ary min-heap on (when, seq), plus the lane: a ring of timers
 * whose deadlines never decrease, which takes every timer that is not
 * earlier than the lane's last one (zero delays, equal timeouts) in O(1). */
struct timers {
    struct lnode **heap;
    size_t n, cap;
    struct lnode **lane;
    size_t lmask, lhead, ltail;
    size_t lane_cancelled;
    uint64_t seq;
};

struct fdrec {
    weft_callback rfn, wfn;
    void *rarg, *warg;
    weft_io_callback efn;
    void *earg;
    uint32_t events; /* what epoll holds for the fd now */
    unsigned mode;   /* 0 none, 1 level (readers/writers), 2 edge (watch) */
};

struct tsentry {
    weft_callback fn;
    void *arg;
};

struct slab;
struct when_done;

#define LOOP_SERVICES 8

struct weft_loop {
    struct ring ready;
    struct timers timers;
    int64_t now; /* the loop's time at the start of this iteration */
    struct lnode *free_nodes;
    struct slab *slabs;
    unsigned busy;          /* iterations since I/O was last looked at */
    size_t run_left;        /* callbacks of this iteration not yet run */
    int (*done)(void *ctx); /* run_until's wait, while it runs */
    void *done_ctx;

    int epfd, evfd;
    struct fdrec *fds;
    size_t nfds;

    /* call_soon_threadsafe: a locked queue the loop drains each iteration;
     * sleeping and wake_sent decide who writes the eventfd (io_linux.c). */
    pthread_mutex_t tsq_lock;
    struct tsentry *tsq;
    size_t tsq_len, tsq_cap;
    _Atomic size_t tsq_count;
    _Atomic int sleeping;
    _Atomic int wake_sent;
    int closed;

    _Atomic int running;
    _Atomic int stopping;
    /* The thread that runs the loop (pthread_self()), 0 while it does not
     * run: set on entry, cleared on leaving, by that thread. */
    _Atomic uintptr_t runner;

    weft_loop_exception_handler on_error;
    void *on_error_arg;

    struct {
        const weft_loop_service_t *cls;
        void *state;
    } services[LOOP_SERVICES];
    size_t nservices;

    weft_executor_t *executor;   /* run_in_executor's default pool */
    struct when_done *when_done; /* registrations of call_when_done */
    pthread_mutex_t wd_lock;

    int sigfd;
    sigset_t sigmask;
    struct {
        weft_callback fn;
        void *arg;
    } signals[NSIG];
};

/* ----- The loop's thread ----- */

/* Nonzero when loop runs on another thread than the caller's. The loop's
 * own thread reads its own store; another thread may read a stale 0 just
 * after the loop started, and lets a call through that asyncio's debug
 * check would let through too: the check is best effort, a relaxed load
 * and a compare on the path of every call. */
static inline int loop_runs_elsewhere(const weft_loop_t *loop)
{
    if (loop == NULL) /* the caller's own check names it */
        return 0;
    uintptr_t t = atomic_load_explicit(&((weft_loop_t *)loop)->runner,
                                       memory_order_relaxed);
    return __builtin_expect(t != 0 && t != (uintptr_t)pthread_self(), 0);
}

/* WEFT_ESTATE, with asyncio's message and the way out, for what. */
int weft__loop_refuse_thread(const char *what);

#define LOOP_OWN_THREAD(loop, what)                                            \
    do {                                                                       \
        if (loop_runs_elsewhere(loop))                                         \
            return weft__loop_refuse_thread(what);                             \
    } while (0)

/* ----- The ready ring ----- */

int weft__ring_grow(struct ring *r);

static inline size_t ring_count(const struct ring *r)
{
    return r->tail - r->head;
}

static inline int ring_push(struct ring *r, weft_callback fn, void *arg,
                            struct lnode *node)
{
    if (__builtin_expect(r->tail - r->head > r->mask, 0) && weft__ring_grow(r))
        return WEFT_ENOMEM;
    struct entry *e = &r->buf[r->tail++ & r->mask];
    e->fn = fn;
    e->arg = arg;
    e->node = node;
    return 0;
}

/* ----- Nodes ----- */

struct lnode *weft__node_get(weft_loop_t *loop);
void weft__node_put(weft_loop_t *loop, struct lnode *n);
void weft__nodes_free(weft_loop_t *loop);

/* ----- Timers (timer.c) ----- */

int weft__timers_init(struct timers *t);
void weft__timers_destroy(struct timers *t);
int weft__timer_add(weft_loop_t *loop, struct lnode *n);
void weft__timer_cancel(weft_loop_t *loop, struct lnode *n);
/* The earliest live timer, or NULL. */
struct lnode *weft__timer_first(weft_loop_t *loop);
/* Move every timer due at loop->now to the ready ring, in order. */
int weft__timers_collect(weft_loop_t *loop);
static inline int timers_empty(const struct timers *t)
{
    return t->n == 0 && t->lhead == t->ltail;
}

/* ----- I/O (io_linux.c) ----- */

int weft__io_init(weft_loop_t *loop);
void weft__io_destroy(weft_loop_t *loop);
/* Wait up to timeout_ms (-1: no limit) for I/O and run its callbacks. */
void weft__io_poll(weft_loop_t *loop, int timeout_ms);
/* Wake the loop if it sleeps in poll. Thread-safe. */
void weft__io_wake(weft_loop_t *loop);
/* Move what other threads scheduled to the ready ring. */
void weft__tsq_drain(weft_loop_t *loop);
int weft__fd_reader(weft_loop_t *loop, int fd, weft_callback fn, void *arg,
                    int write);

/* ----- Signals, futures ----- */

void weft__signals_destroy(weft_loop_t *loop);
void weft__when_done_close(weft_loop_t *loop);
/* Release what a dropped ready entry of call_when_done held. */
void weft__when_done_drop(weft_callback fn, void *arg);

/* ----- Running callbacks ----- */

/* Report a callback that returned code through the exception handler. */
void weft__loop_report(weft_loop_t *loop, const void *fn, void *arg, int code);

static inline void run_callback(weft_loop_t *loop, weft_callback fn, void *arg)
{
    int rc = fn(arg);
    if (__builtin_expect(rc != 0, 0))
        weft__loop_report(loop, (const void *)fn, arg, rc);
}

#endif
