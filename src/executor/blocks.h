/* SPDX-License-Identifier: MIT */
/* Memory for the thread pool's tasks: one block size, recycled across
 * threads without malloc in the steady state. Inside the executor layer
 * only. Every block has the same size (the caller's, always the same). */
#ifndef WEFT_EXECUTOR_BLOCKS_H
#define WEFT_EXECUTOR_BLOCKS_H

#include <stddef.h>

void *weft__block_alloc(size_t size);
void weft__block_free(void *p);

#endif
