/* SPDX-License-Identifier: MIT */
/* queue: what every kind shares (queue.c): arguments, nowait and timed put
 * and get, blocking and waking, cancellation, snapshots, task_done and
 * join, shutdown and drain. Each test runs over every kind of queue. */
#include "testing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"

#define ITEM(n) ((void *)(uintptr_t)(n))

static int by_value(const void *a, const void *b, void *ctx)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return (x > y) - (x < y);
}

static int make_ring(weft_queue_t **q, size_t maxsize)
{
    return weft_queue_new(q, maxsize);
}

/* The growing FIFO, bounded: what a maxsize above RING_MAX_CELLS gets, made
 * small enough here to fill in a test. */
static int make_locked_fifo(weft_queue_t **q, size_t maxsize)
{
    int rc = weft_queue_new(q, 0);
    if (rc == 0)
        (*q)->maxsize = maxsize;
    return rc;
}

static int make_lifo(weft_queue_t **q, size_t maxsize)
{
    return weft_lifo_queue_new(q, maxsize);
}

static int make_priority(weft_queue_t **q, size_t maxsize)
{
    return weft_priority_queue_new(q, maxsize, by_value, NULL);
}

static int (*const kinds[])(weft_queue_t **, size_t) = {
    make_ring, make_locked_fifo, make_lifo, make_priority};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static weft_queue_t *make(unsigned kind, size_t maxsize)
{
    weft_queue_t *q = NULL;
    assert_int_equal(kinds[kind](&q, maxsize), 0);
    return q;
}

/* Poll (not sleep to synchronize) until n contexts announced they sleep. */
static void until_sleeping(_Atomic uint32_t *sleepers, unsigned n)
{
    while (atomic_load(sleepers) < n)
        weft_sleep(0.001);
}

/* ----- Arguments ----- */

static void constructors_reject_a_null_out_and_a_null_compare(void **state)
{
    weft_queue_t *q = NULL;
    assert_fails_with(weft_queue_new(NULL, 0), WEFT_EINVAL, "NULL out");
    assert_fails_with(weft_lifo_queue_new(NULL, 0), WEFT_EINVAL, "NULL out");
    assert_fails_with(weft_simple_queue_new(NULL), WEFT_EINVAL, "NULL out");
    assert_fails_with(weft_priority_queue_new(NULL, 0, by_value, NULL),
                      WEFT_EINVAL, "NULL out");
    assert_fails_with(weft_priority_queue_new(&q, 0, NULL, NULL), WEFT_EINVAL,
                      "NULL compare");
    assert_null(q);
    weft_queue_free(NULL);
}

static void constructors_report_no_memory(void **state)
{
    weft_queue_t *q = NULL;
    weft__queue_fail_alloc(1);
    assert_fails_with(weft_queue_new(&q, 8), WEFT_ENOMEM, "no memory");
    weft__queue_fail_alloc(2); /* the ring's cells */
    assert_fails_with(weft_queue_new(&q, 8), WEFT_ENOMEM, "no memory");
    weft__queue_fail_alloc(1);
    assert_fails_with(weft_lifo_queue_new(&q, 8), WEFT_ENOMEM, "no memory");
    weft__queue_fail_alloc(1);
    assert_fails_with(weft_priority_queue_new(&q, 8, by_value, NULL),
                      WEFT_ENOMEM, "no memory");
    weft__queue_fail_alloc(1);
    assert_fails_with(weft_simple_queue_new(&q), WEFT_ENOMEM, "no memory");
    assert_null(q);
    weft__queue_fail_alloc(0);
}

static void put_and_get_reject_bad_arguments(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 4);
        void *item = ITEM(7);
        assert_fails_with(weft_queue_put(NULL, item, 0), WEFT_EINVAL,
                          "NULL queue");
        assert_fails_with(weft_queue_put(q, item, -5), WEFT_EINVAL, "timeout");
        assert_fails_with(weft_queue_put(q, item, NAN), WEFT_EINVAL, "timeout");
        assert_int_equal(weft_queue_qsize(q), 0);
        assert_fails_with(weft_queue_get(NULL, &item, 0), WEFT_EINVAL,
                          "NULL queue");
        assert_fails_with(weft_queue_get(q, &item, -0.5), WEFT_EINVAL,
                          "timeout");
        assert_fails_with(weft_queue_get(q, NULL, 0), WEFT_EINVAL, "NULL item");
        assert_ptr_equal(item, ITEM(7));
        assert_fails_with(weft_queue_shutdown(NULL, 0), WEFT_EINVAL,
                          "NULL queue");
        assert_int_equal(weft_queue_drain(NULL, &item, 1), 0);
        weft_queue_free(q);
    }
}

/* base.h's rule: a bad timeout is refused before the call looks at the
 * queue, even when it could finish at once, and changes nothing. */
