/* SPDX-License-Identifier: MIT */
/* current_thread(): each thread's entry, and how long it stays the thread's.
 *
 * A weft thread binds its own handle as it starts. The main thread is bound
 * to "MainThread" on first use. Any other thread gets a "Dummy-N" entry on
 * first use, a daemon as in Python, which leaves the registry when the
 * thread exits, so foreign threads that come and go leave nothing behind.
 *
 * Lifetime. The binding of a weft or dummy thread holds a reference of its
 * own, so that the entry stays valid, and stays the thread's current one,
 * for as long as code can run on that thread: through its exit destructors
 * too (weft's thread-local values, other libraries' pthread keys, which
 * run in rounds after the start routine returns, in an order no one
 * controls). The binding is dropped by the destructor of one pthread key,
 * self_key, which re-arms itself each round and lets go only in the round
 * before the last the C library runs (PTHREAD_DESTRUCTOR_ITERATIONS), after
 * other destructors had their chances. The last round is left alone: the
 * sanitizers' runtimes keep it to tear down their own view of the thread,
 * after which no instrumented code may run there. A dummy's thread is over as far as
 * others can tell (out of the registry, not alive) in the first round,
 * after its weft thread-local values were destroyed, as a weft thread's
 * is once join() returns. Anyone else who keeps an entry past its thread's
 * end holds a reference of their own (weft_thread_ref()). */
#include "thread_int.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#ifndef PTHREAD_DESTRUCTOR_ITERATIONS
#define PTHREAD_DESTRUCTOR_ITERATIONS 4
#endif

static _Thread_local weft_thread_t *current;
/* The binding holds a reference, which self_key's destructor drops. */
static _Thread_local int holds_ref;
/* Exit destructor rounds the binding has seen; set once it is dropped. */
static _Thread_local unsigned exit_rounds;
static _Thread_local int gone;

static pthread_key_t self_key;
static pthread_once_t self_key_once = PTHREAD_ONCE_INIT;
static int self_key_ok;

weft_thread_t *weft__thread_self(void)
{
    return current;
}

/* Runs in each round of the exit destructors of a thread whose binding
 * holds a reference (its TLS still usable). */
static void thread_exits(void *p)
{
    weft_thread_t *t = p;
    if (exit_rounds++ == 0 && t->kind == THREAD_KIND_DUMMY) {
        weft__local_run_destructors();
        weft__thread_finish(t);
    }
    if (exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS - 1 &&
        pthread_setspecific(self_key, t) == 0)
        return; /* once more in the next round */
    current = NULL;
    holds_ref = 0;
    gone = 1;
    weft_thread_free(t); /* the binding's reference */
}

static void make_self_key(void)
{
    self_key_ok = pthread_key_create(&self_key, thread_exits) == 0;
}

void weft__thread_bind(weft_thread_t *t)
{
    pthread_once(&self_key_once, make_self_key);
    current = t;
    holds_ref = self_key_ok && pthread_setspecific(self_key, t) == 0;
    if (holds_ref)
        weft_thread_ref(t);
}

void weft__thread_unbind_if_unheld(const weft_thread_t *t)
{
    if (current == t && !holds_ref)
        current = NULL;
}

void weft__thread_bind_main(weft_thread_t *t)
{
    /* The entry lives on as the main thread's, which never ends through
     * exit destructors: a reference the binding holds is kept for good. */
    if (holds_ref)
        pthread_setspecific(self_key, NULL);
    holds_ref = 0;
    current = t;
}

static weft_thread_t *adopt_dummy(void)
{
    char name[32];
    snprintf(name, sizeof name, "Dummy-%u", weft__thread_next_number());
    weft_thread_t *t;
    if (weft__thread_alloc(&t, THREAD_KIND_DUMMY, name))
        return NULL;
    atomic_store_explicit(&t->ident, weft_get_ident(), memory_order_relaxed);
    atomic_store_explicit(&t->native_id, weft_get_native_id(),
                          memory_order_relaxed);
    weft__thread_bind(t);
    if (!holds_ref) { /* its end could not be seen: do without */
        current = NULL;
        weft_thread_free(t);
        return NULL;
    }
    weft__registry_add(t);
    weft_thread_free(t); /* the binding and the registry hold it */
    return t;
}

static weft_thread_t *adopt_current(void)
{
    /* The main thread's kernel id is the process id. */
    if (weft_get_native_id() == (uint64_t)getpid())
        return weft__registry_main();
    return adopt_dummy();
}

weft_thread_t *weft_current_thread(void)
{
    /* Gone: asked from an exit destructor that runs after the last round
     * had dropped the binding; a new entry would never be released. */
    if (current == NULL && !gone)
        current = adopt_current();
    return current;
}

weft_thread_t *weft_main_thread(void)
{
    return weft__registry_main();
}
