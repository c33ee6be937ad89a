/* SPDX-License-Identifier: MIT */
/* The MPI executor against its peers, under mpirun (the program starts
 * mpirun on itself when it is run plainly):
 *   mpi_roundtrip: one tiny task at a time, submit to result, with 2
 *     worker ranks: weft, and a raw MPI_Send/MPI_Recv ping-pong with the
 *     same ranks (the limit); bench/py_mpi.py measures mpi4py.futures.
 *   mpi_primes_<w>w: the seeds' prime factorization of 10,000 numbers
 *     (examples/procpool_primes.c) mapped over w = 1, 2 and 4 worker ranks,
 *     per number.
 * All ranks share this machine (shared memory), more ranks than cores
 * where there are few. */
#include <mpi.h>

#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft.h"

static int rank, size;

static int tiny(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_bytes_copy(result, arg->data, arg->len);
}
WEFT_MPI_TASK(tiny)

#define MAX_FACTORS 32

static int factorize(const weft_bytes_t *arg, weft_bytes_t *result)
{
    uint32_t n, f[MAX_FACTORS];
    size_t k = 0;
    memcpy(&n, arg->data, sizeof n);
    for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
        while (n % d == 0) {
            f[k++] = d;
            n /= d;
        }
    if (n > 1)
        f[k++] = n;
    return weft_bytes_copy(result, f, k * sizeof f[0]);
}
WEFT_MPI_TASK(factorize)

/* ----- mpi_roundtrip ----- */

static weft_executor_t *ex;

static int64_t weft_roundtrips(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        weft_future_t *f;
        weft_executor_submit_bytes(ex, tiny, &i, sizeof i, &f);
        weft_future_result_bytes(f, WEFT_FOREVER, NULL);
        weft_future_free(f);
    }
    return bench_now_ns() - t0;
}

static int64_t raw_roundtrips(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        long v = i;
        int peer = 1 + (int)(i % (size - 1));
        MPI_Send(&v, 1, MPI_LONG, peer, 1, MPI_COMM_WORLD);
        MPI_Recv(&v, 1, MPI_LONG, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return bench_now_ns() - t0;
}

static void raw_serve(void)
{
    for (;;) {
        long v;
        MPI_Status st;
        MPI_Recv(&v, 1, MPI_LONG, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        if (st.MPI_TAG == 2)
            return;
        MPI_Send(&v, 1, MPI_LONG, 0, 1, MPI_COMM_WORLD);
    }
}

static void roundtrip(void)
{
    long n = bench_scaled(2000);
    if (weft_mpi_comm_executor_new(&ex, MPI_COMM_WORLD, NULL) != 0) {
        fprintf(stderr, "bench_mpi: %s\n", weft_last_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0) {
        weft_roundtrips(NULL, 100);
        bench_report("mpi_roundtrip", "weft", n,
                     bench_median(weft_roundtrips, NULL, n, bench_reps()));
        weft_executor_free(ex);
    }
    if (rank != 0) {
        raw_serve();
        return;
    }
    raw_roundtrips(NULL, 100);
    bench_report("mpi_roundtrip", "raw", n,
                 bench_median(raw_roundtrips, NULL, n, bench_reps()));
    for (int r = 1; r < size; r++) {
        long v = 0;
        MPI_Send(&v, 1, MPI_LONG, r, 2, MPI_COMM_WORLD);
    }
}

/* ----- mpi_primes ----- */

#define COUNT 10000
static uint32_t numbers[COUNT];
static weft_bytes_t args[COUNT];

static int64_t primes_once(void *arg, long n)
{
    int64_t t0 = bench_now_ns();
    weft_map_t *m;
    weft_executor_map_bytes(&m, ex, factorize, args, COUNT, NULL);
    const weft_bytes_t *r;
    while (weft_map_next_bytes(m, &r, NULL) == 0)
        ;
    weft_map_free(m);
    return bench_now_ns() - t0;
}

static void primes(void)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < COUNT; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        numbers[i] = 20000 + (uint32_t)(x % (100000000 - 20000 + 1));
        args[i] = (weft_bytes_t){(unsigned char *)&numbers[i], sizeof numbers[i]};
    }
    if (weft_mpi_comm_executor_new(&ex, MPI_COMM_WORLD, NULL) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (rank != 0)
        return;
    char name[32];
    snprintf(name, sizeof name, "mpi_primes_%dw", size - 1);
    primes_once(NULL, COUNT);
    bench_report(name, "weft", COUNT,
                 bench_median(primes_once, NULL, COUNT, bench_reps() / 2 + 1));
    weft_executor_free(ex);
}

/* Run mode on np ranks under mpirun. */
static int launch(const char *self, const char *mode, int np)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "mpirun --allow-run-as-root --oversubscribe --mca btl self,vader "
             "-n %d %s %s",
             np, self, mode);
    fflush(stdout);
    return system(cmd);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        char self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        self[len > 0 ? len : 0] = '\0';
        int rc = launch(self, "roundtrip", 3);
        for (int w = 1; rc == 0 && w <= 4; w *= 2)
            rc = launch(self, "primes", w + 1);
        return rc != 0;
    }
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (strcmp(argv[1], "roundtrip") == 0)
        roundtrip();
    else
        primes();
    MPI_Finalize();
    return 0;
}
