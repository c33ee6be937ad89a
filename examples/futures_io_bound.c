/* SPDX-License-Identifier: MIT */
/* concurrent.futures: a ThreadPoolExecutor of three workers runs five
 * I/O-bound tasks that sleep, and as_completed hands back each result as it
 * completes (the seeds' io_bound_task, with a second scaled to 0.1 s). */
#include <stdio.h>
#include <stdlib.h>

#include "weft.h"

#define SECOND 0.1

static int io_bound_task(void *arg, void **result)
{
    long seconds = (long)(intptr_t)arg;
    printf("Sleeping for %ld second(s)...\n", seconds);
    fflush(stdout);
    int rc = weft_sleep(seconds * SECOND);
    char *text = malloc(64);
    snprintf(text, 64, "Slept for %ld second(s)", seconds);
    *result = text;
    return rc;
}

int main(void)
{
    weft_executor_t *executor;
    weft_thread_pool_opts_t opts = {.max_workers = 3};
    weft_thread_pool_new(&executor, &opts);

    double start = weft_monotonic();
    weft_future_t *futures[5];
    for (long t = 1; t <= 5; t++)
        weft_executor_submit(executor, io_bound_task, (void *)(intptr_t)t,
                             &futures[t - 1]);

    weft_as_completed_t *done;
    weft_as_completed_new(&done, futures, 5, WEFT_FOREVER);
    weft_future_t *f;
    while (weft_as_completed_next(done, &f) == 0) {
        void *text;
        weft_future_result(f, 0, &text);
        printf("%s\n", (char *)text);
        free(text);
    }
    weft_as_completed_free(done);
    printf("Total time: %.1f units of %.1f s (serial would take 15)\n",
           (weft_monotonic() - start) / SECOND, SECOND);
    for (int i = 0; i < 5; i++)
        weft_future_free(futures[i]);
    weft_executor_free(executor);
    return 0;
}
