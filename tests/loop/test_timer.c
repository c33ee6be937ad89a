/* SPDX-License-Identifier: MIT */
/* loop timers: order by deadline with ties FIFO, cancel, call_at, the
 * loop's time, and many timers. */
#include "testing.h"

#include <math.h>
#include <stdlib.h>

struct log {
    weft_loop_t *loop;
    int order[64];
    double at[64];
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
    it->log->at[it->log->n] = weft_monotonic();
    it->log->order[it->log->n++] = it->id;
    if (it->log->n == it->log->stop_after)
        weft_loop_stop(it->log->loop);
    return 0;
}

static void timers_run_in_deadline_order_and_ties_in_setting_order(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct log log = {.loop = loop, .stop_after = 7};
    struct item it[7];
    double delays[7] = {0.03, 0.01, 0.02, 0.01, 0, 0.03, 0};
    /* Deadlines from one base time, so that however slowly they are set,
     * equal delays are equal deadlines (call_later would read the clock
     * for each). */
    double t0 = weft_loop_time(loop);
    for (int i = 0; i < 7; i++) {
        it[i] = (struct item){&log, i};
        assert_int_equal(
            weft_loop_call_at(loop, t0 + delays[i], record, &it[i], NULL), 0);
    }
    assert_int_equal(weft_loop_run_forever(loop), 0);
    int want[7] = {4, 6, 1, 3, 2, 0, 5};
    assert_memory_equal(log.order, want, sizeof want);
    assert_true(log.at[6] - t0 >= 0.03);
    weft_loop_free(loop);
}

static void call_soon_callbacks_run_before_timers_due_later(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct log log = {.loop = loop, .stop_after = 3};
    struct item a = {&log, 1}, b = {&log, 2}, c = {&log, 3};
    weft_loop_call_later(loop, 0.02, record, &a, NULL);
    weft_loop_call_soon(loop, record, &b, NULL);
    weft_loop_call_later(loop, 0, record, &c, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    int want[3] = {2, 3, 1};
    assert_memory_equal(log.order, want, sizeof want);
    weft_loop_free(loop);
}

static void a_timer_never_fires_before_its_delay(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct log log = {.loop = loop, .stop_after = 1};
    struct item a = {&log, 1};
    double t0 = weft_monotonic();
    weft_loop_call_later(loop, 0.1, record, &a, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_elapsed_between(log.at[0] - t0, 0.1, 1.0);
    weft_loop_free(loop);
}

static void cancelled_timers_do_not_run_wherever_they_are_queued(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct log log = {.loop = loop, .stop_after = 2};
    struct item it[6];
    weft_handle_t h[6];
    /* 0..2 go to the lane (growing deadlines), 3 and 4 to the heap. */
    double delays[6] = {0.01, 0.02, 0.03, 0.005, 0.015, 0.04};
    for (int i = 0; i < 6; i++) {
        it[i] = (struct item){&log, i};
        weft_loop_call_later(loop, delays[i], record, &it[i], &h[i]);
    }
    for (int i = 0; i < 5; i++)
        if (i != 2)
            weft_handle_cancel(&h[i]);
    assert_false(weft_handle_pending(&h[0]));
    assert_true(weft_handle_pending(&h[2]));
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.order[0], 2);
    assert_int_equal(log.order[1], 5);
    weft_loop_free(loop);
}

static void call_at_takes_the_loops_clock(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct log log = {.loop = loop, .stop_after = 1};
    struct item a = {&log, 1};
    double when = weft_loop_time(loop) + 0.05;
    assert_true(fabs(weft_loop_time(loop) - weft_monotonic()) < 0.01);
    weft_loop_call_at(loop, when, record, &a, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_true(log.at[0] >= when);
    weft_loop_free(loop);
}

/* Many timers, set and cancelled in a scrambled order, still run in
 * deadline order; cancelled ones never run. */
struct many {
    weft_loop_t *loop;
    int64_t last_when;
    uint64_t last_seq;
    int ran, bad, left;
};

struct mtimer {
    struct many *m;
    int64_t when;
    int cancelled;
};

static int check_order(void *arg)
{
    struct mtimer *t = arg;
    struct many *m = t->m;
    if (t->cancelled || t->when < m->last_when)
        m->bad++;
    m->last_when = t->when;
    m->ran++;
    if (--m->left == 0)
        weft_loop_stop(m->loop);
    return 0;
}

static void thousands_of_scrambled_timers_run_in_order(void **state)
{
    enum { N = 5000 };
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct many m = {.loop = loop};
    struct mtimer *ts = calloc(N, sizeof *ts);
    weft_handle_t *hs = calloc(N, sizeof *hs);
    int64_t base = weft_monotonic_ns() + 1000000;
    srand(7);
    for (int i = 0; i < N; i++) {
        ts[i] = (struct mtimer){&m, base + (rand() % 20000) * 1000, 0};
        assert_int_equal(
            weft_loop_call_at_ns(loop, ts[i].when, check_order, &ts[i], &hs[i]),
            0);
    }
    for (int i = 0; i < N; i += 3) {
        ts[i].cancelled = 1;
        weft_handle_cancel(&hs[i]);
    }
    m.left = N - (N + 2) / 3;
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(m.bad, 0);
    assert_int_equal(m.ran, N - (N + 2) / 3);
    free(ts);
    free(hs);
    weft_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            timers_run_in_deadline_order_and_ties_in_setting_order),
        cmocka_unit_test(call_soon_callbacks_run_before_timers_due_later),
        cmocka_unit_test(a_timer_never_fires_before_its_delay),
        cmocka_unit_test(cancelled_timers_do_not_run_wherever_they_are_queued),
        cmocka_unit_test(call_at_takes_the_loops_clock),
        cmocka_unit_test(thousands_of_scrambled_timers_run_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
