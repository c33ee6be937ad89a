/* SPDX-License-Identifier: MIT */
#include "weft.h"

#include "check.h"

/* Everything at once: a lock, a queue and a future from one header. */
int main()
{
    weft_lock_t lock = WEFT_LOCK_INIT;
    CHECK(weft_lock_acquire(&lock, 0) == 0);
    weft_queue_t *q;
    CHECK(weft_queue_new(&q, 0) == 0);
    weft_future_t *f;
    CHECK(weft_future_new(&f) == 0);
    CHECK(weft_queue_put(q, f, 0) == 0);
    void *item = NULL;
    CHECK(weft_queue_get(q, &item, 0) == 0 && item == f);
    CHECK(weft_future_cancel(f) == 0 && weft_future_cancelled(f));
    weft_future_free(f);
    weft_queue_free(q);
    CHECK(weft_lock_release(&lock) == 0);
    return 0;
}
