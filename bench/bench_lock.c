/* SPDX-License-Identifier: MIT */
/* lock_uncontended and lock_contended: weft's Lock against pthread_mutex
 * (Python's threading.Lock is in py_lock.py).
 * Uncontended: one thread, acquire + release, per pair; first while the
 * process has one thread (lock_uncontended: glibc then skips atomic
 * instructions, and so does weft), then with a second thread alive
 * (lock_uncontended_mt: the case of a lock in a threaded program).
 * Contended: 2 threads each doing n acquire/increment/release, per pair.
 *
 * Both sides do the same work in the same loop, and their runs alternate
 * (bench_median_pair), so that a shared machine's changing load does not
 * favour the one measured first. Each lock and the counter have a cache
 * line of their own, so that neither lock shares a line with the counter
 * (which would spare it a transfer per critical section) by the linker's
 * choice. pthread_mutex is called through libc's PLT, weft's Lock directly
 * (libweft.a): a jump more for pthread, as in any program linked so. */
#include <pthread.h>

#include "bench.h"
#include "weft.h"

static _Alignas(64) weft_lock_t wlock = WEFT_LOCK_INIT;
static _Alignas(64) pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;
static _Alignas(64) volatile long counter;

static int64_t weft_uncontended(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        weft_lock_acquire(&wlock, WEFT_FOREVER);
        weft_lock_release(&wlock);
    }
    return bench_now_ns() - t0;
}

static int64_t pthread_uncontended(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&plock);
        pthread_mutex_unlock(&plock);
    }
    return bench_now_ns() - t0;
}

struct run {
    int use_weft;
    long n;
    pthread_barrier_t start;
};

static void *contender(void *p)
{
    struct run *r = p;
    pthread_barrier_wait(&r->start);
    for (long i = 0; i < r->n; i++) {
        if (r->use_weft) {
            weft_lock_acquire(&wlock, WEFT_FOREVER);
            counter++;
            weft_lock_release(&wlock);
        } else {
            pthread_mutex_lock(&plock);
            counter++;
            pthread_mutex_unlock(&plock);
        }
    }
    return NULL;
}

static int64_t contended(void *arg, long n)
{
    struct run r = {*(const int *)arg, n / 2, {{0}}};
    pthread_t t[2];
    pthread_barrier_init(&r.start, NULL, 3);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, contender, &r);
    /* The clock starts before the release: a contender preempted on this
     * busy core must not start its work off the clock. */
    int64_t t0 = bench_now_ns();
    pthread_barrier_wait(&r.start);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    int64_t dt = bench_now_ns() - t0;
    pthread_barrier_destroy(&r.start);
    return dt;
}

static weft_event_t stop_idler;

static void *idler(void *arg)
{
    weft_event_wait(&stop_idler, WEFT_FOREVER);
    return NULL;
}

static void uncontended(const char *name, long n, int reps)
{
    double w, p;
    bench_median_pair(weft_uncontended, NULL, pthread_uncontended, NULL, n,
                      reps, &w, &p);
    bench_report(name, "weft", n, w);
    bench_report(name, "pthread", n, p);
}

int main(void)
{
    int reps = bench_reps();
    long n = bench_scaled(20000000);
    uncontended("lock_uncontended", n, reps);
    pthread_t idle;
    weft_event_init(&stop_idler);
    pthread_create(&idle, NULL, idler, NULL);
    uncontended("lock_uncontended_mt", n, reps);
    weft_event_set(&stop_idler);
    pthread_join(idle, NULL);
    long m = bench_scaled(4000000);
    int use_weft = 1, use_pthread = 0;
    double w, p;
    bench_median_pair(contended, &use_weft, contended, &use_pthread, m, reps,
                      &w, &p);
    bench_report("lock_contended", "weft", m, w);
    bench_report("lock_contended", "pthread", m, p);
    return 0;
}
