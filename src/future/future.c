/* SPDX-License-Identifier: MIT */
/* Future: concurrent.futures.Future, one type for every backend.
 *
 * Design. Everything that changes a future goes through its state word (see
 * future_int.h). The internal LOCKED bit guards the callback list and the
 * outcome fields while a completion or a cancel writes them; it is held for
 * a few instructions only, so takers spin.
 *
 * Completion: take LOCKED, check the state is not done, store the outcome,
 * detach the callback list, then publish with one release store of the
 * final state (clearing LOCKED and WAITERS). The store can be plain because
 * whoever holds LOCKED is the only writer of the word: every other write
 * (a claim, taking LOCKED, announcing a waiter) is a compare-and-swap from a
 * value without LOCKED, so it fails or waits while LOCKED is held. If
 * WAITERS was set, unpark everyone parked on the word: park keys on the
 * address only, so this is safe even if a woken waiter frees the future at
 * once. Callbacks run after that, on a reference the completer took before
 * publishing.
 *
 * Waiting: set WAITERS (when LOCKED is clear), then park on the word
 * validating (under park's lock) that the state is still not done. Why no
 * wake-up is lost: the waiter's compare-and-swap comes before or after the
 * completer's taking LOCKED in the word's order. Before: the completer's
 * read under LOCKED sees WAITERS and it unparks, after its store, under
 * park's lock, so the waiter either validates against the done state or is
 * parked and woken. After: the waiter waits for LOCKED to clear and then
 * reads the done state, and does not park.
 *
 * Cancelled and notified (Python's CANCELLED_AND_NOTIFIED). A cancel moves
 * a pending future to CANCELLED: it is done (result() says so, waiters of
 * that one future wake, done callbacks run), but it counts for weft_wait()
 * and as_completed only once its owner has seen the cancel (claiming it
 * with try_start or set_running_or_notify_cancel, dropping it with
 * cancel_and_notify, or finishing it). Their waiters are callback nodes
 * marked waiter: a cancel detaches and runs the other nodes and leaves the
 * waiters on the list; the notification (NOTIFIED set, under LOCKED, with
 * the same publishing store) detaches and runs them. So each node runs
 * exactly once: the list is only ever cut under LOCKED, and a node added
 * under LOCKED either finds the state that makes it due (and runs at once)
 * or is on the list before the store that makes it due detaches it.
 */
#include "base/check.h"
#include "future_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/chaos.h"
#include "weft/log.h"

static _Thread_local weft_future_wait_hook wait_hook;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ----- The internal lock ----- */

static uint32_t lock_state(weft_future_t *f)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        if (s & ST_LOCKED) {
            cpu_relax();
            s = atomic_load_explicit(&f->state, memory_order_relaxed);
            continue;
        }
        /* Acquire: pairs with the release in unlock_state/publish. */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s,
                                                  s | ST_LOCKED,
                                                  memory_order_acquire,
                                                  memory_order_relaxed)) {
            WEFT_CHAOS_POINT(); /* the holder stalls: others spin */
            return s | ST_LOCKED;
        }
    }
}

/* The holder of LOCKED is the only writer of the state word (every other
 * write is a compare-and-swap from a value without LOCKED, or waits for it
 * to clear), so releasing it is a plain store. */
static void unlock_state(weft_future_t *f)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    atomic_store_explicit(&f->state, s & ~ST_LOCKED, memory_order_release);
}

/* ----- Life ----- */

static const weft_future_class_t plain_class = {sizeof(struct weft_future),
                                                NULL, NULL, NULL};

weft_future_t *weft_future_init_of(void *memory,
                                   const weft_future_class_t *cls,
                                   unsigned refs)
{
    WEFT_REFUSE_NULL_OR(memory, NULL);
    WEFT_REFUSE_NULL_OR(cls, NULL);
    weft_future_t *f = memory;
    atomic_init(&f->state, WEFT_FUTURE_PENDING);
    atomic_init(&f->refs, refs);
    f->cls = cls;
    f->result.bytes = (weft_bytes_t){NULL, 0};
    f->code = 0;
    f->message = NULL;
    f->callbacks = NULL;
    return f;
}

