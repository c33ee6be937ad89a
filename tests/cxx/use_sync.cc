/* SPDX-License-Identifier: MIT */
#include "weft/sync.h"

#include "check.h"

static weft_lock_t global_lock = WEFT_LOCK_INIT;

int main()
{
    CHECK(weft_lock_acquire(&global_lock, WEFT_FOREVER) == 0);
    CHECK(weft_lock_locked(&global_lock));
    CHECK(weft_lock_release(&global_lock) == 0);

    weft_rlock_t r;
    CHECK(weft_rlock_init(&r) == 0);
    CHECK(weft_rlock_acquire(&r, 0) == 0 && weft_rlock_acquire(&r, 0) == 0);
    CHECK(weft_rlock_count(&r) == 2);
    CHECK(weft_rlock_release(&r) == 0 && weft_rlock_release(&r) == 0);
    CHECK(weft_rlock_destroy(&r) == 0);

    weft_condition_t *c;
    CHECK(weft_condition_new(&c) == 0);
    CHECK(weft_condition_acquire(c, WEFT_FOREVER) == 0);
    CHECK(weft_condition_wait(c, 0.01) == WEFT_ETIMEDOUT);
    CHECK(weft_condition_notify_all(c) == 0);
    CHECK(weft_condition_release(c) == 0);
    weft_condition_free(c);

    weft_semaphore_t s;
    CHECK(weft_bounded_semaphore_init(&s, 1) == 0);
    CHECK(weft_semaphore_acquire(&s, 0) == 0);
    CHECK(weft_semaphore_acquire(&s, 0) == WEFT_ETIMEDOUT);
    CHECK(weft_semaphore_release(&s, 1) == 0);
    CHECK(weft_semaphore_release(&s, 1) == WEFT_EINVAL);
    CHECK(weft_semaphore_destroy(&s) == 0);

    weft_event_t e;
    CHECK(weft_event_init(&e) == 0);
    weft_event_set(&e);
    CHECK(weft_event_wait(&e, 0) == 0);
    CHECK(weft_event_destroy(&e) == 0);

    weft_barrier_t b;
    CHECK(weft_barrier_init(&b, 1, NULL, NULL, WEFT_FOREVER) == 0);
    unsigned index = 7;
    CHECK(weft_barrier_wait(&b, &index) == 0 && index == 0);
    CHECK(weft_barrier_destroy(&b) == 0);
    return 0;
}
