# SPDX-License-Identifier: MIT
"""RxPY's side of bench_rx (Debian's python3-rx, RxPY 3), in the
benchmarks' line format (impl=rxpy): the same workloads as the C program,
with smaller counts since RxPY is slow; each line says the count it ran.

  rx_map_filter     range(n) through map(x * 3 + 1), filter(even) and
                    reduce(sum).
  rx_merge_threads  4 sources subscribed on a ThreadPoolScheduler(4),
                    merged and observed on an EventLoopScheduler (RxPY's
                    event loop thread), which sums the values.
"""
# bench-python: /usr/bin/python3
import os
import statistics
import threading
import time

import rx
from rx import operators as ops
from rx.scheduler import EventLoopScheduler, ThreadPoolScheduler

REPS = int(os.environ.get("BENCH_REPS", "3"))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
PRODUCERS = 4


def report(name, n, ns):
    print(f"bench={name} impl=rxpy n={n} median_ns_per_op={ns:.2f}", flush=True)


def scaled(n):
    return max(PRODUCERS, int(n * SCALE))


def map_filter(n):
    want = sum(x for x in (i * 3 + 1 for i in range(n)) if x % 2 == 0)
    got = []
    t0 = time.perf_counter_ns()
    rx.range(0, n).pipe(
        ops.map(lambda x: x * 3 + 1),
        ops.filter(lambda x: x % 2 == 0),
        ops.reduce(lambda acc, x: acc + x, 0),
    ).subscribe(on_next=got.append)
    dt = time.perf_counter_ns() - t0
    assert got == [want], "rx_map_filter: wrong sum"
    return dt / n


def merge_threads(n):
    per = n // PRODUCERS
    pool = ThreadPoolScheduler(PRODUCERS)
    loop = EventLoopScheduler()
    done = threading.Event()
    total = [0]

    def add(x):
        total[0] += x

    t0 = time.perf_counter_ns()
    sources = [
        rx.range(i * per + 1, (i + 1) * per + 1).pipe(ops.subscribe_on(pool))
        for i in range(PRODUCERS)
    ]
    rx.merge(*sources).pipe(ops.observe_on(loop)).subscribe(
        on_next=add, on_completed=done.set
    )
    done.wait()
    dt = time.perf_counter_ns() - t0
    loop.dispose()
    pool.executor.shutdown()
    all_ = per * PRODUCERS
    assert total[0] == all_ * (all_ + 1) // 2, "rx_merge_threads: wrong sum"
    return dt / n


n = scaled(300_000)
report("rx_map_filter", n, statistics.median(map_filter(n) for _ in range(REPS)))
m = scaled(200_000)
report("rx_merge_threads", m, statistics.median(merge_threads(m) for _ in range(REPS)))
