/* SPDX-License-Identifier: MIT */
/* Inside the pool layer only. */
#ifndef WEFT_POOL_INT_H
#define WEFT_POOL_INT_H

#include "weft/park.h"
#include "weft/pool.h"
#include "weft/sync.h"

/* Submit fn(arg) through the pool's executor, tracked until done. then,
 * if not NULL, becomes the future's first done callback, so that whatever
 * it settles is settled before join() can return.
 * Errors: WEFT_ESTATE when the pool is not running, the executor's. */
int weft__pool_submit(weft_pool_t *p, weft_fn fn, void *arg,
                      weft_future_callback then, void *then_arg,
                      weft_future_t **out);

/* The same for a task over the len bytes at arg (copied). */
int weft__pool_submit_bytes(weft_pool_t *p, weft_bytes_fn fn, const void *arg,
                            size_t len, weft_future_callback then,
                            void *then_arg, weft_future_t **out);

/* The CPUs this process may run on (at least 1). */
unsigned weft__cpu_count(void);

#endif