int weft_future_new_of(weft_future_t **out, const weft_future_class_t *cls,
                       unsigned refs)
{
    if (out == NULL || cls == NULL || cls->size < sizeof(struct weft_future) ||
        refs == 0)
        return weft_fail(WEFT_EINVAL, "future_new: bad arguments");
    void *memory = calloc(1, cls->size);
    if (memory == NULL)
        return weft_fail(WEFT_ENOMEM, "future_new: no memory");
    *out = weft_future_init_of(memory, cls, refs);
    return 0;
}

const weft_future_class_t *weft_future_class_of(const weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, NULL);
    return f->cls;
}

int weft_future_new(weft_future_t **out)
{
    return weft_future_new_of(out, &plain_class, 1);
}

weft_future_t *weft_future_ref(weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, NULL);
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}

static void release_outcome(weft_future_t *f)
{
    if (atomic_load_explicit(&f->state, memory_order_relaxed) & ST_BYTES)
        weft_bytes_free(&f->result.bytes);
    free(f->message);
    struct weft__callback *cb = f->callbacks;
    while (cb) {
        struct weft__callback *next = cb->next;
        if (!cb->embedded)
            free(cb);
        cb = next;
    }
}

void weft_future_free(weft_future_t *f)
{
    if (f == NULL)
        return;
    /* Acquire-release: our writes happen before the last owner's teardown,
     * and the last owner sees every other owner's. (A release decrement with
     * an acquire fence would do, but ThreadSanitizer does not model fences.) */
    /* The count reading 1 means ours is the only reference: nobody else
     * can add or drop one (adding takes a reference held), so no
     * read-modify-write is needed. Acquire: pairs with the other owners'
     * decrements, as the fetch_sub's would. */
    if (atomic_load_explicit(&f->refs, memory_order_acquire) != 1 &&
        atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    release_outcome(f);
    if (f->cls->destroy)
        f->cls->destroy(f);
    else
        free(f);
}

/* ----- Queries ----- */

int weft_future_state(const weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, 0);
    uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);
    if ((s & ST_MASK) == WEFT_FUTURE_CANCELLED && (s & ST_NOTIFIED))
        return WEFT_FUTURE_CANCELLED_AND_NOTIFIED;
    return (int)(s & ST_MASK);
}

int weft_future_done(const weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, 0);
    return weft_future_state(f) >= WEFT_FUTURE_FINISHED;
}

int weft_future_running(const weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, 0);
    return weft_future_state(f) == WEFT_FUTURE_RUNNING;
}

int weft_future_cancelled(const weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, 0);
    return (atomic_load_explicit(&f->state, memory_order_acquire) &
            ST_MASK) == WEFT_FUTURE_CANCELLED;
}

const void *weft_future_stop_word(const weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, NULL);
    return &f->state;
}

int weft_task_cancelled(void)
{
    return weft_cancelled() != 0;
}

/* ----- Completion ----- */

static void run_callbacks(weft_future_t *f, struct weft__callback *cb)
{
    while (cb) {
        struct weft__callback *next = cb->next;
        int embedded = cb->embedded;
        weft_future_callback fn = cb->fn;
        void *arg = cb->arg;
        if (!embedded)
            free(cb);
        /* An embedded node may be gone once its callback has run. */
        int rc = fn(f, arg);
        if (rc)
            weft__future_report_callback(f, rc);
        cb = next;
    }
}

/* With LOCKED held: take off the list the nodes that are due once f is
 * in state final, in the order they were added. All of them when f then
 * counts for weft_wait(); on a plain cancel, all but the waiters, which
 * stay for the notification. */
static struct weft__callback *detach_due(weft_future_t *f, uint32_t final)
{
    struct weft__callback *due = NULL, **tail = &due;
    struct weft__callback **it = &f->callbacks;
    int all = weft__state_counts(final);
    while (*it) {
        struct weft__callback *n = *it;
        if (n->waiter && !all) {
            it = &n->next;
            continue;
        }
        *it = n->next;
        n->next = NULL;
        *tail = n;
        tail = &n->next;
    }
    return due;
}

/* With LOCKED held: detach what is due and move to final (a done state,
 * with extra flags), waking every waiter; then run the callbacks. */
