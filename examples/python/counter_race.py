# SPDX-License-Identifier: MIT
"""Seed 002's counter race, with threads and with processes, without and
with a lock, sized as weft-demo's (demo/race.c):

    python3 counter_race.py WORKERS THREAD_INCREMENTS PROCESS_INCREMENTS

Prints one tab-separated "result" line per run.
"""
import multiprocessing as mp
import sys
import threading
import time

counter = 0
lock = threading.Lock()


# Seed 002: "Unsafe: Race condition"
def unsafe_increment(n):
    global counter
    for _ in range(n):
        temp = counter
        counter = temp + 1  # Not atomic!


def safe_increment(n):
    global counter
    for _ in range(n):
        with lock:  # Only one thread can execute this block at a time
            counter += 1


def with_threads(target, workers, n):
    global counter
    counter = 0
    threads = [threading.Thread(target=target, args=(n,))
               for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counter


# Seed 002's increment_counter on a shared Value: counter.value += 1.
def unsafe_value(value, n):
    for _ in range(n):
        value.value += 1  # a read, then a write: not atomic


def safe_value(value, n):
    for _ in range(n):
        with value.get_lock():
            value.value += 1


def with_processes(target, workers, n):
    value = mp.Value('l', 0)
    procs = [mp.Process(target=target, args=(value, n))
             for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return value.value


def report(with_, locked, workers, n, got, seconds):
    print(f"result\twith={with_}\tlocked={locked}\tworkers={workers}\t"
          f"increments={n}\texpected={workers * n}\tgot={got}\t"
          f"seconds={seconds:.6f}", flush=True)


def main():
    workers, nt, np_ = (int(a) for a in sys.argv[1:4])
    for locked, target in ((0, unsafe_increment), (1, safe_increment)):
        t0 = time.perf_counter()
        got = with_threads(target, workers, nt)
        report("threads", locked, workers, nt, got, time.perf_counter() - t0)
    for locked, target in ((0, unsafe_value), (1, safe_value)):
        t0 = time.perf_counter()
        got = with_processes(target, workers, np_)
        report("processes", locked, workers, np_, got,
               time.perf_counter() - t0)


if __name__ == '__main__':
    main()
