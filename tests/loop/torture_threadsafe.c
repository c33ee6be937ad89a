/* SPDX-License-Identifier: MIT */
/* Torture: call_soon_threadsafe storms while the loop runs, sleeps, is
 * stopped and started again.
 *
 * Each round, NT threads post numbered callbacks to one loop run by the
 * main thread, each in its own way: in bursts, paced by short pauses (so
 * that the loop falls asleep between them), or trickling (each waits for
 * its callback to run before the next, so the loop sleeps before every
 * post and each needs its own wake-up). Now and then a poster asks the
 * loop to stop; the main thread then pauses and runs it again, while the
 * posts go on. Some callbacks post a follow-up from the loop's own thread.
 *
 * Accounting: every callback posted ran exactly once, on the loop's
 * thread, and each poster's callbacks ran in the order it posted them
 * (the loop's own follow-ups too). No wake-up is lost: a trickling poster
 * sees each of its callbacks run, and a stopper sees the loop stop, within
 * a second times the test scale though no one else posts meanwhile
 * (a loop that slept through the post or the stop would never do either). */
#include "testing.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define NT 4
#define PER 4000
#define SELF NT /* the slot of the follow-ups posted by the loop itself */

enum mode { BURST, PACED, TRICKLE };

struct storm {
    weft_loop_t *loop;
    uint64_t loop_ident;
    unsigned number;
    unsigned per;
    enum mode modes[NT];
    _Atomic unsigned char ran[NT + 1][PER];
    uint32_t last[NT + 1]; /* the seq last run per poster; loop thread */
    uint32_t self_posts;   /* follow-ups posted; loop thread */
    _Atomic long posted, runs, stops;
    _Atomic int posters_left;
    weft_event_t ran_one[NT]; /* a trickling poster's callback ran */
    _Atomic long violations;
    _Atomic int have_first;
    char first[256];
};

static struct storm *cur;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void violation(const char *fmt, ...)
{
    atomic_fetch_add(&cur->violations, 1);
    if (atomic_exchange(&cur->have_first, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cur->first, sizeof cur->first, fmt, ap);
        va_end(ap);
    }
}

#define ARG(p, seq) ((void *)(uintptr_t)((uintptr_t)(p) << 24 | (seq)))
#define LAST_WORD 0xffffffu

static int on_call(void *arg);

static int post(unsigned p, uint32_t seq)
{
    atomic_fetch_add(&cur->posted, 1); /* before: runs never pass posted */
    int rc = weft_loop_call_soon_threadsafe(cur->loop, on_call, ARG(p, seq));
    if (rc != 0) {
        atomic_fetch_sub(&cur->posted, 1);
        violation("call_soon_threadsafe returned %d", rc);
    }
    return rc;
}

static int on_call(void *arg)
{
    struct storm *s = cur;
    unsigned p = (unsigned)((uintptr_t)arg >> 24);
    uint32_t seq = (uint32_t)((uintptr_t)arg & 0xffffff);
    if (weft_get_ident() != s->loop_ident)
        violation("callback %u/%u ran off the loop's thread", p, seq);
    if (seq == LAST_WORD) {
        atomic_fetch_add(&s->runs, 1);
        return 0;
    }
    if (p > NT || seq >= PER) {
        violation("a callback nobody posted: %u/%u", p, seq);
        return 0;
    }
    if (atomic_fetch_add(&s->ran[p][seq], 1) != 0)
        violation("callback %u/%u ran twice", p, seq);
    if (s->last[p] != UINT32_MAX && seq <= s->last[p])
        violation("poster %u: %u ran after %u", p, seq, s->last[p]);
    s->last[p] = seq;
    /* Now and then, a follow-up from the loop's own thread. */
    if (p != SELF && seq % 16 == 5 && s->self_posts < s->per)
        post(SELF, s->self_posts++);
    if (p < NT && s->modes[p] == TRICKLE)
        weft_event_set(&s->ran_one[p]);
    atomic_fetch_add(&s->runs, 1);
    return 0;
}

/* Ask the loop to stop and see it stop, with no post to help it wake. */
static void stop_and_see(unsigned p)
{
    long before = atomic_load(&cur->stops);
    weft_loop_stop(cur->loop);
    double end = weft_monotonic() + 1.0 * testing_scale();
    while (atomic_load(&cur->stops) == before && weft_monotonic() < end)
        weft_sleep(1e-4);
    if (atomic_load(&cur->stops) == before)
        violation("poster %u asked for a stop and the loop slept on", p);
}

