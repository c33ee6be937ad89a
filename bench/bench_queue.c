/* SPDX-License-Identifier: MIT */
/* queue_mpmc: 2 putter and 2 getter threads pass n items through a queue
 * bounded at 1024, per item (Python's queue.Queue is in py_queue.py).
 *   weft  weft_queue_t, bounded and blocking (put/get WEFT_FOREVER);
 *   raw   the textbook ring: a mutex and two condition variables;
 *   glib  GLib's GAsyncQueue (unbounded: putters never wait);
 *   ck    Concurrency Kit's ck_ring in MPMC mode (1024 slots hold 1023
 *         items); it never blocks, so callers yield while full or empty.
 *         Its enqueue spins inside the library while an earlier producer,
 *         preempted, has not published: with four threads on two cores a
 *         run can take minutes. A ck run is cut short after GIVE_UP_NS
 *         (its callers stop waiting) and reported per item it passed.
 * Each getter takes n/2 items, and the items taken are summed: a run that
 * loses or doubles one stops the benchmark. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"
#include "weft.h"

#ifdef HAVE_GLIB
#include <glib.h>
#endif
#ifdef HAVE_CK
#include <ck_ring.h>
#endif

#define CAPACITY 1024
#define PUTTERS 2
#define GETTERS 2

/* ----- raw: mutex + condition variables ----- */

struct raw_ring {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    void *items[CAPACITY];
    size_t head, len;
};

static struct raw_ring raw = {PTHREAD_MUTEX_INITIALIZER,
                              PTHREAD_COND_INITIALIZER,
                              PTHREAD_COND_INITIALIZER,
                              {0},
                              0,
                              0};

static void raw_put(void *item)
{
    pthread_mutex_lock(&raw.lock);
    while (raw.len == CAPACITY)
        pthread_cond_wait(&raw.not_full, &raw.lock);
    raw.items[(raw.head + raw.len++) % CAPACITY] = item;
    pthread_cond_signal(&raw.not_empty);
    pthread_mutex_unlock(&raw.lock);
}

static void *raw_get(void)
{
    pthread_mutex_lock(&raw.lock);
    while (raw.len == 0)
        pthread_cond_wait(&raw.not_empty, &raw.lock);
    void *item = raw.items[raw.head];
    raw.head = (raw.head + 1) % CAPACITY;
    raw.len--;
    pthread_cond_signal(&raw.not_full);
    pthread_mutex_unlock(&raw.lock);
    return item;
}

/* ----- the implementations, behind one shape ----- */

struct impl {
    const char *name;
    void (*setup)(void);
    void (*teardown)(void);
    void (*put)(void *item);
    void *(*get)(void);
    int can_give_up; /* get returns NULL once give_up is set */
};

static weft_queue_t *wq;

static void weft_setup(void)
{
    if (weft_queue_new(&wq, CAPACITY) != 0)
        abort();
}

static void weft_teardown(void)
{
    weft_queue_free(wq);
}

static void weft_put(void *item)
{
    weft_queue_put(wq, item, WEFT_FOREVER);
}

static void *weft_get(void)
{
    void *item = NULL;
    weft_queue_get(wq, &item, WEFT_FOREVER);
    return item;
}

static void nothing(void)
{
}

#ifdef HAVE_GLIB
static GAsyncQueue *gq;

static void glib_setup(void)
{
    gq = g_async_queue_new();
}

static void glib_teardown(void)
{
    g_async_queue_unref(gq);
}

static void glib_put(void *item)
{
    g_async_queue_push(gq, item);
}

static void *glib_get(void)
{
    return g_async_queue_pop(gq);
}
#endif

/* Set when a run that can stop early has taken too long. */
static _Atomic int give_up;
#define GIVE_UP_NS 10000000000LL

#ifdef HAVE_CK
static ck_ring_t ring;
static ck_ring_buffer_t ring_buffer[CAPACITY];

static void ck_setup(void)
{
    ck_ring_init(&ring, CAPACITY);
}

static void ck_put(void *item)
{
    while (!ck_ring_enqueue_mpmc(&ring, ring_buffer, item) &&
           !atomic_load_explicit(&give_up, memory_order_relaxed))
        sched_yield();
}

/* NULL once the run gives up and the ring is empty. */
static void *ck_get(void)
{
    void *item;
    while (!ck_ring_dequeue_mpmc(&ring, ring_buffer, &item)) {
        if (atomic_load_explicit(&give_up, memory_order_relaxed))
            return NULL;
        sched_yield();
    }
    return item;
}
#endif

/* ----- the run ----- */

