/* current_thread(): each thread's entry. A weft thread binds its own handle
 * as it starts. The main thread is bound to "MainThread" on first use. Any
 * other thread gets a "Dummy-N" entry on first use, a daemon as in Python;
 * a pthread key's destructor retires that entry when the thread exits, so
 * foreign threads that come and go leave nothing behind (and their joiners
 * wake up). */
#include "thread_int.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static _Thread_local weft_thread_t *current;

static pthread_key_t dummy_key;
static pthread_once_t dummy_key_once = PTHREAD_ONCE_INIT;
static int dummy_key_ok;

weft_thread_t *weft__thread_self(void)
{
    return current;
}

void weft__thread_bind(weft_thread_t *t)
{
    current = t;
}

/* Runs when a thread with a dummy entry exits (its TLS still usable). */
static void dummy_exits(void *p)
{
    weft_thread_t *t = p;
    weft__thread_finish(t);
}

static void make_dummy_key(void)
{
    dummy_key_ok = pthread_key_create(&dummy_key, dummy_exits) == 0;
}

static weft_thread_t *adopt_dummy(void)
{
    pthread_once(&dummy_key_once, make_dummy_key);
    char name[32];
    snprintf(name, sizeof name, "Dummy-%u", weft__thread_next_number());
    weft_thread_t *t;
    if (!dummy_key_ok || weft__thread_alloc(&t, THREAD_KIND_DUMMY, name))
        return NULL;
    atomic_store_explicit(&t->ident, weft_get_ident(), memory_order_relaxed);
    atomic_store_explicit(&t->native_id, weft_get_native_id(),
                          memory_order_relaxed);
    weft__registry_add(t);
    weft_thread_free(t); /* the registry's reference is the one kept */
    pthread_setspecific(dummy_key, t);
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
    if (current == NULL)
        current = adopt_current();
    return current;
}

weft_thread_t *weft_main_thread(void)
{
    return weft__registry_main();
}
