/* SPDX-License-Identifier: MIT */
/* The version: the headers' macros are the CMake project's version (passed
 * in as WEFT_PROJECT_VERSION), WEFT_VERSION_STRING spells the three numbers,
 * and weft_version() gives the library's own, the same in this build. */
#include <stdio.h>
#include <string.h>

#include "testing.h"
#include "weft/base.h"

static void test_macros_are_the_project_version(void **state)
{
    (void)state;
    assert_string_equal(WEFT_VERSION_STRING, WEFT_PROJECT_VERSION);
    char spelled[32];
    snprintf(spelled, sizeof spelled, "%d.%d.%d", WEFT_VERSION_MAJOR,
             WEFT_VERSION_MINOR, WEFT_VERSION_PATCH);
    assert_string_equal(spelled, WEFT_VERSION_STRING);
}

static void test_runtime_version_is_the_library_s(void **state)
{
    (void)state;
    assert_non_null(weft_version());
    assert_string_equal(weft_version(), WEFT_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_macros_are_the_project_version),
        cmocka_unit_test(test_runtime_version_is_the_library_s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
