/* SPDX-License-Identifier: MIT */
/* future: as_completed, wait, and the progress bar. */
#include "testing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void make(weft_future_t **fs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(weft_future_new(&fs[i]), 0);
}

static void drop(weft_future_t **fs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        weft_future_free(fs[i]);
}

struct completer {
    weft_future_t **fs;
    int order[4];
};

static void complete_in_order(void *arg)
{
    struct completer *c = arg;
    for (int k = 0; k < 4; k++) {
        weft_sleep(0.02);
        weft_future_set_result(c->fs[c->order[k]], NULL);
    }
}

static void as_completed_yields_in_completion_order(void **state)
{
    weft_future_t *fs[4];
    make(fs, 4);
    struct completer c = {fs, {2, 0, 3, 1}};
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, fs, 4, WEFT_FOREVER), 0);
    testing_thread_t *t = testing_thread_start(complete_in_order, &c);
    for (int k = 0; k < 4; k++) {
        weft_future_t *f;
        assert_int_equal(weft_as_completed_next(it, &f), 0);
        assert_ptr_equal(f, fs[c.order[k]]);
    }
    weft_future_t *f;
    assert_fails_with(weft_as_completed_next(it, &f), WEFT_EEOF, NULL);
    testing_thread_join(t);
    weft_as_completed_free(it);
    drop(fs, 4);
}

static void as_completed_yields_duplicates_once(void **state)
{
    weft_future_t *fs[2];
    make(fs, 2);
    weft_future_set_result(fs[1], NULL);
    weft_future_t *list[5] = {fs[0], fs[1], fs[0], fs[1], fs[1]};
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, list, 5, WEFT_FOREVER), 0);
    weft_future_t *f;
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    assert_ptr_equal(f, fs[1]); /* done ones first */
    weft_future_set_result(fs[0], NULL);
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    assert_ptr_equal(f, fs[0]);
    assert_int_equal(weft_as_completed_next(it, &f), WEFT_EEOF);
    weft_as_completed_free(it);
    drop(fs, 2);
}

static void as_completed_times_out_naming_the_unfinished(void **state)
{
    weft_future_t *fs[5];
    make(fs, 5);
    weft_future_set_result(fs[0], NULL);
    weft_future_set_result(fs[3], NULL);
    weft_as_completed_t *it;
    double t0 = weft_monotonic();
    assert_int_equal(weft_as_completed_new(&it, fs, 5, 0.2), 0);
    weft_future_t *f;
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    assert_fails_with(weft_as_completed_next(it, &f), WEFT_ETIMEDOUT,
                      "3 (of 5) futures unfinished");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    weft_as_completed_free(it); /* takes its callbacks back */
    drop(fs, 5);
}

static void futures_can_be_added_while_iterating(void **state)
{
    weft_future_t *fs[2];
    make(fs, 2);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, fs, 1, WEFT_FOREVER), 0);
    weft_future_set_result(fs[0], NULL);
    weft_future_t *f;
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    assert_int_equal(weft_as_completed_add(it, fs[1]), 0);
    weft_future_set_result(fs[1], NULL);
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    assert_ptr_equal(f, fs[1]);
    assert_int_equal(weft_as_completed_next(it, &f), WEFT_EEOF);
    weft_as_completed_free(it);
    drop(fs, 2);
}

static void bad_arguments_are_refused(void **state)
{
    weft_as_completed_t *it;
    weft_future_t *none[1] = {NULL};
    assert_fails_with(weft_as_completed_new(&it, none, 1, 1), WEFT_EINVAL,
                      "NULL");
    assert_fails_with(weft_as_completed_new(NULL, none, 0, 1), WEFT_EINVAL,
                      NULL);
    assert_fails_with(weft_wait(none, 0, 1, 9, NULL, NULL, NULL, NULL),
                      WEFT_EINVAL, "return_when");
}

/* A bad timeout is refused before anything else, even when every future
 * is done or there is none. */
