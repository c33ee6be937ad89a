/* SPDX-License-Identifier: MIT */
/* Cancellation of tasks: at a suspension point, level-triggered, counted,
 * shields for clean-up, deadline scopes (asyncio.timeout), wait_for and
 * gather, and a cancellation never reported as a timeout. */
#include "testing.h"

#include <math.h>
#include <string.h>

struct probe {
    int first, second, shielded, cleanup_sleep;
    double took;
    weft_event_t event;
};

static int sleep_and_observe(void *arg, void **result)
{
    struct probe *p = arg;
    double t0 = weft_monotonic();
    p->first = weft_sleep(30);
    p->took = weft_monotonic() - t0;
    p->second = weft_sleep(0.001); /* level-triggered: still cancelled */
    weft_cancel_scope_t shield;
    weft_cancel_scope_init(&shield);
    weft_cancel_scope_enter(&shield, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    p->cleanup_sleep = weft_sleep(0.01); /* clean-up may block */
    weft_cancel_scope_exit(&shield);
    return p->first;
}

static int cancel_after(void *arg, void **result)
{
    weft_sleep(0.02);
    return weft_task_cancel(arg);
}

static void
a_task_cancelled_during_a_sleep_sees_it_there_and_after(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct probe p;
    memset(&p, 0, sizeof p);
    weft_future_t *f, *c;
    weft_task_create(&f, loop, sleep_and_observe, &p);
    weft_task_create(&c, loop, cancel_after, f);
    assert_fails_with(weft_loop_run_until_complete(loop, f, NULL),
                      WEFT_ECANCELLED, "cancelled");
    assert_int_equal(p.first, WEFT_ECANCELLED);
    assert_int_equal(p.second, WEFT_ECANCELLED);
    assert_int_equal(p.cleanup_sleep, 0);
    assert_elapsed_between(p.took, 0.02, 1.0);
    assert_true(weft_future_cancelled(f));
    assert_int_equal(weft_task_cancelling(f), 1);
    assert_int_equal(weft_loop_run_until_complete(loop, c, NULL), 0);
    assert_fails_with(weft_task_cancel(f), WEFT_ESTATE, "finished");
    weft_future_free(f);
    weft_future_free(c);
    weft_loop_free(loop);
}

static int wait_event(void *arg, void **result)
{
    struct probe *p = arg;
    p->first = weft_event_wait(&p->event, WEFT_FOREVER);
    return p->first == WEFT_ECANCELLED ? 0 : p->first; /* caught */
}

static void cancel_from(void *arg)
{
    weft_sleep(0.02);
    weft_task_cancel(arg);
}

static void
a_task_cancelled_from_another_thread_during_an_event_wait(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct probe p;
    memset(&p, 0, sizeof p);
    weft_event_init(&p.event);
    weft_future_t *f;
    weft_task_create(&f, loop, wait_event, &p);
    testing_thread_t *t = testing_thread_start(cancel_from, f);
    /* The task caught the cancellation and returned normally: its future
     * holds a result, as when a Python task swallows CancelledError. */
    assert_int_equal(weft_loop_run_until_complete(loop, f, NULL), 0);
    assert_int_equal(p.first, WEFT_ECANCELLED);
    assert_false(weft_future_cancelled(f));
    testing_thread_join(t);
    weft_future_free(f);
    weft_loop_free(loop);
}

struct getter {
    weft_queue_t *q;
    int rc;
    void *item;
};

static int get_one(void *arg, void **result)
{
    struct getter *g = arg;
    g->rc = weft_queue_get(g->q, &g->item, WEFT_FOREVER);
    return g->rc;
}

static void a_task_cancelled_during_a_queue_get_takes_nothing(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct getter g = {NULL, 0, NULL};
    assert_int_equal(weft_queue_new(&g.q, 0), 0);
    weft_future_t *f, *c;
    weft_task_create(&f, loop, get_one, &g);
    weft_task_create(&c, loop, cancel_after, f);
    weft_loop_run_until_complete(loop, f, NULL);
    assert_int_equal(g.rc, WEFT_ECANCELLED);
    assert_true(weft_future_cancelled(f));
    /* The item put afterwards is still there: the cancelled get took
     * nothing. */
    weft_queue_put(g.q, (void *)3, WEFT_FOREVER);
    void *item = NULL;
    assert_int_equal(weft_queue_get_nowait(g.q, &item), 0);
    assert_ptr_equal(item, (void *)3);
    weft_loop_run_until_complete(loop, c, NULL);
    weft_future_free(f);
    weft_future_free(c);
    weft_queue_free(g.q);
    weft_loop_free(loop);
}

/* ----- Deadlines: asyncio.timeout ----- */

struct deadline_probe {
    int inner, exit, after, outer_after;
};

static int timeout_block(void *arg, void **result)
{
    struct deadline_probe *d = arg;
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    weft_cancel_scope_enter(&s, 0.03, 0);
    d->inner = weft_sleep(10);
    d->exit = weft_cancel_scope_exit(&s);
    d->after = weft_sleep(0.001); /* the task itself is not cancelled */
    return 0;
}

static void
a_deadline_scope_cancels_the_block_and_its_exit_says_timed_out(void **state)
{
    struct deadline_probe d = {0};
    double t0 = weft_monotonic();
    assert_int_equal(weft_run(timeout_block, &d, NULL), 0);
    assert_elapsed_between(weft_monotonic() - t0, 0.03, 1.0);
    assert_int_equal(d.inner, WEFT_ECANCELLED);
    assert_int_equal(d.exit, WEFT_ETIMEDOUT);
    assert_int_equal(d.after, 0);
}

static int timeout_block_cancelled(void *arg, void **result)
{
    struct deadline_probe *d = arg;
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    /* A deadline far beyond the outer cancel (at 0.02 s), so that even a
     * slow machine sees the cancel first. */
    weft_cancel_scope_enter(&s, 5.0, 0);
    d->inner = weft_sleep(10);
    weft_sleep(0.1); /* already cancelled: returns at once */
    d->exit = weft_cancel_scope_exit(&s);
    d->outer_after = weft_sleep(0.001);
    return d->outer_after;
}

static void an_outer_cancel_is_never_swallowed_by_a_deadline_scope(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct deadline_probe d = {0};
    weft_future_t *f, *c;
    weft_task_create(&f, loop, timeout_block_cancelled, &d);
    weft_task_create(&c, loop, cancel_after, f);
    weft_loop_run_until_complete(loop, f, NULL);
    assert_int_equal(d.inner, WEFT_ECANCELLED);
    assert_int_equal(d.exit, 0); /* its own deadline did not strike */
    assert_int_equal(d.outer_after, WEFT_ECANCELLED);
    assert_true(weft_future_cancelled(f));
    weft_loop_run_until_complete(loop, c, NULL);
    weft_future_free(f);
    weft_future_free(c);
    weft_loop_free(loop);
}

/* ----- wait_for ----- */

static int slow_value(void *arg, void **result)
{
    int rc = weft_sleep(*(double *)arg);
    *result = (void *)5;
    return rc;
}

struct wf {
    double inner_time, timeout;
    int rc, after;
    void *result;
    weft_future_t *inner;
};

static int do_wait_for(void *arg, void **result)
{
    struct wf *w = arg;
    weft_task_create(&w->inner, NULL, slow_value, &w->inner_time);
    w->rc = weft_wait_for(w->inner, w->timeout, &w->result);
    w->after = weft_sleep(0.001);
    return 0;
}

static void wait_for_times_out_and_cancels_the_inner_task(void **state)
{
    struct wf w = {10, 0.03, 0, 0, NULL, NULL};
    double t0 = weft_monotonic();
    assert_int_equal(weft_run(do_wait_for, &w, NULL), 0);
    assert_elapsed_between(weft_monotonic() - t0, 0.03, 1.0);
    assert_int_equal(w.rc, WEFT_ETIMEDOUT);
    assert_true(weft_future_cancelled(w.inner));
    assert_int_equal(w.after, 0);
    weft_future_free(w.inner);
}

static void wait_for_gives_the_result_in_time(void **state)
{
    struct wf w = {0.01, 1.0, 0, 0, NULL, NULL};
    assert_int_equal(weft_run(do_wait_for, &w, NULL), 0);
    assert_int_equal(w.rc, 0);
    assert_ptr_equal(w.result, (void *)5);
    weft_future_free(w.inner);
}

static int cancel_self_then_wait_for(void *arg, void **result)
{
    struct wf *w = arg;
    weft_task_create(&w->inner, NULL, slow_value, &w->inner_time);
    weft_task_cancel(weft_task_current());
    /* Cancelled before waiting, with a timeout of 0: still a cancel. */
    w->rc = weft_wait_for(w->inner, 0, &w->result);
    w->after = weft_sleep(0.001);
    return w->rc;
}

static void wait_for_never_turns_the_callers_cancel_into_a_timeout(void **state)
{
    struct wf w = {10, 0, 0, 0, NULL, NULL};
    assert_int_equal(weft_run(cancel_self_then_wait_for, &w, NULL),
                     WEFT_ECANCELLED);
    assert_int_equal(w.rc, WEFT_ECANCELLED);
    assert_int_equal(w.after, WEFT_ECANCELLED);
    assert_true(weft_future_cancelled(w.inner));
    weft_future_free(w.inner);
}

/* A bad timeout is refused first: before the inner future is looked at
 * (done here), and before the caller's own cancellation; the inner
 * future is left alone. */
static int wait_for_with_bad_timeouts(void *arg, void **result)
{
    weft_future_t *done = arg;
    const double bad[] = {-0.5, -2, -INFINITY, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *r = NULL;
        if (weft_wait_for(done, bad[i], &r) != WEFT_EINVAL ||
            !testing_message_has("timeout") || r != NULL)
            return weft_fail(WEFT_EUSER, "timeout %g was taken", bad[i]);
    }
    weft_task_cancel(weft_task_current());
    if (weft_wait_for(done, NAN, NULL) != WEFT_EINVAL)
        return weft_fail(WEFT_EUSER, "NaN was taken by a cancelled task");
    void *r = NULL;
    if (weft_wait_for(done, 0, &r) != WEFT_ECANCELLED)
        return weft_fail(WEFT_EUSER, "the cancel was lost");
    return 0;
}

static void wait_for_checks_its_timeout_first(void **state)
{
    weft_future_t *done;
    weft_future_new(&done);
    weft_future_set_result(done, (void *)5);
    assert_int_equal(weft_run(wait_for_with_bad_timeouts, done, NULL), 0);
    assert_false(weft_future_cancelled(done));
    /* From a plain thread, too; 0 and WEFT_FOREVER take a done future. */
    void *r = NULL;
    assert_fails_with(weft_wait_for(done, -1.5, &r), WEFT_EINVAL, "timeout");
    assert_int_equal(weft_wait_for(done, 0, &r), 0);
    assert_ptr_equal(r, (void *)5);
    assert_int_equal(weft_wait_for(done, WEFT_FOREVER, &r), 0);
    weft_future_free(done);
}

static void a_cancel_during_wait_for_reaches_the_inner_task(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct wf w = {10, 5, 0, 0, NULL, NULL};
    weft_future_t *f, *c;
    weft_task_create(&f, loop, do_wait_for, &w);
    weft_task_create(&c, loop, cancel_after, f);
    weft_loop_run_until_complete(loop, f, NULL);
    assert_int_equal(w.rc, WEFT_ECANCELLED);
    assert_int_equal(w.after, WEFT_ECANCELLED);
    assert_true(weft_future_cancelled(w.inner));
    weft_loop_run_until_complete(loop, c, NULL);
    weft_future_free(w.inner);
    weft_future_free(f);
    weft_future_free(c);
    weft_loop_free(loop);
}

/* ----- gather ----- */

static int value_after(void *arg, void **result)
{
    intptr_t v = (intptr_t)arg;
    weft_sleep(0.001 * (double)(v % 7));
    *result = (void *)v;
    if (v < 0)
        return weft_fail(WEFT_EUSER + 1, "negative %ld", (long)v);
    return 0;
}

static int gather_all(void *arg, void **result)
{
    intptr_t vals[4] = {3, -2, 5, -6};
    weft_future_t *fs[4];
    for (int i = 0; i < 4; i++)
        weft_task_create(&fs[i], NULL, value_after, (void *)vals[i]);
    void *res[4];
    weft_error_info_t errs[4];
    int rc = weft_gather(fs, 4, 1, res, errs);
    assert_int_equal(rc, 0);
    assert_ptr_equal(res[0], (void *)3);
    assert_ptr_equal(res[2], (void *)5);
    assert_null(res[1]);
    assert_int_equal(errs[0].code, 0);
    assert_int_equal(errs[1].code, WEFT_EUSER + 1);
    assert_string_equal(errs[3].message, "negative -6");
    rc = weft_gather(fs, 4, 0, res, NULL);
    for (int i = 0; i < 4; i++)
        weft_future_free(fs[i]);
    return rc;
}

static void gather_collects_errors_or_reports_the_first(void **state)
{
    assert_fails_with(weft_run(gather_all, NULL, NULL), WEFT_EUSER + 1,
                      "negative");
}

static int gather_long(void *arg, void **result)
{
    weft_future_t **fs = arg;
    double d = 10;
    for (int i = 0; i < 3; i++)
        weft_task_create(&fs[i], NULL, slow_value, &d);
    return weft_gather(fs, 3, 0, NULL, NULL);
}

static void cancelling_a_gather_cancels_its_children(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *children[3], *f, *c;
    weft_task_create(&f, loop, gather_long, children);
    weft_task_create(&c, loop, cancel_after, f);
    assert_fails_with(weft_loop_run_until_complete(loop, f, NULL),
                      WEFT_ECANCELLED, "cancelled");
    for (int i = 0; i < 3; i++) {
        weft_loop_run_until_complete(loop, children[i], NULL);
        assert_true(weft_future_cancelled(children[i]));
        weft_future_free(children[i]);
    }
    weft_loop_run_until_complete(loop, c, NULL);
    weft_future_free(f);
    weft_future_free(c);
    weft_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            a_task_cancelled_during_a_sleep_sees_it_there_and_after),
        cmocka_unit_test(
            a_task_cancelled_from_another_thread_during_an_event_wait),
        cmocka_unit_test(a_task_cancelled_during_a_queue_get_takes_nothing),
        cmocka_unit_test(
            a_deadline_scope_cancels_the_block_and_its_exit_says_timed_out),
        cmocka_unit_test(
            an_outer_cancel_is_never_swallowed_by_a_deadline_scope),
        cmocka_unit_test(wait_for_times_out_and_cancels_the_inner_task),
        cmocka_unit_test(wait_for_gives_the_result_in_time),
        cmocka_unit_test(
            wait_for_never_turns_the_callers_cancel_into_a_timeout),
        cmocka_unit_test(wait_for_checks_its_timeout_first),
        cmocka_unit_test(a_cancel_during_wait_for_reaches_the_inner_task),
        cmocka_unit_test(gather_collects_errors_or_reports_the_first),
        cmocka_unit_test(cancelling_a_gather_cancels_its_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
