/* SPDX-License-Identifier: MIT */
/* The parking table: queues of waiters keyed by address.
 *
 * Design. The table is a fixed array of buckets; an address hashes to one.
 * A bucket holds a small lock and a FIFO list of the waiters parked on any
 * of the addresses that hash to it. A waiter is queued on one address at a
 * time (its addr_), and it is in a bucket's list exactly while it is parked.
 *
 * States of a parked waiter w, and who moves it:
 *   queued     in the list, state 0. Only park (w's own context) or an
 *              unparker, each under the bucket lock, may take it out.
 *   chosen     taken out by an unparker, under the lock; the unparker then
 *              calls w->ops->wake(w, UNPARKED) after releasing the lock.
 *   left       taken out by w's own context (timeout, cancel), under the
 *              lock; nobody else will touch w again.
 * Because the choice is made under the bucket lock, exactly one of "chosen"
 * and "left" happens. A context that finds itself no longer queued when it
 * wants to leave has been chosen: it waits (without deadline, briefly) for
 * UNPARKED, then reports success. So no wake-up is lost and none is
 * reported twice.
 *
 * Why no wake-up is lost between checking a primitive's word and sleeping:
 * validate() runs under the bucket lock, and every unparker changes the word
 * before taking the same lock to look for waiters. Either the parker's
 * validate sees the change, or the unparker finds the parker queued.
 *
 * A waiter's UNPARKED bit is cleared only while it is not queued, as it is
 * queued again, under the bucket lock. POKED is set by scope cancellation
 * (and executors' stop requests) at any time and is never cleared but by
 * the waiter itself, which then looks at its scopes again; the poker sets
 * the cause (a flag) before POKED with release order, so a waiter that sees
 * POKED also sees the cause.
 */
#include "base/check.h"
#include "park_int.h"

#include <pthread.h>
#include <string.h>

#define BUCKET_BITS 10
#define BUCKET_COUNT (1u << BUCKET_BITS)

struct bucket {
    _Atomic uint32_t lock;
    uint32_t fair_seed;
    weft_waiter_t *head;
    weft_waiter_t *tail;
    int64_t fair_at; /* after this time, the next unpark is asked to be fair */
} __attribute__((aligned(64)));

static struct bucket table[BUCKET_COUNT];

static struct bucket *bucket_of(const void *addr)
{
    /* Fibonacci hashing: the top bits of the product spread nearby
     * addresses (fields of one struct) over different buckets. */
    uint64_t h = (uint64_t)(uintptr_t)addr * UINT64_C(0x9E3779B97F4A7C15);
    return &table[h >> (64 - BUCKET_BITS)];
}

static void enqueue(struct bucket *b, weft_waiter_t *w)
{
    weft__waiter(w)->next_ = NULL;
    if (b->tail)
        weft__waiter(b->tail)->next_ = w;
    else
        b->head = w;
    b->tail = w;
}

/* Unlink w, whose predecessor in the list is prev (NULL: w is the head). */
static void unlink_after(struct bucket *b, weft_waiter_t *prev,
                         weft_waiter_t *w)
{
    if (prev)
        weft__waiter(prev)->next_ = weft__waiter(w)->next_;
    else
        b->head = weft__waiter(w)->next_;
    if (b->tail == w)
        b->tail = prev;
    weft__waiter(w)->next_ = NULL;
}

static int has_waiter_on(const struct bucket *b, const void *addr)
{
    for (weft_waiter_t *w = b->head; w; w = weft__waiter(w)->next_)
        if (weft__waiter(w)->addr_ == addr)
            return 1;
    return 0;
}

/* Take w out of b if it is still queued; 1 if it was. */
static int remove_if_queued(struct bucket *b, weft_waiter_t *w)
{
    weft_waiter_t *prev = NULL;
    for (weft_waiter_t *it = b->head; it;
         prev = it, it = weft__waiter(it)->next_) {
        if (it == w) {
            unlink_after(b, prev, w);
            return 1;
        }
    }
    return 0;
}