static void a_bad_timeout_is_refused_even_when_the_call_could_finish(
    void **state)
{
    const double bad[] = {-0.5, -2, -INFINITY, NAN};
    for (unsigned k = 0; k <= NKINDS; k++) {
        weft_queue_t *q = NULL;
        if (k < NKINDS)
            q = make(k, 4);
        else
            assert_int_equal(weft_simple_queue_new(&q), 0);
        assert_int_equal(weft_queue_put(q, ITEM(1), 0), 0);
        void *item = ITEM(7);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            assert_fails_with(weft_queue_put(q, ITEM(2), bad[i]), WEFT_EINVAL,
                              "timeout");
            assert_fails_with(weft_queue_get(q, &item, bad[i]), WEFT_EINVAL,
                              "timeout");
            if (k < NKINDS)
                assert_fails_with(weft_queue_join(q, bad[i]), WEFT_EINVAL,
                                  "timeout");
        }
        assert_ptr_equal(item, ITEM(7));
        assert_int_equal(weft_queue_qsize(q), 1);
        /* 0 polls and WEFT_FOREVER takes what is there at once. */
        assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
        assert_ptr_equal(item, ITEM(1));
        assert_fails_with(weft_queue_get(q, &item, 0), WEFT_EEMPTY, "empty");
        if (k < NKINDS) {
            assert_int_equal(weft_queue_task_done(q), 0);
            for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_fails_with(weft_queue_join(q, bad[i]), WEFT_EINVAL,
                                  "timeout");
            assert_int_equal(weft_queue_join(q, 0), 0);
            assert_int_equal(weft_queue_join(q, WEFT_FOREVER), 0);
        }
        weft_queue_free(q);
    }
}

/* ----- Nowait and timeouts ----- */

static void a_nowait_put_on_a_full_queue_fails_with_full(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 2);
        assert_int_equal(weft_queue_put_nowait(q, ITEM(1)), 0);
        assert_int_equal(weft_queue_put(q, ITEM(2), 0), 0);
        assert_true(weft_queue_full(q));
        /* It did not wait: no sleeper announced itself, and the message
         * is a nowait's, not a timeout's. */
        assert_fails_with(weft_queue_put_nowait(q, ITEM(3)), WEFT_EFULL,
                          "the queue is full");
        assert_false(testing_message_has("timed out"));
        assert_int_equal(atomic_load(&q->sleeping_putters), 0);
        assert_int_equal(weft_queue_qsize(q), 2);
        weft_queue_free(q);
    }
}

static void a_nowait_get_on_an_empty_queue_fails_with_empty(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 2);
        void *item = ITEM(9);
        assert_fails_with(weft_queue_get_nowait(q, &item), WEFT_EEMPTY,
                          "empty");
        assert_ptr_equal(item, ITEM(9));
        assert_int_equal(weft_queue_put(q, NULL, 0), 0);
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_null(item); /* NULL is an item like any other */
        assert_fails_with(weft_queue_get(q, &item, 0), WEFT_EEMPTY, "empty");
        weft_queue_free(q);
    }
}

static void a_get_with_a_timeout_waits_at_least_the_timeout(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 0);
        void *item;
        double t0 = weft_monotonic();
        assert_fails_with(weft_queue_get(q, &item, 0.2), WEFT_EEMPTY,
                          "timed out");
        assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
        assert_int_equal(atomic_load(&q->sleeping_getters), 0);
        weft_queue_free(q);
    }
}

static void a_put_with_a_timeout_waits_at_least_the_timeout(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 1);
        assert_int_equal(weft_queue_put(q, ITEM(1), WEFT_FOREVER), 0);
        double t0 = weft_monotonic();
        assert_fails_with(weft_queue_put(q, ITEM(2), 0.2), WEFT_EFULL,
                          "timed out");
        assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
        assert_int_equal(weft_queue_qsize(q), 1);
        weft_queue_free(q);
    }
}

/* ----- Blocking and waking ----- */

struct waiter {
    weft_queue_t *q;
    weft_cancel_scope_t scope;
    void *item;
    int rc;
};

static void get_forever(void *arg)
{
    struct waiter *w = arg;
    weft_cancel_scope_enter(&w->scope, WEFT_FOREVER, 0);
    w->rc = weft_queue_get(w->q, &w->item, WEFT_FOREVER);
    weft_cancel_scope_exit(&w->scope);
}

static void put_forever(void *arg)
{
    struct waiter *w = arg;
    weft_cancel_scope_enter(&w->scope, WEFT_FOREVER, 0);
    w->rc = weft_queue_put(w->q, w->item, WEFT_FOREVER);
    weft_cancel_scope_exit(&w->scope);
}

static struct waiter *start_waiter(weft_queue_t *q, void (*fn)(void *),
                                   void *item, testing_thread_t **t)
{
    struct waiter *w = calloc(1, sizeof *w);
    w->q = q;
    w->item = item;
    w->rc = -1;
    weft_cancel_scope_init(&w->scope);
    *t = testing_thread_start(fn, w);
    return w;
}

static void a_blocked_get_takes_the_item_put_later(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 4);
        testing_thread_t *t;
        struct waiter *w = start_waiter(q, get_forever, NULL, &t);
        until_sleeping(&q->sleeping_getters, 1);
        assert_int_equal(weft_queue_put(q, ITEM(42), WEFT_FOREVER), 0);
        testing_thread_join(t);
        assert_int_equal(w->rc, 0);
        assert_ptr_equal(w->item, ITEM(42));
        assert_int_equal(weft_queue_qsize(q), 0);
        free(w);
        weft_queue_free(q);
    }
}

static void a_blocked_put_goes_in_once_room_is_made(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 1);
        assert_int_equal(weft_queue_put(q, ITEM(1), 0), 0);
        testing_thread_t *t;
        struct waiter *w = start_waiter(q, put_forever, ITEM(2), &t);
        until_sleeping(&q->sleeping_putters, 1);
        void *item;
        assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
        assert_ptr_equal(item, ITEM(1));
        testing_thread_join(t);
        assert_int_equal(w->rc, 0);
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_ptr_equal(item, ITEM(2));
        free(w);
        weft_queue_free(q);
    }
}

