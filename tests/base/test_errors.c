/* SPDX-License-Identifier: MIT */
/* base: error codes, texts, names and the per-thread message. */
#include "testing.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void every_code_has_a_name_and_a_text(void **state)
{
#define CHECK_(name, value, text)                                              \
    assert_string_equal(weft_strerror(name), text);                           \
    assert_string_equal(weft_errname(name), #name);
    WEFT_ERRORS(CHECK_)
#undef CHECK_
    assert_string_equal(weft_strerror(0), "success");
    assert_string_equal(weft_strerror(999), "unknown error");
    assert_string_equal(weft_strerror(WEFT_EUSER + 7), "application error");
}

static void name_many(void *arg, unsigned i);

/* A program's own codes and codes weft does not know still get a name, so
 * that a report never prints "(null)". */
static void every_other_code_has_a_name_too(void **state)
{
    assert_string_equal(weft_errname(WEFT_EUSER), "WEFT_EUSER");
    assert_string_equal(weft_errname(WEFT_EUSER + 5), "WEFT_EUSER+5");
    assert_string_equal(weft_errname(999), "error 999");
    assert_string_equal(weft_errname(-3), "error -3");
    char big[32];
    snprintf(big, sizeof big, "WEFT_EUSER+%d", INT_MAX - WEFT_EUSER);
    assert_string_equal(weft_errname(INT_MAX), big);
    assert_string_equal(weft_errname(INT_MIN), "error -2147483648");
}

/* The names of the codes weft does not list are the calling thread's: two
 * in one printf are both right, and other threads do not overwrite them. */
static void made_up_names_are_per_thread_and_survive_a_few_calls(void **state)
{
    const char *a = weft_errname(WEFT_EUSER + 1);
    const char *b = weft_errname(WEFT_EUSER + 2);
    const char *c = weft_errname(77);
    testing_run_threads(4, name_many, NULL);
    assert_string_equal(a, "WEFT_EUSER+1");
    assert_string_equal(b, "WEFT_EUSER+2");
    assert_string_equal(c, "error 77");
}

static void name_many(void *arg, unsigned i)
{
    for (int k = 1; k <= 1000; k++) {
        char want[32];
        snprintf(want, sizeof want, "WEFT_EUSER+%d", k + (int)i);
        if (strcmp(weft_errname(WEFT_EUSER + k + (int)i), want) != 0)
            fail_msg("thread %u got a wrong name for %s", i, want);
    }
}

static void fail_records_the_message_and_returns_the_code(void **state)
{
    assert_int_equal(weft_fail(WEFT_EINVAL, "bad input %d", 3), WEFT_EINVAL);
    assert_string_equal(weft_last_message(), "bad input 3");
    weft_clear_message();
    assert_string_equal(weft_last_message(), "");
}

static void long_messages_are_cut_not_overflowed(void **state)
{
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    weft_fail(WEFT_EINVAL, "%s", big);
    assert_int_equal(strlen(weft_last_message()), WEFT_MESSAGE_MAX - 1);
}

static void *other_thread(void *arg)
{
    (void)arg;
    return (void *)(uintptr_t)(strlen(weft_last_message()) == 0);
}

static void messages_are_per_thread(void **state)
{
    weft_fail(WEFT_ETIMEDOUT, "mine");
    pthread_t t;
    void *clean;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &clean);
    assert_true((uintptr_t)clean);
    assert_string_equal(weft_last_message(), "mine");
}

static void capture_keeps_code_and_message(void **state)
{
    weft_error_info_t e;
    weft_fail(WEFT_EUSER + 1, "input 3 failed");
    weft_error_capture(&e, WEFT_EUSER + 1);
    assert_int_equal(e.code, WEFT_EUSER + 1);
    assert_string_equal(e.message, "input 3 failed");
    weft_clear_message();
    weft_error_capture(&e, WEFT_EFULL);
    assert_string_equal(e.message, "full");
}

static void bytes_copy_and_free(void **state)
{
    weft_bytes_t b;
    assert_int_equal(weft_bytes_copy(&b, "hello", 5), 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "hello", 5);
    weft_bytes_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_fails_with(weft_bytes_copy(&b, NULL, 3), WEFT_EINVAL, "NULL");
    assert_int_equal(weft_bytes_copy(&b, NULL, 0), 0);
    assert_null(b.data);
    weft_bytes_free(NULL);
}

int exported_for_the_name_test(void);
int exported_for_the_name_test(void)
{
    return 42;
}

static void symbol_names_come_from_the_linker(void **state)
{
    char buf[64];
    assert_int_equal(weft_symbol_name((const void *)exported_for_the_name_test,
                                      buf, sizeof buf),
                     0);
    assert_string_equal(buf, "exported_for_the_name_test");
    assert_int_equal(weft_symbol_name((const void *)weft_strerror, buf,
                                      sizeof buf),
                     0);
    assert_string_equal(buf, "weft_strerror");
    assert_fails_with(weft_symbol_name(NULL, buf, sizeof buf), WEFT_EKEY,
                      NULL);
    assert_string_equal(buf, "");
}

static void version_is_dotted(void **state)
{
    assert_string_equal(weft_version(), "0.1.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_a_name_and_a_text),
        cmocka_unit_test(every_other_code_has_a_name_too),
        cmocka_unit_test(made_up_names_are_per_thread_and_survive_a_few_calls),
        cmocka_unit_test(fail_records_the_message_and_returns_the_code),
        cmocka_unit_test(long_messages_are_cut_not_overflowed),
        cmocka_unit_test(messages_are_per_thread),
        cmocka_unit_test(capture_keeps_code_and_message),
        cmocka_unit_test(bytes_copy_and_free),
        cmocka_unit_test(symbol_names_come_from_the_linker),
        cmocka_unit_test(version_is_dotted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