static void wait_and_as_completed_check_the_timeout_first(void **state)
{
    const double bad[] = {-0.5, -2, -INFINITY, NAN};
    weft_future_t *fs[2];
    make(fs, 2);
    weft_future_set_result(fs[0], NULL);
    weft_future_set_result(fs[1], NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        weft_as_completed_t *it = NULL;
        size_t nd = 99;
        assert_fails_with(weft_as_completed_new(&it, fs, 2, bad[i]),
                          WEFT_EINVAL, "timeout");
        assert_fails_with(weft_as_completed_new(&it, NULL, 0, bad[i]),
                          WEFT_EINVAL, "timeout");
        assert_null(it);
        for (int when = WEFT_FIRST_COMPLETED; when <= WEFT_ALL_COMPLETED;
             when++) {
            assert_fails_with(
                weft_wait(fs, 2, bad[i], when, NULL, &nd, NULL, NULL),
                WEFT_EINVAL, "timeout");
            assert_fails_with(
                weft_wait(NULL, 0, bad[i], when, NULL, &nd, NULL, NULL),
                WEFT_EINVAL, "timeout");
        }
        assert_int_equal(nd, 99);
    }
    size_t nd = 0;
    assert_int_equal(
        weft_wait(fs, 2, 0, WEFT_ALL_COMPLETED, NULL, &nd, NULL, NULL), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(weft_wait(fs, 2, WEFT_FOREVER, WEFT_ALL_COMPLETED, NULL,
                               &nd, NULL, NULL),
                     0);
    assert_int_equal(nd, 2);
    drop(fs, 2);
}

static void wait_all_completed_with_a_timeout_sorts_the_sets(void **state)
{
    weft_future_t *fs[3], *done[3], *not_done[3];
    make(fs, 3);
    weft_future_set_result(fs[1], NULL);
    size_t nd = 9, nn = 9;
    double t0 = weft_monotonic();
    assert_int_equal(weft_wait(fs, 3, 0.2, WEFT_ALL_COMPLETED, done, &nd,
                               not_done, &nn),
                     0);
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_int_equal(nd, 1);
    assert_ptr_equal(done[0], fs[1]);
    assert_int_equal(nn, 2);
    assert_ptr_equal(not_done[0], fs[0]);
    assert_ptr_equal(not_done[1], fs[2]);
    drop(fs, 3);
}

static void wait_first_completed_returns_at_once_if_one_is_done(void **state)
{
    weft_future_t *fs[3];
    make(fs, 3);
    weft_future_set_result(fs[2], NULL);
    size_t nd = 0, nn = 0;
    /* Without a limit: it returns only because one is done (a wait that
     * looked further would never return). */
    assert_int_equal(weft_wait(fs, 3, WEFT_FOREVER, WEFT_FIRST_COMPLETED,
                               NULL, &nd, NULL, &nn),
                     0);
    assert_int_equal(nd, 1);
    assert_int_equal(nn, 2);
    drop(fs, 3);
}

struct staged {
    weft_future_t **fs;
};

static void succeed_then_fail(void *arg)
{
    struct staged *s = arg;
    weft_sleep(0.02);
    weft_future_set_result(s->fs[0], NULL);
    weft_sleep(0.02);
    weft_future_set_error(s->fs[1], WEFT_EUSER, "boom");
}

static void wait_first_exception_stops_at_the_first_failure(void **state)
{
    weft_future_t *fs[3];
    make(fs, 3);
    struct staged s = {fs};
    testing_thread_t *t = testing_thread_start(succeed_then_fail, &s);
    weft_future_t *done[3];
    size_t nd = 0, nn = 0;
    assert_int_equal(weft_wait(fs, 3, 5.0, WEFT_FIRST_EXCEPTION, done, &nd,
                               NULL, &nn),
                     0);
    testing_thread_join(t);
    assert_int_equal(nd, 2); /* the success and the failure */
    assert_int_equal(nn, 1); /* fs[2] never finished */
    drop(fs, 3);
}

/* Many completers at once: every future is yielded exactly once. */
struct many {
    weft_future_t *fs[400];
};

static void complete_slice(void *arg, unsigned i)
{
    struct many *m = arg;
    for (unsigned k = i; k < 400; k += 4)
        weft_future_set_result(m->fs[k], (void *)(uintptr_t)k);
}

static void as_completed_loses_nothing_under_concurrent_completion(void **state)
{
    struct many m;
    make(m.fs, 400);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, m.fs, 400, WEFT_FOREVER), 0);
    testing_run_threads(4, complete_slice, &m);
    int seen[400] = {0};
    weft_future_t *f;
    int count = 0;
    while (weft_as_completed_next(it, &f) == 0) {
        void *r;
        weft_future_result(f, 0, &r);
        seen[(uintptr_t)r]++;
        count++;
    }
    assert_int_equal(count, 400);
    for (int i = 0; i < 400; i++)
        assert_int_equal(seen[i], 1);
    weft_as_completed_free(it);
    drop(m.fs, 400);
}

