/* SPDX-License-Identifier: MIT */
/* executor: the thread pool. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int square(void *arg, void **result)
{
    intptr_t x = (intptr_t)arg;
    *result = (void *)(x * x);
    return 0;
}

static weft_executor_t *pool_of(unsigned workers)
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t o = {workers, NULL, NULL, NULL};
    assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
    return ex;
}

static void submit_returns_a_future_with_the_result(void **state)
{
    weft_executor_t *ex = pool_of(2);
    weft_future_t *f;
    assert_int_equal(weft_executor_submit(ex, square, (void *)7, &f), 0);
    void *r;
    assert_int_equal(weft_future_result(f, WEFT_FOREVER, &r), 0);
    assert_int_equal((intptr_t)r, 49);
    weft_future_free(f);
    assert_string_equal(weft_executor_kind(ex), "thread");
    assert_int_equal(weft_executor_max_workers(ex), 2);
    weft_executor_free(ex);
}

static void max_workers_defaults_to_pythons(void **state)
{
    weft_executor_t *ex;
    assert_int_equal(weft_thread_pool_new(&ex, NULL), 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned want = (unsigned)cpus + 4 < 32 ? (unsigned)cpus + 4 : 32;
    assert_int_equal(weft_executor_max_workers(ex), want);
    weft_executor_free(ex);
}

static int fail_on_three(void *arg, void **result)
{
    if ((intptr_t)arg == 3)
        return weft_fail(WEFT_EUSER + 1, "An error occurred with input 3");
    *result = (void *)((intptr_t)arg * 2);
    return 0;
}

static void a_failing_task_fails_only_its_future(void **state)
{
    weft_executor_t *ex = pool_of(3);
    weft_future_t *fs[5];
    for (intptr_t i = 0; i < 5; i++)
        assert_int_equal(
            weft_executor_submit(ex, fail_on_three, (void *)(i + 1), &fs[i]),
            0);
    for (intptr_t i = 0; i < 5; i++) {
        void *r = NULL;
        int rc = weft_future_result(fs[i], WEFT_FOREVER, &r);
        if (i + 1 == 3) {
            assert_int_equal(rc, WEFT_EUSER + 1);
            assert_string_equal(weft_last_message(),
                                "An error occurred with input 3");
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal((intptr_t)r, (i + 1) * 2);
        }
        weft_future_free(fs[i]);
    }
    weft_executor_free(ex);
}

static void submit_after_shutdown_is_refused(void **state)
{
    weft_executor_t *ex = pool_of(1);
    assert_int_equal(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER), 0);
    weft_future_t *f = NULL;
    assert_fails_with(weft_executor_submit(ex, square, NULL, &f),
                      WEFT_ESHUTDOWN, "after shutdown");
    assert_null(f);
    assert_fails_with(weft_executor_submit(ex, NULL, NULL, &f), WEFT_EINVAL,
                      NULL);
    weft_executor_free(ex);
}

static int wait_gate(void *arg, void **result)
{
    return weft_event_wait(arg, WEFT_FOREVER);
}

static void shutdown_cancel_futures_cancels_what_has_not_started(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_event_t gate;
    weft_event_init(&gate);
    weft_future_t *blocker, *queued[10];
    weft_executor_submit(ex, wait_gate, &gate, &blocker);
    while (!weft_future_running(blocker))
        weft_sleep(0.001);
    for (int i = 0; i < 10; i++)
        weft_executor_submit(ex, square, (void *)1, &queued[i]);
    assert_int_equal(weft_executor_shutdown(ex, 0, 1, 0), 0);
    for (int i = 0; i < 10; i++) {
        assert_true(weft_future_cancelled(queued[i]));
        weft_future_free(queued[i]);
    }
    weft_event_set(&gate);
    assert_int_equal(weft_future_result(blocker, WEFT_FOREVER, NULL), 0);
    weft_future_free(blocker);
    weft_executor_free(ex);
}

static int failing_initializer(void *arg, void **result)
{
    return weft_fail(WEFT_EUSER, "no database");
}

static void a_failing_initializer_breaks_the_pool(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t o = {2, NULL, failing_initializer, NULL};
    assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
    weft_future_t *f;
    assert_int_equal(weft_executor_submit(ex, square, (void *)2, &f), 0);
    assert_fails_with(weft_future_result(f, WEFT_FOREVER, NULL), WEFT_EBROKEN,
                      "initializer failed");
    weft_future_free(f);
    weft_future_t *g = NULL;
    assert_fails_with(weft_executor_submit(ex, square, (void *)2, &g),
                      WEFT_EBROKEN, "no database");
    weft_executor_free(ex);
}

/* Recursive fork-join: each call submits fib(n-1), computes fib(n-2)
 * itself, then waits for its child. Python's pool deadlocks on this with
 * few workers; weft's workers run the awaited work meanwhile. */
