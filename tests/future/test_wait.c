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
    double t0 = weft_monotonic();
    assert_int_equal(weft_wait(fs, 3, WEFT_FOREVER, WEFT_FIRST_COMPLETED,
                               NULL, &nd, NULL, &nn),
                     0);
    assert_true(weft_monotonic() - t0 < 0.5 * testing_scale());
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
        cmocka_unit_test(progress_prints_plain_lines_when_not_a_terminal),
        cmocka_unit_test(progress_redraws_in_place_on_a_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
