/* SPDX-License-Identifier: MIT */
/* concurrent.futures: ProcessPoolExecutor(3) computing the factorials of
 * 10, 20, 30, 40 and 50 exactly, read with as_completed (the seeds'
 * cpu_bound_task). The big integers are GMP's; each travels back from its
 * worker as decimal text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#ifdef WEFT_HAVE_GMP
#include <gmp.h>

static int cpu_bound_task(const weft_bytes_t *arg, weft_bytes_t *result)
{
    unsigned long number;
    memcpy(&number, arg->data, sizeof number);
    printf("Computing factorial of %lu...\n", number);
    mpz_t f;
    mpz_init(f);
    mpz_fac_ui(f, number);
    char *text = mpz_get_str(NULL, 10, f);
    int rc = weft_bytes_copy(result, text, strlen(text) + 1);
    free(text);
    mpz_clear(f);
    return rc;
}

int main(void)
{
    weft_executor_t *executor;
    weft_process_pool_opts_t opts = {.max_workers = 3};
    if (weft_process_pool_new(&executor, &opts) != 0) {
        fprintf(stderr, "process pool: %s\n", weft_last_message());
        return 1;
    }
    unsigned long tasks[] = {10, 20, 30, 40, 50};
    weft_future_t *futures[5];
    for (int i = 0; i < 5; i++)
        weft_executor_submit_bytes(executor, cpu_bound_task, &tasks[i],
                                   sizeof tasks[i], &futures[i]);
    weft_as_completed_t *it;
    weft_as_completed_new(&it, futures, 5, WEFT_FOREVER);
    weft_future_t *f;
    while (weft_as_completed_next(it, &f) == 0) {
        const weft_bytes_t *r;
        if (weft_future_result_bytes(f, 0, &r) == 0)
            printf("Factorial computed: %s\n", (const char *)r->data);
        else
            printf("Failed: %s\n", weft_last_message());
    }
    weft_as_completed_free(it);
    for (int i = 0; i < 5; i++)
        weft_future_free(futures[i]);
    weft_executor_free(executor);
    return 0;
}

#else

int main(void)
{
    printf("(built without GMP: install libgmp-dev and build again)\n");
    return 0;
}

#endif