struct fib_ctx {
    weft_executor_t *ex;
    long n;
};

static long fib_serial(long n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static int fib_task(void *arg, void **result)
{
    struct fib_ctx *c = arg;
    if (c->n < 12) {
        *result = (void *)fib_serial(c->n);
        return 0;
    }
    struct fib_ctx child = {c->ex, c->n - 1};
    weft_future_t *f;
    int rc = weft_executor_submit(c->ex, fib_task, &child, &f);
    if (rc)
        return rc;
    struct fib_ctx other = {c->ex, c->n - 2};
    void *b = NULL, *a = NULL;
    fib_task(&other, &b);
    rc = weft_future_result(f, WEFT_FOREVER, &a);
    weft_future_free(f);
    *result = (void *)((long)a + (long)b);
    return rc;
}

static void recursive_fork_join_completes_even_with_one_worker(void **state)
{
    for (unsigned workers = 1; workers <= 2; workers++) {
        weft_executor_t *ex = pool_of(workers);
        struct fib_ctx c = {ex, 22};
        weft_future_t *f;
        assert_int_equal(weft_executor_submit(ex, fib_task, &c, &f), 0);
        void *r;
        assert_int_equal(weft_future_result(f, 30.0, &r), 0);
        assert_int_equal((long)r, fib_serial(22));
        weft_future_free(f);
        weft_executor_free(ex);
    }
}

/* A task that submits a long task and then a short one, and waits only
 * for the short one, must not be held up by the long one. */
struct trap {
    weft_executor_t *ex;
    weft_event_t release_long;
    double waited;
};

static int long_task(void *arg, void **result)
{
    struct trap *t = arg;
    return weft_event_wait(&t->release_long, WEFT_FOREVER);
}

static int short_task(void *arg, void **result)
{
    return 0;
}

static int outer_task(void *arg, void **result)
{
    struct trap *t = arg;
    weft_future_t *s, *l;
    weft_executor_submit(t->ex, short_task, t, &s);
    weft_executor_submit(t->ex, long_task, t, &l);
    double t0 = weft_monotonic();
    int rc = weft_future_result(s, WEFT_FOREVER, NULL);
    t->waited = weft_monotonic() - t0;
    weft_future_free(s);
    *result = l; /* the caller releases the long one */
    return rc;
}

static void a_short_wait_is_not_stuck_behind_an_unrelated_long_task(
    void **state)
{
    struct trap t;
    t.ex = pool_of(1);
    weft_event_init(&t.release_long);
    weft_future_t *f;
    weft_executor_submit(t.ex, outer_task, &t, &f);
    void *l;
    assert_int_equal(weft_future_result(f, 10.0, &l), 0);
    assert_true(t.waited < 1.0 * testing_scale());
    assert_false(weft_future_done(l));
    weft_event_set(&t.release_long);
    assert_int_equal(weft_future_result(l, WEFT_FOREVER, NULL), 0);
    weft_future_free(l);
    weft_future_free(f);
    weft_executor_free(t.ex);
}

struct crowd {
    weft_executor_t *ex;
    _Atomic long sum;
};

static void submit_many(void *arg, unsigned i)
{
    struct crowd *c = arg;
    weft_future_t *fs[500];
    for (int round = 0; round < 4; round++) {
        for (intptr_t k = 0; k < 500; k++)
            assert_int_equal(
                weft_executor_submit(c->ex, square, (void *)k, &fs[k]), 0);
        for (int k = 0; k < 500; k++) {
            void *r;
            assert_int_equal(weft_future_result(fs[k], WEFT_FOREVER, &r), 0);
            atomic_fetch_add(&c->sum, (long)r);
            weft_future_free(fs[k]);
        }
    }
}

static void many_threads_submitting_at_once_lose_nothing(void **state)
{
    struct crowd c = {pool_of(4), 0};
    testing_run_threads(8, submit_many, &c);
    long per = 0;
    for (long k = 0; k < 500; k++)
        per += k * k;
    assert_int_equal(atomic_load(&c.sum), per * 4 * 8);
    weft_executor_free(c.ex);
}

static int wait_until_stopped(void *arg, void **result)
{
    weft_event_t never;
    weft_event_init(&never);
    return weft_event_wait(&never, WEFT_FOREVER);
}

static void stop_reaches_a_running_task_blocked_in_a_wait(void **state)
{
    weft_executor_t *ex = pool_of(2);
    weft_future_t *f;
    weft_executor_submit(ex, wait_until_stopped, NULL, &f);
    while (!weft_future_running(f))
        weft_sleep(0.001);
    weft_sleep(0.02);
    assert_int_equal(weft_future_stop(f), 0);
    assert_fails_with(weft_future_result(f, 5.0, NULL), WEFT_ECANCELLED,
                      NULL);
    assert_true(weft_future_cancelled(f));
    weft_future_free(f);
    weft_executor_free(ex);
}

static int spin_until_cancelled(void *arg, void **result)
{
    long spins = 0;
    while (!weft_task_cancelled())
        spins++;
    *result = (void *)spins;
    return 0; /* finishes anyway: keeps its result */
}

static void a_computing_task_sees_the_stop_request(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_future_t *f;
    weft_executor_submit(ex, spin_until_cancelled, NULL, &f);
    while (!weft_future_running(f))
        weft_sleep(0.001);
    weft_future_stop(f);
    assert_int_equal(weft_future_result(f, 5.0, NULL), 0);
    assert_false(weft_future_cancelled(f));
    weft_future_free(f);
    weft_executor_free(ex);
}

static void shutdown_with_a_timeout_returns_despite_a_stuck_task(void **state)
{
    weft_executor_t *ex = pool_of(1);
    weft_event_t gate;
    weft_event_init(&gate);
    weft_future_t *f;
    weft_executor_submit(ex, wait_gate, &gate, &f);
    double t0 = weft_monotonic();
    assert_fails_with(weft_executor_shutdown(ex, 1, 0, 0.2), WEFT_ETIMEDOUT,
                      "still busy");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    weft_executor_free(ex); /* does not wait again */
    weft_event_set(&gate);
    assert_int_equal(weft_future_result(f, WEFT_FOREVER, NULL), 0);
    weft_future_free(f);
}

static int name_of_worker(void *arg, void **result)
{
    *result = strdup(weft_thread_name(weft_current_thread()));
    return 0;
}

static void workers_are_named_after_the_prefix(void **state)
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t o = {1, "fetcher", NULL, NULL};
    weft_thread_pool_new(&ex, &o);
    weft_future_t *f;
    weft_executor_submit(ex, name_of_worker, NULL, &f);
    void *name;
    assert_int_equal(weft_future_result(f, WEFT_FOREVER, &name), 0);
    assert_string_equal(name, "fetcher_0");
    free(name);
    weft_future_free(f);
    weft_executor_free(ex);
}

