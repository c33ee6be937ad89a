/* SPDX-License-Identifier: MIT */
/* executor: byte maps in chunks. chunksize items go to a worker together,
 * as one task, on threads and on worker processes alike, and each item
 * keeps its own result or error at its own position.
 *
 * The tasks are counted by an executor that wraps the real one (the
 * interface for executor implementers), so the test sees exactly what the
 * map submits. */
#include "testing.h"

#include "executor/executor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ----- An executor that counts the tasks it passes on ----- */

struct counting {
    weft_executor_t *inner;
    _Atomic int tasks;
};

static int counting_submit(void *impl, weft_fn fn, void *arg,
                           weft_future_t **out)
{
    struct counting *c = impl;
    atomic_fetch_add(&c->tasks, 1);
    return weft_executor_submit(c->inner, fn, arg, out);
}

static int counting_submit_bytes(void *impl, weft_bytes_fn fn,
                                 weft_bytes_t *arg, weft_future_t **out)
{
    struct counting *c = impl;
    atomic_fetch_add(&c->tasks, 1);
    return weft_executor_submit_bytes(c->inner, fn, arg->data, arg->len, out);
}

static int counting_shutdown(void *impl, int wait, int cancel_futures,
                             int64_t deadline)
{
    struct counting *c = impl;
    return weft_executor_shutdown(c->inner, wait, cancel_futures,
                                  weft_deadline_remaining(deadline));
}

static void counting_destroy(void *impl)
{
    struct counting *c = impl;
    weft_executor_free(c->inner);
    free(c);
}

static unsigned counting_max_workers(const void *impl)
{
    const struct counting *c = impl;
    return weft_executor_max_workers(c->inner);
}

/* Over an executor that shares this process's memory (it takes pointer
 * tasks), and over one that does not (only byte tasks). */
static const weft_executor_class_t counting_in_process = {
    "counting",        counting_submit,  counting_submit_bytes,
    counting_shutdown, counting_destroy, counting_max_workers};
static const weft_executor_class_t counting_elsewhere = {
    "counting",        NULL,             counting_submit_bytes,
    counting_shutdown, counting_destroy, counting_max_workers};

static weft_executor_t *counting(weft_executor_t *inner,
                                 const weft_executor_class_t *cls,
                                 struct counting **out)
{
    struct counting *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->inner = inner;
    weft_executor_t *ex;
    assert_int_equal(weft_executor_new(&ex, cls, c), 0);
    *out = c;
    return ex;
}

static weft_executor_t *threads(void)
{
    weft_executor_t *ex;
    weft_thread_pool_opts_t o = {3, NULL, NULL, NULL};
    assert_int_equal(weft_thread_pool_new(&ex, &o), 0);
    return ex;
}

static weft_executor_t *processes(void)
{
    weft_executor_t *ex;
    weft_process_pool_opts_t o = {0};
    o.max_workers = 2;
    assert_int_equal(weft_process_pool_new(&ex, &o), 0);
    return ex;
}

/* ----- Items ----- */

/* What an item gives back: its square, and the process that ran it. */
struct answer {
    long square;
    long pid;
};

/* Fails with a message on x % 7 == 3, without one on x % 13 == 5. */
static int square_item(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    if (arg->len != sizeof x)
        return weft_fail(WEFT_EUSER + 9, "an item arrived wrong");
    memcpy(&x, arg->data, sizeof x);
    if (x % 7 == 3)
        return weft_fail(WEFT_EUSER + 1, "item %ld failed", x);
    if (x % 13 == 5)
        return WEFT_EUSER + 2;
    /* An altered chunk (a_malformed_chunk_is_refused) may deliver any x:
     * square it without overflow. */
    struct answer a = {(long)((unsigned long)x * (unsigned long)x),
                       (long)getpid()};
    return weft_bytes_copy(result, &a, sizeof a);
}

struct input {
    long *xs;
    weft_bytes_t *args;
    size_t n;
};

static struct input numbers(size_t n)
{
    struct input in = {malloc((n ? n : 1) * sizeof(long)),
                       malloc((n ? n : 1) * sizeof(weft_bytes_t)), n};
    for (size_t i = 0; i < n; i++) {
        in.xs[i] = (long)i;
        in.args[i] = (weft_bytes_t){(unsigned char *)&in.xs[i], sizeof(long)};
    }
    return in;
}

