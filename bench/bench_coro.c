/* SPDX-License-Identifier: MIT */
/* coro_switch and coro_parked_bytes.
 *
 * coro_switch: two tasks on one loop take turns, each yielding with
 * weft_sleep(0) (asyncio.sleep(0)): ns per switch from one task to the
 * other, which is one context switch (a task hands over to the next one
 * in the ready ring) plus the ring and the cancellation check. The peer is glibc's swapcontext between
 * two contexts (the portable way; it makes a system call for the signal
 * mask). Python's asyncio.sleep(0) ping-pong is in py_asyncio.py.
 *
 * coro_parked_bytes: the resident memory of 100,000 tasks parked on one
 * Event, per task (the median_ns_per_op field holds bytes here), as the
 * process's RSS grows from before they start to when all are parked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench.h"
#include "weft.h"

static long rounds;

static int yielder(void *arg, void **result)
{
    for (long i = 0; i < rounds; i++)
        weft_sleep(0);
    return 0;
}

static int64_t weft_switch(void *arg, long n)
{
    weft_loop_t *loop = arg;
    rounds = n / 2;
    weft_future_t *a, *b;
    weft_task_create(&a, loop, yielder, NULL);
    weft_task_create(&b, loop, yielder, NULL);
    int64_t t0 = bench_now_ns();
    weft_loop_run_until_complete(loop, b, NULL);
    int64_t dt = bench_now_ns() - t0;
    weft_loop_run_until_complete(loop, a, NULL);
    weft_future_free(a);
    weft_future_free(b);
    return dt;
}

static ucontext_t uc_main, uc_a, uc_b;

static void uc_body(int which)
{
    ucontext_t *self = which ? &uc_b : &uc_a, *other = which ? &uc_a : &uc_b;
    for (long i = 0; i < rounds; i++)
        swapcontext(self, other);
    swapcontext(self, &uc_main);
}

static int64_t ucontext_switch(void *arg, long n)
{
    static char stack_a[65536], stack_b[65536];
    rounds = n / 2;
    getcontext(&uc_a);
    uc_a.uc_stack.ss_sp = stack_a;
    uc_a.uc_stack.ss_size = sizeof stack_a;
    makecontext(&uc_a, (void (*)(void))uc_body, 1, 0);
    getcontext(&uc_b);
    uc_b.uc_stack.ss_sp = stack_b;
    uc_b.uc_stack.ss_size = sizeof stack_b;
    makecontext(&uc_b, (void (*)(void))uc_body, 1, 1);
    int64_t t0 = bench_now_ns();
    swapcontext(&uc_main, &uc_a);
    return bench_now_ns() - t0;
}

/* ----- Parked tasks ----- */

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

static weft_event_t gate;
static long parked;

static int park_on_gate(void *arg, void **result)
{
    parked++;
    return weft_event_wait(&gate, WEFT_FOREVER);
}

static int measure_parked(void *arg, void **result)
{
    long n = *(long *)arg;
    weft_future_t **fs = malloc((size_t)n * sizeof *fs);
    long before = rss_bytes();
    for (long i = 0; i < n; i++)
        weft_task_create(&fs[i], NULL, park_on_gate, NULL);
    while (parked < n)
        weft_sleep(0.001);
    long after = rss_bytes();
    weft_event_set(&gate);
    weft_gather(fs, (size_t)n, 0, NULL, NULL);
    for (long i = 0; i < n; i++)
        weft_future_free(fs[i]);
    free(fs);
    bench_report("coro_parked_bytes", "weft", n,
                 (double)(after - before) / (double)n);
    return 0;
}

int main(void)
{
    int reps = bench_reps();
    long n = bench_scaled(4000000);
    weft_loop_t *loop;
    weft_loop_new(&loop);
    bench_report("coro_switch", "weft", n,
                 bench_median(weft_switch, loop, n, reps));
    weft_loop_free(loop);
    bench_report("coro_switch", "ucontext", n / 10,
                 bench_median(ucontext_switch, NULL, n / 10, reps));
    weft_event_init(&gate);
    long tasks = 100000;
    weft_run(measure_parked, &tasks, NULL);
    return 0;
}
