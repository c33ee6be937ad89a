/* SPDX-License-Identifier: MIT */
/* queue: PriorityQueue (priority.c): lowest first by the comparator, equal
 * items in put order, the comparator's context passed through. */
#include "testing.h"

#include <stdlib.h>

#include "queue/queue_int.h"

#define ITEM(n) ((void *)(uintptr_t)(n))

static int by_value(const void *a, const void *b, void *ctx)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return (x > y) - (x < y);
}

static void the_lowest_item_comes_out_first(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_priority_queue_new(&q, 0, by_value, NULL), 0);
    srand(7);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(weft_queue_put(q, ITEM(1 + rand() % 1000), 0), 0);
    uintptr_t last = 0;
    for (int i = 0; i < 5000; i++) {
        void *item;
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_true((uintptr_t)item >= last);
        last = (uintptr_t)item;
    }
    assert_true(q->u.locked.cap <= 64);
    weft_queue_free(q);
}

/* Items are (priority, tag) pairs; the comparator looks at priority only,
 * through the context, which says how many bits the tag takes. */
static int by_priority(const void *a, const void *b, void *ctx)
{
    unsigned shift = *(const unsigned *)ctx;
    uintptr_t x = (uintptr_t)a >> shift, y = (uintptr_t)b >> shift;
    return (x > y) - (x < y);
}

static void equal_items_come_out_in_put_order(void **state)
{
    unsigned shift = 16;
    weft_queue_t *q;
    assert_int_equal(weft_priority_queue_new(&q, 0, by_priority, &shift), 0);
    /* Three priorities, interleaved, each tagged with its put number. */
    for (uintptr_t tag = 0; tag < 300; tag++) {
        uintptr_t priority = (tag * 7) % 3;
        assert_int_equal(weft_queue_put(q, ITEM(priority << 16 | tag), 0), 0);
    }
    uintptr_t last = 0;
    for (int i = 0; i < 300; i++) {
        void *item;
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_true((uintptr_t)item > last || i == 0);
        last = (uintptr_t)item;
    }
    weft_queue_free(q);
}

static void a_bounded_priority_queue_refuses_the_item_past_maxsize(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_priority_queue_new(&q, 2, by_value, NULL), 0);
    assert_int_equal(weft_queue_put(q, ITEM(5), 0), 0);
    assert_int_equal(weft_queue_put(q, ITEM(3), 0), 0);
    assert_fails_with(weft_queue_put(q, ITEM(1), 0), WEFT_EFULL, "full");
    void *item;
    assert_int_equal(weft_queue_get(q, &item, 0), 0);
    assert_ptr_equal(item, ITEM(3));
    weft_queue_free(q);
}

static void a_heap_growth_that_finds_no_memory_changes_nothing(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_priority_queue_new(&q, 0, by_value, NULL), 0);
    weft__queue_fail_alloc(1);
    assert_fails_with(weft_queue_put(q, ITEM(1), 0), WEFT_ENOMEM, "no memory");
    assert_int_equal(weft_queue_qsize(q), 0);
    assert_int_equal(weft_queue_put(q, ITEM(2), 0), 0);
    assert_int_equal(weft_queue_qsize(q), 1);
    weft_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_lowest_item_comes_out_first),
        cmocka_unit_test(equal_items_come_out_in_put_order),
        cmocka_unit_test(
            a_bounded_priority_queue_refuses_the_item_past_maxsize),
        cmocka_unit_test(a_heap_growth_that_finds_no_memory_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
