/* SPDX-License-Identifier: MIT */
/* The loop: its life, its iterations, call_soon and handles, the exception
 * handler, services, and each thread's running and default loop.
 *
 * One iteration (run_once):
 *   1. look for I/O: wait until the first timer is due when nothing is
 *      ready, else only peek, and then only every BUSY_POLL iterations, so
 *      that a stream of callbacks costs no system call per callback;
 *   2. move the timers that are due (at the time read now) and the
 *      callbacks other threads scheduled to the back of the ready ring;
 *   3. run the callbacks that are in the ring now, and no more: those they
 *      schedule wait for the next iteration (asyncio's order).
 */
#include "base/check.h"
#include "loop_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/chaos.h"

#define BUSY_POLL 64
#define SLAB_NODES 256

static _Thread_local weft_loop_t *running_loop;

/* ----- The ready ring ----- */

int weft__ring_grow(struct ring *r)
{
    size_t cap = r->mask ? (r->mask + 1) * 2 : 1024;
    struct entry *buf = malloc(cap * sizeof *buf);
    if (buf == NULL)
        return weft_fail(WEFT_ENOMEM, "loop: no memory for callbacks");
    size_t n = ring_count(r);
    for (size_t i = 0; i < n; i++)
        buf[i] = r->buf[(r->head + i) & r->mask];
    free(r->buf);
    r->buf = buf;
    r->mask = cap - 1;
    r->head = 0;
    r->tail = n;
    return 0;
}

/* ----- Nodes ----- */

struct slab {
    struct slab *next;
    struct lnode nodes[SLAB_NODES];
};

struct lnode *weft__node_get(weft_loop_t *loop)
{
    struct lnode *n = loop->free_nodes;
    if (__builtin_expect(n == NULL, 0)) {
        struct slab *s = calloc(1, sizeof *s);
        if (s == NULL) {
            weft_fail(WEFT_ENOMEM, "loop: no memory for a handle");
            return NULL;
        }
        s->next = loop->slabs;
        loop->slabs = s;
        for (size_t i = 0; i < SLAB_NODES; i++) {
            s->nodes[i].loop = loop;
            s->nodes[i].next_free = loop->free_nodes;
            loop->free_nodes = &s->nodes[i];
        }
        n = loop->free_nodes;
    }
    loop->free_nodes = n->next_free;
    return n;
}

void weft__node_put(weft_loop_t *loop, struct lnode *n)
{
    n->gen++;
    n->state = NODE_FREE;
    n->next_free = loop->free_nodes;
    loop->free_nodes = n;
}

void weft__nodes_free(weft_loop_t *loop)
{
    while (loop->slabs) {
        struct slab *next = loop->slabs->next;
        free(loop->slabs);
        loop->slabs = next;
    }
    loop->free_nodes = NULL;
}

static void give_handle(weft_handle_t *h, struct lnode *n)
{
    h->node_ = n;
    h->gen_ = n->gen;
}

/* ----- Life ----- */

int weft_loop_new(weft_loop_t **out)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "loop_new: NULL out");
    weft_loop_t *loop = calloc(1, sizeof *loop);
    if (loop == NULL)
        return weft_fail(WEFT_ENOMEM, "loop_new: no memory");
    int rc = weft__ring_grow(&loop->ready);
    if (rc)
        goto fail_loop;
    rc = weft__timers_init(&loop->timers);
    if (rc)
        goto fail_ring;
    rc = weft__io_init(loop);
    if (rc)
        goto fail_timers;
    pthread_mutex_init(&loop->tsq_lock, NULL);
    pthread_mutex_init(&loop->wd_lock, NULL);
    loop->sigfd = -1;
    sigemptyset(&loop->sigmask);
    loop->now = weft_monotonic_ns();
    *out = loop;
    return 0;
fail_timers:
    weft__timers_destroy(&loop->timers);
fail_ring:
    free(loop->ready.buf);