static int copy_upper(const weft_bytes_t *arg, weft_bytes_t *result)
{
    int rc = weft_bytes_copy(result, arg->data, arg->len);
    for (size_t i = 0; rc == 0 && i < result->len; i++)
        if (result->data[i] >= 'a' && result->data[i] <= 'z')
            result->data[i] -= 32;
    return rc;
}

static void byte_tasks_run_on_threads_too(void **state)
{
    weft_executor_t *ex = pool_of(2);
    weft_future_t *f;
    assert_int_equal(weft_executor_submit_bytes(ex, copy_upper, "hello", 5, &f),
                     0);
    const weft_bytes_t *r;
    assert_int_equal(weft_future_result_bytes(f, WEFT_FOREVER, &r), 0);
    assert_memory_equal(r->data, "HELLO", 5);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void a_million_pending_futures_work(void **state)
{
    size_t n = testing_scale() > 1 ? 200000 : 1000000;
    weft_executor_t *ex = pool_of(2);
    weft_event_t gate;
    weft_event_init(&gate);
    weft_future_t *blockers[2];
    for (int i = 0; i < 2; i++)
        weft_executor_submit(ex, wait_gate, &gate, &blockers[i]);
    weft_future_t **fs = malloc(n * sizeof *fs);
    assert_non_null(fs);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            weft_executor_submit(ex, square, (void *)(intptr_t)(i & 1023),
                                 &fs[i]),
            0);
    weft_event_set(&gate);
    for (size_t i = 0; i < n; i++) {
        void *r;
        assert_int_equal(weft_future_result(fs[i], WEFT_FOREVER, &r), 0);
        assert_int_equal((intptr_t)r, (intptr_t)((i & 1023) * (i & 1023)));
        weft_future_free(fs[i]);
    }
    free(fs);
    for (int i = 0; i < 2; i++)
        weft_future_free(blockers[i]);
    weft_executor_free(ex);
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void idle_workers_sleep_instead_of_spinning(void **state)
{
    weft_executor_t *ex = pool_of(4);
    weft_future_t *fs[4];
    for (intptr_t i = 0; i < 4; i++) /* start the workers */
        weft_executor_submit(ex, square, (void *)i, &fs[i]);
    for (int i = 0; i < 4; i++) {
        weft_future_wait(fs[i], WEFT_FOREVER);
        weft_future_free(fs[i]);
    }
    weft_sleep(0.05); /* let them finish spinning and go to sleep */
    double cpu0 = cpu_seconds();
    weft_sleep(0.5);
    double used = cpu_seconds() - cpu0;
    /* Four spinning workers would burn about 2 s of CPU in 0.5 s. */
    assert_true(used < 0.1 * testing_scale());
    weft_executor_free(ex);
}

/* submit(a), submit(b), wait for b alone: b must run without a later
 * submission's help. A push racing the taker that puts the injection
 * queue's stub back once left b (and a) in the queue while the queue read
 * as empty, so every worker went to sleep. */
static void a_task_queued_behind_another_is_never_stranded(void **state)
{
    weft_executor_t *ex = pool_of(4);
    double until = weft_monotonic() + 5.0;
    for (int round = 0; round < 50000 && weft_monotonic() < until; round++) {
        weft_future_t *a, *b;
        assert_int_equal(weft_executor_submit(ex, square, (void *)2, &a), 0);
        assert_int_equal(weft_executor_submit(ex, square, (void *)3, &b), 0);
        if (weft_future_wait(b, 2.0 * testing_scale()) != 0)
            fail_msg("round %d: the second task was never run", round);
        weft_future_free(a);
        weft_future_free(b);
    }
    weft_executor_free(ex);
}

/* ----- Shutting down joins the workers ----- */

static weft_local_t *worker_mark;
static _Atomic int marks_destroyed;

/* A worker's thread-local value, destroyed as its thread ends. The pause
 * widens the window in which a shutdown that does not join would return
 * before the thread has really finished. */
static void destroy_mark(void *value)
{
    weft_sleep(0.05);
    atomic_fetch_add(&marks_destroyed, 1);
}

/* Mark this worker's thread, then wait until every task has started, so
 * that each runs on its own worker. */
static int mark_worker(void *arg, void **result)
{
    if (worker_mark)
        weft_local_set(worker_mark, (void *)1);
    return weft_barrier_wait(arg, NULL);
}

static size_t threads_named(const char *prefix)
{
    weft_thread_t **list;
    size_t n, count = 0;
    assert_int_equal(weft_enumerate(&list, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (strncmp(weft_thread_name(list[i]), prefix, strlen(prefix)) == 0)
            count++;
    weft_thread_list_free(list, n);
    return count;
}

static weft_executor_t *pool_with_marked_workers(unsigned workers,
                                                 const char *prefix)
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t o = {workers, prefix, NULL, NULL};
    assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
    weft_barrier_t all_started;
    weft_barrier_init(&all_started, workers, NULL, NULL,
                      10.0 * testing_scale());
    weft_future_t *fs[8];
    for (unsigned i = 0; i < workers; i++)
        assert_int_equal(
            weft_executor_submit(ex, mark_worker, &all_started, &fs[i]), 0);
    for (unsigned i = 0; i < workers; i++) {
        assert_int_equal(weft_future_result(fs[i], WEFT_FOREVER, NULL), 0);
        weft_future_free(fs[i]);
    }
    weft_barrier_destroy(&all_started);
    assert_int_equal(threads_named(prefix), workers);
    return ex;
}

static void shutdown_with_wait_joins_every_worker(void **state)
{
    assert_int_equal(weft_local_new(&worker_mark, destroy_mark), 0);
    atomic_store(&marks_destroyed, 0);
    weft_executor_t *ex = pool_with_marked_workers(3, "joined");
    assert_int_equal(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER), 0);
    /* As Python's: every worker has finished, its thread-local values
     * destroyed, and it no longer counts as alive. */
    assert_int_equal(atomic_load(&marks_destroyed), 3);
    assert_int_equal(threads_named("joined"), 0);
    weft_executor_free(ex);

    atomic_store(&marks_destroyed, 0);
    ex = pool_with_marked_workers(2, "freed");
    weft_executor_free(ex); /* shutdown(wait=True) */
    assert_int_equal(atomic_load(&marks_destroyed), 2);
    assert_int_equal(threads_named("freed"), 0);
    weft_local_free(worker_mark);
    worker_mark = NULL;
}

static int shut_own_pool(void *arg, void **result)
{
    *result = (void *)(intptr_t)weft_executor_shutdown(
        arg, 1, 0, 10.0 * testing_scale());
    return 0;
}

/* A task that shuts its own pool down with wait waits for the other
 * workers, not for its own (which cannot finish while it waits); a later
 * shutdown from outside joins that one too. */
static void shutdown_from_a_task_does_not_wait_for_its_own_worker(
    void **state)
{
    weft_executor_t *ex = pool_with_marked_workers(2, "inside");
    weft_future_t *f;
    assert_int_equal(weft_executor_submit(ex, shut_own_pool, ex, &f), 0);
    void *rc;
    assert_int_equal(weft_future_result(f, WEFT_FOREVER, &rc), 0);
    assert_int_equal((intptr_t)rc, 0);
    assert_true(threads_named("inside") <= 1);
    weft_future_free(f);
    assert_int_equal(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER), 0);
    assert_int_equal(threads_named("inside"), 0);
    weft_executor_free(ex);
}

