/* SPDX-License-Identifier: MIT */
/* multiprocessing.Pool: the pool layer's Pool over a process pool. */
#include "procpool_int.h"

int weft_process_pool_pool_new(weft_pool_t **out, unsigned processes,
                               unsigned maxtasksperchild)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "process_pool_pool_new: NULL out");
    weft_process_pool_opts_t o = {0};
    o.max_workers = processes;
    o.max_tasks_per_child = maxtasksperchild;
    weft_executor_t *ex;
    int rc = weft_process_pool_new(&ex, &o);
    if (rc)
        return rc;
    rc = weft_pool_new(out, ex, 1);
    if (rc)
        weft_executor_free(ex);
    return rc;
}
