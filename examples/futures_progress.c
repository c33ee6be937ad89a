/* SPDX-License-Identifier: MIT */
/* The seeds' ProgressTracker: twenty tasks on four workers, and a progress
 * line (percent, count, rate, ETA) as each completes. On a terminal the
 * line redraws in place; into a pipe or file it prints plain lines. */
#include <stdio.h>

#include "weft.h"

static int task(void *arg, void **result)
{
    long n = (long)(intptr_t)arg;
    weft_sleep(0.05);
    *result = (void *)(intptr_t)(n * n);
    return 0;
}

int main(void)
{
    weft_executor_t *executor;
    weft_thread_pool_opts_t opts = {.max_workers = 4};
    weft_thread_pool_new(&executor, &opts);

    weft_progress_t *tracker;
    weft_progress_opts_t popts = {.interval = 0.01};
    weft_progress_new(&tracker, 20, &popts);

    weft_future_t *futures[20];
    for (long n = 0; n < 20; n++) {
        weft_executor_submit(executor, task, (void *)(intptr_t)n, &futures[n]);
        weft_progress_track(tracker, futures[n]);
    }
    long sum = 0;
    for (int n = 0; n < 20; n++) {
        void *r;
        weft_future_result(futures[n], WEFT_FOREVER, &r);
        sum += (long)(intptr_t)r;
        weft_future_free(futures[n]);
    }
    weft_executor_free(executor); /* every callback has run */
    weft_progress_finish(tracker);
    weft_progress_free(tracker);
    printf("Sum of squares: %ld\n", sum);
    return 0;
}
