/* SPDX-License-Identifier: MIT */
/* weft-demo: what weft does that Python cannot, measured side by side.
 *
 * The program runs four sections, each on the seeds' own examples:
 *   cpu     the prime factors of 10,000 random numbers (seed 003), and ten
 *           times as many: serial, thread pool and process pool, for 1 to
 *           N workers, and on MPI ranks under mpirun where the mpi layer
 *           is built, all agreeing on a checksum of the factors;
 *   io      downloads from a local server that answers each request after
 *           a delay (seeds 000, 002, 003): serial, threads, thread pool and
 *           coroutines, up to 10,000 requests at once, with the memory each
 *           request in flight costs;
 *   robust  a process pool where one task crashes and one hangs;
 *   race    the counter race of seed 002, with threads and with processes,
 *           without and with a lock.
 * Where python3 is installed, each section runs the Python of the seeds
 * (examples/python/) on the same work and shows both; where it is not, the
 * seeds' own reported figures stand in, and the output says so.
 *
 * The results gather in one demo_t; report.c prints them as tables or as
 * JSON, writes demo-report.html and asks gnuplot for the chart. */
#ifndef WEFT_DEMO_H
#define WEFT_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "weft.h"

#define DEMO_MAX_WORKERS 64
#define DEMO_MAX_CPU 64
#define DEMO_MAX_IO 64
#define DEMO_MAX_TASKS 16
#define DEMO_MAX_RACE 8
#define DEMO_SAMPLE 4      /* numbers whose factors the output shows */
#define DEMO_MAX_ROUNDS 64 /* CPU timings kept per form (the rest are not) */
#define DEMO_MAX_REPEAT 15

/* ----- Options ----- */

typedef struct demo_opts {
    int json;           /* --json: JSON on stdout instead of the tables */
    unsigned workers;   /* --workers N: the most workers tried (0: CPUs) */
    double scale;       /* --scale S: the share of the full workloads */
    const char *only;   /* --only NAME[,NAME]: these sections alone */
    int chart;          /* 0 with --no-chart */
    const char *out;    /* --out DIR: where the report and chart go */
    const char *python; /* --python PATH: which interpreter (NULL: look) */
    int no_python;      /* --no-python */
    unsigned repeat;    /* --repeat R: best of R runs per timing (0: 3) */
    unsigned requests;  /* --requests N: the most downloads at once (0:
                           10,000 x scale, and at least 1,000) */
    char command[512];  /* the command line, as the report shows it */
} demo_opts_t;

/* ----- Results ----- */

/* Where a figure comes from. */
#define DEMO_WEFT "weft"
#define DEMO_PYTHON "python"
#define DEMO_SEED "seed" /* the seeds' own reported figures */

/* One timing of the CPU section. */
typedef struct cpu_run {
    char impl[8];     /* DEMO_WEFT, DEMO_PYTHON, DEMO_SEED */
    char workload[8]; /* "seeds" (10,000 numbers) or "scaled" (x10) */
    char form[16];    /* "serial", "thread_pool", "process_pool", "mpi" */
    unsigned workers; /* 1 for serial */
    size_t numbers;
    double seconds;    /* the median of the rounds; < 0: did not run */
    double speedup;    /* the median, over the rounds, of the serial time
                          of that round over this one's (0: not paired) */
    double available;  /* the median of the CPUs the probes found free
                          around each round */
    uint64_t checksum; /* of all the factors, in order */
    char note[160];    /* why it did not run, or where a figure is from */
    /* Each round's figures, for the medians above. */
    unsigned rounds;
    double round_seconds[DEMO_MAX_ROUNDS], round_speedup[DEMO_MAX_ROUNDS],
        round_available[DEMO_MAX_ROUNDS];
} cpu_run_t;

/* One number and its factors, from the serial run. */
typedef struct cpu_sample {
    uint32_t n;
    uint32_t factors[32];
    size_t k;
} cpu_sample_t;

/* One measurement of the I/O section. */
typedef struct io_run {
    char impl[8];
    char form[16]; /* "serial", "threads", "thread_pool", "coroutines" */
    unsigned requests;
    double seconds;            /* < 0: did not run (note says why) */
    unsigned ok, failed;       /* downloads that gave the full answer, or not */
    unsigned in_flight;        /* the most requests in flight at once */
    double kib_per_request;    /* memory per request in flight; < 0: unknown */
    double cpu_ms_per_request; /* the client's CPU time; < 0: unknown */
    double available;          /* CPUs the probes got around it (0: no probe) */
    char note[160];
} io_run_t;

/* What became of one task of the robustness section. */
typedef struct robust_task {
    char kind[8];      /* "square", "crash", "hang", "after" */
    int ok;            /* 1: gave the right result */
    char outcome[200]; /* the result, or the error with its message */
} robust_task_t;

typedef struct robust_run {
    char impl[8];
    int ran;
    double seconds;
    size_t ntasks;
    robust_task_t tasks[DEMO_MAX_TASKS];
    char note[160];
} robust_run_t;

/* One counter race. */
typedef struct race_run {
    char impl[8];
    char with[12]; /* "threads", "processes" */
    int locked;
    unsigned workers;
    long increments; /* per worker */
    long expected, got;
    double seconds; /* < 0: did not run */
    char note[160];
} race_run_t;

