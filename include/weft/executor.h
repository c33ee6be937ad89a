/* SPDX-License-Identifier: MIT */
/** weft/executor.h: the Executor interface and the thread pool, Python's
 * concurrent.futures.Executor and ThreadPoolExecutor.
 *
 * One interface (submit, map, shutdown) serves every backend: the thread
 * pool and the inline executor here, the process pool (procpool layer) and
 * the MPI executor (mpi layer). Tasks over byte strings
 * (weft_executor_submit_bytes) run on all of them, so switching backend is
 * one line; the thread pool also takes plain pointers (weft_executor_submit).
 *
 * The thread pool schedules by work stealing: each worker has a deque, and
 * an injection queue takes submissions from outside. A task submitted from
 * inside a task goes to its worker's deque. A worker that waits on a future
 * (weft_future_result and friends) does not sleep while there is work for
 * it: it runs the awaited task itself if nobody has started it yet, and
 * otherwise helps the worker that runs it with that task's descendants
 * (leapfrogging), so recursive fork-join completes even with one worker, and
 * a short wait never gets stuck behind an unrelated long task. Helping nests
 * at most WEFT_HELP_DEPTH deep, so stacks cannot overflow; past that, or
 * with nothing to help with, the worker parks. Idle workers sleep; they do
 * not spin.
 *
 * Defaults for this layer: thread-safe; non-blocking unless marked. A task
 * runs on a worker with no weft lock held. The functions a task is given
 * (weft_fn, weft_bytes_fn) may call any weft function, submit more tasks and
 * wait on them. An array
 * with a count of 0 may be NULL (the empty list), and an out-pointer for a
 * result may be NULL when the result is not wanted.
 * \file */
#ifndef WEFT_EXECUTOR_H
#define WEFT_EXECUTOR_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/future.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An executor: a thread pool, a process pool, an MPI executor, ... */
typedef struct weft_executor weft_executor_t;

/** A task over byte strings, for executors whose workers share no memory
 * with the caller: it reads arg and fills *result (weft_bytes_copy), or
 * fails like any task. The result is handed to the future, which frees it. */
typedef int (*weft_bytes_fn)(const weft_bytes_t *arg, weft_bytes_t *result);

/** How deep a waiting worker nests the tasks it runs meanwhile. */
#define WEFT_HELP_DEPTH 64

/** Schedule fn(arg, &result) and return its future in *out.
 * Ownership: arg is passed on as is; *out returns a new reference.
 * Errors: WEFT_ESHUTDOWN (after shutdown: "cannot schedule new futures
 * after shutdown"), WEFT_EBROKEN (the pool's initializer failed),
 * WEFT_ENOTSUP (an executor that cannot share pointers: use _bytes),
 * WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_executor_submit(weft_executor_t *ex, weft_fn fn, void *arg,
                                  weft_future_t **out);

/** Schedule fn on a copy of the len bytes at arg; the future's result is a
 * byte string (weft_future_result_bytes). Errors: as submit. */
WEFT_API int weft_executor_submit_bytes(weft_executor_t *ex, weft_bytes_fn fn,
                                        const void *arg, size_t len,
                                        weft_future_t **out);

/** Stop taking tasks. cancel_futures cancels every task not yet started.
 * With wait, wait up to timeout seconds for the running and queued tasks to
 * finish and for the workers to exit (Python's shutdown(wait=True) without
 * its risk of waiting forever on a stuck task): on return a thread pool's
 * workers are joined, their thread-local values destroyed, and they no
 * longer count in weft_active_count() (a task that shuts its own pool down
 * waits for every worker but its own). Calling it again is allowed.
 * Blocks: with wait. Errors: WEFT_ETIMEDOUT (tasks are still running; the
 * executor stays usable for them, and weft_executor_free() will not wait
 * for them again), WEFT_EINVAL. */
WEFT_API int weft_executor_shutdown(weft_executor_t *ex, int wait,
                                    int cancel_futures, double timeout);

/** shutdown(wait, not cancelling, forever) unless already shut down, then
 * release the executor. Workers stuck past a timed-out shutdown are left to
 * finish on their own; their futures stay valid. NULL: no-op. */
WEFT_API void weft_executor_free(weft_executor_t *ex);

/** "thread", "inline", "process", "mpi", ...; and the worker limit. */
WEFT_API const char *weft_executor_kind(const weft_executor_t *ex);
WEFT_API unsigned weft_executor_max_workers(const weft_executor_t *ex);

/* ----- map ----- */

/** Executor.map as an iterator over results. It keeps at most buffersize
 * chunks in flight (Python 3.14's buffersize), so an endless input works;
 * chunksize items go to a worker together, as one task (for a byte map,
 * one byte task whose argument packs the items and whose result packs
 * their outcomes, so chunks reach worker processes too; the item function
 * must then be in a loaded image, or the map falls back to one item per
 * task); unordered yields results as they complete rather than in input
 * order. A failing item gives its own
 * code at its own position, and the rest go on (Python's map stops at the
 * first error). timeout counts from the call, as in Python: WEFT_FOREVER
 * waits without limit, 0 does not wait (each result must be ready when
 * asked for, as with Python's map(timeout=0)). Start from
 * WEFT_MAP_OPTS_DEFAULT: a zeroed struct means a timeout of 0. In input
 * order, a consumer that has caught up with the workers waits for the next
 * batch rather than for each result (at most 100 microseconds, then for
 * the next result itself), so that it is not put to sleep and woken once
 * per item. */
typedef struct weft_map_opts {
    double timeout;    /* seconds from the call; WEFT_FOREVER: none */
    size_t chunksize;  /* 0: 1 */
    size_t buffersize; /* chunks in flight; 0: 2 per worker, and at least
                          enough for about 1024 items */
    /** Nonzero: results in completion order, not input order. */
    int unordered;
} weft_map_opts_t;

