/* SPDX-License-Identifier: MIT */
/* queue: locked storage (locked.c): waiting for the queue's own lock is
 * not a wait that a cancelled scope ends. */
#include "testing.h"

#include <stdlib.h>

#include "queue/queue_int.h"
#include "sync/sync_int.h"

#define ITEM(n) ((void *)(uintptr_t)(n))

struct putter {
    weft_queue_t *q;
    _Atomic int started;
    int rc;
};

static void put_in_a_cancelled_scope(void *arg)
{
    struct putter *p = arg;
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    weft_cancel_scope_cancel(&s);
    weft_cancel_scope_enter(&s, WEFT_FOREVER, 0);
    atomic_store(&p->started, 1);
    p->rc = weft_queue_put(p->q, ITEM(1), WEFT_FOREVER);
    weft_cancel_scope_exit(&s);
}

static void a_put_waiting_for_the_queue_lock_is_not_cancelled(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_lifo_queue_new(&q, 0), 0);
    weft_lock_t *lock = &q->u.locked.lock;
    assert_int_equal(weft_lock_acquire(lock, 0), 0);
    struct putter p = {q, 0, -1};
    testing_thread_t *t = testing_thread_start(put_in_a_cancelled_scope, &p);
    /* Poll until the putter waits for the lock: the lock then says that
     * someone is parked on it (its second bit). */
    while (!(atomic_load(&weft__lock(lock)->word_) & 2u))
        weft_sleep(0.001);
    weft_lock_release(lock);
    testing_thread_join(t);
    assert_int_equal(p.rc, 0);
    assert_int_equal(weft_queue_qsize(q), 1);
    weft_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_put_waiting_for_the_queue_lock_is_not_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
