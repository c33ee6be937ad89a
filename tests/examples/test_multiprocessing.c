/* SPDX-License-Identifier: MIT */
/* examples: the multiprocessing examples print what they should. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void the_doubler_names_each_process(void **state)
{
    char *out = testing_run_example_ok("process_doubler", NULL);
    int numbers[] = {5, 10, 15, 20, 25};
    for (int i = 0; i < 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "%d doubled to %d by Process-%d\n",
                 numbers[i], numbers[i] * 2, i + 1);
        assert_non_null(strstr(out, line));
        snprintf(line, sizeof line, "%d doubled to %d by MainProcess\n",
                 numbers[i], numbers[i] * 2);
        assert_non_null(strstr(out, line));
    }
    assert_int_equal(testing_count_lines(out, "doubled to"), 10);
    assert_int_equal(testing_count_lines(out, "by Process-"), 5);
    assert_int_equal(testing_count_lines(out, "by MainProcess"), 5);
    assert_int_equal(
        testing_count_lines(out, "Total execution time (parallel): "), 1);
    assert_int_equal(
        testing_count_lines(out, "Total execution time (serial): "), 1);
    free(out);
}

static void a_hundred_processes_count_to_a_hundred(void **state)
{
    char *out = testing_run_example_ok("process_counter", NULL);
    assert_string_equal(out, "Counter value: 100\n");
    free(out);
}

static void the_lock_makes_the_count_exact(void **state)
{
    char *out = testing_run_example_ok("process_race", NULL);
    const char *without = strstr(out, "Without a lock: Expected: 5000, Got: ");
    assert_non_null(without);
    int got = atoi(without + strlen("Without a lock: Expected: 5000, Got: "));
    assert_true(got >= 1000 && got <= 5000);
    assert_int_equal(
        testing_count_lines(out, "With a lock:    Expected: 5000, Got: 5000"),
        1);
    free(out);
}

static void every_square_comes_through_the_queue(void **state)
{
    char *out = testing_run_example_ok("process_queue_squares", NULL);
    assert_int_equal(testing_count_lines(out, "Squared value: "), 5);
    for (int x = 1; x <= 5; x++) {
        char line[32];
        snprintf(line, sizeof line, "Squared value: %d\n", x * x);
        assert_non_null(strstr(out, line));
    }
    free(out);
}

static void the_child_sends_through_the_pipe(void **state)
{
    char *out = testing_run_example_ok("process_pipe", NULL);
    assert_string_equal(out, "Data from child\n");
    free(out);
}

static void three_processes_append_five_pids_each(void **state)
{
    char *out = testing_run_example_ok("process_manager_list", NULL);
    assert_memory_equal(out, "Shared list: [", 14);
    long pids[15];
    int n = 0;
    for (char *p = out + 14; *p && *p != ']' && n < 15;) {
        pids[n++] = strtol(p, &p, 10);
        if (*p == ',')
            p += 2;
    }
    assert_int_equal(n, 15);
    for (int i = 0; i < 15; i++) {
        int same = 0;
        for (int k = 0; k < 15; k++)
            same += pids[k] == pids[i];
        assert_int_equal(same, 5);
    }
    assert_int_equal(testing_count_lines(out, "Shared list: ["), 1);
    free(out);
}

static void a_process_runs_five_threads(void **state)
{
    char *out = testing_run_example_ok("process_hybrid", NULL);
    assert_int_equal(testing_count_lines(out, "Running in thread"), 5);
    assert_int_equal(testing_count_lines(out, ""), 5); /* and nothing else */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_doubler_names_each_process),
        cmocka_unit_test(a_hundred_processes_count_to_a_hundred),
        cmocka_unit_test(the_lock_makes_the_count_exact),
        cmocka_unit_test(every_square_comes_through_the_queue),
        cmocka_unit_test(the_child_sends_through_the_pipe),
        cmocka_unit_test(three_processes_append_five_pids_each),
        cmocka_unit_test(a_process_runs_five_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
