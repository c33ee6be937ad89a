# SPDX-License-Identifier: MIT
"""Seed 003's number crunching: the prime factors of 10,000 random numbers
between 20,000 and 100,000,000, serially, on a ThreadPoolExecutor and on a
ProcessPoolExecutor, the way weft-demo does it (demo/cpu.c), on the same
numbers (the same generator), in batches of 250, and with the same checksum
of the factors.

    python3 primes.py --count 10000 --workers 2

Prints one tab-separated "result" line per form, for weft-demo to read.
"""
import argparse
import concurrent.futures as cf
import time

LOW, HIGH = 20000, 100000000
BATCH = 250
MASK = (1 << 64) - 1
FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211


# Seed 003's calculatePrimeFactors, as the seed has it.
def calculatePrimeFactors(n):
    primfac = []
    d = 2
    while d*d <= n:
        while (n % d) == 0:
            primfac.append(d)  # supposing you want multiple factors repeated
            n //= d
        d += 1
    if n > 1:
        primfac.append(n)
    return primfac


# random.randint(20000, 100000000) from a fixed seed: xorshift64, as weft's.
def make_numbers(count):
    x = 88172645463325252
    out = []
    for _ in range(count):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        out.append(LOW + x % (HIGH - LOW + 1))
    return out


# A batch of numbers in, their factor lists out.
def factor_batch(numbers):
    return [calculatePrimeFactors(n) for n in numbers]


# FNV-1a over each list, then its length: weft's fold().
def fold(h, factors):
    for f in factors:
        h = ((h ^ f) * FNV_PRIME) & MASK
    return h ^ len(factors)


def checksum(lists):
    h = FNV_OFFSET
    for factors in lists:
        h = fold(h, factors)
    return h


def serial(numbers):
    t0 = time.perf_counter()
    lists = [calculatePrimeFactors(n) for n in numbers]
    return time.perf_counter() - t0, checksum(lists)


def on_executor(ex, batches):
    t0 = time.perf_counter()
    lists = [f for batch in ex.map(factor_batch, batches) for f in batch]
    return time.perf_counter() - t0, checksum(lists)


def report(form, workers, count, seconds, h):
    print(f"result\tworkload=seeds\tform={form}\tworkers={workers}\t"
          f"numbers={count}\tseconds={seconds:.6f}\tchecksum={h:016x}",
          flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    numbers = make_numbers(a.count)
    batches = [numbers[i:i + BATCH] for i in range(0, len(numbers), BATCH)]

    seconds, h = serial(numbers)
    report("serial", 1, a.count, seconds, h)

    with cf.ThreadPoolExecutor(max_workers=a.workers) as ex:
        seconds, h = on_executor(ex, batches)
    report("thread_pool", a.workers, a.count, seconds, h)

    with cf.ProcessPoolExecutor(max_workers=a.workers) as ex:
        list(ex.map(abs, range(a.workers * 4)))  # the workers are up
        seconds, h = on_executor(ex, batches)
    report("process_pool", a.workers, a.count, seconds, h)


if __name__ == '__main__':
    main()
