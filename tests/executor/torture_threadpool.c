/* SPDX-License-Identifier: MIT */
/* executor: the thread pool under torture.
 *
 * Rounds, until the torture time is up: a pool of 1 to 6 workers, and 2 to
 * 4 client threads that submit from outside, wait on their futures with
 * random timeouts (polls, short waits, and long ones that must never run
 * out), cancel, ask running tasks to stop, and one of which shuts the pool
 * down in the middle (waiting or not, cancelling the queue or not, with or
 * without a timeout). Tasks submit subtasks from inside, wait on some of
 * them, and succeed, fail or notice a stop request.
 *
 * Every task has a record. At the end of a round (after a last
 * shutdown(wait=True) has returned) every task is accounted for exactly
 * once: a refused submit never ran; an accepted task is done (never left
 * pending), and it finished after running exactly once, with the result or
 * error its body gave, or was cancelled without running, or ran and
 * returned WEFT_ECANCELLED after a stop request. Every wait's answer is
 * checked against what the task did. The workers are gone (joined). */
#include "testing.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RECORDS = 1 << 14, CLIENT_FUTURES = 32, MAX_CHILDREN = 4 };

struct round;

/* One task: written by whoever submits it and by its body. */
struct record {
    struct round *round;
    uint32_t index;
    _Atomic int ran;       /* times the body started */
    _Atomic int returned;  /* 1 + what the body returned, 0 before */
    _Atomic int accepted;  /* the submit returned 0 */
    weft_future_t *future; /* a reference for the final check */
};

struct round {
    weft_executor_t *ex;
    char prefix[32];
    struct record *records;
    _Atomic uint32_t used;
    unsigned clients;
    double until; /* clients stop submitting */
    _Atomic long ops, waits, cancels, stops, shutdowns, children;
};

static intptr_t expected_result(uint32_t index)
{
    return (intptr_t)index * 7 + 1;
}

/* A task fails with its own code when its number says so. */
static int expected_failure(uint32_t index)
{
    return index % 11 == 3 ? WEFT_EUSER + (int)(index % 5) : 0;
}

/* Clients leave a quarter of the records to tasks' children. */
static struct record *new_record(struct round *r, int from_client)
{
    uint32_t limit = from_client ? MAX_RECORDS / 4 * 3 : MAX_RECORDS;
    if (atomic_load_explicit(&r->used, memory_order_relaxed) >= limit)
        return NULL;
    uint32_t i = atomic_fetch_add(&r->used, 1);
    if (i >= MAX_RECORDS)
        return NULL;
    struct record *rec = &r->records[i];
    rec->round = r;
    rec->index = i;
    return rec;
}

static int task_body(void *arg, void **result);

/* Submit a task for rec; accepted or not, the record says so. */
static int submit_record(struct round *r, struct record *rec,
                         weft_future_t **out)
{
    int rc = weft_executor_submit(r->ex, task_body, rec, out);
    if (rc == 0) {
        rec->future = weft_future_ref(*out);
        atomic_store(&rec->accepted, 1);
    } else {
        testing_check(rc == WEFT_ESHUTDOWN, "submit of task %u: %s", rec->index,
                      weft_strerror(rc));
    }
    return rc;
}

/* A random timeout: a poll, a short wait, or a long one that must never
 * run out (every task ends soon, so a long wait that times out means a
 * task was stranded). */
static double random_timeout(testing_rng_t *rng, int *is_long)
{
    static const double choices[] = {0, 0.0001, 0.001, 0.01};
    uint64_t k = testing_rng_below(rng, 6);
    *is_long = k >= 4;
    return *is_long ? 30.0 * testing_scale() : choices[k];
}

/* Check a future's outcome, once it is done, against its task's record. */
static void check_outcome(struct record *rec, weft_future_t *f, int rc,
                          void *value, int stop_possible)
{
    int returned = atomic_load(&rec->returned) - 1;
    int ran = atomic_load(&rec->ran);
    if (rc == WEFT_ECANCELLED) {
        testing_check(weft_future_cancelled(f),
                      "task %u: ECANCELLED, not cancelled", rec->index);
        testing_check(ran == 0 || returned == WEFT_ECANCELLED,
                      "task %u: cancelled, yet it ran and returned %d",
                      rec->index, returned);
        testing_check(ran == 0 || stop_possible, "task %u: ran, then cancelled",
                      rec->index);
        return;
    }
    testing_check(ran == 1, "task %u: finished with %d, ran %d times",
                  rec->index, rc, ran);
    testing_check(rc == returned, "task %u: finished with %d, its body gave %d",
                  rec->index, rc, returned);
    if (rc == 0)
        testing_check((intptr_t)value == expected_result(rec->index),
                      "task %u: wrong result", rec->index);
    else
        testing_check(rc == expected_failure(rec->index) &&
                          testing_message_has("failed on purpose"),
                      "task %u: wrong error %d (%s)", rec->index, rc,
                      weft_last_message());
}

