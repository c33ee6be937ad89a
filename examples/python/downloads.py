# SPDX-License-Identifier: MIT
"""The seeds' downloads (seed 003's downloadImage, seed 000's get_url_resp,
seed 002's download) against weft-demo's local server, which answers each
request after a delay: one form, N requests, the way weft-demo does it
(demo/io.c).

    python3 downloads.py URL FORM N WORKERS

FORM is serial, threads (one thread per download, as seed 003),
thread_pool (a ThreadPoolExecutor of WORKERS threads) or coroutines
(asyncio tasks, gathered). Prints one tab-separated "result" line: the
seconds for all, how many came back whole, the most requests in flight at
once, and the resident memory before and at the peak (KiB), from which
weft-demo takes the memory per request in flight.
"""
import asyncio
import concurrent.futures as cf
import os
import resource
import sys
import threading
import time
import urllib.parse
import urllib.request

IMAGE_SIZE = 2048
TIMEOUT = 30

lock = threading.Lock()
in_flight = peak = ok = failed = 0
first_error = ""


def enter():
    global in_flight, peak
    with lock:
        in_flight += 1
        peak = max(peak, in_flight)


def leave(good, error=None):
    global in_flight, ok, failed, first_error
    with lock:
        in_flight -= 1
        if good:
            ok += 1
        else:
            failed += 1
            first_error = first_error or str(error)


# downloadImage(imagePath, fileName), without the file.
def download(url):
    enter()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            leave(len(resp.read()) == IMAGE_SIZE)
    except Exception as e:
        leave(False, e)


def serial(urls):
    for url in urls:
        download(url)


def threads(urls):
    ts = []
    for url in urls:
        try:
            t = threading.Thread(target=download, args=(url,))
            t.start()
        except RuntimeError as e:  # can't start new thread
            leave_unstarted(len(urls) - len(ts), e)
            break
        ts.append(t)
    for t in ts:
        t.join()


def leave_unstarted(n, error):
    global failed, first_error
    with lock:
        failed += n
        first_error = first_error or f"ran out of threads: {error}"


def thread_pool(urls, workers):
    with cf.ThreadPoolExecutor(max_workers=workers) as ex:
        list(ex.map(download, urls))


async def fetch(host, port, path):
    enter()
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        leave(head.startswith(b"HTTP/1.1 200") and len(body) == IMAGE_SIZE)
    except Exception as e:
        leave(False, e)


async def gather_all(urls):
    tasks = []
    for url in urls:
        u = urllib.parse.urlsplit(url)
        tasks.append(asyncio.create_task(fetch(u.hostname, u.port, u.path)))
    await asyncio.gather(*tasks)


def coroutines(urls):
    asyncio.run(gather_all(urls))


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE") / 1024


def main():
    url, form, n, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(
        sys.argv[4])
    urls = [f"{url}image-{i}.jpg" for i in range(n)]
    base = rss_kib()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    if form == "serial":
        serial(urls)
    elif form == "threads":
        threads(urls)
    elif form == "thread_pool":
        thread_pool(urls, workers)
    else:
        coroutines(urls)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    note = f"\tnote={first_error}" if first_error else ""
    print(f"result\tform={form}\trequests={n}\tseconds={seconds:.6f}\t"
          f"cpu_seconds={cpu:.6f}\tok={ok}\tfailed={failed}\t"
          f"in_flight={peak}\tbase_kib={base:.0f}\t"
          f"peak_kib={peak_kib}{note}".replace("\n", " "), flush=True)


if __name__ == '__main__':
    main()