static void publish(weft_future_t *f, uint32_t final)
{
    struct weft__callback *cb = detach_due(f, final);
    if (cb)
        weft_future_ref(f); /* the waiters may drop theirs at once */
    /* LOCKED held: nobody else writes the word until the store below, so
     * what is read here is what the store replaces (WAITERS included). */
    uint32_t old = atomic_load_explicit(&f->state, memory_order_relaxed);
    uint32_t keep = old & (ST_STOP | ST_BYTES | ST_FAILED | ST_NOTIFIED);
    WEFT_CHAOS_POINT(); /* the outcome stored, not yet published */
    /* Release: publishes the outcome; pairs with the acquire loads of
     * the state in every query and wait. */
    atomic_store_explicit(&f->state, final | keep, memory_order_release);
    WEFT_CHAOS_POINT(); /* published, the sleepers not yet woken */
    if (old & ST_WAITERS)
        weft_unpark_all(&f->state, 0);
    if (cb) {
        WEFT_CHAOS_POINT(); /* woken, the callbacks not yet run */
        run_callbacks(f, cb);
        weft_future_free(f);
    }
}

/* A cancelled future's owner has seen the cancel: mark it notified and run
 * its waiter nodes. Returns 1 if this call did, 0 if it was not a
 * cancelled future waiting for that (or another call did it first). */
static int notify_cancel(weft_future_t *f)
{
    uint32_t s = lock_state(f);
    if ((s & ST_MASK) != WEFT_FUTURE_CANCELLED || (s & ST_NOTIFIED)) {
        unlock_state(f);
        return 0;
    }
    publish(f, WEFT_FUTURE_CANCELLED | ST_NOTIFIED);
    return 1;
}

/* Take the lock if f is not done yet; 0 with the lock held, else
 * WEFT_ESTATE with nothing held. */
static int lock_undone(weft_future_t *f, const char *what)
{
    uint32_t s = lock_state(f);
    if (!weft__state_done(s))
        return 0;
    unlock_state(f);
    return weft_fail(WEFT_ESTATE, "%s: the future is already done", what);
}

int weft_future_set_result(weft_future_t *f, void *result)
{
    WEFT_REFUSE_NULL(f);
    int rc = lock_undone(f, "set_result");
    if (rc)
        return rc;
    f->result.ptr = result;
    publish(f, WEFT_FUTURE_FINISHED);
    return 0;
}

int weft_future_set_result_bytes(weft_future_t *f, weft_bytes_t *result)
{
    WEFT_REFUSE_NULL(f);
    if (result == NULL)
        return weft_fail(WEFT_EINVAL, "set_result_bytes: NULL result");
    int rc = lock_undone(f, "set_result_bytes");
    if (rc)
        return rc;
    f->result.bytes = *result;
    result->data = NULL;
    result->len = 0;
    atomic_fetch_or_explicit(&f->state, ST_BYTES, memory_order_relaxed);
    publish(f, WEFT_FUTURE_FINISHED);
    return 0;
}

/* With the lock held: record an error outcome and publish it. */
static void fail_locked(weft_future_t *f, int code, const char *message)
{
    f->code = code;
    f->message = strdup(message ? message : weft_strerror(code));
    atomic_fetch_or_explicit(&f->state, ST_FAILED, memory_order_relaxed);
    publish(f, WEFT_FUTURE_FINISHED);
}

static int set_error_text(weft_future_t *f, int code, const char *text)
{
    if (code == 0)
        return weft_fail(WEFT_EINVAL, "set_error: code 0 is not an error");
    int rc = lock_undone(f, "set_error");
    if (rc)
        return rc;
    fail_locked(f, code, text);
    return 0;
}

