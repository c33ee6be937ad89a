/* SPDX-License-Identifier: MIT */
/* ipc torture: a process Queue whose consumers are SIGKILLed over and
 * over, mid-get (often holding the queue's lock, the item copied out and
 * not yet taken), while waiting for an item, or anywhere else, faster than
 * every 50 ms, while this process puts 50,000 items per torture second
 * (10^6 in a 20 s run; fewer where three torture seconds do not suffice
 * for them) through a queue of bounded size.
 *
 * Every item must be delivered exactly once or still be queued at the end.
 * A consumer records, in memory shared with this process, the item it is
 * about to take (from the get hook, under the queue's lock, before the
 * item leaves the queue) and, once get has returned, that it got it. An
 * item is then accounted for by a count of 1 between the gets recorded and
 * the final drain of the queue, or, for a count of 0, by a killed consumer
 * whose record says it was taking it (it died between the taking and the
 * recording: the queue promises that the item left the queue then, once).
 * A count of 2 is an item delivered twice; 0 with no such record, an item
 * lost. Throughput must not collapse while consumers die: the run has to
 * finish, and a getter that meets a dead holder takes the lock over at
 * once (ipc/test_queue.c times that alone). */
#include "testing_proc.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc/ipc_int.h"

#define CONSUMERS 3
#define MAX_SPAWNS 20000
#define MAXSIZE 256

/* Shared with the consumers (a memfd each maps). */
struct board {
    _Atomic int64_t taking[MAX_SPAWNS]; /* the item a consumer is taking */
    _Atomic uint32_t spawned;
    _Atomic uint8_t got[]; /* per item: gets recorded */
};

struct consumer_arg {
    weft_share_t queue;
    int board_fd;
    uint32_t slot;
    size_t items;
    uint64_t seed;
};