/* ----- Reusing idle workers ----- */

/* Python's test_idle_thread_reuse: three submit().result() in a row leave
 * one worker thread, since the worker is idle again each time. */
static void an_idle_worker_is_reused(void **state)
{
    for (int round = 0; round < 20; round++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "reuse%d-", round);
        weft_executor_t *ex;
        weft_thread_pool_opts_t o = {0, prefix, NULL, NULL};
        assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
        for (intptr_t i = 1; i <= 3; i++) {
            weft_future_t *f;
            assert_int_equal(weft_executor_submit(ex, square, (void *)i, &f),
                             0);
            void *r;
            assert_int_equal(weft_future_result(f, WEFT_FOREVER, &r), 0);
            assert_int_equal((intptr_t)r, i * i);
            weft_future_free(f);
        }
        size_t threads = threads_named(prefix);
        if (threads != 1)
            fail_msg("round %d: %zu worker threads", round, threads);
        weft_executor_free(ex);
    }
}

static void max_workers_over_the_limit_is_refused(void **state)
{
    weft_executor_t *ex = NULL;
    weft_thread_pool_opts_t o = {WEFT_THREAD_POOL_MAX_WORKERS + 1, NULL, NULL,
                                 NULL};
    assert_fails_with(weft_thread_pool_new(&ex, &o), WEFT_EINVAL,
                      "max_workers must be at most 4096");
    assert_null(ex);
    o.max_workers = WEFT_THREAD_POOL_MAX_WORKERS;
    assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
    assert_int_equal(weft_executor_max_workers(ex), 4096);
    weft_executor_free(ex);
}

