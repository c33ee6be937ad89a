/* SPDX-License-Identifier: MIT */
/* rx_map_filter and rx_merge_threads: weft's reactive streams against the
 * same work written by hand in C (RxPY is in py_rx.py).
 *
 *   rx_map_filter     n integers through map (x * 3 + 1), filter (even)
 *                     and reduce (sum), subscribed synchronously; the raw
 *                     line is the loop a C programmer writes for it, the
 *                     floor any library can approach.
 *   rx_merge_threads  4 producer threads (generate on a 4-worker pool)
 *                     emit n integers in all, merged into one stream and
 *                     observed on a loop (observe_on), which sums them;
 *                     per value. The raw line: 4 threads pushing into one
 *                     mutex-and-condition queue that a consumer thread
 *                     drains in batches.
 */
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"
#include "weft.h"

/* ----- rx_map_filter ----- */

static int triple_plus_one(void *ctx, void *v, void **out)
{
    *out = (void *)((intptr_t)v * 3 + 1);
    return 0;
}

static int even(void *ctx, void *v, int *keep)
{
    *keep = ((intptr_t)v & 1) == 0;
    return 0;
}

static int sum(void *ctx, void *acc, void *v, void **out)
{
    *out = (void *)((intptr_t)acc + (intptr_t)v);
    return 0;
}

static intptr_t expected(long n)
{
    intptr_t acc = 0;
    for (long i = 0; i < n; i++) {
        intptr_t x = (intptr_t)i * 3 + 1;
        if ((x & 1) == 0)
            acc += x;
    }
    return acc;
}

static intptr_t result;

static void got(void *ctx, void *v) { result = (intptr_t)v; }

static int64_t weft_map_filter(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    weft_rx_observable_t *o;
    weft_rx_range(&o, 0, n);
    weft_rx_map(&o, o, triple_plus_one, NULL);
    weft_rx_filter(&o, o, even, NULL);
    weft_rx_reduce(&o, o, sum, (void *)0, NULL);
    weft_rx_observer_t obs = {got, NULL, NULL, NULL, NULL};
    weft_rx_observable_subscribe(o, &obs, NULL);
    weft_rx_observable_free(o);
    int64_t dt = bench_now_ns() - t0;
    if (result != *(intptr_t *)arg) {
        fprintf(stderr, "rx_map_filter: wrong sum\n");
        exit(1);
    }
    return dt;
}

/* The loop by hand; volatile n keeps the compiler from folding it into a
 * formula, so it runs n iterations as the stream does. */
static int64_t raw_map_filter(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    volatile long vn = n;
    long m = vn;
    intptr_t acc = 0;
    for (long i = 0; i < m; i++) {
        intptr_t x = (intptr_t)i * 3 + 1;
        if ((x & 1) == 0)
            acc += x;
    }
    result = acc;
    int64_t dt = bench_now_ns() - t0;
    if (result != *(intptr_t *)arg) {
        fprintf(stderr, "rx_map_filter: wrong sum (raw)\n");
        exit(1);
    }
    return dt;
}

/* ----- rx_merge_threads ----- */

enum { PRODUCERS = 4 };

struct producer {
    long from, n;
};

static int produce(void *ctx, weft_rx_emitter_t *e)
{
    struct producer *p = ctx;
    for (long i = p->from; i < p->from + p->n; i++)
        weft_rx_emitter_next(e, (void *)(intptr_t)(i + 1));
    return 0;
}

struct merged {
    weft_loop_t *loop;
    intptr_t sum;
};

static void add_up(void *ctx, void *v) { ((struct merged *)ctx)->sum += (intptr_t)v; }
static void all_in(void *ctx) { weft_loop_stop(((struct merged *)ctx)->loop); }

static weft_executor_t *pool;
static weft_rx_scheduler_t *on_pool;

