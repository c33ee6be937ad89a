/* SPDX-License-Identifier: MIT */
/* loop: running, stopping, call_soon order, handles, threadsafe calls,
 * futures completed elsewhere, failing callbacks, services. */
#include "testing.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct log {
    weft_loop_t *loop;
    int order[64];
    int n;
    int stop_after;
};

struct item {
    struct log *log;
    int id;
};

static int record(void *arg)
{
    struct item *it = arg;
    it->log->order[it->log->n++] = it->id;
    if (it->log->n == it->log->stop_after)
        weft_loop_stop(it->log->loop);
    return 0;
}

static void
call_soon_runs_callbacks_in_the_order_they_were_scheduled(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct log log = {.loop = loop, .stop_after = 20};
    struct item items[20];
    for (int i = 0; i < 20; i++) {
        items[i] = (struct item){&log, i};
        assert_int_equal(weft_loop_call_soon(loop, record, &items[i], NULL), 0);
    }
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(log.n, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(log.order[i], i);
    weft_loop_free(loop);
}

struct chain {
    weft_loop_t *loop;
    int steps;
    int seen_other;
    int order[8];
    int n;
};

static int other(void *arg)
{
    struct chain *c = arg;
    c->order[c->n++] = 100;
    return 0;
}

static int step(void *arg)
{
    struct chain *c = arg;
    c->order[c->n++] = c->steps;
    if (++c->steps < 3)
        weft_loop_call_soon(c->loop, step, c, NULL);
    else
        weft_loop_stop(c->loop);
    return 0;
}

static void
callbacks_scheduled_by_a_callback_run_in_the_next_iteration(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct chain c = {.loop = loop};
    weft_loop_call_soon(loop, step, &c, NULL);
    weft_loop_call_soon(loop, other, &c, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    /* step 0, then the other callback already queued, then step 1, 2. */
    int want[] = {0, 100, 1, 2};
    assert_int_equal(c.n, 4);
    assert_memory_equal(c.order, want, sizeof want);
    weft_loop_free(loop);
}

static void
a_cancelled_handle_never_runs_and_cancelling_twice_is_harmless(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct log log = {.loop = loop, .stop_after = 2};
    struct item a = {&log, 1}, b = {&log, 2}, c = {&log, 3};
    weft_handle_t ha, hb;
    weft_loop_call_soon(loop, record, &a, &ha);
    weft_loop_call_soon(loop, record, &b, &hb);
    weft_loop_call_soon(loop, record, &c, NULL);
    assert_true(weft_handle_pending(&hb));
    weft_handle_cancel(&hb);
    weft_handle_cancel(&hb);
    assert_false(weft_handle_pending(&hb));
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.order[0], 1);
    assert_int_equal(log.order[1], 3);
    /* ha has run: cancelling it now does nothing, even once its node is
     * reused by a new callback. */
    assert_false(weft_handle_pending(&ha));
    weft_handle_t hd;
    struct item d = {&log, 4};
    log.stop_after = 3;
    weft_loop_call_soon(loop, record, &d, &hd);
    weft_handle_cancel(&ha);
    assert_true(weft_handle_pending(&hd));
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(log.order[2], 4);
    weft_loop_free(loop);
}

/* ----- call_soon_threadsafe ----- */

struct counter {
    weft_loop_t *loop;
    int count; /* touched on the loop's thread only */
    int per_thread[10];
    int in_order;
};

struct tsarg {
    struct counter *c;
    int thread;
    int seq;
};

static struct tsarg args[10][100];

static int count_one(void *arg)
{
    struct tsarg *a = arg;
    struct counter *c = a->c;
    if (a->seq != c->per_thread[a->thread])
        c->in_order = 0;
    c->per_thread[a->thread]++;
    if (++c->count == 1000)
        weft_loop_stop(c->loop);
    return 0;
}

static void schedule_from_thread(void *arg, unsigned i)
{
    struct counter *c = arg;
    for (int k = 0; k < 100; k++) {
        args[i][k] = (struct tsarg){c, (int)i, k};
        assert_int_equal(
            weft_loop_call_soon_threadsafe(c->loop, count_one, &args[i][k]), 0);
    }
}

static void runner(void *arg)
{
    struct counter *c = arg;
    testing_run_threads(10, schedule_from_thread, c);
}

static void
call_soon_threadsafe_from_ten_threads_runs_every_callback(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct counter c = {.loop = loop, .in_order = 1};
    testing_thread_t *t = testing_thread_start(runner, &c);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    testing_thread_join(t);
    assert_int_equal(c.count, 1000);
    assert_true(c.in_order);
    weft_loop_free(loop);
}

struct later_set {
    weft_future_t *f;
    double delay;
};

static void set_later(void *arg)
{
    struct later_set *s = arg;
    weft_sleep(s->delay);
    weft_future_set_result(s->f, (void *)42);
}

static void
a_sleeping_loop_wakes_at_once_for_a_future_done_elsewhere(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *f;
    assert_int_equal(weft_future_new(&f), 0);
    struct later_set s = {f, 0.05};
    double t0 = weft_monotonic();
    testing_thread_t *t = testing_thread_start(set_later, &s);
    void *result = NULL;
    assert_int_equal(weft_loop_run_until_complete(loop, f, &result), 0);
    assert_elapsed_between(weft_monotonic() - t0, 0.05, 1.0);
    assert_ptr_equal(result, (void *)42);
    testing_thread_join(t);
    weft_future_free(f);
    weft_loop_free(loop);
}

static int on_done_count(weft_future_t *f, void *arg)
{
    int *n = arg;
    (*n)++;
    return 0;
}

static int stop_loop(void *arg)
{
    weft_loop_stop(arg);
    return 0;
}

static void
call_when_done_runs_on_the_loop_once_the_future_completes(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *f;
    assert_int_equal(weft_future_new(&f), 0);
    int n = 0;
    assert_int_equal(weft_loop_call_when_done(loop, f, on_done_count, &n), 0);
    struct later_set s = {f, 0.01};
    testing_thread_t *t = testing_thread_start(set_later, &s);
    testing_thread_join(t);
    weft_loop_call_soon(loop, stop_loop, loop, NULL);
    assert_int_equal(n, 0); /* not on the completing thread */
    weft_loop_run_forever(loop);
    assert_int_equal(n, 1);
    /* A registration whose future never completes is released with the
     * loop. */
    weft_future_t *never;
    weft_future_new(&never);
    weft_loop_call_when_done(loop, never, on_done_count, &n);
    weft_loop_free(loop);
    weft_future_set_result(never, NULL);
    assert_int_equal(n, 1);
    weft_future_free(never);
    weft_future_free(f);
}

static void run_until_complete_reports_the_futures_error(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *f;
    weft_future_new(&f);
    weft_future_set_error(f, WEFT_EUSER + 1, "it broke");
    assert_fails_with(weft_loop_run_until_complete(loop, f, NULL),
                      WEFT_EUSER + 1, "it broke");
    weft_future_free(f);
    weft_loop_free(loop);
}

static void a_loop_stopped_before_the_future_reports_it(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *f;
    weft_future_new(&f);
    weft_loop_call_soon(loop, stop_loop, loop, NULL);
    assert_fails_with(weft_loop_run_until_complete(loop, f, NULL), WEFT_ESTATE,
                      "stopped before");
    weft_future_set_result(f, NULL);
    weft_future_free(f);
    weft_loop_free(loop);
}

/* ----- Failing callbacks ----- */

struct errors {
    int calls;
    int code;
    char message[64];
    const void *callback;
};

static void catch_error(weft_loop_t *loop, const weft_loop_error_t *e,
                        void *arg)
{
    struct errors *er = arg;
    er->calls++;
    er->code = e->code;
    er->callback = e->callback;
    snprintf(er->message, sizeof er->message, "%s", e->message);
}

static int fails(void *arg)
{
    return weft_fail(WEFT_EUSER + 7, "callback %d failed", *(int *)arg);
}

static void
a_failing_callback_goes_to_the_handler_and_the_loop_goes_on(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct errors er = {0};
    weft_loop_set_exception_handler(loop, catch_error, &er);
    int id = 3;
    struct log log = {.loop = loop, .stop_after = 1};
    struct item after = {&log, 9};
    weft_loop_call_soon(loop, fails, &id, NULL);
    weft_loop_call_soon(loop, record, &after, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(er.calls, 1);
    assert_int_equal(er.code, WEFT_EUSER + 7);
    assert_string_equal(er.message, "callback 3 failed");
    assert_ptr_equal(er.callback, (const void *)fails);
    assert_int_equal(log.n, 1);
    weft_loop_free(loop);
}

/* External linkage, so that the default handler can name it. */
int loop_test_named_failure(void *arg);
int loop_test_named_failure(void *arg)
{
    return weft_fail(WEFT_EINVAL, "named callback %d failed", *(int *)arg);
}

/* Run loop until its ready callbacks ran, with stderr sent into a pipe;
 * returns what came. */
static void run_capturing_stderr(weft_loop_t *loop, char *out, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    weft_loop_call_soon(loop, stop_loop, loop, NULL);
    int rc = weft_loop_run_forever(loop);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    assert_int_equal(rc, 0);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(fds[0], out + len, size - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fds[0]);
}

/* asyncio's default handler logs the callback's own message; naming the
 * callback must not overwrite it (a function the linker cannot name is
 * shown by its address). */
static void the_default_handler_prints_the_callbacks_message(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    int unnamed = 3, named = 4;
    weft_loop_call_soon(loop, fails, &unnamed, NULL);
    weft_loop_call_soon(loop, loop_test_named_failure, &named, NULL);
    char out[1024];
    run_capturing_stderr(loop, out, sizeof out);
    char want[512];
    snprintf(want, sizeof want,
             "weft loop: exception in callback %p: WEFT_EUSER+7: callback 3 "
             "failed\n"
             "weft loop: exception in callback loop_test_named_failure: "
             "WEFT_EINVAL: named callback 4 failed\n",
             (void *)fails);
    assert_string_equal(out, want);
    weft_loop_free(loop);
}

/* A handler that calls weft (and so replaces the thread's last message)
 * still reads the callback's message from what it was given. */
static void careless_handler(weft_loop_t *loop, const weft_loop_error_t *e,
                             void *arg)
{
    weft_fail(WEFT_EKEY, "the handler's own failure");
    catch_error(loop, e, arg);
}

static void a_handler_that_calls_weft_keeps_the_message(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct errors er = {0};
    weft_loop_set_exception_handler(loop, careless_handler, &er);
    int id = 5;
    weft_loop_call_soon(loop, fails, &id, NULL);
    weft_loop_call_soon(loop, stop_loop, loop, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(er.calls, 1);
    assert_string_equal(er.message, "callback 5 failed");
    weft_loop_free(loop);
}

static int run_nested(void *arg)
{
    weft_loop_t *loop = arg;
    weft_loop_stop(loop);
    return weft_loop_run_forever(loop);
}

static void running_a_loop_inside_itself_is_refused(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct errors er = {0};
    weft_loop_set_exception_handler(loop, catch_error, &er);
    assert_null(weft_loop_running());
    weft_loop_call_soon(loop, run_nested, loop, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(er.code, WEFT_ESTATE);
    assert_non_null(strstr(er.message, "already running"));
    assert_false(weft_loop_is_running(loop));
    weft_loop_free(loop);
}

static void bad_arguments_are_refused_with_a_message(void **state)
{
    weft_loop_t *loop;
    assert_fails_with(weft_loop_new(NULL), WEFT_EINVAL, "NULL");
    assert_int_equal(weft_loop_new(&loop), 0);
    assert_fails_with(weft_loop_call_soon(loop, NULL, NULL, NULL), WEFT_EINVAL,
                      "NULL callback");
    assert_fails_with(weft_loop_call_later(loop, -1, fails, NULL, NULL),
                      WEFT_EINVAL, ">= 0");
    assert_fails_with(weft_loop_call_later(loop, NAN, fails, NULL, NULL),
                      WEFT_EINVAL, ">= 0");
    assert_fails_with(weft_loop_call_later(loop, -INFINITY, fails, NULL, NULL),
                      WEFT_EINVAL, ">= 0");
    assert_fails_with(weft_loop_call_at(loop, NAN, fails, NULL, NULL),
                      WEFT_EINVAL, "NaN");
    assert_fails_with(weft_loop_call_soon_threadsafe(loop, NULL, NULL),
                      WEFT_EINVAL, "NULL");
    assert_fails_with(weft_loop_run_until_complete(loop, NULL, NULL),
                      WEFT_EINVAL, "NULL");
    weft_loop_free(loop);
    weft_loop_free(NULL);
}

static void each_thread_has_its_own_default_loop(void **state)
{
    weft_loop_t *a, *b;
    assert_int_equal(weft_loop_default(&a), 0);
    assert_int_equal(weft_loop_default(&b), 0);
    assert_ptr_equal(a, b);
}

/* ----- Services ----- */

static int closed_with_loop;

static void service_close(weft_loop_t *loop, void *state)
{
    closed_with_loop = *(int *)state;
}

static const weft_loop_service_t service = {"test", service_close, NULL};

static void services_are_closed_with_their_loop(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    int v = 5;
    assert_int_equal(weft_loop_attach_service(loop, &service, &v), 0);
    assert_ptr_equal(weft_loop_service(loop, &service), &v);
    assert_fails_with(weft_loop_attach_service(loop, &service, &v), WEFT_EEXIST,
                      "already");
    weft_loop_free(loop);
    assert_int_equal(closed_with_loop, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            call_soon_runs_callbacks_in_the_order_they_were_scheduled),
        cmocka_unit_test(
            callbacks_scheduled_by_a_callback_run_in_the_next_iteration),
        cmocka_unit_test(
            a_cancelled_handle_never_runs_and_cancelling_twice_is_harmless),
        cmocka_unit_test(
            call_soon_threadsafe_from_ten_threads_runs_every_callback),
        cmocka_unit_test(
            a_sleeping_loop_wakes_at_once_for_a_future_done_elsewhere),
        cmocka_unit_test(
            call_when_done_runs_on_the_loop_once_the_future_completes),
        cmocka_unit_test(run_until_complete_reports_the_futures_error),
        cmocka_unit_test(a_loop_stopped_before_the_future_reports_it),
        cmocka_unit_test(
            a_failing_callback_goes_to_the_handler_and_the_loop_goes_on),
        cmocka_unit_test(running_a_loop_inside_itself_is_refused),
        cmocka_unit_test(the_default_handler_prints_the_callbacks_message),
        cmocka_unit_test(a_handler_that_calls_weft_keeps_the_message),
        cmocka_unit_test(bad_arguments_are_refused_with_a_message),
        cmocka_unit_test(each_thread_has_its_own_default_loop),
        cmocka_unit_test(services_are_closed_with_their_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
