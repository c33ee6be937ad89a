/* SPDX-License-Identifier: MIT */
/* Races that show: seed 002's counter, `temp = counter; counter = temp +
 * 1`, run by several threads and then by several processes on one counter
 * in shared memory, without a lock and with one. weft's threads run in
 * parallel, so the unprotected count loses updates by the hundred
 * thousand; Python's threads take turns under the GIL, which hides the race
 * (and the parallelism with it). Processes race in both.
 *
 * The workers start together, each on a CPU of its own, and keep pace
 * with one another (see keep_pace), so that they do run at the same
 * moments on any machine with two cores, however busy: then the
 * unprotected count is always visibly wrong. The unprotected read and write are
 * each a relaxed atomic access: the race is real (another worker's increment
 * can fall between them and be overwritten) but free of undefined behaviour. */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define INCREMENTS 1000000L
/* Python's processes are slower at this (through a shared Value): they
 * make 200,000 increments each. */
#define PY_THREAD_INCREMENTS 1000000L
#define PY_PROCESS_INCREMENTS 200000L

/* ----- What the workers share ----- */

/* The atomics here carry no data from one worker to another: value is the
 * racing counter itself (relaxed on purpose, read once the workers are
 * joined), and ready and done only line the workers up and keep them
 * together, so relaxed order is all they need. */
struct counter {
    _Atomic long value;
    _Atomic unsigned ready; /* workers at the start line; ABORT: give up */
    unsigned workers;
    weft_lock_t lock;
    _Atomic long done[DEMO_MAX_WORKERS]; /* each worker's increments */
};

#define PACE 4096 /* increments between two looks at the others */
#define FINISHED (1L << 62)

#define ABORT (1u << 30)

/* Each worker on a CPU of its own, where there are enough: on a busy
 * machine the scheduler may otherwise keep two short-lived workers on one
 * CPU, taking turns, and then nothing is lost. */
static void on_cpu(unsigned me)
{
    cpu_set_t usable, one;
    if (sched_getaffinity(0, sizeof usable, &usable) != 0 ||
        CPU_COUNT(&usable) < 2)
        return;
    unsigned nth = me % (unsigned)CPU_COUNT(&usable);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &usable) && nth-- == 0) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
            return;
        }
}

/* The start line spins rather than sleeps: a worker woken from a sleep
 * starts milliseconds after the one that woke it, by which time the first
 * may have made all its increments alone, and the race would not show.
 * Spinning, every worker is running when the last one arrives. */
static int start_together(struct counter *c, unsigned *me)
{
    *me = atomic_fetch_add_explicit(&c->ready, 1, memory_order_relaxed);
    on_cpu(*me);
    unsigned r;
    while ((r = atomic_load_explicit(&c->ready, memory_order_relaxed)) <
           c->workers)
        ;
    return r >= ABORT ? -1 : 0;
}

/* Keep pace: wait while another worker is more than two steps behind.
 * On a busy machine a worker may lose its CPU for many milliseconds,
 * long enough for the others to finish alone; keeping pace, the workers
 * advance only while all of them run, which is when the race shows.
 * Returns -1 when the run was given up. */
static int keep_pace(struct counter *c, unsigned me, long mine)
{
    atomic_store_explicit(&c->done[me], mine, memory_order_relaxed);
    for (unsigned w = 0; w < c->workers; w++)
        while (w != me &&
               atomic_load_explicit(&c->done[w], memory_order_relaxed) <
                   mine - 2 * PACE)
            if (atomic_load_explicit(&c->ready, memory_order_relaxed) >= ABORT)
                return -1;
    return 0;
}

static void count(struct counter *c, long n, int locked)
{
    unsigned me;
    if (start_together(c, &me) != 0)
        return;
    for (long i = 0; i < n; i++) {
        if (i % PACE == 0 && keep_pace(c, me, i) != 0)
            return;
        if (locked)
            weft_lock_acquire(&c->lock, WEFT_FOREVER); /* with lock: */
        long temp = atomic_load_explicit(&c->value, memory_order_relaxed);
        atomic_store_explicit(&c->value, temp + 1, memory_order_relaxed);
        if (locked)
            weft_lock_release(&c->lock);
    }
    atomic_store_explicit(&c->done[me], FINISHED, memory_order_relaxed);
}

/* ----- Threads ----- */

struct thread_job {
    struct counter *c;
    long n;
    int locked;
};

static int thread_worker(void *arg, void **result)
{
    struct thread_job *j = arg;
    count(j->c, j->n, j->locked);
    return 0;
}

static long with_threads(unsigned workers, long n, int locked)
{
    static struct counter c;
    memset(&c, 0, sizeof c);
    c.workers = workers;
    weft_lock_init(&c.lock);
    struct thread_job j = {&c, n, locked};
    weft_thread_t *t[DEMO_MAX_WORKERS];
    unsigned started = 0;
    for (; started < workers; started++)
        if (weft_thread_new(&t[started], thread_worker, &j, NULL) != 0 ||
            weft_thread_start(t[started]) != 0)
            break;
    if (started < workers)
        atomic_fetch_add_explicit(&c.ready, ABORT, memory_order_relaxed);
    for (unsigned i = 0; i < started; i++) {
        weft_thread_join(t[i], WEFT_FOREVER);
        weft_thread_free(t[i]);
    }
    return started == workers
               ? atomic_load_explicit(&c.value, memory_order_relaxed)
               : -1;
}

