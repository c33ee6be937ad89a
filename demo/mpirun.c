/* SPDX-License-Identifier: MIT */
/* The CPU section's MPI column: weft-demo-mpi (demo/mpi/) under mpirun.
 * The MPI executor's ranks are started by mpirun, so they cannot be made
 * inside this process; the companion program runs the same job (factor.h)
 * on the MPI executor and prints a result line per round, read here. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

#ifdef WEFT_DEMO_MPI_BUILT
#ifndef WEFT_DEMO_MPIEXEC
#define WEFT_DEMO_MPIEXEC ""
#endif

static int executable(const char *path)
{
    return path[0] != '\0' && access(path, X_OK) == 0;
}

/* weft-demo-mpi is built and installed next to weft-demo. */
static int find_program(char *buf, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    demo_note(buf, size, "%s/weft-demo-mpi", self);
    return executable(buf);
}

static int find_mpirun(char *buf, size_t size)
{
    if (executable(WEFT_DEMO_MPIEXEC)) {
        demo_copy(buf, size, WEFT_DEMO_MPIEXEC);
        return 1;
    }
    return demo_which("mpirun", buf, size) || demo_which("mpiexec", buf, size);
}
#endif

void mpi_find(demo_t *d)
{
    mpi_info_t *m = &d->mpi;
    *m = (mpi_info_t){0};
#ifndef WEFT_DEMO_MPI_BUILT
    demo_copy(m->reason, sizeof m->reason,
              "weft was built without its MPI layer");
#else
    m->built = 1;
#ifdef WEFT_DEMO_MPI_NOT_RUN
    demo_copy(m->reason, sizeof m->reason, WEFT_DEMO_MPI_NOT_RUN);
    return;
#endif
    if (!find_program(m->program, sizeof m->program)) {
        demo_note(m->reason, sizeof m->reason,
                  "weft-demo-mpi is not next to weft-demo (%s)", m->program);
        return;
    }
    if (!find_mpirun(m->mpirun, sizeof m->mpirun)) {
        demo_note(m->reason, sizeof m->reason,
                  "mpirun was not found (%s%s, nor mpirun or mpiexec on "
                  "the PATH)",
                  *WEFT_DEMO_MPIEXEC ? "not at " : "none found at build time",
                  WEFT_DEMO_MPIEXEC);
        return;
    }
    m->runs = 1;
#endif
}

/* The fields of one result line into *r; 0, or -1 if one is missing. */
static int parse_round(const char *line, unsigned *workers, size_t *numbers,
                       mpi_round_t *r)
{
    char v[64];
    if (!result_field(line, "workers", v, sizeof v))
        return -1;
    *workers = (unsigned)strtoul(v, NULL, 10);
    if (!result_field(line, "numbers", v, sizeof v))
        return -1;
    *numbers = (size_t)strtoull(v, NULL, 10);
    if (!result_field(line, "seconds", v, sizeof v))
        return -1;
    r->seconds = atof(v);
    if (!result_field(line, "serial", v, sizeof v))
        return -1;
    r->serial = atof(v);
    if (!result_field(line, "checksum", v, sizeof v))
        return -1;
    r->checksum = strtoull(v, NULL, 16);
    return 0;
}

/* Read the rounds from out; the count, or -1 with note saying what was
 * wrong with them. */
static int read_rounds(const char *out, unsigned workers, size_t count,
                       mpi_round_t *rounds, unsigned max, char *note,
                       size_t note_size)
{
    const char *pos = out;
    char line[512];
    unsigned n = 0;
    while (n < max && result_next(&pos, line, sizeof line)) {
        unsigned w;
        size_t numbers;
        if (parse_round(line, &w, &numbers, &rounds[n]) != 0) {
            demo_note(note, note_size, "a malformed result line: %s", line);
            return -1;
        }
        if (w != workers || numbers != count) {
            demo_note(note, note_size,
                      "it ran %zu numbers on %u worker ranks, not %zu on %u",
                      numbers, w, count, workers);
            return -1;
        }
        n++;
    }
    return (int)n;
}

int mpi_run(const demo_t *d, unsigned workers, size_t count, unsigned repeat,
            mpi_round_t *rounds, char *note, size_t note_size)
{
    const mpi_info_t *m = &d->mpi;
    if (!m->runs) {
        demo_copy(note, note_size, m->reason);
        return -1;
    }
    char np[16], n[32], r[16];
    snprintf(np, sizeof np, "%u", workers + 1);
    snprintf(n, sizeof n, "%zu", count);
    snprintf(r, sizeof r, "%u", repeat);
    /* As the mpi layer's tests run it: more ranks than cores allowed, as
     * root too, shared memory only. */
    char *argv[] = {(char *)m->mpirun, "--allow-run-as-root", "--oversubscribe",
                    "--mca", "btl", "self,vader", "-n", np,
                    (char *)m->program, "--count", n, "--repeat", r, NULL};
    double limit = 60 + 30.0 * repeat;
    char *out, why[160] = "";
    int rc = demo_run(argv, limit, &out, why, sizeof why);
    int got = read_rounds(out, workers, count, rounds, repeat, note, note_size);
    free(out);
    if (got < 0)
        return -1;
    if (rc != 0 || got < (int)repeat) {
        /* mpirun's own reports end with a rule of dashes: say its status
         * (128 + the signal when a rank was killed by one). */
        if ((why[0] == '\0' || why[0] == '-') && rc > 128)
            demo_note(why, sizeof why,
                      "mpirun ended with status %d: a rank ended on signal %d",
                      rc, rc - 128);
        else if (why[0] == '\0' || why[0] == '-')
            demo_note(why, sizeof why, "mpirun ended with status %d", rc);
        demo_note(note, note_size, "failed: %s", why);
        return -1;
    }
    return got;
}