int weft_future_set_error(weft_future_t *f, int code, const char *fmt, ...)
{
    char text[WEFT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    if (fmt)
        vsnprintf(text, sizeof text, fmt, ap);
    else
        snprintf(text, sizeof text, "%s", weft_strerror(code));
    va_end(ap);
    return set_error_text(f, code, text);
}

/* The running task was asked to stop and did: CANCELLED, and notified,
 * since its owner is the one finishing it. */
static int finish_stopped(weft_future_t *f)
{
    int rc = lock_undone(f, "finish");
    if (rc)
        return rc;
    f->code = WEFT_ECANCELLED;
    publish(f, WEFT_FUTURE_CANCELLED | ST_NOTIFIED);
    return 0;
}

int weft_future_finish(weft_future_t *f, int code, void *result)
{
    WEFT_REFUSE_NULL(f);
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    int rc;
    if (code == 0) {
        rc = weft_future_set_result(f, result);
    } else if (code == WEFT_ECANCELLED && (s & ST_STOP)) {
        rc = finish_stopped(f);
    } else {
        const char *m = weft_last_message();
        rc = set_error_text(f, code, m[0] ? m : NULL);
    }
    /* Done already: if cancelled, its owner, finishing it, has now seen
     * the cancel. */
    if (rc == WEFT_ESTATE && notify_cancel(f))
        rc = weft_fail(WEFT_ESTATE, "finish: the future was cancelled");
    return rc;
}

/* What the owner's claim found: it now runs f; f was cancelled (and this
 * claim notified it); f was cancelled and notified before; f runs or is
 * finished. */
enum claim { CLAIM_RUN, CLAIM_CANCELLED, CLAIM_NOTIFIED, CLAIM_BUSY };

static enum claim claim(weft_future_t *f)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        if (s & ST_LOCKED) {
            cpu_relax();
            s = atomic_load_explicit(&f->state, memory_order_relaxed);
            continue;
        }
        switch (s & ST_MASK) {
        case WEFT_FUTURE_PENDING:
            /* Acquire: what the submitter wrote before it published f
             * happens before the task runs. */
            if (atomic_compare_exchange_weak_explicit(
                    &f->state, &s, (s & ~ST_MASK) | WEFT_FUTURE_RUNNING,
                    memory_order_acq_rel, memory_order_relaxed))
                return CLAIM_RUN;
            continue;
        case WEFT_FUTURE_CANCELLED:
            if (s & ST_NOTIFIED)
                return CLAIM_NOTIFIED;
            if (notify_cancel(f))
                return CLAIM_CANCELLED;
            s = atomic_load_explicit(&f->state, memory_order_relaxed);
            continue; /* notified by another meanwhile */
        default:
            return CLAIM_BUSY;
        }
    }
}

int weft_future_set_running_or_notify_cancel(weft_future_t *f)
{
    WEFT_REFUSE_NULL(f);
    switch (claim(f)) {
    case CLAIM_RUN:
        return 0;
    case CLAIM_CANCELLED:
        return weft_fail(WEFT_ECANCELLED, "the future was cancelled");
    case CLAIM_NOTIFIED:
        return weft_fail(WEFT_ESTATE, "future in unexpected state: "
                                      "cancelled and notified already");
    default:
        return weft_fail(WEFT_ESTATE, "future is not pending");
    }
}

int weft_future_try_start(weft_future_t *f)
{
    WEFT_REFUSE_NULL(f);
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    /* The common case inline: pending and unlocked. */
    if ((s & (ST_MASK | ST_LOCKED)) == WEFT_FUTURE_PENDING &&
        atomic_compare_exchange_strong_explicit(
            &f->state, &s, (s & ~ST_MASK) | WEFT_FUTURE_RUNNING,
            memory_order_acq_rel, memory_order_relaxed))
        return 1;
    return claim(f) == CLAIM_RUN;
}

/* ----- Cancelling ----- */

static int cancel_pending_locked(weft_future_t *f)
{
    f->code = WEFT_ECANCELLED;
    publish(f, WEFT_FUTURE_CANCELLED);
    return 0;
}

int weft_future_cancel(weft_future_t *f)
{
    WEFT_REFUSE_NULL(f);
    uint32_t s = lock_state(f);
    switch (s & ST_MASK) {
    case WEFT_FUTURE_PENDING:
        return cancel_pending_locked(f);
    case WEFT_FUTURE_CANCELLED:
        unlock_state(f);
        return 0;
    default:
        unlock_state(f);
        return weft_fail(WEFT_ESTATE, "cannot cancel a %s future",
                         (s & ST_MASK) == WEFT_FUTURE_RUNNING ? "running"
                                                              : "finished");
    }
}

