/* SPDX-License-Identifier: MIT */
/* Subject, BehaviorSubject and ReplaySubject: who hears what and when,
 * the end for late subscribers, disposal, pushes from several threads at
 * once (serialized: no overlapping calls, nothing lost), owned values. */
#include "owned.h"
#include "rx_record.h"

static void a_subject_passes_pushes_to_its_current_subscribers(void **state)
{
    weft_rx_subject_t *s;
    assert_int_equal(weft_rx_subject_new(&s), 0);
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    rec_t a, b;
    weft_rx_subscription_t *sa = rec_subscribe(&a, o);
    weft_rx_subject_on_next(s, (void *)1);
    weft_rx_subscription_t *sb = rec_subscribe(&b, o);
    assert_int_equal(weft_rx_subject_observers(s), 2);
    weft_rx_subject_on_next(s, (void *)2);
    weft_rx_subscription_dispose(sa);
    assert_int_equal(weft_rx_subject_observers(s), 1);
    weft_rx_subject_on_next(s, (void *)3);
    weft_rx_subject_on_completed(s);
    weft_rx_subject_on_next(s, (void *)4); /* after the end: nothing */
    assert_string_equal(a.text, "1 2");
    assert_string_equal(b.text, "2 3 |");
    assert_int_equal(weft_rx_subject_observers(s), 0);
    rec_t late;
    weft_rx_subscription_free(rec_subscribe(&late, o));
    assert_string_equal(late.text, "|");
    weft_rx_subscription_free(sa);
    weft_rx_subscription_free(sb);
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
}

static void an_error_reaches_everyone_and_late_subscribers(void **state)
{
    weft_rx_subject_t *s;
    weft_rx_subject_new(&s);
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    rec_t a, late;
    weft_rx_subscription_t *sa = rec_subscribe(&a, o);
    weft_rx_subject_on_error(s, WEFT_EBROKEN, "sensor %d broke", 4);
    weft_rx_subscription_free(rec_subscribe(&late, o));
    assert_string_equal(a.text, "#WEFT_EBROKEN");
    assert_string_equal(late.text, "#WEFT_EBROKEN");
    assert_string_equal(late.err.message, "sensor 4 broke");
    weft_rx_subscription_free(sa);
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
}

static void a_behavior_subject_gives_new_subscribers_the_latest(void **state)
{
    weft_rx_subject_t *s;
    assert_int_equal(weft_rx_behavior_subject_new(&s, (void *)0), 0);
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    rec_t a, b, c;
    weft_rx_subscription_t *sa = rec_subscribe(&a, o);
    weft_rx_subject_on_next(s, (void *)5);
    weft_rx_subject_on_next(s, (void *)6);
    weft_rx_subscription_t *sb = rec_subscribe(&b, o);
    weft_rx_subject_on_completed(s);
    weft_rx_subscription_free(rec_subscribe(&c, o));
    assert_string_equal(a.text, "0 5 6 |");
    assert_string_equal(b.text, "6 |");
    assert_string_equal(c.text, "|");
    weft_rx_subscription_free(sa);
    weft_rx_subscription_free(sb);
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
}

static void a_replay_subject_replays_the_last_count(void **state)
{
    weft_rx_subject_t *s;
    assert_int_equal(weft_rx_replay_subject_new(&s, 2, WEFT_FOREVER, NULL), 0);
    for (intptr_t i = 1; i <= 4; i++)
        weft_rx_subject_on_next(s, (void *)i);
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    rec_t a, b;
    weft_rx_subscription_t *sa = rec_subscribe(&a, o);
    weft_rx_subject_on_next(s, (void *)5);
    weft_rx_subject_on_completed(s);
    weft_rx_subscription_free(rec_subscribe(&b, o));
    assert_string_equal(a.text, "3 4 5 |");
    assert_string_equal(b.text, "4 5 |");
    weft_rx_subscription_free(sa);
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
}

static void push_at(weft_rx_scheduler_t *ts, weft_rx_subject_t *s, double t,
                    intptr_t v)
{
    weft_rx_test_advance_to(ts, t);
    weft_rx_subject_on_next(s, (void *)v);
}