static void cancelling_a_blocked_get_returns_cancelled(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 4);
        testing_thread_t *t;
        struct waiter *w = start_waiter(q, get_forever, ITEM(5), &t);
        until_sleeping(&q->sleeping_getters, 1);
        weft_cancel_scope_cancel(&w->scope);
        testing_thread_join(t);
        assert_int_equal(w->rc, WEFT_ECANCELLED);
        assert_ptr_equal(w->item, ITEM(5)); /* nothing taken */
        /* Nothing was lost on the way: the queue works as before. */
        assert_int_equal(weft_queue_put(q, ITEM(6), 0), 0);
        void *item;
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_ptr_equal(item, ITEM(6));
        free(w);
        weft_queue_free(q);
    }
}

static void cancelling_a_blocked_put_returns_cancelled(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 1);
        assert_int_equal(weft_queue_put(q, ITEM(1), 0), 0);
        testing_thread_t *t;
        struct waiter *w = start_waiter(q, put_forever, ITEM(2), &t);
        until_sleeping(&q->sleeping_putters, 1);
        weft_cancel_scope_cancel(&w->scope);
        testing_thread_join(t);
        assert_int_equal(w->rc, WEFT_ECANCELLED);
        assert_int_equal(weft_queue_qsize(q), 1);
        free(w);
        weft_queue_free(q);
    }
}

static void waits_in_a_cancelled_scope_fail_at_once(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 1);
        weft_cancel_scope_t s;
        weft_cancel_scope_init(&s);
        weft_cancel_scope_cancel(&s);
        assert_int_equal(weft_cancel_scope_enter(&s, WEFT_FOREVER, 0), 0);
        void *item = ITEM(3);
        assert_fails_with(weft_queue_get(q, &item, WEFT_FOREVER),
                          WEFT_ECANCELLED, "get cancelled");
        assert_ptr_equal(item, ITEM(3));
        /* An operation that need not wait still goes through. */
        assert_int_equal(weft_queue_put(q, ITEM(1), WEFT_FOREVER), 0);
        assert_fails_with(weft_queue_put(q, ITEM(2), 30), WEFT_ECANCELLED,
                          "put cancelled");
        assert_fails_with(weft_queue_join(q, WEFT_FOREVER), WEFT_ECANCELLED,
                          "join() cancelled");
        assert_int_equal(weft_cancel_scope_exit(&s), WEFT_ECANCELLED);
        assert_int_equal(weft_queue_qsize(q), 1);
        weft_queue_free(q);
    }
}

/* ----- Snapshots ----- */

static void qsize_empty_full_and_maxsize_follow_the_items(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 3);
        assert_int_equal(weft_queue_maxsize(q), 3);
        assert_true(weft_queue_empty(q));
        assert_false(weft_queue_full(q));
        for (int i = 1; i <= 3; i++) {
            assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
            assert_int_equal(weft_queue_qsize(q), (size_t)i);
            assert_false(weft_queue_empty(q));
        }
        assert_true(weft_queue_full(q));
        void *item;
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_false(weft_queue_full(q));
        assert_int_equal(weft_queue_qsize(q), 2);
        weft_queue_free(q);
    }
    weft_queue_t *q = make(0, 0); /* unbounded: never full */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
    assert_false(weft_queue_full(q));
    assert_int_equal(weft_queue_maxsize(q), 0);
    assert_int_equal(weft_queue_qsize(NULL), 0);
    weft_queue_free(q);
}

/* ----- Tasks ----- */

static void task_done_more_often_than_puts_is_an_error(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 0);
        assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL,
                          "task_done() called too many times");
        assert_int_equal(weft_queue_put(q, ITEM(1), 0), 0);
        assert_int_equal(weft_queue_put(q, ITEM(2), 0), 0);
        assert_int_equal(weft_queue_task_done(q), 0);
        assert_int_equal(weft_queue_task_done(q), 0);
        assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL,
                          "task_done() called too many times");
        assert_int_equal(weft_queue_join(q, 0), 0);
        assert_fails_with(weft_queue_task_done(NULL), WEFT_EINVAL,
                          "NULL queue");
        weft_queue_free(q);
    }
}

static void join_times_out_while_tasks_are_unfinished(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 0);
        assert_int_equal(weft_queue_join(q, WEFT_FOREVER), 0); /* none */
        assert_int_equal(weft_queue_put(q, ITEM(1), 0), 0);
        assert_fails_with(weft_queue_join(q, 0), WEFT_ETIMEDOUT,
                          "1 tasks unfinished");
        double t0 = weft_monotonic();
        assert_fails_with(weft_queue_join(q, 0.2), WEFT_ETIMEDOUT, "timed out");
        assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
        assert_fails_with(weft_queue_join(q, -2), WEFT_EINVAL, "timeout");
        assert_fails_with(weft_queue_join(NULL, 0), WEFT_EINVAL, "NULL");
        weft_queue_free(q);
    }
}

static void join_(void *arg)
{
    struct waiter *w = arg;
    w->rc = weft_queue_join(w->q, WEFT_FOREVER);
}

static void join_returns_once_every_item_is_done(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 0);
        for (int i = 0; i < 3; i++)
            assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
        testing_thread_t *t;
        struct waiter *w = start_waiter(q, join_, NULL, &t);
        until_sleeping(&q->sleeping_joiners, 1);
        for (int i = 0; i < 3; i++) {
            void *item;
            assert_int_equal(weft_queue_get(q, &item, 0), 0);
            assert_int_equal(w->rc, -1); /* still waiting */
            assert_int_equal(weft_queue_task_done(q), 0);
        }
        testing_thread_join(t);
        assert_int_equal(w->rc, 0);
        free(w);
        weft_queue_free(q);
    }
}

