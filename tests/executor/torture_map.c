/* SPDX-License-Identifier: MIT */
/* executor: map under torture.
 *
 * Rounds, until the torture time is up: a thread pool of 1 to 4 workers,
 * and 1 to 3 consumer threads, each running maps one after another over
 * the same pool: in input order or as completed, in chunks of 1 (mostly)
 * or more, with the default buffer or a small one, with no timeout or a
 * short one, read to the end or freed part way. Some calls wait inside a
 * cancel scope that runs out, one consumer may shut the pool down in the
 * middle (cancelling the queue or not), and the items succeed, fail with
 * their own error, sleep a little, or wait (for a bounded time) until the
 * consumer has taken the item before them, which a consumer waiting for a
 * later item than the next would keep waiting.
 *
 * Every item has a record. What the map yields is checked as it comes: in
 * input order (or each index once, as completed), the result or error the
 * item's body gave, a cancelled item never ran, an interrupted wait
 * (timeout, scope) yields no item, the timeout counts from the call, and
 * no more is taken from the input than the buffer allows. At the end of a
 * round (after shutdown(wait=True)) every item is accounted for exactly
 * once: it ran at most once, one never taken from the input never ran,
 * and a map read to its end yielded every item exactly once. */
#include "testing.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ITEMS = 3000, MAX_CONSUMERS = 3 };

struct job;

struct item {
    struct job *job;
    uint32_t index;
    _Atomic int ran;      /* times the body started */
    _Atomic int returned; /* 1 + what the body returned, 0 before */
    int yielded;          /* times the map yielded it (consumer only) */
};

struct job {
    struct job *older; /* the consumer's jobs of this round */
    struct item items[MAX_ITEMS];
    uint32_t n;                /* items in the input */
    uint32_t taken;            /* taken from the input by the map */
    _Atomic uint32_t consumed; /* items the consumer has been given */
    uint32_t seed;
    int wait_previous; /* AFTER_PREVIOUS items wait: in order, chunks of 1 */
    int to_end;        /* the map yielded WEFT_EEOF */
};

struct round {
    weft_executor_t *ex;
    unsigned consumers;
    uint64_t stream; /* the consumers' random streams start here */
    double until;
    _Atomic long maps, items, yields, cancelled_waits, timeouts, freed_early,
        shutdowns;
};

static intptr_t expected_result(uint32_t index)
{
    return (intptr_t)index * 7 + 1;
}

/* What an item's body does, by its number and the job's seed. */
enum kind { PLAIN, FAIL, SLEEP, AFTER_PREVIOUS };

static enum kind kind_of(const struct job *j, uint32_t index)
{
    uint32_t k = (index * 2654435761u ^ j->seed) % 16;
    return k < 11 ? PLAIN : k < 13 ? FAIL : k < 15 ? SLEEP : AFTER_PREVIOUS;
}

static int expected_failure(uint32_t index)
{
    return WEFT_EUSER + (int)(index % 5);
}

static int item_body(void *arg, void **result)
{
    struct item *it = arg;
    struct job *j = it->job;
    testing_check(atomic_fetch_add(&it->ran, 1) == 0, "item %u ran twice",
                  it->index);
    int rc = 0;
    switch (kind_of(j, it->index)) {
    case FAIL:
        rc = weft_fail(expected_failure(it->index), "item %u failed on purpose",
                       it->index);
        break;
    case SLEEP:
        weft_sleep(0.00005 * (double)(it->index % 5));
        break;
    case AFTER_PREVIOUS: {
        /* Until the consumer has the item before this one; bounded, so
         * that a consumer that stopped early does not hold the pool. */
        double until = weft_monotonic() + 0.005;
        while (j->wait_previous && atomic_load(&j->consumed) < it->index &&
               weft_monotonic() < until)
            weft_sleep(0.00002);
        break;
    }
    default:
        break;
    }
    if (rc == 0)
        *result = (void *)expected_result(it->index);
    atomic_store(&it->returned, rc + 1);
    return rc;
}

static int next_item(void *ctx, void **arg)
{
    struct job *j = ctx;
    if (j->taken == j->n)
        return WEFT_EEOF;
    *arg = &j->items[j->taken++];
    return 0;
}

/* ----- A consumer ----- */

struct plan {
    weft_map_opts_t o;
    uint32_t stop_at; /* free the map after this many yields */
};

static struct plan random_plan(testing_rng_t *rng, uint32_t n)
{
    struct plan p = {WEFT_MAP_OPTS_DEFAULT, UINT32_MAX};
    p.o.chunksize =
        testing_rng_below(rng, 2) ? 1 : 2 + testing_rng_below(rng, 6);
    p.o.buffersize =
        testing_rng_below(rng, 2) ? 0 : 1 + testing_rng_below(rng, 40);
    p.o.unordered = testing_rng_below(rng, 5) == 0;
    if (testing_rng_below(rng, 4) == 0)
        p.o.timeout = 0.001 * (double)(1 + testing_rng_below(rng, 30));
    if (testing_rng_below(rng, 3) == 0)
        p.stop_at = (uint32_t)testing_rng_below(rng, n + 1);
    return p;
}