static void complete_inside_a_cancelled_scope(void *arg)
{
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    weft_cancel_scope_enter(&s, WEFT_FOREVER, 0);
    weft_cancel_scope_cancel(&s);
    weft_future_set_result(arg, (void *)5);
    weft_cancel_scope_exit(&s);
}

/* A stopped task's worker completes futures inside a cancelled scope: the
 * callbacks that as_completed registered must still do their work. */
static void completion_from_a_cancelled_context_still_counts(void **state)
{
    weft_future_t *f;
    weft_future_new(&f);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, &f, 1, 5.0), 0);
    testing_thread_join(testing_thread_start(complete_inside_a_cancelled_scope,
                                             f));
    weft_future_t *got;
    assert_int_equal(weft_as_completed_next(it, &got), 0);
    assert_ptr_equal(got, f);
    weft_as_completed_free(it);
    weft_future_free(f);
}

/* ----- CPython's test_wait and test_as_completed, on weft's futures -----
 *
 * The futures of Lib/test/test_concurrent_futures/util.py, one per state,
 * and the executor's futures played by helper threads: a future "that
 * completes" is completed by a thread (before or during the wait: the
 * answer is the same either way), one "that blocks" only at the end. A
 * future cancelled while pending counts for wait() and as_completed() only
 * once notified (CANCELLED_AND_NOTIFIED: set_running_or_notify_cancel, or
 * its executor, saw the cancel); FIRST_EXCEPTION ignores cancellations. */

enum { PENDING_F, RUNNING_F, CANCELLED_F, CANCELLED_AND_NOTIFIED_F,
       EXCEPTION_F, SUCCESSFUL_F };

static weft_future_t *in_state(int which)
{
    weft_future_t *f;
    assert_int_equal(weft_future_new(&f), 0);
    switch (which) {
    case RUNNING_F:
        assert_int_equal(weft_future_set_running_or_notify_cancel(f), 0);
        break;
    case CANCELLED_F:
        assert_int_equal(weft_future_cancel(f), 0);
        break;
    case CANCELLED_AND_NOTIFIED_F:
        assert_int_equal(weft_future_cancel(f), 0);
        assert_int_equal(weft_future_set_running_or_notify_cancel(f),
                         WEFT_ECANCELLED);
        break;
    case EXCEPTION_F:
        assert_int_equal(weft_future_set_error(f, WEFT_EUSER, "OSError"), 0);
        break;
    case SUCCESSFUL_F:
        assert_int_equal(weft_future_set_result(f, (void *)42), 0);
        break;
    default:
        break;
    }
    return f;
}

/* set (of n) holds exactly the m futures of want, each once. */
static void assert_same_set(weft_future_t *const *set, size_t n,
                            weft_future_t *const *want, size_t m)
{
    assert_int_equal(n, m);
    for (size_t i = 0; i < m; i++) {
        size_t hits = 0;
        for (size_t j = 0; j < n; j++)
            hits += set[j] == want[i];
        assert_int_equal(hits, 1);
    }
}

#define SET(...) (weft_future_t *[]){__VA_ARGS__}
#define NSET(...) (sizeof((weft_future_t *[]){__VA_ARGS__}) / sizeof(void *))
#define ASSERT_SET(set, n, ...)                                                \
    assert_same_set(set, n, SET(__VA_ARGS__), NSET(__VA_ARGS__))

/* What the helper thread does, in order: complete these futures. */
struct script {
    weft_future_t *f[4];
    int fail[4]; /* with an error instead of a result */
    int n;
};

static void play(void *arg)
{
    struct script *s = arg;
    for (int i = 0; i < s->n; i++) {
        weft_sleep(0.01); /* a task's work: the answer does not depend on it */
        if (s->fail[i])
            weft_future_set_error(s->f[i], WEFT_EUSER, "ZeroDivisionError");
        else
            weft_future_set_result(s->f[i], (void *)42);
    }
}

