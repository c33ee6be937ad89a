/* SPDX-License-Identifier: MIT */
/* The CPU-bound job of weft-demo (seed 003's prime factorization) and its
 * checksum, shared by weft-demo (cpu.c) and weft-demo-mpi (mpi/), so that
 * every form, in-process or on MPI ranks, runs the same code on the same
 * numbers and must agree on the same checksum. */
#ifndef WEFT_DEMO_FACTOR_H
#define WEFT_DEMO_FACTOR_H

#include <stddef.h>
#include <stdint.h>

#include "weft.h"

#define FACTOR_MAX 32 /* factors of a number below 2**32 */

/* The prime factors of n, in order and repeated, into out; their count. */
size_t factor_prime(uint32_t n, uint32_t out[FACTOR_MAX]);

/* The first n numbers of random.randint(20000, 100000000) from the demo's
 * fixed seed (xorshift64, as examples/python/primes.py). */
void factor_numbers(uint32_t *out, size_t n);

/* The task: a batch of numbers in, for each its factor count and then its
 * factors out. A weft_bytes_fn, so that it runs on every executor. */
int factor_batch(const weft_bytes_t *arg, weft_bytes_t *result);

/* The job: n numbers cut into batches of 250 (one task each). */
typedef struct factor_job {
    const uint32_t *numbers;
    size_t n;
    weft_bytes_t *batches;
    size_t nbatches;
} factor_job_t;

/* Cut numbers into batches; on no memory, nbatches is 0 and every form
 * run on the job fails, saying so. Free j->batches after. */
void factor_job_init(factor_job_t *j, const uint32_t *numbers, size_t n);

/* The job serially, on this thread: its seconds, and the checksum (FNV-1a
 * over each factor list, then its length) in *checksum. */
double factor_serial(const factor_job_t *j, uint64_t *checksum);

/* The job on an executor, as one map over the batches (results in input
 * order), with the same checksum. Returns the seconds it took, or -1 with
 * a message (weft_last_message()). Blocks until the map is done. */
double factor_on_executor(weft_executor_t *ex, const factor_job_t *j,
                          uint64_t *checksum);

#endif
