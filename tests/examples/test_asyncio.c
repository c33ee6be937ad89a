/* SPDX-License-Identifier: MIT */
/* The asyncio and event-driven examples: each program runs, and what it
 * prints is checked. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void key_presses_are_matched_to_their_handlers_in_order(void **state)
{
    int status;
    char *out = testing_run_example("asyncio_turtle", NULL, &status);
    assert_int_equal(status, 0);
    assert_string_equal(
        out, "Up     -> moveForward turtle at (50.0, 0.0) heading 0\n"
             "Left   -> moveLeft    turtle at (50.0, 0.0) heading 30\n"
             "Up     -> moveForward turtle at (93.3, 25.0) heading 30\n"
             "Up     -> moveForward turtle at (136.6, 50.0) heading 30\n"
             "Right  -> moveRight   turtle at (136.6, 50.0) heading 0\n"
             "Right  -> moveRight   turtle at (136.6, 50.0) heading 330\n"
             "Up     -> moveForward turtle at (179.9, 25.0) heading 330\n"
             "Down   -> (ignored: no handler for event 'Down')\n"
             "Left   -> moveLeft    turtle at (179.9, 25.0) heading 0\n"
             "Up     -> moveForward turtle at (229.9, 25.0) heading 0\n"
             "Escape -> bye\n");
    free(out);
}

static void gathered_sleepers_take_the_longest_not_the_sum(void **state)
{
    int status;
    char *out = testing_run_example("asyncio_gather", NULL, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "A: sleeping 0.3 s\nB: sleeping 0.1 s\n"
                                "C: sleeping 0.2 s\nB: awake\nC: awake\n"
                                "A: awake\n"));
    assert_non_null(strstr(out, "results, in the order given: A=0.3 B=0.1 "
                                "C=0.2\n"));
    /* They overlap: all three sleep before any wakes, and they wake in the
     * order of their delays (the lines above). The whole takes at least
     * the longest; how much longer is the machine's business. */
    const char *t = strstr(out, "total time: ");
    assert_non_null(t);
    double total = 0;
    sscanf(t, "total time: %lf", &total);
    assert_true(total >= 0.3);
    free(out);
}

static void the_echo_server_answers_each_client(void **state)
{
    int status;
    char *out = testing_run_example("asyncio_echo", NULL, &status);
    assert_int_equal(status, 0);
    assert_int_equal(testing_count_lines(out, "Send: Hello World!"), 3);
    assert_int_equal(testing_count_lines(out, "Received: Hello World!"), 3);
    free(out);
}

/* The seconds a way took, and the most requests the server held at once
 * meanwhile. */
static double seconds_of(const char *out, const char *how, int *at_once)
{
    char key[64];
    snprintf(key, sizeof key, "%s: 10 downloads in ", how);
    const char *at = strstr(out, key);
    assert_non_null(at);
    double seconds = 0;
    assert_int_equal(sscanf(at + strlen(key),
                            "%lf s, at most %d at the server at once",
                            &seconds, at_once),
                     2);
    return seconds;
}

static void concurrent_downloads_take_one_delay_not_ten(void **state)
{
#ifndef WEFT_HAVE_HTTP_PARSER
    skip();
#endif
    int status;
    char *out = testing_run_example("asyncio_downloads", NULL, &status);
    assert_int_equal(status, 0);
    assert_null(strstr(out, "failures"));
    /* Concurrency shows as overlap at the server, not as a wall time a
     * loaded machine could stretch: one request at a time for the first
     * way, several at once for the two others. */
    int seq_n, thr_n, cor_n;
    double seq = seconds_of(out, "sequential", &seq_n);
    double thr = seconds_of(out, "threads", &thr_n);
    double cor = seconds_of(out, "coroutines", &cor_n);
    assert_true(seq >= 10 * 0.2);
    assert_int_equal(seq_n, 1);
    assert_true(thr >= 0.2);
    assert_true(thr_n >= 2 && thr_n <= 10);
    assert_true(cor >= 0.2);
    assert_true(cor_n >= 2 && cor_n <= 10);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_presses_are_matched_to_their_handlers_in_order),
        cmocka_unit_test(gathered_sleepers_take_the_longest_not_the_sum),
        cmocka_unit_test(the_echo_server_answers_each_client),
        cmocka_unit_test(concurrent_downloads_take_one_delay_not_ten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
