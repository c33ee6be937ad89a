/* SPDX-License-Identifier: MIT */
#include "weft/coro.h"

#include "check.h"

namespace {
int child(void *arg, void **result)
{
    *result = arg;
    return weft_task_is_task(weft_task_current()) ? 0 : WEFT_ESTATE;
}

int parent(void *arg, void **result)
{
    weft_future_t *t;
    int rc = weft_task_create(&t, NULL, child, arg);
    if (rc)
        return rc;
    rc = weft_future_result(t, WEFT_FOREVER, result);
    weft_future_free(t);
    return rc;
}
} // namespace

int main()
{
    int token = 5;
    void *result = NULL;
    CHECK(weft_run(parent, &token, &result) == 0);
    CHECK(result == &token);
    return 0;
}
