/* SPDX-License-Identifier: MIT */
/* Torture: every kind of queue under producers, consumers, a joiner and a
 * shutdown in the middle, with random timeouts and cancellations.
 *
 * Each round takes one kind (the ring at several sizes, the growing FIFO
 * bounded and not, the LIFO, the heap, SimpleQueue) and releases NP
 * producers, NC consumers and a joiner on it together. Producers put
 * numbered items with random timeouts; consumers get them with random
 * timeouts, now and then inside a cancel scope with a short deadline, and
 * mark each done (in two passes over the kinds in three, every put and get
 * waits without a limit instead, and in one of them a single producer
 * waits for each item to be taken before the next, so that the consumers
 * sleep between items and a lost wake-up stops everyone); the joiner joins with random timeouts. At a random
 * moment (after a random count of items, or when the round's share of the
 * torture time is up) a controller shuts the queue down, gently or at
 * once. Then what is left is drained.
 *
 * Accounting, exact:
 *   - every item whose put returned 0 came out exactly once, by a get or
 *     by the drain; no item whose put failed ever came out;
 *   - in a FIFO queue, each consumer got each producer's items in the
 *     order they were put;
 *   - task counting: after the round join(0) succeeds and one more
 *     task_done() is refused ("too many times"): the gets' task_done
 *     calls, the drained items' (unless an immediate shutdown counted
 *     them done) and that shutdown's count add up exactly;
 *   - no wake-up is lost: a getter never sleeps on while items wait, nor a
 *     putter while there is room, with nothing moving for a second (times
 *     the test scale);
 *   - every answer is justified: a get or put that failed with a timeout
 *     waited it out; a join that returned 0 came after a task_done (or
 *     the immediate shutdown) for every put that had returned before it
 *     began; a call inside a cancelled scope that failed says so. */
#include "testing.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"

#define NP 3
#define NC 3
#define PER 20000 /* items a producer may put in a round, at most */

/* Fewer in the slow (sanitized) builds, so that rounds stay short. */
static unsigned per(void)
{
    return testing_scale() > 1 ? PER / 8 : PER;
}

#define ID(p, seq) ((uintptr_t)(p) << 32 | (uintptr_t)(seq))
#define ITEM(p, seq) ((void *)(ID(p, seq) + 1))

enum kind { RING_1, RING_7, RING_1024, FIFO_5, FIFO, LIFO_8, LIFO, HEAP_16,
            SIMPLE, NKINDS };

static const char *const kind_names[NKINDS] = {
    "ring(1)", "ring(7)", "ring(1024)", "fifo(5)", "fifo",
    "lifo(8)", "lifo",    "heap(16)",   "simple"};

static int by_id(const void *a, const void *b, void *ctx)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return (x > y) - (x < y);
}

static weft_queue_t *make(enum kind k)
{
    weft_queue_t *q = NULL;
    switch (k) {
    case RING_1:
        assert_int_equal(weft_queue_new(&q, 1), 0);
        break;
    case RING_7:
        assert_int_equal(weft_queue_new(&q, 7), 0);
        break;
    case RING_1024:
        assert_int_equal(weft_queue_new(&q, 1024), 0);
        break;
    case FIFO_5: /* the growing FIFO, bounded as a large maxsize would */
        assert_int_equal(weft_queue_new(&q, 0), 0);
        q->maxsize = 5;
        break;
    case FIFO:
        assert_int_equal(weft_queue_new(&q, 0), 0);
        break;
    case LIFO_8:
        assert_int_equal(weft_lifo_queue_new(&q, 8), 0);
        break;
    case LIFO:
        assert_int_equal(weft_lifo_queue_new(&q, 0), 0);
        break;
    case HEAP_16:
        assert_int_equal(weft_priority_queue_new(&q, 16, by_id, NULL), 0);
        break;
    default:
        assert_int_equal(weft_simple_queue_new(&q), 0);
        break;
    }
    return q;
}

