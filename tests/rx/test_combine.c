/* SPDX-License-Identifier: MIT */
/* merge, concat, flat_map, concat_map, zip and combine_latest: order,
 * completion (when all sources are done, or for zip the first that runs
 * dry), errors (the first one ends everything and disposes the rest), and
 * merge over sources that emit from several threads at once. */
#include <stdlib.h>

#include "rx_record.h"

static weft_rx_scheduler_t *ts;

static int setup(void **state) { return weft_rx_test_scheduler_new(&ts); }
static int teardown(void **state)
{
    weft_rx_scheduler_free(ts);
    return 0;
}

static weft_rx_observable_t *hot(const char *m)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_test_hot(&o, ts, m), 0);
    return o;
}

static weft_rx_observable_t *cold(const char *m)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_test_cold(&o, ts, m), 0);
    return o;
}

static weft_rx_observable_t *range(long a, long n)
{
    weft_rx_observable_t *o;
    weft_rx_range(&o, a, n);
    return o;
}

static void merge_interleaves_and_completes_when_all_have(void **state)
{
    weft_rx_observable_t *a = hot("^-1---3-|"), *b = hot("^--2-----4-|"), *o;
    weft_rx_observable_t *srcs[] = {a, b};
    assert_int_equal(weft_rx_merge(&o, srcs, 2), 0);
    expect_text(ts, o, "210:1 220:2 250:3 280:4 300:|");
    weft_rx_observable_free(o);
}

static void merge_ends_at_the_first_error_and_disposes_the_rest(void **state)
{
    weft_rx_observable_t *a = hot("^-1--#"), *b = hot("^--2----3-|"), *o;
    weft_rx_observable_ref(b);
    weft_rx_observable_t *srcs[] = {a, b};
    weft_rx_merge(&o, srcs, 2);
    expect_text(ts, o, "210:1 220:2 240:#WEFT_ETASK");
    expect_subs(b, "200-240");
    weft_rx_observable_free(o);
    weft_rx_observable_free(b);
}

static void merge_of_synchronous_sources_runs_them_in_turn(void **state)
{
    weft_rx_observable_t *srcs[] = {range(1, 3), range(10, 2)}, *o;
    weft_rx_merge(&o, srcs, 2);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "1 2 3 10 11 |");
    weft_rx_merge(&o, NULL, 0);
    rec_run(&r, o);
    assert_string_equal(r.text, "|");
    weft_rx_observable_t *bad[] = {range(1, 1), NULL};
    assert_fails_with(weft_rx_merge(&o, bad, 2), WEFT_EINVAL, "source 1");
    weft_rx_observable_free(bad[0]);
}

static void concat_subscribes_the_next_when_the_previous_completes(
    void **state)
{
    weft_rx_observable_t *a = cold("-1-2-|"), *b = cold("-3-|"), *o;
    weft_rx_observable_ref(b);
    weft_rx_observable_t *srcs[] = {a, b};
    assert_int_equal(weft_rx_concat(&o, srcs, 2), 0);
    expect_marbles(ts, o, "-1-2--3-|");
    expect_subs(b, "250-280");
    weft_rx_observable_free(o);
    weft_rx_observable_free(b);
}

static void concat_of_many_synchronous_sources_does_not_recurse(void **state)
{
    enum { N = 20000 };
    weft_rx_observable_t **srcs = malloc(N * sizeof *srcs), *o;
    for (long i = 0; i < N; i++)
        srcs[i] = range(i, 1);
    weft_rx_concat(&o, srcs, N);
    free(srcs);
    weft_rx_reduce(&o, o, add, (void *)0, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "199990000 |");
}

static int to_range(void *ctx, void *v, weft_rx_observable_t **inner)
{
    return weft_rx_range(inner, (long)(intptr_t)v * 10, 2);
}

static int to_cold(void *ctx, void *v, weft_rx_observable_t **inner)
{
    return weft_rx_test_cold(inner, ts, (intptr_t)v == 1 ? "--1-1-|" : "-2-|");
}

static void flat_map_merges_the_inner_streams(void **state)
{
    weft_rx_observable_t *o;
    assert_int_equal(weft_rx_flat_map(&o, range(1, 3), to_range, NULL), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "10 11 20 21 30 31 |");
    weft_rx_flat_map(&o, hot("^-1-2-----|"), to_cold, NULL);
    expect_text(ts, o, "230:1 240:2 250:1 290:|");
    weft_rx_observable_free(o);
}

static void concat_map_keeps_the_inner_streams_in_order(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_concat_map(&o, hot("^-1-2-----|"), to_cold, NULL);
    expect_marbles(ts, o, "---1-1--2-|");
    weft_rx_observable_free(o);
}

static int failing_flat(void *ctx, void *v, weft_rx_observable_t **inner)
{
    return weft_fail(WEFT_EUSER, "no inner for %ld", (long)(intptr_t)v);
}

