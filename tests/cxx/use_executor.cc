/* SPDX-License-Identifier: MIT */
#include "weft/executor.h"

#include "check.h"

int main()
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t opts = weft_thread_pool_opts_t();
    opts.max_workers = 2;
    CHECK(weft_thread_pool_new(&ex, &opts) == 0);
    weft_future_t *f;
    long n = 20;
    CHECK(weft_executor_submit(ex, [](void *arg, void **result) -> int {
              long *p = static_cast<long *>(arg);
              *p += 1;
              *result = p;
              return 0;
          }, &n, &f) == 0);
    void *result;
    CHECK(weft_future_result(f, WEFT_FOREVER, &result) == 0);
    CHECK(result == &n && n == 21);
    weft_future_free(f);
    CHECK(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER) == 0);
    weft_executor_free(ex);
    return 0;
}
