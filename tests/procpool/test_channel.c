/* SPDX-License-Identifier: MIT */
/* procpool: tasks that attack their worker's channel to the pool (close its
 * descriptors, write into its socket) fail alone, run at most once, and
 * neither wedge the pool nor make its timeouts and teardown wait for
 * ever. */
#include "testing_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a hostile task gets: what to do, and a file that counts its runs
 * (one byte appended per run). */
struct order {
    int what;
    double linger; /* seconds to run on after the attack */
    char counter[64];
};

enum {
    CLOSE_LOW,      /* close descriptors 3 to 255 */
    CLOSE_ALL,      /* close every descriptor from 3 up */
    LYING_HEADER,   /* a frame header claiming 4 GiB */
    TRUNCATED,      /* a frame header claiming 64 bytes, and nothing */
    GARBAGE_TO_POOL /* 100 bytes of noise */
};

static weft_executor_t *pool_of(unsigned workers)
{
    weft_process_pool_opts_t o = {0};
    o.max_workers = workers;
    weft_executor_t *ex = NULL;
    assert_int_equal(weft_process_pool_new(&ex, &o), 0);
    return ex;
}

static void count_run(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = write(fd, "x", 1);
        (void)n;
        close(fd);
    }
}

/* Write len bytes at p into every socket this process holds: a task
 * finds its worker's channel the way any code could. */
static void write_to_sockets(const void *p, size_t len)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || fd == dfd || fstat(fd, &st) != 0 ||
            !S_ISSOCK(st.st_mode))
            continue;
        ssize_t n = write(fd, p, len);
        (void)n;
    }
    closedir(d);
}

static void attack(int what)
{
    /* A frame header as the pool reads it: size, type, padding. */
    struct {
        uint32_t size;
        uint16_t type, pad;
    } head = {UINT32_MAX, 4, 0};
    unsigned char noise[100];
    switch (what) {
    case CLOSE_LOW:
        for (int fd = 3; fd < 256; fd++)
            close(fd);
        break;
    case CLOSE_ALL:
        close_range(3, ~0u, 0);
        break;
    case LYING_HEADER:
        write_to_sockets(&head, sizeof head);
        break;
    case TRUNCATED:
        head.size = 64;
        write_to_sockets(&head, sizeof head);
        break;
    case GARBAGE_TO_POOL:
        for (size_t i = 0; i < sizeof noise; i++)
            noise[i] = (unsigned char)(i * 37 + 11);
        write_to_sockets(noise, sizeof noise);
        break;
    }
}

/* Not static, so that the pool's messages can name it. */
int hostile(const weft_bytes_t *arg, weft_bytes_t *result);
int hostile(const weft_bytes_t *arg, weft_bytes_t *result)
{
    struct order o;
    memcpy(&o, arg->data, sizeof o);
    count_run(o.counter);
    attack(o.what);
    if (o.linger > 0)
        weft_sleep(o.linger);
    long answer = 42;
    return weft_bytes_copy(result, &answer, sizeof answer);
}

static int square(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    memcpy(&x, arg->data, sizeof x);
    x *= x;
    return weft_bytes_copy(result, &x, sizeof x);
}

static int my_pid(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long pid = getpid();
    return weft_bytes_copy(result, &pid, sizeof pid);
}

static long call_long(weft_executor_t *ex, weft_bytes_fn fn, long x)
{
    weft_future_t *f = NULL;
    assert_int_equal(weft_executor_submit_bytes(ex, fn, &x, sizeof x, &f), 0);
    const weft_bytes_t *r;
    int rc = weft_future_result_bytes(f, 10 * testing_scale(), &r);
    if (rc)
        fprintf(stderr, "result: %s\n", weft_last_message());
    assert_int_equal(rc, 0);
    long v;
    assert_int_equal(r->len, sizeof v);
    memcpy(&v, r->data, sizeof v);
    weft_future_free(f);
    return v;
}

static void assert_squares(weft_executor_t *ex, long n)
{
    for (long i = 0; i < n; i++)
        assert_int_equal(call_long(ex, square, i), i * i);
}

