/* SPDX-License-Identifier: MIT */
/* Thread: threading.Thread, started as a detached pthread and joined
 * through park.
 *
 * Design. An entry's state word goes THREAD_NEW -> THREAD_RUNNING ->
 * THREAD_DONE, and only forward. start() moves it to RUNNING, adds the entry
 * to the registry (which takes a reference) and creates a detached pthread,
 * then parks on the booted word until the new thread has published its ids,
 * so that ident and native_id are known once start() returns, as in Python.
 *
 * The new thread runs the target, records the code, result and message,
 * reports a failure through the excepthook, destroys its thread-local
 * values, and then finishes: it leaves the registry, stores THREAD_DONE
 * (release) and wakes everyone parked on the state word, and only then
 * drops the registry's reference. A joiner parks "while the word still holds
 * RUNNING"; park checks that under its own lock and the finishing thread
 * changes the word before waking under the same lock, so no wake-up is
 * lost. The entry cannot vanish under the wake, as the registry's reference
 * is dropped after it.
 *
 * Since the pthread is detached, the system reclaims it when it returns: no
 * pthread_join is ever needed, and join works the same from a coroutine
 * (which then suspends alone) as from a thread.
 */
#include "base/check.h"
#include "thread_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* threading.stack_size()'s minimum. */
#define STACK_MIN (32 * 1024)

static _Atomic size_t default_stack_size;

int weft__thread_alloc(weft_thread_t **out, enum thread_kind kind,
                       const char *name)
{
    weft_thread_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for a thread");
    if (weft__thread_name_set(t, name) != 0) {
        free(t);
        return WEFT_ENOMEM;
    }
    atomic_init(&t->refs, 1);
    int adopted = kind != THREAD_KIND_WEFT;
    atomic_init(&t->state, adopted ? THREAD_RUNNING : THREAD_NEW);
    atomic_init(&t->started, adopted);
    atomic_init(&t->booted, adopted);
    atomic_init(&t->daemon, kind == THREAD_KIND_DUMMY);
    t->kind = kind;
    weft_event_init(&t->finished);
    *out = t;
    return 0;
}

static int check_opts(const weft_thread_opts_t *o)
{
    if (o->stack_size != 0 && o->stack_size < STACK_MIN)
        return weft_fail(WEFT_EINVAL,
                         "stack size %zu is below the minimum of 32 KiB",
                         o->stack_size);
    return 0;
}

/* Fill in a new weft thread's settings. Python: a thread is a daemon if
 * asked, else if its creator is one. */
static void configure(weft_thread_t *t, const weft_thread_opts_t *o,
                      weft_fn target, void *arg, int is_timer)
{
    weft_thread_t *creator = weft_current_thread();
    int inherited = creator ? weft_thread_daemon(creator) : 0;
    atomic_store_explicit(&t->daemon, o->daemon || inherited,
                          memory_order_relaxed);
    t->stack_size = o->stack_size;
    t->target = target;
    t->arg = arg;
    t->is_timer = is_timer;
}

int weft__thread_create(weft_thread_t **out, weft_fn target, void *arg,
                        const weft_thread_opts_t *opts, int is_timer)
{
    if (out == NULL || target == NULL)
        return weft_fail(WEFT_EINVAL, "%s: NULL %s",
                         is_timer ? "weft_timer_new" : "weft_thread_new",
                         out == NULL ? "out" : "target");
    weft_thread_opts_t o = opts ? *opts : (weft_thread_opts_t){0};
    int rc = check_opts(&o);
    if (rc)
        return rc;
    /* Python names a thread given name="" as if given none. */
    if (o.name != NULL && o.name[0] == '\0')
        o.name = NULL;
    char name[128];
    if (o.name == NULL)
        weft__thread_default_name(name, sizeof name, is_timer ? NULL : target);
    rc = weft__thread_alloc(out, THREAD_KIND_WEFT, o.name ? o.name : name);
    if (rc == 0)
        configure(*out, &o, target, arg, is_timer);
    return rc;
}

int weft_thread_new(weft_thread_t **out, weft_fn target, void *arg,
                    const weft_thread_opts_t *opts)
{
    return weft__thread_create(out, target, arg, opts, 0);
}

