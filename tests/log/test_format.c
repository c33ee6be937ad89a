/* SPDX-License-Identifier: MIT */
/* log: format fields, as Python's logging renders them, and bad formats. */
#include "logtest.h"

#include <math.h>
#include <string.h>

static char path[64];

static int setup(void **state)
{
    logtest_scratch(path);
    return 0;
}

static int teardown(void **state)
{
    weft_log_basic_config(NULL);
    unlink(path);
    return 0;
}

/* Log one record with format and return the line, newline included. */
static char *one_line(const char *format, int level, const char *message)
{
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, format, WEFT_LOG_DEBUG);
    weft_log(level, "app", "%s", message);
    return logtest_read(path);
}

static void the_default_format_is_pythons(void **state)
{
    weft_log_config_t c = {.filename = path};
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(weft_log_basic_config(&c), 0);
    weft_log_warning("careful");
    weft_log(WEFT_LOG_ERROR, "db", "down");
    char *text = logtest_read(path);
    assert_string_equal(text, "WARNING:root:careful\nERROR:db:down\n");
    free(text);
}

static void text_and_number_fields_show_the_record(void **state)
{
    char *line = one_line("%(levelname)s|%(levelno)d|%(name)s|%(message)s|"
                          "%(process)d|%(processName)s|%(thread)d|"
                          "%(threadName)s",
                          WEFT_LOG_INFO, "hello");
    char want[512];
    snprintf(want, sizeof want,
             "INFO|20|app|hello|%d|MainProcess|%llu|"
             "MainThread\n",
             (int)getpid(), (unsigned long long)weft_get_ident());
    assert_string_equal(line, want);
    free(line);
}

static void flags_width_and_precision_apply(void **state)
{
    char *line = one_line("[%(levelname)-8s][%(levelno)5d][%(name)6s]"
                          "[%(message).3s][%(levelno)03d][%(levelno)x]",
                          WEFT_LOG_ERROR, "truncated");
    assert_string_equal(line, "[ERROR   ][   40][   app][tru][040][28]\n");
    free(line);
    line =
        one_line("%(levelno)s %(process)s %(message)05s", WEFT_LOG_INFO, "x");
    char want[64];
    snprintf(want, sizeof want, "20 %d     x\n", (int)getpid());
    assert_string_equal(line, want);
    free(line);
}

static void a_doubled_percent_is_one_percent(void **state)
{
    char *line = one_line("100%% %(message)s %%", WEFT_LOG_INFO, "sure");
    assert_string_equal(line, "100% sure %\n");
    free(line);
}

static void asctime_is_pythons_unless_datefmt_says_otherwise(void **state)
{
    char *line = one_line("%(asctime)s", WEFT_LOG_INFO, "");
    int y, mo, d, h, mi, s, ms;
    char end;
    assert_int_equal(sscanf(line, "%4d-%2d-%2d %2d:%2d:%2d,%3d%c", &y, &mo, &d,
                            &h, &mi, &s, &ms, &end),
                     8);
    assert_int_equal(strlen(line), strlen("2003-07-08 16:49:45,896\n"));
    assert_true(y >= 2024 && end == '\n');
    free(line);
    weft_log_config_t c = {.level = WEFT_LOG_DEBUG,
                           .format = "%(asctime)s",
                           .datefmt = "%H:%M",
                           .filename = path};
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(weft_log_basic_config(&c), 0);
    weft_log_info("x");
    line = logtest_read(path);
    assert_int_equal(sscanf(line, "%2d:%2d%c", &h, &mi, &end), 3);
    assert_int_equal(strlen(line), 6);
    free(line);
}

static void created_and_msecs_tell_the_same_time(void **state)
{
    double before = weft_time();
    char *line = one_line("%(created)f %(msecs)03d %(msecs)d %(created)s",
                          WEFT_LOG_INFO, "");
    double created, created_text;
    int msecs, msecs_plain;
    assert_int_equal(sscanf(line, "%lf %d %d %lf", &created, &msecs,
                            &msecs_plain, &created_text),
                     4);
    assert_true(created >= before - 0.01 && created < before + 5);
    assert_int_equal(msecs, msecs_plain);
    /* created is printed rounded to the microsecond: allow for it. */
    double gap = fmod((created - floor(created)) * 1000 - msecs + 1000, 1000);
    assert_true(gap < 1.01 || gap > 999.99);
    assert_true(fabs(created_text - created) < 1e-5);
    assert_non_null(strchr(strrchr(line, ' '), '.'));
    free(line);
}

static void level_names_for_other_levels_are_pythons(void **state)
{
    char *line = one_line("%(levelname)s", 25, "");
    assert_string_equal(line, "Level 25\n");
    free(line);
    assert_string_equal(weft_log_level_name(WEFT_LOG_CRITICAL), "CRITICAL");
    assert_string_equal(weft_log_level_name(0), "NOTSET");
}

static void a_long_record_is_cut_to_one_line(void **state)
{
    char *big = malloc(3 * WEFT_LOG_LINE_MAX);
    memset(big, 'x', 3 * WEFT_LOG_LINE_MAX - 1);
    big[3 * WEFT_LOG_LINE_MAX - 1] = '\0';
    char *line = one_line("%(levelname)s %(message)s", WEFT_LOG_INFO, big);
    assert_int_equal(strlen(line), WEFT_LOG_LINE_MAX);
    assert_int_equal(line[WEFT_LOG_LINE_MAX - 1], '\n');
    assert_int_equal(testing_count_lines(line, "INFO x"), 1);
    free(line);
    line = one_line("%(message)10s", WEFT_LOG_INFO, big);
    assert_int_equal(strlen(line), WEFT_LOG_LINE_MAX);
    free(line);
    free(big);
}

/* A bad format is refused, and the previous configuration keeps working. */
static void refused(const char *format, const char *words)
{
    weft_log_config_t c = {.level = WEFT_LOG_DEBUG, .format = format};
    assert_fails_with(weft_log_basic_config(&c), WEFT_EINVAL, words);
}

static void bad_formats_are_refused_and_change_nothing(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, "kept: %(message)s", WEFT_LOG_INFO);
    refused("%(nosuch)s", "unknown field '%(nosuch)'");
    refused("%(message)d", "bad conversion for '%(message)'");
    refused("%(levelno)q", "bad conversion");
    refused("%(created)x", "bad conversion");
    refused("%(levelno)", "bad conversion");
    refused("%(levelno)99999d", "bad conversion");
    refused("%(message", "unclosed");
    refused("plain text", "names no %(field)");
    refused("%% only", "names no %(field)");
    refused("%d %(message)s", "must start '%(field)'");
    refused("%(message)s %", "must start '%(field)'");
    weft_log_debug("dropped: the level stayed INFO");
    weft_log_info("still");
    char *text = logtest_read(path);
    assert_string_equal(text, "kept: still\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_default_format_is_pythons),
        cmocka_unit_test(text_and_number_fields_show_the_record),
        cmocka_unit_test(flags_width_and_precision_apply),
        cmocka_unit_test(a_doubled_percent_is_one_percent),
        cmocka_unit_test(asctime_is_pythons_unless_datefmt_says_otherwise),
        cmocka_unit_test(created_and_msecs_tell_the_same_time),
        cmocka_unit_test(level_names_for_other_levels_are_pythons),
        cmocka_unit_test(a_long_record_is_cut_to_one_line),
        cmocka_unit_test(bad_formats_are_refused_and_change_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