static void a_failing_flat_map_function_ends_the_stream(void **state)
{
    weft_rx_observable_t *o;
    weft_rx_flat_map(&o, range(7, 3), failing_flat, NULL);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "#WEFT_EUSER");
    assert_string_equal(r.err.message, "no inner for 7");
}

static int pair(void *ctx, void *const *v, size_t n, void **out)
{
    *out = (void *)((intptr_t)v[0] * 100 + (intptr_t)v[1]);
    return 0;
}

static void zip_pairs_values_by_position(void **state)
{
    weft_rx_observable_t *srcs[] = {range(1, 3), range(7, 5)}, *o;
    assert_int_equal(weft_rx_zip(&o, srcs, 2, pair, NULL), 0);
    rec_t r;
    rec_run(&r, o);
    assert_string_equal(r.text, "107 208 309 |");
}

static void zip_without_a_combiner_gives_lists(void **state)
{
    weft_rx_observable_t *a = hot("^-1--2---3-|"), *b = hot("^--4-5-6-|"), *o;
    weft_rx_observable_t *srcs[] = {a, b};
    weft_rx_zip(&o, srcs, 2, NULL, NULL);
    expect_text(ts, o, "220:[1,4] 240:[2,5] 280:[3,6] 280:|");
    weft_rx_observable_free(o);
}

static void combine_latest_emits_once_all_have_a_value(void **state)
{
    weft_rx_observable_t *a = hot("^-1---3---|"), *b = hot("^---2---4-|"), *o;
    weft_rx_observable_t *srcs[] = {a, b};
    weft_rx_combine_latest(&o, srcs, 2, pair, NULL);
    expect_text(ts, o, "230:102 250:302 270:304 290:|");
    weft_rx_observable_free(o);
}

static void combine_latest_ends_when_a_source_completes_empty(void **state)
{
    weft_rx_observable_t *a = hot("^-1---3---|"), *b = hot("^---|"), *o;
    weft_rx_observable_ref(a);
    weft_rx_observable_t *srcs[] = {a, b};
    weft_rx_combine_latest(&o, srcs, 2, pair, NULL);
    expect_text(ts, o, "230:|");
    expect_subs(a, "200-230");
    weft_rx_observable_free(o);
    weft_rx_observable_free(a);
}

/* ----- merge across threads ----- */

struct producer {
    long base, n;
};

static int produce(void *ctx, weft_rx_emitter_t *e)
{
    struct producer *p = ctx;
    for (long i = 0; i < p->n && !weft_rx_emitter_disposed(e); i++)
        weft_rx_emitter_next(e, (void *)(intptr_t)(p->base + i));
    return 0;
}

struct merged {
    rec_t r;
    unsigned char *got;
    long dup;
};

static void merged_next(void *ctx, void *v)
{
    struct merged *m = ctx;
    rec_enter(&m->r);
    if (m->got[(intptr_t)v]++)
        m->dup++;
    m->r.nexts++;
    rec_leave(&m->r);
}

static void merge_of_four_producer_threads_delivers_one_at_a_time(
    void **state)
{
    enum { P = 4, N = 20000 };
    weft_executor_t *ex;
    weft_thread_pool_new(&ex, &(weft_thread_pool_opts_t){.max_workers = P});
    weft_rx_scheduler_t *pool;
    weft_rx_executor_scheduler_new(&pool, ex);
    struct producer prods[P];
    weft_rx_observable_t *srcs[P], *o;
    for (int i = 0; i < P; i++) {
        prods[i] = (struct producer){i * N, N};
        weft_rx_generate(&srcs[i], pool, produce, &prods[i]);
    }
    weft_rx_merge(&o, srcs, P);
    struct merged m;
    memset(&m, 0, sizeof m);
    m.got = calloc(P * N, 1);
    weft_rx_observer_t obs = {merged_next, rec_error, rec_completed, &m, NULL};
    weft_rx_subscription_t *s;
    weft_rx_observable_subscribe(o, &obs, &s);
    weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER);
    assert_int_equal(m.r.nexts, P * N);
    assert_int_equal(m.dup, 0);
    assert_int_equal(m.r.completes, 1);
    assert_int_equal(atomic_load(&m.r.overlaps), 0);
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    weft_rx_scheduler_free(pool);
    weft_executor_free(ex);
    free(m.got);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(merge_interleaves_and_completes_when_all_have),
        T(merge_ends_at_the_first_error_and_disposes_the_rest),
        T(merge_of_synchronous_sources_runs_them_in_turn),
        T(concat_subscribes_the_next_when_the_previous_completes),
        T(concat_of_many_synchronous_sources_does_not_recurse),
        T(flat_map_merges_the_inner_streams),
        T(concat_map_keeps_the_inner_streams_in_order),
        T(a_failing_flat_map_function_ends_the_stream),
        T(zip_pairs_values_by_position),
        T(zip_without_a_combiner_gives_lists),
        T(combine_latest_emits_once_all_have_a_value),
        T(combine_latest_ends_when_a_source_completes_empty),
        T(merge_of_four_producer_threads_delivers_one_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
