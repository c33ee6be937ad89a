/* SPDX-License-Identifier: MIT */
/* submit_wait_empty, fib_forkjoin and map_throughput: weft's thread pool
 * against a plain mutex+condvar pool (raw), GLib's GThreadPool, libuv's
 * uv_queue_work and OpenMP tasks (oneTBB is in bench_executor_tbb.cpp,
 * Python in py_executor.py). Every pool has 2 workers.
 *
 * submit_wait_empty: N empty tasks submitted, then all waited for, per
 * task; from a thread outside the pool (weft.outside) and from inside a
 * task (weft.inside); weft.detached frees each future at submit and counts
 * the tasks down instead, as libuv's requests carry no result.
 * fib_forkjoin: fib(42), a task per call with n >= 14 (1,346,268 tasks,
 * the tree every peer runs), each parent waiting on its child; reported
 * per task.
 * map_throughput: map over 1,000,000 small items, per item.
 *
 * BENCH_CASES (a list of names, say "submit_wait_empty,map_throughput")
 * runs only the benchmarks it names; unset, all of them. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "weft.h"

#ifdef HAVE_GLIB
#include <glib.h>
#endif
#ifdef HAVE_LIBUV
#include <uv.h>
#endif
#ifdef HAVE_OPENMP
#include <omp.h>
#endif

static unsigned WORKERS = 2; /* BENCH_WORKERS overrides */
#define FIB_N 42
#define FIB_CUTOFF 14

static int empty(void *arg, void **result)
{
    return 0;
}

/* ----- weft ----- */

static weft_executor_t *pool;

static void submit_and_wait_all(long n)
{
    weft_future_t **fs = malloc((size_t)n * sizeof *fs);
    for (long i = 0; i < n; i++)
        weft_executor_submit(pool, empty, NULL, &fs[i]);
    for (long i = 0; i < n; i++) {
        weft_future_wait(fs[i], WEFT_FOREVER);
        weft_future_free(fs[i]);
    }
    free(fs);
}

static int64_t weft_outside(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    submit_and_wait_all(n);
    return bench_now_ns() - t0;
}

/* weft.detached: each future freed as soon as it is submitted (nobody
 * keeps a handle, as with libuv's requests); the tasks count themselves
 * down and the last one sets an Event. */
static _Atomic long detached_left;
static weft_event_t detached_done;

static int counted(void *arg, void **result)
{
    if (atomic_fetch_sub_explicit(&detached_left, 1, memory_order_acq_rel) ==
        1)
        weft_event_set(&detached_done);
    return 0;
}

static int64_t weft_detached(void *arg, long n)
{
    weft_event_init(&detached_done);
    atomic_store(&detached_left, n);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        weft_future_t *f;
        weft_executor_submit(pool, counted, NULL, &f);
        weft_future_free(f);
    }
    weft_event_wait(&detached_done, WEFT_FOREVER);
    int64_t dt = bench_now_ns() - t0;
    weft_event_destroy(&detached_done);
    return dt;
}

static int inside_task(void *arg, void **result)
{
    submit_and_wait_all(*(long *)arg);
    return 0;
}

static int64_t weft_inside(void *arg, long n)
{
    weft_future_t *f;
    int64_t t0 = bench_now_ns();
    weft_executor_submit(pool, inside_task, &n, &f);
    weft_future_wait(f, WEFT_FOREVER);
    int64_t dt = bench_now_ns() - t0;
    weft_future_free(f);
    return dt;
}

/* ----- raw: a mutex, two condition variables and a linked list ----- */

struct raw_job {
    struct raw_job *next;
};

static struct {
    pthread_mutex_t m;
    pthread_cond_t work, done;
    struct raw_job *head, *tail;
    long finished;
    int stop;
    pthread_t threads[256];
} raw;

static void *raw_worker(void *unused)
{
    pthread_mutex_lock(&raw.m);
    for (;;) {
        while (raw.head == NULL && !raw.stop)
            pthread_cond_wait(&raw.work, &raw.m);
        if (raw.head == NULL)
            break;
        struct raw_job *j = raw.head;
        raw.head = j->next;
        if (raw.head == NULL)
            raw.tail = NULL;
        pthread_mutex_unlock(&raw.m);
        empty(j, NULL);
        free(j);
        pthread_mutex_lock(&raw.m);
        raw.finished++;
        pthread_cond_signal(&raw.done);
    }
    pthread_mutex_unlock(&raw.m);
    return NULL;
}

