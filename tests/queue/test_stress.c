/* SPDX-License-Identifier: MIT */
/* queue: many putters and getters at once, mixing blocking, timed and
 * nowait calls, over every kind. Every item carries a distinct number;
 * what comes out (to getters, or to a final drain) is counted and summed,
 * so a lost or doubled item shows. */
#include "testing.h"

#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"

#define PUTTERS 3
#define GETTERS 3
#define STOP ((void *)UINTPTR_MAX)

static int by_value(const void *a, const void *b, void *ctx)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return (x > y) - (x < y);
}

struct run {
    weft_queue_t *q;
    long per_putter;
    weft_semaphore_t putters_done;
    _Atomic long got;
    _Atomic unsigned long long sum;
    _Atomic long accepted;
    _Atomic unsigned long long accepted_sum;
    _Atomic long shutdown_after; /* items got before a shutdown; 0: none */
    int immediate;
};

static double timeout_for(long k)
{
    switch (k % 4) {
    case 0:
        return 0; /* nowait */
    case 1:
        return 0.0001;
    case 2:
        return 0.01;
    default:
        return WEFT_FOREVER;
    }
}

/* Put per_putter items, retrying those that time out; stop at shutdown. */
static void putter(struct run *r, unsigned i)
{
    for (long k = 0; k < r->per_putter;) {
        uintptr_t value = (uintptr_t)i * (uintptr_t)r->per_putter + k + 1;
        int rc = weft_queue_put(r->q, (void *)value, timeout_for(k + i));
        if (rc == WEFT_EFULL)
            continue;
        if (rc == WEFT_ESHUTDOWN)
            break;
        assert_int_equal(rc, 0);
        atomic_fetch_add(&r->accepted, 1);
        atomic_fetch_add(&r->accepted_sum, value);
        k++;
    }
    weft_semaphore_release(&r->putters_done, 1);
}

static void record(struct run *r, void *item)
{
    atomic_fetch_add(&r->sum, (uintptr_t)item);
    long got = atomic_fetch_add(&r->got, 1) + 1;
    long after = atomic_load(&r->shutdown_after);
    if (after && got == after)
        weft_queue_shutdown(r->q, r->immediate);
}

/* Get until a STOP item or a shutdown; task_done each item. */
static void getter(struct run *r, unsigned i)
{
    for (long k = 0;; k++) {
        void *item;
        int rc = weft_queue_get(r->q, &item, timeout_for(k + i));
        if (rc == WEFT_EEMPTY)
            continue;
        if (rc == WEFT_ESHUTDOWN)
            return;
        assert_int_equal(rc, 0);
        if (r->q->tracks_tasks)
            assert_int_equal(weft_queue_task_done(r->q), 0);
        if (item == STOP)
            return;
        record(r, item);
    }
}

/* Once every putter is done, one STOP per getter (unless shut down). */
static void coordinator(struct run *r)
{
    for (int i = 0; i < PUTTERS; i++)
        weft_semaphore_acquire(&r->putters_done, WEFT_FOREVER);
    for (int i = 0; i < GETTERS; i++)
        if (weft_queue_put(r->q, STOP, WEFT_FOREVER) == WEFT_ESHUTDOWN)
            break;
}

static void member(void *arg, unsigned i)
{
    struct run *r = arg;
    if (i == 0)
        coordinator(r);
    else if (i <= PUTTERS)
        putter(r, i - 1);
    else
        getter(r, i - 1 - PUTTERS);
}

/* What is left once the getters stopped (a LIFO serves the STOPs first). */
static void drain_rest(struct run *r)
{
    void *items[64];
    size_t n;
    while ((n = weft_queue_drain(r->q, items, 64)) > 0) {
        for (size_t k = 0; k < n; k++) {
            if (items[k] == STOP)
                continue;
            atomic_fetch_add(&r->sum, (uintptr_t)items[k]);
            atomic_fetch_add(&r->got, 1);
        }
    }
}