/* One yield, checked against the item's record. */
static void check_yield(struct job *j, const struct plan *p, int rc,
                        void *value, const char *message, size_t idx,
                        uint32_t *next)
{
    testing_check(idx < j->taken, "index %zu yielded, %u taken", idx, j->taken);
    if (idx >= j->taken)
        return;
    if (!p->o.unordered)
        testing_check(idx == *next, "index %zu yielded, %u expected", idx,
                      *next);
    *next = (uint32_t)idx + 1;
    struct item *it = &j->items[idx];
    testing_check(it->yielded++ == 0, "item %zu yielded twice", idx);
    int ran = atomic_load(&it->ran), returned = atomic_load(&it->returned) - 1;
    if (rc == WEFT_ECANCELLED) {
        testing_check(ran == 0, "item %zu: cancelled, yet it ran", idx);
        return;
    }
    testing_check(ran == 1 && rc == returned,
                  "item %zu: yielded %d, ran %d times, its body gave %d", idx,
                  rc, ran, returned);
    if (rc == 0)
        testing_check((intptr_t)value == expected_result(it->index),
                      "item %zu: wrong result", idx);
    else
        testing_check(rc == expected_failure(it->index) &&
                          strstr(message, "failed on purpose"),
                      "item %zu: wrong error %d (%s)", idx, rc, message);
}

/* map_next, now and then inside a cancel scope that runs out; the
 * message it left, before the scope's own calls. */
static int next_maybe_scoped(weft_map_t *m, testing_rng_t *rng, void **value,
                             size_t *idx, int *scope_fired, char *message)
{
    *scope_fired = 0;
    if (testing_rng_below(rng, 8) != 0) {
        int rc = weft_map_next(m, value, idx);
        snprintf(message, WEFT_MESSAGE_MAX, "%s", weft_last_message());
        return rc;
    }
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    double t = 0.00001 * (double)testing_rng_below(rng, 30);
    int rc = weft_cancel_scope_enter(&s, t, 0);
    testing_check(rc == 0, "scope enter: %s", weft_strerror(rc));
    rc = weft_map_next(m, value, idx);
    snprintf(message, WEFT_MESSAGE_MAX, "%s", weft_last_message());
    *scope_fired = weft_cancel_scope_cancelled(&s);
    weft_cancel_scope_exit(&s);
    return rc;
}

/* One map over job j; 0, or WEFT_ESHUTDOWN when the pool refused it. */
static int run_job(struct round *r, struct job *j, testing_rng_t *rng,
                   int may_shut)
{
    j->n = (uint32_t)testing_rng_below(rng, MAX_ITEMS + 1);
    j->seed = (uint32_t)testing_rng_next(rng);
    for (uint32_t i = 0; i < j->n; i++)
        j->items[i] = (struct item){.job = j, .index = i};
    struct plan p = random_plan(rng, j->n);
    j->wait_previous = !p.o.unordered && p.o.chunksize == 1;
    uint32_t shut_at =
        may_shut ? (uint32_t)testing_rng_below(rng, j->n + 1) : UINT32_MAX;
    double t0 = weft_monotonic();
    weft_map_t *m;
    int rc = weft_executor_map_source(&m, r->ex, item_body, next_item, j, &p.o);
    if (rc) {
        testing_check(rc == WEFT_ESHUTDOWN, "map: %s", weft_strerror(rc));
        return rc;
    }
    atomic_fetch_add(&r->maps, 1);
    atomic_fetch_add(&r->items, j->n);
    uint32_t next = 0, yields = 0;
    for (;;) {
        if (yields == shut_at) {
            int cancel = (int)testing_rng_below(rng, 2);
            rc = weft_executor_shutdown(r->ex, 0, cancel, WEFT_FOREVER);
            testing_check(rc == 0, "shutdown: %s", weft_strerror(rc));
            atomic_fetch_add(&r->shutdowns, 1);
        }
        if (yields == p.stop_at) {
            atomic_fetch_add(&r->freed_early, 1);
            break;
        }
        void *value = NULL;
        size_t idx = SIZE_MAX;
        int fired;
        char message[WEFT_MESSAGE_MAX];
        rc = next_maybe_scoped(m, rng, &value, &idx, &fired, message);
        if (rc == WEFT_EEOF) {
            j->to_end = 1;
            break;
        }
        if (idx == SIZE_MAX) {
            /* No item: the wait was cut short, or the map ended. */
            if (rc == WEFT_ECANCELLED) {
                testing_check(fired, "map_next cancelled for nothing");
                atomic_fetch_add(&r->cancelled_waits, 1);
                continue;
            }
            if (rc == WEFT_ETIMEDOUT) {
                double took = weft_monotonic() - t0;
                testing_check(p.o.timeout != WEFT_FOREVER &&
                                  took >= p.o.timeout * 0.999,
                              "timed out after %g s of %g", took, p.o.timeout);
                atomic_fetch_add(&r->timeouts, 1);
                break;
            }
            testing_check(rc == WEFT_ESHUTDOWN, "map_next: %d (%s)", rc,
                          message);
            break;
        }
        yields++;
        check_yield(j, &p, rc, value, message, idx, &next);
        atomic_store(&j->consumed, yields);
        if (p.o.buffersize)
            testing_check(j->taken <=
                              yields + (p.o.buffersize + 1) * p.o.chunksize,
                          "%u taken with %u yielded, buffer %zu of %zu",
                          j->taken, yields, p.o.buffersize, p.o.chunksize);
    }
    weft_map_free(m);
    atomic_fetch_add(&r->yields, yields);
    return 0;
}

