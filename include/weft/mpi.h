/* SPDX-License-Identifier: MIT */
/** weft/mpi.h: the Executor interface on MPI ranks, mpi4py.futures'
 * MPIPoolExecutor and MPICommExecutor, without an interpreter or pickling.
 *
 * Built only when CMake finds MPI (Debian's libopenmpi-dev): the layer is
 * then its own library, libweft_mpi, linked with libweft and MPI, and
 * installed beside it (`pkg-config --cflags --libs weft-mpi`, or
 * find_package(weft COMPONENTS mpi) and the CMake target weft::mpi, which
 * finds MPI itself); a build without MPI says so at
 * configure time and has no libweft_mpi, and this header then declares
 * functions that nothing defines.
 *
 * The program is started with mpirun and runs on every rank. One rank, the
 * root (0 unless chosen), submits; every other rank is a worker that serves
 * tasks until the root shuts the executor down. Tasks are weft_bytes_fn,
 * as for the process pool (procpool.h): switching a program from
 *     weft_process_pool_new(&ex, NULL);
 * to
 *     weft_mpi_executor_new(&ex, NULL);
 * and running it with `mpirun -n 5 ./program` runs its tasks on 4 worker
 * ranks. Futures, weft_wait(), as_completed, map and the progress bar work
 * as with any executor (kind "mpi"). Pointer tasks fail with WEFT_ENOTSUP.
 *
 * Functions. A task reaches a worker as its function's name: functions
 * registered with weft_mpi_register() (or WEFT_MPI_TASK(fn), which does so
 * before main) are sent by that name, and every rank's list of registered
 * names is compared when the executor starts, so that a name missing on
 * some rank is an error then, not a hang later. A function not registered
 * is sent as a reference into the program's image (weft_fn_locate() of the
 * process layer), which holds when every rank runs the same executable, as
 * under mpirun. A worker that cannot find a task's function fails that
 * task, with WEFT_EKEY for a name it lacks (registered on the root after
 * the start) or WEFT_EINVAL for a reference, and serves on. Arguments, results and task errors (code and
 * message) travel as bytes, of any size: messages above 1 GiB go as
 * several MPI messages. Ranks must share byte order and type sizes.
 *
 * Scheduling. The root keeps a queue; each worker has a share of tasks in
 * flight, one at first and more once results show that tasks are short
 * (enough for about 2 ms of work), so that small tasks go many to a
 * message and a worker never waits for the root, while long ones spread
 * over the workers. Each result frees room for the next task (dynamic load
 * balancing: the worker that finishes first gets more). A worker runs its
 * tasks in the order sent.
 *
 * Threads and MPI. On every rank one progress thread makes all the MPI
 * calls; tasks run on the rank's serving thread (a worker) and futures
 * complete on the root's progress thread. MPI is initialized with
 * MPI_THREAD_SERIALIZED when the program has not done it (and finalized
 * by the executor that initialized it); a program that initialized MPI
 * itself must have asked for at least MPI_THREAD_SERIALIZED, and makes no
 * MPI call of its own while an executor lives unless it has
 * MPI_THREAD_MULTIPLE. The executor works on a duplicate of the
 * communicator, so its messages never meet the program's.
 *
 * Waiting without spinning. Open MPI's blocking receive polls a core at
 * 100%. Instead the progress thread probes (MPI_Improbe, MPI_Test) and,
 * when nothing came, sleeps with a back-off: a few yields, then 1 us
 * doubling to 1 ms (with the thread's timer slack at 1 us), or, on the
 * root with nothing in flight, in poll() on an eventfd that a submission
 * writes, waking once per heartbeat period to read the workers' heartbeats.
 * The cost is latency after a quiet spell: a message that comes while a
 * worker sleeps waits up to 1 ms (mpi4py.futures makes the same trade with
 * its 1 ms back-off); back-to-back traffic never backs off that far. An
 * idle worker wakes at most 1000 times a second, for a probe of about a
 * microsecond.
 *
 * A worker that dies. MPI itself reports nothing useful: Debian's Open MPI
 * 4.1 has no ULFM, and MPI_ERRORS_RETURN (set on the executor's
 * communicator) turns MPI errors into codes but does not detect a dead
 * peer. Under plain mpirun, a rank killed by a signal makes mpirun abort
 * the whole job (every rank gets SIGTERM, then SIGKILL, and mpirun exits
 * non-zero): the job does not hang, but the root cannot report anything.
 * Under `mpirun --enable-recovery` the other ranks run on, but sends to the
 * dead rank still complete (into shared memory) and receives from it never
 * do, so the executor watches for itself: each worker's progress thread
 * sends a heartbeat whenever it has sent nothing for a while (a fifth of
 * worker_timeout, at most 1 s), also while a task runs; a worker silent
 * for worker_timeout is presumed dead. Its running task (the first in
 * flight) fails with WEFT_EWORKERDIED ("MPI worker rank 2 sent nothing for
 * 3.0 s and is presumed dead, while running task 7 (crash)"), the tasks
 * sent behind it go back to the queue for the others, and it gets no more;
 * with no worker left, every task not done fails with WEFT_EWORKERDIED.
 * The root then shuts down and frees the executor as usual. A worker that
 * is only slow past worker_timeout is given up the same way; its late
 * results are dropped.
 *
 * Ending a job that lost a rank. Open MPI 4.1's MPI_Finalize begins with
 * a fence over every rank of the job, the dead one included; under
 * --enable-recovery that fence sometimes never completes (the ranks left
 * wait in MPI_Finalize for ever, more often on a loaded machine), after
 * the executor itself has ended cleanly on every live rank. A program
 * run under --enable-recovery, so that it outlives a worker, must skip
 * that fence: run it with `mpirun --enable-recovery --mca
 * async_mpi_finalize 1`, or set OMPI_MCA_async_mpi_finalize=1 in the
 * environment of every rank before MPI is initialized (before
 * MPI_Init_thread, or before weft_mpi_executor_new when this layer
 * initializes MPI), e.g. setenv("OMPI_MCA_async_mpi_finalize", "1", 0) at
 * the top of main. The fence is not needed for the executor's own traffic:
 * freeing the executor waits for every live worker's BYE and for every
 * send to complete, on the root and on each worker.
 *
 * Cancellation and shutdown. weft_future_cancel() cancels a task the root
 * has not sent. A task sent behind the one a worker runs counts as not
 * started: cancelled, it may still run there, and its result is dropped.
 * A running task cannot be stopped (weft_future_stop() has no effect on
 * it). weft_executor_shutdown(ex, wait, cancel_futures, timeout) stops
 * taking tasks, cancels what has not started if asked, and with wait waits
 * for the rest; then the root tells the workers to end. Freeing the
 * executor shuts it down waiting, unless it was shut down before; one shut
 * down without waiting (or whose wait timed out) is freed by cancelling
 * what has not started, as the process pool does. Either way freeing waits
 * for the tasks running on workers to end (MPI cannot stop them) and for
 * every live worker to acknowledge the end.
 *
 * Defaults for this layer: thread-safe; non-blocking unless marked. The
 * functions below are called on every rank of the communicator, in the
 * same order (as collective MPI calls are).
 *
 * Global state: the registry of task names (it only grows), and whether
 * this layer initialized MPI.
 * \file */
