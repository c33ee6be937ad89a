/* SPDX-License-Identifier: MIT */
/* multiprocessing.dummy: Pool(7).map over a list, serially and with the
 * thread pool, giving the same results in the same order (the seeds'
 * get_url_resp; the pages are simulated with a short sleep each). */
#include <stdio.h>
#include <string.h>

#include "weft.h"

static const char *urls[] = {
    "http://www.python.org",          "http://www.python.org/about/",
    "http://www.onlamp.com/pub/a/python/2003/04/17/metaclasses.html",
    "http://www.python.org/doc/",     "http://www.python.org/download/",
    "http://www.python.org/getit/",   "http://www.python.org/community/"};
#define N 7

static int get_url_resp(void *arg, void **result)
{
    weft_sleep(0.1);
    *result = (void *)(intptr_t)(strlen(arg) * 701 % 90000);
    return 0;
}

static void print_list(const char *what, void **r, double seconds)
{
    printf("%s result: [", what);
    for (int i = 0; i < N; i++)
        printf("%s%ld", i ? ", " : "", (long)(intptr_t)r[i]);
    printf("]\nExecution time: %.2f s\n", seconds);
}

int main(void)
{
    void *serial[N], *threaded[N];
    double t0 = weft_monotonic();
    for (int i = 0; i < N; i++)
        get_url_resp((void *)urls[i], &serial[i]);
    print_list("Serial", serial, weft_monotonic() - t0);

    weft_pool_t *pool;
    weft_thread_pool_pool_new(&pool, 7); /* ThreadPool(7) */
    t0 = weft_monotonic();
    weft_pool_map(pool, get_url_resp, (void *const *)urls, N, 0, threaded,
                  NULL);
    weft_pool_close(pool);
    weft_pool_join(pool, WEFT_FOREVER);
    print_list("Concurrent (threads)", threaded, weft_monotonic() - t0);
    weft_pool_free(pool);
    return 0;
}