struct round {
    weft_queue_t *q;
    enum kind kind;
    int tracks, fifo;
    unsigned number;
    int forever; /* every put and get waits without a limit */
    int trickle; /* and each producer waits for its item to be taken */
    unsigned char accepted[NP][PER];
    _Atomic unsigned char out[NP][PER];
    _Atomic long puts_ok, gets_ok, task_done_begun, task_done_ok;
    _Atomic int producers_left, stop, immediate_begun;
    _Atomic long violations;
    _Atomic int have_first;
    char first[256];
};

static void violation(struct round *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void violation(struct round *r, const char *fmt, ...)
{
    atomic_fetch_add(&r->violations, 1);
    if (atomic_exchange(&r->have_first, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first, sizeof r->first, fmt, ap);
        va_end(ap);
    }
}

static struct round *cur;

static double pick_timeout(testing_rng_t *g)
{
    static const double t[] = {0, 0, 0, 1e-4, 1e-3, WEFT_FOREVER};
    if (cur->forever)
        return WEFT_FOREVER;
    return t[testing_rng_below(g, sizeof t / sizeof t[0])];
}

/* A failed call's timeout, if it had one, was waited out. */
static void check_wait(struct round *r, int rc, double t, double t0,
                       const char *what)
{
    if ((rc == WEFT_EFULL || rc == WEFT_EEMPTY) && t != 0 &&
        (t == WEFT_FOREVER || weft_monotonic() - t0 < t))
        violation(r, "%s failed with %d before its timeout %g", what, rc, t);
}

/* ----- Items out ----- */

static void came_out(struct round *r, void *item, int consumer,
                     uint32_t *last_seq)
{
    uintptr_t id = (uintptr_t)item - 1;
    unsigned p = (unsigned)(id >> 32), seq = (unsigned)id;
    if (p >= NP || seq >= PER) {
        violation(r, "an item that was never put: %#lx", (unsigned long)id);
        return;
    }
    if (atomic_fetch_add(&r->out[p][seq], 1) != 0)
        violation(r, "item %u/%u came out twice", p, seq);
    if (consumer >= 0 && r->fifo) {
        if (last_seq[p] != UINT32_MAX && seq <= last_seq[p])
            violation(r, "consumer %d got %u/%u after %u/%u", consumer, p,
                      seq, p, last_seq[p]);
        last_seq[p] = seq;
    }
}

static void mark_done(struct round *r)
{
    if (!r->tracks)
        return;
    atomic_fetch_add(&r->task_done_begun, 1);
    int rc = weft_queue_task_done(r->q);
    if (rc != 0)
        violation(r, "task_done after a get returned %d", rc);
    else
        atomic_fetch_add(&r->task_done_ok, 1);
}

/* ----- The threads ----- */

static void produce(struct round *r, unsigned p, testing_rng_t *g)
{
    /* Fewer items when nobody polls, so that the producers finish and the
     * consumers' last items are watched for. */
    unsigned n = r->trickle ? (p == 0 ? per() / 64 : 0)
                 : r->forever ? per() / 16
                              : per();
    for (unsigned seq = 0; seq < n && !atomic_load(&r->stop); seq++) {
        double t = pick_timeout(g);
        double t0 = weft_monotonic();
        int rc = weft_queue_put(r->q, ITEM(p, seq), t);
        if (rc == 0) {
            r->accepted[p][seq] = 1;
            atomic_fetch_add(&r->puts_ok, 1);
            /* Trickling: the consumers fall asleep between items, so
             * each item needs its put's wake-up; one lost stops all. */
            while (r->trickle && !atomic_load(&r->out[p][seq]) &&
                   !atomic_load(&r->stop))
                weft_sleep(1e-5);
            continue;
        }
        check_wait(r, rc, t, t0, "put");
        if (rc == WEFT_ESHUTDOWN)
            break;
        if (rc != WEFT_EFULL)
            violation(r, "put returned %d", rc);
    }
    atomic_fetch_sub(&r->producers_left, 1);
}

/* A get, sometimes in a scope whose deadline may strike first. */
static int get_one(struct round *r, void **item, testing_rng_t *g)
{
    if (r->forever || testing_rng_below(g, 16) != 0) {
        double t = pick_timeout(g);
        double t0 = weft_monotonic();
        int rc = weft_queue_get(r->q, item, t);
        check_wait(r, rc, t, t0, "get");
        return rc;
    }
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    weft_cancel_scope_enter(&s, testing_rng_below(g, 2) ? 1e-4 : 0, 0);
    int rc = weft_queue_get(r->q, item, WEFT_FOREVER);
    if (rc == WEFT_ECANCELLED && !testing_message_has("cancelled"))
        violation(r, "a cancelled get says: %s", weft_last_message());
    weft_cancel_scope_exit(&s);
    return rc == WEFT_ECANCELLED ? WEFT_EEMPTY : rc;
}

static void consume(struct round *r, int c, testing_rng_t *g)
{
    uint32_t last_seq[NP];
    for (int p = 0; p < NP; p++)
        last_seq[p] = UINT32_MAX;
    for (;;) {
        void *item = NULL;
        int rc = get_one(r, &item, g);
        if (rc == 0) {
            atomic_fetch_add(&r->gets_ok, 1);
            came_out(r, item, c, last_seq);
            mark_done(r);
        } else if (rc == WEFT_ESHUTDOWN) {
            return;
        } else if (rc != WEFT_EEMPTY) {
            violation(r, "get returned %d", rc);
        }
    }
}

static void join_now_and_then(struct round *r, testing_rng_t *g)
{
    while (!atomic_load(&r->stop)) {
        double t = r->forever ? 1e-3 : pick_timeout(g);
        if (t == WEFT_FOREVER)
            t = 1e-3; /* the tasks may never all be done before the end */
        long before = atomic_load(&r->puts_ok);
        double t0 = weft_monotonic();
        int rc = weft_queue_join(r->q, t);
        if (rc == 0) {
            long done = atomic_load(&r->task_done_begun);
            if (done < before && !atomic_load(&r->immediate_begun))
                violation(r, "join returned with %ld puts and %ld task_done",
                          before, done);
        } else if (rc == WEFT_ETIMEDOUT) {
            if (weft_monotonic() - t0 < t)
                violation(r, "join timed out early");
        } else {
            violation(r, "join returned %d", rc);
        }
    }
}

static void worker(void *arg, unsigned i)
{
    struct round *r = arg;
    testing_rng_t g;
    testing_rng_init(&g, (uint64_t)r->number * 16 + i);
    if (i < NP)
        produce(r, i, &g);
    else if (i < NP + NC)
        consume(r, (int)(i - NP), &g);
    else if (r->tracks)
        join_now_and_then(r, &g);
}

/* A lost wake-up: a getter sleeps while items wait in the queue, or a
 * putter while there is room, and nothing moves for a long while (woken
 * threads run within a few time slices even on a loaded machine). */
struct watch {
    long gets, puts;
    double since;
};

static void watch_for_lost_wakes(struct round *r, struct watch *w)
{
    weft_queue_t *q = r->q;
    long gets = atomic_load(&r->gets_ok), puts = atomic_load(&r->puts_ok);
    size_t n = weft_queue_qsize(q);
    int stuck_getter = n > 0 && atomic_load(&q->sleeping_getters) > 0;
    int stuck_putter = q->maxsize && n < q->maxsize &&
                       atomic_load(&q->sleeping_putters) > 0;
    double now = weft_monotonic();
    if ((!stuck_getter && !stuck_putter) || gets != w->gets ||
        puts != w->puts) {
        *w = (struct watch){gets, puts, now};
        return;
    }
    if (now - w->since > 1.0 * testing_scale()) {
        violation(r, "lost wake-up: %zu items in, %u getters and %u putters "
                     "asleep, nothing moved for %.1f s",
                  n, atomic_load(&q->sleeping_getters),
                  atomic_load(&q->sleeping_putters), now - w->since);
        w->since = now;
    }
}

/* Shut down at a random point, gently or at once: after a random count of
 * items, or when the round's time is up. */
static void shut_down_sometime(struct round *r, testing_rng_t *g)
{
    long target = (long)testing_rng_below(g, NP * per());
    double budget = testing_torture_seconds() / NKINDS;
    double end = weft_monotonic() + (budget > 0.05 ? budget : 0.05);
    struct watch w = {-1, -1, 0};
    while (atomic_load(&r->puts_ok) < target &&
           atomic_load(&r->producers_left) > 0 && weft_monotonic() < end) {
        watch_for_lost_wakes(r, &w);
        weft_sleep(1e-4);
    }
    /* Every put is in: the consumers must take all there is by
     * themselves, whoever of them sleeps, before the shutdown helps. */
    while (atomic_load(&r->producers_left) == 0 && weft_queue_qsize(r->q) &&
           !atomic_load(&r->violations)) {
        watch_for_lost_wakes(r, &w);
        weft_sleep(1e-4);
    }
    int immediate = (int)testing_rng_below(g, 2);
    if (immediate)
        atomic_store(&r->immediate_begun, 1);
    atomic_store(&r->stop, 1);
    assert_int_equal(weft_queue_shutdown(r->q, immediate), 0);
}

struct control {
    struct round *r;
    testing_rng_t g;
};

static void control(void *arg)
{
    struct control *c = arg;
    shut_down_sometime(c->r, &c->g);
}

/* ----- A round ----- */

static long drain_rest(struct round *r)
{
    void *items[256];
    long n = 0;
    size_t got;
    while ((got = weft_queue_drain(r->q, items, 256)) > 0) {
        for (size_t k = 0; k < got; k++) {
            came_out(r, items[k], -1, NULL);
            /* Counted done by an immediate shutdown, or needs it now. */
            if (r->tracks && !atomic_load(&r->immediate_begun) &&
                weft_queue_task_done(r->q) != 0)
                violation(r, "task_done of a drained item failed");
        }
        n += (long)got;
    }
    return n;
}

static void account(struct round *r)
{
    for (int p = 0; p < NP; p++)
        for (int seq = 0; seq < PER; seq++)
            if (atomic_load(&r->out[p][seq]) != r->accepted[p][seq])
                violation(r, "item %d/%d: accepted %d, came out %d", p, seq,
                          r->accepted[p][seq], atomic_load(&r->out[p][seq]));
    if (!r->tracks)
        return;
    if (weft_queue_join(r->q, 0) != 0)
        violation(r, "join(0) after the round: %s", weft_last_message());
    if (weft_queue_task_done(r->q) != WEFT_EINVAL)
        violation(r, "one task_done too many was taken");
}

static long run_round(unsigned number, enum kind k)
{
    struct round *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->q = make(k);
    r->kind = k;
    r->number = number;
    r->tracks = k != SIMPLE;
    r->fifo = k <= FIFO || k == SIMPLE;
    /* Two passes over the kinds in three, nobody polls, and in one of
     * them the items trickle: a lost wake-up leaves everyone asleep, for
     * the watch to see. */
    r->forever = number / NKINDS % 3 != 0;
    r->trickle = number / NKINDS % 3 == 1;
    cur = r;
    atomic_store(&r->producers_left, NP);
    struct control c = {r, {0}};
    testing_rng_init(&c.g, (uint64_t)number * 16 + 15);
    testing_thread_t *t = testing_thread_start(control, &c);
    testing_run_threads(NP + NC + 1, worker, r);
    testing_thread_join(t);
    long drained = drain_rest(r);
    account(r);
    long items = atomic_load(&r->puts_ok);
    if (atomic_load(&r->violations))
        fail_msg("round %u (%s): %ld violations; first: %s", number,
                 kind_names[k], atomic_load(&r->violations), r->first);
    (void)drained;
    weft_queue_free(r->q);
    free(r);
    return items;
}

static void every_item_once_and_every_task_counted(void **state)
{
    double end = weft_monotonic() + testing_torture_seconds();
    unsigned rounds = 0;
    long items = 0;
    do {
        double t0 = weft_monotonic();
        long n = run_round(rounds, (enum kind)(rounds % NKINDS));
        if (getenv("TORTURE_VERBOSE"))
            fprintf(stderr, "%s: %ld items in %.2f s\n",
                    kind_names[rounds % NKINDS], n, weft_monotonic() - t0);
        items += n;
        rounds++;
    } while (weft_monotonic() < end || rounds < NKINDS);
    fprintf(stderr, "torture_queue: %u rounds over %d kinds, %ld items, all "
                    "accounted for\n",
            rounds, NKINDS, items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_item_once_and_every_task_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
