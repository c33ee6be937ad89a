# SPDX-License-Identifier: MIT
"""submit_wait_empty, fib_forkjoin and map_throughput for Python's
ThreadPoolExecutor (2 workers), in the benchmarks' line format. Python is
slow, so it runs fewer tasks and reports per task. Its fork-join deadlocks
once every worker waits on a child: shown, bounded by a timeout."""
import concurrent.futures as cf
import os
import statistics
import time

REPS = 5


def report(name, impl, n, ns):
    print(f"bench={name} impl={impl} n={n} median_ns_per_op={ns:.2f}", flush=True)


def empty():
    pass


def submit_wait(n):
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        t0 = time.perf_counter_ns()
        fs = [ex.submit(empty) for _ in range(n)]
        for f in fs:
            f.result()
        return (time.perf_counter_ns() - t0) / n


def fib_serial(n):
    return n if n < 2 else fib_serial(n - 1) + fib_serial(n - 2)


def fib_deadlocks(timeout):
    ex = cf.ThreadPoolExecutor(max_workers=2)

    def fib(n):
        if n <= 14:
            return fib_serial(n)
        child = ex.submit(fib, n - 1)
        return fib(n - 2) + child.result()

    top = ex.submit(fib, 20)
    try:
        top.result(timeout=timeout)
        return False
    except cf.TimeoutError:
        return True
    finally:
        ex.shutdown(wait=False, cancel_futures=True)


def square(x):
    return x * x


def map_items(n):
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        t0 = time.perf_counter_ns()
        sum(ex.map(square, range(n)))
        return (time.perf_counter_ns() - t0) / n


n = 50_000
report("submit_wait_empty", "python", n, statistics.median(submit_wait(n) for _ in range(REPS)))
report("map_throughput", "python", n, statistics.median(map_items(n) for _ in range(REPS)))
if fib_deadlocks(2.0):
    print("note: fib_forkjoin impl=python deadlocked: ThreadPoolExecutor(2) gave no result "
          "within 2 s (every worker waits on a child that no worker is free to run)", flush=True)
# The deadlocked workers can never be joined: leave without waiting.
os._exit(0)
