/* SPDX-License-Identifier: MIT */
/* log: levels, destinations, thread and process names, configuration
 * errors. */
#include "logtest.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
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

static void records_below_the_level_are_dropped(void **state)
{
    assert_int_equal(weft_log_basic_config(NULL), 0);
    assert_false(weft_log_enabled(WEFT_LOG_INFO));
    assert_true(weft_log_enabled(WEFT_LOG_WARNING));
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, "%(levelname)s %(message)s", WEFT_LOG_INFO);
    assert_false(weft_log_enabled(WEFT_LOG_DEBUG));
    assert_true(weft_log_enabled(WEFT_LOG_INFO));
    weft_log_debug("no");
    weft_log_info("one");
    weft_log_warning("two");
    weft_log_error("three");
    weft_log_critical("four");
    char *text = logtest_read(path);
    assert_string_equal(text,
                        "INFO one\nWARNING two\nERROR three\nCRITICAL four\n");
    free(text);
}

static void the_default_destination_is_stderr(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    weft_log_config_t c = {.format = "%(message)s"};
    assert_int_equal(weft_log_basic_config(&c), 0);
    weft_log_warning("to stderr");
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    char *text = logtest_read(path);
    assert_string_equal(text, "to stderr\n");
    free(text);
}

static void a_descriptor_can_be_the_destination(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    weft_log_config_t c = {.format = "%(message)s", .fd = fd};
    assert_int_equal(weft_log_basic_config(&c), 0);
    weft_log_error("to fd");
    assert_int_equal(weft_log_basic_config(NULL), 0);
    /* The caller's descriptor is not closed by weft. */
    assert_true(fcntl(fd, F_GETFD) >= 0);
    close(fd);
    char *text = logtest_read(path);
    assert_string_equal(text, "to fd\n");
    free(text);
}

/* The descriptors this process has open on path. */
static int open_fds_on(const char *file, int *fds, int most)
{
    char real[PATH_MAX], link[PATH_MAX], entry[PATH_MAX];
    assert_non_null(realpath(file, real));
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        snprintf(entry, sizeof entry, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(entry, link, sizeof link - 1);
        if (len <= 0)
            continue;
        link[len] = '\0';
        if (strcmp(link, real) == 0 && n < most)
            fds[n++] = atoi(e->d_name);
    }
    closedir(d);
    return n;
}

static void a_file_is_opened_for_append_and_closed_on_exec(void **state)
{
    logtest_to_file(path, "%(message)s", WEFT_LOG_INFO);
    int fds[4];
    assert_int_equal(open_fds_on(path, fds, 4), 1);
    assert_true(fcntl(fds[0], F_GETFL) & O_APPEND);
    assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    /* A new configuration closes the file the old one opened. */
    assert_int_equal(weft_log_basic_config(NULL), 0);
    assert_int_equal(open_fds_on(path, fds, 4), 0);
}

/* External, so that the default thread name can name it. */
int log_from_thread(void *arg, void **result);
int log_from_thread(void *arg, void **result)
{
    weft_log_info("from %s", (const char *)arg);
    return 0;
}

static void run_logging_thread(const char *name)
{
    weft_thread_t *t;
    weft_thread_opts_t o = {.name = name};
    assert_int_equal(weft_thread_new(&t, log_from_thread, "thread", &o), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_free(t);
}

static void log_from_foreign(void *arg)
{
    weft_log_info("from foreign");
}

static void the_thread_name_is_the_current_threads(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, "%(threadName)s: %(message)s", WEFT_LOG_DEBUG);
    weft_log_info("from main");
    run_logging_thread("worker");
    run_logging_thread(NULL);
    testing_thread_join(testing_thread_start(log_from_foreign, NULL));
    char *text = logtest_read(path);
    unsigned n, d;
    char tail[64];
    assert_int_equal(sscanf(text,
                            "MainThread: from main\nworker: from thread\n"
                            "Thread-%u (log_from_thread): from thread\n"
                            "Dummy-%u: %63[^\n]",
                            &n, &d, tail),
                     3);
    assert_string_equal(tail, "from foreign");
    free(text);
}

static void the_process_name_can_be_set(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, "%(processName)s %(message)s", WEFT_LOG_DEBUG);
    weft_log_info("a");
    weft_log_set_process_name("Process-1");
    weft_log_info("b");
    weft_log_set_process_name(NULL);
    weft_log_info("c");
    char *text = logtest_read(path);
    assert_string_equal(text, "MainProcess a\nProcess-1 b\nMainProcess c\n");
    free(text);
}

static void bad_destinations_are_refused_and_change_nothing(void **state)
{
    assert_int_equal(truncate(path, 0), 0);
    logtest_to_file(path, "kept %(message)s", WEFT_LOG_INFO);
    weft_log_config_t both = {.filename = path, .fd = 1};
    assert_fails_with(weft_log_basic_config(&both), WEFT_EINVAL,
                      "should not be specified together");
    weft_log_config_t negative = {.fd = -3};
    assert_fails_with(weft_log_basic_config(&negative), WEFT_EINVAL, "bad fd");
    weft_log_config_t nowhere = {.filename = "/nonexistent/dir/app.log"};
    assert_fails_with(weft_log_basic_config(&nowhere), WEFT_ESYS,
                      "cannot open /nonexistent/dir/app.log");
    weft_log_info("after");
    char *text = logtest_read(path);
    assert_string_equal(text, "kept after\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_below_the_level_are_dropped),
        cmocka_unit_test(the_default_destination_is_stderr),
        cmocka_unit_test(a_descriptor_can_be_the_destination),
        cmocka_unit_test(a_file_is_opened_for_append_and_closed_on_exec),
        cmocka_unit_test(the_thread_name_is_the_current_threads),
        cmocka_unit_test(the_process_name_can_be_set),
        cmocka_unit_test(bad_destinations_are_refused_and_change_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
