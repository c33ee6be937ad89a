/* SPDX-License-Identifier: MIT */
/* concurrent.futures: cpu_bound_task(n) = sum of i*i for i < n over 10**6,
 * 2*10**6, 3*10**6 and 4*10**6, on ProcessPoolExecutor(max_workers=4), read
 * with as_completed and a dict from future to input (the seeds' example).
 *
 * The tasks take and return bytes, so the same program runs on threads by
 * changing one line: the executor's constructor (see main). */
#include <stdio.h>
#include <string.h>

#include "weft.h"

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
    /* Threads instead: weft_thread_pool_new(&executor,
     *     &(weft_thread_pool_opts_t){.max_workers = 4}); */
    weft_process_pool_new(&executor, &(weft_process_pool_opts_t){.max_workers = 4});
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
