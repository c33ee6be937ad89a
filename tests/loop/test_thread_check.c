/* SPDX-License-Identifier: MIT */
/* loop: a loop's non-thread-safe calls, made from a thread other than the
 * one running it, are refused with WEFT_ESTATE and a message naming
 * weft_loop_call_soon_threadsafe (asyncio's debug-mode check), while the
 * threadsafe call keeps working and a loop that is not running takes calls
 * from any thread. */
#include "testing.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* What the other thread tried, each call's code and whether its message
 * named the way out; read by the test once the thread is joined. */
enum { SOON, LATER, AT, AT_NS, READER, WRITER, WATCH, SIGNAL, SERVICE, N };

struct probe {
    weft_loop_t *loop;
    int rc[N];
    int named[N];
    int threadsafe_rc;
    pthread_t loop_thread;
    int ran_on_loop_thread;
    int ran;
};

static int never(void *arg)
{
    return weft_fail(WEFT_EUSER, "a refused callback ran");
}

static void never_io(void *arg, unsigned events)
{
}

static int stop_here(void *arg)
{
    struct probe *p = arg;
    p->ran++;
    p->ran_on_loop_thread = pthread_equal(pthread_self(), p->loop_thread);
    weft_loop_stop(p->loop);
    return 0;
}

static void note(struct probe *p, int i, int rc)
{
    p->rc[i] = rc;
    p->named[i] =
        strstr(weft_last_message(), "weft_loop_call_soon_threadsafe") != NULL &&
        strstr(weft_last_message(), "other than the current") != NULL;
}

static const weft_loop_service_t service = {"thread_check", NULL, NULL};

/* On another thread, while the loop runs (its callback waits for us). */
static void misuse(void *arg)
{
    struct probe *p = arg;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    weft_handle_t h;
    note(p, SOON, weft_loop_call_soon(p->loop, never, NULL, NULL));
    note(p, LATER, weft_loop_call_later(p->loop, 0, never, NULL, &h));
    note(p, AT, weft_loop_call_at(p->loop, 1.0, never, NULL, NULL));
    note(p, AT_NS, weft_loop_call_at_ns(p->loop, 1, never, NULL, NULL));
    note(p, READER, weft_loop_add_reader(p->loop, fds[0], never, NULL));
    note(p, WRITER, weft_loop_add_writer(p->loop, fds[1], never, NULL));
    note(p, WATCH, weft_loop_watch_fd(p->loop, fds[0], never_io, NULL));
    note(p, SIGNAL,
         weft_loop_add_signal_handler(p->loop, SIGUSR2, never, NULL));
    static int state;
    note(p, SERVICE, weft_loop_attach_service(p->loop, &service, &state));
    p->threadsafe_rc = weft_loop_call_soon_threadsafe(p->loop, stop_here, p);
    close(fds[0]);
    close(fds[1]);
}

static int start_misuse(void *arg)
{
    struct probe *p = arg;
    testing_thread_join(testing_thread_start(misuse, p));
    return 0;
}

static void
calls_from_another_thread_while_the_loop_runs_are_refused(void **state)
{
    struct probe p = {.loop_thread = pthread_self()};
    assert_int_equal(weft_loop_new(&p.loop), 0);
    assert_int_equal(weft_loop_call_soon(p.loop, start_misuse, &p, NULL), 0);
    assert_int_equal(weft_loop_run_forever(p.loop), 0);
    for (int i = 0; i < N; i++) {
        if (p.rc[i] != WEFT_ESTATE || !p.named[i])
            fail_msg("call %d from another thread: rc %d, message named "
                     "the threadsafe call: %d",
                     i, p.rc[i], p.named[i]);
    }
    /* Only the threadsafe call got through, and ran on the loop's thread;
     * none of the refused callbacks ran. */
    assert_int_equal(p.threadsafe_rc, 0);
    assert_int_equal(p.ran, 1);
    assert_true(p.ran_on_loop_thread);
    assert_null(weft_loop_service(p.loop, &service));
    weft_loop_free(p.loop);
}

/* Before the loop runs, the thread that will run it is not known: any
 * thread may schedule (asyncio allows call_soon before run_forever). */
static void schedule_before_run(void *arg)
{
    struct probe *p = arg;
    p->rc[SOON] = weft_loop_call_soon(p->loop, stop_here, p, NULL);
    p->rc[LATER] = weft_loop_call_later(p->loop, 0, stop_here, p, NULL);
}

static void a_loop_that_is_not_running_takes_calls_from_any_thread(void **state)
{
    struct probe p = {.loop_thread = pthread_self()};
    assert_int_equal(weft_loop_new(&p.loop), 0);
    testing_thread_join(testing_thread_start(schedule_before_run, &p));
    assert_int_equal(p.rc[SOON], 0);
    assert_int_equal(p.rc[LATER], 0);
    assert_int_equal(weft_loop_run_forever(p.loop), 0);
    assert_true(p.ran >= 1);
    assert_true(p.ran_on_loop_thread);
    /* Stopped, it is free again: another thread schedules, this one runs. */
    p.ran = 0;
    testing_thread_join(testing_thread_start(schedule_before_run, &p));
    assert_int_equal(p.rc[SOON], 0);
    assert_int_equal(weft_loop_run_forever(p.loop), 0);
    assert_int_equal(p.ran, 2);
    weft_loop_free(p.loop);
}

/* The check costs the loop's own thread nothing it can see: its calls
 * from inside a callback pass. */
static int schedule_from_inside(void *arg)
{
    struct probe *p = arg;
    p->rc[SOON] = weft_loop_call_soon(p->loop, stop_here, p, NULL);
    p->rc[LATER] = weft_loop_call_later(p->loop, 60, never, NULL, NULL);
    assert_int_equal(weft_loop_check_thread(p->loop, "here"), 0);
    return 0;
}

static void the_loops_own_thread_passes_the_check(void **state)
{
    struct probe p = {.loop_thread = pthread_self()};
    assert_int_equal(weft_loop_new(&p.loop), 0);
    assert_int_equal(weft_loop_check_thread(p.loop, "here"), 0);
    assert_int_equal(
        weft_loop_call_soon(p.loop, schedule_from_inside, &p, NULL), 0);
    assert_int_equal(weft_loop_run_forever(p.loop), 0);
    assert_int_equal(p.rc[SOON], 0);
    assert_int_equal(p.rc[LATER], 0);
    assert_int_equal(p.ran, 1);
    weft_loop_free(p.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            calls_from_another_thread_while_the_loop_runs_are_refused),
        cmocka_unit_test(
            a_loop_that_is_not_running_takes_calls_from_any_thread),
        cmocka_unit_test(the_loops_own_thread_passes_the_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