#define WAIT_LONG (10 * testing_scale())

static void python_test_20369_duplicates_are_one_future(void **state)
{
    weft_future_t *f = in_state(PENDING_F);
    struct script sc = {{f}, {0}, 1};
    testing_thread_t *t = testing_thread_start(play, &sc);
    weft_future_t *done[2], *not_done[2];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(f, f), 2, WAIT_LONG, WEFT_ALL_COMPLETED,
                               done, &nd, not_done, &nn),
                     0);
    ASSERT_SET(done, nd, f);
    assert_int_equal(nn, 0);
    testing_thread_join(t);
    weft_future_free(f);
}

static void python_first_completed(void **state)
{
    weft_future_t *c = in_state(CANCELLED_F), *f1 = in_state(PENDING_F),
                  *f2 = in_state(PENDING_F);
    struct script sc = {{f1}, {0}, 1};
    testing_thread_t *t = testing_thread_start(play, &sc);
    weft_future_t *done[3], *not_done[3];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(c, f1, f2), 3, WAIT_LONG,
                               WEFT_FIRST_COMPLETED, done, &nd, not_done, &nn),
                     0);
    ASSERT_SET(done, nd, f1);
    ASSERT_SET(not_done, nn, c, f2);
    testing_thread_join(t);
    weft_future_set_result(f2, NULL);
    drop(SET(c, f1, f2), 3);
}

static void python_first_completed_some_already_completed(void **state)
{
    weft_future_t *cn = in_state(CANCELLED_AND_NOTIFIED_F),
                  *ok = in_state(SUCCESSFUL_F), *f1 = in_state(PENDING_F);
    weft_future_t *done[3], *not_done[3];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(cn, ok, f1), 3, WAIT_LONG,
                               WEFT_FIRST_COMPLETED, done, &nd, not_done, &nn),
                     0);
    ASSERT_SET(done, nd, cn, ok);
    ASSERT_SET(not_done, nn, f1);
    drop(SET(cn, ok, f1), 3);
}

static void python_first_exception(void **state)
{
    weft_future_t *f1 = in_state(PENDING_F), *f2 = in_state(PENDING_F),
                  *f3 = in_state(PENDING_F);
    /* f1 completes before f2 fails. */
    struct script sc = {{f1, f2}, {0, 1}, 2};
    testing_thread_t *t = testing_thread_start(play, &sc);
    weft_future_t *done[3], *not_done[3];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(f1, f2, f3), 3, WAIT_LONG,
                               WEFT_FIRST_EXCEPTION, done, &nd, not_done, &nn),
                     0);
    ASSERT_SET(done, nd, f1, f2);
    ASSERT_SET(not_done, nn, f3);
    testing_thread_join(t);
    weft_future_set_result(f3, NULL);
    drop(SET(f1, f2, f3), 3);
}

static void python_first_exception_some_already_complete(void **state)
{
    weft_future_t *ok = in_state(SUCCESSFUL_F), *c = in_state(CANCELLED_F),
                  *cn = in_state(CANCELLED_AND_NOTIFIED_F),
                  *f1 = in_state(PENDING_F), *f2 = in_state(PENDING_F);
    struct script sc = {{f1}, {1}, 1}; /* divmod(21, 0) */
    testing_thread_t *t = testing_thread_start(play, &sc);
    weft_future_t *done[5], *not_done[5];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(ok, c, cn, f1, f2), 5, WAIT_LONG,
                               WEFT_FIRST_EXCEPTION, done, &nd, not_done, &nn),
                     0);
    ASSERT_SET(done, nd, ok, cn, f1);
    ASSERT_SET(not_done, nn, c, f2);
    testing_thread_join(t);
    weft_future_set_result(f2, NULL);
    drop(SET(ok, c, cn, f1, f2), 5);
}

static void python_first_exception_one_already_failed(void **state)
{
    weft_future_t *e = in_state(EXCEPTION_F), *f1 = in_state(PENDING_F);
    weft_future_t *done[2], *not_done[2];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(e, f1), 2, WAIT_LONG, WEFT_FIRST_EXCEPTION,
                               done, &nd, not_done, &nn),
                     0);
    ASSERT_SET(done, nd, e);
    ASSERT_SET(not_done, nn, f1);
    drop(SET(e, f1), 2);
}