/* Wait on f with a random timeout; check what the wait says. */
static void random_wait(struct record *rec, weft_future_t *f,
                        testing_rng_t *rng, int stop_possible)
{
    int is_long;
    double timeout = random_timeout(rng, &is_long);
    double t0 = weft_monotonic();
    void *value = NULL;
    int rc = weft_future_result(f, timeout, &value);
    double took = weft_monotonic() - t0;
    if (rc == WEFT_ETIMEDOUT) {
        testing_check(!is_long, "task %u: a long wait timed out (stranded)",
                      rec->index);
        testing_check(took >= timeout * 0.999,
                      "task %u: timed out after %g of %g s", rec->index, took,
                      timeout);
        return;
    }
    if (rc == WEFT_ECANCELLED && !weft_future_cancelled(f)) {
        /* The waiter's own stop request (a task waiting on a child). */
        testing_check(weft_task_cancelled(),
                      "task %u: wait cancelled for nothing", rec->index);
        return;
    }
    testing_check(weft_future_done(f),
                  "task %u: the wait returned %d, not done", rec->index, rc);
    check_outcome(rec, f, rc, value, stop_possible);
}

/* Inside a task: submit children, wait on some, leave the others. */
static int spawn_children(struct record *self, testing_rng_t *rng)
{
    struct round *r = self->round;
    unsigned n = 1 + (unsigned)testing_rng_below(rng, MAX_CHILDREN);
    weft_future_t *fs[MAX_CHILDREN];
    struct record *recs[MAX_CHILDREN];
    unsigned made = 0;
    for (unsigned i = 0; i < n; i++) {
        struct record *rec = new_record(r, 0);
        if (rec == NULL)
            break;
        /* From inside, a submit is taken even during shutdown. */
        int rc = submit_record(r, rec, &fs[made]);
        testing_check(rc == 0, "task %u: a child's submit failed: %s",
                      self->index, weft_strerror(rc));
        if (rc == 0)
            recs[made++] = rec;
    }
    atomic_fetch_add_explicit(&r->children, made, memory_order_relaxed);
    for (unsigned i = 0; i < made; i++) {
        if (testing_rng_below(rng, 2))
            random_wait(recs[i], fs[i], rng, 1);
        weft_future_free(fs[i]);
    }
    return weft_task_cancelled() ? WEFT_ECANCELLED : 0;
}

static int task_body(void *arg, void **result)
{
    struct record *rec = arg;
    testing_check(atomic_fetch_add(&rec->ran, 1) == 0, "task %u ran twice",
                  rec->index);
    testing_rng_t rng;
    testing_rng_init(&rng, 1000003u * rec->index + 17);
    uint64_t kind = testing_rng_below(&rng, 8);
    int rc = 0;
    if (kind < 3)
        rc = spawn_children(rec, &rng);
    else if (kind == 3)
        rc = weft_sleep(0.0001 * (double)testing_rng_below(&rng, 20));
    else if (kind == 4 && weft_task_cancelled())
        rc = WEFT_ECANCELLED;
    if (rc == 0 && expected_failure(rec->index)) {
        rc = weft_fail(expected_failure(rec->index),
                       "task %u failed on purpose", rec->index);
    }
    if (rc == 0)
        *result = (void *)expected_result(rec->index);
    atomic_store(&rec->returned, rc + 1);
    return rc;
}

/* ----- Clients ----- */

struct client {
    struct round *r;
    testing_rng_t rng;
    weft_future_t *fs[CLIENT_FUTURES];
    struct record *recs[CLIENT_FUTURES];
    unsigned n;
    int may_shut;
    double shut_at;
};

static void forget(struct client *c, unsigned k)
{
    weft_future_free(c->fs[k]);
    c->fs[k] = c->fs[--c->n];
    c->recs[k] = c->recs[c->n];
}