static void poster(void *arg, unsigned p)
{
    struct storm *s = arg;
    testing_rng_t g;
    testing_rng_init(&g, (uint64_t)s->number * 8 + p);
    for (uint32_t seq = 0; seq < s->per; seq++) {
        if (s->modes[p] == TRICKLE)
            weft_event_clear(&s->ran_one[p]);
        if (post(p, seq) != 0)
            break;
        if (s->modes[p] == TRICKLE &&
            weft_event_wait(&s->ran_one[p], 1.0 * testing_scale()) != 0)
            violation("poster %u: callback %u never ran (a lost wake-up)", p,
                      seq);
        if (s->modes[p] == PACED && testing_rng_below(&g, 8) == 0)
            weft_sleep(1e-4 * (double)testing_rng_below(&g, 5));
        if (testing_rng_below(&g, 400) == 0) {
            if (p == 0)
                stop_and_see(p);
            else
                weft_loop_stop(s->loop);
        }
    }
    /* A last word, counted as posted before this poster counts itself
     * out and sent after: whoever is last wakes the loop to see that
     * everything is in, and the loop cannot see that before it ran. */
    atomic_fetch_add(&s->posted, 1);
    atomic_fetch_sub(&s->posters_left, 1);
    if (weft_loop_call_soon_threadsafe(s->loop, on_call,
                                       ARG(p, LAST_WORD)) != 0)
        violation("the last word of poster %u was refused", p);
}

static void posters(void *arg)
{
    testing_run_threads(NT, poster, arg);
}

static int all_ran(void *ctx)
{
    struct storm *s = ctx;
    return atomic_load(&s->posters_left) == 0 &&
           atomic_load(&s->runs) == atomic_load(&s->posted);
}

static long run_round(unsigned number)
{
    struct storm *s = calloc(1, sizeof *s);
    assert_non_null(s);
    cur = s;
    s->number = number;
    s->per = testing_scale() > 1 ? PER / 8 : PER;
    testing_rng_t g;
    testing_rng_init(&g, (uint64_t)number * 8 + 7);
    for (int p = 0; p < NT; p++) {
        s->modes[p] = (enum mode)testing_rng_below(&g, 3);
        weft_event_init(&s->ran_one[p]);
    }
    for (int p = 0; p <= NT; p++)
        s->last[p] = UINT32_MAX;
    atomic_store(&s->posters_left, NT);
    assert_int_equal(weft_loop_new(&s->loop), 0);
    s->loop_ident = weft_get_ident();
    testing_thread_t *t = testing_thread_start(posters, s);
    int rc;
    while ((rc = weft_loop_run_until(s->loop, all_ran, s)) == WEFT_ESTATE) {
        atomic_fetch_add(&s->stops, 1);
        if (testing_rng_below(&g, 2)) /* a pause, with posts going on */
            weft_sleep(1e-4 * (double)testing_rng_below(&g, 10));
    }
    assert_int_equal(rc, 0);
    testing_thread_join(t);
    for (int p = 0; p < NT; p++)
        for (uint32_t seq = 0; seq < s->per; seq++)
            if (atomic_load(&s->ran[p][seq]) != 1)
                violation("callback %d/%u ran %d times", p, seq,
                          atomic_load(&s->ran[p][seq]));
    for (uint32_t seq = 0; seq < s->self_posts; seq++)
        if (atomic_load(&s->ran[SELF][seq]) != 1)
            violation("follow-up %u ran %d times", seq,
                      atomic_load(&s->ran[SELF][seq]));
    long runs = atomic_load(&s->runs);
    if (runs != atomic_load(&s->posted))
        violation("%ld posted, %ld ran", atomic_load(&s->posted), runs);
    if (atomic_load(&s->violations))
        fail_msg("round %u: %ld violations; first: %s", number,
                 atomic_load(&s->violations), s->first);
    weft_loop_free(s->loop);
    free(s);
    return runs;
}

static void every_callback_runs_exactly_once(void **state)
{
    double end = weft_monotonic() + testing_torture_seconds();
    unsigned rounds = 0;
    long calls = 0;
    do
        calls += run_round(rounds++);
    while (weft_monotonic() < end);
    fprintf(stderr, "torture_threadsafe: %u rounds, %ld callbacks, each ran "
                    "once\n",
            rounds, calls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_callback_runs_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
