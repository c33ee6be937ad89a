/* SPDX-License-Identifier: MIT */
/* The seeds' concurrent.futures and multiprocessing.dummy examples: each
 * program runs, and what it prints is checked. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void io_bound_tasks_overlap_on_three_workers(void **state)
{
    int status;
    char *out = testing_run_example("futures_io_bound", NULL, &status);
    assert_int_equal(status, 0);
    for (int s = 1; s <= 5; s++) {
        char line[64];
        snprintf(line, sizeof line, "Sleeping for %d second(s)...", s);
        assert_int_equal(testing_count_lines(out, line), 1);
        snprintf(line, sizeof line, "Slept for %d second(s)", s);
        assert_int_equal(testing_count_lines(out, line), 1);
    }
    /* Completion order: the short ones first. */
    assert_true(strstr(out, "Slept for 1") < strstr(out, "Slept for 5"));
    double units = 0;
    const char *t = strstr(out, "Total time: ");
    assert_non_null(t);
    sscanf(t, "Total time: %lf", &units);
    /* Three workers: task 5 starts when task 2 ends, at 2, and ends at 7;
     * run one after another the five would take 15. */
    assert_true(units >= 7.0 && units < 14.0);
    free(out);
}

static void map_keeps_input_order(void **state)
{
    int status;
    char *out = testing_run_example("futures_square", NULL, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "Squared value: 1\nSquared value: 4\n"
                                "Squared value: 9\nSquared value: 16\n"
                                "Squared value: 25\n"));
    assert_non_null(strstr(out, "Sum of the squares, as completed: 55"));
    free(out);
}

static void input_three_fails_alone(void **state)
{
    int status;
    char *out = testing_run_example("futures_errors", NULL, &status);
    assert_int_equal(status, 0);
    assert_string_equal(out, "Result: 2\nResult: 4\n"
                             "Error: An error occurred with input 3\n"
                             "Result: 8\nResult: 10\n");
    free(out);
}

static void the_dict_maps_each_future_back_to_its_url(void **state)
{
    int status;
    char *out = testing_run_example("futures_downloads", NULL, &status);
    assert_int_equal(status, 0);
    assert_int_equal(testing_count_lines(out, "Downloaded https://"), 3);
    assert_int_equal(
        testing_count_lines(out, "Failed to download "
                                 "https://example.com/missing.zip: 404"),
        1);
    assert_non_null(strstr(out, "3 downloaded, 1 failed"));
    free(out);
}

static void progress_counts_to_twenty(void **state)
{
    int status;
    char *out = testing_run_example("futures_progress", NULL, &status);
    assert_int_equal(status, 0);
    assert_null(strchr(out, '\r')); /* a pipe: plain lines */
    assert_non_null(strstr(out, "Progress: 100.0% (20/20)"));
    assert_non_null(strstr(out, "Completed in "));
    assert_non_null(strstr(out, "Sum of squares: 2470"));
    free(out);
}

static void the_thread_pool_map_matches_the_serial_one(void **state)
{
    int status;
    char *out = testing_run_example("threadpool_map", NULL, &status);
    assert_int_equal(status, 0);
    char serial[256] = "", threaded[256] = "";
    sscanf(strstr(out, "Serial result: "), "Serial result: %255[^\n]", serial);
    sscanf(strstr(out, "Concurrent (threads) result: "),
           "Concurrent (threads) result: %255[^\n]", threaded);
    assert_true(serial[0] == '[');
    assert_string_equal(serial, threaded);
    double ts = 0, tt = 0;
    sscanf(strstr(out, "Execution time: "), "Execution time: %lf", &ts);
    sscanf(strstr(strstr(out, "Concurrent"), "Execution time: "),
           "Execution time: %lf", &tt);
    assert_true(ts >= 0.69); /* seven 0.1 s pages one by one */
    assert_true(tt < ts);    /* and together, about one */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(io_bound_tasks_overlap_on_three_workers),
        cmocka_unit_test(map_keeps_input_order),
        cmocka_unit_test(input_three_fails_alone),
        cmocka_unit_test(the_dict_maps_each_future_back_to_its_url),
        cmocka_unit_test(progress_counts_to_twenty),
        cmocka_unit_test(the_thread_pool_map_matches_the_serial_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
