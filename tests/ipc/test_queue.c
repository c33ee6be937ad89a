/* SPDX-License-Identifier: MIT */
/* ipc: the process Queue, JoinableQueue and SimpleQueue: order, bounds,
 * timeouts, growth, many processes, and processes that die mid-call. */
#include "testing_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc/ipc_int.h"

static weft_proc_queue_t *queue(size_t maxsize)
{
    weft_proc_queue_t *q;
    assert_int_equal(weft_proc_queue_new(&q, maxsize), 0);
    return q;
}

static void put_text(weft_proc_queue_t *q, const char *text)
{
    assert_int_equal(weft_proc_queue_put(q, text, strlen(text), WEFT_FOREVER),
                     0);
}

static void get_text(weft_proc_queue_t *q, const char *text)
{
    weft_bytes_t b = {0};
    assert_int_equal(weft_proc_queue_get(q, &b, 5.0), 0);
    assert_int_equal(b.len, strlen(text));
    assert_memory_equal(b.data, text, b.len);
    weft_bytes_free(&b);
}

/* Start a process running target with q's share as its argument. */
static weft_process_t *start_with(const char *method, weft_process_fn target,
                                  weft_proc_queue_t *q)
{
    weft_share_t h;
    assert_int_equal(weft_proc_queue_share(q, &h), 0);
    weft_context_t *ctx;
    weft_get_context(&ctx, method);
    weft_process_t *p;
    assert_int_equal(
        weft_context_process_new(ctx, &p, target, &h, sizeof h, NULL), 0);
    assert_int_equal(weft_process_pass(p, &h), 0);
    assert_int_equal(weft_process_start(p), 0);
    return p;
}

static int joined_code(weft_process_t *p)
{
    assert_int_equal(weft_process_join(p, 20 * testing_scale()), 0);
    int code = -1;
    weft_process_exitcode(p, &code);
    weft_process_free(p);
    return code;
}

static weft_proc_queue_t *child_view(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = NULL;
    weft_proc_queue_from_share(&q, weft_arg_share(arg, 0));
    return q;
}

/* ----- One process ----- */

static void items_come_out_in_order(void **state)
{
    weft_proc_queue_t *q = queue(0);
    assert_true(weft_proc_queue_empty(q));
    put_text(q, "a");
    put_text(q, "");
    put_text(q, "ccc");
    assert_int_equal(weft_proc_queue_qsize(q), 3);
    assert_false(weft_proc_queue_full(q));
    get_text(q, "a");
    get_text(q, "");
    get_text(q, "ccc");
    assert_true(weft_proc_queue_empty(q));
    weft_proc_queue_free(q);
}

static void an_empty_queue_times_out(void **state)
{
    weft_proc_queue_t *q = queue(0);
    weft_bytes_t b;
    assert_fails_with(weft_proc_queue_get_nowait(q, &b), WEFT_EEMPTY, "empty");
    double t0 = weft_monotonic();
    assert_fails_with(weft_proc_queue_get(q, &b, 0.2), WEFT_EEMPTY, "empty");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_proc_queue_get(q, &b, -3), WEFT_EINVAL, "timeout");
    weft_cancel_scope_t scope;
    weft_cancel_scope_init(&scope);
    weft_cancel_scope_enter(&scope, 0.05, 0);
    assert_fails_with(weft_proc_queue_get(q, &b, WEFT_FOREVER), WEFT_ECANCELLED,
                      "cancelled");
    weft_cancel_scope_exit(&scope);
    weft_proc_queue_free(q);
}

