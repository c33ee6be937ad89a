/* SPDX-License-Identifier: MIT */
/* procpool: multiprocessing.Pool over the process pool: map, apply,
 * imap, maxtasksperchild, close, terminate and join. */
#include "testing_proc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int sleep_long(const weft_bytes_t *arg, weft_bytes_t *result)
{
    weft_sleep(30);
    return 0;
}

static long long_of(const weft_bytes_t *b)
{
    long v;
    assert_int_equal(b->len, sizeof v);
    memcpy(&v, b->data, sizeof v);
    return v;
}

static void pool_of_four_maps_square(void **state)
{
    weft_pool_t *p;
    assert_int_equal(weft_process_pool_pool_new(&p, 4, 0), 0);
    assert_string_equal(weft_executor_kind(weft_pool_executor(p)), "process");
    long xs[5] = {1, 2, 3, 4, 5};
    weft_bytes_t args[5], out[5];
    for (int i = 0; i < 5; i++)
        args[i] = (weft_bytes_t){(unsigned char *)&xs[i], sizeof xs[i]};
    assert_int_equal(weft_pool_map_bytes(p, square, args, 5, 0, out, NULL), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(long_of(&out[i]), xs[i] * xs[i]);
        weft_bytes_free(&out[i]);
    }
    /* Pointer calls cannot cross into a process. */
    void *r;
    assert_fails_with(weft_pool_apply(p, (weft_fn)(weft_any_fn)square, NULL,
                                      &r),
                      WEFT_ENOTSUP, NULL);
    assert_int_equal(weft_pool_close(p), 0);
    assert_int_equal(weft_pool_join(p, WEFT_FOREVER), 0);
    weft_pool_free(p);
}

static void maxtasksperchild_replaces_the_workers(void **state)
{
    weft_pool_t *p;
    assert_int_equal(weft_process_pool_pool_new(&p, 1, 1), 0);
    weft_bytes_t args[6] = {{NULL, 0}}, out[6];
    assert_int_equal(weft_pool_map_bytes(p, my_pid, args, 6, 0, out, NULL), 0);
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < i; j++)
            assert_int_not_equal(long_of(&out[i]), long_of(&out[j]));
    }
    for (int i = 0; i < 6; i++)
        weft_bytes_free(&out[i]);
    weft_pool_free(p);
}

static void terminate_stops_the_running_and_join_waits(void **state)
{
    weft_pool_t *p;
    assert_int_equal(weft_process_pool_pool_new(&p, 2, 0), 0);
    weft_async_result_t *a;
    weft_bytes_t args[4] = {{NULL, 0}};
    assert_int_equal(weft_pool_map_async_bytes(&a, p, sleep_long, args, 4, 1,
                                               NULL, NULL, NULL),
                     0);
    assert_int_equal(weft_async_result_wait(a, 0.1), WEFT_ETIMEDOUT);
    double t0 = weft_monotonic();
    assert_int_equal(weft_pool_terminate(p), 0);
    assert_int_equal(weft_pool_join(p, 10 * testing_scale()), 0);
    assert_elapsed_between(weft_monotonic() - t0, 0, 2.0);
    assert_fails_with(weft_async_result_get_bytes(a, 0, NULL),
                      WEFT_ECANCELLED, NULL);
    weft_async_result_free(a);
    weft_pool_free(p);
}

static void imap_unordered_over_processes(void **state)
{
    weft_pool_t *p;
    assert_int_equal(weft_process_pool_pool_new(&p, 2, 0), 0);
    enum { N = 300 };
    long xs[N];
    weft_bytes_t args[N];
    for (int i = 0; i < N; i++) {
        xs[i] = i;
        args[i] = (weft_bytes_t){(unsigned char *)&xs[i], sizeof xs[i]};
    }
    weft_map_t *m;
    assert_int_equal(
        weft_pool_imap_unordered_bytes(&m, p, square, args, N, 1), 0);
    const weft_bytes_t *r;
    size_t index, count = 0;
    long sum = 0;
    while (weft_map_next_bytes(m, &r, &index) == 0) {
        assert_int_equal(long_of(r), (long)(index * index));
        sum += long_of(r);
        count++;
    }
    assert_int_equal(count, N);
    assert_int_equal(sum, (long)(N - 1) * N * (2 * N - 1) / 6);
    weft_map_free(m);
    weft_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(pool_of_four_maps_square),
        testing_proc_test(maxtasksperchild_replaces_the_workers),
        testing_proc_test(terminate_stops_the_running_and_join_waits),
        testing_proc_test(imap_unordered_over_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