static int64_t raw_pool(void *arg, long n)
{
    pthread_mutex_init(&raw.m, NULL);
    pthread_cond_init(&raw.work, NULL);
    pthread_cond_init(&raw.done, NULL);
    raw.head = raw.tail = NULL;
    raw.finished = 0;
    raw.stop = 0;
    for (unsigned i = 0; i < WORKERS; i++)
        pthread_create(&raw.threads[i], NULL, raw_worker, NULL);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        struct raw_job *j = malloc(sizeof *j);
        j->next = NULL;
        pthread_mutex_lock(&raw.m);
        if (raw.tail)
            raw.tail->next = j;
        else
            raw.head = j;
        raw.tail = j;
        pthread_cond_signal(&raw.work);
        pthread_mutex_unlock(&raw.m);
    }
    pthread_mutex_lock(&raw.m);
    while (raw.finished < n)
        pthread_cond_wait(&raw.done, &raw.m);
    raw.stop = 1;
    pthread_cond_broadcast(&raw.work);
    pthread_mutex_unlock(&raw.m);
    int64_t dt = bench_now_ns() - t0;
    for (unsigned i = 0; i < WORKERS; i++)
        pthread_join(raw.threads[i], NULL);
    return dt;
}

/* ----- GLib ----- */

#ifdef HAVE_GLIB
static void glib_job(gpointer data, gpointer user)
{
    empty(data, NULL);
}

static int64_t glib_pool(void *arg, long n)
{
    GThreadPool *p = g_thread_pool_new(glib_job, NULL, WORKERS, TRUE, NULL);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        g_thread_pool_push(p, GINT_TO_POINTER(1), NULL);
    g_thread_pool_free(p, FALSE, TRUE); /* waits for every job */
    return bench_now_ns() - t0;
}
#endif

/* ----- libuv ----- */

#ifdef HAVE_LIBUV
static void uv_job(uv_work_t *req)
{
    empty(req, NULL);
}

static void uv_after(uv_work_t *req, int status)
{
}

/* One loop for every repetition, as a libuv program keeps its loop: a new
 * loop per run would charge its set-up to each task. */
static uv_loop_t uv_bench_loop;

static int64_t libuv_pool(void *arg, long n)
{
    uv_work_t *reqs = malloc((size_t)n * sizeof *reqs);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        uv_queue_work(&uv_bench_loop, &reqs[i], uv_job, uv_after);
    uv_run(&uv_bench_loop, UV_RUN_DEFAULT); /* until every after-work ran */
    int64_t dt = bench_now_ns() - t0;
    free(reqs);
    return dt;
}
#endif

/* ----- OpenMP ----- */

#ifdef HAVE_OPENMP
static int64_t openmp_tasks(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
#pragma omp parallel num_threads(WORKERS)
#pragma omp single
    {
        for (long i = 0; i < n; i++) {
#pragma omp task
            empty(NULL, NULL);
        }
#pragma omp taskwait
    }
    return bench_now_ns() - t0;
}
#endif

/* ----- fib ----- */

static long fib_serial(long n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

/* Calls from the cutoff up: the tasks each version makes. */
static long fib_tasks(long n)
{
    return n < FIB_CUTOFF ? 0 : 1 + fib_tasks(n - 1) + fib_tasks(n - 2);
}

static int fib_task(void *arg, void **result)
{
    long n = (long)(intptr_t)arg;
    if (n < FIB_CUTOFF) {
        *result = (void *)(intptr_t)fib_serial(n);
        return 0;
    }
    weft_future_t *f;
    weft_executor_submit(pool, fib_task, (void *)(intptr_t)(n - 1), &f);
    void *b = NULL, *a = NULL;
    fib_task((void *)(intptr_t)(n - 2), &b);
    weft_future_result(f, WEFT_FOREVER, &a);
    weft_future_free(f);
    *result = (void *)((intptr_t)a + (intptr_t)b);
    return 0;
}

static long fib_answer;

static int64_t weft_fib(void *arg, long n)
{
    weft_future_t *f;
    int64_t t0 = bench_now_ns();
    weft_executor_submit(pool, fib_task, (void *)(intptr_t)FIB_N, &f);
    void *r;
    weft_future_result(f, WEFT_FOREVER, &r);
    int64_t dt = bench_now_ns() - t0;
    weft_future_free(f);
    if ((long)(intptr_t)r != fib_answer)
        abort();
    return dt;
}

static int64_t serial_fib(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    volatile long r = fib_serial(FIB_N);
    if (r != fib_answer)
        abort();
    return bench_now_ns() - t0;
}

#ifdef HAVE_OPENMP
static long omp_fib(long n)
{
    if (n < FIB_CUTOFF)
        return fib_serial(n);
    long a, b;
#pragma omp task shared(a)
    a = omp_fib(n - 1);
    b = omp_fib(n - 2);
#pragma omp taskwait
    return a + b;
}

static int64_t openmp_fib(void *arg, long n)
{
    long r = 0;
    int64_t t0 = bench_now_ns();
#pragma omp parallel num_threads(WORKERS)
#pragma omp single
    r = omp_fib(FIB_N);
    int64_t dt = bench_now_ns() - t0;
    if (r != fib_answer)
        abort();
    return dt;
}
#endif

/* ----- map ----- */

static int small_item(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg * 3 + 1);
    return 0;
}