/** The defaults (what NULL opts means): no timeout, one item per chunk, the
 * default buffer, in input order.
 *     weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
 *     o.chunksize = 100; */
#define WEFT_MAP_OPTS_DEFAULT {WEFT_FOREVER, 0, 0, 0}

/** A map in progress: see weft_executor_map(). */
typedef struct weft_map weft_map_t;

/** Where map takes its input from: 0 with the next *arg, or WEFT_EEOF at the
 * end; any other code stops the map with that code. Called on the thread
 * that calls weft_map_next(). */
typedef int (*weft_arg_source)(void *ctx, void **arg);

/** map over the n pointers of args (borrowed until the map is freed), or
 * over whatever next yields. opts is borrowed; NULL: the defaults.
 * Errors: as submit, and WEFT_EINVAL (NULL out, executor, function or
 * args; a timeout that is NaN or negative other than WEFT_FOREVER: checked
 * first, before any task is submitted or any input taken). */
WEFT_API int weft_executor_map(weft_map_t **out, weft_executor_t *ex,
                               weft_fn fn, void *const *args, size_t n,
                               const weft_map_opts_t *opts);
WEFT_API int weft_executor_map_source(weft_map_t **out, weft_executor_t *ex,
                                      weft_fn fn, weft_arg_source next,
                                      void *ctx, const weft_map_opts_t *opts);

/** map over n byte strings (borrowed until the map is freed: a chunk copies
 * its items when it is submitted); results with weft_map_next_bytes(). */
WEFT_API int weft_executor_map_bytes(weft_map_t **out, weft_executor_t *ex,
                                     weft_bytes_fn fn,
                                     const weft_bytes_t *args, size_t n,
                                     const weft_map_opts_t *opts);

/** The next result: 0 with *result; the item's own code, with its message as
 * the thread's last message (the map goes on); WEFT_EEOF after the last;
 * WEFT_ETIMEDOUT when the map's timeout passed first; WEFT_ECANCELLED.
 * *index (if not NULL) receives the item's position in the input.
 * Blocks: yes. Ownership: *result is the task's; a byte string is borrowed
 * until the next call. */
WEFT_API int weft_map_next(weft_map_t *m, void **result, size_t *index);
WEFT_API int weft_map_next_bytes(weft_map_t *m, const weft_bytes_t **result,
                                 size_t *index);

/** Cancel what has not started and release the map (waiting for nothing).
 * NULL: no-op. */
WEFT_API void weft_map_free(weft_map_t *m);

/* ----- The thread pool (ThreadPoolExecutor) ----- */

/** The most workers a thread pool takes. */
#define WEFT_THREAD_POOL_MAX_WORKERS 4096

/** Options of a new thread pool; NULL or a zeroed struct gives the defaults. */
typedef struct weft_thread_pool_opts {
    unsigned max_workers;           /* 0: min(32, CPUs + 4), as Python;
                                       at most WEFT_THREAD_POOL_MAX_WORKERS */
    const char *thread_name_prefix; /* NULL: "ThreadPoolExecutor-N" */
    weft_fn initializer;            /* run first on each worker */
    /** The initializer's argument. */
    void *initarg;
} weft_thread_pool_opts_t;

/** A pool of threads started lazily, as tasks arrive, and reused. If the
 * initializer fails on a worker, the pool is broken: queued and new tasks
 * fail with WEFT_EBROKEN. Workers are named PREFIX_0, PREFIX_1, ...
 * Ownership: *out returns new, freed with weft_executor_free().
 * Errors: WEFT_EINVAL (NULL out; max_workers over the limit: "max_workers
 * must be at most 4096"), WEFT_ENOMEM. */
WEFT_API int weft_thread_pool_new(weft_executor_t **out,
                                  const weft_thread_pool_opts_t *opts);

/** An executor that runs each task at submit, on the caller's thread: for
 * tests and for ordering that must be deterministic. */
WEFT_API int weft_inline_executor_new(weft_executor_t **out);

/* ----- For executor implementers (process pool, MPI) ----- */

/** What a backend gives weft_executor_new(): its operations on its own state
 * (impl). */
typedef struct weft_executor_class {
    /** Its name, as weft_executor_kind() gives it ("process", "mpi", ...). */
    const char *kind;
    /** NULL where the backend cannot run pointer tasks (WEFT_ENOTSUP). */
    int (*submit)(void *impl, weft_fn fn, void *arg, weft_future_t **out);
    /** Takes *arg on success (and empties it); leaves it on failure. */
    int (*submit_bytes)(void *impl, weft_bytes_fn fn, weft_bytes_t *arg,
                        weft_future_t **out);
    /** deadline: monotonic ns, WEFT_NEVER for none. */
    int (*shutdown)(void *impl, int wait, int cancel_futures,
                    int64_t deadline);
    /** Free impl, once shut down. */
    void (*destroy)(void *impl);
    /** The worker limit. */
    unsigned (*max_workers)(const void *impl);
} weft_executor_class_t;

/** Wrap an implementation as an executor. The class outlives the executor;
 * impl is taken (destroy releases it). Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_executor_new(weft_executor_t **out,
                               const weft_executor_class_t *cls, void *impl);

/** The implementation behind ex if ex is of class cls, else NULL (NULL ex:
 * NULL): how a backend's own functions find their state. Returns
 * borrowed, valid while ex lives. */
WEFT_API void *weft_executor_impl(const weft_executor_t *ex,
                                  const weft_executor_class_t *cls);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXECUTOR_H */
