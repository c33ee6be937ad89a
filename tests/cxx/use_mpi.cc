/* SPDX-License-Identifier: MIT */
#include "weft/mpi.h"

#include <cstring>

#include "check.h"

static int echo(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return weft_bytes_copy(result, arg->data, arg->len);
}

static int other(const weft_bytes_t *arg, weft_bytes_t *result)
{
    return echo(arg, result);
}

WEFT_MPI_TASK(echo)

int main()
{
    /* Registered by WEFT_MPI_TASK: the same pair again is allowed, another
     * function under that name is not. */
    CHECK(weft_mpi_register("echo", echo) == 0);
    CHECK(weft_mpi_register("echo", other) == WEFT_EEXIST);
    weft_mpi_opts_t opts = weft_mpi_opts_t();
    CHECK(opts.root == 0 && opts.initializer == NULL);
    CHECK(weft_mpi_executor_new(NULL, &opts) == WEFT_EINVAL);
    return 0;
}