static struct board *board_of(int fd, size_t items)
{
    void *p = mmap(NULL, sizeof(struct board) + items, PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* In a consumer: where it records, and how it lingers. */
static struct board *my_board;
static uint32_t my_slot;
static testing_rng_t my_rng;

static void taking(const unsigned char *data, size_t len)
{
    int64_t item = -1;
    if (len == sizeof item)
        memcpy(&item, data, sizeof item);
    atomic_store(&my_board->taking[my_slot], item);
    /* Now and then, hold the queue's lock a while: a kill lands here. */
    if (testing_rng_below(&my_rng, 16) == 0)
        weft_sleep((double)testing_rng_below(&my_rng, 500) * 1e-6);
}

static int consume(const weft_bytes_t *arg)
{
    struct consumer_arg a;
    memcpy(&a, arg->data, sizeof a);
    weft_proc_queue_t *q;
    if (weft_proc_queue_from_share(&q, &a.queue) != 0)
        return 2;
    my_board = board_of(a.board_fd, a.items);
    if (my_board == NULL)
        return 3;
    my_slot = a.slot;
    testing_rng_init(&my_rng, a.seed);
    weft__proc_queue_get_hook = taking;
    for (;;) {
        weft_bytes_t b;
        double timeout = (double)testing_rng_below(&my_rng, 20) * 1e-3;
        int rc = weft_proc_queue_get(q, &b, timeout);
        if (rc == WEFT_EEMPTY)
            continue;
        if (rc != 0)
            return 4;
        int64_t item;
        memcpy(&item, b.data, sizeof item);
        weft_bytes_free(&b);
        atomic_fetch_add(&my_board->got[item], 1);
        atomic_store(&my_board->taking[my_slot], -1);
    }
}

struct run {
    weft_proc_queue_t *q;
    int board_fd;
    struct board *board;
    size_t items;
    weft_process_t *live[CONSUMERS];
    _Atomic int stop;
    unsigned kills;
    testing_rng_t rng;
};

static weft_process_t *spawn_consumer(struct run *r)
{
    uint32_t slot = atomic_fetch_add(&r->board->spawned, 1);
    if (slot >= MAX_SPAWNS)
        return NULL;
    atomic_store(&r->board->taking[slot], -1);
    struct consumer_arg a;
    memset(&a, 0, sizeof a);
    assert_int_equal(weft_proc_queue_share(r->q, &a.queue), 0);
    a.board_fd = r->board_fd;
    a.slot = slot;
    a.items = r->items;
    a.seed = 1000 + slot;
    weft_context_t *ctx;
    weft_get_context(&ctx, "forkserver");
    weft_process_t *p;
    assert_int_equal(
        weft_context_process_new(ctx, &p, consume, &a, sizeof a, NULL), 0);
    assert_int_equal(weft_process_pass(p, &a.queue), 0);
    assert_int_equal(weft_process_pass_fd(p, r->board_fd), 0);
    assert_int_equal(weft_process_start(p), 0);
    return p;
}

static void reap(weft_process_t *p)
{
    assert_int_equal(weft_process_kill(p), 0);
    assert_int_equal(weft_process_join(p, 30 * testing_scale()), 0);
    int code = 0;
    weft_process_exitcode(p, &code);
    if (code != -SIGKILL)
        fail_msg("a consumer ended with %d, not by the kill", code);
    weft_process_free(p);
}

/* Kill a random consumer every 1 to 20 ms and start another. */
static void killer(void *arg)
{
    struct run *r = arg;
    while (!atomic_load(&r->stop)) {
        weft_sleep((double)(1 + testing_rng_below(&r->rng, 20)) * 1e-3);
        unsigned i = (unsigned)testing_rng_below(&r->rng, CONSUMERS);
        weft_process_t *fresh = spawn_consumer(r);
        if (fresh == NULL)
            break;
        reap(r->live[i]);
        r->live[i] = fresh;
        r->kills++;
    }
}

/* The end: what is still queued, and the accounting. */
static void account(struct run *r)
{
    uint8_t *queued = calloc(r->items, 1);
    weft_bytes_t b;
    while (weft_proc_queue_get_nowait(r->q, &b) == 0) {
        int64_t item;
        memcpy(&item, b.data, sizeof item);
        assert_true(item >= 0 && (size_t)item < r->items);
        queued[item]++;
        weft_bytes_free(&b);
    }
    uint32_t spawned = atomic_load(&r->board->spawned);
    uint8_t *dying = calloc(r->items, 1);
    for (uint32_t s = 0; s < spawned && s < MAX_SPAWNS; s++) {
        int64_t item = atomic_load(&r->board->taking[s]);
        if (item >= 0 && (size_t)item < r->items)
            dying[item] = 1;
    }
    size_t delivered = 0, still = 0, with_the_dead = 0;
    for (size_t i = 0; i < r->items; i++) {
        unsigned count = atomic_load(&r->board->got[i]) + queued[i];
        if (count > 1)
            fail_msg("item %zu was delivered %u times", i, count);
        if (count == 0 && !dying[i])
            fail_msg("item %zu was lost", i);
        delivered += atomic_load(&r->board->got[i]);
        still += queued[i];
        with_the_dead += count == 0;
    }
    fprintf(stderr,
            "torture_queue: %zu items, %u kills: %zu got, %zu still "
            "queued, %zu taken by consumers killed before they noted it\n",
            r->items, r->kills, delivered, still, with_the_dead);
    free(dying);
    free(queued);
}

static void consumers_killed_mid_get_lose_and_double_nothing(void **state)
{
    struct run r;
    memset(&r, 0, sizeof r);
    size_t cap = (size_t)(50000 * testing_torture_seconds());
    r.items = cap;
    testing_rng_init(&r.rng, 1);
    assert_int_equal(weft_proc_queue_new(&r.q, MAXSIZE), 0);
    r.board_fd = memfd_create("weft-torture-board", MFD_CLOEXEC);
    assert_true(r.board_fd >= 0);
    assert_int_equal(ftruncate(r.board_fd, (off_t)(sizeof *r.board + r.items)),
                     0);
    r.board = board_of(r.board_fd, r.items);
    assert_non_null(r.board);
    for (unsigned i = 0; i < CONSUMERS; i++)
        r.live[i] = spawn_consumer(&r);
    testing_thread_t *t = testing_thread_start(killer, &r);
    /* Up to cap items, or as many as three torture seconds allow: under
     * ThreadSanitizer with the chaos points on, a put and a get cost
     * hundreds of times what they cost in a plain build. */
    double end = weft_monotonic() + 3 * testing_torture_seconds();
    int64_t put = 0;
    for (; (size_t)put < cap && (put % 256 || weft_monotonic() < end); put++)
        assert_int_equal(
            weft_proc_queue_put(r.q, &put, sizeof put, WEFT_FOREVER), 0);
    atomic_store(&r.stop, 1);
    testing_thread_join(t);
    r.items = (size_t)put; /* the consumers' board stays cap long */
    for (unsigned i = 0; i < CONSUMERS; i++)
        reap(r.live[i]);
    account(&r);
    assert_true(r.kills > 0);
    /* Throughput did not collapse: consumers dying faster than every
     * 50 ms still leave the queue moving. */
    assert_true(r.items >= 1000);
    munmap(r.board, sizeof *r.board + cap);
    close(r.board_fd);
    weft_proc_queue_free(r.q);
}

int main(void)
{
    testing_seed();
    const struct CMUnitTest tests[] = {
        testing_proc_test(consumers_killed_mid_get_lose_and_double_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
