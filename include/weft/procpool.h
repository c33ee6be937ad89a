/* SPDX-License-Identifier: MIT */
/** weft/procpool.h: the process pool, Python's ProcessPoolExecutor (and,
 * through the pool layer, multiprocessing.Pool), with what pebble and loky
 * add to it: a worker that dies fails only its own task, and tasks have
 * timeouts.
 *
 * The pool is an executor (executor.h) of kind "process": tasks go in with
 * weft_executor_submit_bytes() (or weft_process_pool_submit_timeout()),
 * maps with weft_executor_map_bytes(), and results come back as byte
 * strings in the one future type, so weft_wait(), as_completed, callbacks
 * and the progress bar work as for any executor. Pointer tasks
 * (weft_executor_submit) are refused with WEFT_ENOTSUP: workers share no
 * memory with the caller. A task function is a weft_bytes_fn of this
 * program (or of a shared object it has loaded): it reaches a worker as a
 * reference (weft_fn_locate() in process.h), once per function and worker.
 *
 * Workers are daemonic processes of the process layer, started with the
 * pool's start method; each ignores SIGINT and dies with the parent, even
 * one killed with SIGKILL. The pool gives each task to one worker and knows
 * which task each worker is running, so that:
 *   - a worker that dies (a crash, abort(), SIGKILL, exit() inside the task)
 *     fails only the task it was running, with WEFT_EWORKERDIED and a
 *     message naming the worker, the signal or exit status, and the task
 *     ("worker 1234 died: killed by signal 11 (SIGSEGV) while running task
 *     7 (crash)"); the tasks it had been sent but had not started go back to
 *     the front of the queue, and a fresh worker takes its place (Python's
 *     pool breaks as a whole);
 *   - a task past its timeout (counted from its start) is stopped with its
 *     worker (SIGKILL): its future fails with WEFT_ETIMEDOUT, and a fresh
 *     worker takes its place. Timeouts are double seconds as everywhere:
 *     WEFT_FOREVER is none, and 0 gives a task no time to run: it fails
 *     with WEFT_ETIMEDOUT without starting (as asyncio.wait_for(coro, 0)
 *     cancels its task before it runs);
 *   - weft_future_stop() on a running task does the same, and its future
 *     ends CANCELLED; weft_future_cancel() cancels a task that has not
 *     started. A task that a worker was sent behind the one it runs counts
 *     as not started: cancelled, it may still run there, and its result is
 *     dropped. The pool sends a worker tasks ahead only when tasks are
 *     short, so that this stays rare and short.
 * Nothing the pool accepted is lost: every future completes, with its
 * result, its task's error, or one of the codes above. And no task runs
 * twice (Python's "at most once"): a task goes back to the queue only if
 * its worker had provably not started it; one it may have started fails.
 *
 * A task's code may also harm its worker's channel to the pool: close the
 * worker's descriptors or write into its socket. The worker keeps its
 * socket on a high descriptor number, out of the way of code that closes
 * or reuses low ones, and a worker whose channel fails all the same exits,
 * losing no result it had finished (its running task fails with
 * WEFT_EWORKERDIED). Whatever bytes come from a worker, the pool checks
 * each frame: anything that is not a frame the worker could have sent
 * (a wrong type or size, a length over 1 GiB, a frame that what follows
 * does not complete) kills and replaces the worker, and its tasks fail
 * with WEFT_EPROTO ("worker 1234 sent a malformed frame (...) while running
 * task 7 (f)", or "task 7 (f) ran, but its result was lost: ..."). Per-task
 * timeouts and weft_executor_free() hold whatever a worker sends.
 *
 * Arguments and results hold at most 1 GiB each (WEFT_EMSGSIZE beyond).
 *
 * Ctrl-C: if SIGINT has its default disposition when a pool is made, the
 * pool installs a handler for it. The first SIGINT then cancels every task
 * not started, stops the workers (running tasks end CANCELLED) and, once
 * every pool has done so, takes its usual effect: the process ends by
 * SIGINT. A second SIGINT in between ends the process at once. A program
 * with its own SIGINT handler keeps it, and may call
 * weft_process_pool_terminate_workers() from its own code.
 *
 * Defaults for this layer: thread-safe; non-blocking unless marked. No
 * worker, zombie, descriptor or shared-memory segment outlives the pool
 * (or survives a failure). Descriptors the pool makes are close-on-exec.
 *
 * Global state: the list of pools that SIGINT reaches, and whether the
 * handler is installed (it is removed when the last pool is freed, if it
 * is still weft's). Each pool has a manager thread, named
 * "ProcessPoolManager", daemonic.
 * \file */
