/* SPDX-License-Identifier: MIT */
/* examples: the threading and logging examples print what they should. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run an example, which must exit with 0; returns what it printed, and in
 * *seconds (if asked) how long it took. */
static char *run(const char *name, double *seconds)
{
    double t0 = weft_monotonic();
    char *out = testing_run_example_ok(name, NULL);
    if (seconds)
        *seconds = weft_monotonic() - t0;
    return out;
}

/* The last line of text (without its newline). */
static const char *last_line(char *text)
{
    size_t len = strlen(text);
    if (len && text[len - 1] == '\n')
        text[--len] = '\0';
    char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

static void five_sleepers_take_about_one_sleep(void **state)
{
    const double sleep = 0.3;
    char *out = run("threading_sleepers", NULL);
    char line[128];
    for (int i = 1; i <= 5; i++) {
        snprintf(line, sizeof line,
                 "Thread Thread-%d (func) alive status: "
                 "True\nTotal no of threads: %d\n",
                 i, i + 1);
        assert_non_null(strstr(out, line));
        snprintf(line, sizeof line, "Finished execution from thread %d", i);
        assert_int_equal(testing_count_lines(out, line), 1);
    }
    /* They overlap: all five were alive at once (the count of 6 above);
     * the total is at least one sleep, and how much more is the
     * machine's business. */
    const char *total = strstr(out, "Total time: ");
    assert_non_null(total);
    double seconds = atof(total + strlen("Total time: "));
    assert_true(seconds >= sleep);
    free(out);
}

static void numbers_and_letters_all_print_then_done(void **state)
{
    char *out = run("threading_numbers_letters", NULL);
    const char *at = out;
    for (int i = 1; i <= 5; i++) {
        char line[32];
        snprintf(line, sizeof line, "Number: %d\n", i);
        at = strstr(at, line); /* in order among themselves */
        assert_non_null(at);
    }
    at = out;
    for (const char *c = "abcde"; *c; c++) {
        char line[32];
        snprintf(line, sizeof line, "Letter: %c\n", *c);
        at = strstr(at, line);
        assert_non_null(at);
    }
    assert_int_equal(testing_count_lines(out, ": "), 10);
    assert_string_equal(last_line(out), "All threads are done.");
    free(out);
}

static void result_threads_give_the_squares(void **state)
{
    char *out = run("threading_result", NULL);
    assert_string_equal(out, "[0, 1, 4, 9, 16]\n");
    free(out);
}

static void only_the_locked_counter_is_always_exact(void **state)
{
    char *out = run("threading_counter_race", NULL);
    long unsafe = -1;
    const char *line = strstr(out, "Without a lock: Expected: 500000, Got: ");
    assert_non_null(line);
    assert_int_equal(
        sscanf(line, "Without a lock: Expected: 500000, Got: %ld", &unsafe), 1);
    assert_true(unsafe > 0 && unsafe <= 500000);
    assert_int_equal(testing_count_lines(out,
                                         "With a lock:    Expected: 500000, "
                                         "Got: 500000"),
                     1);
    free(out);
}

static void the_rlock_counter_counts_5000(void **state)
{
    char *out = run("threading_rlock", NULL);
    assert_string_equal(out, "Count: 5000\n");
    free(out);
}

static void the_daemon_does_not_hold_up_exit(void **state)
{
    double seconds;
    char *out = run("threading_daemon", &seconds);
    assert_true(testing_count_lines(out, "Running in background...") >= 1);
    assert_string_equal(last_line(out), "Main program exits");
    assert_true(seconds >= 0.35);
    /* The daemon never ends: had the exit waited for it, the run would
     * not end at all; the bound only turns that into a failure. */
    assert_true(seconds < 60);
    free(out);
}

static void the_worker_outlives_main_and_is_joined(void **state)
{
    char *out = run("threading_exit_rule", NULL);
    assert_string_equal(out,
                        "Main: started Thread-1 (worker) (daemon: False), "
                        "returning from main\n"
                        "Thread-1 (worker): still working after main "
                        "returned\n"
                        "Thread-1 (worker): done; now the process may exit\n");
    free(out);
}

static void the_log_line_names_the_thread(void **state)
{
    char *out = run("logging_threads", NULL);
    assert_string_equal(out, "Thread-1 (task): Running task\n");
    free(out);
}

static void one_timer_fires_and_the_cancelled_one_never_does(void **state)
{
    double seconds;
    char *out = run("threading_timer", &seconds);
    const char *started = strstr(out, "Started Thread-1 (0.2 s) and "
                                      "Thread-2 (5 s)\n");
    const char *cancelled = strstr(out, "Cancelled Thread-2\n");
    assert_true(started && cancelled && started < cancelled);
    assert_int_equal(testing_count_lines(out, "Hello from"), 1);
    assert_int_equal(
        testing_count_lines(out, "Hello from the first timer (Thread-1)"), 1);
    assert_string_equal(last_line(out),
                        "Both timers finished; hello ran 1 time(s)");
    /* The cancelled timer ended at once rather than waiting out its 5 s
     * (waiting it out would make the run last at least that long). */
    assert_true(seconds >= 0.2);
    assert_true(seconds < 5.0);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(five_sleepers_take_about_one_sleep),
        cmocka_unit_test(numbers_and_letters_all_print_then_done),
        cmocka_unit_test(result_threads_give_the_squares),
        cmocka_unit_test(only_the_locked_counter_is_always_exact),
        cmocka_unit_test(the_rlock_counter_counts_5000),
        cmocka_unit_test(the_daemon_does_not_hold_up_exit),
        cmocka_unit_test(the_worker_outlives_main_and_is_joined),
        cmocka_unit_test(the_log_line_names_the_thread),
        cmocka_unit_test(one_timer_fires_and_the_cancelled_one_never_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
