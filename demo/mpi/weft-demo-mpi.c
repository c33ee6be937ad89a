/* SPDX-License-Identifier: MIT */
/* weft-demo-mpi: weft-demo's MPI column. The MPI executor needs its ranks
 * started by mpirun, so weft-demo cannot make it in its own process; it
 * runs this program instead, once per worker count, as
 *
 *     mpirun -n W+1 weft-demo-mpi --count N --repeat R
 *
 * (the root and W worker ranks). On the root it runs the demo's own job
 * (factor.h: the first N numbers, batches of 250) R times, each round
 * serially on the root and then through the MPI executor with the same
 * map over the batches as the thread and process pools, and prints one
 * result line a round, tab-separated, as the Python side of the demo does:
 *
 *     result  form=mpi  workers=W  numbers=N  round=1  serial=0.7  seconds=0.4  checksum=...
 *
 * A failure ends it with status 1 and a line on stderr saying what failed,
 * which weft-demo shows as the reason. Built only with the mpi layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factor.h"
#include "weft/mpi.h"

#define MAX_COUNT 10000000ul
#define MAX_REPEAT 64

static int usage(const char *why)
{
    fprintf(stderr,
            "weft-demo-mpi: %s\n"
            "usage: mpirun -n W+1 weft-demo-mpi --count N [--repeat R]\n",
            why);
    return 2;
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (s == NULL || end == s || *end != '\0' || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The rounds on the root; 0, or 1 with a line on stderr. */
static int rounds(weft_executor_t *ex, size_t count, unsigned repeat)
{
    uint32_t *numbers = malloc(count * sizeof *numbers);
    if (numbers == NULL) {
        fprintf(stderr, "weft-demo-mpi: no memory for %zu numbers\n", count);
        return 1;
    }
    factor_numbers(numbers, count);
    factor_job_t j;
    factor_job_init(&j, numbers, count);
    unsigned workers = weft_mpi_live_workers(ex);
    int rc = 0;
    for (unsigned r = 1; r <= repeat && rc == 0; r++) {
        uint64_t alone, sum;
        double serial = factor_serial(&j, &alone);
        double seconds = factor_on_executor(ex, &j, &sum);
        if (seconds < 0) {
            fprintf(stderr, "weft-demo-mpi: round %u on %u worker ranks: %s\n",
                    r, workers, weft_last_message());
            rc = 1;
            break;
        }
        printf("result\tform=mpi\tworkers=%u\tnumbers=%zu\tround=%u\t"
               "serial=%.6f\tseconds=%.6f\tchecksum=%016llx\n",
               workers, count, r, serial, seconds, (unsigned long long)sum);
        fflush(stdout);
    }
    free(j.batches);
    free(numbers);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long count = 0, repeat = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc) {
            if (number(argv[++i], MAX_COUNT, &count) != 0)
                return usage("--count takes 1 to 10000000");
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            if (number(argv[++i], MAX_REPEAT, &repeat) != 0)
                return usage("--repeat takes 1 to 64");
        } else {
            return usage("unknown option");
        }
    }
    if (count == 0)
        return usage("--count is required");
    /* Sent by name, so that every rank finds it whatever its image. */
    if (weft_mpi_register("factor_batch", factor_batch) != 0) {
        fprintf(stderr, "weft-demo-mpi: %s\n", weft_last_message());
        return 1;
    }
    weft_executor_t *ex;
    /* On the worker ranks this serves tasks until the root is done, then
     * ends the process: what follows runs on the root alone. */
    if (weft_mpi_executor_new(&ex, NULL) != 0) {
        fprintf(stderr, "weft-demo-mpi: the MPI executor did not start: %s\n",
                weft_last_message());
        return 1;
    }
    int rc = rounds(ex, count, (unsigned)repeat);
    weft_executor_free(ex);
    return rc;
}
