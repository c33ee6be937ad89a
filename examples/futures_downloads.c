/* SPDX-License-Identifier: MIT */
/* concurrent.futures: a dict from each future to its input, read back as
 * the futures complete (the seeds' future_to_url). The "downloads" are
 * simulated: a short sleep, then a size computed from the name; one URL
 * fails. */
#include <stdio.h>
#include <string.h>

#include "weft.h"

static const char *urls[] = {
    "https://example.com/file1.zip", "https://example.com/file2.zip",
    "https://example.com/missing.zip", "https://example.com/file3.zip"};
#define N 4

static int download_file(void *arg, void **result)
{
    const char *url = arg;
    weft_sleep(0.02);
    if (strstr(url, "missing"))
        return weft_fail(WEFT_EUSER + 404, "404 Client Error: Not Found for "
                                           "url: %s", url);
    *result = (void *)(intptr_t)(strlen(url) * 1000);
    return 0;
}

int main(void)
{
    weft_executor_t *executor;
    weft_thread_pool_opts_t opts = {.max_workers = 3};
    weft_thread_pool_new(&executor, &opts);

    /* future_to_url = {executor.submit(download_file, url): url ...} */
    weft_future_t *futures[N];
    for (int i = 0; i < N; i++)
        weft_executor_submit(executor, download_file, (void *)urls[i],
                             &futures[i]);

    weft_as_completed_t *done;
    weft_as_completed_new(&done, futures, N, WEFT_FOREVER);
    weft_future_t *f;
    int ok = 0, failed = 0;
    while (weft_as_completed_next(done, &f) == 0) {
        const char *url = NULL;
        for (int i = 0; i < N; i++)
            if (futures[i] == f)
                url = urls[i];
        void *size;
        if (weft_future_result(f, 0, &size) == 0) {
            printf("Downloaded %s: %ld bytes\n", url, (long)(intptr_t)size);
            ok++;
        } else {
            printf("Failed to download %s: %s\n", url, weft_last_message());
            failed++;
        }
    }
    printf("%d downloaded, %d failed\n", ok, failed);
    weft_as_completed_free(done);
    for (int i = 0; i < N; i++)
        weft_future_free(futures[i]);
    weft_executor_free(executor);
    return 0;
}
