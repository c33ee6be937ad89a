// submit_wait_empty and fib_forkjoin for oneTBB's task_group, in an arena
// of the same number of workers as bench_executor.c (2, or BENCH_WORKERS).
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <cstdlib>

#include "bench.h"

static const long FIB_N = 42, FIB_CUTOFF = 14;

static long fib_serial(long n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static long fib_tasks(long n)
{
    return n < FIB_CUTOFF ? 0 : 1 + fib_tasks(n - 1) + fib_tasks(n - 2);
}

static long tbb_fib(long n)
{
    if (n < FIB_CUTOFF)
        return fib_serial(n);
    long a = 0, b;
    oneapi::tbb::task_group g;
    g.run([&] { a = tbb_fib(n - 1); });
    b = tbb_fib(n - 2);
    g.wait();
    return a + b;
}

static oneapi::tbb::task_arena *arena;
static long answer;

static int64_t empty_tasks(void *, long n)
{
    int64_t t0 = bench_now_ns();
    arena->execute([&] {
        oneapi::tbb::task_group g;
        for (long i = 0; i < n; i++)
            g.run([] {});
        g.wait();
    });
    return bench_now_ns() - t0;
}

static int64_t fib(void *, long)
{
    long r = 0;
    int64_t t0 = bench_now_ns();
    arena->execute([&] { r = tbb_fib(FIB_N); });
    int64_t dt = bench_now_ns() - t0;
    if (r != answer)
        std::abort();
    return dt;
}

int main()
{
    const char *w = std::getenv("BENCH_WORKERS");
    int workers = w ? std::atoi(w) : 2;
    oneapi::tbb::global_control limit(
        oneapi::tbb::global_control::max_allowed_parallelism, workers);
    oneapi::tbb::task_arena a(workers);
    arena = &a;
    int reps = bench_reps();
    long n = bench_scaled(1000000);
    bench_report("submit_wait_empty", "tbb", n,
                 bench_median(empty_tasks, nullptr, n, reps));
    answer = fib_serial(FIB_N);
    long tasks = fib_tasks(FIB_N);
    bench_report("fib_forkjoin", "tbb", tasks,
                 bench_median(fib, nullptr, tasks, reps < 5 ? reps : 5));
    return 0;
}
