/* SPDX-License-Identifier: MIT */
/* Waiters: each OS thread's own, the current one, and context ids. */
#include "base/check.h"
#include "park_int.h"

#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <unistd.h>

/* park.h's weft_waiter_t holds struct weft__waiter_impl: the same public
 * fields at the same offsets, and the rest within its opaque_ bytes. */
_Static_assert(sizeof(struct weft__waiter_impl) <= sizeof(weft_waiter_t),
               "weft_waiter_t is too small for its fields");
_Static_assert(_Alignof(struct weft__waiter_impl) <= _Alignof(weft_waiter_t),
               "weft_waiter_t is not aligned enough for its fields");
_Static_assert(offsetof(struct weft__waiter_impl, ops) ==
                       offsetof(weft_waiter_t, ops) &&
                   offsetof(struct weft__waiter_impl, data) ==
                       offsetof(weft_waiter_t, data) &&
                   offsetof(struct weft__waiter_impl, id) ==
                       offsetof(weft_waiter_t, id) &&
                   offsetof(struct weft__waiter_impl, state) ==
                       offsetof(weft_waiter_t, opaque_),
               "weft_waiter_t's public fields moved");
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(weft_waiter_t) == 64, "weft_waiter_t changed size");
#endif

/* A thread sleeps on a futex over its own state word. wake sets the bits
 * and then calls FUTEX_WAKE on the word: if the thread has meanwhile seen
 * the bits and exited, the call lands on memory the kernel only compares,
 * never writes, and wakes no one who is not looking at that word anyway
 * (every wait rechecks its condition). */
static void thread_wait(weft_waiter_t *w, int64_t deadline)
{
    weft__futex_wait(&weft__waiter(w)->state, 0, deadline, 0);
}

static void thread_wake(weft_waiter_t *w, uint32_t bits)
{
    /* Release: pairs with the acquire load of state in park, publishing
     * the token written before. */
    atomic_fetch_or_explicit(&weft__waiter(w)->state, bits,
                             memory_order_release);
    WEFT_CHAOS_POINT(); /* between the bits and the futex wake */
    weft__futex_wake(&weft__waiter(w)->state, 1, 0);
}

uint32_t weft_waiter_state(const weft_waiter_t *w)
{
    WEFT_REFUSE_NULL_OR(w, 0);
    return atomic_load_explicit(&weft__waiter(w)->state, memory_order_acquire);
}

uint32_t weft_waiter_set_state(weft_waiter_t *w, uint32_t bits)
{
    WEFT_REFUSE_NULL_OR(w, 0);
    return atomic_fetch_or_explicit(&weft__waiter(w)->state, bits,
                                    memory_order_release);
}

static const weft_waiter_ops_t thread_ops = {thread_wait, thread_wake, NULL,
                                             NULL};

static _Thread_local weft_waiter_t own;
static _Thread_local int own_ready;
static _Thread_local weft_waiter_t *current;

/* Coroutine ids count up from 2^32, above every thread id the kernel hands
 * out, so the two kinds never collide. */
static _Atomic uint64_t next_id = UINT64_C(1) << 32;

void weft_waiter_init(weft_waiter_t *w, const weft_waiter_ops_t *ops,
                      void *data)
{
    WEFT_REFUSE_NULL_OR(w, );
    w->ops = ops;
    w->data = data;
    w->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
    atomic_store_explicit(&weft__waiter(w)->state, 0, memory_order_relaxed);
    weft__waiter(w)->next_ = NULL;
    weft__waiter(w)->addr_ = NULL;
    weft__waiter(w)->token_ = 0;
    weft__waiter(w)->scope_ = NULL;
}

static weft_waiter_t *own_waiter(void)
{
    if (__builtin_expect(!own_ready, 0)) {
        weft_waiter_init(&own, &thread_ops, NULL);
        own.id = (uint64_t)gettid();
        own_ready = 1;
    }
    return &own;
}

weft_waiter_t *weft_park_current(void)
{
    return current ? current : own_waiter();
}

weft_waiter_t *weft_park_set_waiter(weft_waiter_t *w)
{
    weft_waiter_t *prev = weft_park_current();
    current = w;
    return prev;
}

int weft_park_in_thread(void)
{
    return current == NULL || current == &own;
}

uint64_t weft_park_context_id(void)
{
    return weft_park_current()->id;
}

/* After fork() the child's only thread has a new kernel id. */
static void renumber_in_child(void)
{
    if (own_ready)
        own.id = (uint64_t)gettid();
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, renumber_in_child);
}
