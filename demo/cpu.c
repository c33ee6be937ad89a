/* SPDX-License-Identifier: MIT */
/* The CPU-bound section: seed 003's prime factorization of 10,000 random
 * numbers in [20,000, 100,000,000], and the same job ten times over, where
 * parallelism has room to pay. Serially, on the thread pool and on the
 * process pool, for 1 to N workers; every form gives the factors of every
 * number, and all of them must agree on one checksum of the factors.
 *
 * The task is a weft_bytes_fn over a batch of numbers (factor.c), so it
 * runs as is on every executor: switching from threads to processes is the
 * constructor alone (see backends[]). MPI ranks, where the mpi layer is
 * built, are started by mpirun, not by this process: weft-demo-mpi runs
 * the same job and the same map on the MPI executor (mpi_rounds()). The
 * Python side, examples/python/primes.py, does the same with
 * concurrent.futures on the same numbers (the same generator) and prints
 * the same checksum.
 *
 * Timings are the medians of --repeat rounds, each round running every
 * form in turn, so that a burst of load elsewhere on the machine spoils one
 * round, not one form; a speed-up is the median of each round's serial time
 * over the form's. Around each round a short probe measures how many CPUs
 * this process really got (d->machine.available_min/max): on a loaded
 * machine the speed-ups are bounded by it, and the output says so. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "factor.h"

#define SEEDS_COUNT 10000 /* seed 003: 10,000 numbers */
#define SCALED_COUNT 100000

/* ----- Executors ----- */

static int meet(void *arg, void **result)
{
    weft_barrier_wait_timeout(arg, 10, NULL);
    return 0;
}

/* The thread pool starts its threads as tasks arrive; the process pool
 * starts its workers when it is made. So that both are timed at work, not
 * starting, every thread is started first: `workers` tasks that wait for
 * one another can only finish once that many threads run them. (A pool
 * timed cold sometimes ran a whole map on one thread: see the report.) */
static void start_every_thread(weft_executor_t *ex, unsigned workers)
{
    weft_barrier_t all;
    weft_barrier_init(&all, workers, NULL, NULL, WEFT_FOREVER);
    weft_future_t *f[DEMO_MAX_WORKERS];
    unsigned n = 0;
    while (n < workers && weft_executor_submit(ex, meet, &all, &f[n]) == 0)
        n++;
    if (n < workers)
        weft_barrier_abort(&all);
    for (unsigned i = 0; i < n; i++) {
        weft_future_wait(f[i], WEFT_FOREVER);
        weft_future_free(f[i]);
    }
}

static int thread_pool_new(weft_executor_t **out, unsigned workers)
{
    int rc = weft_thread_pool_new(
        out, &(weft_thread_pool_opts_t){.max_workers = workers});
    if (rc == 0)
        start_every_thread(*out, workers);
    return rc;
}

static int process_pool_new(weft_executor_t **out, unsigned workers)
{
    return weft_process_pool_new(
        out, &(weft_process_pool_opts_t){.max_workers = workers});
}

typedef int (*executor_new_fn)(weft_executor_t **out, unsigned workers);

