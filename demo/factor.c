/* SPDX-License-Identifier: MIT */
/* The CPU-bound job (factor.h): seed 003's calculatePrimeFactors on
 * batches of numbers, and the checksum every form must agree on. */
#include "factor.h"

#include <stdlib.h>
#include <string.h>

#define LOW 20000u
#define HIGH 100000000u
#define BATCH 250 /* numbers per task */

/* ----- The work: seed 003's calculatePrimeFactors ----- */

size_t factor_prime(uint32_t n, uint32_t out[FACTOR_MAX])
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

/* random.randint(20000, 100000000) from a fixed seed (xorshift64), the
 * same generator as examples/python/primes.py. */
void factor_numbers(uint32_t *out, size_t n)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = LOW + (uint32_t)(x % (HIGH - LOW + 1));
    }
}

/* A batch of numbers in, their factor lists out: for each number, the
 * count of its factors and then the factors. */
int factor_batch(const weft_bytes_t *arg, weft_bytes_t *result)
{
    size_t n = arg->len / sizeof(uint32_t);
    uint32_t *out = malloc(n * (FACTOR_MAX + 1) * sizeof *out);
    if (out == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for %zu factor lists", n);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x;
        memcpy(&x, arg->data + i * sizeof x, sizeof x);
        size_t k = factor_prime(x, out + used + 1);
        out[used] = (uint32_t)k;
        used += k + 1;
    }
    int rc = weft_bytes_copy(result, out, used * sizeof *out);
    free(out);
    return rc;
}

/* ----- The checksum: FNV-1a over each list, then its length ----- */

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

static uint64_t fold(uint64_t h, const uint32_t *f, size_t k)
{
    for (size_t i = 0; i < k; i++)
        h = (h ^ f[i]) * FNV_PRIME;
    return h ^ k;
}

/* Fold a batch's result (count, factors, count, factors...) into *h;
 * returns how many numbers it held, or (size_t)-1 if it is malformed. */
static size_t fold_batch(uint64_t *h, const weft_bytes_t *r)
{
    const uint32_t *p = (const uint32_t *)r->data;
    size_t words = r->len / sizeof *p, numbers = 0;
    for (size_t i = 0; i < words; numbers++) {
        size_t k = p[i];
        if (k > FACTOR_MAX || i + 1 + k > words)
            return (size_t)-1;
        *h = fold(*h, p + i + 1, k);
        i += 1 + k;
    }
    return numbers;
}

/* ----- The forms ----- */

void factor_job_init(factor_job_t *j, const uint32_t *numbers, size_t n)
{
    j->numbers = numbers;
    j->n = n;
    j->nbatches = (n + BATCH - 1) / BATCH;
    j->batches = calloc(j->nbatches, sizeof *j->batches);
    if (j->batches == NULL) /* every form then fails, and says so */
        j->nbatches = 0;
    for (size_t b = 0; b < j->nbatches; b++) {
        size_t len = n - b * BATCH < BATCH ? n - b * BATCH : BATCH;
        j->batches[b] = (weft_bytes_t){(unsigned char *)(numbers + b * BATCH),
                                       len * sizeof *numbers};
    }
}

double factor_serial(const factor_job_t *j, uint64_t *checksum)
{
    double t0 = weft_monotonic();
    uint64_t h = FNV_OFFSET;
    uint32_t f[FACTOR_MAX];
    for (size_t i = 0; i < j->n; i++) {
        size_t k = factor_prime(j->numbers[i], f);
        h = fold(h, f, k);
    }
    double t = weft_monotonic() - t0;
    *checksum = h;
    return t;
}

/* The job on an executor, as one map over the batches (results in input
 * order). Returns the seconds it took, or -1 with a message. */
double factor_on_executor(weft_executor_t *ex, const factor_job_t *j,
                          uint64_t *checksum)
{
    double t0 = weft_monotonic();
    weft_map_t *m;
    if (weft_executor_map_bytes(&m, ex, factor_batch, j->batches, j->nbatches,
                                NULL) != 0)
        return -1;
    uint64_t h = FNV_OFFSET;
    size_t numbers = 0;
    const weft_bytes_t *r;
    int rc;
    while ((rc = weft_map_next_bytes(m, &r, NULL)) == 0) {
        size_t got = fold_batch(&h, r);
        if (got == (size_t)-1) {
            rc = weft_fail(WEFT_EPROTO, "a malformed factor list");
            break;
        }
        numbers += got;
    }
    weft_map_free(m);
    double t = weft_monotonic() - t0;
    if (rc != WEFT_EEOF)
        return -1;
    if (numbers != j->n) {
        weft_fail(WEFT_EPROTO, "%zu numbers came back of %zu", numbers, j->n);
        return -1;
    }
    *checksum = h;
    return t;
}

