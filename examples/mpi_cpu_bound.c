/* SPDX-License-Identifier: MIT */
/* The seeds' CPU-bound example (procpool_cpu_bound.c) on MPI ranks, as
 * mpi4py.futures' MPIPoolExecutor runs it: cpu_bound_task(n) = sum of i*i
 * for i < n over 10**6 ... 4*10**6, read with as_completed. It differs from
 * the process pool's version in one line, the executor's constructor, and
 * runs under mpirun:
 *
 *     mpirun -n 5 ./mpi_cpu_bound      (a root and 4 worker ranks)
 *
 * Every rank runs main; on the worker ranks weft_mpi_executor_new() serves
 * tasks until the root shuts down, then ends the process, so what follows
 * it runs on the root alone. */
#include <stdio.h>
#include <string.h>

#include "weft.h" /* with weft/mpi.h; link libweft_mpi */

typedef unsigned __int128 u128;

static int cpu_bound_task(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long n;
    memcpy(&n, arg->data, sizeof n);
    u128 sum = 0;
    for (long i = 0; i < n; i++)
        sum += (u128)i * (u128)i;
    return weft_bytes_copy(result, &sum, sizeof sum);
}

/* The decimal digits of a 128-bit number (Python prints big integers). */
static const char *decimal(u128 v, char buf[48])
{
    char *p = buf + 47;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    return p;
}

int main(void)
{
    long numbers[] = {1000000, 2000000, 3000000, 4000000};
    weft_executor_t *executor;
    /* was: weft_process_pool_new(&executor,
     *          &(weft_process_pool_opts_t){.max_workers = 4}); */
    if (weft_mpi_executor_new(&executor, NULL) != 0) {
        fprintf(stderr, "MPI executor: %s\n", weft_last_message());
        return 1;
    }
    weft_future_t *futures[4];
    for (int i = 0; i < 4; i++)
        weft_executor_submit_bytes(executor, cpu_bound_task, &numbers[i],
                                   sizeof numbers[i], &futures[i]);
    weft_as_completed_t *it;
    weft_as_completed_new(&it, futures, 4, WEFT_FOREVER);
    weft_future_t *f;
    while (weft_as_completed_next(it, &f) == 0) {
        int i = 0;
        while (futures[i] != f) /* futures[future] in the seeds' dict */
            i++;
        const weft_bytes_t *r;
        if (weft_future_result_bytes(f, 0, &r) != 0) {
            printf("Task %ld failed: %s\n", numbers[i], weft_last_message());
            continue;
        }
        u128 sum;
        memcpy(&sum, r->data, sizeof sum);
        char buf[48];
        printf("Task %ld: result = %s\n", numbers[i], decimal(sum, buf));
    }
    weft_as_completed_free(it);
    for (int i = 0; i < 4; i++)
        weft_future_free(futures[i]);
    weft_executor_free(executor);
    return 0;
}
