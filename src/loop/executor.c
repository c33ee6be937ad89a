/* SPDX-License-Identifier: MIT */
/* run_in_executor: blocking work handed to an executor, whose future the
 * loop (or a task on it) waits on like any other. */
#include "loop_int.h"

int weft_loop_run_in_executor(weft_loop_t *loop, weft_executor_t *ex,
                              weft_fn fn, void *arg, weft_future_t **out)
{
    if (loop == NULL || fn == NULL || out == NULL)
        return weft_fail(WEFT_EINVAL, "run_in_executor: NULL argument");
    if (ex == NULL) {
        if (loop->executor == NULL) {
            weft_thread_pool_opts_t opts = {0};
            opts.thread_name_prefix = "asyncio";
            int rc = weft_thread_pool_new(&loop->executor, &opts);
            if (rc)
                return rc;
        }
        ex = loop->executor;
    }
    return weft_executor_submit(ex, fn, arg, out);
}
