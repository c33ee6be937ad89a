/* SPDX-License-Identifier: MIT */
/* queue: LifoQueue (lifo.c): last in, first out, bounded or growing. */
#include "testing.h"

#include "queue/queue_int.h"

#define ITEM(n) ((void *)(uintptr_t)(n))

static void the_last_item_put_comes_out_first(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_lifo_queue_new(&q, 0), 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
    for (int i = 9999; i >= 0; i--) {
        void *item;
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_ptr_equal(item, ITEM(i));
    }
    assert_true(q->u.locked.cap <= 64); /* memory given back */
    weft_queue_free(q);
}

static void a_bounded_lifo_refuses_the_item_past_maxsize(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_lifo_queue_new(&q, 3), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
    assert_fails_with(weft_queue_put(q, ITEM(3), 0), WEFT_EFULL, "full");
    void *item;
    assert_int_equal(weft_queue_get(q, &item, 0), 0);
    assert_ptr_equal(item, ITEM(2));
    assert_int_equal(weft_queue_put(q, ITEM(4), 0), 0);
    assert_int_equal(weft_queue_get(q, &item, 0), 0);
    assert_ptr_equal(item, ITEM(4));
    weft_queue_free(q);
}

static void a_lifo_growth_that_finds_no_memory_changes_nothing(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_lifo_queue_new(&q, 0), 0);
    weft__queue_fail_alloc(1);
    assert_fails_with(weft_queue_put(q, ITEM(1), 0), WEFT_ENOMEM, "no memory");
    assert_int_equal(weft_queue_qsize(q), 0);
    assert_int_equal(weft_queue_put(q, ITEM(2), 0), 0);
    void *item;
    assert_int_equal(weft_queue_get(q, &item, 0), 0);
    assert_ptr_equal(item, ITEM(2));
    weft_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_last_item_put_comes_out_first),
        cmocka_unit_test(a_bounded_lifo_refuses_the_item_past_maxsize),
        cmocka_unit_test(a_lifo_growth_that_finds_no_memory_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
