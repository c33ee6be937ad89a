/* SPDX-License-Identifier: MIT */
/* future: states, outcomes, callbacks, completion by its owner. */
#include "testing.h"

#include <math.h>
#include <string.h>

static void a_new_future_is_pending(void **state)
{
    weft_future_t *f;
    assert_int_equal(weft_future_new(&f), 0);
    assert_int_equal(weft_future_state(f), WEFT_FUTURE_PENDING);
    assert_false(weft_future_done(f));
    assert_false(weft_future_running(f));
    assert_false(weft_future_cancelled(f));
    weft_future_free(f);
    weft_future_free(NULL);
    assert_fails_with(weft_future_new(NULL), WEFT_EINVAL, NULL);
}

static void set_result_then_result(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    assert_int_equal(weft_future_set_running_or_notify_cancel(f), 0);
    assert_true(weft_future_running(f));
    assert_int_equal(weft_future_set_result(f, (void *)42), 0);
    void *r = NULL;
    assert_int_equal(weft_future_result(f, 0, &r), 0);
    assert_ptr_equal(r, (void *)42);
    weft_error_info_t e;
    assert_int_equal(weft_future_error(f, 0, &e), 0);
    assert_int_equal(e.code, 0);
    weft_future_free(f);
}

static void completing_twice_is_invalid_state(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_future_set_result(f, NULL);
    assert_fails_with(weft_future_set_result(f, NULL), WEFT_ESTATE,
                      "already done");
    assert_fails_with(weft_future_set_error(f, WEFT_EUSER, "x"), WEFT_ESTATE,
                      "already done");
    weft_bytes_t b;
    weft_bytes_copy(&b, "abc", 3);
    assert_fails_with(weft_future_set_result_bytes(f, &b), WEFT_ESTATE, NULL);
    assert_int_equal(b.len, 3); /* still the caller's */
    weft_bytes_free(&b);
    assert_fails_with(weft_future_set_running_or_notify_cancel(f), WEFT_ESTATE,
                      NULL);
    assert_fails_with(weft_future_set_error(f, 0, "x"), WEFT_EINVAL, "code 0");
    weft_future_free(f);
}

static void an_error_carries_code_and_message(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_future_set_error(f, WEFT_EUSER + 3, "An error occurred with input %d",
                          3);
    weft_clear_message();
    assert_fails_with(weft_future_result(f, WEFT_FOREVER, NULL), WEFT_EUSER + 3,
                      "An error occurred with input 3");
    weft_error_info_t e;
    assert_int_equal(weft_future_error(f, 0, &e), 0);
    assert_int_equal(e.code, WEFT_EUSER + 3);
    assert_string_equal(e.message, "An error occurred with input 3");
    weft_future_free(f);
}

static void finish_maps_a_task_return(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_fail(WEFT_EINVAL, "bad item");
    assert_int_equal(weft_future_finish(f, WEFT_EINVAL, NULL), 0);
    assert_fails_with(weft_future_result(f, 0, NULL), WEFT_EINVAL, "bad item");
    weft_future_free(f);
}

static void byte_results_are_owned_by_the_future(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_bytes_t b;
    weft_bytes_copy(&b, "hello", 5);
    assert_int_equal(weft_future_set_result_bytes(f, &b), 0);
    assert_null(b.data);
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, 0, &r), 0);
    assert_memory_equal(r->data, "hello", 5);
    assert_fails_with(weft_future_result(f, 0, NULL), WEFT_EINVAL, "byte");
    weft_future_free(f); /* frees the bytes: ASan would tell */
}