static void python_all_completed(void **state)
{
    weft_future_t *ok = in_state(SUCCESSFUL_F),
                  *cn = in_state(CANCELLED_AND_NOTIFIED_F),
                  *e = in_state(EXCEPTION_F), *f1 = in_state(PENDING_F),
                  *f2 = in_state(PENDING_F);
    struct script sc = {{f1, f2}, {1, 0}, 2};
    testing_thread_t *t = testing_thread_start(play, &sc);
    weft_future_t *done[5], *not_done[5];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(ok, cn, e, f1, f2), 5, WAIT_LONG,
                               WEFT_ALL_COMPLETED, done, &nd, not_done, &nn),
                     0);
    ASSERT_SET(done, nd, ok, cn, e, f1, f2);
    assert_int_equal(nn, 0);
    testing_thread_join(t);
    drop(SET(ok, cn, e, f1, f2), 5);
}

static void python_timeout(void **state)
{
    weft_future_t *cn = in_state(CANCELLED_AND_NOTIFIED_F),
                  *e = in_state(EXCEPTION_F), *ok = in_state(SUCCESSFUL_F),
                  *f = in_state(PENDING_F);
    weft_future_t *done[4], *not_done[4];
    size_t nd, nn;
    double t0 = weft_monotonic();
    assert_int_equal(weft_wait(SET(cn, e, ok, f), 4, 0.05, WEFT_ALL_COMPLETED,
                               done, &nd, not_done, &nn),
                     0);
    assert_true(weft_monotonic() - t0 >= 0.05);
    ASSERT_SET(done, nd, cn, e, ok);
    ASSERT_SET(not_done, nn, f);
    drop(SET(cn, e, ok, f), 4);
}

/* Issue #14406: many futures completed at once by many threads. */
static void complete_every_fourth(void *arg, unsigned i)
{
    weft_future_t **fs = arg;
    for (unsigned k = i; k < 100; k += 4)
        weft_future_set_result(fs[k], NULL);
}

static void python_pending_calls_race(void **state)
{
    weft_future_t *fs[100], *done[100];
    make(fs, 100);
    testing_run_threads(4, complete_every_fourth, fs);
    size_t nd, nn;
    assert_int_equal(weft_wait(fs, 100, WAIT_LONG, WEFT_ALL_COMPLETED, done,
                               &nd, NULL, &nn),
                     0);
    assert_int_equal(nd, 100);
    assert_int_equal(nn, 0);
    drop(fs, 100);
}

/* Yield everything as_completed gives until it stops; returns its code. */
static int collect(weft_as_completed_t *it, weft_future_t **got, size_t *n)
{
    weft_future_t *f;
    int rc;
    *n = 0;
    while ((rc = weft_as_completed_next(it, &f)) == 0)
        got[(*n)++] = f;
    return rc;
}

static void python_as_completed_no_timeout(void **state)
{
    weft_future_t *cn = in_state(CANCELLED_AND_NOTIFIED_F),
                  *e = in_state(EXCEPTION_F), *ok = in_state(SUCCESSFUL_F),
                  *f1 = in_state(PENDING_F), *f2 = in_state(PENDING_F);
    struct script sc = {{f1, f2}, {0, 0}, 2};
    testing_thread_t *t = testing_thread_start(play, &sc);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, SET(cn, e, ok, f1, f2), 5,
                                           WAIT_LONG),
                     0);
    weft_future_t *got[5];
    size_t n;
    assert_int_equal(collect(it, got, &n), WEFT_EEOF);
    ASSERT_SET(got, n, cn, e, ok, f1, f2);
    weft_as_completed_free(it);
    testing_thread_join(t);
    drop(SET(cn, e, ok, f1, f2), 5);
}

static void python_as_completed_future_times_out(void **state)
{
    const double timeouts[] = {0, 0.1};
    for (int k = 0; k < 2; k++) {
        weft_future_t *cn = in_state(CANCELLED_AND_NOTIFIED_F),
                      *e = in_state(EXCEPTION_F), *ok = in_state(SUCCESSFUL_F),
                      *f = in_state(PENDING_F);
        weft_as_completed_t *it;
        assert_int_equal(weft_as_completed_new(&it, SET(cn, e, ok, f), 4,
                                               timeouts[k]),
                         0);
        weft_future_t *got[4];
        size_t n;
        assert_int_equal(collect(it, got, &n), WEFT_ETIMEDOUT);
        ASSERT_SET(got, n, cn, e, ok);
        weft_as_completed_free(it);
        drop(SET(cn, e, ok, f), 4);
    }
}