static int bucket_be_fair(struct bucket *b)
{
    int64_t now = weft_monotonic_ns();
    if (now < b->fair_at)
        return 0;
    /* xorshift: spread the next fair point over 0..1 ms, 0.5 ms on average,
     * as parking_lot does, so that handovers cannot fall into lockstep. */
    uint32_t x = b->fair_seed ? b->fair_seed : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b->fair_seed = x;
    b->fair_at = now + (int64_t)(x % 1000000u);
    return 1;
}

/* ----- Parking ----- */

/* Wait until an unparker's UNPARKED arrives; used once w was chosen. */
static uintptr_t await_unparked(weft_waiter_t *w)
{
    while (
        !(atomic_load_explicit(&weft__waiter(w)->state, memory_order_acquire) &
          WEFT_WAITER_UNPARKED))
        w->ops->wait(w, WEFT_NEVER);
    return weft__waiter(w)->token_;
}

/* Leave the queue for reason (WEFT_ETIMEDOUT or WEFT_ECANCELLED), unless an
 * unparker chose w first, in which case the unpark wins and 0 is returned. */
static int leave(weft_waiter_t *w, const weft_park_ops_t *ops, void *ctx,
                 int reason, uintptr_t *token)
{
    struct bucket *b = bucket_of(weft__waiter(w)->addr_);
    WEFT_CHAOS_POINT(); /* a timeout racing with an unparker */
    weft__wordlock_lock(&b->lock);
    int removed = remove_if_queued(b, w);
    if (removed && ops && ops->left)
        ops->left(ctx, !has_waiter_on(b, weft__waiter(w)->addr_));
    weft__wordlock_unlock(&b->lock);
    if (removed)
        return reason;
    uintptr_t t = await_unparked(w);
    if (token)
        *token = t;
    return 0;
}

static int sleep_until_unparked(weft_waiter_t *w, const weft_park_ops_t *ops,
                                void *ctx, int64_t deadline, uintptr_t *token)
{
    for (;;) {
        uint32_t s =
            atomic_load_explicit(&weft__waiter(w)->state, memory_order_acquire);
        if (s & WEFT_WAITER_UNPARKED) {
            if (token)
                *token = weft__waiter(w)->token_;
            return 0;
        }
        if (s & WEFT_WAITER_POKED)
            atomic_fetch_and_explicit(&weft__waiter(w)->state,
                                      ~WEFT_WAITER_POKED, memory_order_acquire);
        /* Without a deadline of its own, the clock is read only if a
         * scope has one: most waits never look at the time. */
        int64_t now = deadline == WEFT_NEVER ? -1 : weft_monotonic_ns();
        int64_t dl = deadline;
        if (weft__waiter(w)->scope_ && weft__scope_check(w, now, &dl))
            return leave(w, ops, ctx, WEFT_ECANCELLED, token);
        if (now >= deadline)
            return leave(w, ops, ctx, WEFT_ETIMEDOUT, token);
        w->ops->wait(w, dl);
    }
}

int weft_park(const void *addr, const weft_park_ops_t *ops, void *ctx,
              int64_t deadline, uintptr_t *token)
{
    weft_waiter_t *w = weft_park_current();
    if (weft__waiter(w)->scope_ && weft__scope_check(w, -1, NULL))
        return WEFT_ECANCELLED;

    struct bucket *b = bucket_of(addr);
    WEFT_CHAOS_POINT(); /* between the caller's look at its word and the
                           re-check under the bucket lock */
    weft__wordlock_lock(&b->lock);
    if (ops && ops->validate && !ops->validate(ctx)) {
        weft__wordlock_unlock(&b->lock);
        return WEFT_EAGAIN;
    }
    /* Clear only UNPARKED: a poke that lands now must survive, or a
     * cancel racing with this park could go unseen. Acquire: pairs with
     * the poker's release, so the scope check below sees its cause. */
    atomic_fetch_and_explicit(&weft__waiter(w)->state, ~WEFT_WAITER_UNPARKED,
                              memory_order_acq_rel);
    weft__waiter(w)->addr_ = addr;
    weft__waiter(w)->token_ = 0;
    enqueue(b, w);
    weft__wordlock_unlock(&b->lock);

    WEFT_CHAOS_POINT(); /* queued, not yet asleep */
    if (ops && ops->before_sleep)
        ops->before_sleep(ctx);
    return sleep_until_unparked(w, ops, ctx, deadline, token);
}

/* ----- Unparking ----- */