int weft_future_cancel_and_notify(weft_future_t *f)
{
    WEFT_REFUSE_NULL(f);
    uint32_t s = lock_state(f);
    switch (s & ST_MASK) {
    case WEFT_FUTURE_PENDING:
        f->code = WEFT_ECANCELLED;
        publish(f, WEFT_FUTURE_CANCELLED | ST_NOTIFIED);
        return 0;
    case WEFT_FUTURE_CANCELLED:
        if (s & ST_NOTIFIED)
            unlock_state(f);
        else
            publish(f, WEFT_FUTURE_CANCELLED | ST_NOTIFIED);
        return 0;
    default:
        unlock_state(f);
        return weft_fail(WEFT_ESTATE, "cannot cancel a %s future",
                         (s & ST_MASK) == WEFT_FUTURE_RUNNING ? "running"
                                                              : "finished");
    }
}

int weft_future_stop(weft_future_t *f)
{
    WEFT_REFUSE_NULL(f);
    uint32_t s = lock_state(f);
    switch (s & ST_MASK) {
    case WEFT_FUTURE_PENDING:
        return cancel_pending_locked(f);
    case WEFT_FUTURE_RUNNING:
        atomic_fetch_or_explicit(&f->state, ST_STOP, memory_order_release);
        /* Under the lock: the task cannot complete (and its worker move
         * on) while the executor signals it. */
        if (f->cls->stop)
            f->cls->stop(f);
        unlock_state(f);
        return 0;
    case WEFT_FUTURE_CANCELLED:
        unlock_state(f);
        return 0;
    default:
        unlock_state(f);
        return weft_fail(WEFT_ESTATE, "cannot stop a finished future");
    }
}

/* ----- Callbacks ----- */

int weft__future_add_node(weft_future_t *f, struct weft__callback *node)
{
    uint32_t s = lock_state(f);
    if (node->waiter ? weft__state_counts(s) : weft__state_done(s)) {
        unlock_state(f);
        int rc = node->fn(f, node->arg);
        if (rc)
            weft__future_report_callback(f, rc);
        return 1;
    }
    /* Appended, so callbacks run in the order they were added. */
    struct weft__callback **tail = &f->callbacks;
    while (*tail)
        tail = &(*tail)->next;
    node->next = NULL;
    *tail = node;
    unlock_state(f);
    return 0;
}

int weft__future_remove_node(weft_future_t *f, struct weft__callback *node)
{
    lock_state(f);
    for (struct weft__callback **it = &f->callbacks; *it; it = &(*it)->next) {
        if (*it == node) {
            *it = node->next;
            unlock_state(f);
            return 1;
        }
    }
    unlock_state(f);
    return 0;
}

int weft_future_add_done_callback(weft_future_t *f, weft_future_callback fn,
                                  void *arg)
{
    if (f == NULL || fn == NULL)
        return weft_fail(WEFT_EINVAL, "add_done_callback: NULL %s",
                         f ? "callback" : "future");
    if (weft_future_done(f)) {
        int rc = fn(f, arg);
        if (rc)
            weft__future_report_callback(f, rc);
        return 0;
    }
    struct weft__callback *node = malloc(sizeof *node);
    if (node == NULL)
        return weft_fail(WEFT_ENOMEM, "add_done_callback: no memory");
    *node = (struct weft__callback){fn, arg, NULL, 0, 0};
    if (weft__future_add_node(f, node)) /* done meanwhile: it ran already */
        free(node);
    return 0;
}

void weft__future_report_callback(weft_future_t *f, int code)
{
    weft_log(WEFT_LOG_ERROR, "concurrent.futures",
             "exception calling callback for future %p: %s: %s", (void *)f,
             weft_errname(code), weft_last_message());
}

/* ----- Waiting ----- */

weft_future_wait_hook weft_future_set_wait_hook(weft_future_wait_hook hook)
{
    weft_future_wait_hook prev = wait_hook;
    wait_hook = hook;
    return prev;
}

static int still_pending(void *ctx)
{
    weft_future_t *f = ctx;
    return !weft__state_done(atomic_load(&f->state));
}

static const weft_park_ops_t future_park_ops = {still_pending, NULL, NULL};

/* Set WAITERS unless f is done: 1 once set, 0 if done. Never while
 * LOCKED is held (a compare-and-swap from a value without it), so that the
 * holder stays the only writer and publish reads WAITERS exactly. */
