/* SPDX-License-Identifier: MIT */
/* Torture: producer threads push owned values into two Subjects at once,
 * observers listen to each Subject directly and to a merge of both, and a
 * disposer thread disposes observers at random moments meanwhile.
 *
 * Checked for every observer: its calls never overlap; nothing comes
 * after its terminal event; no value comes twice; at most one call (one
 * already on its way) begins after its dispose returned; an observer never
 * disposed hears every value pushed into its sources exactly once, then
 * the end once. At the end of each round every value has been freed (the
 * count of live boxes is 0), and AddressSanitizer sees no leak. */
#include <stdlib.h>

#include "owned.h"
#include "testing.h"

enum { PRODUCERS = 3, OBSERVERS = 6, PER_ROUND = 3000 };

struct watcher {
    int src; /* 0: subject 0, 1: subject 1, 2: the merge */
    weft_rx_subscription_t *sub;
    _Atomic int in_call, overlaps, after_end, ended, completes;
    _Atomic int disposed, after_dispose;
    unsigned char *got; /* by value */
    _Atomic long dups, nexts;
};

struct round {
    weft_rx_subject_t *s[2];
    struct watcher w[OBSERVERS];
    unsigned char *pushed_to; /* by value: 1 + subject */
    _Atomic int producing; /* producers still pushing */
    testing_rng_t rng[PRODUCERS + 1];
};

static void enter(struct watcher *w)
{
    if (atomic_fetch_add(&w->in_call, 1))
        atomic_fetch_add(&w->overlaps, 1);
    if (atomic_load(&w->ended))
        atomic_fetch_add(&w->after_end, 1);
    if (atomic_load(&w->disposed))
        atomic_fetch_add(&w->after_dispose, 1);
}

static void w_next(void *ctx, void *v)
{
    struct watcher *w = ctx;
    enter(w);
    long k = ((box_t *)v)->v;
    if (w->got[k]++)
        atomic_fetch_add(&w->dups, 1);
    atomic_fetch_add(&w->nexts, 1);
    atomic_fetch_sub(&w->in_call, 1);
}

static void w_error(void *ctx, const weft_error_info_t *e)
{
    struct watcher *w = ctx;
    enter(w);
    atomic_store(&w->ended, 1);
    atomic_fetch_sub(&w->in_call, 1);
}

static void w_completed(void *ctx)
{
    struct watcher *w = ctx;
    enter(w);
    atomic_store(&w->ended, 1);
    atomic_fetch_add(&w->completes, 1);
    atomic_fetch_sub(&w->in_call, 1);
}

static void produce(void *arg, unsigned i)
{
    struct round *r = arg;
    if (i == PRODUCERS) { /* the disposer: odd observers, at random */
        while (atomic_load(&r->producing) > 0) {
            unsigned k = (unsigned)testing_rng_below(&r->rng[i], OBSERVERS * 8);
            if (k < OBSERVERS && k % 2 == 1 && !atomic_load(&r->w[k].disposed)) {
                weft_rx_subscription_dispose(r->w[k].sub);
                atomic_store(&r->w[k].disposed, 1);
            }
            weft_sleep(testing_rng_below(&r->rng[i], 3) * 0.0005);
        }
        return;
    }
    for (long k = 0; k < PER_ROUND; k++) {
        long v = (long)i * PER_ROUND + k;
        int which = (int)testing_rng_below(&r->rng[i], 2);
        r->pushed_to[v] = (unsigned char)(1 + which);
        box_t *b = box_new(v);
        weft_rx_subject_on_next(r->s[which], b);
        box_release(b);
    }
    atomic_fetch_sub(&r->producing, 1);
}

static void check(struct round *r, struct watcher *w)
{
    assert_int_equal(atomic_load(&w->overlaps), 0);
    assert_int_equal(atomic_load(&w->after_end), 0);
    assert_int_equal(atomic_load(&w->dups), 0);
    assert_true(atomic_load(&w->after_dispose) <= 1);
    if (atomic_load(&w->disposed))
        return;
    long want = 0;
    for (long v = 0; v < PRODUCERS * PER_ROUND; v++) {
        int mine = w->src == 2 || r->pushed_to[v] == 1 + w->src;
        want += mine;
        assert_int_equal(w->got[v], mine);
    }
    assert_int_equal(atomic_load(&w->nexts), want);
    assert_int_equal(atomic_load(&w->completes), 1);
}

static void one_round(uint64_t n)
{
    struct round *r = calloc(1, sizeof *r);
    r->pushed_to = calloc(PRODUCERS * PER_ROUND, 1);
    for (unsigned i = 0; i <= PRODUCERS; i++)
        testing_rng_init(&r->rng[i], n * 16 + i);
    for (int i = 0; i < 2; i++) {
        weft_rx_subject_new(&r->s[i]);
        weft_rx_subject_set_values(r->s[i], &box_ops);
    }
    weft_rx_observable_t *o[3];
    o[0] = weft_rx_subject_observable(r->s[0]);
    o[1] = weft_rx_subject_observable(r->s[1]);
    weft_rx_observable_t *both[] = {weft_rx_observable_ref(o[0]),
                                    weft_rx_observable_ref(o[1])};
    weft_rx_merge(&o[2], both, 2);
    for (int k = 0; k < OBSERVERS; k++) {
        struct watcher *w = &r->w[k];
        w->src = k % 3;
        w->got = calloc(PRODUCERS * PER_ROUND, 1);
        weft_rx_observer_t obs = {w_next, w_error, w_completed, w, NULL};
        assert_int_equal(weft_rx_observable_subscribe(o[w->src], &obs,
                                                      &w->sub),
                         0);
    }
    /* Threads 0..PRODUCERS-1 push; the last one disposes meanwhile. */
    atomic_store(&r->producing, PRODUCERS);
    testing_run_threads(PRODUCERS + 1, produce, r);
    weft_rx_subject_on_completed(r->s[0]);
    weft_rx_subject_on_completed(r->s[1]);
    for (int k = 0; k < OBSERVERS; k++) {
        check(r, &r->w[k]);
        weft_rx_subscription_free(r->w[k].sub);
        free(r->w[k].got);
    }
    for (int i = 0; i < 3; i++)
        weft_rx_observable_free(o[i]);
    weft_rx_subject_free(r->s[0]);
    weft_rx_subject_free(r->s[1]);
    assert_int_equal(atomic_load(&boxes_live), 0);
    free(r->pushed_to);
    free(r);
}

static void subjects_and_merge_hold_the_contract_under_fire(void **state)
{
    double end = weft_monotonic() + testing_torture_seconds();
    uint64_t rounds = 0;
    testing_seed();
    do
        one_round(rounds++);
    while (weft_monotonic() < end);
    fprintf(stderr, "torture_rx: %llu rounds\n", (unsigned long long)rounds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subjects_and_merge_hold_the_contract_under_fire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