static void python_correct_timeout_exception_msg(void **state)
{
    weft_future_t *cn = in_state(CANCELLED_AND_NOTIFIED_F),
                  *p = in_state(PENDING_F), *r = in_state(RUNNING_F),
                  *ok = in_state(SUCCESSFUL_F);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, SET(cn, p, r, ok), 4, 0), 0);
    weft_future_t *got[4];
    size_t n;
    assert_fails_with(collect(it, got, &n), WEFT_ETIMEDOUT,
                      "2 (of 4) futures unfinished");
    weft_as_completed_free(it);
    drop(SET(cn, p, r, ok), 4);
}

/* A merely cancelled future is still unfinished for as_completed: the
 * timeout names it, as Python's. */
static void a_cancelled_future_is_unfinished_until_notified(void **state)
{
    weft_future_t *c = in_state(CANCELLED_F), *ok = in_state(SUCCESSFUL_F);
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, SET(c, ok), 2, 0), 0);
    weft_future_t *got[2];
    size_t n;
    assert_fails_with(collect(it, got, &n), WEFT_ETIMEDOUT,
                      "1 (of 2) futures unfinished");
    ASSERT_SET(got, n, ok);
    /* Its executor sees it now: it is yielded. */
    assert_int_equal(weft_future_set_running_or_notify_cancel(c),
                     WEFT_ECANCELLED);
    weft_future_t *f;
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    assert_ptr_equal(f, c);
    assert_int_equal(weft_as_completed_next(it, &f), WEFT_EEOF);
    weft_as_completed_free(it);
    drop(SET(c, ok), 2);
}

/* What an executor does with a future cancelled while queued: it claims it
 * (weft_future_try_start, which notifies and says "do not run"), or drops
 * it at shutdown (weft_future_cancel_and_notify): either wakes a wait. */
static void notify_later(void *arg)
{
    weft_future_t **fs = arg;
    weft_sleep(0.01);
    assert_int_equal(weft_future_try_start(fs[0]), 0);
    weft_sleep(0.01);
    assert_int_equal(weft_future_cancel_and_notify(fs[1]), 0);
}

static void the_executor_notifies_what_was_cancelled(void **state)
{
    weft_future_t *c = in_state(CANCELLED_F), *p = in_state(PENDING_F);
    testing_thread_t *t = testing_thread_start(notify_later, SET(c, p));
    weft_future_t *done[2];
    size_t nd, nn;
    assert_int_equal(weft_wait(SET(c, p), 2, WAIT_LONG, WEFT_ALL_COMPLETED,
                               done, &nd, NULL, &nn),
                     0);
    testing_thread_join(t);
    ASSERT_SET(done, nd, c, p);
    assert_int_equal(nn, 0);
    assert_int_equal(weft_future_state(c), WEFT_FUTURE_CANCELLED_AND_NOTIFIED);
    assert_int_equal(weft_future_state(p), WEFT_FUTURE_CANCELLED_AND_NOTIFIED);
    drop(SET(c, p), 2);
}

/* Freeing an iterator while its futures complete on other threads: each
 * completion links its entry behind the last one done, so no entry may be
 * freed while another's callback may still be linking. (Seen by the
 * sanitizers, as a write into freed memory, when it goes wrong.) */
struct racing {
    weft_future_t *fs[8];
    weft_barrier_t go;
};

static void complete_racing(void *arg, unsigned i)
{
    struct racing *r = arg;
    weft_barrier_wait(&r->go, NULL);
    for (unsigned k = i; k < 8; k += 2)
        weft_future_set_result(r->fs[k], NULL);
}

static void iterate_then_free(void *arg, unsigned i)
{
    struct racing *r = arg;
    if (i < 2) {
        complete_racing(arg, i);
        return;
    }
    weft_as_completed_t *it;
    assert_int_equal(weft_as_completed_new(&it, r->fs, 8, WEFT_FOREVER), 0);
    weft_barrier_wait(&r->go, NULL);
    weft_future_t *f;
    assert_int_equal(weft_as_completed_next(it, &f), 0);
    weft_as_completed_free(it); /* while the others still complete */
}