static int count_call(weft_future_t *f, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void cancel_of_a_pending_future_runs_its_callbacks(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    int calls = 0;
    assert_int_equal(weft_future_add_done_callback(f, count_call, &calls), 0);
    assert_int_equal(calls, 0);
    assert_int_equal(weft_future_cancel(f), 0);
    assert_int_equal(calls, 1);
    assert_true(weft_future_cancelled(f));
    assert_true(weft_future_done(f));
    assert_int_equal(weft_future_cancel(f), 0); /* again: still cancelled */
    assert_int_equal(calls, 1);
    assert_fails_with(weft_future_result(f, 0, NULL), WEFT_ECANCELLED,
                      "cancelled");
    assert_fails_with(weft_future_set_running_or_notify_cancel(f),
                      WEFT_ECANCELLED, NULL);
    weft_future_free(f);
}

static void cancel_of_a_running_future_fails(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_future_set_running_or_notify_cancel(f);
    assert_fails_with(weft_future_cancel(f), WEFT_ESTATE, "running");
    weft_future_set_result(f, NULL);
    assert_fails_with(weft_future_cancel(f), WEFT_ESTATE, "finished");
    weft_future_free(f);
}

static void callbacks_run_once_and_at_once_when_done(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    int a = 0, b = 0;
    weft_future_add_done_callback(f, count_call, &a);
    weft_future_add_done_callback(f, count_call, &a);
    weft_future_set_result(f, NULL);
    assert_int_equal(a, 2);
    weft_future_add_done_callback(f, count_call, &b);
    assert_int_equal(b, 1);
    assert_fails_with(weft_future_add_done_callback(f, NULL, NULL),
                      WEFT_EINVAL, "NULL");
    weft_future_free(f);
}

static int failing_callback(weft_future_t *f, void *arg)
{
    (*(int *)arg)++;
    return weft_fail(WEFT_EUSER, "callback broke");
}

static void a_failing_callback_is_reported_not_propagated(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    int calls = 0;
    weft_future_add_done_callback(f, failing_callback, &calls);
    weft_future_add_done_callback(f, count_call, &calls);
    assert_int_equal(weft_future_set_result(f, NULL), 0);
    assert_int_equal(calls, 2); /* the second still ran */
    weft_future_free(f);
}

/* ----- CPython's test_future (test_concurrent_futures), on weft's -----
 *
 * The futures of util.py, one per state, and the questions test_future
 * asks of each. */

enum { PENDING_F, RUNNING_F, CANCELLED_F, CANCELLED_AND_NOTIFIED_F,
       EXCEPTION_F, SUCCESSFUL_F, NSTATES };

static weft_future_t *in_state(int which)
{
    weft_future_t *f;
    assert_int_equal(weft_future_new(&f), 0);
    if (which == RUNNING_F)
        assert_int_equal(weft_future_set_running_or_notify_cancel(f), 0);
    if (which == CANCELLED_F || which == CANCELLED_AND_NOTIFIED_F)
        assert_int_equal(weft_future_cancel(f), 0);
    if (which == CANCELLED_AND_NOTIFIED_F)
        assert_int_equal(weft_future_set_running_or_notify_cancel(f),
                         WEFT_ECANCELLED);
    if (which == EXCEPTION_F)
        weft_future_set_error(f, WEFT_EUSER, "OSError");
    if (which == SUCCESSFUL_F)
        weft_future_set_result(f, (void *)42);
    return f;
}

static void python_cancel(void **state)
{
    static const int cancels[NSTATES] = {0, WEFT_ESTATE, 0, 0, WEFT_ESTATE,
                                         WEFT_ESTATE};
    static const int after[NSTATES] = {
        WEFT_FUTURE_CANCELLED, WEFT_FUTURE_RUNNING, WEFT_FUTURE_CANCELLED,
        WEFT_FUTURE_CANCELLED_AND_NOTIFIED, WEFT_FUTURE_FINISHED,
        WEFT_FUTURE_FINISHED};
    for (int k = 0; k < NSTATES; k++) {
        weft_future_t *f = in_state(k);
        assert_int_equal(weft_future_cancel(f), cancels[k]);
        assert_int_equal(weft_future_state(f), after[k]);
        weft_future_free(f);
    }
}

static void python_cancelled_done_running(void **state)
{
    static const int cancelled[NSTATES] = {0, 0, 1, 1, 0, 0};
    static const int done[NSTATES] = {0, 0, 1, 1, 1, 1};
    static const int running[NSTATES] = {0, 1, 0, 0, 0, 0};
    for (int k = 0; k < NSTATES; k++) {
        weft_future_t *f = in_state(k);
        assert_int_equal(weft_future_cancelled(f) != 0, cancelled[k]);
        assert_int_equal(weft_future_done(f) != 0, done[k]);
        assert_int_equal(weft_future_running(f) != 0, running[k]);
        weft_future_free(f);
    }
}

static void python_result_and_exception_with_timeout(void **state)
{
    static const int result_rc[NSTATES] = {
        WEFT_ETIMEDOUT, WEFT_ETIMEDOUT, WEFT_ECANCELLED,
        WEFT_ECANCELLED, WEFT_EUSER,     0};
    static const int error_rc[NSTATES] = {WEFT_ETIMEDOUT,  WEFT_ETIMEDOUT,
                                          WEFT_ECANCELLED, WEFT_ECANCELLED,
                                          0,               0};
    for (int k = 0; k < NSTATES; k++) {
        weft_future_t *f = in_state(k);
        void *r = NULL;
        assert_int_equal(weft_future_result(f, 0, &r), result_rc[k]);
        weft_error_info_t e = {-1, ""};
        assert_int_equal(weft_future_error(f, 0, &e), error_rc[k]);
        if (k == EXCEPTION_F)
            assert_int_equal(e.code, WEFT_EUSER);
        if (k == SUCCESSFUL_F) {
            assert_ptr_equal(r, (void *)42);
            assert_int_equal(e.code, 0);
        }
        weft_future_free(f);
    }
}

static int note_cancelled(weft_future_t *f, void *arg)
{
    *(int *)arg = weft_future_cancelled(f) ? 1 : 0;
    return 0;
}

static void python_done_callback_with_cancel(void **state)
{
    int was_cancelled = -1;
    weft_future_t *f = in_state(PENDING_F);
    weft_future_add_done_callback(f, note_cancelled, &was_cancelled);
    assert_int_equal(weft_future_cancel(f), 0);
    assert_int_equal(was_cancelled, 1);
    weft_future_free(f);
    /* already cancelled: at once */
    was_cancelled = -1;
    f = in_state(CANCELLED_F);
    weft_future_add_done_callback(f, note_cancelled, &was_cancelled);
    assert_int_equal(was_cancelled, 1);
    weft_future_free(f);
}

static void python_multiple_set_result_and_set_exception(void **state)
{
    weft_future_t *f = in_state(PENDING_F);
    assert_int_equal(weft_future_set_result(f, (void *)1), 0);
    assert_fails_with(weft_future_set_result(f, (void *)2), WEFT_ESTATE,
                      "already done");
    assert_true(weft_future_done(f));
    void *r = NULL;
    assert_int_equal(weft_future_result(f, WEFT_FOREVER, &r), 0);
    assert_ptr_equal(r, (void *)1);
    weft_future_free(f);
    f = in_state(PENDING_F);
    assert_int_equal(weft_future_set_error(f, WEFT_EINVAL, "ValueError"), 0);
    assert_fails_with(weft_future_set_error(f, WEFT_EUSER, "Exception"),
                      WEFT_ESTATE, "already done");
    weft_error_info_t e;
    assert_int_equal(weft_future_error(f, 0, &e), 0);
    assert_int_equal(e.code, WEFT_EINVAL);
    assert_string_equal(e.message, "ValueError");
    weft_future_free(f);
}

/* _base.py: notifying twice, or a future that runs or is done, is
 * "Future in unexpected state" (RuntimeError). */
static void python_set_running_or_notify_cancel_in_each_state(void **state)
{
    static const int rc[NSTATES] = {0,           WEFT_ESTATE,
                                    WEFT_ECANCELLED, WEFT_ESTATE,
                                    WEFT_ESTATE, WEFT_ESTATE};
    static const int after[NSTATES] = {
        WEFT_FUTURE_RUNNING, WEFT_FUTURE_RUNNING,
        WEFT_FUTURE_CANCELLED_AND_NOTIFIED, WEFT_FUTURE_CANCELLED_AND_NOTIFIED,
        WEFT_FUTURE_FINISHED, WEFT_FUTURE_FINISHED};
    for (int k = 0; k < NSTATES; k++) {
        weft_future_t *f = in_state(k);
        assert_int_equal(weft_future_set_running_or_notify_cancel(f), rc[k]);
        assert_int_equal(weft_future_state(f), after[k]);
        /* The quiet claim of executors: never runs it, never fails. */
        assert_int_equal(weft_future_try_start(f), 0);
        weft_future_free(f);
    }
}

/* An executor dropping queued work: cancel_and_notify in each state. */
static void cancel_and_notify_in_each_state(void **state)
{
    static const int rc[NSTATES] = {0, WEFT_ESTATE, 0, 0, WEFT_ESTATE,
                                    WEFT_ESTATE};
    static const int after[NSTATES] = {
        WEFT_FUTURE_CANCELLED_AND_NOTIFIED, WEFT_FUTURE_RUNNING,
        WEFT_FUTURE_CANCELLED_AND_NOTIFIED, WEFT_FUTURE_CANCELLED_AND_NOTIFIED,
        WEFT_FUTURE_FINISHED, WEFT_FUTURE_FINISHED};
    for (int k = 0; k < NSTATES; k++) {
        weft_future_t *f = in_state(k);
        int calls = 0;
        weft_future_add_done_callback(f, count_call, &calls);
        assert_int_equal(weft_future_cancel_and_notify(f), rc[k]);
        assert_int_equal(weft_future_state(f), after[k]);
        assert_int_equal(calls, k == RUNNING_F ? 0 : 1);
        weft_future_free(f);
    }
}

/* A stopped task that returns WEFT_ECANCELLED is finished by its owner:
 * cancelled and notified. A task finished after a cancel notifies it. */
static void finishing_notifies_a_cancel(void **state)
{
    weft_future_t *f = in_state(RUNNING_F);
    assert_int_equal(weft_future_stop(f), 0);
    assert_int_equal(weft_future_finish(f, WEFT_ECANCELLED, NULL), 0);
    assert_int_equal(weft_future_state(f), WEFT_FUTURE_CANCELLED_AND_NOTIFIED);
    weft_future_free(f);
    f = in_state(CANCELLED_F);
    assert_fails_with(weft_future_finish(f, 0, (void *)1), WEFT_ESTATE,
                      "cancelled");
    assert_int_equal(weft_future_state(f), WEFT_FUTURE_CANCELLED_AND_NOTIFIED);
    weft_future_free(f);
}

static void result_times_out_on_a_future_that_never_finishes(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    double t0 = weft_monotonic();
    assert_fails_with(weft_future_result(f, 0.2, NULL), WEFT_ETIMEDOUT,
                      "not done");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_future_result(f, 0, NULL), WEFT_ETIMEDOUT, NULL);
    assert_fails_with(weft_future_result(f, -3, NULL), WEFT_EINVAL, NULL);
    weft_future_free(f);
}

