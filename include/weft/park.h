/* SPDX-License-Identifier: MIT */
/** weft/park.h: the one way to block.
 *
 * Every blocking call in weft (lock, condition, semaphore, event, barrier,
 * queue, future, join, sleep) waits here. Python has no such layer; it is
 * what lets one Lock serve threads and coroutines alike.
 *
 * The shape is WebKit's ParkingLot: a primitive holds only an atomic word;
 * a context that must wait for it parks on the word's address, "if the word
 * still holds this value", and whoever changes the word unparks one or all
 * of the contexts parked on that address. The queues live in a table keyed
 * by address, outside the primitives, so a primitive stays a few pointer-free
 * bytes that can sit anywhere, shared memory included.
 *
 * What parks is a waiter: one context that can block. An OS thread is one (it
 * sleeps on a futex of its own); the coro layer adds coroutines (a coroutine
 * suspends itself on its loop) by installing its own weft_waiter_t as the
 * thread's current waiter while the coroutine runs. Park never needs to know
 * which kind it is holding.
 *
 * Cancellation and deadlines come in scopes (Trio's cancel scopes,
 * asyncio.timeout()): a context enters a scope, and every blocking call it
 * makes inside returns WEFT_ECANCELLED once the scope is cancelled, from any
 * thread, or its deadline passes. A task that is asked to stop sees it this
 * way (threads cannot be killed, so stopping is cooperative).
 *
 * Primitives placed in shared memory between processes cannot use the table
 * (it lives in one process); they wait on the kernel's futex of their word
 * with weft_park_wait_shared().
 *
 * Defaults for this layer: thread-safe; functions block only where marked.
 * Callbacks passed to park and unpark run with one of the table's internal
 * locks held: they must be short and must not block or call back into park.
 *
 * Global state: the parking table (reset in a child after fork(), since the
 * parent's other threads do not exist there), each thread's own waiter and
 * its current waiter.
 * \file */
#ifndef WEFT_PARK_H
#define WEFT_PARK_H

#ifndef __cplusplus
#include <stdatomic.h> /* C callers have long had it from here */
#endif
#include <stddef.h>
#include <stdint.h>

#include "weft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A context that can block, and a cancel scope: see below. */
typedef struct weft_waiter weft_waiter_t;
typedef struct weft_cancel_scope weft_cancel_scope_t;

/** Bits of a waiter's state (weft_waiter_state()). */
#define WEFT_WAITER_UNPARKED 1u /* an unparker chose this waiter */
#define WEFT_WAITER_POKED 2u    /* look again: a scope was cancelled */

/** How one kind of waiter sleeps and wakes. */
typedef struct weft_waiter_ops {
    /** Block the calling context until w's state is nonzero or the monotonic
     * deadline (ns, WEFT_NEVER for none) passes; returning early is allowed.
     * Called only by the context that w stands for. */
    void (*wait)(weft_waiter_t *w, int64_t deadline);
    /** Set bits in w's state (weft_waiter_set_state()) and make a wait
     * in progress return. Called from any thread, never with a park lock
     * held. Once the bits are set, w's context may run on and w may cease
     * to exist: wake must not touch w after setting them, unless the kind
     * keeps w alive until wake has returned. */
    void (*wake)(weft_waiter_t *w, uint32_t bits);
    /** Let other contexts run (sleep(0)); NULL for sched_yield(). */
    void (*yield)(weft_waiter_t *w);
    /** Block until fd is ready for events (POLLIN, POLLOUT), the deadline
     * passes, or w's state is nonzero; returning early is allowed. Returns
     * nonzero when fd was seen ready. NULL: the thread way, poll(2). */
    int (*wait_fd)(weft_waiter_t *w, int fd, short events, int64_t deadline);
} weft_waiter_ops_t;

/** One context that can block. opaque_ belongs to park: the waiter's
 * state (an atomic word of WEFT_WAITER_* bits, read and set with the
 * functions below) and its place in park's queues. 64 bytes. */
struct weft_waiter {
    /** How this kind of context blocks and wakes. */
    const weft_waiter_ops_t *ops;
    void *data;  /* the kind's own */
    uint64_t id; /* unique per context while it lives */
    union {
        unsigned char bytes[40]; /* park's, not the caller's */
        uint64_t align;          /* aligns the bytes for park's fields */
    } opaque_;
};

/** Set up w as a waiter of the kind ops (a coroutine, for the coro layer),
 * with a fresh context id. Not thread-safe on w. */
