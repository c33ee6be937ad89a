/* SPDX-License-Identifier: MIT */
/* queue: the growing FIFO (fifo.c) behind an unbounded queue.Queue and
 * SimpleQueue: order while it grows and shrinks, and a growth that finds
 * no memory. */
#include "testing.h"

#include "queue/queue_int.h"

#define ITEM(n) ((void *)(uintptr_t)(n))

static void an_unbounded_queue_grows_and_shrinks_keeping_order(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 0), 0);
    uintptr_t in = 0, out = 0;
    for (int wave = 0; wave < 3; wave++) {
        /* Interleaved, so that the oldest item sits mid-array as it grows. */
        for (int i = 0; i < 20000; i++) {
            assert_int_equal(weft_queue_put(q, ITEM(in++), 0), 0);
            if (i % 3 == 0) {
                void *item;
                assert_int_equal(weft_queue_get(q, &item, 0), 0);
                assert_ptr_equal(item, ITEM(out++));
            }
        }
        assert_int_equal(weft_queue_qsize(q), in - out);
        size_t grown = q->u.locked.cap;
        assert_true(grown >= in - out);
        while (out < in) {
            void *item;
            assert_int_equal(weft_queue_get(q, &item, 0), 0);
            assert_ptr_equal(item, ITEM(out++));
        }
        assert_true(q->u.locked.cap < grown / 64); /* memory given back */
    }
    weft_queue_free(q);
}

static void
a_growth_that_finds_no_memory_fails_and_changes_nothing(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 0), 0);
    weft__queue_fail_alloc(1); /* the first array */
    assert_fails_with(weft_queue_put(q, ITEM(1), WEFT_FOREVER), WEFT_ENOMEM,
                      "no memory");
    assert_int_equal(weft_queue_qsize(q), 0);
    assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL, "too many");
    size_t n = 0;
    while (q->u.locked.len < q->u.locked.cap || n == 0)
        assert_int_equal(weft_queue_put(q, ITEM(n++), 0), 0);
    weft__queue_fail_alloc(1); /* doubling the full array */
    assert_fails_with(weft_queue_put(q, ITEM(n), 0), WEFT_ENOMEM, "no memory");
    weft__queue_fail_alloc(0);
    assert_int_equal(weft_queue_qsize(q), n);
    assert_int_equal(weft_queue_put(q, ITEM(n), 0), 0);
    for (size_t i = 0; i <= n; i++) {
        void *item;
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_ptr_equal(item, ITEM(i));
    }
    weft_queue_free(q);
}

static void a_simple_queue_is_an_unbounded_fifo_without_tasks(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_simple_queue_new(&q), 0);
    assert_int_equal(weft_queue_maxsize(q), 0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
    assert_false(weft_queue_full(q));
    assert_int_equal(weft_queue_qsize(q), 5000);
    for (int i = 0; i < 5000; i++) {
        void *item;
        assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
        assert_ptr_equal(item, ITEM(i));
    }
    assert_fails_with(weft_queue_task_done(q), WEFT_ENOTSUP, "SimpleQueue");
    assert_fails_with(weft_queue_join(q, 0), WEFT_ENOTSUP, "SimpleQueue");
    void *item;
    assert_fails_with(weft_queue_get(q, &item, 0), WEFT_EEMPTY, "empty");
    weft_queue_free(q);
}

static void a_simple_queue_can_still_be_shut_down(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_simple_queue_new(&q), 0);
    weft_queue_put(q, ITEM(1), 0);
    assert_int_equal(weft_queue_shutdown(q, 0), 0);
    assert_fails_with(weft_queue_put(q, ITEM(2), 0), WEFT_ESHUTDOWN,
                      "shut down");
    void *item;
    assert_int_equal(weft_queue_get(q, &item, 0), 0);
    assert_fails_with(weft_queue_get(q, &item, 0), WEFT_ESHUTDOWN, "shut down");
    weft_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_unbounded_queue_grows_and_shrinks_keeping_order),
        cmocka_unit_test(
            a_growth_that_finds_no_memory_fails_and_changes_nothing),
        cmocka_unit_test(a_simple_queue_is_an_unbounded_fifo_without_tasks),
        cmocka_unit_test(a_simple_queue_can_still_be_shut_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