/* base.h's rule: any negative timeout but WEFT_FOREVER, or NaN, is
 * WEFT_EINVAL, checked before anything else, so a done future does not
 * hide a bad timeout; 0 polls, WEFT_FOREVER waits without limit. */
static const double bad_timeouts[] = {-0.5, -2, -INFINITY, NAN};
#define NBAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

static void every_wait_checks_its_timeout_before_looking(void **state)
{
    weft_future_t *done, *failed, *bytes, *cancelled, *pending;
    weft_future_new(&done);
    weft_future_new(&failed);
    weft_future_new(&bytes);
    weft_future_new(&cancelled);
    weft_future_new(&pending);
    weft_future_set_result(done, (void *)7);
    weft_future_set_error(failed, WEFT_EUSER, "no");
    weft_bytes_t b;
    weft_bytes_copy(&b, "x", 1);
    weft_future_set_result_bytes(bytes, &b);
    weft_future_cancel(cancelled);
    weft_future_t *all[] = {done, failed, bytes, cancelled, pending};
    for (size_t i = 0; i < NBAD; i++) {
        double t = bad_timeouts[i];
        void *r = NULL;
        const weft_bytes_t *rb = NULL;
        weft_error_info_t e;
        for (size_t k = 0; k < 5; k++) {
            assert_fails_with(weft_future_wait(all[k], t), WEFT_EINVAL,
                              "timeout");
            assert_fails_with(weft_future_result(all[k], t, &r), WEFT_EINVAL,
                              "timeout");
            assert_fails_with(weft_future_result_bytes(all[k], t, &rb),
                              WEFT_EINVAL, "timeout");
            assert_fails_with(weft_future_error(all[k], t, &e), WEFT_EINVAL,
                              "timeout");
        }
        assert_null(r);
        assert_null(rb);
    }
    /* 0 polls; WEFT_FOREVER on a done future returns at once. */
    void *r = NULL;
    assert_int_equal(weft_future_result(done, 0, &r), 0);
    assert_ptr_equal(r, (void *)7);
    assert_int_equal(weft_future_result(done, WEFT_FOREVER, &r), 0);
    assert_fails_with(weft_future_wait(pending, 0), WEFT_ETIMEDOUT, NULL);
    assert_fails_with(weft_future_result(cancelled, WEFT_FOREVER, NULL),
                      WEFT_ECANCELLED, NULL);
    for (size_t k = 0; k < 5; k++)
        weft_future_free(all[k]);
}

