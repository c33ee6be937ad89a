/* SPDX-License-Identifier: MIT */
/* Errors: catch and retry (what they resubscribe, and when they give up),
 * and weft's conventions for bad input: WEFT_EINVAL with a message naming
 * what was wrong, the source left to the caller, nothing crashing. */
#include "rx_record.h"

static weft_rx_scheduler_t *ts;

static int setup(void **state) { return weft_rx_test_scheduler_new(&ts); }
static int teardown(void **state)
{
    weft_rx_scheduler_free(ts);
    return 0;
}

static weft_rx_observable_t *cold(const char *m)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_test_cold(&o, ts, m), 0);
    return o;
}

static void catch_goes_on_with_the_fallback(void **state)
{
    weft_rx_observable_t *xs = cold("-1-2-#"), *ys = cold("-7-|"), *o;
    weft_rx_observable_ref(ys);
    assert_int_equal(weft_rx_catch(&o, xs, ys), 0);
    expect_text(ts, o, "210:1 230:2 260:7 280:|");
    expect_subs(ys, "250-280");
    weft_rx_observable_free(o);
    weft_rx_observable_free(ys);
}

static void catch_without_an_error_never_subscribes_the_fallback(void **state)
{
    weft_rx_observable_t *ys = cold("-7-|"), *o;
    weft_rx_observable_ref(ys);
    weft_rx_catch(&o, cold("-1-|"), ys);
    expect_text(ts, o, "210:1 230:|");
    expect_subs(ys, "");
    weft_rx_observable_free(o);
    weft_rx_observable_free(ys);
}

static void a_failing_fallback_passes_its_error_on(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_catch(&o, cold("-1-#"), cold("--#"));
    expect_text(ts, o, "210:1 250:#WEFT_ETASK");
    weft_rx_observable_free(o);
}

static int choose(void *ctx, const weft_error_info_t *e,
                  weft_rx_observable_t **next)
{
    if (e->code != WEFT_ETASK)
        return weft_fail(WEFT_EUSER, "cannot handle %d", e->code);
    return weft_rx_of(next, 1, (void *)99);
}

static void catch_handler_chooses_by_the_error(void **state)
{
    weft_rx_observable_t *o, *src;
    weft_rx_catch_handler(&o, cold("-1-#"), choose, NULL);
    expect_text(ts, o, "210:1 230:99 230:|");
    weft_rx_observable_free(o);
    weft_rx_throw(&src, WEFT_EPROTO, "garbled");
    weft_rx_catch_handler(&o, src, choose, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "#WEFT_EUSER");
    assert_string_equal(r.err.message, "cannot handle 17");
}

static void retry_subscribes_again_up_to_its_attempts(void **state)
{
    weft_rx_observable_t *xs = cold("-1-#"), *o;
    weft_rx_observable_ref(xs);
    assert_int_equal(weft_rx_retry(&o, xs, 3), 0);
    expect_text(ts, o, "210:1 240:1 270:1 290:#WEFT_ETASK");
    expect_subs(xs, "200-230 230-260 260-290");
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
}

static void retry_lets_a_completion_through(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_retry(&o, cold("-1-2-|"), 2);
    expect_marbles(ts, o, "-1-2-|");
    weft_rx_observable_free(o);
}

static int tries;

static int flaky(void *ctx, weft_rx_emitter_t *e)
{
    weft_rx_emitter_next(e, (void *)(intptr_t)tries);
    if (++tries < 5000)
        return weft_fail(WEFT_EAGAIN, "try again");
    weft_rx_emitter_completed(e);
    return 0;
}

static void retry_forever_over_a_synchronous_failure_does_not_recurse(
    void **state)
{
    weft_rx_observable_t *o;
    tries = 0;
    weft_rx_create(&o, flaky, NULL);
    weft_rx_retry(&o, o, WEFT_RX_FOREVER);
    weft_rx_take(&o, o, 6000);
    weft_rx_reduce(&o, o, add, (void *)0, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "12497500 |"); /* 0 + ... + 4999 */
    assert_int_equal(tries, 5000);
}