/* ----- Processes ----- */

struct process_job {
    weft_share_t shm;
    long n;
    int locked;
};

int demo_race_worker(const weft_bytes_t *arg)
{
    struct process_job j;
    memcpy(&j, arg->data, sizeof j);
    weft_shm_t *s;
    if (weft_shm_from_share(&s, &j.shm) != 0)
        return 1;
    count(weft_shm_buf(s), j.n, j.locked);
    weft_shm_free(s);
    return 0;
}

static long with_processes(unsigned workers, long n, int locked)
{
    weft_shm_t *s;
    if (weft_shm_create(&s, NULL, sizeof(struct counter)) != 0)
        return -1;
    struct counter *c = weft_shm_buf(s);
    c->workers = workers;
    weft_lock_init_shared(&c->lock);
    struct process_job j = {.n = n, .locked = locked};
    weft_process_t *p[DEMO_MAX_WORKERS];
    unsigned started = 0;
    if (weft_shm_share(s, &j.shm) == 0)
        for (; started < workers; started++)
            if (weft_process_new(&p[started], demo_race_worker, &j, sizeof j,
                                 NULL) != 0 ||
                weft_process_pass(p[started], &j.shm) != 0 ||
                weft_process_start(p[started]) != 0)
                break;
    if (started < workers)
        atomic_fetch_add_explicit(&c->ready, ABORT, memory_order_relaxed);
    int failed = started < workers;
    for (unsigned i = 0; i < started; i++) {
        int code = -1;
        weft_process_join(p[i], WEFT_FOREVER);
        failed |= weft_process_exitcode(p[i], &code) != 0 || code != 0;
        weft_process_free(p[i]);
    }
    long got =
        failed ? -1 : atomic_load_explicit(&c->value, memory_order_relaxed);
    weft_shm_free(s);
    return got;
}

/* ----- Recording ----- */

static race_run_t *add_race(demo_t *d, const char *impl, const char *with,
                            int locked, unsigned workers, long n)
{
    if (d->nrace == DEMO_MAX_RACE)
        return NULL;
    race_run_t *r = &d->race[d->nrace++];
    *r = (race_run_t){.locked = locked,
                      .workers = workers,
                      .increments = n,
                      .expected = workers * n,
                      .got = -1,
                      .seconds = -1};
    demo_copy(r->impl, sizeof r->impl, impl);
    demo_copy(r->with, sizeof r->with, with);
    return r;
}

static void weft_races(demo_t *d, unsigned workers)
{
    for (int p = 0; p < 2; p++)
        for (int locked = 0; locked < 2; locked++) {
            race_run_t *r = add_race(d, DEMO_WEFT, p ? "processes" : "threads",
                                     locked, workers, INCREMENTS);
            if (r == NULL)
                continue;
            double t0 = weft_monotonic();
            r->got = p ? with_processes(workers, INCREMENTS, locked)
                       : with_threads(workers, INCREMENTS, locked);
            r->seconds = weft_monotonic() - t0;
            if (r->got < 0)
                demo_note(r->note, sizeof r->note, "failed: %s",
                          weft_last_message());
        }
}

static void python_races(demo_t *d, unsigned workers)
{
    char w[16], nt[32], np[32], note[160];
    snprintf(w, sizeof w, "%u", workers);
    snprintf(nt, sizeof nt, "%ld", PY_THREAD_INCREMENTS);
    snprintf(np, sizeof np, "%ld", PY_PROCESS_INCREMENTS);
    const char *args[] = {w, nt, np, NULL};
    char *out, line[512], v[64];
    int rc =
        python_run(d, "counter_race.py", args, 120, &out, note, sizeof note);
    const char *pos = out;
    int rows = 0;
    while (result_next(&pos, line, sizeof line)) {
        char with[16];
        if (!result_field(line, "with", with, sizeof with) ||
            !result_field(line, "locked", v, sizeof v))
            continue;
        int locked = atoi(v);
        long n = result_field(line, "increments", v, sizeof v) ? atol(v) : 0;
        race_run_t *r = add_race(d, DEMO_PYTHON, with, locked, workers, n);
        if (r == NULL)
            continue;
        r->got = result_field(line, "got", v, sizeof v) ? atol(v) : -1;
        r->seconds = result_field(line, "seconds", v, sizeof v) ? atof(v) : -1;
        rows++;
    }
    free(out);
    if (rc != 0 || rows == 0) {
        race_run_t *r =
            add_race(d, DEMO_PYTHON, "threads", 0, workers, INCREMENTS);
        if (r)
            demo_note(r->note, sizeof r->note, "Python failed: %s",
                      *note ? note : "no results");
    }
}

void demo_race(demo_t *d)
{
    unsigned workers = d->workers < 2 ? 2 : d->workers;
    demo_say(d,
             "race: %u workers x %ld increments of one counter, without "
             "and with a lock",
             workers, INCREMENTS);
    weft_races(d, workers);
    if (d->python.found)
        python_races(d, workers);
}