struct finisher {
    weft_future_t *f;
};

static void finish_later(void *arg)
{
    struct finisher *x = arg;
    weft_sleep(0.05);
    weft_future_set_result(x->f, (void *)7);
}

static void a_waiter_wakes_when_another_thread_completes(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    struct finisher x = {f};
    testing_thread_t *t = testing_thread_start(finish_later, &x);
    void *r = NULL;
    assert_int_equal(weft_future_result(f, WEFT_FOREVER, &r), 0);
    assert_ptr_equal(r, (void *)7);
    testing_thread_join(t);
    weft_future_free(f);
}

static void stop_of_a_pending_future_cancels_it(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    assert_int_equal(weft_future_stop(f), 0);
    assert_true(weft_future_cancelled(f));
    weft_future_free(f);
    weft_future_new(&f);
    weft_future_set_running_or_notify_cancel(f);
    assert_int_equal(weft_future_stop(f), 0);
    const _Atomic uint32_t *word = weft_future_stop_word(f);
    assert_true(atomic_load(word) & WEFT_FUTURE_STOP_BIT);
    /* A task that gives up with WEFT_ECANCELLED leaves it cancelled. */
    assert_int_equal(weft_future_finish(f, WEFT_ECANCELLED, NULL), 0);
    assert_true(weft_future_cancelled(f));
    assert_int_equal(weft_future_stop(f), 0); /* cancelled: nothing to do */
    weft_future_free(f);
}