struct run {
    const struct impl *impl;
    long per_thread;
    pthread_barrier_t start;
    uint64_t sums[GETTERS];
    long taken[GETTERS];
    _Atomic int finished;
};

struct role {
    struct run *run;
    int index;
};

static void *putter(void *p)
{
    struct role *role = p;
    struct run *r = role->run;
    uintptr_t base = (uintptr_t)role->index * (uintptr_t)r->per_thread;
    pthread_barrier_wait(&r->start);
    for (long i = 0; i < r->per_thread; i++)
        r->impl->put((void *)(base + (uintptr_t)i + 1)); /* never NULL */
    return NULL;
}

static void *getter(void *p)
{
    struct role *role = p;
    struct run *r = role->run;
    uint64_t sum = 0;
    long taken = 0;
    pthread_barrier_wait(&r->start);
    for (long i = 0; i < r->per_thread; i++) {
        uintptr_t item = (uintptr_t)r->impl->get();
        sum += item;
        taken += item != 0;
    }
    r->sums[role->index] = sum;
    r->taken[role->index] = taken;
    return NULL;
}

/* For a run that can stop early: give up once it has taken too long. */
static void *watch(void *p)
{
    struct run *r = p;
    int64_t until = bench_now_ns() + GIVE_UP_NS;
    while (!atomic_load(&r->finished) && bench_now_ns() < until) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (!atomic_load(&r->finished))
        atomic_store(&give_up, 1);
    return NULL;
}

/* The items that went through: all of them, or those a run that gave up
 * passed (its sums cannot be checked then). */
static long check_items(const struct run *r)
{
    long total = r->per_thread * PUTTERS, taken = 0;
    uint64_t sum = 0;
    for (int i = 0; i < GETTERS; i++) {
        sum += r->sums[i];
        taken += r->taken[i];
    }
    if (atomic_load(&give_up)) {
        fprintf(stderr,
                "note: queue_mpmc impl=%s cut short after %lld s: %ld of "
                "%ld items\n",
                r->impl->name, GIVE_UP_NS / 1000000000LL, taken, total);
        return taken > 0 ? taken : 1;
    }
    if (sum != (uint64_t)total * ((uint64_t)total + 1) / 2) {
        fprintf(stderr, "queue_mpmc: %s lost or doubled an item\n",
                r->impl->name);
        exit(1);
    }
    return total;
}

static int64_t one_run(void *arg, long n)
{
    struct run r = {arg, n / PUTTERS, {{0}}, {0}, {0}, 0};
    pthread_t t[PUTTERS + GETTERS], watcher;
    struct role roles[PUTTERS + GETTERS];
    r.impl->setup();
    atomic_store(&give_up, 0);
    pthread_barrier_init(&r.start, NULL, PUTTERS + GETTERS + 1);
    for (int i = 0; i < PUTTERS + GETTERS; i++) {
        roles[i] = (struct role){&r, i < PUTTERS ? i : i - PUTTERS};
        pthread_create(&t[i], NULL, i < PUTTERS ? putter : getter, &roles[i]);
    }
    if (r.impl->can_give_up)
        pthread_create(&watcher, NULL, watch, &r);
    /* The clock starts before the release: on a busy machine this thread
     * may get the CPU back only after the others have done much work. */
    int64_t t0 = bench_now_ns();
    pthread_barrier_wait(&r.start);
    for (int i = 0; i < PUTTERS + GETTERS; i++)
        pthread_join(t[i], NULL);
    int64_t dt = bench_now_ns() - t0;
    atomic_store(&r.finished, 1);
    if (r.impl->can_give_up)
        pthread_join(watcher, NULL);
    pthread_barrier_destroy(&r.start);
    r.impl->teardown();
    /* bench_median divides by n: scale to the items that went through. */
    return (int64_t)((double)dt * (double)n / (double)check_items(&r));
}

static const struct impl impls[] = {
    {"weft", weft_setup, weft_teardown, weft_put, weft_get, 0},
    {"raw", nothing, nothing, raw_put, raw_get, 0},
#ifdef HAVE_GLIB
    {"glib", glib_setup, glib_teardown, glib_put, glib_get, 0},
#endif
#ifdef HAVE_CK
    {"ck", ck_setup, nothing, ck_put, ck_get, 1},
#endif
};

int main(void)
{
    int reps = bench_reps();
    long n = bench_scaled(4000000);
    n -= n % (PUTTERS * GETTERS);
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        bench_report("queue_mpmc", impls[i].name, n,
                     bench_median(one_run, (void *)&impls[i], n, reps));
    return 0;
}
