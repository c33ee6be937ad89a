/* SPDX-License-Identifier: MIT */
/** weft/pool.h: multiprocessing.Pool's API over any executor: so
 * multiprocessing.dummy.ThreadPool over the thread pool today, and the
 * process Pool over the process pool (procpool layer).
 *
 * The pool hands every task to its executor; what it adds is Python's Pool
 * vocabulary (map, starmap, imap, imap_unordered, apply, apply_async,
 * map_async with AsyncResult, close, terminate, join) and its life cycle:
 * RUN until close() (no new tasks, the queued ones finish) or terminate()
 * (the queued ones are cancelled and the running ones asked to stop), then
 * join() waits for the tasks to be done.
 *
 * Defaults for this layer: thread-safe; blocking only where marked. A
 * function passed in runs on the executor's workers; callbacks of the async
 * calls run on the thread that completes the task, with no weft lock held. An array
 * with a count of 0 may be NULL (the empty list), and an out-pointer for a
 * result may be NULL when the result is not wanted.
 * \file */
#ifndef WEFT_POOL_H
#define WEFT_POOL_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/executor.h"
#include "weft/future.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A pool (multiprocessing.Pool): see the constructors below. */
typedef struct weft_pool weft_pool_t;

/** A Pool over ex. With owns, the pool shuts ex down and frees it when it is
 * freed. Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_pool_new(weft_pool_t **out, weft_executor_t *ex, int owns);

/** multiprocessing.dummy.Pool(processes): a pool over a new thread pool of
 * that many workers (0: as many as CPUs). */
WEFT_API int weft_thread_pool_pool_new(weft_pool_t **out, unsigned processes);

/** terminate() unless closed, join(), and release (and the executor, if
 * owned). NULL: no-op. */
WEFT_API void weft_pool_free(weft_pool_t *p);

/** The executor underneath (borrowed). */
WEFT_API weft_executor_t *weft_pool_executor(weft_pool_t *p);

/** Pool.map: fn over the n args, in chunks of chunksize (0: Python's
 * default, about n / (4 * workers)), results into results[0..n) in input
 * order. Blocks until every item is done. Returns 0, or the code of the
 * first failing item by position (its message is the thread's last
 * message, *failed, if not NULL, its position); results of the items that
 * succeeded are filled either way.
 * Errors besides the items': WEFT_ESTATE (pool not running: "Pool not
 * running"), WEFT_EINVAL, WEFT_ENOMEM, WEFT_ECANCELLED. */
WEFT_API int weft_pool_map(weft_pool_t *p, weft_fn fn, void *const *args,
                           size_t n, size_t chunksize, void **results,
                           size_t *failed);

/** Pool.starmap: each item is an argument list: fn(tuples[i], &result). */
typedef int (*weft_starfn)(void *const *args, void **result);
WEFT_API int weft_pool_starmap(weft_pool_t *p, weft_starfn fn,
                               void *const *const *tuples, size_t n,
                               size_t chunksize, void **results,
                               size_t *failed);

/** Pool.apply: fn(arg) on a worker; blocks for its outcome. */
WEFT_API int weft_pool_apply(weft_pool_t *p, weft_fn fn, void *arg,
                             void **result);

/** Pool.imap and imap_unordered: an iterator over results (the executor's
 * map iterator: weft_map_next, weft_map_free). */
WEFT_API int weft_pool_imap(weft_map_t **out, weft_pool_t *p, weft_fn fn,
                            void *const *args, size_t n, size_t chunksize);
WEFT_API int weft_pool_imap_unordered(weft_map_t **out, weft_pool_t *p,
                                      weft_fn fn, void *const *args, size_t n,
                                      size_t chunksize);

/* ----- AsyncResult ----- */

/** An AsyncResult: what apply_async and map_async give. */
typedef struct weft_async_result weft_async_result_t;

/** Called once the whole call is done: callback(result, ctx) on success (for
 * map_async, result is the array of results), error_callback(code, ctx)
 * otherwise (the message is the calling thread's last message). */
typedef void (*weft_pool_callback)(void *result, void *ctx);
typedef void (*weft_pool_error_callback)(int code, void *ctx);

/** Pool.apply_async and Pool.map_async. Either callback may be NULL.
 * Errors: WEFT_ESTATE (pool not running), WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_pool_apply_async(weft_async_result_t **out, weft_pool_t *p,
                                   weft_fn fn, void *arg,
                                   weft_pool_callback callback,
                                   weft_pool_error_callback error_callback,
                                   void *ctx);
WEFT_API int weft_pool_map_async(weft_async_result_t **out, weft_pool_t *p,
                                 weft_fn fn, void *const *args, size_t n,
                                 size_t chunksize, weft_pool_callback callback,
                                 weft_pool_error_callback error_callback,
                                 void *ctx);

/** AsyncResult.get: wait up to timeout seconds, then 0 with *result (for
 * map_async: an array of n results, borrowed while r lives), or the
 * failure's code. Blocks: yes. Errors: WEFT_ETIMEDOUT, the task's code. */