/* Many threads wait on one future; one completes it: all wake. */
struct crowd {
    weft_future_t *f;
    _Atomic int woke;
};

static void wait_or_finish(void *arg, unsigned i)
{
    struct crowd *c = arg;
    if (i == 0) {
        weft_sleep(0.05);
        weft_future_set_result(c->f, NULL);
        return;
    }
    assert_int_equal(weft_future_wait(c->f, WEFT_FOREVER), 0);
    atomic_fetch_add(&c->woke, 1);
}

static void every_waiter_wakes(void **state)
{
    struct crowd c;
    weft_future_new(&c.f);
    atomic_init(&c.woke, 0);
    testing_run_threads(8, wait_or_finish, &c);
    assert_int_equal(atomic_load(&c.woke), 7);
    weft_future_free(c.f);
}

/* ----- A class whose waiters work instead of sleeping ----- */

struct working {
    _Atomic int calls;
    int complete; /* the hook completes the future itself */
};

static struct working working;

static int working_wait(weft_future_t *f, int64_t deadline)
{
    atomic_fetch_add(&working.calls, 1);
    if (!working.complete)
        return WEFT_EAGAIN;
    weft_future_set_result(f, (void *)42);
    return 0;
}

static const weft_future_class_t working_class = {WEFT_FUTURE_SIZE, NULL,
                                                  NULL, working_wait};