WEFT_API void weft_waiter_init(weft_waiter_t *w, const weft_waiter_ops_t *ops,
                               void *data);

/** w's WEFT_WAITER_* bits (an acquire load): what a kind's wait looks at.
 * Thread-safe. NULL w: 0, with a message. */
WEFT_API uint32_t weft_waiter_state(const weft_waiter_t *w);

/** Set bits in w's state (an atomic fetch-or, release order), as a kind's
 * wake does first; returns the bits before. Thread-safe. NULL w: 0, with a
 * message. */
WEFT_API uint32_t weft_waiter_set_state(weft_waiter_t *w, uint32_t bits);

/** The calling thread's current waiter: the one installed with
 * weft_park_set_waiter(), else the thread's own. Returns borrowed. */
WEFT_API weft_waiter_t *weft_park_current(void);

/** Make w the calling thread's current waiter (NULL: the thread's own again)
 * and return the previous one. The coro layer calls this as it switches into
 * and out of a coroutine. */
WEFT_API weft_waiter_t *weft_park_set_waiter(weft_waiter_t *w);

/** A number naming the calling context (thread or coroutine), unique among
 * live contexts; what RLock records as its owner. */
WEFT_API uint64_t weft_park_context_id(void);

/** Nonzero when the calling context is the OS thread itself, 0 inside a
 * coroutine (another waiter installed with weft_park_set_waiter()): what a
 * wait that could block the whole thread in the kernel (poll, epoll) asks
 * first, since a coroutine must suspend through park instead. */
WEFT_API int weft_park_in_thread(void);

/* ----- Parking ----- */

/** What weft_park() calls back, each with its ctx; any may be NULL. */
typedef struct weft_park_ops {
    /** Under the address's lock, before queueing: nonzero to go on and sleep,
     * 0 to return WEFT_EAGAIN at once. NULL: always sleep. */
    int (*validate)(void *ctx);
    /** After queueing, with no park lock held, before the first sleep: for
     * example, release the lock that a condition variable waits under.
     * Not called when validate said no. */
    void (*before_sleep)(void *ctx);
    /** Under the address's lock, when the waiter leaves the queue without
     * being unparked (timeout or cancel); last is nonzero when no other
     * waiter remains on the address. */
    void (*left)(void *ctx, int last);
} weft_park_ops_t;

/** Park the calling context on addr until an unpark chooses it, the deadline
 * (monotonic ns, WEFT_NEVER for none) passes, or its cancel scope fires.
 * Blocks: yes.
 * ops may be NULL: none of its hooks.
 * Returns: 0 when unparked (*token, if not NULL, receives the unparker's
 *   token); WEFT_EAGAIN when ops->validate said no; WEFT_ETIMEDOUT at the
 *   deadline; WEFT_ECANCELLED when a scope of the context was cancelled or
 *   reached its deadline. On a non-zero return nothing was unparked for the
 *   caller: no wake-up is ever swallowed. */
WEFT_API int weft_park(const void *addr, const weft_park_ops_t *ops, void *ctx,
                       int64_t deadline, uintptr_t *token);

/** What an unpark callback learns, under the address's lock. */
typedef struct weft_unpark_result {
    size_t unparked; /* how many waiters this call chose (0 or 1 for one) */
    int have_more;   /* waiters remain on the address */
    int be_fair;     /* about every 0.5 ms: hand over rather than race */
} weft_unpark_result_t;

/** Choose the longest-waiting context parked on addr and wake it. callback,
 * if not NULL, runs under the address's lock with what was found, and returns
 * the token the woken context receives. Returns how many were woken (0/1). */
WEFT_API size_t weft_unpark_one(const void *addr,
                                uintptr_t (*callback)(void *ctx,
                                                      weft_unpark_result_t r),
                                void *ctx);

/** Wake up to n (SIZE_MAX: all) contexts parked on addr, oldest first, each
 * receiving token. Returns how many were woken. */
WEFT_API size_t weft_unpark_some(const void *addr, size_t n, uintptr_t token);
WEFT_API size_t weft_unpark_all(const void *addr, uintptr_t token);

/** Futex-style shorthands: park on word while it holds expected; wake up to
 * n contexts parked on an address. weft_park_wait returns 0 (woken, or the
 * word had already changed), WEFT_ETIMEDOUT or WEFT_ECANCELLED. A word, here
 * and below, is an aligned 32-bit atomic: an _Atomic uint32_t in C, a
 * std::atomic<uint32_t> in C++. */
WEFT_API int weft_park_wait(const void *word, uint32_t expected,
                            int64_t deadline);