static void input_free(struct input *in)
{
    free(in->xs);
    free(in->args);
}

/* Run the map and check every item: its result or its own error, each
 * once (in order unless unordered). *elsewhere: some item ran in another
 * process. */
static void check_map(weft_executor_t *ex, const struct input *in,
                      size_t chunksize, int unordered, int *elsewhere)
{
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = chunksize;
    o.unordered = unordered;
    weft_map_t *m;
    assert_int_equal(
        weft_executor_map_bytes(&m, ex, square_item, in->args, in->n, &o), 0);
    char *seen = calloc(in->n ? in->n : 1, 1);
    size_t count = 0, index;
    const weft_bytes_t *r;
    int rc;
    while ((rc = weft_map_next_bytes(m, &r, &index)) != WEFT_EEOF) {
        assert_true(index < in->n && !seen[index]);
        seen[index] = 1;
        if (!unordered)
            assert_int_equal(index, count);
        long x = (long)index;
        if (x % 7 == 3) {
            assert_int_equal(rc, WEFT_EUSER + 1);
            char want[64];
            snprintf(want, sizeof want, "item %ld failed", x);
            assert_string_equal(weft_last_message(), want);
        } else if (x % 13 == 5) {
            assert_int_equal(rc, WEFT_EUSER + 2);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(r->len, sizeof(struct answer));
            struct answer a;
            memcpy(&a, r->data, sizeof a);
            assert_int_equal(a.square, x * x);
            *elsewhere |= a.pid != (long)getpid();
        }
        count++;
    }
    assert_int_equal(count, in->n);
    weft_map_free(m);
    free(seen);
}

/* For chunk sizes that divide n and that do not, in order and as
 * completed: one task per chunk, every item right. */
static void check_chunks(weft_executor_t *ex, struct counting *c,
                         int *elsewhere)
{
    struct input in = numbers(1003);
    const size_t sizes[] = {100, 1000, 7, 1};
    for (int k = 0; k < 4; k++) {
        for (int unordered = 0; unordered < 2; unordered++) {
            atomic_store(&c->tasks, 0);
            check_map(ex, &in, sizes[k], unordered, elsewhere);
            size_t want = (in.n + sizes[k] - 1) / sizes[k];
            assert_int_equal(atomic_load(&c->tasks), want);
        }
    }
    input_free(&in);
}

static void a_byte_chunk_is_one_task_on_threads(void **state)
{
    struct counting *c;
    weft_executor_t *ex = counting(threads(), &counting_in_process, &c);
    int elsewhere = 0;
    check_chunks(ex, c, &elsewhere);
    assert_false(elsewhere);
    weft_executor_free(ex);
}

/* The same threads, through an executor that says its workers share no
 * memory: the item function then goes by its place in its image. */
static void a_byte_chunk_names_its_function_by_image(void **state)
{
    struct counting *c;
    weft_executor_t *ex = counting(threads(), &counting_elsewhere, &c);
    int elsewhere = 0;
    check_chunks(ex, c, &elsewhere);
    weft_executor_free(ex);
}

static void a_byte_chunk_is_one_task_on_processes(void **state)
{
    struct counting *c;
    weft_executor_t *ex = counting(processes(), &counting_elsewhere, &c);
    int elsewhere = 0;
    check_chunks(ex, c, &elsewhere);
    assert_true(elsewhere); /* the items ran in the worker processes */
    weft_executor_free(ex);
}

/* Items of every length, empty ones too, each seen aligned for any type
 * (the chunk's own layout, wherever its bytes land). */
static int reverse_item(const weft_bytes_t *arg, weft_bytes_t *result)
{
    if (arg->len && (uintptr_t)arg->data % 16 != 0)
        return weft_fail(WEFT_EUSER, "misaligned");
    int rc = weft_bytes_copy(result, arg->data, arg->len);
    for (size_t i = 0; rc == 0 && i < arg->len; i++)
        result->data[i] = arg->data[arg->len - 1 - i];
    return rc;
}