static const weft_future_class_t idle_class = {WEFT_FUTURE_SIZE, NULL, NULL,
                                               NULL};

static void a_class_wait_hook_runs_instead_of_parking(void **state)
{
    weft_future_t *f;
    assert_int_equal(weft_future_new_of(&f, &working_class, 1), 0);
    working.complete = 1;
    void *r = NULL;
    assert_int_equal(weft_future_result(f, 1.0, &r), 0);
    assert_ptr_equal(r, (void *)42);
    assert_int_equal(atomic_load(&working.calls), 1);
    /* Done futures do not call it. */
    assert_int_equal(weft_future_result(f, 1.0, &r), 0);
    assert_int_equal(atomic_load(&working.calls), 1);
    weft_future_free(f);
    /* EAGAIN: the wait parks, and another thread completes it. */
    working.complete = 0;
    assert_int_equal(weft_future_new_of(&f, &working_class, 1), 0);
    struct finisher x = {f};
    testing_thread_t *t = testing_thread_start(finish_later, &x);
    assert_int_equal(weft_future_result(f, WEFT_FOREVER, &r), 0);
    assert_ptr_equal(r, (void *)7);
    assert_int_equal(atomic_load(&working.calls), 2);
    testing_thread_join(t);
    weft_future_free(f);
    /* A class without one: plain parking. */
    assert_int_equal(weft_future_new_of(&f, &idle_class, 1), 0);
    assert_int_equal(weft_future_wait(f, 0.01), WEFT_ETIMEDOUT);
    assert_int_equal(atomic_load(&working.calls), 2);
    weft_future_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_future_is_pending),
        cmocka_unit_test(set_result_then_result),
        cmocka_unit_test(completing_twice_is_invalid_state),
        cmocka_unit_test(an_error_carries_code_and_message),
        cmocka_unit_test(finish_maps_a_task_return),
        cmocka_unit_test(byte_results_are_owned_by_the_future),
        cmocka_unit_test(cancel_of_a_pending_future_runs_its_callbacks),
        cmocka_unit_test(cancel_of_a_running_future_fails),
        cmocka_unit_test(callbacks_run_once_and_at_once_when_done),
        cmocka_unit_test(a_failing_callback_is_reported_not_propagated),
        cmocka_unit_test(python_cancel),
        cmocka_unit_test(python_cancelled_done_running),
        cmocka_unit_test(python_result_and_exception_with_timeout),
        cmocka_unit_test(python_done_callback_with_cancel),
        cmocka_unit_test(python_multiple_set_result_and_set_exception),
        cmocka_unit_test(python_set_running_or_notify_cancel_in_each_state),
        cmocka_unit_test(cancel_and_notify_in_each_state),
        cmocka_unit_test(finishing_notifies_a_cancel),
        cmocka_unit_test(result_times_out_on_a_future_that_never_finishes),
        cmocka_unit_test(every_wait_checks_its_timeout_before_looking),
        cmocka_unit_test(a_waiter_wakes_when_another_thread_completes),
        cmocka_unit_test(stop_of_a_pending_future_cancels_it),
        cmocka_unit_test(every_waiter_wakes),
        cmocka_unit_test(a_class_wait_hook_runs_instead_of_parking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