static void run(weft_queue_t *q, long per_putter, long shutdown_after,
                int immediate)
{
    struct run r;
    memset(&r, 0, sizeof r);
    r.q = q;
    r.per_putter = per_putter;
    r.shutdown_after = shutdown_after;
    r.immediate = immediate;
    weft_semaphore_init(&r.putters_done, 0);
    testing_run_threads(1 + PUTTERS + GETTERS, member, &r);
    drain_rest(&r);
    assert_int_equal(atomic_load(&r.got), atomic_load(&r.accepted));
    assert_true(atomic_load(&r.sum) == atomic_load(&r.accepted_sum));
    if (!shutdown_after)
        assert_int_equal(atomic_load(&r.accepted), PUTTERS * per_putter);
    assert_int_equal(weft_queue_qsize(q), 0);
    assert_int_equal(atomic_load(&q->sleeping_getters), 0);
    assert_int_equal(atomic_load(&q->sleeping_putters), 0);
    weft_queue_free(q);
}

static long items(void)
{
    /* Fewer under the sanitizers, which run several times slower. */
    return testing_scale() > 1 ? 15000 : 60000;
}

static void a_small_ring_delivers_every_item_once(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 4), 0);
    run(q, items(), 0, 0);
}

static void a_large_ring_delivers_every_item_once(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 1024), 0);
    run(q, items(), 0, 0);
}

static void a_bounded_growing_fifo_delivers_every_item_once(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 0), 0);
    q->maxsize = 4; /* as for a maxsize above the ring's, but small */
    run(q, items(), 0, 0);
}

static void an_unbounded_fifo_delivers_every_item_once(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_queue_new(&q, 0), 0);
    run(q, items(), 0, 0);
}

static void a_lifo_delivers_every_item_once(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_lifo_queue_new(&q, 4), 0);
    run(q, items(), 0, 0);
}

static void a_priority_queue_delivers_every_item_once(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_priority_queue_new(&q, 4, by_value, NULL), 0);
    run(q, items(), 0, 0);
}

static void a_simple_queue_delivers_every_item_once(void **state)
{
    weft_queue_t *q;
    assert_int_equal(weft_simple_queue_new(&q), 0);
    run(q, items(), 0, 0);
}

static void a_shutdown_midway_loses_and_doubles_nothing(void **state)
{
    for (int immediate = 0; immediate <= 1; immediate++) {
        weft_queue_t *q;
        assert_int_equal(weft_queue_new(&q, 8), 0);
        run(q, items(), items(), immediate);
        assert_int_equal(weft_lifo_queue_new(&q, 8), 0);
        run(q, items(), items(), immediate);
    }
}

static void after_a_shutdown_midway_every_task_is_accounted_for(void **state)
{
    for (int immediate = 0; immediate <= 1; immediate++) {
        weft_queue_t *q;
        assert_int_equal(weft_queue_new(&q, 8), 0);
        struct run r;
        memset(&r, 0, sizeof r);
        r.q = q;
        r.per_putter = items();
        r.shutdown_after = items() / 2;
        r.immediate = immediate;
        weft_semaphore_init(&r.putters_done, 0);
        testing_run_threads(1 + PUTTERS + GETTERS, member, &r);
        /* Getters did task_done for all they got; an immediate shutdown
         * counted the rest, so drained items need none. */
        size_t left = weft_queue_qsize(q);
        if (!immediate)
            assert_int_equal(left, 0);
        drain_rest(&r);
        assert_int_equal(weft_queue_join(q, 0), 0);
        assert_int_equal(atomic_load(&r.got), atomic_load(&r.accepted));
        weft_queue_free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_small_ring_delivers_every_item_once),
        cmocka_unit_test(a_large_ring_delivers_every_item_once),
        cmocka_unit_test(a_bounded_growing_fifo_delivers_every_item_once),
        cmocka_unit_test(an_unbounded_fifo_delivers_every_item_once),
        cmocka_unit_test(a_lifo_delivers_every_item_once),
        cmocka_unit_test(a_priority_queue_delivers_every_item_once),
        cmocka_unit_test(a_simple_queue_delivers_every_item_once),
        cmocka_unit_test(a_shutdown_midway_loses_and_doubles_nothing),
        cmocka_unit_test(after_a_shutdown_midway_every_task_is_accounted_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