static void a_replay_subject_by_time_forgets_what_is_too_old(void **state)
{
    weft_rx_scheduler_t *ts;
    weft_rx_test_scheduler_new(&ts);
    weft_rx_subject_t *s;
    assert_int_equal(weft_rx_replay_subject_new(&s, 0, 100, ts), 0);
    push_at(ts, s, 10, 1);
    push_at(ts, s, 50, 2);
    push_at(ts, s, 120, 3);
    weft_rx_test_advance_to(ts, 145); /* 10 is 135 old, 50 is 95 */
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    rec_t a;
    weft_rx_subscription_free(rec_subscribe(&a, o));
    assert_string_equal(a.text, "2 3");
    assert_fails_with(weft_rx_replay_subject_new(&s, 0, -2, ts), WEFT_EINVAL,
                      "bad time");
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
    weft_rx_scheduler_free(ts);
}

static void a_subject_can_observe_a_source(void **state)
{
    weft_rx_subject_t *s;
    weft_rx_subject_new(&s);
    weft_rx_observable_t *o = weft_rx_subject_observable(s), *src;
    rec_t a;
    weft_rx_subscription_t *sa = rec_subscribe(&a, o);
    weft_rx_range(&src, 1, 3);
    weft_rx_observer_t obs = weft_rx_subject_observer(s);
    weft_rx_observable_subscribe(src, &obs, NULL);
    assert_string_equal(a.text, "1 2 3 |");
    weft_rx_subscription_free(sa);
    weft_rx_observable_free(src);
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
}

struct pushers {
    weft_rx_subject_t *s;
    long per;
};

static void push_many(void *arg, unsigned i)
{
    struct pushers *p = arg;
    for (long k = 0; k < p->per; k++)
        weft_rx_subject_on_next(p->s, (void *)(intptr_t)(i * p->per + k));
}

struct seen {
    rec_t r;
    unsigned char *got;
    long dup;
};

static void seen_next(void *ctx, void *v)
{
    struct seen *x = ctx;
    rec_enter(&x->r);
    long k = (long)(intptr_t)v;
    if (x->got[k]++)
        x->dup++;
    x->r.nexts++;
    rec_leave(&x->r);
}

static void pushes_from_threads_reach_each_subscriber_once_in_turn(
    void **state)
{
    enum { THREADS = 4, PER = 20000 };
    weft_rx_subject_t *s;
    weft_rx_subject_new(&s);
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    struct seen x[2];
    weft_rx_subscription_t *subs[2];
    for (int i = 0; i < 2; i++) {
        memset(&x[i], 0, sizeof x[i]);
        x[i].got = calloc(THREADS * PER, 1);
        weft_rx_observer_t obs = {seen_next, rec_error, rec_completed, &x[i],
                                  NULL};
        weft_rx_observable_subscribe(o, &obs, &subs[i]);
    }
    struct pushers p = {s, PER};
    testing_run_threads(THREADS, push_many, &p);
    weft_rx_subject_on_completed(s);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(x[i].r.nexts, THREADS * PER);
        assert_int_equal(x[i].dup, 0);
        assert_int_equal(x[i].r.completes, 1);
        assert_int_equal(atomic_load(&x[i].r.overlaps), 0);
        assert_int_equal(atomic_load(&x[i].r.after_end), 0);
        free(x[i].got);
        weft_rx_subscription_free(subs[i]);
    }
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
}

