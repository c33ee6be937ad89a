/* SPDX-License-Identifier: MIT */
#include "weft/pool.h"

#include "check.h"

int main()
{
    weft_pool_t *p;
    CHECK(weft_thread_pool_pool_new(&p, 2) == 0);
    long n = 1;
    void *result = NULL;
    CHECK(weft_pool_apply(p, [](void *arg, void **res) -> int {
              *static_cast<long *>(arg) *= 6;
              *res = arg;
              return 0;
          }, &n, &result) == 0);
    CHECK(result == &n && n == 6);
    CHECK(weft_pool_close(p) == 0 && weft_pool_join(p, WEFT_FOREVER) == 0);
    weft_pool_free(p);
    return 0;
}
