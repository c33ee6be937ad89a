/* SPDX-License-Identifier: MIT */
/* executor: the inline executor, and futures of every kind mixed. */
#include "testing.h"

static int record(void *arg, void **result)
{
    int *order = arg;
    *result = (void *)(intptr_t)(*order)++;
    return 0;
}

static void tasks_run_at_submit_in_order(void **state)
{
    weft_executor_t *ex;
    assert_int_equal(weft_inline_executor_new(&ex), 0);
    assert_string_equal(weft_executor_kind(ex), "inline");
    int order = 0;
    weft_future_t *f[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(weft_executor_submit(ex, record, &order, &f[i]), 0);
        assert_true(weft_future_done(f[i]));
        void *r;
        weft_future_result(f[i], 0, &r);
        assert_int_equal((intptr_t)r, i);
        weft_future_free(f[i]);
    }
    weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER);
    assert_fails_with(weft_executor_submit(ex, record, &order, &f[0]),
                      WEFT_ESHUTDOWN, NULL);
    weft_executor_free(ex);
}

static int twice(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg * 2);
    return 0;
}

static void wait_and_as_completed_mix_backends(void **state)
{
    weft_executor_t *inl, *pool;
    weft_inline_executor_new(&inl);
    weft_thread_pool_new(&pool, NULL);
    weft_future_t *fs[3];
    weft_executor_submit(inl, twice, (void *)1, &fs[0]);
    weft_executor_submit(pool, twice, (void *)2, &fs[1]);
    weft_future_new(&fs[2]);
    weft_future_set_result(fs[2], (void *)6);
    size_t nd = 0;
    assert_int_equal(weft_wait(fs, 3, 5.0, WEFT_ALL_COMPLETED, NULL, &nd, NULL,
                               NULL),
                     0);
    assert_int_equal(nd, 3);
    intptr_t sum = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        weft_future_result(fs[i], 0, &r);
        sum += (intptr_t)r;
        weft_future_free(fs[i]);
    }
    assert_int_equal(sum, 12);
    weft_executor_free(pool);
    weft_executor_free(inl);
}

static int refuse_shutdown(void *impl, int wait, int cancel, int64_t dl)
{
    return 0;
}

static void forget(void *impl)
{
}

static const weft_executor_class_t mine = {"mine", NULL, NULL,
                                           refuse_shutdown, forget, NULL};
static const weft_executor_class_t other = {"other", NULL, NULL,
                                            refuse_shutdown, forget, NULL};

static void a_backend_finds_its_own_state_and_no_one_elses(void **state)
{
    int impl = 0;
    weft_executor_t *ex;
    assert_int_equal(weft_executor_new(&ex, &mine, &impl), 0);
    assert_ptr_equal(weft_executor_impl(ex, &mine), &impl);
    assert_null(weft_executor_impl(ex, &other));
    assert_null(weft_executor_impl(NULL, &mine));
    assert_string_equal(weft_executor_kind(ex), "mine");
    weft_future_t *f = NULL;
    assert_fails_with(weft_executor_submit(ex, record, &impl, &f),
                      WEFT_ENOTSUP, "submit_bytes");
    weft_executor_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tasks_run_at_submit_in_order),
        cmocka_unit_test(wait_and_as_completed_mix_backends),
        cmocka_unit_test(a_backend_finds_its_own_state_and_no_one_elses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
