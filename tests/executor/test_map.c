/* SPDX-License-Identifier: MIT */
/* executor: map, in order and as completed, chunked, bounded, endless. */
#include "testing.h"

#include <math.h>
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
        weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
        o.chunksize = chunk;
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
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = 2;
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
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = 3;
    o.unordered = 1;
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
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = 4;
    o.buffersize = 3;
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
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.timeout = 0.2;
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

static weft_event_t release_items;

/* Held until released (or, so that a map that waits for it cannot hang the
 * test, for five seconds). */
static int held_item(void *arg, void **result)
{
    weft_event_wait(&release_items, 5.0 * testing_scale());
    *result = arg;
    return 0;
}

/* Python's map(timeout=0): nothing is waited for; a result not ready when
 * asked for is WEFT_ETIMEDOUT, and one that is ready is given. */
static void a_zero_timeout_polls_instead_of_waiting(void **state)
{
    for (int unordered = 0; unordered < 2; unordered++) {
        weft_event_init(&release_items);
        weft_executor_t *ex = pool_of(2);
        void **args = range(4);
        weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
        o.timeout = 0;
        o.unordered = unordered;
        weft_map_t *m;
        assert_int_equal(weft_executor_map(&m, ex, held_item, args, 4, &o), 0);
        /* The items are held: the first result is not ready. */
        assert_fails_with(weft_map_next(m, NULL, NULL), WEFT_ETIMEDOUT,
                          "timed out");
        weft_event_set(&release_items);
        size_t got = 0, index;
        void *r;
        for (int polls = 0; got < 4 && polls < 10000; polls++) {
            int rc = weft_map_next(m, &r, &index);
            if (rc == WEFT_ETIMEDOUT) {
                weft_sleep(0.001);
                continue;
            }
            assert_int_equal(rc, 0);
            assert_int_equal((intptr_t)r, (intptr_t)index);
            if (!unordered)
                assert_int_equal(index, got);
            got++;
        }
        assert_int_equal(got, 4);
        assert_fails_with(weft_map_next(m, NULL, NULL), WEFT_EEOF, NULL);
        weft_map_free(m);
        free(args);
        weft_executor_free(ex);
    }
}

/* Results that are ready at once come with a zero timeout too. */
static void a_zero_timeout_gives_what_is_ready(void **state)
{
    weft_executor_t *ex;
    assert_int_equal(weft_inline_executor_new(&ex), 0);
    void **args = range(10);
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.timeout = 0;
    weft_map_t *m;
    assert_int_equal(weft_executor_map(&m, ex, square, args, 10, &o), 0);
    void *r;
    for (intptr_t i = 0; i < 10; i++) {
        assert_int_equal(weft_map_next(m, &r, NULL), 0);
        assert_int_equal((intptr_t)r, i * i);
    }
    assert_int_equal(weft_map_next(m, &r, NULL), WEFT_EEOF);
    weft_map_free(m);
    free(args);
    weft_executor_free(ex);
}

static int never_called(void *ctx, void **arg)
{
    (*(int *)ctx)++;
    return WEFT_EEOF;
}

/* A bad timeout is refused at the call, before anything else: no input
 * is taken, and even a shut-down executor answers WEFT_EINVAL. */
static void a_bad_timeout_is_refused_first(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER);
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    weft_map_t *m = NULL;
    void *args[1] = {0};
    int calls = 0;
    const double bad[] = {-2.0, -0.5, NAN};
    for (int i = 0; i < 3; i++) {
        o.timeout = bad[i];
        assert_fails_with(weft_executor_map(&m, ex, square, args, 1, &o),
                          WEFT_EINVAL, "bad timeout");
        assert_fails_with(weft_executor_map_source(&m, ex, square, never_called,
                                                   &calls, &o),
                          WEFT_EINVAL, "bad timeout");
        assert_fails_with(weft_executor_map_bytes(&m, ex, upper, NULL, 0, &o),
                          WEFT_EINVAL, "bad timeout");
    }
    assert_int_equal(calls, 0);
    assert_null(m);
    /* The defaults, and WEFT_FOREVER, are fine (then the shutdown says no). */
    assert_fails_with(weft_executor_map(&m, ex, square, args, 1, NULL),
                      WEFT_ESHUTDOWN, NULL);
    o.timeout = WEFT_FOREVER;
    assert_fails_with(weft_executor_map(&m, ex, square, args, 1, &o),
                      WEFT_ESHUTDOWN, NULL);
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
        cmocka_unit_test(a_zero_timeout_polls_instead_of_waiting),
        cmocka_unit_test(a_zero_timeout_gives_what_is_ready),
        cmocka_unit_test(a_bad_timeout_is_refused_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
