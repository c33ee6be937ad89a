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
    const char *t = strstr(out, "total time: ");
    assert_non_null(t);
    double total = 0;
    sscanf(t, "total time: %lf", &total);
    assert_true(total >= 0.3 && total < 0.3 + 0.5 * testing_scale());
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

static double seconds_of(const char *out, const char *how)
{
    char key[64];
    snprintf(key, sizeof key, "%s: 10 downloads in ", how);
    const char *at = strstr(out, key);
    assert_non_null(at);
    return atof(at + strlen(key));
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
    double seq = seconds_of(out, "sequential");
    double thr = seconds_of(out, "threads");
    double cor = seconds_of(out, "coroutines");
    assert_true(seq >= 2.0);
    assert_true(thr >= 0.2 && thr < 1.0 * testing_scale());
    assert_true(cor >= 0.2 && cor < 1.0 * testing_scale());
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