#ifndef WEFT_MPI_H
#define WEFT_MPI_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/executor.h"
#include "weft/future.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of a new MPI executor; NULL or a zeroed struct gives the
 * defaults. Only the root's options count: the workers get them from it. */
typedef struct weft_mpi_opts {
    int root;                  /* the submitting rank; default 0 */
    weft_bytes_fn initializer; /* run first on each worker; NULL: none */
    const void *initarg;       /* its argument (copied) */
    /** The length of initarg, in bytes. */
    size_t initarg_len;
    double worker_timeout; /* seconds of silence after which a worker is
                              presumed dead; 0: 10 s; WEFT_FOREVER: never */
} weft_mpi_opts_t;

/** Register fn under name (1 to 255 bytes) on this rank, so that tasks of
 * fn are sent by name. Call it on every rank before the executor starts
 * (WEFT_MPI_TASK does, in a constructor); registering the same pair again
 * is allowed. Errors: WEFT_EINVAL (NULL or bad name), WEFT_EEXIST (the
 * name is taken by another function), WEFT_ENOMEM. */
WEFT_API int weft_mpi_register(const char *name, weft_bytes_fn fn);

/** Register fn under its own name before main runs. */
#define WEFT_MPI_TASK(fn)                                                      \
    __attribute__((constructor)) static void weft_mpi_register_##fn(void)      \
    {                                                                          \
        weft_mpi_register(#fn, fn);                                            \
    }

/** The MPI executor over MPI_COMM_WORLD (mpi4py's MPIPoolExecutor under
 * `mpirun python -m mpi4py.futures`). On the root it returns the executor
 * in *out. On every other rank it serves tasks until the root shuts down,
 * then finalizes MPI (if this layer initialized it) and ends the process
 * with exit(0) (exit(1) if the start failed): it never returns there, so
 * what follows the call in main runs on the root alone.
 * Blocks: until every rank has started, checked the names and run the
 * initializer. If an initializer fails, the executor is broken, as
 * Python's: tasks submitted fail with WEFT_EBROKEN ("An MPI initializer
 * failed on rank 2, the executor is not usable anymore (code 1000: ...)").
 * Ownership: *out returns new, freed with weft_executor_free().
 * Errors: WEFT_EINVAL (a task name registered on some ranks only: the
 * message names it and the rank; a root outside the communicator; fewer
 * than 2 ranks; bad worker_timeout; an initializer in no loaded image),
 * WEFT_ENOTSUP (MPI gives less than MPI_THREAD_SERIALIZED), WEFT_ESYS (an
 * MPI call failed: the message has MPI's text), WEFT_ENOMEM. */
WEFT_API int weft_mpi_executor_new(weft_executor_t **out,
                                   const weft_mpi_opts_t *opts);

#if defined(MPI_VERSION) || defined(DOXYGEN)
/** mpi4py's MPICommExecutor(comm, root): the same over an existing
 * communicator, declared where <mpi.h> is included before this header. On
 * the root, *out gets the executor; on the other ranks of comm the call
 * serves tasks until the root shuts down, then returns 0 with *out set to
 * NULL (or the start's error), so that the caller goes on:
 *     weft_mpi_comm_executor_new(&ex, comm, &(weft_mpi_opts_t){.root = 0});
 *     if (ex != NULL) { ... submit, wait ...; weft_executor_free(ex); }
 * MPI must be initialized (MPI_THREAD_SERIALIZED at least) and stays so.
 * Blocks: as weft_mpi_executor_new, and on workers until shutdown.
 * Errors: as weft_mpi_executor_new. */
WEFT_API int weft_mpi_comm_executor_new(weft_executor_t **out, MPI_Comm comm,
                                        const weft_mpi_opts_t *opts);
#endif

/** Submit the task registered under name on a copy of the len bytes at arg
 * (submit by name, where the function itself is not at hand).
 * Errors: as weft_executor_submit_bytes(), and WEFT_EKEY (no task
 * registered under that name on this rank), WEFT_EINVAL (ex is not an MPI
 * executor). */
WEFT_API int weft_mpi_submit_name(weft_executor_t *ex, const char *name,
                                  const void *arg, size_t len,
                                  weft_future_t **out);

/** How many worker ranks ex has that are not presumed dead (0 for an
 * executor that is not an MPI executor). */
WEFT_API unsigned weft_mpi_live_workers(weft_executor_t *ex);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_MPI_H */
