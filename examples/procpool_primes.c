/* SPDX-License-Identifier: MIT */
/* The prime factors of 10,000 random numbers between 20,000 and
 * 100,000,000 (the seeds' number crunching): serially, on the thread pool
 * and on the process pool, all three giving the same factors. The numbers
 * come from a fixed seed, so every run factors the same ones.
 *
 * The task is a weft_bytes_fn, so the pool is one line: the executor's
 * constructor (see run_on). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define COUNT 10000
#define MAX_FACTORS 32

/* calculatePrimeFactors(n): trial division, factors repeated. */
static size_t prime_factors(uint32_t n, uint32_t out[MAX_FACTORS])
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
    uint32_t n, f[MAX_FACTORS];
    memcpy(&n, arg->data, sizeof n);
    size_t k = prime_factors(n, f);
    return weft_bytes_copy(result, f, k * sizeof f[0]);
}

/* A fixed-seed generator (xorshift), for numbers in [20000, 100000000]. */
static void random_numbers(uint32_t *out, size_t n)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = 20000 + (uint32_t)(x % (100000000 - 20000 + 1));
    }
}

/* A checksum of all the factors, in order: equal sums, equal factors
 * (the lists are compared in full as well). */
static uint64_t fold(uint64_t h, const uint32_t *f, size_t k)
{
    for (size_t i = 0; i < k; i++)
        h = (h ^ f[i]) * 1099511628211ull;
    return h ^ k;
}

struct factors {
    uint32_t f[MAX_FACTORS];
    size_t k;
};

static double serial(const uint32_t *numbers, struct factors *out)
{
    double t0 = weft_monotonic();
    for (size_t i = 0; i < COUNT; i++)
        out[i].k = prime_factors(numbers[i], out[i].f);
    return weft_monotonic() - t0;
}

static double run_on(weft_executor_t *ex, const uint32_t *numbers,
                     struct factors *out)
{
    weft_bytes_t *args = malloc(COUNT * sizeof *args);
    for (size_t i = 0; i < COUNT; i++)
        args[i] = (weft_bytes_t){(unsigned char *)&numbers[i], sizeof numbers[i]};
    double t0 = weft_monotonic();
    weft_map_t *m;
    weft_executor_map_bytes(&m, ex, factorize, args, COUNT, NULL);
    const weft_bytes_t *r;
    size_t i;
    while (weft_map_next_bytes(m, &r, &i) == 0) {
        out[i].k = r->len / sizeof(uint32_t);
        memcpy(out[i].f, r->data, r->len);
    }
    weft_map_free(m);
    double t = weft_monotonic() - t0;
    free(args);
    return t;
}

static uint64_t checksum(const struct factors *fs)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < COUNT; i++)
        h = fold(h, fs[i].f, fs[i].k);
    return h;
}

int main(void)
{
    static uint32_t numbers[COUNT];
    static struct factors by_serial[COUNT], by_threads[COUNT],
        by_processes[COUNT];
    random_numbers(numbers, COUNT);
    printf("Starting number crunching: %d numbers\n", COUNT);
    printf("%u = ", numbers[0]);
    for (size_t i = 0; i < prime_factors(numbers[0], by_serial[0].f); i++)
        printf("%s%u", i ? " * " : "", by_serial[0].f[i]);
    printf("\n");

    double ts = serial(numbers, by_serial);
    printf("Serial:          %.3f s, checksum %016llx\n", ts,
           (unsigned long long)checksum(by_serial));

    weft_executor_t *ex;
    weft_thread_pool_new(&ex, NULL);
    double tt = run_on(ex, numbers, by_threads);
    weft_executor_free(ex);
    printf("Thread pool:     %.3f s, checksum %016llx\n", tt,
           (unsigned long long)checksum(by_threads));

    weft_process_pool_new(&ex, NULL); /* the one line that differs */
    double tp = run_on(ex, numbers, by_processes);
    weft_executor_free(ex);
    printf("Process pool:    %.3f s, checksum %016llx\n", tp,
           (unsigned long long)checksum(by_processes));

    int same = memcmp(by_serial, by_threads, sizeof by_serial) == 0 &&
               memcmp(by_serial, by_processes, sizeof by_serial) == 0;
    printf("All three agree: %s\n", same ? "yes" : "NO");
    return same ? 0 : 1;
}
