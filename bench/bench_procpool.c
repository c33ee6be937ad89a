/* SPDX-License-Identifier: MIT */
/* procpool_roundtrip, procpool_latency and primes_10k: weft's process pool
 * against raw fork+pipe workers (the limit) and, in py_procpool.py,
 * Python's ProcessPoolExecutor and multiprocessing.Pool. Two workers.
 *
 * procpool_roundtrip: 100,000 tiny tasks submitted at once, then all
 * waited for, per task. raw: two forked workers on socket pairs, the
 * parent keeping thousands of 8-byte requests in flight, each worker
 * reading what is there and answering it in one write.
 * procpool_latency: one tiny task in flight at a time, submit to result.
 * raw: one 8-byte message to a forked worker and its answer.
 * procpool_1mib: 200 tasks whose argument and result are 1 MiB (an
 * echo), submitted at once, per task: large payloads through the pool.
 * primes_10k: the prime factors of 10,000 random numbers (the seeds'
 * number crunching), per number: serial C, the thread pool, the process
 * pool. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "weft.h"

#define WORKERS 2

static int tiny(const weft_bytes_t *arg, weft_bytes_t *result)
{
    uint64_t x;
    memcpy(&x, arg->data, sizeof x);
    x += 1;
    return weft_bytes_copy(result, &x, sizeof x);
}

/* ----- weft ----- */

static weft_executor_t *pool;

static int64_t weft_roundtrip(void *arg, long n)
{
    weft_future_t **fs = malloc((size_t)n * sizeof *fs);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        uint64_t x = (uint64_t)i;
        weft_executor_submit_bytes(pool, tiny, &x, sizeof x, &fs[i]);
    }
    for (long i = 0; i < n; i++) {
        weft_future_wait(fs[i], WEFT_FOREVER);
        weft_future_free(fs[i]);
    }
    int64_t dt = bench_now_ns() - t0;
    free(fs);
    return dt;
}

static int64_t weft_latency(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        uint64_t x = (uint64_t)i;
        weft_future_t *f;
        weft_executor_submit_bytes(pool, tiny, &x, sizeof x, &f);
        weft_future_wait(f, WEFT_FOREVER);
        weft_future_free(f);
    }
    return bench_now_ns() - t0;
}

#define BIG (1 << 20)

static int echo(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_bytes_copy(result, arg->data, arg->len);
}

static int64_t weft_big(void *arg, long n)
{
    weft_future_t **fs = malloc((size_t)n * sizeof *fs);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        weft_executor_submit_bytes(pool, echo, arg, BIG, &fs[i]);
    for (long i = 0; i < n; i++) {
        const weft_bytes_t *r;
        if (weft_future_result_bytes(fs[i], WEFT_FOREVER, &r) != 0 ||
            r->len != BIG)
            abort();
        weft_future_free(fs[i]);
    }
    int64_t dt = bench_now_ns() - t0;
    free(fs);
    return dt;
}

/* ----- raw: forked workers on socket pairs ----- */

struct raw_worker {
    pid_t pid;
    int fd;
};

static void raw_serve(int fd)
{
    static uint64_t buf[8192];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, (char *)buf + have, sizeof buf - have);
        if (n <= 0)
            _exit(0);
        have += (size_t)n;
        size_t k = have / 8;
        for (size_t i = 0; i < k; i++)
            buf[i] += 1;
        if (write(fd, buf, k * 8) != (ssize_t)(k * 8))
            _exit(1);
        memmove(buf, (char *)buf + k * 8, have - k * 8);
        have -= k * 8;
    }
}

static void raw_start(struct raw_worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
        pid_t pid = fork();
        if (pid == 0) {
            close(sv[0]);
            for (int j = 0; j < i; j++) /* the earlier workers' ends */
                close(w[j].fd);
            raw_serve(sv[1]);
        }
        close(sv[1]);
        fcntl(sv[0], F_SETFL, O_NONBLOCK); /* never block with both full */
        w[i] = (struct raw_worker){pid, sv[0]};
    }
}

static void raw_stop(struct raw_worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        close(w[i].fd);
        waitpid(w[i].pid, NULL, 0);
    }
}

#define RAW_INFLIGHT 4096 /* requests in flight per worker */

/* Wait for answers and count them (8 bytes each) per worker in got, the
 * bytes of an answer cut short in partial; returns how many came. */
