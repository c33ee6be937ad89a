/* executor: map, in order and as completed, chunked, bounded, endless. */
#include "testing.h"

#include <stdlib.h>

static int square(void *arg, void **result)
{
    intptr_t x = (intptr_t)arg;
    *result = (void *)(x * x);
    return 0;
}

static weft_executor_t *pool_of(unsigned workers)
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t o = {workers, NULL, NULL, NULL};
    assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
    return ex;
}

static void **range(size_t n)
{
    void **args = malloc(n * sizeof *args);
    for (size_t i = 0; i < n; i++)
        args[i] = (void *)(intptr_t)i;
    return args;
}

static void map_returns_results_in_input_order(void **state)
{
    weft_executor_t *ex = pool_of(4);
    for (size_t chunk = 1; chunk <= 7; chunk += 3) {
        void **args = range(1000);
        weft_map_opts_t o = {0, chunk, 0, 0};
        weft_map_t *m;
        assert_int_equal(weft_executor_map(&m, ex, square, args, 1000, &o), 0);
        void *r;
        size_t idx, count = 0;
        while (weft_map_next(m, &r, &idx) == 0) {
            assert_int_equal(idx, count);
            assert_int_equal((intptr_t)r, (intptr_t)(count * count));
            count++;
        }
        assert_int_equal(count, 1000);
        assert_fails_with(weft_map_next(m, &r, NULL), WEFT_EEOF, NULL);
        weft_map_free(m);
        free(args);
    }
    weft_executor_free(ex);
}

static int fail_on_three(void *arg, void **result)
{
    if ((intptr_t)arg == 3)
        return weft_fail(WEFT_EUSER, "An error occurred with input 3");
    *result = arg;
    return 0;
}

static void a_failing_item_fails_at_its_position_and_the_rest_go_on(
    void **state)
{
    weft_executor_t *ex = pool_of(2);
    void **args = range(6);
    weft_map_opts_t o = {0, 2, 0, 0};
    weft_map_t *m;
    assert_int_equal(weft_executor_map(&m, ex, fail_on_three, args, 6, &o), 0);
    for (intptr_t i = 0; i < 6; i++) {
        void *r;
        size_t idx;
        int rc = weft_map_next(m, &r, &idx);
        assert_int_equal(idx, (size_t)i);
        if (i == 3) {
            assert_int_equal(rc, WEFT_EUSER);
            assert_string_equal(weft_last_message(),
                                "An error occurred with input 3");
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal((intptr_t)r, i);
        }
    }
    assert_int_equal(weft_map_next(m, NULL, NULL), WEFT_EEOF);
    weft_map_free(m);
    free(args);
    weft_executor_free(ex);
}

static void unordered_map_yields_every_item_once(void **state)
{
    weft_executor_t *ex = pool_of(3);
    void **args = range(500);
    weft_map_opts_t o = {0, 3, 0, 1};
    weft_map_t *m;
    assert_int_equal(weft_executor_map(&m, ex, square, args, 500, &o), 0);
    char seen[500] = {0};
    void *r;
    size_t idx, count = 0;
    while (weft_map_next(m, &r, &idx) == 0) {
        assert_int_equal((intptr_t)r, (intptr_t)(idx * idx));
        assert_int_equal(seen[idx], 0);
        seen[idx] = 1;
        count++;
    }
    assert_int_equal(count, 500);
    weft_map_free(m);
    free(args);
    weft_executor_free(ex);
}

/* An endless input: map must keep a bounded number in flight. */
struct endless {
    intptr_t next;
    _Atomic int running, max_running;
};

static int counting_square(void *arg, void **result)
{
    return square(arg, result);
}

static int next_number(void *ctx, void **arg)
{
    struct endless *e = ctx;
    *arg = (void *)e->next++;
    return 0;
}

static void an_endless_input_works_with_bounded_buffering(void **state)
{
    weft_executor_t *ex = pool_of(2);
    struct endless e = {0, 0, 0};
    weft_map_opts_t o = {0, 4, 3, 0};
    weft_map_t *m;
    assert_int_equal(
        weft_executor_map_source(&m, ex, counting_square, next_number, &e, &o),
        0);
    for (intptr_t i = 0; i < 1000; i++) {
        void *r;
        assert_int_equal(weft_map_next(m, &r, NULL), 0);
        assert_int_equal((intptr_t)r, i * i);
        /* Taken from the input: what was yielded plus at most the buffer. */
        assert_true(e.next <= i + 1 + 3 * 4 + 4);
    }
    weft_map_free(m);
    weft_executor_free(ex);
}

static int slow(void *arg, void **result)
{
    return weft_sleep(0.5);
}

static void the_map_timeout_counts_from_the_call(void **state)
{
    weft_executor_t *ex = pool_of(1);
    void **args = range(4);
    weft_map_opts_t o = {0.2, 1, 0, 0};
    weft_map_t *m;
    double t0 = weft_monotonic();
    assert_int_equal(weft_executor_map(&m, ex, slow, args, 4, &o), 0);
    assert_fails_with(weft_map_next(m, NULL, NULL), WEFT_ETIMEDOUT, NULL);
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    weft_map_free(m); /* cancels the rest; the running one finishes */
    free(args);
    weft_executor_free(ex);
}

static int upper(const weft_bytes_t *arg, weft_bytes_t *result)
{
    int rc = weft_bytes_copy(result, arg->data, arg->len);
    for (size_t i = 0; rc == 0 && i < result->len; i++)
        result->data[i] = (unsigned char)(result->data[i] - 32);
    return rc;
}

static void a_byte_map_runs_byte_tasks(void **state)
{
    weft_executor_t *ex = pool_of(2);
    weft_bytes_t in[3] = {{(unsigned char *)"ab", 2},
                          {(unsigned char *)"cd", 2},
                          {(unsigned char *)"ef", 2}};
    weft_map_t *m;
    assert_int_equal(weft_executor_map_bytes(&m, ex, upper, in, 3, NULL), 0);
    const char *want[3] = {"AB", "CD", "EF"};
    for (int i = 0; i < 3; i++) {
        const weft_bytes_t *r;
        assert_int_equal(weft_map_next_bytes(m, &r, NULL), 0);
        assert_memory_equal(r->data, want[i], 2);
    }
    assert_fails_with(weft_map_next(m, NULL, NULL), WEFT_EINVAL, "byte map");
    weft_map_free(m);
    weft_executor_free(ex);
}

static void map_refuses_bad_arguments(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_map_t *m;
    assert_fails_with(weft_executor_map(&m, ex, NULL, NULL, 0, NULL),
                      WEFT_EINVAL, "function");
    assert_fails_with(weft_executor_map(&m, ex, square, NULL, 3, NULL),
                      WEFT_EINVAL, "args");
    weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER);
    void *args[1] = {0};
    assert_fails_with(weft_executor_map(&m, ex, square, args, 1, NULL),
                      WEFT_ESHUTDOWN, NULL);
    weft_executor_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_returns_results_in_input_order),
        cmocka_unit_test(
            a_failing_item_fails_at_its_position_and_the_rest_go_on),
        cmocka_unit_test(unordered_map_yields_every_item_once),
        cmocka_unit_test(an_endless_input_works_with_bounded_buffering),
        cmocka_unit_test(the_map_timeout_counts_from_the_call),
        cmocka_unit_test(a_byte_map_runs_byte_tasks),
        cmocka_unit_test(map_refuses_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
