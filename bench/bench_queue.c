/* queue_mpmc: 2 putter and 2 getter threads pass n items through a queue
 * bounded at 1024, per item (Python's queue.Queue is in py_queue.py).
 *   weft  weft_queue_t, bounded and blocking (put/get WEFT_FOREVER);
 *   raw   the textbook ring: a mutex and two condition variables;
 *   glib  GLib's GAsyncQueue (unbounded: putters never wait);
 *   ck    Concurrency Kit's ck_ring in MPMC mode (1024 slots hold 1023
 *         items); it never blocks, so callers yield while full or empty.
 * Each getter takes n/2 items, and the items taken are summed: a run that
 * loses or doubles one stops the benchmark. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

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

#ifdef HAVE_CK
static ck_ring_t ring;
static ck_ring_buffer_t ring_buffer[CAPACITY];

static void ck_setup(void)
{
    ck_ring_init(&ring, CAPACITY);
}

static void ck_put(void *item)
{
    while (!ck_ring_enqueue_mpmc(&ring, ring_buffer, item))
        sched_yield();
}

static void *ck_get(void)
{
    void *item;
    while (!ck_ring_dequeue_mpmc(&ring, ring_buffer, &item))
        sched_yield();
    return item;
}
#endif

/* ----- the run ----- */

struct run {
    const struct impl *impl;
    long per_thread;
    pthread_barrier_t start;
    uint64_t sums[GETTERS];
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
    pthread_barrier_wait(&r->start);
    for (long i = 0; i < r->per_thread; i++)
        sum += (uintptr_t)r->impl->get();
    r->sums[role->index] = sum;
    return NULL;
}

static int64_t one_run(void *arg, long n)
{
    struct run r = {arg, n / PUTTERS, {{0}}, {0}};
    pthread_t t[PUTTERS + GETTERS];
    struct role roles[PUTTERS + GETTERS];
    r.impl->setup();
    pthread_barrier_init(&r.start, NULL, PUTTERS + GETTERS + 1);
    for (int i = 0; i < PUTTERS + GETTERS; i++) {
        roles[i] = (struct role){&r, i < PUTTERS ? i : i - PUTTERS};
        pthread_create(&t[i], NULL, i < PUTTERS ? putter : getter, &roles[i]);
    }
    /* The clock starts before the release: on a busy machine this thread
     * may get the CPU back only after the others have done much work. */
    int64_t t0 = bench_now_ns();
    pthread_barrier_wait(&r.start);
    for (int i = 0; i < PUTTERS + GETTERS; i++)
        pthread_join(t[i], NULL);
    int64_t dt = bench_now_ns() - t0;
    pthread_barrier_destroy(&r.start);
    r.impl->teardown();
    uint64_t total = (uint64_t)r.per_thread * PUTTERS, sum = 0;
    for (int i = 0; i < GETTERS; i++)
        sum += r.sums[i];
    if (sum != total * (total + 1) / 2) {
        fprintf(stderr, "queue_mpmc: %s lost or doubled an item\n",
                r.impl->name);
        exit(1);
    }
    /* Per item: n items went through, so dt / n is what bench_median
     * divides by. */
    return dt;
}

static const struct impl impls[] = {
    {"weft", weft_setup, weft_teardown, weft_put, weft_get},
    {"raw", nothing, nothing, raw_put, raw_get},
#ifdef HAVE_GLIB
    {"glib", glib_setup, glib_teardown, glib_put, glib_get},
#endif
#ifdef HAVE_CK
    {"ck", ck_setup, nothing, ck_put, ck_get},
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
