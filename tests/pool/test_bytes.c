/* SPDX-License-Identifier: MIT */
/* pool: the calls over byte strings, on the thread pool (the process Pool
 * runs the same calls: tests/procpool/test_pool.c). */
#include "testing.h"

#include <stdlib.h>
#include <string.h>

static int square(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    memcpy(&x, arg->data, sizeof x);
    if (x == 13)
        return weft_fail(WEFT_EUSER, "unlucky %ld", x);
    x *= x;
    return weft_bytes_copy(result, &x, sizeof x);
}

static long long_of(const weft_bytes_t *b)
{
    long v;
    assert_int_equal(b->len, sizeof v);
    memcpy(&v, b->data, sizeof v);
    return v;
}

static weft_pool_t *threads(void)
{
    weft_pool_t *p;
    assert_int_equal(weft_thread_pool_pool_new(&p, 4), 0);
    return p;
}

static weft_bytes_t *range(long *xs, size_t n, long from)
{
    weft_bytes_t *a = calloc(n, sizeof *a);
    for (size_t i = 0; i < n; i++) {
        xs[i] = from + (long)i;
        a[i] = (weft_bytes_t){(unsigned char *)&xs[i], sizeof xs[i]};
    }
    return a;
}

static void map_bytes_gives_new_strings_in_order(void **state)
{
    weft_pool_t *p = threads();
    long xs[10];
    weft_bytes_t *args = range(xs, 10, 1), out[10];
    assert_int_equal(weft_pool_map_bytes(p, square, args, 10, 0, out, NULL),
                     0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(long_of(&out[i]), (i + 1) * (i + 1));
        weft_bytes_free(&out[i]);
    }
    free(args);
    weft_pool_free(p);
}

static void map_bytes_reports_the_first_failing_item(void **state)
{
    weft_pool_t *p = threads();
    long xs[20];
    weft_bytes_t *args = range(xs, 20, 0), out[20];
    size_t failed = 99;
    assert_fails_with(weft_pool_map_bytes(p, square, args, 20, 0, out,
                                          &failed),
                      WEFT_EUSER, "unlucky 13");
    assert_int_equal(failed, 13);
    free(args);
    weft_pool_free(p);
}

static void apply_bytes_and_apply_async_bytes(void **state)
{
    weft_pool_t *p = threads();
    long x = 7;
    weft_bytes_t r = {NULL, 0};
    assert_int_equal(weft_pool_apply_bytes(p, square, &x, sizeof x, &r), 0);
    assert_int_equal(long_of(&r), 49);
    weft_bytes_free(&r);
    weft_async_result_t *a;
    assert_int_equal(weft_pool_apply_async_bytes(&a, p, square, &x, sizeof x,
                                                 NULL, NULL, NULL),
                     0);
    const weft_bytes_t *got;
    assert_int_equal(weft_async_result_get_bytes(a, WEFT_FOREVER, &got), 0);
    assert_int_equal(long_of(got), 49);
    weft_async_result_free(a);
    x = 13;
    assert_int_equal(weft_pool_apply_async_bytes(&a, p, square, &x, sizeof x,
                                                 NULL, NULL, NULL),
                     0);
    assert_fails_with(weft_async_result_get_bytes(a, WEFT_FOREVER, &got),
                      WEFT_EUSER, "unlucky");
    int ok = 1;
    assert_int_equal(weft_async_result_successful(a, &ok), 0);
    assert_false(ok);
    weft_async_result_free(a);
    weft_pool_free(p);
}

static long sum_seen;

static void add_up(void *result, void *ctx)
{
    const weft_bytes_t *rs = result;
    for (size_t i = 0; i < *(size_t *)ctx; i++)
        sum_seen += long_of(&rs[i]);
}

static void map_async_bytes_owns_its_results(void **state)
{
    weft_pool_t *p = threads();
    long xs[12];
    weft_bytes_t *args = range(xs, 12, 0);
    size_t n = 12;
    weft_async_result_t *a;
    assert_int_equal(weft_pool_map_async_bytes(&a, p, square, args, n, 3,
                                               add_up, NULL, &n),
                     0);
    const weft_bytes_t *rs;
    assert_int_equal(weft_async_result_get_bytes(a, WEFT_FOREVER, &rs), 0);
    long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += long_of(&rs[i]);
    assert_int_equal(sum, 506);
    assert_int_equal(sum_seen, 506);
    weft_async_result_free(a);
    /* A pointer call's result is not a byte call's. */
    assert_int_equal(weft_pool_map_async_bytes(&a, p, square, args, 0, 0,
                                               NULL, NULL, NULL),
                     0);
    assert_int_equal(weft_async_result_get_bytes(a, 0, &rs), 0);
    weft_async_result_free(a);
    free(args);
    weft_pool_free(p);
}

static void imap_bytes_in_order_and_unordered(void **state)
{
    weft_pool_t *p = threads();
    long xs[50];
    weft_bytes_t *args = range(xs, 50, 0);
    /* Chunks of 1 and of 8 items (one task each). */
    for (int k = 0; k < 4; k++) {
        int unordered = k & 1;
        size_t chunksize = k < 2 ? 1 : 8;
        weft_map_t *m;
        assert_int_equal(unordered ? weft_pool_imap_unordered_bytes(
                                         &m, p, square, args, 50, chunksize)
                                   : weft_pool_imap_bytes(&m, p, square, args,
                                                          50, chunksize),
                         0);
        const weft_bytes_t *r;
        size_t index, count = 0;
        int rc;
        while ((rc = weft_map_next_bytes(m, &r, &index)) != WEFT_EEOF) {
            if (index == 13)
                assert_fails_with(rc, WEFT_EUSER, "unlucky 13");
            else
                assert_int_equal(long_of(r), (long)(index * index));
            if (!unordered)
                assert_int_equal(index, count);
            count++;
        }
        assert_int_equal(count, 50);
        weft_map_free(m);
    }
    free(args);
    weft_pool_free(p);
}

static void byte_calls_refuse_bad_input_and_closed_pools(void **state)
{
    weft_pool_t *p = threads();
    weft_async_result_t *a;
    assert_fails_with(weft_pool_map_async_bytes(&a, p, NULL, NULL, 0, 0, NULL,
                                                NULL, NULL),
                      WEFT_EINVAL, NULL);
    assert_fails_with(weft_pool_apply_async_bytes(&a, p, square, NULL, 3,
                                                  NULL, NULL, NULL),
                      WEFT_EINVAL, NULL);
    weft_pool_close(p);
    long x = 2;
    weft_bytes_t r;
    assert_fails_with(weft_pool_apply_bytes(p, square, &x, sizeof x, &r),
                      WEFT_ESTATE, "Pool not running");
    assert_int_equal(weft_pool_join(p, WEFT_FOREVER), 0);
    weft_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_bytes_gives_new_strings_in_order),
        cmocka_unit_test(map_bytes_reports_the_first_failing_item),
        cmocka_unit_test(apply_bytes_and_apply_async_bytes),
        cmocka_unit_test(map_async_bytes_owns_its_results),
        cmocka_unit_test(imap_bytes_in_order_and_unordered),
        cmocka_unit_test(byte_calls_refuse_bad_input_and_closed_pools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
