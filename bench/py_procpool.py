# SPDX-License-Identifier: MIT
"""procpool_roundtrip, procpool_latency, procpool_1mib and primes_10k for
Python's ProcessPoolExecutor and multiprocessing.Pool (2 workers), in the
benchmarks' line format. Python is slow, so it runs fewer tasks and
reports per task."""
import concurrent.futures as cf
import multiprocessing as mp
import os
import random
import statistics
import time

REPS = int(os.environ.get("BENCH_REPS", "5"))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))


def report(name, impl, n, ns):
    print(f"bench={name} impl={impl} n={n} median_ns_per_op={ns:.2f}", flush=True)


def tiny(x):
    return x + 1


def median_per_op(fn, n):
    return statistics.median(fn(n) for _ in range(min(REPS, 3)))


def submit_all(n):
    with cf.ProcessPoolExecutor(max_workers=2) as ex:
        ex.submit(tiny, 0).result()  # started
        t0 = time.perf_counter_ns()
        fs = [ex.submit(tiny, i) for i in range(n)]
        for f in fs:
            f.result()
        return (time.perf_counter_ns() - t0) / n


def pool_map(n):
    with mp.Pool(2) as p:
        p.map(tiny, range(4))
        t0 = time.perf_counter_ns()
        p.map(tiny, range(n), chunksize=1)
        return (time.perf_counter_ns() - t0) / n


def echo(b):
    return b


def big(n):
    payload = bytes(1 << 20)
    with cf.ProcessPoolExecutor(max_workers=2) as ex:
        ex.submit(tiny, 0).result()
        t0 = time.perf_counter_ns()
        fs = [ex.submit(echo, payload) for _ in range(n)]
        for f in fs:
            assert len(f.result()) == len(payload)
        return (time.perf_counter_ns() - t0) / n


def latency(n):
    with cf.ProcessPoolExecutor(max_workers=2) as ex:
        ex.submit(tiny, 0).result()
        t0 = time.perf_counter_ns()
        for i in range(n):
            ex.submit(tiny, i).result()
        return (time.perf_counter_ns() - t0) / n


def calculate_prime_factors(n):
    primfac = []
    d = 2
    while d * d <= n:
        while n % d == 0:
            primfac.append(d)
            n //= d
        d += 1
    if n > 1:
        primfac.append(n)
    return primfac


def primes(executor):
    rng = random.Random(1)
    numbers = [rng.randint(20000, 100000000) for _ in range(10000)]
    t0 = time.perf_counter_ns()
    if executor is None:
        for x in numbers:
            calculate_prime_factors(x)
    else:
        with cf.ProcessPoolExecutor(max_workers=2) as ex:
            list(ex.map(calculate_prime_factors, numbers, chunksize=100))
    return (time.perf_counter_ns() - t0) / len(numbers)


if __name__ == "__main__":
    n = max(1000, int(20000 * SCALE))
    report("procpool_roundtrip", "python.submit", n, median_per_op(submit_all, n))
    report("procpool_roundtrip", "python.pool_map", n, median_per_op(pool_map, n))
    lat = max(200, int(2000 * SCALE))
    report("procpool_latency", "python.submit", lat, median_per_op(latency, lat))
    nbig = max(20, int(200 * SCALE))
    report("procpool_1mib", "python.submit", nbig, median_per_op(big, nbig))
    report("primes_10k", "python.serial", 10000, primes(None))
    report("primes_10k", "python.executor", 10000, primes(True))