WEFT_API int weft_async_result_get(weft_async_result_t *r, double timeout,
                                   void **result);
/** AsyncResult.wait: 0 once ready, WEFT_ETIMEDOUT. Blocks: yes. */
WEFT_API int weft_async_result_wait(weft_async_result_t *r, double timeout);
WEFT_API int weft_async_result_ready(weft_async_result_t *r);
/** AsyncResult.successful: 0 with *successful set once ready;
 * WEFT_ESTATE while not ready (Python's ValueError). */
WEFT_API int weft_async_result_successful(weft_async_result_t *r,
                                          int *successful);
/** Drop the caller's hold on r; tasks still running go on. NULL: no-op. */
WEFT_API void weft_async_result_free(weft_async_result_t *r);

/* ----- Calls over byte strings (any executor; the process Pool's) -----
 *
 * The same calls for a weft_bytes_fn over byte strings, which is what a
 * process pool's workers can run (procpool.h: weft_process_pool_pool_new).
 * imap and imap_unordered send chunksize items (0: 1) as one task, as the
 * executor's map does; map, map_async and apply send each item as its own
 * task (chunksize is taken for Python's signature). A failing item fails
 * alone. Arguments are copied at the call (imap: as each chunk is sent). */

/** Pool.map: results[0..n) get new byte strings (the caller frees each with
 * weft_bytes_free()), in input order, when every item succeeded; on the
 * first failing item by position, its code (message as the thread's last
 * message, *failed (if not NULL) its position) and results untouched.
 * Blocks: until every item is done. Errors: as weft_pool_map. */
WEFT_API int weft_pool_map_bytes(weft_pool_t *p, weft_bytes_fn fn,
                                 const weft_bytes_t *args, size_t n,
                                 size_t chunksize, weft_bytes_t *results,
                                 size_t *failed);

/** Pool.apply: fn on a copy of the len bytes at arg; *result gets a new
 * byte string. Blocks: yes. Errors: as weft_pool_apply, and WEFT_EINVAL
 * (NULL result). */
WEFT_API int weft_pool_apply_bytes(weft_pool_t *p, weft_bytes_fn fn,
                                   const void *arg, size_t len,
                                   weft_bytes_t *result);

/** Pool.imap and imap_unordered: the executor's map iterator over bytes
 * (weft_map_next_bytes, weft_map_free). args are borrowed until the
 * iterator is freed. */
WEFT_API int weft_pool_imap_bytes(weft_map_t **out, weft_pool_t *p,
                                  weft_bytes_fn fn, const weft_bytes_t *args,
                                  size_t n, size_t chunksize);
WEFT_API int weft_pool_imap_unordered_bytes(weft_map_t **out, weft_pool_t *p,
                                            weft_bytes_fn fn,
                                            const weft_bytes_t *args,
                                            size_t n, size_t chunksize);

/** Pool.apply_async and Pool.map_async over bytes. The callback's result
 * (and weft_async_result_get's) is a const weft_bytes_t *: for map_async
 * an array of n results in input order, for apply_async the one result;
 * owned by the AsyncResult, valid until weft_async_result_free(). */
WEFT_API int weft_pool_apply_async_bytes(
    weft_async_result_t **out, weft_pool_t *p, weft_bytes_fn fn,
    const void *arg, size_t len, weft_pool_callback callback,
    weft_pool_error_callback error_callback, void *ctx);
WEFT_API int weft_pool_map_async_bytes(
    weft_async_result_t **out, weft_pool_t *p, weft_bytes_fn fn,
    const weft_bytes_t *args, size_t n, size_t chunksize,
    weft_pool_callback callback, weft_pool_error_callback error_callback,
    void *ctx);

/** AsyncResult.get for a byte call: *results as above.
 * Errors: as weft_async_result_get, WEFT_EINVAL (not a byte call). */
WEFT_API int weft_async_result_get_bytes(weft_async_result_t *r,
                                         double timeout,
                                         const weft_bytes_t **results);

/* ----- Life cycle ----- */

/** close: no new tasks; queued ones still run. terminate: also cancel what
 * has not started and ask running tasks to stop. join: wait up to timeout
 * seconds for every task to be done (WEFT_ESTATE while still running:
 * "Pool is still running"; WEFT_ETIMEDOUT). */
WEFT_API int weft_pool_close(weft_pool_t *p);
WEFT_API int weft_pool_terminate(weft_pool_t *p);
WEFT_API int weft_pool_join(weft_pool_t *p, double timeout);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_POOL_H */
