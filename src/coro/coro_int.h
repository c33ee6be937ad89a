/* SPDX-License-Identifier: MIT */
/* Inside the coro layer only: the context switch, the stack pool, the task
 * object, and each thread's scheduler state. */
#ifndef WEFT_CORO_INT_H
#define WEFT_CORO_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/coro.h"
#include "weft/park.h"

/* ----- The switch (switch_x86_64.c, switch_aarch64.c, switch_ucontext.c) */

#if (defined(__x86_64__) || defined(__aarch64__)) &&                           \
    !defined(WEFT_CORO_UCONTEXT)
#define WEFT_CORO_ASM 1
/* A suspended context is its stack pointer: the callee-saved registers and
 * the resume address sit on top of its stack. */
typedef struct weft__ctx {
    void *sp;
} weft__ctx_t;
#else
#include <ucontext.h>
typedef struct weft__ctx {
    ucontext_t uc;
} weft__ctx_t;
#endif

/* Save the running context in *from and continue *to. Returns when some
 * later switch continues *from. */
void weft__ctx_switch(weft__ctx_t *from, weft__ctx_t *to);

/* Make *ctx a context that calls entry(arg) on the stack [lo, lo + size)
 * when first switched to. entry must never return. */
void weft__ctx_make(weft__ctx_t *ctx, void *lo, size_t size,
                    void (*entry)(void *), void *arg);

/* ----- Stacks (stack.c) ----- */

struct weft__stack {
    void *lo;     /* lowest usable byte */
    size_t size;  /* usable bytes */
    size_t asked; /* the size it was made for */
    void *map;    /* the mapping, guard page included */
    size_t map_size;
    int guarded;
    unsigned valgrind_id;     /* its registration with valgrind, if built in */
    struct weft__stack *next; /* in the pool */
};

/* A stack of at least size bytes: pooled if one is free. NULL with
 * WEFT_ENOMEM recorded when the kernel refuses. */
struct weft__stack *weft__stack_get(size_t size);
/* Back to the pool (or to the kernel). Checks the canary of an unguarded
 * stack, and aborts with a message if the task overflowed it. */
void weft__stack_put(struct weft__stack *s);
void weft__stack_stats(weft_coro_stats_t *out);

/* ----- Tasks ----- */

enum run_state {
    RUN_RUNNING = 0, /* running, or about to: wakes need not schedule it */
    RUN_PARKED = 1,  /* suspended in wait: the first wake schedules it */
    RUN_NOTIFIED = 2 /* a resume is scheduled */
};

struct home;

struct coro {
    weft_waiter_t waiter;
    weft__ctx_t ctx;
    struct weft__stack *stack;
    weft_loop_t *loop;
    struct home *home;
    weft_fn fn;
    void *arg;
    void *result;
    int code;
    int finished;
    size_t stack_size;
    _Atomic uint32_t run;
    _Atomic unsigned cancels;
    weft_handle_t timer;
    weft_cancel_scope_t scope;
    char message[WEFT_MESSAGE_MAX];
    struct coro *prev, *next; /* the home's list of live tasks */
    void *san_fiber;          /* ThreadSanitizer's fiber */
    void *san_fake_stack;     /* AddressSanitizer's fake stack */
};

/* The task object: the future, then the coroutine. */
static inline struct coro *coro_of(weft_future_t *f)
{
    return (struct coro *)weft_future_extra(f);
}

static inline weft_future_t *task_of(struct coro *c)
{
    return (weft_future_t *)((unsigned char *)c - WEFT_FUTURE_SIZE);
}

/* Suspend the running task until the loop resumes it. In the task only. */
void weft__coro_suspend(struct coro *c);

#endif