/* ----- Shutdown ----- */

static void after_a_shutdown_puts_fail_and_gets_drain_the_rest(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 4);
        assert_false(weft_queue_is_shutdown(q));
        assert_int_equal(weft_queue_put(q, ITEM(1), 0), 0);
        assert_int_equal(weft_queue_put(q, ITEM(2), 0), 0);
        assert_int_equal(weft_queue_shutdown(q, 0), 0);
        assert_true(weft_queue_is_shutdown(q));
        assert_fails_with(weft_queue_put(q, ITEM(3), WEFT_FOREVER),
                          WEFT_ESHUTDOWN, "shut down");
        void *item;
        assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
        assert_int_equal(weft_queue_get(q, &item, 0), 0);
        assert_fails_with(weft_queue_get(q, &item, WEFT_FOREVER),
                          WEFT_ESHUTDOWN, "shut down");
        assert_fails_with(weft_queue_get_nowait(q, &item), WEFT_ESHUTDOWN,
                          "shut down");
        /* Shutting down again, even immediately, changes nothing here. */
        assert_int_equal(weft_queue_shutdown(q, 0), 0);
        assert_int_equal(weft_queue_shutdown(q, 1), 0);
        assert_fails_with(weft_queue_join(q, 0), WEFT_ETIMEDOUT,
                          "2 tasks unfinished");
        weft_queue_task_done(q);
        weft_queue_task_done(q);
        assert_int_equal(weft_queue_join(q, 0), 0);
        weft_queue_free(q);
    }
}

static void a_put_on_a_full_shut_queue_says_shut_down_not_full(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 1);
        assert_int_equal(weft_queue_put(q, ITEM(1), 0), 0);
        weft_queue_shutdown(q, 0);
        /* Python checks for shutdown first: ShutDown, not Full. */
        assert_fails_with(weft_queue_put_nowait(q, ITEM(2)), WEFT_ESHUTDOWN,
                          "shut down");
        weft_queue_free(q);
    }
}

static void
an_immediate_shutdown_stops_gets_and_counts_the_rest_done(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 8);
        for (int i = 1; i <= 4; i++)
            assert_int_equal(weft_queue_put(q, ITEM(i), 0), 0);
        void *item;
        assert_int_equal(weft_queue_get(q, &item, 0), 0); /* not done yet */
        assert_int_equal(weft_queue_shutdown(q, 1), 0);
        assert_fails_with(weft_queue_get(q, &item, WEFT_FOREVER),
                          WEFT_ESHUTDOWN, "shut down");
        assert_int_equal(weft_queue_qsize(q), 3);
        /* The three left count as done; the one taken does not. */
        assert_fails_with(weft_queue_join(q, 0), WEFT_ETIMEDOUT,
                          "1 tasks unfinished");
        assert_int_equal(weft_queue_task_done(q), 0);
        assert_int_equal(weft_queue_join(q, 0), 0);
        /* They stay in the queue for drain, and need no task_done. */
        void *left[8];
        assert_int_equal(weft_queue_drain(q, left, 8), 3);
        assert_int_equal(weft_queue_qsize(q), 0);
        assert_int_equal(weft_queue_join(q, 0), 0);
        weft_queue_shutdown(q, 1); /* again: nothing more is counted */
        assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL,
                          "too many times");
        weft_queue_free(q);
    }
}

static void
an_immediate_shutdown_counts_no_more_than_is_unfinished(void **state)
{
    weft_queue_t *q = make(0, 8);
    weft_queue_put(q, ITEM(1), 0);
    weft_queue_put(q, ITEM(2), 0);
    assert_int_equal(weft_queue_task_done(q), 0); /* early, as Python allows */
    weft_queue_shutdown(q, 1);
    assert_int_equal(weft_queue_join(q, 0), 0);
    assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL, "too many times");
    weft_queue_free(q);
}

static void shutdown_wakes_blocked_putters_getters_and_joiners(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *empty = make(k, 1), *full = make(k, 1);
        weft_queue_put(full, ITEM(1), 0);
        testing_thread_t *tg, *tp, *tj;
        struct waiter *g = start_waiter(empty, get_forever, NULL, &tg);
        struct waiter *p = start_waiter(full, put_forever, ITEM(2), &tp);
        struct waiter *j = start_waiter(full, join_, NULL, &tj);
        until_sleeping(&empty->sleeping_getters, 1);
        until_sleeping(&full->sleeping_putters, 1);
        until_sleeping(&full->sleeping_joiners, 1);
        weft_queue_shutdown(empty, 0);
        weft_queue_shutdown(full, 1); /* the item left counts as done */
        testing_thread_join(tg);
        testing_thread_join(tp);
        testing_thread_join(tj);
        assert_int_equal(g->rc, WEFT_ESHUTDOWN);
        assert_int_equal(p->rc, WEFT_ESHUTDOWN);
        assert_int_equal(j->rc, 0);
        free(g);
        free(p);
        free(j);
        weft_queue_free(empty);
        weft_queue_free(full);
    }
}

/* ----- CPython's test_queue (3.13), on weft's queues -----
 *
 * The sequences Lib/test/test_queue.py runs on Queue, LifoQueue and
 * PriorityQueue. The FIFO runs on the ring (maxsize up to 65536) and on
 * the growing FIFO; a blocking call is unblocked by another thread once it
 * sleeps (where Python's trigger thread sleeps 0.1 s first). */

#define QUEUE_SIZE 5

