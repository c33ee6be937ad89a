/* SPDX-License-Identifier: MIT */
/* queue: the ring (ring.c), the bounded FIFO behind queue.Queue(maxsize):
 * order across many laps, exact sizes, capacities that are not powers of
 * two, and where the ring stops and the growing FIFO takes over. */
#include "testing.h"

#include "queue/queue_int.h"

#define ITEM(n) ((void *)(uintptr_t)(n))

static void items_come_out_in_put_order_across_many_laps(void **state)
{
    for (size_t cap = 1; cap <= 9; cap++) {
        weft_queue_t *q;
        assert_int_equal(weft_queue_new(&q, cap), 0);
        uintptr_t next_in = 1, next_out = 1;
        for (int round = 0; round < 500; round++) {
            /* Fill part way, then take part of it: the cells wrap around
             * at every offset. */
            size_t fill = 1 + (size_t)round % cap;
            while (weft_queue_qsize(q) < fill)
                assert_int_equal(weft_queue_put(q, ITEM(next_in++), 0), 0);
            size_t take = 1 + (size_t)round % fill;
            for (size_t k = 0; k < take; k++) {
                void *item;
                assert_int_equal(weft_queue_get(q, &item, 0), 0);
                assert_ptr_equal(item, ITEM(next_out++));
            }
            assert_int_equal(weft_queue_qsize(q), next_in - next_out);
        }
        weft_queue_free(q);
    }
}

static void a_full_ring_holds_exactly_maxsize_items(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 1000), 0);
    for (int lap = 0; lap < 3; lap++) {
        for (int i = 0; i < 1000; i++)
            assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
        assert_true(weft_queue_full(q));
        assert_int_equal(weft_queue_qsize(q), 1000);
        assert_fails_with(weft_queue_put(q, ITEM(0), 0), WEFT_EFULL, "full");
        for (int i = 0; i < 1000; i++) {
            void *item;
            assert_int_equal(weft_queue_get(q, &item, 0), 0);
            assert_ptr_equal(item, ITEM(i));
        }
        assert_true(weft_queue_empty(q));
    }
    weft_queue_free(q);
}

static void task_counting_follows_the_ring_across_laps(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 3), 0);
    for (int i = 0; i < 100; i++) {
        void *item;
        assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
        assert_fails_with(weft_queue_join(q, 0), WEFT_ETIMEDOUT,
                          "1 tasks unfinished");
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_int_equal(weft_queue_task_done(q), 0);
        assert_int_equal(weft_queue_join(q, 0), 0);
    }
    weft_queue_free(q);
}

static void a_maxsize_above_the_ring_limit_still_bounds_the_queue(void **state)
{
    weft_queue_t *small, *large;
    assert_int_equal(weft_queue_new(&small, RING_MAX_CELLS), 0);
    assert_int_equal(weft_queue_new(&large, RING_MAX_CELLS + 1), 0);
    assert_ptr_not_equal(small->kind, large->kind);
    for (size_t i = 0; i <= RING_MAX_CELLS; i++)
        assert_int_equal(weft_queue_put(large, ITEM(i), 0), 0);
    assert_true(weft_queue_full(large));
    assert_fails_with(weft_queue_put(large, ITEM(0), 0), WEFT_EFULL, "full");
    void *item;
    assert_int_equal(weft_queue_get(large, &item, 0), 0);
    assert_ptr_equal(item, ITEM(0));
    weft_queue_free(small);
    weft_queue_free(large);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(items_come_out_in_put_order_across_many_laps),
        cmocka_unit_test(a_full_ring_holds_exactly_maxsize_items),
        cmocka_unit_test(task_counting_follows_the_ring_across_laps),
        cmocka_unit_test(a_maxsize_above_the_ring_limit_still_bounds_the_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