#ifndef WEFT_PROCPOOL_H
#define WEFT_PROCPOOL_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/executor.h"
#include "weft/future.h"
#include "weft/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The most workers a process pool may have. A process pool is for work
 * that keeps CPUs busy, and the largest machines have a few hundred of
 * them; each worker costs a process, descriptors in the pool (its socket
 * and pidfd) and a 16 MiB mapping, and takes milliseconds to start, so
 * thousands of workers take minutes to start and only contend for the
 * same CPUs. (Python caps ProcessPoolExecutor at 61 workers, on Windows
 * only; the thread pool's cap is 4096.) */
#define WEFT_PROCESS_POOL_MAX_WORKERS 1024u

/** Options of a new process pool; NULL or a zeroed struct gives the
 * defaults. */
typedef struct weft_process_pool_opts {
    unsigned max_workers; /* 0: the CPUs this process may use (at most
                             WEFT_PROCESS_POOL_MAX_WORKERS) */
    const char *start_method; /* "fork", "spawn", "forkserver"; NULL: the
                                 process layer's default */
    weft_bytes_fn initializer;   /* run first on each worker; NULL: none */
    const void *initarg;         /* its argument (copied) */
    /** The length of initarg, in bytes. */
    size_t initarg_len;
    unsigned max_tasks_per_child; /* 0: no limit; else a worker is replaced
                                     after that many tasks */
    int has_timeout; /* 0 (a zeroed struct): tasks have no default
                        timeout; else each has timeout */
    double timeout;  /* the default timeout in seconds, as
                        weft_process_pool_submit_timeout() takes it
                        (WEFT_FOREVER: none; 0: no time to run) */
} weft_process_pool_opts_t;

/** A process pool executor. Workers are started at once (and replaced as
 * they die or retire). If the initializer fails on a worker, the pool is
 * broken, as Python's: tasks not done and tasks submitted later fail with
 * WEFT_EBROKEN ("A process initializer failed, the process pool is not
 * usable anymore (...)").
 * Blocks: briefly, while the workers start.
 * Ownership: *out returns new, freed with weft_executor_free(): that shuts
 * the pool down, waiting for its tasks, unless it was shut down before; a
 * pool shut down without waiting (or whose wait timed out) is freed by
 * stopping what still runs (those futures end CANCELLED).
 * Errors: WEFT_EINVAL (bad start method; max_workers over
 * WEFT_PROCESS_POOL_MAX_WORKERS; a negative or NaN timeout, or a timeout
 * given without has_timeout; an initializer in no loaded image),
 * WEFT_ESYS (a worker could not start: the message names the call),
 * WEFT_ENOMEM. */
WEFT_API int weft_process_pool_new(weft_executor_t **out,
                                   const weft_process_pool_opts_t *opts);

/** Submit fn on a copy of the len bytes at arg, to be stopped after timeout
 * seconds of running, overriding the pool's default: WEFT_FOREVER is no
 * timeout; 0 gives the task no time, so that its future fails with
 * WEFT_ETIMEDOUT without the task starting.
 * Errors: as weft_executor_submit_bytes(), and WEFT_EINVAL (ex is not a
 * process pool; a negative or NaN timeout), WEFT_EMSGSIZE (arg over
 * 1 GiB). */
WEFT_API int weft_process_pool_submit_timeout(weft_executor_t *ex,
                                              weft_bytes_fn fn,
                                              const void *arg, size_t len,
                                              double timeout,
                                              weft_future_t **out);

/** Python 3.14's terminate_workers() and kill_workers(): shut the pool down
 * without waiting, cancelling every task not started, and send each worker
 * SIGTERM (terminate) or SIGKILL (kill). Running tasks end CANCELLED.
 * Returns at once; freeing the pool reaps the workers.
 * Errors: WEFT_EINVAL (not a process pool). */
WEFT_API int weft_process_pool_terminate_workers(weft_executor_t *ex);
WEFT_API int weft_process_pool_kill_workers(weft_executor_t *ex);

/** The process ids of the live workers now, in no particular order: up to
 * cap of them into pids (NULL with cap 0: only count them); returns how
 * many there are (which may be more than cap), or 0 for an executor that
 * is not a process pool. */
WEFT_API size_t weft_process_pool_pids(weft_executor_t *ex, int *pids,
                                       size_t cap);

/** multiprocessing.Pool(processes, maxtasksperchild=...): a Pool (pool.h)
 * over a new process pool of that many workers (0: the CPUs this process
 * may use), each replaced after maxtasksperchild tasks (0: never). Use the
 * pool's byte-string calls (weft_pool_map_bytes, ...); pointer calls fail
 * with WEFT_ENOTSUP. Ownership: *out returns new, freed with
 * weft_pool_free(), which frees the process pool too.
 * Errors: as weft_process_pool_new(). */
WEFT_API int weft_process_pool_pool_new(weft_pool_t **out, unsigned processes,
                                        unsigned maxtasksperchild);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_PROCPOOL_H */
