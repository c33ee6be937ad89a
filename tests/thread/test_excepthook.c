/* SPDX-License-Identifier: MIT */
/* thread: the excepthook (threading.excepthook). */
#include "testing.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail_with(void *arg, void **result)
{
    int code = (int)(intptr_t)arg;
    return weft_fail(code, "bad input %d", 7);
}

static void run_failing(int code, const char *name)
{
    weft_thread_t *t;
    weft_thread_opts_t o = {.name = name};
    assert_int_equal(weft_thread_new(&t, fail_with, (void *)(intptr_t)code, &o),
                     0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_free(t);
}

struct report {
    weft_thread_t *thread, *current;
    int code;
    char message[WEFT_MESSAGE_MAX];
    int alive;
};

static struct report seen;

static void record(weft_thread_t *t, const weft_error_info_t *e)
{
    seen.thread = t;
    seen.current = weft_current_thread();
    seen.code = e->code;
    seen.alive = weft_thread_is_alive(t);
    snprintf(seen.message, sizeof seen.message, "%s", e->message);
}

static void a_failed_target_is_reported_on_its_own_thread(void **state)
{
    weft_excepthook_t old = weft_thread_set_excepthook(record);
    memset(&seen, 0, sizeof seen);
    run_failing(WEFT_EINVAL, "worker");
    assert_non_null(seen.thread);
    assert_ptr_equal(seen.thread, seen.current);
    assert_true(seen.alive);
    assert_int_equal(seen.code, WEFT_EINVAL);
    assert_string_equal(seen.message, "bad input 7");
    weft_thread_set_excepthook(old);
}

/* Run a failing thread with stderr sent into a pipe; returns what came. */
static void capture_stderr_of_failing(int code, char *out, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    run_failing(code, "worker");
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], out, size - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
}

static void the_default_hook_prints_one_line_on_stderr(void **state)
{
    weft_excepthook_t mine = weft_thread_set_excepthook(NULL);
    char out[512];
    capture_stderr_of_failing(WEFT_EINVAL, out, sizeof out);
    assert_string_equal(
        out, "Exception in thread worker: WEFT_EINVAL: bad input 7\n");
    capture_stderr_of_failing(WEFT_EUSER + 1, out, sizeof out);
    assert_string_equal(
        out, "Exception in thread worker: WEFT_EUSER+1: bad input 7\n");
    weft_thread_set_excepthook(mine);
}

static void setting_a_hook_returns_the_previous_one(void **state)
{
    weft_excepthook_t def = weft_thread_set_excepthook(record);
    assert_non_null(def);
    assert_true(weft_thread_set_excepthook(NULL) == record);
    assert_true(weft_thread_set_excepthook(def) == def);
    assert_true(weft_thread_set_excepthook(NULL) == def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failed_target_is_reported_on_its_own_thread),
        cmocka_unit_test(the_default_hook_prints_one_line_on_stderr),
        cmocka_unit_test(setting_a_hook_returns_the_previous_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