weft_thread_t *weft_thread_ref(weft_thread_t *t)
{
    WEFT_REFUSE_NULL_OR(t, NULL);
    /* Relaxed: whoever passes t on already holds a reference. */
    if (t)
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void weft_thread_free(weft_thread_t *t)
{
    if (t == NULL)
        return;
    /* acq_rel: every use through other references happens before the
     * free done by the last one. */
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    weft_event_destroy(&t->finished);
    weft__thread_names_free(t);
    free(t);
}

/* ----- Running ----- */

static void run_target(weft_thread_t *t)
{
    void *result = NULL;
    weft_clear_message();
    int code =
        t->is_timer ? weft__timer_run(t, &result) : t->target(t->arg, &result);
    t->result = result;
    t->code = code;
    if (code != 0) {
        weft_error_capture(&t->error, code);
        weft__excepthook_run(t, &t->error);
    }
}

void weft__thread_finish(weft_thread_t *t)
{
    weft__registry_remove(t);
    /* Release: pairs with the acquire loads in join, is_alive and result,
     * publishing code, result and error. */
    atomic_store_explicit(&t->state, THREAD_DONE, memory_order_release);
    weft_park_wake(&t->state, SIZE_MAX);
    weft__thread_unbind_if_unheld(t);
    weft_thread_free(t);
}

static void *thread_main(void *p)
{
    weft_thread_t *t = p;
    weft__thread_bind(t);
    weft__thread_name_os(t);
    atomic_store_explicit(&t->ident, (uint64_t)pthread_self(),
                          memory_order_relaxed);
    atomic_store_explicit(&t->native_id, (uint64_t)gettid(),
                          memory_order_relaxed);
    /* Release: pairs with the acquire in await_boot(), publishing ids. */
    atomic_store_explicit(&t->booted, 1, memory_order_release);
    weft_park_wake(&t->booted, SIZE_MAX);
    run_target(t);
    weft__local_run_destructors();
    weft__thread_finish(t);
    return NULL;
}

/* ----- Starting ----- */

static size_t stack_for(const weft_thread_t *t)
{
    size_t size = t->stack_size ? t->stack_size
                                : atomic_load_explicit(&default_stack_size,
                                                       memory_order_relaxed);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (size + page - 1) / page * page;
}

static int spawn(weft_thread_t *t)
{
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc == 0)
        rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    size_t stack = stack_for(t);
    if (rc == 0 && stack != 0)
        rc = pthread_attr_setstacksize(&attr, stack);
    pthread_t id;
    if (rc == 0)
        rc = pthread_create(&id, &attr, thread_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return weft_fail(WEFT_ESYS, "can't start new thread: %s", strerror(rc));
    return 0;
}

/* Wait, shielded from cancellation, for the new thread's ids: the thread
 * runs in any case, so start() must not return before they are known. */
static void await_boot(weft_thread_t *t)
{
    weft_cancel_scope_t shield;
    weft_cancel_scope_init(&shield);
    weft_cancel_scope_enter(&shield, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    while (atomic_load_explicit(&t->booted, memory_order_acquire) == 0)
        weft_park_wait(&t->booted, 0, WEFT_NEVER);
    weft_cancel_scope_exit(&shield);
}

int weft_thread_start(weft_thread_t *t)
{
    if (t == NULL)
        return weft_fail(WEFT_EINVAL, "weft_thread_start: NULL thread");
    if (atomic_exchange_explicit(&t->started, 1, memory_order_acq_rel))
        return weft_fail(WEFT_ESTATE, "threads can only be started once");
    weft__exit_rule_arm();
    atomic_store_explicit(&t->state, THREAD_RUNNING, memory_order_relaxed);
    weft__registry_add(t);
    int rc = spawn(t);
    if (rc != 0) {
        /* As if never started: it may be started again. A joiner that
         * came meanwhile is woken to find it unstarted. */
        weft__registry_remove(t);
        atomic_store_explicit(&t->started, 0, memory_order_relaxed);
        atomic_store_explicit(&t->state, THREAD_NEW, memory_order_release);
        weft_park_wake(&t->state, SIZE_MAX);
        weft_thread_free(t);
        return rc;
    }
    await_boot(t);
    return 0;
}

/* ----- Joining ----- */

static int await_done(weft_thread_t *t, int64_t deadline)
{
    for (;;) {
        uint32_t s = atomic_load_explicit(&t->state, memory_order_acquire);
        if (s == THREAD_DONE)
            return 0;
        if (s == THREAD_NEW &&
            !atomic_load_explicit(&t->started, memory_order_relaxed))
            return weft_fail(WEFT_ESTATE, "%s failed to start",
                             weft_thread_name(t));
        int rc = weft_park_wait(&t->state, s, deadline);
        if (rc == WEFT_ETIMEDOUT)
            return weft_fail(rc, "join of %s timed out", weft_thread_name(t));
        if (rc == WEFT_ECANCELLED)
            return weft_fail(rc, "join of %s cancelled", weft_thread_name(t));
    }
}

int weft_thread_join(weft_thread_t *t, double timeout)
{
    if (t == NULL)
        return weft_fail(WEFT_EINVAL, "weft_thread_join: NULL thread");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc != 0)
        return rc;
    if (t->kind == THREAD_KIND_DUMMY)
        return weft_fail(WEFT_ESTATE, "cannot join a dummy thread");
    if (!atomic_load_explicit(&t->started, memory_order_acquire))
        return weft_fail(WEFT_ESTATE,
                         "cannot join thread before it is started");
    if (t == weft_current_thread())
        return weft_fail(WEFT_EDEADLK, "cannot join current thread");
    return await_done(t, deadline);
}

int weft_thread_is_alive(const weft_thread_t *t)
{
    WEFT_REFUSE_NULL_OR(t, 0);
    return t && atomic_load_explicit(&t->state, memory_order_acquire) ==
                    THREAD_RUNNING;
}

int weft_thread_result(const weft_thread_t *t, void **result)
{
    if (t == NULL)
        return weft_fail(WEFT_EINVAL, "weft_thread_result: NULL thread");
    if (atomic_load_explicit(&t->state, memory_order_acquire) != THREAD_DONE)
        return weft_fail(WEFT_ESTATE, "thread %s has not finished",
                         weft_thread_name(t));
    if (t->lost_in_fork)
        return weft_fail(WEFT_ESTATE, "thread %s did not survive fork()",
                         weft_thread_name(t));
    if (t->code != 0)
        return weft_fail(t->code, "%s", t->error.message);
    if (result)
        *result = t->result;
    return 0;
}

/* ----- Attributes ----- */

int weft_thread_daemon(const weft_thread_t *t)
{
    WEFT_REFUSE_NULL_OR(t, 0);
    return t && atomic_load_explicit(&t->daemon, memory_order_relaxed);
}

int weft_thread_set_daemon(weft_thread_t *t, int daemon)
{
    if (t == NULL)
        return weft_fail(WEFT_EINVAL, "weft_thread_set_daemon: NULL thread");
    if (atomic_load_explicit(&t->started, memory_order_acquire))
        return weft_fail(WEFT_ESTATE,
                         "cannot set daemon status of active thread");
    atomic_store_explicit(&t->daemon, daemon != 0, memory_order_relaxed);
    return 0;
}

uint64_t weft_thread_ident(const weft_thread_t *t)
{
    WEFT_REFUSE_NULL_OR(t, 0);
    return t ? atomic_load_explicit(&t->ident, memory_order_relaxed) : 0;
}

uint64_t weft_thread_native_id(const weft_thread_t *t)
{
    WEFT_REFUSE_NULL_OR(t, 0);
    return t ? atomic_load_explicit(&t->native_id, memory_order_relaxed) : 0;
}

uint64_t weft_get_ident(void)
{
    return (uint64_t)pthread_self();
}

uint64_t weft_get_native_id(void)
{
    return (uint64_t)gettid();
}

int weft_thread_stack_size(size_t size, size_t *old)
{
    if (size != 0 && size < STACK_MIN)
        return weft_fail(WEFT_EINVAL,
                         "stack size %zu is below the minimum of 32 KiB", size);
    size_t prev = atomic_exchange_explicit(&default_stack_size, size,
                                           memory_order_relaxed);
    if (old)
        *old = prev;
    return 0;
}
