# SPDX-License-Identifier: MIT
# asyncio.gather over tasks that sleep (the Python that
# examples/asyncio_gather.c mirrors; the seeds name asyncio without an
# example of it).
import asyncio

async def sleeper(name, delay):
    print(f"{name}: sleeping {delay} s")
    await asyncio.sleep(delay)
    print(f"{name}: awake")
    return delay

async def main():
    results = await asyncio.gather(sleeper("A", .3), sleeper("B", .1),
                                   sleeper("C", .2))
    print(results)

asyncio.run(main())