static long collect(struct raw_worker *w, long *got, size_t *partial)
{
    static uint64_t in[RAW_INFLIGHT];
    struct pollfd p[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        p[i] = (struct pollfd){w[i].fd, POLLIN, 0};
    poll(p, WORKERS, -1);
    long done = 0;
    for (int i = 0; i < WORKERS; i++) {
        if (!p[i].revents)
            continue;
        ssize_t r =
            read(w[i].fd, (char *)in + partial[i], sizeof in - partial[i]);
        if (r <= 0)
            continue;
        size_t bytes = partial[i] + (size_t)r;
        got[i] += (long)(bytes / 8);
        done += (long)(bytes / 8);
        partial[i] = bytes % 8;
        memmove(in, (char *)in + bytes - partial[i], partial[i]);
    }
    return done;
}

static int64_t raw_roundtrip(void *arg, long n)
{
    struct raw_worker *w = arg;
    static uint64_t out[RAW_INFLIGHT];
    long sent[WORKERS] = {0}, got[WORKERS] = {0}, share = n / WORKERS;
    size_t partial[WORKERS] = {0};
    int64_t t0 = bench_now_ns();
    long done = 0;
    while (done < share * WORKERS) {
        for (int i = 0; i < WORKERS; i++) {
            long room = RAW_INFLIGHT - (sent[i] - got[i]);
            long k = share - sent[i] < room ? share - sent[i] : room;
            if (k > 0 && room >= RAW_INFLIGHT / 2) {
                for (long j = 0; j < k; j++)
                    out[j] = (uint64_t)(sent[i] + j);
                ssize_t wr = write(w[i].fd, out, (size_t)k * 8);
                while (wr > 0 && wr % 8) { /* finish the request cut */
                    struct pollfd o = {w[i].fd, POLLOUT, 0};
                    poll(&o, 1, -1);
                    ssize_t more =
                        write(w[i].fd, (char *)out + wr, (size_t)(8 - wr % 8));
                    if (more > 0)
                        wr += more;
                }
                if (wr > 0)
                    sent[i] += wr / 8;
            }
        }
        done += collect(w, got, partial);
    }
    return bench_now_ns() - t0;
}

/* The plain fork+pipe pool: one write per request, many in flight; each
 * worker reads what is there and answers it in one write. */
static int64_t raw_per_request(void *arg, long n)
{
    struct raw_worker *w = arg;
    long sent[WORKERS] = {0}, got[WORKERS] = {0}, share = n / WORKERS;
    size_t partial[WORKERS] = {0};
    int64_t t0 = bench_now_ns();
    long done = 0;
    while (done < share * WORKERS) {
        for (int i = 0; i < WORKERS; i++)
            while (sent[i] < share && sent[i] - got[i] < 128) {
                uint64_t x = (uint64_t)sent[i];
                if (write(w[i].fd, &x, 8) != 8)
                    break;
                sent[i]++;
            }
        done += collect(w, got, partial);
    }
    return bench_now_ns() - t0;
}

static int64_t raw_latency(void *arg, long n)
{
    struct raw_worker *w = arg;
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        uint64_t x = (uint64_t)i;
        struct pollfd p = {w->fd, POLLIN, 0};
        if (write(w->fd, &x, 8) != 8 || poll(&p, 1, -1) != 1 ||
            read(w->fd, &x, 8) != 8)
            abort();
    }
    return bench_now_ns() - t0;
}

/* ----- primes_10k ----- */

#define PRIMES 10000

static uint32_t numbers[PRIMES];

static size_t prime_factors(uint32_t n, uint32_t out[32])
{
    size_t k = 0;
    for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
        while (n % d == 0) {
            out[k++] = d;
            n /= d;
        }
    if (n > 1)
        out[k++] = n;
    return k;
}

static int factorize(const weft_bytes_t *arg, weft_bytes_t *result)
{
    uint32_t n, f[32];
    memcpy(&n, arg->data, sizeof n);
    size_t k = prime_factors(n, f);
    return weft_bytes_copy(result, f, k * sizeof f[0]);
}

static void make_numbers(void)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < PRIMES; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        numbers[i] = 20000 + (uint32_t)(x % (100000000 - 20000 + 1));
    }
}

static int64_t primes_serial(void *arg, long n)
{
    uint32_t f[32];
    volatile size_t sink = 0;
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        sink = sink + prime_factors(numbers[i], f);
    return bench_now_ns() - t0;
}

static int64_t primes_on(void *arg, long n)
{
    weft_executor_t *ex = arg;
    weft_bytes_t *args = malloc((size_t)n * sizeof *args);
    for (long i = 0; i < n; i++)
        args[i] = (weft_bytes_t){(unsigned char *)&numbers[i], 4};
    int64_t t0 = bench_now_ns();
    weft_map_t *m;
    weft_executor_map_bytes(&m, ex, factorize, args, (size_t)n, NULL);
    const weft_bytes_t *r;
    while (weft_map_next_bytes(m, &r, NULL) == 0)
        ;
    weft_map_free(m);
    int64_t dt = bench_now_ns() - t0;
    free(args);
    return dt;
}

int main(void)
{
    int reps = bench_reps();
    long n = bench_scaled(100000);
    long lat = bench_scaled(5000);

    struct raw_worker raw[WORKERS];
    raw_start(raw, WORKERS);
    bench_report("procpool_roundtrip", "raw", n,
                 bench_median(raw_per_request, raw, n, reps));
    bench_report("procpool_roundtrip", "raw.batched", n,
                 bench_median(raw_roundtrip, raw, n, reps));
    bench_report("procpool_latency", "raw", lat,
                 bench_median(raw_latency, raw, lat, reps));
    raw_stop(raw, WORKERS);

    weft_process_pool_opts_t o = {0};
    o.max_workers = WORKERS;
    if (weft_process_pool_new(&pool, &o) != 0) {
        fprintf(stderr, "process pool: %s\n", weft_last_message());
        return 1;
    }
    weft_roundtrip(NULL, 1000); /* warm up: the pool learns task times */
    bench_report("procpool_roundtrip", "weft", n,
                 bench_median(weft_roundtrip, NULL, n, reps));
    bench_report("procpool_latency", "weft", lat,
                 bench_median(weft_latency, NULL, lat, reps));
    unsigned char *big = calloc(1, BIG);
    long nbig = bench_scaled(200);
    bench_report("procpool_1mib", "weft", nbig,
                 bench_median(weft_big, big, nbig, reps));
    free(big);

    make_numbers();
    bench_report("primes_10k", "weft.procpool", PRIMES,
                 bench_median(primes_on, pool, PRIMES, reps));
    weft_executor_free(pool);
    weft_executor_t *threads;
    weft_thread_pool_opts_t to = {WORKERS, NULL, NULL, NULL};
    weft_thread_pool_new(&threads, &to);
    bench_report("primes_10k", "weft.threads", PRIMES,
                 bench_median(primes_on, threads, PRIMES, reps));
    weft_executor_free(threads);
    bench_report("primes_10k", "c.serial", PRIMES,
                 bench_median(primes_serial, NULL, PRIMES, reps));
    return 0;
}