/* Python's kinds, as weft makes them, and the order 111, 333, 222 come
 * out of each. */
static const struct {
    unsigned kind;
    uintptr_t order[3];
} python_kinds[] = {
    {0, {111, 333, 222}}, /* Queue (the ring) */
    {1, {111, 333, 222}}, /* Queue (the growing FIFO) */
    {2, {222, 333, 111}}, /* LifoQueue */
    {3, {111, 222, 333}}, /* PriorityQueue */
};
#define NPYTHON (sizeof python_kinds / sizeof python_kinds[0])

struct trigger {
    weft_queue_t *q;
    _Atomic uint32_t *sleepers; /* the blocked call's side */
    int put;                    /* trigger with a put, else with a get */
    _Atomic int fired;
};

static void trigger_when_blocked(void *arg)
{
    struct trigger *t = arg;
    until_sleeping(t->sleepers, 1);
    atomic_store(&t->fired, 1);
    void *item;
    if (t->put)
        assert_int_equal(weft_queue_put(t->q, ITEM(4242), WEFT_FOREVER), 0);
    else
        assert_int_equal(weft_queue_get(t->q, &item, WEFT_FOREVER), 0);
}

/* Python's do_blocking_test: the call blocks until the other thread acts,
 * then returns 0. */
static void blocking_put(weft_queue_t *q, void *item, double timeout)
{
    struct trigger t = {q, &q->sleeping_putters, 0, 0};
    testing_thread_t *th = testing_thread_start(trigger_when_blocked, &t);
    assert_int_equal(weft_queue_put(q, item, timeout), 0);
    assert_true(atomic_load(&t.fired));
    testing_thread_join(th);
}

static void blocking_get(weft_queue_t *q, double timeout)
{
    struct trigger t = {q, &q->sleeping_getters, 1, 0};
    testing_thread_t *th = testing_thread_start(trigger_when_blocked, &t);
    void *item = NULL;
    assert_int_equal(weft_queue_get(q, &item, timeout), 0);
    assert_ptr_equal(item, ITEM(4242));
    assert_true(atomic_load(&t.fired));
    testing_thread_join(th);
}

static void basic_queue_test(weft_queue_t *q, const uintptr_t order[3])
{
    assert_int_equal(weft_queue_qsize(q), 0);
    assert_true(weft_queue_empty(q));
    assert_false(weft_queue_full(q));
    weft_queue_put(q, ITEM(111), WEFT_FOREVER);
    weft_queue_put(q, ITEM(333), WEFT_FOREVER);
    weft_queue_put(q, ITEM(222), WEFT_FOREVER);
    for (int i = 0; i < 3; i++) {
        void *item;
        assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
        assert_ptr_equal(item, ITEM(order[i]));
    }
    for (int i = 0; i < QUEUE_SIZE - 1; i++) {
        assert_int_equal(weft_queue_put(q, ITEM(i), WEFT_FOREVER), 0);
        assert_true(weft_queue_qsize(q) > 0);
    }
    assert_false(weft_queue_full(q));
    assert_int_equal(weft_queue_put(q, ITEM(2 * QUEUE_SIZE), WEFT_FOREVER), 0);
    assert_true(weft_queue_full(q));
    assert_false(weft_queue_empty(q));
    assert_fails_with(weft_queue_put_nowait(q, ITEM(3 * 2 * QUEUE_SIZE)),
                      WEFT_EFULL, "full");
    assert_fails_with(weft_queue_put(q, ITEM(3 * 2 * QUEUE_SIZE), 0.01),
                      WEFT_EFULL, "full");
    blocking_put(q, ITEM(3 * 2 * QUEUE_SIZE), WEFT_FOREVER);
    blocking_put(q, ITEM(3 * 2 * QUEUE_SIZE), 10);
    for (int i = 0; i < QUEUE_SIZE; i++) {
        void *item;
        assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
    }
    assert_int_equal(weft_queue_qsize(q), 0);
    void *item;
    assert_fails_with(weft_queue_get_nowait(q, &item), WEFT_EEMPTY, "empty");
    assert_fails_with(weft_queue_get(q, &item, 0.01), WEFT_EEMPTY, "empty");
    blocking_get(q, WEFT_FOREVER);
    blocking_get(q, 10);
}

static void python_basic(void **state)
{
    for (size_t k = 0; k < NPYTHON; k++) {
        weft_queue_t *q = make(python_kinds[k].kind, QUEUE_SIZE);
        basic_queue_test(q, python_kinds[k].order); /* twice, as Python */
        basic_queue_test(q, python_kinds[k].order);
        weft_queue_free(q);
    }
}

/* queue_join_test: two workers sum what they get until a negative item. */
struct summing {
    weft_queue_t *q;
    _Atomic long cum;
};

static void sum_worker(void *arg)
{
    struct summing *s = arg;
    for (;;) {
        void *item;
        assert_int_equal(weft_queue_get(s->q, &item, WEFT_FOREVER), 0);
        intptr_t x = (intptr_t)item - 1000;
        if (x >= 0)
            atomic_fetch_add(&s->cum, x);
        assert_int_equal(weft_queue_task_done(s->q), 0);
        if (x < 0)
            return;
    }
}