WEFT_API size_t weft_park_wake(const void *addr, size_t n);

/** The same for a word in memory shared between processes, through the
 * kernel's futex. Only OS threads may wait this way (a coroutine waiting here
 * would stop its loop). Returns 0 (woken, or the word changed, or a spurious
 * wake-up: recheck the word), WEFT_ETIMEDOUT or WEFT_ECANCELLED. */
WEFT_API int weft_park_wait_shared(const void *word, uint32_t expected,
                                   int64_t deadline);
WEFT_API void weft_park_wake_shared(const void *word, int n);

/** Wait until fd is ready for events (POLLIN, POLLOUT, as poll(2) names
 * them): how weft waits on a pipe, a socket or a process's pidfd. A thread
 * sleeps in poll(2) (in slices inside a cancel scope, so that a cancel is
 * seen); a coroutine suspends alone while its loop watches the fd.
 * Blocks: yes. Returns 0 once ready (or the fd failed: the next read or
 * write says how), WEFT_ETIMEDOUT, WEFT_ECANCELLED. */
WEFT_API int weft_park_wait_fd(int fd, short events, int64_t deadline);

/** Sleep for the given seconds (time.sleep()); 0 yields to other contexts.
 * Blocks: yes; a coroutine suspends alone.
 * Errors: WEFT_EINVAL (negative or NaN), WEFT_ECANCELLED. */
WEFT_API int weft_sleep(double seconds);

/* ----- Cancel scopes ----- */

/** A scope of cancellation and deadline, on the caller's storage (a local
 * variable, usually). Its bytes belong to park. 56 bytes. */
struct weft_cancel_scope {
    union {
        unsigned char bytes[56];
        uint64_t align;
    } opaque_;
};

/** A flag of weft_cancel_scope_enter(). */
#define WEFT_SCOPE_SHIELD 1u /* cancellation outside does not reach in */

/** Set up s; it may be cancelled before it is entered. */
WEFT_API void weft_cancel_scope_init(weft_cancel_scope_t *s);

/** Enter s in the calling context: from now until weft_cancel_scope_exit(),
 * every blocking weft call of this context returns WEFT_ECANCELLED once s is
 * cancelled or timeout seconds (WEFT_FOREVER: none) have passed. flags:
 * WEFT_SCOPE_SHIELD to keep out the cancellation of enclosing scopes (for
 * clean-up that must block). Scopes nest and are exited in reverse order.
 * Errors: WEFT_EINVAL (bad timeout, or s already entered). */
WEFT_API int weft_cancel_scope_enter(weft_cancel_scope_t *s, double timeout,
                                     unsigned flags);

/** Leave s. Returns 0 if s was neither cancelled nor past its deadline,
 * WEFT_ETIMEDOUT if its deadline passed (asyncio.timeout's TimeoutError), or
 * WEFT_ECANCELLED if it was cancelled. Errors: WEFT_EINVAL when s is not the
 * innermost scope of the calling context (nothing is changed then). */
WEFT_API int weft_cancel_scope_exit(weft_cancel_scope_t *s);

/** Cancel s from any thread: a context blocked inside it wakes with
 * WEFT_ECANCELLED, and so does every later blocking call inside it. Safe to
 * call before enter and after exit; cancelling twice changes nothing. */
WEFT_API void weft_cancel_scope_cancel(weft_cancel_scope_t *s);

/** Make s also count as cancelled whenever (*word & mask) != 0 (NULL word:
 * watch nothing). Only the context that entered s may call this; it is how
 * an executor lets one entered scope serve task after task, each watching a
 * bit of its own future. A context blocked in s does not wake when the word
 * changes: whoever sets the bit pokes it with weft_park_poke(). */
WEFT_API void weft_cancel_scope_watch(weft_cancel_scope_t *s, const void *word,
                                      uint32_t mask);

/** Make the context that w stands for look at its scopes again if it is
 * blocked: a spurious wake-up at worst. w must stay valid during the call. */
WEFT_API void weft_park_poke(weft_waiter_t *w);

/** Nonzero when the scope was cancelled or its deadline passed. */
WEFT_API int weft_cancel_scope_cancelled(const weft_cancel_scope_t *s);

/** WEFT_ECANCELLED if the calling context is inside a cancelled scope (or one
 * past its deadline), else 0: the check a long computation makes between
 * steps (weft_task_cancelled() in the future layer is the same question).
 * Non-blocking. */
WEFT_API int weft_cancelled(void);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_PARK_H */
