# SPDX-License-Identifier: MIT
"""pipe_roundtrip, pipe_stream, pipe_stream_1mib and process_queue for
Python's multiprocessing.Pipe and multiprocessing.Queue, in the benchmarks'
line format (impl=python). Children are started with the fork method before
the clock starts, and wait at a starting line, as in bench_ipc.c."""
import multiprocessing as mp
import statistics
import time

REPS = 3
SMALL = b"x" * 64
MIB = b"x" * (1 << 20)
ctx = mp.get_context("fork")


def report(name, n, ns):
    print(f"bench={name} impl=python n={n} median_ns_per_op={ns:.2f}", flush=True)


def echo(conn, n):
    for _ in range(n):
        conn.send_bytes(conn.recv_bytes())


def roundtrip(n):
    a, b = ctx.Pipe()
    p = ctx.Process(target=echo, args=(b, n))
    p.start()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        a.send_bytes(SMALL)
        a.recv_bytes()
    dt = time.perf_counter_ns() - t0
    p.join()
    return dt / n


def drain(conn, n):
    for _ in range(n):
        conn.recv_bytes()


def stream(n, msg):
    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=drain, args=(r, n))
    p.start()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        w.send_bytes(msg)
    p.join()
    return (time.perf_counter_ns() - t0) / n


def producer(q, go, n):
    go.wait()
    for _ in range(n):
        q.put(SMALL)


def consumer(q, go, n):
    go.wait()
    for _ in range(n):
        q.get()


def process_queue(n):
    q = ctx.Queue()
    go = ctx.Event()
    procs = [ctx.Process(target=producer, args=(q, go, n // 2)) for _ in range(2)]
    procs += [ctx.Process(target=consumer, args=(q, go, n // 2)) for _ in range(2)]
    for p in procs:
        p.start()
    t0 = time.perf_counter_ns()
    go.set()
    for p in procs:
        p.join()
    return (time.perf_counter_ns() - t0) / n


def median(fn, *args):
    return statistics.median(fn(*args) for _ in range(REPS))


if __name__ == "__main__":
    report("pipe_roundtrip", 20000, median(roundtrip, 20000))
    report("pipe_stream", 200000, median(stream, 200000, SMALL))
    report("pipe_stream_1mib", 300, median(stream, 300, MIB))
    report("process_queue", 200000, median(process_queue, 200000))