static int announce_waiter(weft_future_t *f)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);
    for (;;) {
        if (weft__state_done(s))
            return 0;
        if (s & ST_LOCKED) {
            cpu_relax();
            s = atomic_load_explicit(&f->state, memory_order_acquire);
            continue;
        }
        if ((s & ST_WAITERS) ||
            atomic_compare_exchange_weak_explicit(&f->state, &s,
                                                  s | ST_WAITERS,
                                                  memory_order_seq_cst,
                                                  memory_order_acquire))
            return 1;
    }
}

int weft__future_await(weft_future_t *f, int64_t deadline)
{
    if (wait_hook) {
        int rc = wait_hook(f, deadline);
        if (rc != WEFT_EAGAIN)
            return rc;
    }
    if (f->cls->wait && !weft_future_done(f) && weft_park_in_thread()) {
        int rc = f->cls->wait(f, deadline);
        if (rc != WEFT_EAGAIN)
            return rc;
    }
    while (announce_waiter(f)) {
        WEFT_CHAOS_POINT(); /* announced, not yet parked */
        int rc = weft_park(&f->state, &future_park_ops, f, deadline, NULL);
        if (rc == WEFT_ETIMEDOUT || rc == WEFT_ECANCELLED)
            return rc;
    }
    return 0;
}

int weft_future_wait(weft_future_t *f, double timeout)
{
    if (f == NULL)
        return weft_fail(WEFT_EINVAL, "wait: NULL future");
    /* The timeout is checked first, so that a done future does not hide a
     * bad one (without reading the clock: the deadline is made only when
     * there is something to wait for). NaN fails both comparisons. */
    int64_t deadline;
    if (!(timeout >= 0) && timeout != WEFT_FOREVER)
        return weft_deadline(timeout, &deadline);
    if (weft_future_done(f))
        return 0;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    rc = timeout == 0 ? WEFT_ETIMEDOUT : weft__future_await(f, deadline);
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "the future is not done");
    if (rc == WEFT_ECANCELLED)
        return weft_fail(rc, "wait for a future cancelled");
    return rc;
}

/* The outcome of a done future, as result() reports it. */
static int outcome(weft_future_t *f, uint32_t s)
{
    if ((s & ST_MASK) == WEFT_FUTURE_CANCELLED)
        return weft_fail(WEFT_ECANCELLED, "the future was cancelled");
    if (s & ST_FAILED)
        return weft_fail(f->code, "%s", f->message ? f->message : "");
    return 0;
}

static int wait_done(weft_future_t *f, double timeout, uint32_t *state)
{
    int rc = weft_future_wait(f, timeout);
    if (rc)
        return rc;
    *state = atomic_load_explicit(&f->state, memory_order_acquire);
    return 0;
}

int weft_future_result(weft_future_t *f, double timeout, void **result)
{
    uint32_t s;
    int rc = wait_done(f, timeout, &s);
    if (rc)
        return rc;
    if (s & ST_BYTES)
        return weft_fail(WEFT_EINVAL, "result: the result is a byte string "
                                      "(use weft_future_result_bytes)");
    rc = outcome(f, s);
    if (rc == 0 && result)
        *result = f->result.ptr;
    return rc;
}

int weft_future_result_bytes(weft_future_t *f, double timeout,
                             const weft_bytes_t **result)
{
    uint32_t s;
    int rc = wait_done(f, timeout, &s);
    if (rc)
        return rc;
    rc = outcome(f, s);
    if (rc)
        return rc;
    if (!(s & ST_BYTES))
        return weft_fail(WEFT_EINVAL, "result_bytes: the result is a "
                                      "pointer (use weft_future_result)");
    if (result)
        *result = &f->result.bytes;
    return 0;
}

int weft_future_error(weft_future_t *f, double timeout,
                      weft_error_info_t *error)
{
    uint32_t s;
    int rc = wait_done(f, timeout, &s);
    if (rc)
        return rc;
    if ((s & ST_MASK) == WEFT_FUTURE_CANCELLED)
        return weft_fail(WEFT_ECANCELLED, "the future was cancelled");
    if (error) {
        error->code = (s & ST_FAILED) ? f->code : 0;
        snprintf(error->message, sizeof error->message, "%s",
                 (s & ST_FAILED) && f->message ? f->message : "");
    }
    return 0;
}
