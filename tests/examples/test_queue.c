/* SPDX-License-Identifier: MIT */
/* examples: the queue examples print exactly what they should. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void the_consumer_empties_what_the_producer_filled(void **state)
{
    char *out = testing_run_example_ok("queue_basic", NULL);
    assert_string_equal(out, "Consumed 0\nConsumed 1\nConsumed 2\n"
                             "Consumed 3\nConsumed 4\n");
    free(out);
}

static void the_worker_processes_ten_items_in_order(void **state)
{
    char *out = testing_run_example_ok("queue_workers", NULL);
    char expected[256] = "";
    for (int i = 0; i < 10; i++) {
        char line[32];
        snprintf(line, sizeof line, "Processing: %d\n", i);
        strcat(expected, line);
    }
    assert_string_equal(out, expected);
    free(out);
}

/* The lines of text that start with prefix, in order, joined. */
static void lines_with(const char *text, const char *prefix, char *buf,
                       size_t size)
{
    buf[0] = '\0';
    for (const char *at = text; *at;) {
        const char *end = strchr(at, '\n');
        size_t len = end ? (size_t)(end - at) + 1 : strlen(at);
        if (strncmp(at, prefix, strlen(prefix)) == 0 &&
            strlen(buf) + len < size)
            strncat(buf, at, len);
        at += len;
    }
}

/* "<verb>: task_0\n" to "<verb>: task_9\n", joined. */
static void task_lines(const char *verb, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < 10; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s: task_%d\n", verb, i);
    }
}

static void every_task_is_produced_and_consumed_once_in_order(void **state)
{
    char *out = testing_run_example_ok("queue_producer_consumer", NULL);
    /* The two threads print independently (a task may be consumed before
     * its producer says so), so each one's lines are checked in order,
     * and nothing else may be printed. */
    char produced[512], consumed[512], expected[512];
    lines_with(out, "Produced: ", produced, sizeof produced);
    task_lines("Produced", expected, sizeof expected);
    assert_string_equal(produced, expected);
    lines_with(out, "Consumed: ", consumed, sizeof consumed);
    task_lines("Consumed", expected, sizeof expected);
    assert_string_equal(consumed, expected);
    assert_int_equal(strlen(out), strlen(produced) + strlen(consumed));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_consumer_empties_what_the_producer_filled),
        cmocka_unit_test(the_worker_processes_ten_items_in_order),
        cmocka_unit_test(every_task_is_produced_and_consumed_once_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