fail_loop:
    free(loop);
    return rc;
}

static void close_services(weft_loop_t *loop)
{
    for (size_t i = loop->nservices; i-- > 0;)
        if (loop->services[i].cls->close)
            loop->services[i].cls->close(loop, loop->services[i].state);
    for (size_t i = loop->nservices; i-- > 0;)
        if (loop->services[i].cls->destroy)
            loop->services[i].cls->destroy(loop->services[i].state);
    loop->nservices = 0;
}

/* Callbacks still scheduled are dropped; some hold references. */
static void drop_pending(weft_loop_t *loop)
{
    struct ring *r = &loop->ready;
    for (size_t i = r->head; i != r->tail; i++)
        weft__when_done_drop(r->buf[i & r->mask].fn, r->buf[i & r->mask].arg);
    for (size_t i = 0; i < loop->tsq_len; i++)
        weft__when_done_drop(loop->tsq[i].fn, loop->tsq[i].arg);
}

void weft_loop_free(weft_loop_t *loop)
{
    if (loop == NULL)
        return;
    if (atomic_load(&loop->running)) {
        fprintf(stderr, "weft loop: WEFT_ESTATE: cannot free a running "
                        "loop\n");
        return;
    }
    close_services(loop);
    weft_executor_free(loop->executor);
    weft__when_done_close(loop);
    weft__signals_destroy(loop);
    pthread_mutex_lock(&loop->tsq_lock);
    loop->closed = 1;
    pthread_mutex_unlock(&loop->tsq_lock);
    drop_pending(loop);
    weft__io_destroy(loop);
    weft__timers_destroy(&loop->timers);
    weft__nodes_free(loop);
    free(loop->ready.buf);
    free(loop->tsq);
    pthread_mutex_destroy(&loop->tsq_lock);
    pthread_mutex_destroy(&loop->wd_lock);
    free(loop);
}

/* ----- Each thread's loops ----- */

static pthread_key_t default_key;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static _Thread_local weft_loop_t *default_loop;

static void free_default(void *p)
{
    default_loop = NULL;
    weft_loop_free(p);
}

static void make_key(void)
{
    pthread_key_create(&default_key, free_default);
}

int weft_loop_default(weft_loop_t **out)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "loop_default: NULL out");
    if (default_loop == NULL) {
        pthread_once(&default_once, make_key);
        int rc = weft_loop_new(&default_loop);
        if (rc)
            return rc;
        pthread_setspecific(default_key, default_loop);
    }
    *out = default_loop;
    return 0;
}

weft_loop_t *weft_loop_running(void)
{
    return running_loop;
}

/* ----- Running ----- */

