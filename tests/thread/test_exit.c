/* SPDX-License-Identifier: MIT */
/* thread: Python's exit rule. At exit, non-daemon threads are joined and
 * daemon threads are not waited for. Each case runs in a fresh process:
 * this program runs itself with the case's name and checks what it prints
 * (a wait that should not happen would print more, or something else). */
#include "testing.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ----- The cases, run in the child ----- */

/* Set once the line that must come first has been printed. */
static weft_event_t go; /* zero: a clear event, as weft_event_init makes */

static int work_then_report(void *arg, void **result)
{
    weft_event_wait(&go, WEFT_FOREVER);
    weft_sleep(0.2); /* still working while the process exits */
    printf("%s done\n", (const char *)arg);
    return 0;
}

/* Waits far longer than the exit takes: had the exit waited for it, it
 * would say so. */
static int wait_forever(void *arg, void **result)
{
    weft_event_t never;
    weft_event_init(&never);
    printf("daemon waiting\n");
    weft_event_set(&go);
    weft_event_wait(&never, 30.0);
    printf("daemon done\n");
    return 0;
}

static int exit_from_here(void *arg, void **result)
{
    printf("exit called\n");
    weft_event_set(&go);
    exit(3);
}

static int join_main(void *arg, void **result)
{
    int rc = weft_thread_join(weft_main_thread(), 10.0);
    printf("main joined: %s, alive: %d\n", rc ? weft_errname(rc) : "ok",
           weft_thread_is_alive(weft_main_thread()));
    return 0;
}

static void start(weft_fn fn, void *arg, int daemon)
{
    weft_thread_t *t;
    weft_thread_opts_t o = {.daemon = daemon};
    if (weft_thread_new(&t, fn, arg, &o) != 0 || weft_thread_start(t) != 0)
        exit(99);
    weft_thread_free(t);
}

static int run_case(const char *name)
{
    if (strcmp(name, "non-daemon") == 0) {
        start(work_then_report, "worker", 0);
    } else if (strcmp(name, "daemon") == 0) {
        start(wait_forever, NULL, 1);
        weft_event_wait(&go, WEFT_FOREVER);
    } else if (strcmp(name, "join-main") == 0) {
        start(join_main, NULL, 0);
    } else if (strcmp(name, "exit-in-thread") == 0) {
        start(work_then_report, "worker", 0);
        start(exit_from_here, NULL, 0);
        weft_event_t never;
        weft_event_init(&never);
        weft_event_wait(&never, WEFT_FOREVER);
    }
    printf("main done\n");
    weft_event_set(&go);
    return 0;
}

/* ----- The tests, run in the parent ----- */

static char self[PATH_MAX];

static char *run_self(const char *name, int *status, double *seconds)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "%s %s", self, name);
    double t0 = weft_monotonic();
    char *out = testing_run_program(cmd, status);
    *seconds = weft_monotonic() - t0;
    return out;
}

static void non_daemon_threads_are_joined_at_exit(void **state)
{
    int status;
    double seconds;
    char *out = run_self("non-daemon", &status, &seconds);
    assert_int_equal(status, 0);
    assert_string_equal(out, "main done\nworker done\n");
    assert_true(seconds >= 0.2);
    free(out);
}

static void daemon_threads_do_not_hold_up_exit(void **state)
{
    int status;
    double seconds;
    char *out = run_self("daemon", &status, &seconds);
    assert_int_equal(status, 0);
    assert_string_equal(out, "daemon waiting\nmain done\n");
    free(out);
}

static void exit_from_a_thread_waits_for_the_others(void **state)
{
    int status;
    double seconds;
    char *out = run_self("exit-in-thread", &status, &seconds);
    assert_int_equal(status, 3);
    assert_string_equal(out, "exit called\nworker done\n");
    free(out);
}

static void a_thread_joining_main_is_released_at_exit(void **state)
{
    int status;
    double seconds;
    char *out = run_self("join-main", &status, &seconds);
    assert_int_equal(status, 0);
    /* Released, not timed out (its join allows 10 s). */
    assert_string_equal(out, "main done\nmain joined: ok, alive: 0\n");
    free(out);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return run_case(argv[1]);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(non_daemon_threads_are_joined_at_exit),
        cmocka_unit_test(daemon_threads_do_not_hold_up_exit),
        cmocka_unit_test(exit_from_a_thread_waits_for_the_others),
        cmocka_unit_test(a_thread_joining_main_is_released_at_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
