/* SPDX-License-Identifier: MIT */
/* concurrent.futures: a task that fails for input 3 fails only its own
 * future; result() then gives its code and message, like Python's raise
 * (the seeds' task_with_error). */
#include <stdio.h>

#include "weft.h"

enum { VALUE_ERROR = WEFT_EUSER + 1 };

static int task_with_error(void *arg, void **result)
{
    long x = (long)(intptr_t)arg;
    if (x == 3)
        return weft_fail(VALUE_ERROR, "An error occurred with input 3");
    *result = (void *)(intptr_t)(x * 2);
    return 0;
}

int main(void)
{
    weft_executor_t *executor;
    weft_thread_pool_opts_t opts = {.max_workers = 3};
    weft_thread_pool_new(&executor, &opts);

    weft_future_t *futures[5];
    for (long x = 1; x <= 5; x++)
        weft_executor_submit(executor, task_with_error, (void *)(intptr_t)x,
                             &futures[x - 1]);

    /* In submission order, so the output is the same every run. */
    for (int i = 0; i < 5; i++) {
        void *result;
        if (weft_future_result(futures[i], WEFT_FOREVER, &result) == 0)
            printf("Result: %ld\n", (long)(intptr_t)result);
        else
            printf("Error: %s\n", weft_last_message());
        weft_future_free(futures[i]);
    }
    weft_executor_free(executor);
    return 0;
}