/* The timeout of the next poll, in ms: 0 when something is ready. */
static int poll_timeout(weft_loop_t *loop)
{
    if (ring_count(&loop->ready) ||
        atomic_load_explicit(&loop->stopping, memory_order_relaxed))
        return 0;
    struct lnode *first = weft__timer_first(loop);
    if (first == NULL)
        return -1;
    int64_t left = first->when - weft_monotonic_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void run_ready(weft_loop_t *loop)
{
    struct ring *r = &loop->ready;
    for (loop->run_left = ring_count(r); loop->run_left > 0;) {
        loop->run_left--;
        struct entry e = r->buf[r->head++ & r->mask];
        if (e.node) {
            int live = e.node->state == NODE_READY;
            weft__node_put(loop, e.node);
            if (!live)
                continue;
        }
        run_callback(loop, e.fn, e.arg);
    }
}

/* The last callback of an iteration may start the next iteration itself
 * when that iteration would do nothing but run the ready ring: no look at
 * I/O due, no timer due nor a clock read, nothing from other threads, no
 * stop asked, and the wait of run_until not over. It then counts as one
 * run_once, in the same order. */
static int next_iteration_here(weft_loop_t *loop)
{
    unsigned busy = loop->busy + 1;
    if (ring_count(&loop->ready) == 0 || busy >= BUSY_POLL ||
        atomic_load_explicit(&loop->tsq_count, memory_order_relaxed) ||
        atomic_load_explicit(&loop->stopping, memory_order_relaxed))
        return 0;
    if (!timers_empty(&loop->timers)) {
        struct lnode *first = weft__timer_first(loop);
        if ((busy & 7) == 0 || (first && first->when <= loop->now))
            return 0;
    }
    if (loop->done && loop->done(loop->done_ctx))
        return 0;
    loop->busy = busy;
    loop->run_left = ring_count(&loop->ready);
    return 1;
}

int weft_loop_take_next(weft_loop_t *loop, weft_callback fn, void **arg)
{
    WEFT_REFUSE_NULL_OR(loop, 0);
    WEFT_REFUSE_NULL_OR(fn, 0);
    WEFT_REFUSE_NULL_OR(arg, 0);
    struct ring *r = &loop->ready;
    if (loop->run_left == 0 && !next_iteration_here(loop))
        return 0;
    const struct entry *e = &r->buf[r->head & r->mask];
    if (e->fn != fn || e->node != NULL)
        return 0;
    *arg = e->arg;
    r->head++;
    loop->run_left--;
    return 1;
}

/* The clock costs tens of ns: a busy loop reads it every 8 iterations
 * only, and timers due by the time already read (zero delays) need none. */
static void collect_timers(weft_loop_t *loop, int slept)
{
    struct lnode *first = weft__timer_first(loop);
    if (first == NULL)
        return;
    if (first->when > loop->now && (slept || (loop->busy & 7) == 0))
        loop->now = weft_monotonic_ns();
    weft__timers_collect(loop);
}

static void run_once(weft_loop_t *loop)
{
    int timeout = poll_timeout(loop);
    if (timeout != 0 || ++loop->busy >= BUSY_POLL) {
        loop->busy = 0;
        weft__io_poll(loop, timeout);
    }
    if (!timers_empty(&loop->timers))
        collect_timers(loop, timeout != 0);
    if (atomic_load_explicit(&loop->tsq_count, memory_order_relaxed))
        weft__tsq_drain(loop);
    run_ready(loop);
}

static int enter(weft_loop_t *loop)
{
    if (loop == NULL)
        return weft_fail(WEFT_EINVAL, "loop: NULL loop");
    if (running_loop == loop || atomic_load(&loop->running))
        return weft_fail(WEFT_ESTATE, "this event loop is already running");
    if (running_loop)
        return weft_fail(WEFT_ESTATE, "cannot run the event loop while "
                                      "another loop is running");
    atomic_store(&loop->running, 1);
    atomic_store_explicit(&loop->runner, (uintptr_t)pthread_self(),
                          memory_order_relaxed);
    running_loop = loop;
    loop->now = weft_monotonic_ns();
    return 0;
}

static void leave(weft_loop_t *loop)
{
    loop->done = NULL;
    atomic_store(&loop->stopping, 0);
    running_loop = NULL;
    atomic_store_explicit(&loop->runner, 0, memory_order_relaxed);
    atomic_store(&loop->running, 0);
}

int weft_loop_run_until(weft_loop_t *loop, int (*done)(void *ctx), void *ctx)
{
    int rc = enter(loop);
    if (rc)
        return rc;
    loop->done = done;
    loop->done_ctx = ctx;
    while (!(done && done(ctx))) {
        run_once(loop);
        if (atomic_load_explicit(&loop->stopping, memory_order_acquire))
            break;
    }
    leave(loop);
    if (done && !done(ctx))
        return weft_fail(WEFT_ESTATE, "event loop stopped before the wait "
                                      "was over");
    return 0;
}

int weft_loop_run_forever(weft_loop_t *loop)
{
    return weft_loop_run_until(loop, NULL, NULL);
}

void weft_loop_stop(weft_loop_t *loop)
{
    WEFT_REFUSE_NULL_OR(loop, );
    /* seq_cst: the change half of the pair with the poll's look at
     * stopping after it announced it sleeps (io_linux.c); release alone
     * could pass the read of sleeping in weft__io_wake. */
    atomic_store(&loop->stopping, 1);
    WEFT_CHAOS_POINT(); /* asked, the loop not yet woken */
    if (running_loop != loop)
        weft__io_wake(loop);
}

int weft_loop_is_running(const weft_loop_t *loop)
{
    WEFT_REFUSE_NULL_OR(loop, 0);
    return atomic_load(&loop->running);
}

double weft_loop_time(const weft_loop_t *loop)
{
    WEFT_REFUSE_NULL_OR(loop, weft_monotonic());
    return weft_monotonic();
}

/* ----- The loop's thread ----- */

int weft__loop_refuse_thread(const char *what)
{
    return weft_fail(WEFT_ESTATE,
                     "%s: Non-thread-safe operation invoked on an event loop "
                     "other than the current one (it runs on another "
                     "thread): use weft_loop_call_soon_threadsafe",
                     what);
}

int weft_loop_check_thread(const weft_loop_t *loop, const char *what)
{
    if (loop == NULL)
        return weft_fail(WEFT_EINVAL, "%s: NULL loop", what ? what : "loop");
    LOOP_OWN_THREAD(loop, what ? what : "loop");
    return 0;
}

/* ----- Callbacks ----- */

int weft_loop_call_soon(weft_loop_t *loop, weft_callback fn, void *arg,
                        weft_handle_t *handle)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_call_soon");
    if (__builtin_expect(fn == NULL, 0))
        return weft_fail(WEFT_EINVAL, "call_soon: NULL callback");
    if (handle == NULL)
        return ring_push(&loop->ready, fn, arg, NULL);
    struct lnode *n = weft__node_get(loop);
    if (n == NULL)
        return WEFT_ENOMEM;
    int rc = ring_push(&loop->ready, fn, arg, n);
    if (rc) {
        weft__node_put(loop, n);
        return rc;
    }
    n->state = NODE_READY;
    give_handle(handle, n);
    return 0;
}

