/* SPDX-License-Identifier: MIT */
/* concurrent.futures: executor.map(square, range(1, 6)) gives results in
 * input order; submit + as_completed gives them as they complete (the
 * seeds' square examples). */
#include <stdio.h>

#include "weft.h"

static int square(void *arg, void **result)
{
    long x = (long)(intptr_t)arg;
    *result = (void *)(intptr_t)(x * x);
    return 0;
}

int main(void)
{
    weft_executor_t *executor;
    weft_thread_pool_new(&executor, NULL);

    /* results = executor.map(square, range(1, 6)) */
    void *args[5] = {(void *)1, (void *)2, (void *)3, (void *)4, (void *)5};
    weft_map_t *results;
    weft_executor_map(&results, executor, square, args, 5, NULL);
    void *r;
    while (weft_map_next(results, &r, NULL) == 0)
        printf("Squared value: %ld\n", (long)(intptr_t)r);
    weft_map_free(results);

    /* futures = [executor.submit(square, i) for i in range(1, 6)] */
    weft_future_t *futures[5];
    for (int i = 0; i < 5; i++)
        weft_executor_submit(executor, square, args[i], &futures[i]);
    weft_as_completed_t *done;
    weft_as_completed_new(&done, futures, 5, WEFT_FOREVER);
    weft_future_t *f;
    long sum = 0;
    while (weft_as_completed_next(done, &f) == 0) {
        weft_future_result(f, 0, &r);
        sum += (long)(intptr_t)r;
    }
    printf("Sum of the squares, as completed: %ld\n", sum);
    weft_as_completed_free(done);
    for (int i = 0; i < 5; i++)
        weft_future_free(futures[i]);
    weft_executor_free(executor);
    return 0;
}