static void a_replay_subject_of_owned_values_frees_them_all(void **state)
{
    weft_rx_subject_t *s;
    weft_rx_replay_subject_new(&s, 3, WEFT_FOREVER, NULL);
    assert_int_equal(weft_rx_subject_set_values(s, &box_ops), 0);
    for (long i = 1; i <= 5; i++) {
        box_t *b = box_new(i);
        weft_rx_subject_on_next(s, b);
        box_release(b);
    }
    weft_rx_observable_t *o = weft_rx_subject_observable(s);
    rec_t a;
    weft_rx_observer_t obs = rec_observer(&a);
    a.ops = &box_ops;
    weft_rx_subscription_t *sa;
    weft_rx_observable_subscribe(o, &obs, &sa);
    assert_string_equal(a.text, "<3> <4> <5>");
    assert_int_equal(atomic_load(&boxes_live), 3);
    assert_fails_with(weft_rx_subject_set_values(s, NULL), WEFT_ESTATE,
                      "in use");
    weft_rx_subscription_free(sa);
    weft_rx_observable_free(o);
    weft_rx_subject_free(s);
    assert_int_equal(atomic_load(&boxes_live), 0);
}

static int counting_subscribe(void *ctx, weft_rx_emitter_t *e)
{
    (*(int *)ctx)++;
    for (intptr_t i = 1; i <= 3; i++)
        weft_rx_emitter_next(e, (void *)i);
    weft_rx_emitter_completed(e);
    return 0;
}

static void publish_subscribes_the_source_once_when_connected(void **state)
{
    int subscribed = 0;
    weft_rx_observable_t *src, *p;
    weft_rx_create(&src, counting_subscribe, &subscribed);
    assert_int_equal(weft_rx_publish(&p, src), 0);
    rec_t a, b;
    weft_rx_subscription_t *sa = rec_subscribe(&a, p);
    weft_rx_subscription_t *sb = rec_subscribe(&b, p);
    assert_int_equal(subscribed, 0);
    weft_rx_subscription_t *conn;
    assert_int_equal(weft_rx_connect(p, &conn), 0);
    assert_int_equal(subscribed, 1);
    assert_string_equal(a.text, "1 2 3 |");
    assert_string_equal(b.text, "1 2 3 |");
    weft_rx_subscription_free(conn);
    weft_rx_subscription_free(sa);
    weft_rx_subscription_free(sb);
    weft_rx_observable_free(p);
}

static void share_connects_at_the_first_and_disconnects_at_the_last(
    void **state)
{
    weft_rx_scheduler_t *ts;
    weft_rx_test_scheduler_new(&ts);
    weft_rx_observable_t *xs, *o;
    weft_rx_test_hot(&xs, ts, "-1-2-3-4-5-|");
    assert_int_equal(weft_rx_share(&o, weft_rx_observable_ref(xs)), 0);
    rec_t a, b;
    weft_rx_test_advance_to(ts, 5);
    weft_rx_subscription_t *sa = rec_subscribe(&a, o);
    weft_rx_test_advance_to(ts, 25);
    weft_rx_subscription_t *sb = rec_subscribe(&b, o);
    weft_rx_test_advance_to(ts, 35);
    weft_rx_subscription_free(sa);
    weft_rx_test_advance_to(ts, 55);
    weft_rx_subscription_free(sb);
    weft_rx_test_run(ts);
    /* 1 at 10, 2 at 30, 3 at 50, 4 at 70 */
    assert_string_equal(a.text, "1 2");
    assert_string_equal(b.text, "2 3");
    expect_subs(xs, "5-55"); /* one subscription for both */
    weft_rx_observable_free(o);
    weft_rx_observable_free(xs);
    weft_rx_scheduler_free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_subject_passes_pushes_to_its_current_subscribers),
        cmocka_unit_test(an_error_reaches_everyone_and_late_subscribers),
        cmocka_unit_test(a_behavior_subject_gives_new_subscribers_the_latest),
        cmocka_unit_test(a_replay_subject_replays_the_last_count),
        cmocka_unit_test(a_replay_subject_by_time_forgets_what_is_too_old),
        cmocka_unit_test(a_subject_can_observe_a_source),
        cmocka_unit_test(
            pushes_from_threads_reach_each_subscriber_once_in_turn),
        cmocka_unit_test(a_replay_subject_of_owned_values_frees_them_all),
        cmocka_unit_test(publish_subscribes_the_source_once_when_connected),
        cmocka_unit_test(
            share_connects_at_the_first_and_disconnects_at_the_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