static void a_bounded_queue_refuses_past_maxsize(void **state)
{
    weft_proc_queue_t *q = queue(2);
    put_text(q, "1");
    put_text(q, "2");
    assert_true(weft_proc_queue_full(q));
    assert_fails_with(weft_proc_queue_put_nowait(q, "3", 1), WEFT_EFULL,
                      "full");
    double t0 = weft_monotonic();
    assert_fails_with(weft_proc_queue_put(q, "3", 1, 0.2), WEFT_EFULL, "full");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    get_text(q, "1");
    assert_int_equal(weft_proc_queue_put_nowait(q, "3", 1), 0);
    get_text(q, "2");
    get_text(q, "3");
    weft_proc_queue_free(q);
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static void the_ring_wraps_and_grows_without_losing_a_byte(void **state)
{
    weft_proc_queue_t *q = queue(0);
    unsigned char *buf = malloc(1 << 20), *want = malloc(1 << 20);
    /* Walk the ring round a few times with odd sizes, then, wrapped, put
     * an item larger than the whole ring. */
    size_t sizes[] = {1000, 30000, 17, 40000, 5, 60000, 1 << 20, 3};
    size_t n = sizeof sizes / sizeof sizes[0];
    for (int round = 0; round < 3; round++)
        for (size_t k = 0; k < n; k++) {
            fill(buf, sizes[k], (unsigned)(k + round));
            assert_int_equal(weft_proc_queue_put(q, buf, sizes[k], 0), 0);
            if (k % 2 == 1) { /* take one, keep one: the ring wraps */
                weft_bytes_t b;
                assert_int_equal(weft_proc_queue_get_nowait(q, &b), 0);
                weft_bytes_free(&b);
            }
        }
    weft_bytes_t b;
    size_t left = weft_proc_queue_qsize(q);
    assert_true(left > 0);
    while (weft_proc_queue_get_nowait(q, &b) == 0) {
        assert_true(b.len <= (1 << 20));
        weft_bytes_free(&b);
        left--;
    }
    assert_int_equal(left, 0);
    /* Exact contents, across growth. */
    fill(want, 1 << 20, 9);
    put_text(q, "before");
    assert_int_equal(weft_proc_queue_put(q, want, 1 << 20, 0), 0);
    get_text(q, "before");
    assert_int_equal(weft_proc_queue_get_nowait(q, &b), 0);
    assert_int_equal(b.len, 1 << 20);
    assert_memory_equal(b.data, want, 1 << 20);
    weft_bytes_free(&b);
    free(buf);
    free(want);
    weft_proc_queue_free(q);
}

static void a_simple_queue_is_unbounded(void **state)
{
    weft_proc_queue_t *q;
    assert_int_equal(weft_proc_simple_queue_new(&q), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(weft_proc_queue_put_nowait(q, &i, sizeof i), 0);
    assert_false(weft_proc_queue_full(q));
    assert_int_equal(weft_proc_queue_qsize(q), 1000);
    assert_fails_with(weft_proc_queue_task_done(q), WEFT_ENOTSUP,
                      "JoinableQueue");
    weft_proc_queue_free(q);
}

static void shares_are_checked(void **state)
{
    weft_proc_queue_t *q;
    weft_share_t h = {0};
    assert_fails_with(weft_proc_queue_from_share(&q, &h), WEFT_EINVAL,
                      "not a process queue");
    h.kind = WEFT_SHARE_PROC_QUEUE;
    h.nfds = 1;
    h.fds[0] = memfd_create("not-a-queue", MFD_CLOEXEC);
    assert_int_equal(ftruncate(h.fds[0], 1 << 20), 0);
    assert_fails_with(weft_proc_queue_from_share(&q, &h), WEFT_EINVAL,
                      "no process queue");
    close(h.fds[0]);
}

/* ----- Processes ----- */

#define PRODUCERS 3
#define CONSUMERS 3
#define PER_PRODUCER 2000

struct item {
    int producer;
    int seq;
};

struct summary {
    long count;
    long sum;
};

static int produce(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    int producer = 0;
    memcpy(&producer, (const unsigned char *)arg->data + sizeof(weft_share_t),
           sizeof producer);
    for (int i = 0; i < PER_PRODUCER; i++) {
        struct item it = {producer, i};
        if (weft_proc_queue_put(q, &it, sizeof it, WEFT_FOREVER) != 0)
            return 1;
    }
    weft_proc_queue_free(q);
    return 0;
}

/* Take items until an empty one; report how many and their sum. */
static int consume(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    weft_proc_queue_t *results = NULL;
    weft_proc_queue_from_share(&results, weft_arg_share(arg, 1));
    struct summary s = {0, 0};
    for (;;) {
        weft_bytes_t b;
        if (weft_proc_queue_get(q, &b, WEFT_FOREVER) != 0)
            return 1;
        if (b.len == 0)
            break;
        struct item it;
        memcpy(&it, b.data, sizeof it);
        s.count++;
        s.sum += it.producer * PER_PRODUCER + it.seq;
        weft_bytes_free(&b);
    }
    weft_proc_queue_put(results, &s, sizeof s, WEFT_FOREVER);
    return 0;
}

/* Start target with arg, passing the shares and (if not -1) fd. */
static weft_process_t *start_args(const char *method, weft_process_fn target,
                                  const void *arg, size_t len,
                                  const weft_share_t *pass, int npass, int fd)
{
    weft_context_t *ctx;
    weft_get_context(&ctx, method);
    weft_process_t *p;
    assert_int_equal(weft_context_process_new(ctx, &p, target, arg, len, NULL),
                     0);
    for (int i = 0; i < npass; i++)
        assert_int_equal(weft_process_pass(p, &pass[i]), 0);
    if (fd >= 0)
        assert_int_equal(weft_process_pass_fd(p, fd), 0);
    assert_int_equal(weft_process_start(p), 0);
    return p;
}

static void many_producers_and_consumers_lose_and_double_nothing(void **state)
{
    weft_proc_queue_t *q = queue(64), *results = queue(0);
    weft_share_t hs[2];
    weft_proc_queue_share(q, &hs[0]);
    weft_proc_queue_share(results, &hs[1]);
    weft_process_t *cons[CONSUMERS], *prod[PRODUCERS];
    for (int i = 0; i < CONSUMERS; i++)
        cons[i] =
            start_args(i ? "fork" : "spawn", consume, hs, sizeof hs, hs, 2, -1);
    for (int i = 0; i < PRODUCERS; i++) {
        unsigned char arg[sizeof(weft_share_t) + sizeof i];
        memcpy(arg, &hs[0], sizeof hs[0]);
        memcpy(arg + sizeof hs[0], &i, sizeof i);
        prod[i] = start_args(i ? "forkserver" : "fork", produce, arg,
                             sizeof arg, hs, 1, -1);
    }
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(joined_code(prod[i]), 0);
    for (int i = 0; i < CONSUMERS; i++)
        assert_int_equal(weft_proc_queue_put(q, "", 0, WEFT_FOREVER), 0);
    struct summary total = {0, 0};
    for (int i = 0; i < CONSUMERS; i++) {
        weft_bytes_t b;
        assert_int_equal(weft_proc_queue_get(results, &b, 20), 0);
        struct summary s;
        memcpy(&s, b.data, sizeof s);
        total.count += s.count;
        total.sum += s.sum;
        weft_bytes_free(&b);
        assert_int_equal(joined_code(cons[i]), 0);
    }
    long n = (long)PRODUCERS * PER_PRODUCER;
    assert_int_equal(total.count, n);
    assert_int_equal(total.sum, n * (n - 1) / 2);
    weft_proc_queue_free(q);
    weft_proc_queue_free(results);
}

/* Put 8 MiB, far more than any pipe holds, then exit. */
static int put_a_lot(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    static unsigned char chunk[16384];
    for (int i = 0; i < 512; i++)
        if (weft_proc_queue_put(q, chunk, sizeof chunk, WEFT_FOREVER) != 0)
            return 1;
    return 0;
}

static void a_producer_exits_and_joins_whatever_is_unread(void **state)
{
    weft_proc_queue_t *q = queue(0);
    weft_process_t *p = start_with("forkserver", put_a_lot, q);
    /* Python's Queue deadlocks here (its feeder thread still flushes). */
    assert_int_equal(joined_code(p), 0);
    assert_int_equal(weft_proc_queue_qsize(q), 512);
    weft_bytes_t b;
    for (int i = 0; i < 512; i++) {
        assert_int_equal(weft_proc_queue_get_nowait(q, &b), 0);
        assert_int_equal(b.len, 16384);
        weft_bytes_free(&b);
    }
    weft_proc_queue_free(q);
}

/* The hook: say so on the descriptor after the share in the argument, then
 * wait to be killed, the queue's lock held and the item copied out. */
static int stall_fd = -1;

static void stall(const unsigned char *data, size_t len)
{
    char c = 'x';
    if (write(stall_fd, &c, 1) != 1)
        _exit(9);
    for (;;)
        pause();
}

static int get_and_stall(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    memcpy(&stall_fd, (const unsigned char *)arg->data + sizeof(weft_share_t),
           sizeof stall_fd);
    weft__proc_queue_get_hook = stall;
    weft_bytes_t b;
    weft_proc_queue_get(q, &b, WEFT_FOREVER);
    return 1; /* never reached */
}

static void a_consumer_killed_mid_get_loses_no_item(void **state)
{
    for (int m = 0; m < 2; m++) {
        weft_proc_queue_t *q = queue(0);
        int fds[2];
        testing_pipe(fds);
        weft_share_t h;
        weft_proc_queue_share(q, &h);
        unsigned char arg[sizeof h + sizeof fds[1]];
        memcpy(arg, &h, sizeof h);
        memcpy(arg + sizeof h, &fds[1], sizeof fds[1]);
        /* Both items go in before the child starts: once it stalls, it
         * holds the queue's lock until it is killed, so a put after that
         * would wait for the kill that comes after it. */
        put_text(q, "precious");
        put_text(q, "second");
        weft_process_t *p = start_args(m ? "spawn" : "fork", get_and_stall, arg,
                                       sizeof arg, &h, 1, fds[1]);
        close(fds[1]); /* so that a child that fails reads as end of file */
        char c;
        assert_int_equal(read(fds[0], &c, 1), 1);
        /* The child holds the queue's lock, "precious" copied out. */
        weft_process_kill(p);
        assert_int_equal(joined_code(p), -SIGKILL);
        get_text(q, "precious");
        get_text(q, "second");
        assert_true(weft_proc_queue_empty(q));
        put_text(q, "still works");
        get_text(q, "still works");
        close(fds[0]);
        weft_proc_queue_free(q);
    }
}

/* A waker marks a sleeper woken under the queue's lock and makes its
 * wake-up call after releasing it. One killed in between must not leave
 * the sleeper asleep until its timeout: the sleeper finds the wake-up it
 * was owed on its own, within a slice of its sleep (50 ms), and takes the
 * item. (Before it did, it slept out the whole timeout, or for ever.) */
static void die_before_the_wake(void)
{
    raise(SIGKILL);
}

static int put_and_die_before_the_wake(const weft_bytes_t *arg)
{
    weft__proc_queue_wake_hook = die_before_the_wake;
    weft_proc_queue_put(child_view(arg), "owed", 4, WEFT_FOREVER);
    return 1; /* not reached while a getter sleeps */
}

struct owed_get {
    weft_proc_queue_t *q;
    double timeout, took;
    int rc;
    weft_bytes_t got;
};

static void get_timed(void *arg)
{
    struct owed_get *g = arg;
    double start = weft_monotonic();
    g->rc = weft_proc_queue_get(g->q, &g->got, g->timeout);
    g->took = weft_monotonic() - start;
}

static void a_sleeper_whose_waker_dies_before_the_wake_wakes(void **state)
{
    for (int m = 0; m < 2; m++) {
        struct owed_get g = {queue(0), 20 * testing_scale(), 0, -1, {0}};
        testing_thread_t *t = testing_thread_start(get_timed, &g);
        weft_sleep(0.1); /* let it go to sleep (were it late, it would
                          * only find the item at once) */
        weft_process_t *p =
            start_with(m ? "spawn" : "fork", put_and_die_before_the_wake, g.q);
        assert_int_equal(joined_code(p), -SIGKILL);
        testing_thread_join(t);
        assert_int_equal(g.rc, 0);
        assert_int_equal(g.got.len, 4);
        assert_memory_equal(g.got.data, "owed", 4);
        weft_bytes_free(&g.got);
        if (g.took > g.timeout / 2)
            fail_msg("the getter slept %.1f s of its %.1f s", g.took,
                     g.timeout);
        weft_proc_queue_free(g.q);
    }
}

/* A getter that comes to a queue whose lock a dead consumer holds takes the
 * lock over at once, rather than after the shared lock's periodic check on
 * its holder (50 ms): consumers that die often must not stall the rest.
 * The fastest of a few tries must beat that check, which a loaded machine
 * may delay but cannot make faster. In the slow (sanitized) builds the
 * bound stretches with the timing scale, and only the take-over itself is
 * checked there. */
static void a_getter_takes_over_from_a_dead_holder_at_once(void **state)
{
    enum { TRIES = 5 };
    double fastest = 1e9;
    for (int i = 0; i < TRIES; i++) {
        weft_proc_queue_t *q = queue(0);
        int fds[2];
        testing_pipe(fds);
        weft_share_t h;
        weft_proc_queue_share(q, &h);
        unsigned char arg[sizeof h + sizeof fds[1]];
        memcpy(arg, &h, sizeof h);
        memcpy(arg + sizeof h, &fds[1], sizeof fds[1]);
        put_text(q, "precious");
        weft_process_t *p =
            start_args("fork", get_and_stall, arg, sizeof arg, &h, 1, fds[1]);
        close(fds[1]);
        char c;
        assert_int_equal(read(fds[0], &c, 1), 1);
        weft_process_kill(p);
        assert_int_equal(joined_code(p), -SIGKILL);
        double t0 = weft_monotonic();
        get_text(q, "precious");
        double took = weft_monotonic() - t0;
        fastest = took < fastest ? took : fastest;
        assert_true(weft_proc_queue_empty(q));
        close(fds[0]);
        weft_proc_queue_free(q);
    }
    if (fastest >= 0.045 * testing_scale())
        fail_msg("the fastest take-over of %d took %.0f ms", TRIES,
                 fastest * 1e3);
}

static int get_one(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    weft_bytes_t b;
    if (weft_proc_queue_get(q, &b, WEFT_FOREVER) != 0)
        return 1;
    int ok = b.len == 5 && memcmp(b.data, "hello", 5) == 0;
    weft_bytes_free(&b);
    return ok ? 0 : 2;
}

static void a_waiting_consumer_in_another_process_is_woken(void **state)
{
    weft_proc_queue_t *q = queue(0);
    weft_process_t *p = start_with("fork", get_one, q);
    assert_int_equal(weft_process_join(p, 0.1), WEFT_ETIMEDOUT);
    put_text(q, "hello");
    assert_int_equal(joined_code(p), 0);
    /* A waiting consumer killed takes nothing with it either. */
    p = start_with("fork", get_one, q);
    assert_int_equal(weft_process_join(p, 0.1), WEFT_ETIMEDOUT);
    weft_process_kill(p);
    assert_int_equal(joined_code(p), -SIGKILL);
    put_text(q, "kept");
    get_text(q, "kept");
    weft_proc_queue_free(q);
}

static int put_three(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    for (int i = 0; i < 3; i++)
        if (weft_proc_queue_put(q, "x", 1, WEFT_FOREVER) != 0)
            return 1;
    return 0;
}

static void a_blocked_producer_is_woken_by_a_get(void **state)
{
    weft_proc_queue_t *q = queue(1);
    weft_process_t *p = start_with("fork", put_three, q);
    for (int i = 0; i < 3; i++)
        get_text(q, "x");
    assert_int_equal(joined_code(p), 0);
    weft_proc_queue_free(q);
}

static int do_tasks(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    for (int i = 0; i < 3; i++) {
        weft_bytes_t b;
        if (weft_proc_queue_get(q, &b, WEFT_FOREVER) != 0)
            return 1;
        weft_bytes_free(&b);
        if (weft_proc_queue_task_done(q) != 0)
            return 2;
    }
    return 0;
}

static void join_waits_for_every_task_done(void **state)
{
    weft_proc_queue_t *q;
    assert_int_equal(weft_joinable_queue_new(&q, 0), 0);
    assert_int_equal(weft_proc_queue_join(q, 0), 0);
    for (int i = 0; i < 3; i++)
        put_text(q, "task");
    assert_fails_with(weft_proc_queue_join(q, 0.1), WEFT_ETIMEDOUT,
                      "unfinished");
    weft_process_t *p = start_with("forkserver", do_tasks, q);
    assert_int_equal(weft_proc_queue_join(q, 20 * testing_scale()), 0);
    assert_int_equal(joined_code(p), 0);
    assert_fails_with(weft_proc_queue_task_done(q), WEFT_EINVAL,
                      "too many times");
    weft_proc_queue_free(q);
    q = queue(0);
    assert_fails_with(weft_proc_queue_join(q, 0), WEFT_ENOTSUP,
                      "JoinableQueue");
    weft_proc_queue_free(q);
}

static int get_big(const weft_bytes_t *arg)
{
    weft_proc_queue_t *q = child_view(arg);
    weft_bytes_t b;
    /* Mapped at the first size; the item needs a grown ring. */
    if (weft_proc_queue_get(q, &b, WEFT_FOREVER) != 0)
        return 1;
    int ok = b.len == (4 << 20);
    for (size_t i = 0; ok && i < b.len; i++)
        ok = b.data[i] == (unsigned char)i;
    weft_bytes_free(&b);
    return ok ? 0 : 2;
}

static void a_ring_grown_by_one_process_is_seen_by_another(void **state)
{
    weft_proc_queue_t *q = queue(0);
    weft_process_t *p = start_with("fork", get_big, q);
    unsigned char *big = malloc(4 << 20);
    for (size_t i = 0; i < (4u << 20); i++)
        big[i] = (unsigned char)i;
    assert_int_equal(weft_proc_queue_put(q, big, 4 << 20, 0), 0);
    assert_int_equal(joined_code(p), 0);
    free(big);
    weft_proc_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(items_come_out_in_order),
        cmocka_unit_test(an_empty_queue_times_out),
        cmocka_unit_test(a_bounded_queue_refuses_past_maxsize),
        cmocka_unit_test(the_ring_wraps_and_grows_without_losing_a_byte),
        cmocka_unit_test(a_simple_queue_is_unbounded),
        cmocka_unit_test(shares_are_checked),
        testing_proc_test(many_producers_and_consumers_lose_and_double_nothing),
        testing_proc_test(a_producer_exits_and_joins_whatever_is_unread),
        testing_proc_test(a_consumer_killed_mid_get_loses_no_item),
        testing_proc_test(a_getter_takes_over_from_a_dead_holder_at_once),
        testing_proc_test(a_sleeper_whose_waker_dies_before_the_wake_wakes),
        testing_proc_test(a_waiting_consumer_in_another_process_is_woken),
        testing_proc_test(a_blocked_producer_is_woken_by_a_get),
        testing_proc_test(join_waits_for_every_task_done),
        testing_proc_test(a_ring_grown_by_one_process_is_seen_by_another),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