static void client_submit(struct client *c)
{
    struct record *rec = new_record(c->r, 1);
    weft_future_t *f;
    if (rec == NULL || submit_record(c->r, rec, &f) != 0)
        return;
    if (c->n == CLIENT_FUTURES)
        forget(c, (unsigned)testing_rng_below(&c->rng, c->n));
    c->fs[c->n] = f;
    c->recs[c->n++] = rec;
}

/* The pattern that once stranded a task: submit a, submit b, wait on b
 * alone, with nothing else submitted meanwhile by this client. */
static void client_pair(struct client *c)
{
    struct record *a = new_record(c->r, 1), *b = new_record(c->r, 1);
    weft_future_t *fa, *fb;
    if (a == NULL || b == NULL || submit_record(c->r, a, &fa) != 0)
        return;
    if (submit_record(c->r, b, &fb) == 0) {
        int rc = weft_future_wait(fb, 30.0 * testing_scale());
        testing_check(rc == 0, "task %u (b of a pair) never ran", b->index);
        weft_future_free(fb);
    }
    weft_future_free(fa);
}

static void client_shutdown(struct client *c)
{
    struct round *r = c->r;
    int wait = (int)testing_rng_below(&c->rng, 2);
    int cancel = (int)testing_rng_below(&c->rng, 2);
    double timeout = testing_rng_below(&c->rng, 2) ? WEFT_FOREVER : 0.001;
    int rc = weft_executor_shutdown(r->ex, wait, cancel, timeout);
    testing_check(
        rc == 0 || (rc == WEFT_ETIMEDOUT && wait && timeout != WEFT_FOREVER),
        "shutdown(%d, %d, %g): %s", wait, cancel, timeout, weft_strerror(rc));
    atomic_fetch_add(&r->shutdowns, 1);
    c->may_shut = 0;
}

static void client_step(struct client *c)
{
    struct round *r = c->r;
    uint64_t op = testing_rng_below(&c->rng, 100);
    unsigned k = c->n ? (unsigned)testing_rng_below(&c->rng, c->n) : 0;
    if (op < 40 || c->n == 0) {
        client_submit(c);
    } else if (op < 65) {
        random_wait(c->recs[k], c->fs[k], &c->rng, 1);
        atomic_fetch_add_explicit(&r->waits, 1, memory_order_relaxed);
    } else if (op < 75) {
        /* Cancelled now, or it had left PENDING (running, or done). */
        int rc = weft_future_cancel(c->fs[k]);
        testing_check(rc == 0
                          ? weft_future_cancelled(c->fs[k])
                          : rc == WEFT_ESTATE && weft_future_state(c->fs[k]) !=
                                                     WEFT_FUTURE_PENDING,
                      "task %u: cancel returned %d", c->recs[k]->index, rc);
        atomic_fetch_add_explicit(&r->cancels, 1, memory_order_relaxed);
    } else if (op < 82) {
        weft_future_stop(c->fs[k]);
        atomic_fetch_add_explicit(&r->stops, 1, memory_order_relaxed);
    } else if (op < 90) {
        forget(c, k);
    } else {
        client_pair(c);
    }
    atomic_fetch_add_explicit(&r->ops, 1, memory_order_relaxed);
}

static void run_client(void *arg, unsigned index)
{
    struct round *r = arg;
    struct client c = {.r = r, .n = 0, .may_shut = index == 0};
    testing_rng_init(&c.rng, 7919u * atomic_load(&r->used) + index + 1);
    double now = weft_monotonic();
    c.shut_at =
        now + (r->until - now) * (double)testing_rng_below(&c.rng, 100) / 100.0;
    while (weft_monotonic() < r->until &&
           atomic_load(&r->used) < MAX_RECORDS / 4 * 3 &&
           testing_errors() == 0) {
        if (c.may_shut && weft_monotonic() >= c.shut_at)
            client_shutdown(&c);
        client_step(&c);
    }
    while (c.n > 0)
        forget(&c, 0);
}

/* ----- Rounds ----- */