static int64_t weft_merge(void *arg, long n)
{
    struct merged m = {NULL, 0};
    weft_loop_new(&m.loop);
    weft_rx_scheduler_t *on_loop;
    weft_rx_loop_scheduler_new(&on_loop, m.loop);
    struct producer p[PRODUCERS];
    weft_rx_observable_t *src[PRODUCERS], *o;
    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (struct producer){i * (n / PRODUCERS), n / PRODUCERS};
        weft_rx_generate(&src[i], on_pool, produce, &p[i]);
    }
    int64_t t0 = bench_now_ns();
    weft_rx_merge(&o, src, PRODUCERS);
    weft_rx_observe_on(&o, o, on_loop, NULL);
    weft_rx_observer_t obs = {add_up, NULL, all_in, &m, NULL};
    weft_rx_subscription_t *s;
    weft_rx_observable_subscribe(o, &obs, &s);
    weft_loop_run_forever(m.loop);
    int64_t dt = bench_now_ns() - t0;
    long total = n / PRODUCERS * PRODUCERS;
    if (m.sum != (intptr_t)total * (total + 1) / 2) {
        fprintf(stderr, "rx_merge_threads: wrong sum\n");
        exit(1);
    }
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(on_loop);
    weft_loop_free(m.loop);
    return dt;
}

/* By hand: a mutex-and-condition queue of 1024, drained in batches. */
struct rawq {
    pthread_mutex_t lock;
    pthread_cond_t more, room;
    intptr_t buf[1024];
    size_t head, n;
    int producing;
};

struct rawp {
    struct rawq *q;
    long from, n;
};

static void *raw_produce(void *arg)
{
    struct rawp *p = arg;
    struct rawq *q = p->q;
    for (long i = p->from; i < p->from + p->n; i++) {
        pthread_mutex_lock(&q->lock);
        while (q->n == 1024)
            pthread_cond_wait(&q->room, &q->lock);
        q->buf[(q->head + q->n++) % 1024] = (intptr_t)(i + 1);
        if (q->n == 1)
            pthread_cond_signal(&q->more);
        pthread_mutex_unlock(&q->lock);
    }
    pthread_mutex_lock(&q->lock);
    q->producing--;
    pthread_cond_signal(&q->more);
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static int64_t raw_merge(void *arg, long n)
{
    struct rawq q = {.head = 0, .n = 0, .producing = PRODUCERS};
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.more, NULL);
    pthread_cond_init(&q.room, NULL);
    struct rawp p[PRODUCERS];
    pthread_t t[PRODUCERS];
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (struct rawp){&q, i * (n / PRODUCERS), n / PRODUCERS};
        pthread_create(&t[i], NULL, raw_produce, &p[i]);
    }
    intptr_t total = 0;
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (q.n == 0 && q.producing)
            pthread_cond_wait(&q.more, &q.lock);
        if (q.n == 0)
            break;
        while (q.n) {
            total += q.buf[q.head];
            q.head = (q.head + 1) % 1024;
            q.n--;
        }
        pthread_cond_broadcast(&q.room);
    }
    pthread_mutex_unlock(&q.lock);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    int64_t dt = bench_now_ns() - t0;
    long all = n / PRODUCERS * PRODUCERS;
    if (total != (intptr_t)all * (all + 1) / 2) {
        fprintf(stderr, "rx_merge_threads: wrong sum (raw)\n");
        exit(1);
    }
    return dt;
}

int main(void)
{
    int reps = bench_reps();
    long n = bench_scaled(10000000);
    intptr_t want = expected(n);
    bench_report("rx_map_filter", "weft", n,
                 bench_median(weft_map_filter, &want, n, reps));
    bench_report("rx_map_filter", "raw", n,
                 bench_median(raw_map_filter, &want, n, reps));

    weft_thread_pool_new(&pool, &(weft_thread_pool_opts_t){.max_workers =
                                                               PRODUCERS});
    weft_rx_executor_scheduler_new(&on_pool, pool);
    long m = bench_scaled(2000000);
    bench_report("rx_merge_threads", "weft", m,
                 bench_median(weft_merge, NULL, m, reps));
    bench_report("rx_merge_threads", "raw", m,
                 bench_median(raw_merge, NULL, m, reps));
    weft_rx_scheduler_free(on_pool);
    weft_executor_free(pool);
    return 0;
}
