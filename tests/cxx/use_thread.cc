/* SPDX-License-Identifier: MIT */
#include "weft/thread.h"

#include "check.h"

int main()
{
    weft_thread_t *t;
    int ran = 0;
    CHECK(weft_thread_new(&t, [](void *arg, void **result) -> int {
              *static_cast<int *>(arg) = 1;
              *result = arg;
              return 0;
          }, &ran, NULL) == 0);
    CHECK(weft_thread_start(t) == 0);
    CHECK(weft_thread_join(t, WEFT_FOREVER) == 0);
    CHECK(ran == 1 && !weft_thread_is_alive(t));
    weft_thread_free(t);
    CHECK(weft_get_ident() != 0);
    return 0;
}
