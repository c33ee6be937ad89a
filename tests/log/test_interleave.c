/* SPDX-License-Identifier: MIT */
/* log: lines from many threads, and from many processes writing to one
 * file, never interleave: every line read back parses whole. */
#include "logtest.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

enum { THREADS = 8, RECORDS = 1000, PROCESSES = 2, PAYLOAD = 300 };

static char path[64];
static char payload[PAYLOAD + 1];

static int setup(void **state)
{
    logtest_scratch(path);
    memset(payload, 'p', PAYLOAD);
    return 0;
}

static int teardown(void **state)
{
    weft_log_basic_config(NULL);
    unlink(path);
    return 0;
}

/* Check one line "WHO SEQ PAYLOAD": WHO among the writers (0..writers-1,
 * found by who_of), SEQ the next one expected from WHO. */
static void check_line(const char *line, size_t len, int *next, int writers,
                       int (*who_of)(const char *word))
{
    char word[32];
    int seq, used = 0;
    assert_int_equal(sscanf(line, "%31s %d %n", word, &seq, &used), 2);
    int who = who_of(word);
    assert_true(who >= 0 && who < writers);
    assert_int_equal(seq, next[who]++);
    assert_int_equal(len - (size_t)used, PAYLOAD);
    assert_memory_equal(line + used, payload, PAYLOAD);
}

/* Every line of the file whole, and every writer's records all there, in
 * its own order. */
static void check_file(int writers, int (*who_of)(const char *word))
{
    char *text = logtest_read(path);
    int next[THREADS] = {0}, lines = 0;
    for (char *line = text, *end; *line; line = end + 1, lines++) {
        end = strchr(line, '\n');
        assert_non_null(end);
        check_line(line, (size_t)(end - line), next, writers, who_of);
    }
    assert_int_equal(lines, writers * RECORDS);
    for (int i = 0; i < writers; i++)
        assert_int_equal(next[i], RECORDS);
    free(text);
}

/* ----- Threads ----- */

static weft_barrier_t all_ready;

static void write_records(void)
{
    for (int i = 0; i < RECORDS; i++)
        weft_log_info("%d %s", i, payload);
}

static int write_records_together(void *arg, void **result)
{
    weft_barrier_wait(&all_ready, NULL);
    write_records();
    return 0;
}

static int thread_index(const char *word)
{
    int i = -1;
    return sscanf(word, "w%d", &i) == 1 ? i : -1;
}

static void lines_from_eight_threads_never_interleave(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, "%(threadName)s %(message)s", WEFT_LOG_INFO);
    weft_barrier_init(&all_ready, THREADS, NULL, NULL, WEFT_FOREVER);
    weft_thread_t *t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        char name[8];
        snprintf(name, sizeof name, "w%d", i);
        weft_thread_opts_t o = {.name = name};
        assert_int_equal(
            weft_thread_new(&t[i], write_records_together, NULL, &o), 0);
        assert_int_equal(weft_thread_start(t[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(weft_thread_join(t[i], WEFT_FOREVER), 0);
        weft_thread_free(t[i]);
    }
    check_file(THREADS, thread_index);
}

/* ----- Processes ----- */

static pid_t children[PROCESSES];

static int process_index(const char *word)
{
    for (int i = 0; i < PROCESSES; i++)
        if (atoi(word) == (int)children[i])
            return i;
    return -1;
}

static void lines_from_two_processes_never_interleave(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, "%(process)d %(message)s", WEFT_LOG_INFO);
    fflush(NULL);
    for (int i = 0; i < PROCESSES; i++) {
        children[i] = fork();
        assert_true(children[i] >= 0);
        if (children[i] == 0) {
            write_records();
            _exit(0);
        }
    }
    for (int i = 0; i < PROCESSES; i++) {
        int status = -1;
        waitpid(children[i], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    check_file(PROCESSES, process_index);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_from_eight_threads_never_interleave),
        cmocka_unit_test(lines_from_two_processes_never_interleave),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