static void queue_join_test(weft_queue_t *q)
{
    struct summing s = {q, 0};
    testing_thread_t *t[2];
    for (int i = 0; i < 2; i++)
        t[i] = testing_thread_start(sum_worker, &s);
    for (intptr_t i = 0; i < 100; i++)
        assert_int_equal(weft_queue_put(q, (void *)(1000 + i), WEFT_FOREVER),
                         0);
    assert_int_equal(weft_queue_join(q, WEFT_FOREVER), 0);
    assert_int_equal(atomic_load(&s.cum), 4950); /* sum(range(100)) */
    for (int i = 0; i < 2; i++)
        assert_int_equal(weft_queue_put(q, (void *)(1000 - 1), WEFT_FOREVER),
                         0);
    assert_int_equal(weft_queue_join(q, WEFT_FOREVER), 0); /* twice */
    for (int i = 0; i < 2; i++)
        testing_thread_join(t[i]);
}

static void python_queue_join_and_task_done(void **state)
{
    for (size_t k = 0; k < NPYTHON; k++) {
        weft_queue_t *q = make(python_kinds[k].kind, 0);
        assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL,
                          "too many times");
        queue_join_test(q);
        queue_join_test(q);
        assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL,
                          "too many times");
        weft_queue_free(q);
    }
}

static void shutdown_all_methods_in_one_thread(unsigned kind, int immediate)
{
    weft_queue_t *q = make(kind, 2);
    assert_int_equal(weft_queue_put(q, ITEM('L'), WEFT_FOREVER), 0);
    assert_int_equal(weft_queue_put_nowait(q, ITEM('O')), 0);
    assert_int_equal(weft_queue_shutdown(q, immediate), 0);
    assert_fails_with(weft_queue_put(q, ITEM('E'), WEFT_FOREVER),
                      WEFT_ESHUTDOWN, "shut down");
    assert_fails_with(weft_queue_put_nowait(q, ITEM('W')), WEFT_ESHUTDOWN,
                      "shut down");
    void *item;
    if (immediate) {
        assert_fails_with(weft_queue_get(q, &item, WEFT_FOREVER),
                          WEFT_ESHUTDOWN, "shut down");
        assert_fails_with(weft_queue_get_nowait(q, &item), WEFT_ESHUTDOWN,
                          "shut down");
        assert_fails_with(weft_queue_task_done(q), WEFT_EINVAL,
                          "too many times");
        assert_int_equal(weft_queue_join(q, WEFT_FOREVER), 0);
    } else {
        for (int i = 0; i < 2; i++) {
            assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
            assert_true(item == ITEM('L') || item == ITEM('O'));
            assert_int_equal(weft_queue_task_done(q), 0);
        }
        assert_int_equal(weft_queue_join(q, WEFT_FOREVER), 0);
        assert_fails_with(weft_queue_get(q, &item, WEFT_FOREVER),
                          WEFT_ESHUTDOWN, "shut down");
        assert_fails_with(weft_queue_get_nowait(q, &item), WEFT_ESHUTDOWN,
                          "shut down");
        assert_fails_with(weft_queue_get(q, &item, 1.0), WEFT_ESHUTDOWN,
                          "shut down");
    }
    weft_queue_free(q);
}

static void python_shutdown_all_methods_in_one_thread(void **state)
{
    for (size_t k = 0; k < NPYTHON; k++) {
        shutdown_all_methods_in_one_thread(python_kinds[k].kind, 0);
        shutdown_all_methods_in_one_thread(python_kinds[k].kind, 1);
    }
}

/* _shutdown_get: a full queue of 2; getters that start once it is shut
 * down: gently, two get an item and one is told ShutDown; at once, all
 * are. */
struct after_go {
    weft_queue_t *q;
    weft_event_t *go;
    int rc, task_done;
};

static void get_after_go(void *arg)
{
    struct after_go *a = arg;
    weft_event_wait(a->go, WEFT_FOREVER);
    void *item;
    a->rc = weft_queue_get(a->q, &item, WEFT_FOREVER);
    if (a->rc == 0 && a->task_done)
        assert_int_equal(weft_queue_task_done(a->q), 0);
}

static void put_after_go(void *arg)
{
    struct after_go *a = arg;
    weft_event_wait(a->go, WEFT_FOREVER);
    a->rc = weft_queue_put(a->q, ITEM('E'), WEFT_FOREVER);
}

static void join_after_go(void *arg)
{
    struct after_go *a = arg;
    a->rc = weft_queue_join(a->q, WEFT_FOREVER);
}

static int run_after_go(weft_queue_t *q, void (*const fn[])(void *), int n,
                        int immediate, struct after_go *a)
{
    weft_event_t go;
    weft_event_init(&go);
    testing_thread_t *t[4];
    for (int i = 0; i < n; i++) {
        a[i] = (struct after_go){q, &go, -1, fn[i] == get_after_go};
        t[i] = testing_thread_start(fn[i], &a[i]);
    }
    weft_queue_shutdown(q, immediate);
    weft_event_set(&go);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        testing_thread_join(t[i]);
        ok += a[i].rc == 0;
    }
    return ok;
}

static void python_shutdown_get_and_put(void **state)
{
    static void (*const gets[])(void *) = {get_after_go, get_after_go,
                                           get_after_go};
    static void (*const puts[])(void *) = {put_after_go, put_after_go};
    for (size_t k = 0; k < NPYTHON; k++) {
        for (int immediate = 0; immediate < 2; immediate++) {
            struct after_go a[4];
            weft_queue_t *q = make(python_kinds[k].kind, 2);
            weft_queue_put(q, ITEM('Y'), 0);
            weft_queue_put(q, ITEM('D'), 0);
            int got = run_after_go(q, gets, immediate ? 2 : 3, immediate, a);
            assert_int_equal(got, immediate ? 0 : 2);
            for (int i = 0; i < (immediate ? 2 : 3); i++)
                assert_true(a[i].rc == 0 || a[i].rc == WEFT_ESHUTDOWN);
            weft_queue_free(q);
            q = make(python_kinds[k].kind, 2);
            weft_queue_put(q, ITEM('Y'), 0);
            weft_queue_put(q, ITEM('D'), 0);
            assert_int_equal(run_after_go(q, puts, 2, 0, a), 0);
            assert_int_equal(a[0].rc, WEFT_ESHUTDOWN);
            assert_int_equal(a[1].rc, WEFT_ESHUTDOWN);
            weft_queue_free(q);
        }
    }
}