static void an_iterator_may_be_freed_while_its_futures_complete(void **state)
{
    for (int round = 0; round < 200; round++) {
        struct racing r;
        make(r.fs, 8);
        weft_barrier_init(&r.go, 3, NULL, NULL, WEFT_FOREVER);
        testing_run_threads(3, iterate_then_free, &r);
        weft_barrier_destroy(&r.go);
        drop(r.fs, 8);
    }
}

static void progress_prints_plain_lines_when_not_a_terminal(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    weft_progress_t *p;
    weft_progress_opts_t o = {"Work", fds[1], 1000.0, -1};
    assert_int_equal(weft_progress_new(&p, 4, &o), 0);
    weft_future_t *fs[4];
    make(fs, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(weft_progress_track(p, fs[i]), 0);
    for (int i = 0; i < 4; i++)
        weft_future_set_result(fs[i], NULL);
    assert_int_equal(weft_progress_completed(p), 4);
    weft_progress_finish(p);
    weft_progress_free(p);
    close(fds[1]);
    char buf[1024] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(n > 0);
    assert_null(strchr(buf, '\r'));
    /* The first update prints; the rest wait out the interval; finish
     * prints the final count and the time. */
    assert_non_null(strstr(buf, "Work: 25.0% (1/4)"));
    assert_non_null(strstr(buf, "Work: 100.0% (4/4)"));
    assert_non_null(strstr(buf, "Completed in"));
    drop(fs, 4);
}

static void progress_redraws_in_place_on_a_terminal(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    weft_progress_t *p;
    weft_progress_opts_t o = {NULL, fds[1], 0, 1};
    assert_int_equal(weft_progress_new(&p, 2, &o), 0);
    weft_progress_update(p, 1);
    weft_progress_update(p, 1);
    weft_progress_free(p);
    close(fds[1]);
    char buf[1024] = {0};
    assert_true(read(fds[0], buf, sizeof buf - 1) > 0);
    close(fds[0]);
    assert_non_null(strstr(buf, "\rProgress: 50.0% (1/2)"));
    assert_non_null(strstr(buf, "\rProgress: 100.0% (2/2)"));
    assert_non_null(strstr(buf, "ETA"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(as_completed_yields_in_completion_order),
        cmocka_unit_test(as_completed_yields_duplicates_once),
        cmocka_unit_test(as_completed_times_out_naming_the_unfinished),
        cmocka_unit_test(futures_can_be_added_while_iterating),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(wait_and_as_completed_check_the_timeout_first),
        cmocka_unit_test(wait_all_completed_with_a_timeout_sorts_the_sets),
        cmocka_unit_test(wait_first_completed_returns_at_once_if_one_is_done),
        cmocka_unit_test(wait_first_exception_stops_at_the_first_failure),
        cmocka_unit_test(as_completed_loses_nothing_under_concurrent_completion),
        cmocka_unit_test(completion_from_a_cancelled_context_still_counts),
        cmocka_unit_test(an_iterator_may_be_freed_while_its_futures_complete),
        cmocka_unit_test(python_test_20369_duplicates_are_one_future),
        cmocka_unit_test(python_first_completed),
        cmocka_unit_test(python_first_completed_some_already_completed),
        cmocka_unit_test(python_first_exception),
        cmocka_unit_test(python_first_exception_some_already_complete),
        cmocka_unit_test(python_first_exception_one_already_failed),
        cmocka_unit_test(python_all_completed),
        cmocka_unit_test(python_timeout),
        cmocka_unit_test(python_pending_calls_race),
        cmocka_unit_test(python_as_completed_no_timeout),
        cmocka_unit_test(python_as_completed_future_times_out),
        cmocka_unit_test(python_correct_timeout_exception_msg),
        cmocka_unit_test(a_cancelled_future_is_unfinished_until_notified),
        cmocka_unit_test(the_executor_notifies_what_was_cancelled),
        cmocka_unit_test(progress_prints_plain_lines_when_not_a_terminal),
        cmocka_unit_test(progress_redraws_in_place_on_a_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