static int meet(void *arg, void **result)
{
    return weft_barrier_wait(arg, NULL);
}

/* Tasks that block until all of them run, no more of them than
 * max_workers: each gets its own worker, as each Python submit that finds
 * no idle thread starts one. An idle worker that two submits counted on
 * takes one task; the other must not wait behind it. */
static void tasks_waiting_for_each_other_each_get_a_worker(void **state)
{
    for (int round = 0; round < 50; round++) {
        weft_executor_t *ex = pool_of(4);
        weft_barrier_t meeting;
        weft_barrier_init(&meeting, 4, NULL, NULL, 10.0 * testing_scale());
        weft_future_t *fs[4];
        for (int i = 0; i < 4; i++)
            assert_int_equal(weft_executor_submit(ex, meet, &meeting, &fs[i]),
                             0);
        for (int i = 0; i < 4; i++) {
            if (weft_future_result(fs[i], WEFT_FOREVER, NULL) != 0)
                fail_msg("round %d: task %d did not meet the others: %s",
                         round, i, weft_last_message());
            weft_future_free(fs[i]);
        }
        weft_executor_free(ex);
        weft_barrier_destroy(&meeting);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(submit_returns_a_future_with_the_result),
        cmocka_unit_test(max_workers_defaults_to_pythons),
        cmocka_unit_test(a_failing_task_fails_only_its_future),
        cmocka_unit_test(submit_after_shutdown_is_refused),
        cmocka_unit_test(shutdown_cancel_futures_cancels_what_has_not_started),
        cmocka_unit_test(a_failing_initializer_breaks_the_pool),
        cmocka_unit_test(recursive_fork_join_completes_even_with_one_worker),
        cmocka_unit_test(
            a_short_wait_is_not_stuck_behind_an_unrelated_long_task),
        cmocka_unit_test(many_threads_submitting_at_once_lose_nothing),
        cmocka_unit_test(stop_reaches_a_running_task_blocked_in_a_wait),
        cmocka_unit_test(a_computing_task_sees_the_stop_request),
        cmocka_unit_test(shutdown_with_a_timeout_returns_despite_a_stuck_task),
        cmocka_unit_test(workers_are_named_after_the_prefix),
        cmocka_unit_test(byte_tasks_run_on_threads_too),
        cmocka_unit_test(a_million_pending_futures_work),
        cmocka_unit_test(idle_workers_sleep_instead_of_spinning),
        cmocka_unit_test(a_task_queued_behind_another_is_never_stranded),
        cmocka_unit_test(tasks_waiting_for_each_other_each_get_a_worker),
        cmocka_unit_test(shutdown_with_wait_joins_every_worker),
        cmocka_unit_test(
            shutdown_from_a_task_does_not_wait_for_its_own_worker),
        cmocka_unit_test(an_idle_worker_is_reused),
        cmocka_unit_test(max_workers_over_the_limit_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