/* After the last shutdown(wait=True): every item accounted for once. */
static void account(struct job *j)
{
    for (uint32_t i = 0; i < j->n; i++) {
        struct item *it = &j->items[i];
        int ran = atomic_load(&it->ran);
        testing_check(ran <= 1, "item %u ran %d times", i, ran);
        testing_check(i < j->taken || ran == 0, "item %u ran, never taken", i);
        testing_check(ran == 0 || atomic_load(&it->returned) != 0,
                      "item %u ran and never returned", i);
        testing_check(!j->to_end || it->yielded == 1,
                      "item %u yielded %d times", i, it->yielded);
    }
}

struct consumer_ctx {
    struct round *r;
    struct job *jobs[MAX_CONSUMERS]; /* each consumer's, newest first */
};

/* Maps one after another until the round ends; each job's record is kept
 * until the round's last shutdown has let every item settle (the items of
 * a freed map may still be running, or, in a chunk, about to run). */
static void run_consumer(void *arg, unsigned index)
{
    struct consumer_ctx *c = arg;
    struct round *r = c->r;
    testing_rng_t rng;
    testing_rng_init(&rng, r->stream + index);
    int may_shut = index == 0 && testing_rng_below(&rng, 4) == 0;
    int refused = 0;
    do {
        struct job *j = calloc(1, sizeof *j);
        if (j == NULL) {
            testing_error("no memory for a job");
            return;
        }
        j->older = c->jobs[index];
        c->jobs[index] = j;
        refused = run_job(r, j, &rng, may_shut);
        may_shut = 0;
    } while (!refused && weft_monotonic() < r->until && testing_errors() == 0);
}

static void run_round(testing_rng_t *rng, long *totals)
{
    struct round r = {0};
    weft_thread_pool_opts_t o = {1 + (unsigned)testing_rng_below(rng, 4), NULL,
                                 NULL, NULL};
    assert_int_equal(weft_thread_pool_new(&r.ex, &o), 0);
    r.consumers = 1 + (unsigned)testing_rng_below(rng, MAX_CONSUMERS);
    r.stream = 1 + MAX_CONSUMERS * testing_rng_below(rng, 1u << 30);
    r.until = weft_monotonic() + 0.01 + 0.001 * testing_rng_below(rng, 50);
    struct consumer_ctx c = {&r, {NULL}};
    testing_run_threads(r.consumers, run_consumer, &c);
    int rc = weft_executor_shutdown(r.ex, 1, 0, WEFT_FOREVER);
    testing_check(rc == 0, "the last shutdown: %s", weft_strerror(rc));
    for (unsigned i = 0; i < r.consumers; i++) {
        while (c.jobs[i]) {
            struct job *j = c.jobs[i];
            c.jobs[i] = j->older;
            account(j);
            free(j);
        }
    }
    weft_executor_free(r.ex);
    totals[0] += atomic_load(&r.maps);
    totals[1] += atomic_load(&r.items);
    totals[2] += atomic_load(&r.yields);
    totals[3] += atomic_load(&r.cancelled_waits);
    totals[4] += atomic_load(&r.timeouts);
    totals[5] += atomic_load(&r.freed_early);
    totals[6] += atomic_load(&r.shutdowns);
}
static void every_item_is_accounted_for_exactly_once(void **state)
{
    testing_rng_t rng;
    testing_rng_init(&rng, 0);
    double until = weft_monotonic() + testing_torture_seconds();
    long totals[7] = {0};
    unsigned rounds = 0;
    do {
        run_round(&rng, totals);
        rounds++;
    } while (weft_monotonic() < until && testing_errors() == 0);
    fprintf(stderr,
            "map torture: %u rounds, %ld maps, %ld items, %ld yielded, %ld "
            "waits cancelled, %ld timeouts, %ld freed early, %ld shutdowns "
            "in the middle\n",
            rounds, totals[0], totals[1], totals[2], totals[3], totals[4],
            totals[5], totals[6]);
    testing_assert_no_errors();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_item_is_accounted_for_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
