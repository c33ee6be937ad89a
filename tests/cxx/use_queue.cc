/* SPDX-License-Identifier: MIT */
#include "weft/queue.h"

#include "check.h"

int main()
{
    weft_queue_t *q;
    int a = 1, b = 2;
    CHECK(weft_lifo_queue_new(&q, 2) == 0);
    CHECK(weft_queue_put(q, &a, WEFT_FOREVER) == 0);
    CHECK(weft_queue_put(q, &b, WEFT_FOREVER) == 0);
    CHECK(weft_queue_put_nowait(q, &a) == WEFT_EFULL);
    void *item;
    CHECK(weft_queue_get(q, &item, 0) == 0 && item == &b);
    CHECK(weft_queue_qsize(q) == 1);
    weft_queue_free(q);
    return 0;
}
