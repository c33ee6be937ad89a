# SPDX-License-Identifier: MIT
"""shared_counter for Python's multiprocessing.Value: 2 processes each
incrementing Value('i', 0) under get_lock(), in the benchmarks' line format
(impl=python). The processes wait on an Event, as bench_shm.c's do at their
starting line."""
import multiprocessing as mp
import statistics
import time

REPS = 3
ctx = mp.get_context("fork")


def add(counter, go, n):
    go.wait()
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def shared_counter(n):
    counter = ctx.Value("i", 0)
    go = ctx.Event()
    procs = [ctx.Process(target=add, args=(counter, go, n // 2)) for _ in range(2)]
    for p in procs:
        p.start()
    t0 = time.perf_counter_ns()
    go.set()
    for p in procs:
        p.join()
    dt = time.perf_counter_ns() - t0
    assert counter.value == n // 2 * 2
    return dt / n


if __name__ == "__main__":
    n = 400000
    report = statistics.median(shared_counter(n) for _ in range(REPS))
    print(f"bench=shared_counter impl=python n={n} median_ns_per_op={report:.2f}",
          flush=True)
