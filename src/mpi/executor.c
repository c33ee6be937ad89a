/* SPDX-License-Identifier: MIT */
/* The MPI executor's constructors: MPI's start and end, the split of a
 * communicator into the root and its workers, and the worker ranks'
 * serving. */
#include <mpi.h>

#include "mpi_int.h"

#include <stdlib.h>

/* Whether this layer initialized MPI (and so finalizes it). */
static int mpi_owned;

static int check_thread_level(void)
{
    int provided = MPI_THREAD_SINGLE;
    MPI_Query_thread(&provided);
    if (provided < MPI_THREAD_SERIALIZED)
        return weft_fail(WEFT_ENOTSUP,
                         "MPI was initialized with thread level %d: the MPI "
                         "executor needs MPI_THREAD_SERIALIZED",
                         provided);
    return 0;
}

/* Initialize MPI if nobody has. */
static int init_mpi(void)
{
    int flag = 0;
    MPI_Finalized(&flag);
    if (flag)
        return weft_fail(WEFT_ESTATE, "MPI has been finalized");
    MPI_Initialized(&flag);
    if (!flag) {
        int provided;
        int err = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED,
                                  &provided);
        if (err != MPI_SUCCESS)
            return weft_fail(WEFT_ESYS, "MPI_Init_thread failed (%d)", err);
        mpi_owned = 1;
    }
    return check_thread_level();
}

static void finalize_owned(void *arg)
{
    if (mpi_owned) {
        mpi_owned = 0;
        MPI_Finalize();
    }
}

static int check_comm(MPI_Comm comm, int root)
{
    int size = 0;
    if (MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return weft_fail(WEFT_EINVAL, "not a valid communicator");
    if (size < 2)
        return weft_fail(WEFT_EINVAL,
                         "an MPI executor needs at least 2 ranks (a root and "
                         "a worker): this communicator has %d",
                         size);
    if (root < 0 || root >= size)
        return weft_fail(WEFT_EINVAL,
                         "root %d is not a rank of a communicator of %d",
                         root, size);
    return 0;
}

/* Root: *out gets the executor. Worker: serves, then *out = NULL. */
static int make(weft_executor_t **out, MPI_Comm comm,
                const weft_mpi_opts_t *opts, weft__mpi_on_destroy on_destroy,
                int *worker)
{
    int root = opts ? opts->root : 0;
    *worker = 0;
    int rc = check_comm(comm, root);
    weft__mpi_transport_t *t = NULL;
    if (rc == 0)
        rc = weft__mpi_transport_mpi_new(&t, &comm);
    if (rc)
        return rc;
    if (t->rank == root)
        return weft__mpi_root_new(out, t, opts, on_destroy, NULL);
    *worker = 1;
    *out = NULL;
    rc = weft__mpi_serve(t, root);
    weft_error_info_t e;
    weft_error_capture(&e, rc);
    t->ops->destroy(t);
    return rc ? weft_fail(rc, "%s", e.message) : 0;
}

int weft_mpi_executor_new(weft_executor_t **out, const weft_mpi_opts_t *opts)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "mpi_executor_new: NULL out");
    int rc = init_mpi();
    int worker = 0;
    if (rc == 0)
        rc = make(out, MPI_COMM_WORLD, opts, finalize_owned, &worker);
    if (rc == 0 && !worker)
        return 0;
    /* A worker whose service ended, or a start that failed. */
    weft_error_info_t e;
    weft_error_capture(&e, rc);
    finalize_owned(NULL);
    if (worker)
        exit(rc ? 1 : 0);
    return weft_fail(e.code, "%s", e.message);
}

int weft_mpi_comm_executor_new(weft_executor_t **out, MPI_Comm comm,
                               const weft_mpi_opts_t *opts)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "mpi_comm_executor_new: NULL out");
    *out = NULL;
    int flag = 0;
    MPI_Initialized(&flag);
    if (!flag)
        return weft_fail(WEFT_ESTATE, "MPI is not initialized: call "
                                      "MPI_Init_thread first");
    int rc = check_thread_level();
    int worker;
    if (rc == 0)
        rc = make(out, comm, opts, NULL, &worker);
    return rc;
}
