/* SPDX-License-Identifier: MIT */
/* Inside the sync layer only. */
#ifndef WEFT_SYNC_INT_H
#define WEFT_SYNC_INT_H

#include <stdlib.h>

#include "base/chaos.h"
#include "weft/park.h"
#include "weft/sync.h"

/* ----- What the primitives hold -----
 *
 * sync.h gives callers only each primitive's size and alignment, so that C++
 * can include it; the fields are here, reached through the casts below,
 * which cost nothing. Each primitive's .c checks that its fields fit. */
struct weft__lock_impl {
    _Atomic uint32_t word_;
    uint32_t flags_;
    uint64_t reserved_;
};

struct weft__rlock_impl {
    weft_lock_t lock_;
    _Atomic uint64_t owner_;
    uint32_t count_;
    uint32_t reserved_;
};

struct weft__condition_impl {
    weft_rlock_t rlock_;
    _Atomic uint32_t seq_;
    uint32_t kind_;
    int64_t lock_at_;
    uint32_t reserved_[4];
};

struct weft__semaphore_impl {
    _Atomic uint32_t value_;
    _Atomic uint32_t waiters_;
    uint32_t bound_; /* the initial value, when bounded */
    uint32_t flags_;
};

struct weft__event_impl {
    _Atomic uint32_t word_;
    uint32_t flags_;
    uint64_t reserved_;
};

struct weft__barrier_impl {
    weft_lock_t lock_;
    _Atomic uint32_t gen_;
    int32_t state_;
    uint32_t parties_;
    uint32_t count_;
    int64_t timeout_ns_;
    int (*action_)(void *arg);
    void *arg_;
    uint64_t reserved_;
};

#define WEFT__SYNC_IMPL(name)                                                  \
    static inline struct weft__##name##_impl *weft__##name(                    \
        const weft_##name##_t *p)                                              \
    {                                                                          \
        return (struct weft__##name##_impl *)p;                                \
    }
WEFT__SYNC_IMPL(lock)
WEFT__SYNC_IMPL(rlock)
WEFT__SYNC_IMPL(condition)
WEFT__SYNC_IMPL(semaphore)
WEFT__SYNC_IMPL(event)
WEFT__SYNC_IMPL(barrier)
#undef WEFT__SYNC_IMPL

/* The public type holds the private one exactly: as large (the size
 * callers were promised), at least as aligned. */
#define WEFT__SYNC_FITS(name, size)                                            \
    _Static_assert(sizeof(struct weft__##name##_impl) ==                       \
                           sizeof(weft_##name##_t) &&                          \
                       sizeof(weft_##name##_t) == (size),                      \
                   "weft_" #name "_t does not hold its fields");               \
    _Static_assert(_Alignof(struct weft__##name##_impl) <=                     \
                       _Alignof(weft_##name##_t),                              \
                   "weft_" #name "_t is not aligned enough for its fields")

/* Lock word bits. */
#define LOCK_LOCKED 1u
#define LOCK_PARKED 2u

/* Nonzero for a timeout that is neither >= 0 nor WEFT_FOREVER (NaN
 * included, since NaN >= 0 is false). Every call that takes a timeout asks
 * this first, before any fast path, so that bad input is refused whatever
 * the state of the primitive; on the common path it costs one compare. */
static inline int weft__timeout_bad(double timeout)
{
    return __builtin_expect(!(timeout >= 0) && timeout != WEFT_FOREVER, 0);
}

/* Record why timeout is refused, naming it, and return WEFT_EINVAL. */
int weft__timeout_refused(double timeout);

/* weft_lock_acquire_shielded() that says how it went: 0, or
 * WEFT_EOWNERDEAD when l is shared and its holder died (l is held by the
 * caller all the same). A condition reports that to its waiter. */
int weft__lock_reacquire(weft_lock_t *l);

/* ----- Primitives shared between processes (the _init_shared variants) ----
 *
 * A primitive set up with _init_shared carries this bit in its flags_ word
 * (for an RLock, Condition and Barrier: in the flags_ of their Lock). Each
 * function looks at it once, off the in-process fast path, and sends the
 * shared case to the functions below, which wait on the kernel's futex of
 * the primitive's word (weft_park_wait_shared) instead of park's table. */
#define WEFT__SHARED 0x80000000u

static inline int weft__shared(uint32_t flags)
{
    return (flags & WEFT__SHARED) != 0;
}

/* This process's id, cached; the cache is dropped in a child after fork(). */
uint32_t weft__sync_pid(void);

/* Nonzero when process pid has ended (exited, killed, or a zombie not yet
 * reaped). Costs a few system calls: for slow paths only. */
int weft__sync_pid_gone(uint32_t pid);

/* This process's holder record: its id and a discriminator that no other
 * process with that id ever shares (shared_linux.c says which), in one
 * nonzero number. Cached; a child after fork() makes its own. */
uint64_t weft__sync_record(void);

/* The process id in a record. */
uint64_t weft__sync_record_pid(uint64_t record);

/* Nonzero when the holder of a lock word naming pid, whose record reads
 * record (0, or another process's, when it could not be trusted), has
 * ended. Never nonzero for a live holder. For slow paths only: it costs a
 * few system calls. */
int weft__sync_holder_gone(uint32_t pid, uint64_t record);

/* Lock: acquire by the deadline (try_only: without waiting at all), release.
 * See lock_shared.c for the word's layout and the owner check. */
int weft__lock_acquire_shared(weft_lock_t *l, int64_t deadline, int try_only);
int weft__lock_release_shared(weft_lock_t *l);

/* The id a shared RLock records for the calling context: the context's
 * own id (weft_park_context_id) mixed with a random number of this process,
 * so that no context of another process, even one with the same process
 * and thread ids, has it. Never 0. */
uint64_t weft__shared_context_id(void);

/* Wake up to n waiters of a shared word (n may exceed INT_MAX: all). */
void weft__wake_shared(const _Atomic uint32_t *word, uint64_t n);

/* Park on addr, releasing l once queued and taking it back before returning
 * (Condition.wait's dance). validate, if not NULL, runs under park's lock
 * first. Returns what weft_park returns. */
int weft__wait_releasing(const void *addr, weft_lock_t *l,
                         int (*validate)(void *ctx), void *ctx,
                         int64_t deadline);

/* _new and _free for a primitive of the given size, set up by init. */
#define WEFT_HEAP_PRIMITIVE(type, name)                                        \
    int weft_##name##_new(type **out)                                          \
    {                                                                          \
        if (out == NULL)                                                       \
            return weft_fail(WEFT_EINVAL, "weft_" #name "_new: NULL out");    \
        type *p = malloc(sizeof *p);                                           \
        if (p == NULL)                                                         \
            return weft_fail(WEFT_ENOMEM, "weft_" #name "_new: no memory");   \
        weft_##name##_init(p);                                                 \
        *out = p;                                                              \
        return 0;                                                              \
    }                                                                          \
    void weft_##name##_free(type *p)                                           \
    {                                                                          \
        if (p == NULL)                                                         \
            return;                                                            \
        weft_##name##_destroy(p);                                              \
        free(p);                                                               \
    }

#endif
