/* SPDX-License-Identifier: MIT */
/* Helpers for the benchmarks: a clock, medians over repeated runs, and the
 * one line each measurement prints:
 *   bench=<name> impl=<impl> n=<count> median_ns_per_op=<x>
 * bench/run-all collects those lines and prints the ratios. */
#ifndef WEFT_BENCH_H
#define WEFT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Run fn(arg, n) reps times; each run does n operations and returns its
 * elapsed ns (or fn measures itself and returns that). Prints the median. */
static inline double bench_median(int64_t (*fn)(void *arg, long n), void *arg,
                                  long n, int reps)
{
    double samples[64];
    if (reps > 64)
        reps = 64;
    for (int r = 0; r < reps; r++)
        samples[r] = (double)fn(arg, n) / (double)n;
    qsort(samples, (size_t)reps, sizeof samples[0], bench_cmp_double);
    return samples[reps / 2];
}

/* Run fa and fb alternately, reps times each (fa, fb, fa, fb, ...), and give
 * the median of each in *ma and *mb. A change in the machine's load during
 * the runs then falls on both alike, rather than on whichever ran last:
 * for a ratio between two implementations on a shared machine. */
static inline void bench_median_pair(int64_t (*fa)(void *arg, long n),
                                     void *arga,
                                     int64_t (*fb)(void *arg, long n),
                                     void *argb, long n, int reps, double *ma,
                                     double *mb)
{
    double a[64], b[64];
    if (reps > 64)
        reps = 64;
    for (int r = 0; r < reps; r++) {
        a[r] = (double)fa(arga, n) / (double)n;
        b[r] = (double)fb(argb, n) / (double)n;
    }
    qsort(a, (size_t)reps, sizeof a[0], bench_cmp_double);
    qsort(b, (size_t)reps, sizeof b[0], bench_cmp_double);
    *ma = a[reps / 2];
    *mb = b[reps / 2];
}

static inline void bench_report(const char *name, const char *impl, long n,
                                double ns_per_op)
{
    printf("bench=%s impl=%s n=%ld median_ns_per_op=%.2f\n", name, impl, n,
           ns_per_op);
    fflush(stdout);
}

/* The repetition count: BENCH_REPS, default 7 (odd, so the median is one
 * of the runs). */
static inline int bench_reps(void)
{
    const char *s = getenv("BENCH_REPS");
    int r = s ? atoi(s) : 7;
    return r > 0 ? r : 7;
}

/* Scale a workload: BENCH_SCALE (default 1) multiplies counts, so a quick
 * look can use 0.1. */
static inline long bench_scaled(long n)
{
    const char *s = getenv("BENCH_SCALE");
    double f = s ? atof(s) : 1.0;
    long v = (long)((double)n * (f > 0 ? f : 1.0));
    return v > 0 ? v : 1;
}

#endif