static const struct backend {
    const char *form;
    executor_new_fn make;
} backends[] = {
    {"thread_pool", thread_pool_new},
    {"process_pool", process_pool_new},
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

/* ----- How many CPUs this process gets now ----- */

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct probe {
    weft_barrier_t start;
    _Atomic uint64_t sink;
    double cpu[DEMO_MAX_WORKERS];
};

struct spinner {
    struct probe *p;
    unsigned me;
};

static int spin(void *arg, void **result)
{
    struct spinner *s = arg;
    weft_barrier_wait(&s->p->start, NULL);
    double c0 = thread_cpu();
    uint64_t x = s->me + 1;
    while (thread_cpu() - c0 < 0.02)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
    atomic_fetch_add_explicit(&s->p->sink, x, memory_order_relaxed);
    s->p->cpu[s->me] = thread_cpu() - c0;
    return 0;
}

/* n threads spin 20 ms of CPU each, released together: the CPU time they
 * got over the wall time it took is how many CPUs they had. */
static double probe_cpus(unsigned n)
{
    static struct probe p;
    memset(&p, 0, sizeof p);
    weft_barrier_init(&p.start, n, NULL, NULL, WEFT_FOREVER);
    weft_thread_t *t[DEMO_MAX_WORKERS];
    struct spinner s[DEMO_MAX_WORKERS];
    double t0 = weft_monotonic();
    unsigned started = 0;
    for (unsigned i = 0; i < n; i++) {
        s[i] = (struct spinner){&p, i};
        if (weft_thread_new(&t[i], spin, &s[i], NULL) != 0 ||
            weft_thread_start(t[i]) != 0)
            break;
        started++;
    }
    if (started < n)
        weft_barrier_abort(&p.start);
    double cpu = 0;
    for (unsigned i = 0; i < started; i++) {
        weft_thread_join(t[i], WEFT_FOREVER);
        weft_thread_free(t[i]);
        cpu += p.cpu[i];
    }
    double wall = weft_monotonic() - t0;
    return started == n && wall > 0 ? cpu / wall : 0;
}

double demo_probe(demo_t *d, unsigned n)
{
    double got = probe_cpus(n);
    machine_info_t *m = &d->machine;
    if (m->available_max == 0 || got < m->available_min)
        m->available_min = got;
    if (got > m->available_max)
        m->available_max = got;
    return got;
}

/* ----- Recording ----- */

static cpu_run_t *add_run(demo_t *d, const char *impl, const char *workload,
                          const char *form, unsigned workers, size_t numbers)
{
    for (size_t i = 0; i < d->ncpu; i++) {
        cpu_run_t *r = &d->cpu[i];
        if (!strcmp(r->impl, impl) && !strcmp(r->workload, workload) &&
            !strcmp(r->form, form) && r->workers == workers)
            return r;
    }
    if (d->ncpu == DEMO_MAX_CPU)
        return NULL;
    cpu_run_t *r = &d->cpu[d->ncpu++];
    *r = (cpu_run_t){.workers = workers, .numbers = numbers, .seconds = -1};
    demo_copy(r->impl, sizeof r->impl, impl);
    demo_copy(r->workload, sizeof r->workload, workload);
    demo_copy(r->form, sizeof r->form, form);
    return r;
}

/* Note one round of r: its time, the serial time of the same round, and
 * the CPUs free around it. A checksum that differs from the others is
 * kept too, so that the disagreement shows. */
static void record(cpu_run_t *r, double seconds, uint64_t checksum,
                   double serial_seconds, double available)
{
    if (r == NULL)
        return;
    if (seconds < 0) {
        if (r->rounds == 0)
            demo_note(r->note, sizeof r->note, "failed: %s",
                      weft_last_message());
        return;
    }
    if (r->checksum == 0 || r->checksum == checksum)
        r->checksum = checksum;
    else
        demo_note(r->note, sizeof r->note, "checksums differ between runs");
    if (r->rounds == DEMO_MAX_ROUNDS)
        return;
    r->round_seconds[r->rounds] = seconds;
    r->round_speedup[r->rounds] = seconds > 0 ? serial_seconds / seconds : 0;
    r->round_available[r->rounds] = available;
    r->rounds++;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
    double sorted[DEMO_MAX_ROUNDS];
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, by_value);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* The medians of the rounds: a burst of load elsewhere spoils a round,
 * not the figure; and each speed-up is taken against the serial run of
 * its own round, so that slower spells of the machine cancel out. */
static void finish(demo_t *d)
{
    for (size_t i = 0; i < d->ncpu; i++) {
        cpu_run_t *r = &d->cpu[i];
        if (r->rounds == 0)
            continue;
        r->seconds = median(r->round_seconds, r->rounds);
        r->speedup = median(r->round_speedup, r->rounds);
        r->available = median(r->round_available, r->rounds);
    }
}

static void take_samples(demo_t *d, const uint32_t *numbers, size_t n)
{
    d->nsamples = n < DEMO_SAMPLE ? n : DEMO_SAMPLE;
    for (size_t i = 0; i < d->nsamples; i++) {
        d->samples[i].n = numbers[i];
        d->samples[i].k = factor_prime(numbers[i], d->samples[i].factors);
    }
}

/* ----- The runs ----- */

/* The MPI executor on `workers` worker ranks: weft-demo-mpi under mpirun
 * (mpirun.c), for --repeat rounds in one run, since starting the ranks
 * takes longer than a round. Each round there runs the job serially on
 * the root and then on the ranks, and its speed-up is taken against that
 * serial run, as the pools' are against the serial run of their round;
 * the probes around the whole run stand for each round's. */
static void mpi_rounds(demo_t *d, cpu_run_t *r, const factor_job_t *j,
                       unsigned workers)
{
    if (r == NULL)
        return;
    mpi_round_t rounds[DEMO_MAX_ROUNDS];
    unsigned repeat = d->opts.repeat < DEMO_MAX_ROUNDS ? d->opts.repeat
                                                       : DEMO_MAX_ROUNDS;
    double before = workers > 1 ? demo_probe(d, workers) : 1;
    int n = mpi_run(d, workers, j->n, repeat, rounds, r->note, sizeof r->note);
    double after = workers > 1 ? demo_probe(d, workers) : 1;
    double had = before < after ? before : after;
    for (int i = 0; i < n; i++)
        record(r, rounds[i].seconds, rounds[i].checksum, rounds[i].serial,
               had);
}

/* One workload on every backend with `workers` workers, in --repeat
 * rounds, each round the serial run first and then each backend's. */
static void run_workers(demo_t *d, const char *workload, const factor_job_t *j,
                        unsigned workers)
{
    weft_executor_t *ex[NBACKENDS] = {0};
    cpu_run_t *runs[NBACKENDS];
    for (size_t b = 0; b < NBACKENDS; b++) {
        runs[b] =
            add_run(d, DEMO_WEFT, workload, backends[b].form, workers, j->n);
        if (backends[b].make(&ex[b], workers) != 0 && runs[b]) {
            snprintf(runs[b]->note, sizeof runs[b]->note, "%s",
                     weft_last_message());
            ex[b] = NULL;
        }
    }
    cpu_run_t *mpi = add_run(d, DEMO_WEFT, workload, "mpi", workers, j->n);
    cpu_run_t *alone = add_run(d, DEMO_WEFT, workload, "serial", 1, j->n);
    /* A probe before and after each round: a run counts as having had the
     * CPUs when both found them (the lower of the two is kept with it). */
    double before = workers > 1 ? demo_probe(d, workers) : 1;
    for (unsigned rep = 0; rep < d->opts.repeat; rep++) {
        uint64_t sum[1 + NBACKENDS];
        double t[1 + NBACKENDS];
        t[0] = factor_serial(j, &sum[0]);
        for (size_t b = 0; b < NBACKENDS; b++)
            t[1 + b] = ex[b] ? factor_on_executor(ex[b], j, &sum[1 + b]) : -1;
        double after = workers > 1 ? demo_probe(d, workers) : 1;
        double had = before < after ? before : after;
        record(alone, t[0], sum[0], t[0], had);
        for (size_t b = 0; b < NBACKENDS; b++)
            if (ex[b])
                record(runs[b], t[1 + b], sum[1 + b], t[0], had);
        before = after;
    }
    for (size_t b = 0; b < NBACKENDS; b++)
        weft_executor_free(ex[b]);
    mpi_rounds(d, mpi, j, workers);
}

/* ----- Python, and the seed's own figures ----- */

static void python_cpu(demo_t *d, size_t count)
{
    char n[32], w[32], note[160];
    snprintf(n, sizeof n, "%zu", count);
    snprintf(w, sizeof w, "%u", d->workers);
    const char *args[] = {"--count", n, "--workers", w, NULL};
    char *out;
    demo_say(d, "  Python: the same %zu numbers, serial, threads, processes",
             count);
    int rc = python_run(d, "primes.py", args, 300, &out, note, sizeof note);
    const char *pos = out;
    char line[512], form[32], v[64];
    int rows = 0;
    while (result_next(&pos, line, sizeof line)) {
        if (!result_field(line, "form", form, sizeof form))
            continue;
        unsigned workers =
            result_field(line, "workers", v, sizeof v) ? (unsigned)atoi(v) : 1;
        cpu_run_t *r = add_run(d, DEMO_PYTHON, "seeds", form, workers, count);
        if (r == NULL)
            continue;
        if (result_field(line, "seconds", v, sizeof v))
            r->seconds = atof(v);
        if (result_field(line, "checksum", v, sizeof v))
            r->checksum = strtoull(v, NULL, 16);
        rows++;
    }
    free(out);
    if (rc != 0 || rows == 0) {
        cpu_run_t *r = add_run(d, DEMO_PYTHON, "seeds", "serial", 1, count);
        if (r)
            demo_note(r->note, sizeof r->note, "Python failed: %s",
                      *note ? note : "no results");
    }
}

/* Seed 003: "the sequential program executed in 3.9 seconds on my
 * computer compared to 1.9 seconds when running the multiprocessing
 * version" (10 Processes of 1,000 numbers each). */
static void seed_figures(demo_t *d)
{
    cpu_run_t *r = add_run(d, DEMO_SEED, "seeds", "serial", 1, SEEDS_COUNT);
    if (r) {
        r->seconds = 3.9;
        demo_copy(r->note, sizeof r->note, "seed 003, on its author's MacBook");
    }
    r = add_run(d, DEMO_SEED, "seeds", "processes", 10, SEEDS_COUNT);
    if (r) {
        r->seconds = 1.9;
        demo_copy(r->note, sizeof r->note,
                  "seed 003: 10 Processes of 1,000 numbers each");
    }
}

void demo_cpu(demo_t *d)
{
    size_t seeds = demo_scaled(d, SEEDS_COUNT, 100);
    size_t scaled = demo_scaled(d, SCALED_COUNT, 1000);
    uint32_t *numbers = malloc(scaled * sizeof *numbers);
    if (numbers == NULL)
        return;
    factor_numbers(numbers, scaled);
    take_samples(d, numbers, seeds);

    demo_say(d,
             "cpu: the prime factors of %zu numbers (seed 003), serial, "
             "thread pool, process pool",
             seeds);
    factor_job_t j;
    factor_job_init(&j, numbers, seeds);
    run_workers(d, "seeds", &j, d->workers);
    free(j.batches);

    demo_say(d, "cpu: ten times as many (%zu numbers), 1 to %u workers", scaled,
             d->workers);
    factor_job_init(&j, numbers, scaled);
    for (unsigned w = 1; w <= d->workers; w++)
        run_workers(d, "scaled", &j, w);
    free(j.batches);
    free(numbers);

    finish(d);
    seed_figures(d);
    if (d->python.found)
        python_cpu(d, seeds);
}
