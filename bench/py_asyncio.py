# SPDX-License-Identifier: MIT
"""asyncio's side of bench_loop, bench_coro and bench_tcp, printed in the
benchmarks' line format (impl=python, or python.protocol and
python.streams for the two ways asyncio does TCP). The same workloads as
the C programs; Python's counts are smaller where it is slow, and each
line says the count it ran."""
import asyncio
import os
import random
import statistics
import time

REPS = int(os.environ.get("BENCH_REPS", "5"))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
MSG = b"x" * 64


def report(name, impl, n, ns):
    print(f"bench={name} impl={impl} n={n} median_ns_per_op={ns:.2f}", flush=True)


def scaled(n):
    return max(1, int(n * SCALE))


def median(fn, n):
    return statistics.median(fn(n) for _ in range(REPS)) / n


# ----- loop_call_soon and loop_timers -----


def call_soon(n):
    loop = asyncio.new_event_loop()
    count = [0]

    def cb():
        count[0] += 1
        if count[0] == n:
            loop.stop()

    t0 = time.perf_counter_ns()
    for _ in range(n):
        loop.call_soon(cb)
    loop.run_forever()
    dt = time.perf_counter_ns() - t0
    loop.close()
    return dt


def timers(n, delays):
    loop = asyncio.new_event_loop()
    count = [0]

    def cb():
        count[0] += 1
        if count[0] == n:
            loop.stop()

    def start():
        for d in delays[:n]:
            loop.call_later(d, cb)

    t0 = time.perf_counter_ns()
    loop.call_soon(start)
    loop.run_forever()
    dt = time.perf_counter_ns() - t0
    loop.close()
    return dt


# ----- coro_switch and coro_parked_bytes -----


def switch(n):
    async def yielder(rounds):
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def main():
        t0 = time.perf_counter_ns()
        await asyncio.gather(yielder(n // 2), yielder(n // 2))
        return time.perf_counter_ns() - t0

    return asyncio.run(main())


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def parked_bytes(n):
    async def main():
        gate = asyncio.Event()
        before = rss()
        tasks = [asyncio.ensure_future(gate.wait()) for _ in range(n)]
        await asyncio.sleep(0.01)
        after = rss()
        gate.set()
        await asyncio.gather(*tasks)
        return (after - before) / n

    return asyncio.run(main())


# ----- tcp_echo -----


class EchoServer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


class PingClient(asyncio.Protocol):
    def __init__(self, rounds, done):
        self.rounds, self.done, self.got = rounds, done, 0

    def connection_made(self, transport):
        self.transport = transport
        transport.write(MSG)

    def data_received(self, data):
        self.got += len(data)
        if self.got < len(MSG):
            return
        self.got = 0
        self.rounds -= 1
        if self.rounds > 0:
            self.transport.write(MSG)
        else:
            self.transport.close()
            self.done.set_result(None)


def echo_protocol(n, conns):
    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoServer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        t0 = time.perf_counter_ns()
        dones = []
        for _ in range(conns):
            done = loop.create_future()
            await loop.create_connection(
                lambda d=done: PingClient(n // conns, d), "127.0.0.1", port)
            dones.append(done)
        await asyncio.gather(*dones)
        dt = time.perf_counter_ns() - t0
        server.close()
        return dt

    return asyncio.run(main())


def echo_streams(n, conns):
    async def handle(reader, writer):
        while data := await reader.read(64):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def ping(port, rounds):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(rounds):
            writer.write(MSG)
            await writer.drain()
            await reader.readexactly(len(MSG))
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        t0 = time.perf_counter_ns()
        await asyncio.gather(*(ping(port, n // conns) for _ in range(conns)))
        dt = time.perf_counter_ns() - t0
        server.close()
        return dt

    return asyncio.run(main())


def main():
    n = scaled(1_000_000)
    report("loop_call_soon", "python", n, median(call_soon, n))
    zero = [0.0] * n
    random.seed(1)
    spread = [random.randrange(10000) / 1e6 for _ in range(n)]
    report("loop_timers_zero", "python", n, median(lambda k: timers(k, zero), n))
    report("loop_timers_random", "python", n,
           median(lambda k: timers(k, spread), n))
    m = scaled(400_000)
    report("coro_switch", "python", m, median(switch, m))
    report("coro_parked_bytes", "python", 100_000, parked_bytes(100_000))
    e = scaled(50_000)
    report("tcp_echo", "python.protocol", e, median(lambda k: echo_protocol(k, 1), e))
    report("tcp_echo", "python.streams", e, median(lambda k: echo_streams(k, 1), e))
    report("tcp_echo_100", "python.protocol", e,
           median(lambda k: echo_protocol(k, 100), e))
    report("tcp_echo_100", "python.streams", e,
           median(lambda k: echo_streams(k, 100), e))


if __name__ == "__main__":
    main()
