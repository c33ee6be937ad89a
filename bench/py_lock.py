# SPDX-License-Identifier: MIT
"""lock_uncontended and lock_contended for Python's threading.Lock, printed
in the benchmarks' line format (impl=python)."""
import statistics
import threading
import time

REPS = 5


def report(name, n, ns):
    print(f"bench={name} impl=python n={n} median_ns_per_op={ns:.2f}", flush=True)


def uncontended(n):
    lock = threading.Lock()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return (time.perf_counter_ns() - t0) / n


def contended(n):
    lock = threading.Lock()
    box = [0]
    start = threading.Barrier(3)

    def work():
        start.wait()
        for _ in range(n // 2):
            with lock:
                box[0] += 1

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    t0 = time.perf_counter_ns()
    start.wait()
    for t in threads:
        t.join()
    return (time.perf_counter_ns() - t0) / n


n = 1_000_000
report("lock_uncontended", n, statistics.median(uncontended(n) for _ in range(REPS)))
stop = threading.Event()
idle = threading.Thread(target=stop.wait)
idle.start()
report("lock_uncontended_mt", n, statistics.median(uncontended(n) for _ in range(REPS)))
stop.set()
idle.join()
report("lock_contended", n, statistics.median(contended(n) for _ in range(REPS)))
