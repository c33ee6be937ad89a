# SPDX-License-Identifier: MIT
"""mpi_roundtrip for mpi4py.futures (Debian's python3-mpi4py): one tiny task
at a time, submit to result, with 2 worker ranks, in the benchmarks' line
format. Run plainly, it starts itself under mpirun with Debian's
interpreter (/usr/bin/python3, where python3-mpi4py installs), as
`mpirun -n 3 python3 -m mpi4py.futures py_mpi.py`."""
import os
import shutil
import statistics
import subprocess
import sys
import time

REPS = int(os.environ.get("BENCH_REPS", "5"))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
PYTHON = "/usr/bin/python3"


def report(name, impl, n, ns):
    print(f"bench={name} impl={impl} n={n} median_ns_per_op={ns:.2f}", flush=True)


def tiny(x):
    return x


def main():
    from mpi4py.futures import MPIPoolExecutor

    n = max(1, int(500 * SCALE))
    with MPIPoolExecutor() as ex:
        for i in range(50):
            ex.submit(tiny, i).result()

        def once():
            t0 = time.perf_counter_ns()
            for i in range(n):
                ex.submit(tiny, i).result()
            return (time.perf_counter_ns() - t0) / n

        report("mpi_roundtrip", "mpi4py", n,
               statistics.median(once() for _ in range(min(REPS, 5))))


if __name__ == "__main__":
    if "OMPI_COMM_WORLD_SIZE" in os.environ:
        main()
    else:
        mpirun = shutil.which("mpirun")
        probe = subprocess.run([PYTHON, "-c", "import mpi4py.futures"],
                               capture_output=True)
        if mpirun is None or probe.returncode != 0:
            print("py_mpi: no mpirun or no mpi4py (apt-get install "
                  "openmpi-bin python3-mpi4py)", file=sys.stderr)
            sys.exit(0)
        sys.exit(subprocess.call(
            [mpirun, "--allow-run-as-root", "--oversubscribe", "--mca", "btl",
             "self,vader", "-n", "3", PYTHON, "-m", "mpi4py.futures",
             os.path.abspath(__file__)]))