static struct order order_of(int what, double linger)
{
    struct order o;
    memset(&o, 0, sizeof o);
    o.what = what;
    o.linger = linger;
    snprintf(o.counter, sizeof o.counter, "/tmp/weft-channel-%ld-%d",
             (long)getpid(), what);
    int fd = open(o.counter, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    return o;
}

/* How many times the task of o ran (and forget its counter). */
static long runs_of(const struct order *o)
{
    struct stat st;
    assert_int_equal(stat(o->counter, &st), 0);
    unlink(o->counter);
    return (long)st.st_size;
}

static weft_future_t *submit_order(weft_executor_t *ex, const struct order *o,
                                   double timeout)
{
    weft_future_t *f = NULL;
    assert_int_equal(weft_process_pool_submit_timeout(ex, hostile, o, sizeof *o,
                                                      timeout, &f),
                     0);
    return f;
}

/* The outcome of f, waited for with a bound, so that a wedged pool fails
 * the test instead of hanging it. */
static int outcome(weft_future_t *f, long *answer)
{
    const weft_bytes_t *r = NULL;
    if (weft_future_wait(f, 10 * testing_scale()) != 0)
        fail_msg("the task's future never completed");
    int rc = weft_future_result_bytes(f, 0, &r);
    if (rc == 0 && answer) {
        assert_int_equal(r->len, sizeof *answer);
        memcpy(answer, r->data, sizeof *answer);
    }
    return rc;
}

/* ----- Closing descriptors ----- */

static void a_task_closing_low_descriptors_keeps_its_channel(void **state)
{
    weft_executor_t *ex = pool_of(1);
    long pid = call_long(ex, my_pid, 0);
    struct order o = order_of(CLOSE_LOW, 0);
    weft_future_t *f = submit_order(ex, &o, WEFT_FOREVER);
    long answer = 0;
    int rc = outcome(f, &answer);
    if (rc)
        fprintf(stderr, "hostile: %s\n", weft_last_message());
    assert_int_equal(rc, 0);
    assert_int_equal(answer, 42);
    assert_int_equal(runs_of(&o), 1);
    /* The worker's channel was out of reach: the same worker goes on. */
    assert_int_equal(call_long(ex, my_pid, 0), pid);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void a_task_closing_every_descriptor_runs_once(void **state)
{
    weft_executor_t *ex = pool_of(1);
    long pid = call_long(ex, my_pid, 0);
    struct order o = order_of(CLOSE_ALL, 0);
    weft_future_t *f = submit_order(ex, &o, WEFT_FOREVER);
    long answer = 0;
    /* Its result was staged before the worker found its channel gone: it
     * comes back, and the worker, which cannot go on, is replaced. */
    int rc = outcome(f, &answer);
    if (rc)
        fprintf(stderr, "hostile: %s\n", weft_last_message());
    assert_int_equal(rc, 0);
    assert_int_equal(answer, 42);
    assert_int_equal(runs_of(&o), 1);
    assert_int_not_equal(call_long(ex, my_pid, 0), pid);
    assert_squares(ex, 10);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void tasks_behind_a_closer_run_once_each(void **state)
{
    weft_executor_t *ex = pool_of(1);
    assert_squares(ex, 50); /* short tasks: the pool sends several ahead */
    struct order o = order_of(CLOSE_ALL, 0);
    weft_future_t *before[20], *after[20];
    long x;
    for (x = 0; x < 20; x++)
        assert_int_equal(
            weft_executor_submit_bytes(ex, square, &x, sizeof x, &before[x]),
            0);
    weft_future_t *f = submit_order(ex, &o, WEFT_FOREVER);
    for (x = 0; x < 20; x++)
        assert_int_equal(
            weft_executor_submit_bytes(ex, square, &x, sizeof x, &after[x]), 0);
    assert_int_equal(outcome(f, NULL), 0);
    for (x = 0; x < 20; x++) {
        long v = 0;
        assert_int_equal(outcome(before[x], &v), 0);
        assert_int_equal(v, x * x);
        assert_int_equal(outcome(after[x], &v), 0);
        assert_int_equal(v, x * x);
        weft_future_free(before[x]);
        weft_future_free(after[x]);
    }
    assert_int_equal(runs_of(&o), 1);
    weft_future_free(f);
    weft_executor_free(ex);
}

/* ----- Writing into the channel ----- */

static void a_lying_frame_header_fails_its_task_alone(void **state)
{
    weft_executor_t *ex = pool_of(1);
    long pid = call_long(ex, my_pid, 0);
    /* The task lingers after writing, so the pool sees the bad frame
     * while it runs: the one outcome is its failure. */
    struct order o = order_of(LYING_HEADER, 30);
    weft_future_t *f = submit_order(ex, &o, WEFT_FOREVER);
    assert_fails_with(outcome(f, NULL), WEFT_EPROTO, "malformed");
    assert_true(testing_message_has("while running task"));
    assert_true(testing_message_has("(hostile)"));
    assert_int_equal(runs_of(&o), 1);
    assert_int_not_equal(call_long(ex, my_pid, 0), pid);
    assert_squares(ex, 10);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void garbage_from_a_task_fails_its_task_alone(void **state)
{
    weft_executor_t *ex = pool_of(1);
    struct order o = order_of(GARBAGE_TO_POOL, 30);
    weft_future_t *f = submit_order(ex, &o, WEFT_FOREVER);
    assert_fails_with(outcome(f, NULL), WEFT_EPROTO, "malformed");
    assert_int_equal(runs_of(&o), 1);
    assert_squares(ex, 10);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void a_truncated_frame_does_not_wedge_the_pool(void **state)
{
    weft_executor_t *ex = pool_of(1);
    /* The task returns at once: its result goes out behind a header that
     * promises more than ever comes. The worker, idle with nothing left
     * to send, cannot be waited for: it is killed, and the task whose
     * result was lost fails. */
    struct order o = order_of(TRUNCATED, 0);
    weft_future_t *f = submit_order(ex, &o, WEFT_FOREVER);
    assert_fails_with(outcome(f, NULL), WEFT_EPROTO, "lost");
    assert_true(testing_message_has("(hostile)"));
    assert_int_equal(runs_of(&o), 1);
    assert_squares(ex, 10);
    weft_future_free(f);
    weft_executor_free(ex);
}

static void
a_truncated_frame_does_not_hold_a_timeout_past_its_deadline(void **state)
{
    weft_executor_t *ex = pool_of(1);
    /* The task returns at once, so the worker runs nothing when its
     * deadline comes: the deadline must still hold. */
    struct order o = order_of(TRUNCATED, 0);
    double t0 = weft_monotonic();
    weft_future_t *f = submit_order(ex, &o, 0.3);
    int rc = outcome(f, NULL);
    assert_true(rc == WEFT_EPROTO || rc == WEFT_ETIMEDOUT);
    assert_elapsed_between(weft_monotonic() - t0, 0, 5.0);
    assert_int_equal(runs_of(&o), 1);
    assert_squares(ex, 10);
    weft_future_free(f);
    weft_executor_free(ex);
}

/* Free on a helper thread, so that the test can bound how long it takes. */
struct freeing {
    weft_executor_t *ex;
    weft_event_t done;
};

static void free_pool(void *arg)
{
    struct freeing *fr = arg;
    weft_executor_free(fr->ex);
    weft_event_set(&fr->done);
}

static void free_returns_whatever_a_worker_sent(void **state)
{
    struct freeing fr;
    fr.ex = pool_of(2);
    weft_event_init(&fr.done);
    struct order lying = order_of(LYING_HEADER, 0);
    struct order cut = order_of(TRUNCATED, 0);
    weft_future_t *a = submit_order(fr.ex, &lying, WEFT_FOREVER);
    weft_future_t *b = submit_order(fr.ex, &cut, WEFT_FOREVER);
    testing_thread_t *t = testing_thread_start(free_pool, &fr);
    int rc = weft_event_wait(&fr.done, 20 * testing_scale());
    if (rc)
        fail_msg("weft_executor_free did not return");
    testing_thread_join(t);
    /* Both futures completed, whatever their outcome. */
    assert_true(weft_future_done(a));
    assert_true(weft_future_done(b));
    assert_int_equal(runs_of(&lying), 1);
    assert_int_equal(runs_of(&cut), 1);
    weft_future_free(a);
    weft_future_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(a_task_closing_low_descriptors_keeps_its_channel),
        testing_proc_test(a_task_closing_every_descriptor_runs_once),
        testing_proc_test(tasks_behind_a_closer_run_once_each),
        testing_proc_test(a_lying_frame_header_fails_its_task_alone),
        testing_proc_test(garbage_from_a_task_fails_its_task_alone),
        testing_proc_test(a_truncated_frame_does_not_wedge_the_pool),
        testing_proc_test(
            a_truncated_frame_does_not_hold_a_timeout_past_its_deadline),
        testing_proc_test(free_returns_whatever_a_worker_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