/* _shutdown_join, _shutdown_put_join, shutdown_get_task_done_join: every
 * joiner returns normally once the items are done (gently: got and marked
 * done; at once: counted done by the shutdown). */
static void python_shutdown_and_join(void **state)
{
    static void (*const joins[])(void *) = {join_after_go, join_after_go,
                                            get_after_go};
    static void (*const put_join[])(void *) = {put_after_go, join_after_go};
    static void (*const get_join[])(void *) = {get_after_go, get_after_go,
                                               join_after_go, join_after_go};
    for (size_t k = 0; k < NPYTHON; k++) {
        for (int immediate = 0; immediate < 2; immediate++) {
            struct after_go a[4];
            weft_queue_t *q = make(python_kinds[k].kind, 0);
            weft_queue_put(q, ITEM('Y'), 0);
            int ok = run_after_go(q, joins, immediate ? 2 : 3, immediate, a);
            assert_int_equal(ok, immediate ? 2 : 3);
            weft_queue_free(q);

            q = make(python_kinds[k].kind, 2);
            weft_queue_put(q, ITEM('Y'), 0);
            weft_event_t go;
            weft_event_init(&go);
            testing_thread_t *t[2];
            for (int i = 0; i < 2; i++) {
                a[i] = (struct after_go){q, &go, -1, 0};
                t[i] = testing_thread_start(put_join[i], &a[i]);
            }
            weft_queue_shutdown(q, immediate);
            weft_event_set(&go);
            void *item;
            if (immediate) {
                assert_fails_with(weft_queue_get_nowait(q, &item),
                                  WEFT_ESHUTDOWN, "shut down");
            } else {
                assert_int_equal(weft_queue_get(q, &item, WEFT_FOREVER), 0);
                assert_ptr_equal(item, ITEM('Y'));
                assert_int_equal(weft_queue_task_done(q), 0);
            }
            for (int i = 0; i < 2; i++)
                testing_thread_join(t[i]);
            assert_int_equal(a[0].rc, WEFT_ESHUTDOWN); /* the put */
            assert_int_equal(a[1].rc, 0);              /* the join */
            weft_queue_free(q);
        }
        weft_queue_t *q = make(python_kinds[k].kind, 2);
        weft_queue_put(q, ITEM('Y'), 0);
        weft_queue_put(q, ITEM('D'), 0);
        struct after_go a[4];
        assert_int_equal(run_after_go(q, get_join, 4, 0, a), 4);
        weft_queue_free(q);
    }
}

/* _shutdown_all_methods_in_many_threads: writers put, readers get (one
 * at least before the start, then without waiting), and a writer shuts
 * the queue down half-way; every reader ends on ShutDown, and after an
 * immediate shutdown the joiners return. Python's immediate shutdown also
 * drops what is left (qsize() is 0 after it); weft's leaves it for
 * weft_queue_drain(), since a C program may have to free what the
 * pointers point to: it is drained here, and join stays satisfied. */
struct many {
    weft_queue_t *q;
    weft_barrier_t start;
    int immediate;
    long per_writer;
    _Atomic int shut_by, writers_refused, readers_done;
};

static void many_writer(struct many *m, unsigned i)
{
    long when = m->per_writer / 2;
    for (long n = 0; n < when / 2; n++)
        assert_int_equal(weft_queue_put(m->q, ITEM(n + 1), WEFT_FOREVER), 0);
    weft_barrier_wait(&m->start, NULL);
    for (long n = when / 2; n < m->per_writer; n++) {
        if (weft_queue_put(m->q, ITEM(n + 1), WEFT_FOREVER) == WEFT_ESHUTDOWN) {
            atomic_fetch_add(&m->writers_refused, 1);
            return;
        }
        int none = -1;
        if (n == when &&
            atomic_compare_exchange_strong(&m->shut_by, &none, (int)i))
            weft_queue_shutdown(m->q, m->immediate);
    }
}

static void many_reader(struct many *m)
{
    void *item;
    assert_int_equal(weft_queue_get(m->q, &item, WEFT_FOREVER), 0);
    assert_int_equal(weft_queue_task_done(m->q), 0);
    weft_barrier_wait(&m->start, NULL);
    for (;;) {
        int rc = weft_queue_get_nowait(m->q, &item);
        if (rc == 0)
            assert_int_equal(weft_queue_task_done(m->q), 0);
        else if (rc == WEFT_ESHUTDOWN)
            break;
        else
            assert_int_equal(rc, WEFT_EEMPTY);
    }
    atomic_fetch_add(&m->readers_done, 1);
}

static void many_role(void *arg, unsigned i)
{
    struct many *m = arg;
    if (i < 4)
        many_writer(m, i);
    else if (i < 10)
        many_reader(m);
    else {
        weft_barrier_wait(&m->start, NULL);
        assert_int_equal(weft_queue_join(m->q, WEFT_FOREVER), 0);
    }
}

