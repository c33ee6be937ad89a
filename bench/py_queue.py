# SPDX-License-Identifier: MIT
"""queue_mpmc for Python's queue.Queue: 2 putter and 2 getter threads pass
n items through a Queue(maxsize=1024), per item, in the benchmarks' line
format (impl=python). Fewer items than the C programs: it is slower."""
import queue
import statistics
import threading
import time

REPS = 5
PUTTERS = GETTERS = 2


def report(name, n, ns):
    print(f"bench={name} impl=python n={n} median_ns_per_op={ns:.2f}", flush=True)


def mpmc(n):
    q = queue.Queue(maxsize=1024)
    per_thread = n // PUTTERS
    start = threading.Barrier(PUTTERS + GETTERS + 1)
    sums = [0] * GETTERS

    def put(index):
        base = index * per_thread
        start.wait()
        for i in range(per_thread):
            q.put(base + i + 1)

    def get(index):
        total = 0
        start.wait()
        for _ in range(per_thread):
            total += q.get()
        sums[index] = total

    threads = [threading.Thread(target=put, args=(i,)) for i in range(PUTTERS)]
    threads += [threading.Thread(target=get, args=(i,)) for i in range(GETTERS)]
    for t in threads:
        t.start()
    # The clock starts before the release: this thread may get to run again
    # only after the others have done much of the work.
    t0 = time.perf_counter_ns()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter_ns() - t0
    total = per_thread * PUTTERS
    assert sum(sums) == total * (total + 1) // 2, "an item was lost or doubled"
    return elapsed / n


n = 200_000
report("queue_mpmc", n, statistics.median(mpmc(n) for _ in range(REPS)))