static void items_of_any_length_come_back_whole(void **state)
{
    struct counting *c;
    weft_executor_t *ex = counting(processes(), &counting_elsewhere, &c);
    enum { N = 50 };
    unsigned char text[N];
    weft_bytes_t args[N];
    for (size_t i = 0; i < N; i++) {
        text[i] = (unsigned char)('a' + i % 26);
        args[i] = (weft_bytes_t){text, i}; /* the first i letters */
    }
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = 16;
    weft_map_t *m;
    assert_int_equal(weft_executor_map_bytes(&m, ex, reverse_item, args, N, &o),
                     0);
    for (size_t i = 0; i < N; i++) {
        const weft_bytes_t *r;
        assert_int_equal(weft_map_next_bytes(m, &r, NULL), 0);
        assert_int_equal(r->len, i);
        for (size_t k = 0; k < i; k++)
            assert_int_equal(r->data[k], text[i - 1 - k]);
    }
    assert_int_equal(weft_map_next_bytes(m, NULL, NULL), WEFT_EEOF);
    assert_int_equal(atomic_load(&c->tasks), (N + 15) / 16);
    weft_map_free(m);
    /* No items: no task. */
    atomic_store(&c->tasks, 0);
    assert_int_equal(weft_executor_map_bytes(&m, ex, reverse_item, args, 0, &o),
                     0);
    assert_int_equal(weft_map_next_bytes(m, NULL, NULL), WEFT_EEOF);
    assert_int_equal(atomic_load(&c->tasks), 0);
    weft_map_free(m);
    weft_executor_free(ex);
}

/* A chunk's bytes come from another process: a truncated or altered one
 * is refused (WEFT_EPROTO, or the function is not found), never read out
 * of bounds. */
static void a_malformed_chunk_is_refused(void **state)
{
    struct input in = numbers(5);
    weft_bytes_t ref, packed, result;
    assert_int_equal(weft__chunk_fn_ref(square_item, 0, &ref), 0);
    assert_int_equal(weft__chunk_pack(&packed, &ref, in.args, in.n), 0);
    assert_int_equal(weft__chunk_run(&packed, &result), 0);
    assert_int_equal(weft__chunk_open(&result, in.n), 0);
    weft_bytes_t item;
    assert_int_equal(weft__chunk_item(&result, 2, &item), 0);
    assert_int_equal(((const struct answer *)item.data)->square, 4);
    assert_fails_with(weft__chunk_item(&result, 3, &item), WEFT_EUSER + 1,
                      "item 3 failed");
    /* Every truncation of the argument and of the result. */
    for (size_t len = 0; len < packed.len; len++) {
        weft_bytes_t cut = {packed.data, len}, r = {NULL, 0};
        int rc = weft__chunk_run(&cut, &r);
        if (rc == 0) { /* cut only the last item's padding */
            assert_int_equal(weft__chunk_open(&r, in.n), 0);
            weft_bytes_free(&r);
        }
    }
    for (size_t len = 0; len < result.len; len++) {
        weft_bytes_t cut = {result.data, len};
        int rc = weft__chunk_open(&cut, in.n);
        assert_true(rc == 0 || rc == WEFT_EPROTO);
    }
    assert_fails_with(weft__chunk_open(&result, in.n + 1), WEFT_EPROTO, NULL);
    /* Every byte of the argument's head and spans altered, but the
     * function's offset (bytes 16 to 23), which only a name can check. */
    for (size_t i = 0; i < 200 && i < packed.len; i++) {
        if (i >= 16 && i < 24)
            continue;
        packed.data[i] ^= 0x5a;
        weft_bytes_t r = {NULL, 0};
        int rc = weft__chunk_run(&packed, &r);
        assert_true(rc == 0 || rc == WEFT_EPROTO || rc == WEFT_EINVAL);
        weft_bytes_free(&r);
        packed.data[i] ^= 0x5a;
    }
    weft_bytes_free(&result);
    weft_bytes_free(&packed);
    weft_bytes_free(&ref);
    input_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_byte_chunk_is_one_task_on_threads),
        cmocka_unit_test(a_byte_chunk_names_its_function_by_image),
        cmocka_unit_test(a_byte_chunk_is_one_task_on_processes),
        cmocka_unit_test(items_of_any_length_come_back_whole),
        cmocka_unit_test(a_malformed_chunk_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