static void bad_input_gets_einval_and_leaves_the_source(void **state)
{
    weft_rx_observable_t *src, *o = NULL;
    weft_rx_range(&src, 0, 3);
    assert_fails_with(weft_rx_take(&o, src, -1), WEFT_EINVAL, "count -1");
    assert_fails_with(weft_rx_retry(&o, src, 0), WEFT_EINVAL, "attempts 0");
    assert_fails_with(weft_rx_retry(&o, src, -7), WEFT_EINVAL, "attempts");
    assert_fails_with(weft_rx_catch(&o, src, NULL), WEFT_EINVAL,
                      "NULL fallback");
    assert_fails_with(weft_rx_catch_handler(&o, src, NULL, NULL), WEFT_EINVAL,
                      "NULL function");
    assert_fails_with(weft_rx_map(&o, src, NULL, NULL), WEFT_EINVAL,
                      "NULL function");
    assert_fails_with(weft_rx_map(NULL, src, times10, NULL), WEFT_EINVAL,
                      "NULL out");
    assert_fails_with(weft_rx_window_with_count(&o, src, 0), WEFT_EINVAL,
                      "count 0");
    assert_fails_with(weft_rx_flat_map(&o, src, NULL, NULL), WEFT_EINVAL,
                      "NULL function");
    assert_fails_with(weft_rx_zip(&o, NULL, 2, NULL, NULL), WEFT_EINVAL,
                      "NULL sources");
    assert_fails_with(weft_rx_connect(src, NULL), WEFT_EINVAL,
                      "not a published");
    assert_fails_with(weft_rx_ref_count(&o, src), WEFT_EINVAL,
                      "not a published");
    assert_fails_with(weft_rx_subject_new(NULL), WEFT_EINVAL, "NULL out");
    assert_null(o);
    /* src is still the caller's, whole */
    rec_t r;
    rec_run(&r, src);
    assert_string_equal(r.text, "0 1 2 |");
}

static void an_observer_may_leave_out_any_callback(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_throw(&o, WEFT_EUSER, "nobody listens");
    weft_rx_observer_t none = {0};
    assert_int_equal(weft_rx_observable_subscribe(o, &none, NULL), 0);
    weft_rx_observable_free(o);
    weft_rx_range(&o, 0, 3);
    assert_int_equal(weft_rx_observable_subscribe(o, &none, NULL), 0);
    weft_rx_observable_free(o);
    /* and the NULL handles are no-ops */
    weft_rx_subscription_free(NULL);
    weft_rx_subscription_dispose(NULL);
    weft_rx_observable_free(NULL);
    weft_rx_subject_free(NULL);
    weft_rx_scheduler_free(NULL);
    weft_rx_list_free(NULL);
}

struct self_dispose {
    weft_rx_subscription_t *s;
    int n;
};

static void dispose_at_3(void *ctx, void *v)
{
    struct self_dispose *x = ctx;
    if (++x->n == 3)
        weft_rx_subscription_dispose(x->s);
}

static void disposing_inside_on_next_stops_at_once(void **state)
{
    weft_rx_subject_t *subj;
    weft_rx_subject_new(&subj);
    weft_rx_observable_t *o = weft_rx_subject_observable(subj);
    struct self_dispose x = {NULL, 0};
    weft_rx_observer_t obs = {dispose_at_3, NULL, NULL, &x, NULL};
    weft_rx_observable_subscribe(o, &obs, &x.s);
    for (intptr_t i = 0; i < 10; i++)
        weft_rx_subject_on_next(subj, (void *)i);
    assert_int_equal(x.n, 3);
    assert_int_equal(weft_rx_subject_observers(subj), 0);
    weft_rx_subscription_free(x.s);
    weft_rx_observable_free(o);
    weft_rx_subject_free(subj);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(catch_goes_on_with_the_fallback),
        T(catch_without_an_error_never_subscribes_the_fallback),
        T(a_failing_fallback_passes_its_error_on),
        T(catch_handler_chooses_by_the_error),
        T(retry_subscribes_again_up_to_its_attempts),
        T(retry_lets_a_completion_through),
        T(retry_forever_over_a_synchronous_failure_does_not_recurse),
        T(bad_input_gets_einval_and_leaves_the_source),
        T(an_observer_may_leave_out_any_callback),
        T(disposing_inside_on_next_stops_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
