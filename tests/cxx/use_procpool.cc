/* SPDX-License-Identifier: MIT */
#include "weft/procpool.h"

#include "check.h"

int main()
{
    weft_process_pool_opts_t opts = weft_process_pool_opts_t();
    opts.max_workers = 1;
    opts.start_method = "fork";
    weft_executor_t *ex;
    CHECK(weft_process_pool_new(&ex, &opts) == 0);
    CHECK(weft_executor_max_workers(ex) == 1);
    int pids[4];
    CHECK(weft_process_pool_pids(ex, pids, 4) <= 1);
    CHECK(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER) == 0);
    weft_executor_free(ex);
    return 0;
}