int weft_loop_call_at_ns(weft_loop_t *loop, int64_t when, weft_callback fn,
                         void *arg, weft_handle_t *handle)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_call_at");
    if (fn == NULL)
        return weft_fail(WEFT_EINVAL, "call_at: NULL callback");
    struct lnode *n = weft__node_get(loop);
    if (n == NULL)
        return WEFT_ENOMEM;
    n->fn = fn;
    n->arg = arg;
    n->when = when;
    int rc = weft__timer_add(loop, n);
    if (rc) {
        weft__node_put(loop, n);
        return rc;
    }
    if (handle)
        give_handle(handle, n);
    return 0;
}

int weft_loop_call_later(weft_loop_t *loop, double delay, weft_callback fn,
                         void *arg, weft_handle_t *handle)
{
    WEFT_REFUSE_NULL(loop);
    LOOP_OWN_THREAD(loop, "weft_loop_call_later");
    if (!(delay >= 0))
        return weft_fail(WEFT_EINVAL,
                         "call_later: delay must be >= 0, "
                         "got %g",
                         delay);
    /* A zero delay is due now whatever the exact time: the time of this
     * iteration saves reading the clock. */
    int64_t when = delay == 0 ? loop->now : weft_monotonic_ns();
    if (delay > 0)
        when = delay > 9.2e9 ? WEFT_NEVER - 1 : when + (int64_t)(delay * 1e9);
    return weft_loop_call_at_ns(loop, when, fn, arg, handle);
}