typedef struct python_info {
    int found;
    char path[256];
    char version[64];
    char reason[160]; /* why not found, or not run */
    char dir[512];    /* where the Python programs are */
} python_info_t;

/* The MPI column: weft-demo-mpi, run under mpirun (mpirun.c). */
typedef struct mpi_info {
    int built;         /* weft was built with its mpi layer */
    int runs;          /* mpirun and weft-demo-mpi were found */
    char mpirun[256];  /* the mpirun run */
    char program[512]; /* weft-demo-mpi */
    char reason[160];  /* why the column does not run, when it does not */
} mpi_info_t;

typedef struct machine_info {
    char cpu_model[128];
    unsigned cpus;        /* online */
    unsigned usable;      /* this process may use (affinity) */
    double available_min; /* CPUs the probes got while measuring */
    double available_max;
    char kernel[128];
    char date[32];
} machine_info_t;

typedef struct demo {
    demo_opts_t opts;
    machine_info_t machine;
    python_info_t python;
    mpi_info_t mpi;
    unsigned workers; /* the most workers tried */

    int ran_cpu, ran_io, ran_robust, ran_race;

    cpu_run_t cpu[DEMO_MAX_CPU];
    size_t ncpu;
    cpu_sample_t samples[DEMO_SAMPLE];
    size_t nsamples;

    double io_delay;
    unsigned io_pool_workers;
    io_run_t io[DEMO_MAX_IO];
    size_t nio;

    robust_run_t robust[2]; /* weft, then Python */
    double robust_timeout;

    race_run_t race[DEMO_MAX_RACE];
    size_t nrace;

    double seconds; /* the whole run */

    int out_ok;           /* the output folder exists */
    int chart;            /* the chart was drawn */
    char chart_note[256]; /* or why not */
} demo_t;

/* ----- Sections (each fills its part of d) ----- */

void demo_cpu(demo_t *d);
void demo_io(demo_t *d);
void demo_robust(demo_t *d);
void demo_race(demo_t *d);

/* ----- Probing the machine (cpu.c) ----- */

/* How many CPUs n threads get now: each spins 20 ms of CPU time, and the
 * CPU time they got over the wall time it took is the answer. Noted in
 * d->machine's range as well. */
double demo_probe(demo_t *d, unsigned n);

/* ----- MPI (mpirun.c) ----- */

/* Whether the MPI column can run, and with what: fills d->mpi. */
void mpi_find(demo_t *d);

/* One round of weft-demo-mpi: the job serially on its root, then on the
 * MPI executor. */
typedef struct mpi_round {
    double serial, seconds;
    uint64_t checksum;
} mpi_round_t;

/* Run weft-demo-mpi under mpirun with `workers` worker ranks (and the
 * root) on the first count numbers of the job, for repeat rounds (at most
 * DEMO_MAX_ROUNDS) into rounds. Blocks, under a time limit. Returns the
 * rounds run, or -1 with note saying why none count: d->mpi.reason, or
 * what failed (a rank, mpirun, the time limit). */
int mpi_run(const demo_t *d, unsigned workers, size_t count, unsigned repeat,
            mpi_round_t *rounds, char *note, size_t note_size);

/* ----- Programs and Python (python.c) ----- */

/* Run argv (argv[0] a path) in a process group of its own, under a time
 * limit (the group is killed there); *out receives its stdout (caller
 * frees), note the last line of its stderr if it fails. Returns its exit
 * status, or -1 when it could not run or was stopped. */
int demo_run(char *const *argv, double limit, char **out, char *note,
             size_t note_size);

/* The path of program name on the PATH, into buf; 0 when there is none. */
int demo_which(const char *name, char *buf, size_t size);

/* Find the interpreter and the programs: fills d->python. */
void python_find(demo_t *d);

/* Run examples/python/<script> with args under a time limit; *out receives
 * what it printed on stdout (caller frees). Returns its exit status, or -1
 * when it could not run or was stopped at the limit (note says which). */
int python_run(const demo_t *d, const char *script, const char *const *args,
               double limit, char **out, char *note, size_t note_size);

/* The value of key in a result line ("result\tkey=value\t..."), copied
 * into buf; NULL when the line has no such key. */
const char *result_field(const char *line, const char *key, char *buf,
                         size_t size);

/* The next "result" line of text at or after *pos, NUL-terminated into
 * buf; 0 at the end. */
int result_next(const char **pos, char *buf, size_t size);

/* ----- Output (report.c) ----- */

/* Make the output folder and draw the chart there (demo-chart.png and
 * .svg), unless --no-chart: first, so that the other outputs can say
 * whether it was drawn. */
void report_chart(demo_t *d);
void report_text(const demo_t *d);
void report_json(const demo_t *d);
/* demo-results.json and demo-report.html in the output folder; without
 * --json, says what was written where (and why the chart was not). */
void report_files(const demo_t *d);

/* ----- Helpers (main.c) ----- */

/* Progress for the reader: one line on stderr, unless --json. */
void demo_say(const demo_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The resident memory of this process now, in KiB (0 if unknown). */
double demo_rss_kib(void);

/* Copy src into a fixed buffer, cut if need be. */
void demo_copy(char *dst, size_t size, const char *src);

/* snprintf into a fixed buffer where cutting is expected (notes and
 * messages): the text is cut to fit. */
void demo_note(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The number scaled by d's scale, at least min. */
size_t demo_scaled(const demo_t *d, size_t full, size_t min);

#endif
