/* SPDX-License-Identifier: MIT */
/* park: cancel scopes, deadlines, shields, and sleep. */
#include "testing.h"
#include "park/park_int.h"

#include <math.h>
#include <string.h>

struct victim {
    weft_cancel_scope_t scope;
    _Atomic int entered;
    int rc;
    double waited;
};

static void sleep_in_scope(void *arg)
{
    struct victim *v = arg;
    weft_cancel_scope_enter(&v->scope, WEFT_FOREVER, 0);
    atomic_store(&v->entered, 1);
    double t0 = weft_monotonic();
    v->rc = weft_sleep(30);
    v->waited = weft_monotonic() - t0;
    weft_cancel_scope_exit(&v->scope);
}

static void cancel_wakes_a_sleeping_context(void **state)
{
    struct victim v;
    memset(&v, 0, sizeof v);
    weft_cancel_scope_init(&v.scope);
    testing_thread_t *t = testing_thread_start(sleep_in_scope, &v);
    while (!atomic_load(&v.entered))
        weft_sleep(0.001);
    weft_sleep(0.05);
    weft_cancel_scope_cancel(&v.scope);
    testing_thread_join(t);
    assert_int_equal(v.rc, WEFT_ECANCELLED);
    assert_true(v.waited < 1.0 * testing_scale());
    assert_true(weft_cancel_scope_cancelled(&v.scope));
}

static void a_cancelled_scope_fails_every_later_wait(void **state)
{
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    weft_cancel_scope_cancel(&s); /* before entering: allowed */
    assert_int_equal(weft_cancel_scope_enter(&s, WEFT_FOREVER, 0), 0);
    assert_fails_with(weft_cancelled(), WEFT_ECANCELLED, "cancelled");
    assert_int_equal(weft_sleep(1), WEFT_ECANCELLED);
    _Atomic uint32_t w = 0;
    assert_int_equal(weft_park_wait(&w, 0, WEFT_NEVER), WEFT_ECANCELLED);
    assert_int_equal(weft_cancel_scope_exit(&s), WEFT_ECANCELLED);
    assert_int_equal(weft_cancelled(), 0);
}

static void a_scope_deadline_cancels_and_exit_says_timed_out(void **state)
{
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    assert_int_equal(weft_cancel_scope_enter(&s, 0.2, 0), 0);
    double t0 = weft_monotonic();
    assert_int_equal(weft_sleep(30), WEFT_ECANCELLED);
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_cancel_scope_exit(&s), WEFT_ETIMEDOUT, "deadline");
}

static void a_quiet_scope_exits_cleanly(void **state)
{
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    assert_int_equal(weft_cancel_scope_enter(&s, 5.0, 0), 0);
    assert_int_equal(weft_sleep(0.01), 0);
    assert_int_equal(weft_cancel_scope_exit(&s), 0);
}

