/* SPDX-License-Identifier: MIT */
/* shared_counter: 2 processes x 1,000,000 increments of a shared Value
 * under its lock (Value('i', 0) and get_lock(), as the seeds' counter),
 * per increment; Python's multiprocessing.Value is in py_shm.py. The
 * processes wait at a starting line, so that starting them is not timed. */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "weft.h"

static int64_t weft_counter(void *arg, long n)
{
    weft_value_t *v;
    weft_value_new(&v, 'i', 1);
    weft_rlock_t *lock = weft_value_get_lock(v);
    int *count = weft_value_ptr(v);
    int go[2];
    if (pipe(go))
        abort();
    pid_t pids[2];
    for (int k = 0; k < 2; k++) {
        if ((pids[k] = fork()) != 0)
            continue;
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) < 0)
            _exit(1);
        for (long i = 0; i < n / 2; i++) {
            weft_rlock_acquire(lock, WEFT_FOREVER);
            *count += 1;
            weft_rlock_release(lock);
        }
        _exit(0);
    }
    close(go[0]);
    int64_t t0 = bench_now_ns();
    close(go[1]);
    for (int k = 0; k < 2; k++)
        waitpid(pids[k], NULL, 0);
    int64_t dt = bench_now_ns() - t0;
    if (*count != (int)(n / 2 * 2))
        abort();
    weft_value_free(v);
    return dt;
}

int main(void)
{
    long n = bench_scaled(2000000);
    bench_report("shared_counter", "weft", n,
                 bench_median(weft_counter, NULL, n, bench_reps()));
    return 0;
}