size_t weft_unpark_one(const void *addr,
                       uintptr_t (*callback)(void *ctx, weft_unpark_result_t r),
                       void *ctx)
{
    struct bucket *b = bucket_of(addr);
    WEFT_CHAOS_POINT(); /* between the caller's store and the look */
    weft__wordlock_lock(&b->lock);
    weft_waiter_t *prev = NULL, *w = b->head;
    while (w && weft__waiter(w)->addr_ != addr) {
        prev = w;
        w = weft__waiter(w)->next_;
    }
    weft_unpark_result_t r = {0, 0, 0};
    if (w) {
        unlink_after(b, prev, w);
        r.unparked = 1;
        r.have_more = has_waiter_on(b, addr);
        r.be_fair = bucket_be_fair(b);
    }
    uintptr_t token = callback ? callback(ctx, r) : 0;
    if (w)
        weft__waiter(w)->token_ = token;
    weft__wordlock_unlock(&b->lock);
    WEFT_CHAOS_POINT(); /* chosen, not yet woken */
    if (w)
        w->ops->wake(w, WEFT_WAITER_UNPARKED);
    return r.unparked;
}

size_t weft_unpark_some(const void *addr, size_t n, uintptr_t token)
{
    struct bucket *b = bucket_of(addr);
    weft_waiter_t *chosen = NULL, **tail = &chosen;
    size_t count = 0;
    WEFT_CHAOS_POINT(); /* between the caller's store and the look */
    weft__wordlock_lock(&b->lock);
    weft_waiter_t *prev = NULL, *w = b->head;
    while (w && count < n) {
        weft_waiter_t *next = weft__waiter(w)->next_;
        if (weft__waiter(w)->addr_ == addr) {
            unlink_after(b, prev, w);
            weft__waiter(w)->token_ = token;
            *tail = w;
            tail = &weft__waiter(w)->next_;
            count++;
        } else {
            prev = w;
        }
        w = next;
    }
    weft__wordlock_unlock(&b->lock);
    /* The chosen are ours alone until woken; read next_ before waking, as
     * a woken waiter may be gone at once. */
    while (chosen) {
        WEFT_CHAOS_POINT(); /* chosen, not yet woken */
        weft_waiter_t *next = weft__waiter(chosen)->next_;
        chosen->ops->wake(chosen, WEFT_WAITER_UNPARKED);
        chosen = next;
    }
    return count;
}

size_t weft_unpark_all(const void *addr, uintptr_t token)
{
    return weft_unpark_some(addr, SIZE_MAX, token);
}

/* ----- Futex-style shorthands ----- */

struct word_check {
    const _Atomic uint32_t *word;
    uint32_t expected;
};

static int word_still_holds(void *ctx)
{
    const struct word_check *c = ctx;
    return atomic_load_explicit(c->word, memory_order_relaxed) == c->expected;
}

static const weft_park_ops_t word_ops = {word_still_holds, NULL, NULL};

int weft_park_wait(const void *word, uint32_t expected, int64_t deadline)
{
    WEFT_REFUSE_NULL(word);
    struct word_check c = {word, expected};
    int rc = weft_park(word, &word_ops, &c, deadline, NULL);
    return rc == WEFT_EAGAIN ? 0 : rc;
}

size_t weft_park_wake(const void *addr, size_t n)
{
    return weft_unpark_some(addr, n, 0);
}

/* ----- fork() ----- */

#if defined(WEFT_TSAN)
/* ThreadSanitizer's: forget every access made to [mem, mem + size). */
void AnnotateNewMemory(const char *file, int line, const volatile void *mem,
                       unsigned long size);
#endif

/* In the child only the forking thread exists: no waiter is parked, and a
 * bucket lock held by another parent thread would never be released. The
 * table is new memory there, and ThreadSanitizer is told so first: it
 * still remembers the accesses of the parent's other threads, none of
 * which exists in the child, and would report this reset (or the child's
 * next use of a bucket that one of them held at the fork) as a race with
 * them. */
static void reset_table_in_child(void)
{
#if defined(WEFT_TSAN)
    AnnotateNewMemory(__FILE__, __LINE__, table, sizeof table);
#endif
    memset(table, 0, sizeof table);
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, reset_table_in_child);
}