static void a_shield_keeps_outer_cancellation_out(void **state)
{
    weft_cancel_scope_t outer, inner;
    weft_cancel_scope_init(&outer);
    weft_cancel_scope_init(&inner);
    weft_cancel_scope_enter(&outer, WEFT_FOREVER, 0);
    weft_cancel_scope_cancel(&outer);
    weft_cancel_scope_enter(&inner, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    assert_int_equal(weft_sleep(0.01), 0);
    assert_int_equal(weft_cancelled(), 0);
    assert_int_equal(weft_cancel_scope_exit(&inner), 0);
    assert_int_equal(weft_cancelled(), WEFT_ECANCELLED);
    assert_int_equal(weft_cancel_scope_exit(&outer), WEFT_ECANCELLED);
}

static void scopes_must_exit_innermost_first(void **state)
{
    weft_cancel_scope_t a, b;
    weft_cancel_scope_init(&a);
    weft_cancel_scope_init(&b);
    weft_cancel_scope_enter(&a, WEFT_FOREVER, 0);
    weft_cancel_scope_enter(&b, WEFT_FOREVER, 0);
    assert_fails_with(weft_cancel_scope_exit(&a), WEFT_EINVAL, "innermost");
    assert_fails_with(weft_cancel_scope_enter(&a, WEFT_FOREVER, 0),
                      WEFT_EINVAL, "already");
    assert_int_equal(weft_cancel_scope_exit(&b), 0);
    assert_int_equal(weft_cancel_scope_exit(&a), 0);
    assert_fails_with(weft_cancel_scope_enter(&a, -3, 0), WEFT_EINVAL,
                      "timeout");
}

static void sleep_sleeps_at_least_its_length(void **state)
{
    double t0 = weft_monotonic();
    assert_int_equal(weft_sleep(0.2), 0);
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_int_equal(weft_sleep(0), 0);
    assert_fails_with(weft_sleep(-1), WEFT_EINVAL, "sleep");
    assert_fails_with(weft_sleep(NAN), WEFT_EINVAL, "sleep");
}

struct watcher {
    weft_cancel_scope_t scope;
    _Atomic uint32_t word;
    _Atomic(weft_waiter_t *) waiter;
    int rc;
};

static void sleep_watching(void *arg)
{
    struct watcher *w = arg;
    weft_cancel_scope_enter(&w->scope, WEFT_FOREVER, 0);
    weft_cancel_scope_watch(&w->scope, &w->word, 4);
    atomic_store(&w->waiter, weft_park_current());
    w->rc = weft_sleep(30);
    weft_cancel_scope_watch(&w->scope, NULL, 0);
    weft_cancel_scope_exit(&w->scope);
}

static void a_watched_bit_cancels_and_a_poke_wakes(void **state)
{
    struct watcher w;
    memset(&w, 0, sizeof w);
    weft_cancel_scope_init(&w.scope);
    testing_thread_t *t = testing_thread_start(sleep_watching, &w);
    while (atomic_load(&w.waiter) == NULL)
        weft_sleep(0.001);
    atomic_fetch_or(&w.word, 2); /* not the watched bit: no effect */
    weft_park_poke(atomic_load(&w.waiter));
    weft_sleep(0.05);
    atomic_fetch_or(&w.word, 4);
    weft_park_poke(atomic_load(&w.waiter));
    testing_thread_join(t);
    assert_int_equal(w.rc, WEFT_ECANCELLED);
    /* The scope's own flag was never set: it can serve the next task. */
    assert_int_equal(atomic_load(&weft__scope(&w.scope)->cancelled_), 0);
}

/* Only the length (or a cancel) ends a sleep: an unpark aimed at the
 * address a sleeping context parks on does not. */
struct stray {
    _Atomic(weft_waiter_t *) sleeper;
    _Atomic int done;
    int rc;
    double slept;
};

static void sleep_a_while(void *arg)
{
    struct stray *st = arg;
    atomic_store(&st->sleeper, weft_park_current());
    double t0 = weft_monotonic();
    st->rc = weft_sleep(0.2);
    st->slept = weft_monotonic() - t0;
    atomic_store(&st->done, 1);
}

static void a_stray_unpark_does_not_end_a_sleep(void **state)
{
    struct stray st;
    memset(&st, 0, sizeof st);
    testing_thread_t *t = testing_thread_start(sleep_a_while, &st);
    while (!atomic_load(&st.done)) {
        weft_waiter_t *w = atomic_load(&st.sleeper);
        if (w)
            weft_unpark_all(&weft__waiter(w)->token_, 0);
        weft_sleep(0.001);
    }
    testing_thread_join(t);
    assert_int_equal(st.rc, 0);
    assert_true(st.slept >= 0.2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cancel_wakes_a_sleeping_context),
        cmocka_unit_test(a_cancelled_scope_fails_every_later_wait),
        cmocka_unit_test(a_scope_deadline_cancels_and_exit_says_timed_out),
        cmocka_unit_test(a_quiet_scope_exits_cleanly),
        cmocka_unit_test(a_shield_keeps_outer_cancellation_out),
        cmocka_unit_test(scopes_must_exit_innermost_first),
        cmocka_unit_test(sleep_sleeps_at_least_its_length),
        cmocka_unit_test(a_watched_bit_cancels_and_a_poke_wakes),
        cmocka_unit_test(a_stray_unpark_does_not_end_a_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