static int64_t weft_map(void *arg, long n)
{
    size_t chunk = *(size_t *)arg;
    void **args = malloc((size_t)n * sizeof *args);
    for (long i = 0; i < n; i++)
        args[i] = (void *)(intptr_t)i;
    int64_t t0 = bench_now_ns();
    weft_map_t *m;
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = chunk;
    weft_executor_map(&m, pool, small_item, args, (size_t)n, &o);
    void *r;
    intptr_t sum = 0;
    while (weft_map_next(m, &r, NULL) == 0)
        sum += (intptr_t)r;
    weft_map_free(m);
    int64_t dt = bench_now_ns() - t0;
    free(args);
    if (sum != 3 * (intptr_t)n * (n - 1) / 2 + n)
        abort();
    return dt;
}

/* BENCH_SCALING=1: only what a scaling run over worker counts compares
 * (weft and OpenMP; oneTBB is its own program). */
static int scaling_only(void)
{
    const char *s = getenv("BENCH_SCALING");
    return s && atoi(s) > 0;
}

/* Whether BENCH_CASES names this benchmark (or is unset). */
static int wanted(const char *name)
{
    const char *s = getenv("BENCH_CASES");
    return s == NULL || s[0] == '\0' || strstr(s, name) != NULL;
}

static void run_submit_wait(int reps)
{
    long n = bench_scaled(1000000);
    bench_report("submit_wait_empty", "weft.outside", n,
                 bench_median(weft_outside, NULL, n, reps));
    bench_report("submit_wait_empty", "weft.inside", n,
                 bench_median(weft_inside, NULL, n, reps));
    bench_report("submit_wait_empty", "weft.detached", n,
                 bench_median(weft_detached, NULL, n, reps));
#ifdef HAVE_OPENMP
    bench_report("submit_wait_empty", "openmp", n,
                 bench_median(openmp_tasks, NULL, n, reps));
#endif
    if (scaling_only())
        return;
    bench_report("submit_wait_empty", "raw", n,
                 bench_median(raw_pool, NULL, n, reps));
#ifdef HAVE_GLIB
    bench_report("submit_wait_empty", "glib", n,
                 bench_median(glib_pool, NULL, n, reps));
#endif
#ifdef HAVE_LIBUV
    uv_loop_init(&uv_bench_loop);
    bench_report("submit_wait_empty", "libuv", n,
                 bench_median(libuv_pool, NULL, n, reps));
    uv_loop_close(&uv_bench_loop);
#endif
}

static void run_fib(int reps)
{
    fib_answer = fib_serial(FIB_N);
    long tasks = fib_tasks(FIB_N);
    bench_report("fib_forkjoin", "weft", tasks,
                 bench_median(weft_fib, NULL, tasks, reps));
#ifdef HAVE_OPENMP
    bench_report("fib_forkjoin", "openmp", tasks,
                 bench_median(openmp_fib, NULL, tasks, reps));
#endif
    if (!scaling_only() || WORKERS == 1)
        bench_report("fib_forkjoin", "serial", tasks,
                     bench_median(serial_fib, NULL, tasks, reps));
}

static void run_map(int reps)
{
    long n = bench_scaled(1000000);
    size_t chunked = 1024, single = 1;
    bench_report("map_throughput", "weft", n,
                 bench_median(weft_map, &chunked, n, reps));
    bench_report("map_throughput", "weft.chunk1", n,
                 bench_median(weft_map, &single, n, reps));
}

int main(void)
{
    const char *w = getenv("BENCH_WORKERS");
    if (w && atoi(w) > 0 && atoi(w) <= 256)
        WORKERS = (unsigned)atoi(w);
    char size[16];
    snprintf(size, sizeof size, "%u", WORKERS);
    setenv("UV_THREADPOOL_SIZE", size, 1);
    int reps = bench_reps();
    weft_thread_pool_opts_t o = {WORKERS, NULL, NULL, NULL};
    weft_thread_pool_new(&pool, &o);
    if (wanted("submit_wait_empty"))
        run_submit_wait(reps);
    if (wanted("fib_forkjoin"))
        run_fib(reps < 5 ? reps : 5);
    if (!scaling_only() && wanted("map_throughput"))
        run_map(reps);
    weft_executor_free(pool);
    return 0;
}
