# SPDX-License-Identifier: MIT
"""A process pool where one task crashes its worker and one hangs: what
weft-demo shows beside weft's process pool (demo/robust.c). Eight tasks on
ProcessPoolExecutor(max_workers=2): squares, but task 2 dies of SIGSEGV and
task 5 never returns. The crash breaks the pool: every task not finished
by then fails with BrokenProcessPool, and so does every task submitted
afterwards. (Python has no per-task timeout; the hang is ended by the
broken pool's clean-up, or by the time limit given here.)

    python3 broken_pool.py TIMEOUT

Prints one tab-separated "result" line per task, and one for the whole.
"""
import concurrent.futures as cf
import os
import signal
import sys
import time

TASKS, CRASH, HANG = 8, 2, 5


def square(x):
    return x * x


def crash(x):
    os.kill(os.getpid(), signal.SIGSEGV)


def hang(x):
    while True:
        time.sleep(3600)


def kind_of(i):
    return "crash" if i == CRASH else "hang" if i == HANG else "square"


def report(i, kind, ok, outcome):
    outcome = " ".join(str(outcome).split())
    print(f"result\ttask={i}\tkind={kind}\tok={int(ok)}\toutcome={outcome}",
          flush=True)


def outcome(f, i, timeout):
    try:
        r = f.result(timeout=timeout)
        return r == i * i, r
    except cf.TimeoutError:
        return False, f"TimeoutError: no result after {timeout} s"
    except Exception as e:
        return False, f"{type(e).__name__}: {e}"


def main():
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    fns = {CRASH: crash, HANG: hang}
    t0 = time.perf_counter()
    ex = cf.ProcessPoolExecutor(max_workers=2)
    futures = [ex.submit(fns.get(i, square), i) for i in range(TASKS)]
    for i, f in enumerate(futures):
        ok, what = outcome(f, i, timeout + 5)
        report(i, kind_of(i), ok, what)
    try:  # afterwards: is the pool still usable?
        ok, what = outcome(ex.submit(square, TASKS), TASKS, timeout + 5)
    except Exception as e:
        ok, what = False, f"{type(e).__name__}: {e}"
    report(TASKS, "after", ok, what)
    print(f"result\tseconds={time.perf_counter() - t0:.6f}", flush=True)
    # A hang would hold up shutdown (and exit) forever: end the workers.
    for p in list((ex._processes or {}).values()):
        p.kill()
    os._exit(0)


if __name__ == '__main__':
    main()