static void python_shutdown_all_methods_in_many_threads(void **state)
{
    for (int immediate = 0; immediate < 2; immediate++) {
        struct many m = {0};
        m.q = make(1, 0);
        m.immediate = immediate;
        m.per_writer = testing_scale() > 1 ? 2048 : 1024 * 64 / 4;
        atomic_store(&m.shut_by, -1);
        unsigned parties = immediate ? 12 : 10;
        weft_barrier_init(&m.start, parties, NULL, NULL, WEFT_FOREVER);
        testing_run_threads(parties, many_role, &m);
        assert_true(atomic_load(&m.shut_by) >= 0);
        assert_int_equal(atomic_load(&m.readers_done), 6);
        if (immediate) {
            void *left[64];
            while (weft_queue_drain(m.q, left, 64) > 0)
                ;
            assert_int_equal(weft_queue_join(m.q, 0), 0);
        }
        weft_barrier_destroy(&m.start);
        weft_queue_free(m.q);
    }
}

/* test_shutdown_pending_get: a get blocked on an empty queue is told
 * ShutDown. */
static void python_shutdown_pending_get(void **state)
{
    for (size_t k = 0; k < NPYTHON; k++) {
        weft_queue_t *q = make(python_kinds[k].kind, 0);
        testing_thread_t *t;
        struct waiter *w = start_waiter(q, get_forever, NULL, &t);
        weft_queue_shutdown(q, 0);
        testing_thread_join(t);
        assert_int_equal(w->rc, WEFT_ESHUTDOWN);
        free(w);
        weft_queue_free(q);
    }
}

/* ----- Drain ----- */

static void drain_takes_up_to_max_items_in_get_order(void **state)
{
    weft_queue_t *q = make(0, 8);
    for (int i = 1; i <= 5; i++)
        weft_queue_put(q, ITEM(i), 0);
    void *items[8] = {0};
    assert_int_equal(weft_queue_drain(q, items, 2), 2);
    assert_ptr_equal(items[0], ITEM(1));
    assert_ptr_equal(items[1], ITEM(2));
    assert_int_equal(weft_queue_drain(q, items, 8), 3);
    assert_ptr_equal(items[2], ITEM(5));
    assert_int_equal(weft_queue_drain(q, items, 8), 0);
    /* Drained items are taken like got ones: they need task_done. */
    assert_fails_with(weft_queue_join(q, 0), WEFT_ETIMEDOUT, "5 tasks");
    weft_queue_free(q);
}

static void drain_makes_room_for_a_blocked_put(void **state)
{
    for (unsigned k = 0; k < NKINDS; k++) {
        weft_queue_t *q = make(k, 1);
        weft_queue_put(q, ITEM(1), 0);
        testing_thread_t *t;
        struct waiter *w = start_waiter(q, put_forever, ITEM(2), &t);
        until_sleeping(&q->sleeping_putters, 1);
        void *item;
        assert_int_equal(weft_queue_drain(q, &item, 1), 1);
        testing_thread_join(t);
        assert_int_equal(w->rc, 0);
        assert_int_equal(weft_queue_qsize(q), 1);
        free(w);
        weft_queue_free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constructors_reject_a_null_out_and_a_null_compare),
        cmocka_unit_test(constructors_report_no_memory),
        cmocka_unit_test(put_and_get_reject_bad_arguments),
        cmocka_unit_test(a_nowait_put_on_a_full_queue_fails_with_full),
        cmocka_unit_test(a_nowait_get_on_an_empty_queue_fails_with_empty),
        cmocka_unit_test(
            a_bad_timeout_is_refused_even_when_the_call_could_finish),
        cmocka_unit_test(a_get_with_a_timeout_waits_at_least_the_timeout),
        cmocka_unit_test(a_put_with_a_timeout_waits_at_least_the_timeout),
        cmocka_unit_test(a_blocked_get_takes_the_item_put_later),
        cmocka_unit_test(a_blocked_put_goes_in_once_room_is_made),
        cmocka_unit_test(cancelling_a_blocked_get_returns_cancelled),
        cmocka_unit_test(cancelling_a_blocked_put_returns_cancelled),
        cmocka_unit_test(waits_in_a_cancelled_scope_fail_at_once),
        cmocka_unit_test(qsize_empty_full_and_maxsize_follow_the_items),
        cmocka_unit_test(task_done_more_often_than_puts_is_an_error),
        cmocka_unit_test(join_times_out_while_tasks_are_unfinished),
        cmocka_unit_test(join_returns_once_every_item_is_done),
        cmocka_unit_test(after_a_shutdown_puts_fail_and_gets_drain_the_rest),
        cmocka_unit_test(a_put_on_a_full_shut_queue_says_shut_down_not_full),
        cmocka_unit_test(
            an_immediate_shutdown_stops_gets_and_counts_the_rest_done),
        cmocka_unit_test(
            an_immediate_shutdown_counts_no_more_than_is_unfinished),
        cmocka_unit_test(shutdown_wakes_blocked_putters_getters_and_joiners),
        cmocka_unit_test(python_basic),
        cmocka_unit_test(python_queue_join_and_task_done),
        cmocka_unit_test(python_shutdown_all_methods_in_one_thread),
        cmocka_unit_test(python_shutdown_get_and_put),
        cmocka_unit_test(python_shutdown_and_join),
        cmocka_unit_test(python_shutdown_all_methods_in_many_threads),
        cmocka_unit_test(python_shutdown_pending_get),
        cmocka_unit_test(drain_takes_up_to_max_items_in_get_order),
        cmocka_unit_test(drain_makes_room_for_a_blocked_put),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
