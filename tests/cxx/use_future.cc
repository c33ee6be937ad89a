/* SPDX-License-Identifier: MIT */
#include "weft/future.h"

#include "check.h"

int main()
{
    weft_future_t *f;
    int value = 42, called = 0;
    CHECK(weft_future_new(&f) == 0);
    CHECK(weft_future_add_done_callback(f, [](weft_future_t *, void *arg) -> int {
              ++*static_cast<int *>(arg);
              return 0;
          }, &called) == 0);
    CHECK(weft_future_set_running_or_notify_cancel(f) == 0);
    CHECK(weft_future_stop_word(f) != NULL);
    CHECK(weft_future_set_result(f, &value) == 0);
    void *result = NULL;
    CHECK(weft_future_result(f, WEFT_FOREVER, &result) == 0);
    CHECK(result == &value && called == 1 && weft_future_done(f));
    weft_future_free(f);
    return 0;
}
