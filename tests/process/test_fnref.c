/* SPDX-License-Identifier: MIT */
/* process: functions by reference, found again in this process and in a
 * spawned child that shares no memory with it. */
#include "testing_proc.h"

#include <stdlib.h>
#include <string.h>

int fnref_double(const weft_bytes_t *arg, weft_bytes_t *result);
int fnref_double(const weft_bytes_t *arg, weft_bytes_t *result)
{
    int x;
    memcpy(&x, arg->data, sizeof x);
    x *= 2;
    return weft_bytes_copy(result, &x, sizeof x);
}

static int by_name(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return 0;
}

static void a_reference_resolves_to_the_same_function(void **state)
{
    weft_bytes_t ref = {NULL, 0};
    assert_int_equal(weft_fn_locate((weft_any_fn)fnref_double, &ref), 0);
    assert_true(ref.len > 0);
    weft_any_fn fn = NULL;
    assert_int_equal(weft_fn_resolve(&ref, &fn), 0);
    assert_ptr_equal(fn, (weft_any_fn)fnref_double);
    weft_bytes_free(&ref);
}

/* The child resolves the reference it is given and calls the function. */
static int resolve_and_call(const weft_bytes_t *arg)
{
    weft_any_fn fn;
    if (weft_fn_resolve(arg, &fn) != 0)
        return 1;
    int x = 21;
    weft_bytes_t in = {(unsigned char *)&x, sizeof x}, out = {NULL, 0};
    if (((weft_bytes_fn)fn)(&in, &out) != 0 || out.len != sizeof x)
        return 2;
    memcpy(&x, out.data, sizeof x);
    weft_bytes_free(&out);
    return x == 42 ? 0 : 3;
}

static void a_spawned_child_finds_the_function(void **state)
{
    weft_bytes_t ref = {NULL, 0};
    assert_int_equal(weft_fn_locate((weft_any_fn)fnref_double, &ref), 0);
    weft_context_t *ctx;
    assert_int_equal(weft_get_context(&ctx, "spawn"), 0);
    weft_process_t *p;
    assert_int_equal(weft_context_process_new(ctx, &p, resolve_and_call,
                                              ref.data, ref.len, NULL),
                     0);
    assert_int_equal(weft_process_start(p), 0);
    assert_int_equal(weft_process_join(p, 10.0 * testing_scale()), 0);
    int code = -1;
    assert_int_equal(weft_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    weft_process_free(p);
    weft_bytes_free(&ref);
}

static void a_registered_function_goes_by_name(void **state)
{
    assert_int_equal(
        weft_process_register("fnref_by_name", (weft_process_fn)(weft_any_fn)by_name),
        0);
    weft_bytes_t ref = {NULL, 0};
    assert_int_equal(weft_fn_locate((weft_any_fn)by_name, &ref), 0);
    assert_non_null(memmem(ref.data, ref.len, "fnref_by_name", 13));
    weft_any_fn fn = NULL;
    assert_int_equal(weft_fn_resolve(&ref, &fn), 0);
    assert_ptr_equal(fn, (weft_any_fn)by_name);
    weft_bytes_free(&ref);
}

static void bad_references_are_refused(void **state)
{
    weft_bytes_t ref = {NULL, 0};
    weft_any_fn fn;
    assert_fails_with(weft_fn_locate(NULL, &ref), WEFT_EINVAL,
                      "NULL function");
    assert_fails_with(weft_fn_locate((weft_any_fn)by_name, NULL),
                      WEFT_EINVAL, "NULL ref");
    assert_fails_with(weft_fn_resolve(NULL, &fn), WEFT_EINVAL, "NULL");
    unsigned char junk[40] = {1, 2, 3};
    weft_bytes_t bad = {junk, sizeof junk};
    assert_fails_with(weft_fn_resolve(&bad, &fn), WEFT_EINVAL,
                      "not a function reference");
    weft_bytes_t empty = {NULL, 0};
    assert_fails_with(weft_fn_resolve(&empty, &fn), WEFT_EINVAL,
                      "not a function reference");
    /* A reference whose lengths do not add up. */
    assert_int_equal(weft_fn_locate((weft_any_fn)fnref_double, &ref), 0);
    weft_bytes_t cut = {ref.data, ref.len - 1};
    assert_fails_with(weft_fn_resolve(&cut, &fn), WEFT_EINVAL,
                      "not a function reference");
    weft_bytes_free(&ref);
}

static void code_in_no_image_is_refused(void **state)
{
    static unsigned char not_code[16];
    weft_bytes_t ref = {NULL, 0};
    assert_fails_with(weft_fn_locate((weft_any_fn)(void *)not_code, &ref),
                      WEFT_EINVAL, "register it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_reference_resolves_to_the_same_function),
        testing_proc_test(a_spawned_child_finds_the_function),
        cmocka_unit_test(a_registered_function_goes_by_name),
        cmocka_unit_test(bad_references_are_refused),
        cmocka_unit_test(code_in_no_image_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