int weft_loop_call_at(weft_loop_t *loop, double when, weft_callback fn,
                      void *arg, weft_handle_t *handle)
{
    WEFT_REFUSE_NULL(loop);
    if (when != when)
        return weft_fail(WEFT_EINVAL, "call_at: NaN time");
    int64_t ns = when > 9.2e9 ? WEFT_NEVER - 1 : (int64_t)(when * 1e9);
    return weft_loop_call_at_ns(loop, ns, fn, arg, handle);
}

static struct lnode *live_node(const weft_handle_t *h)
{
    struct lnode *n = h ? h->node_ : NULL;
    if (n == NULL || n->gen != h->gen_ || n->state == NODE_FREE ||
        n->state == NODE_CANCELLED)
        return NULL;
    return n;
}

void weft_handle_cancel(weft_handle_t *h)
{
    struct lnode *n = live_node(h);
    if (n == NULL)
        return;
    if (n->state == NODE_READY)
        n->state = NODE_CANCELLED;
    else
        weft__timer_cancel(n->loop, n);
}

int weft_handle_pending(const weft_handle_t *h)
{
    WEFT_REFUSE_NULL_OR(h, 0);
    return live_node(h) != NULL;
}

/* ----- Errors ----- */

void weft_loop_set_exception_handler(weft_loop_t *loop,
                                     weft_loop_exception_handler fn, void *arg)
{
    WEFT_REFUSE_NULL_OR(loop, );
    loop->on_error = fn;
    loop->on_error_arg = arg;
}

static void default_handler(const weft_loop_error_t *e)
{
    /* Copied first: the message may be the thread's last message, which
     * the symbol lookup below replaces when it finds no name. */
    char message[WEFT_MESSAGE_MAX];
    snprintf(message, sizeof message, "%s", e->message ? e->message : "");
    char name[128] = "";
    if (e->callback == NULL ||
        weft_symbol_name(e->callback, name, sizeof name) != 0)
        snprintf(name, sizeof name, "%p", e->callback);
    fprintf(stderr, "weft loop: exception in callback %s: %s: %s\n", name,
            weft_errname(e->code), message);
}

void weft_loop_call_exception_handler(weft_loop_t *loop,
                                      const weft_loop_error_t *error)
{
    WEFT_REFUSE_NULL_OR(loop, );
    WEFT_REFUSE_NULL_OR(error, );
    if (loop->on_error)
        loop->on_error(loop, error, loop->on_error_arg);
    else
        default_handler(error);
}

void weft__loop_report(weft_loop_t *loop, const void *fn, void *arg, int code)
{
    /* A copy, so that a handler that calls weft (which replaces the
     * thread's last message) still reads the callback's message. */
    char message[WEFT_MESSAGE_MAX];
    snprintf(message, sizeof message, "%s", weft_last_message());
    weft_loop_error_t e = {code, message, fn, arg};
    weft_loop_call_exception_handler(loop, &e);
}

/* ----- Services ----- */

void *weft_loop_service(const weft_loop_t *loop, const weft_loop_service_t *cls)
{
    WEFT_REFUSE_NULL_OR(loop, NULL);
    WEFT_REFUSE_NULL_OR(cls, NULL);
    for (size_t i = 0; i < loop->nservices; i++)
        if (loop->services[i].cls == cls)
            return loop->services[i].state;
    return NULL;
}

int weft_loop_attach_service(weft_loop_t *loop, const weft_loop_service_t *cls,
                             void *state)
{
    WEFT_REFUSE_NULL(loop);
    WEFT_REFUSE_NULL(cls);
    LOOP_OWN_THREAD(loop, "weft_loop_attach_service");
    if (weft_loop_service(loop, cls))
        return weft_fail(WEFT_EEXIST, "loop: service %s already attached",
                         cls->name);
    if (loop->nservices == LOOP_SERVICES)
        return weft_fail(WEFT_ENOMEM, "loop: too many services");
    loop->services[loop->nservices].cls = cls;
    loop->services[loop->nservices].state = state;
    loop->nservices++;
    return 0;
}
