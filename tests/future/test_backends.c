/* SPDX-License-Identifier: MIT */
/* future: what every backend's futures owe weft_wait() and as_completed.
 *
 * A future cancelled while queued counts for them once its executor has
 * seen the cancel (Python's CANCELLED_AND_NOTIFIED). An executor that
 * drops its queue at shutdown never claims those futures, so the drop
 * itself must notify them: else a wait on them would last forever (as it
 * does in Python after shutdown(cancel_futures=True)). Checked here for
 * the thread pool and the process pool, through the one future type. */
#include "testing_proc.h"

#include <string.h>

#define QUEUED 10

struct gate {
    weft_event_t started, open;
};

static int wait_for_gate(void *arg, void **result)
{
    struct gate *g = arg;
    weft_event_set(&g->started);
    return weft_event_wait(&g->open, WEFT_FOREVER);
}

static int nothing(void *arg, void **result)
{
    return 0;
}

static int nap(const weft_bytes_t *arg, weft_bytes_t *result)
{
    double s;
    memcpy(&s, arg->data, sizeof s);
    return weft_sleep(s);
}

static int echo(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_bytes_copy(result, arg->data, arg->len);
}

/* Every queued future is done for wait() after the shutdown, and each is
 * cancelled (or, had it started before the shutdown, finished). */
static void check_all_count(weft_future_t **queued)
{
    weft_future_t *done[QUEUED];
    size_t nd = 0, nn = 0;
    assert_int_equal(weft_wait(queued, QUEUED, 10 * testing_scale(),
                               WEFT_ALL_COMPLETED, done, &nd, NULL, &nn),
                     0);
    assert_int_equal(nn, 0);
    assert_int_equal(nd, QUEUED);
    size_t cancelled = 0;
    for (int i = 0; i < QUEUED; i++) {
        int st = weft_future_state(queued[i]);
        assert_true(st == WEFT_FUTURE_CANCELLED_AND_NOTIFIED ||
                    st == WEFT_FUTURE_FINISHED);
        cancelled += st == WEFT_FUTURE_CANCELLED_AND_NOTIFIED;
    }
    assert_true(cancelled > 0);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, queued, QUEUED, 0), 0);
    weft_future_t *f;
    int yielded = 0;
    while (weft_as_completed_next(it, &f) == 0)
        yielded++;
    assert_int_equal(yielded, QUEUED);
    weft_as_completed_free(it);
}

static void a_thread_pool_notifies_what_its_shutdown_cancels(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t o = {.max_workers = 1};
    assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
    struct gate gate;
    weft_event_init(&gate.started);
    weft_event_init(&gate.open);
    weft_future_t *first, *queued[QUEUED];
    assert_int_equal(weft_executor_submit(ex, wait_for_gate, &gate, &first),
                     0);
    for (int i = 0; i < QUEUED; i++)
        assert_int_equal(weft_executor_submit(ex, nothing, NULL, &queued[i]),
                         0);
    /* The one worker is busy with the first: the others stay queued. */
    assert_int_equal(weft_event_wait(&gate.started, WEFT_FOREVER), 0);
    assert_int_equal(weft_executor_shutdown(ex, 0, 1, 0), 0);
    weft_event_set(&gate.open);
    check_all_count(queued);
    assert_int_equal(weft_future_result(first, 10 * testing_scale(), NULL), 0);
    for (int i = 0; i < QUEUED; i++)
        weft_future_free(queued[i]);
    weft_future_free(first);
    weft_executor_free(ex);
}

static void a_process_pool_notifies_what_its_shutdown_cancels(void **state)
{
    weft_executor_t *ex;
    weft_process_pool_opts_t o = {0};
    o.max_workers = 1;
    assert_int_equal(weft_process_pool_new(&ex, &o), 0);
    double s = 0.3;
    weft_future_t *first, *queued[QUEUED];
    assert_int_equal(weft_executor_submit_bytes(ex, nap, &s, sizeof s, &first),
                     0);
    for (long i = 0; i < QUEUED; i++)
        assert_int_equal(weft_executor_submit_bytes(ex, echo, &i, sizeof i,
                                                    &queued[i]),
                         0);
    /* Poll (not sleep to synchronize) until the worker has the first. */
    while (!weft_future_running(first) && !weft_future_done(first))
        weft_sleep(1e-3);
    assert_int_equal(weft_executor_shutdown(ex, 0, 1, 0), 0);
    check_all_count(queued);
    assert_int_equal(weft_future_result_bytes(first, 10 * testing_scale(), NULL),
                     0);
    for (int i = 0; i < QUEUED; i++)
        weft_future_free(queued[i]);
    weft_future_free(first);
    weft_executor_free(ex);
}

/* A coroutine task cancelled before it started: weft_task_cancel() is its
 * loop's own word, so it is notified at once; a plain weft_future_cancel()
 * of it is noticed when the loop gets to the task. */
static int stop_loop(void *arg)
{
    weft_loop_stop(arg);
    return 0;
}

static void a_loop_notifies_a_task_cancelled_before_it_ran(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(weft_task_create(&t[i], loop, nothing, NULL), 0);
    assert_int_equal(weft_task_cancel(t[0]), 0);
    assert_int_equal(weft_future_state(t[0]),
                     WEFT_FUTURE_CANCELLED_AND_NOTIFIED);
    assert_int_equal(weft_future_cancel(t[1]), 0);
    assert_int_equal(weft_future_state(t[1]), WEFT_FUTURE_CANCELLED);
    weft_loop_call_soon(loop, stop_loop, loop, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    size_t nd = 0;
    assert_int_equal(weft_wait(t, 2, 10 * testing_scale(), WEFT_ALL_COMPLETED,
                               NULL, &nd, NULL, NULL),
                     0);
    assert_int_equal(nd, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(weft_future_state(t[i]),
                         WEFT_FUTURE_CANCELLED_AND_NOTIFIED);
        weft_future_free(t[i]);
    }
    weft_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_thread_pool_notifies_what_its_shutdown_cancels),
        testing_proc_test(a_process_pool_notifies_what_its_shutdown_cancels),
        cmocka_unit_test(a_loop_notifies_a_task_cancelled_before_it_ran),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