static size_t threads_named(const char *prefix)
{
    weft_thread_t **list;
    size_t n, count = 0;
    if (weft_enumerate(&list, &n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(weft_thread_name(list[i]), prefix, strlen(prefix)) == 0)
            count++;
    weft_thread_list_free(list, n);
    return count;
}

/* After the last shutdown(wait=True): every record accounted for once. */
static void account(struct round *r)
{
    uint32_t used = atomic_load(&r->used);
    used = used < MAX_RECORDS ? used : MAX_RECORDS;
    for (uint32_t i = 0; i < used; i++) {
        struct record *rec = &r->records[i];
        if (!atomic_load(&rec->accepted)) {
            testing_check(atomic_load(&rec->ran) == 0, "refused task %u ran",
                          i);
            continue;
        }
        weft_future_t *f = rec->future;
        testing_check(weft_future_done(f),
                      "task %u still pending after shutdown", i);
        if (weft_future_done(f)) {
            void *value = NULL;
            int rc = weft_future_result(f, 0, &value);
            check_outcome(rec, f, rc, value, 1);
        }
        weft_future_free(f);
    }
}

static void run_round(testing_rng_t *rng, unsigned number, long *totals)
{
    struct round *r = calloc(1, sizeof *r);
    r->records = calloc(MAX_RECORDS, sizeof *r->records);
    assert_non_null(r->records);
    snprintf(r->prefix, sizeof r->prefix, "torture%u", number);
    weft_thread_pool_opts_t o = {1 + (unsigned)testing_rng_below(rng, 6),
                                 r->prefix, NULL, NULL};
    assert_int_equal(weft_thread_pool_new(&r->ex, &o), 0);
    r->clients = 2 + (unsigned)testing_rng_below(rng, 3);
    r->until = weft_monotonic() + 0.005 + 0.001 * testing_rng_below(rng, 50);
    testing_run_threads(r->clients, run_client, r);
    int cancel = (int)testing_rng_below(rng, 2);
    int rc = weft_executor_shutdown(r->ex, 1, cancel, WEFT_FOREVER);
    testing_check(rc == 0, "the last shutdown: %s", weft_strerror(rc));
    account(r);
    testing_check(threads_named(r->prefix) == 0,
                  "round %u: workers still alive after shutdown(wait=True)",
                  number);
    weft_executor_free(r->ex);
    totals[0] += atomic_load(&r->ops);
    totals[1] += atomic_load(&r->used);
    totals[2] += atomic_load(&r->children);
    totals[3] += atomic_load(&r->shutdowns);
    free(r->records);
    free(r);
}

static void every_task_is_accounted_for_exactly_once(void **state)
{
    testing_rng_t rng;
    testing_rng_init(&rng, 0);
    double until = weft_monotonic() + testing_torture_seconds();
    long totals[4] = {0};
    unsigned rounds = 0;
    do
        run_round(&rng, rounds++, totals);
    while (weft_monotonic() < until && testing_errors() == 0);
    fprintf(stderr,
            "thread pool torture: %u rounds, %ld client operations, %ld "
            "tasks (%ld from inside), %ld shutdowns in the middle\n",
            rounds, totals[0], totals[1], totals[2], totals[3]);
    testing_assert_no_errors();
}

/* ----- The pattern alone ----- */

static int square(void *arg, void **result)
{
    intptr_t x = (intptr_t)arg;
    *result = (void *)(x * x);
    return 0;
}

/* submit(a), submit(b), wait for b with a bound, over and over; now and
 * then a shutdown(wait=True) right after the pair, which must leave both
 * done. */
static void a_pair_never_strands_its_second_task(void **state)
{
    double until = weft_monotonic() + testing_torture_seconds();
    long pairs = 0;
    unsigned pools = 0;
    while (weft_monotonic() < until) {
        weft_executor_t *ex;
        weft_thread_pool_opts_t o = {4, NULL, NULL, NULL};
        assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
        weft_future_t *a = NULL, *b = NULL;
        for (int k = 0; k < 2000 && weft_monotonic() < until; k++, pairs++) {
            weft_future_free(a);
            weft_future_free(b);
            assert_int_equal(weft_executor_submit(ex, square, (void *)2, &a),
                             0);
            assert_int_equal(weft_executor_submit(ex, square, (void *)3, &b),
                             0);
            if (k == 1999 || weft_monotonic() >= until)
                break; /* the last pair: shutdown waits for both */
            if (weft_future_wait(b, 30.0 * testing_scale()) != 0)
                fail_msg("pair %ld: the second task was never run", pairs);
        }
        assert_int_equal(weft_executor_shutdown(ex, 1, 0, WEFT_FOREVER), 0);
        assert_true(weft_future_done(a) && weft_future_done(b));
        weft_future_free(a);
        weft_future_free(b);
        weft_executor_free(ex);
        pools++;
    }
    fprintf(stderr, "pairs: %ld over %u pools\n", pairs, pools);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_task_is_accounted_for_exactly_once),
        cmocka_unit_test(a_pair_never_strands_its_second_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
