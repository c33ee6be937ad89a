/* SPDX-License-Identifier: MIT */
/** weft/future.h: Future, wait, as_completed and a progress bar, Python's
 * concurrent.futures.Future and its module functions.
 *
 * One future type serves every backend: a thread pool's task, a process
 * pool's, an MPI rank's, a coroutine's, or one a program makes and completes
 * itself. So weft_wait(), weft_as_completed_*(), done callbacks and the
 * progress bar work on any mix of them, and a coroutine waits on a process
 * pool's result like on anything else (Python needs two Future classes and
 * wrap_future for that).
 *
 * States, as Python's: PENDING, RUNNING, FINISHED (with a result or an
 * error), CANCELLED and CANCELLED_AND_NOTIFIED. cancel() succeeds only
 * while pending. A cancelled future is done at once (result() says
 * WEFT_ECANCELLED, its done callbacks run), but weft_wait() and
 * as_completed count it only once its owner has seen the cancel: the
 * executor that would have run it claimed it (weft_future_try_start(),
 * weft_future_set_running_or_notify_cancel()), dropped it
 * (weft_future_cancel_and_notify(), at shutdown) or finished it. Beyond Python,
 * weft_future_stop() asks a running task to stop: the task sees it through
 * weft_task_cancelled(), and every weft blocking call it makes returns
 * WEFT_ECANCELLED from then on (threads cannot be killed, so this is
 * cooperative; the process pool kills the worker instead).
 *
 * A task fails the way Python raises: it returns a WEFT_E* code (or its own,
 * from WEFT_EUSER up) after weft_fail() recorded a message; the future holds
 * both, and weft_future_result() returns the code with the message as the
 * thread's last message.
 *
 * Results are pointers (thread pools, coroutines) or byte strings (process
 * pools, MPI): a future holds one or the other.
 *
 * Handles are reference counted: whoever creates or submits gets one
 * reference and drops it with weft_future_free(); an executor keeps its own
 * while it needs the future. Freeing a pending future does not cancel it.
 *
 * Defaults for this layer: thread-safe; non-blocking unless marked. Done
 * callbacks run exactly once: on the thread that completes the future, or at
 * once on the caller's thread when it is already done; with no weft lock
 * held; they may call any weft function. A callback that fails (returns
 * non-zero) is reported through the log layer ("exception calling callback
 * for future") and the others still run. An array with a count of 0 may be
 * NULL (the empty list), and an out-pointer for a result may be NULL when
 * the result is not wanted.
 * \file */
#ifndef WEFT_FUTURE_H
#define WEFT_FUTURE_H

#ifndef __cplusplus
#include <stdatomic.h> /* C callers have long had it from here */
#endif
#include <stddef.h>
#include <stdint.h>

#include "weft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A future: see above. */
typedef struct weft_future weft_future_t;

/** A future's state, as weft_future_state() gives it. */
enum weft_future_state {
    WEFT_FUTURE_PENDING = 0,
    WEFT_FUTURE_RUNNING = 1,
    WEFT_FUTURE_FINISHED = 2,
    WEFT_FUTURE_CANCELLED = 3,
    WEFT_FUTURE_CANCELLED_AND_NOTIFIED = 4
};

/** A future that the caller completes (concurrent.futures.Future()).
 * Ownership: *out returns a new reference. Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_future_new(weft_future_t **out);

/** Take another reference; drop one (NULL: no-op). Returns f. */
WEFT_API weft_future_t *weft_future_ref(weft_future_t *f);
WEFT_API void weft_future_free(weft_future_t *f);

/** The state now, and the usual questions about it: done and cancelled
 * hold for both cancelled states, as in Python. */
WEFT_API int weft_future_state(const weft_future_t *f);
WEFT_API int weft_future_done(const weft_future_t *f);
WEFT_API int weft_future_running(const weft_future_t *f);
WEFT_API int weft_future_cancelled(const weft_future_t *f);

/** Cancel f if it has not started: returns 0 (it is now cancelled, or was
 * already, and its done callbacks have run), or WEFT_ESTATE when it is
 * running or finished (Python's cancel() returning False). It counts for
 * weft_wait() and as_completed once its owner notices (see above). */
WEFT_API int weft_future_cancel(weft_future_t *f);

/** Beyond Python: cancel f if pending, or ask its running task to stop.
 * Returns 0 when f is cancelled or the request was delivered, WEFT_ESTATE
 * when f has finished. A task that then returns WEFT_ECANCELLED leaves f
 * CANCELLED; one that finishes anyway leaves its result. */
WEFT_API int weft_future_stop(weft_future_t *f);

/** Wait up to timeout seconds for f, then give its outcome: 0 with *result
 * (if not NULL) set; the task's own code, with its message as the calling
 * thread's last message; WEFT_ECANCELLED when f was cancelled.
 * Blocks: yes, unless f is done or timeout is 0. On an executor's worker,
 * the wait runs other tasks meanwhile (see executor.h).
 * Errors besides the task's: WEFT_ETIMEDOUT (f is still not done),
 * WEFT_ECANCELLED (also: the caller's own scope was cancelled),
 * WEFT_EINVAL (bad timeout, checked first, even when f is done; or a
 * byte-string future: use _result_bytes).
 * Ownership: *result is the task's, passed on as is. */
WEFT_API int weft_future_result(weft_future_t *f, double timeout,
                                void **result);

/** The same for a future whose result is a byte string: *result is borrowed,
 * valid while the caller holds its reference to f. WEFT_EINVAL for a
 * pointer future. */
WEFT_API int weft_future_result_bytes(weft_future_t *f, double timeout,
                                      const weft_bytes_t **result);

/** Python's exception(timeout): wait like result, then fill *error with the
 * task's code and message (code 0 on success). Returns 0, or WEFT_ETIMEDOUT,
 * WEFT_ECANCELLED (f was cancelled), WEFT_EINVAL. Blocks: as result. */
WEFT_API int weft_future_error(weft_future_t *f, double timeout,
                               weft_error_info_t *error);

/** Wait for f to be done, whatever its outcome. Returns 0, WEFT_ETIMEDOUT,
 * WEFT_ECANCELLED (the caller's scope) or WEFT_EINVAL. Blocks: as result. */
WEFT_API int weft_future_wait(weft_future_t *f, double timeout);

/** Call fn(f, arg) once f is done: at once, on this thread, if it already
 * is. Errors: WEFT_EINVAL (NULL fn), WEFT_ENOMEM (fn was not added). */
typedef int (*weft_future_callback)(weft_future_t *f, void *arg);
WEFT_API int weft_future_add_done_callback(weft_future_t *f,
                                           weft_future_callback fn, void *arg);

/* ----- Completing a future: for its owner (an executor, or the program
 * that made it with weft_future_new) ----- */

/** Python's set_running_or_notify_cancel: returns 0 and marks f RUNNING if
 * it was pending; WEFT_ECANCELLED if it was cancelled (the task must not
 * run): f is then CANCELLED_AND_NOTIFIED, and the waiters of weft_wait()
 * and as_completed count it; WEFT_ESTATE otherwise (running, finished, or
 * notified already: Python's RuntimeError). */
WEFT_API int weft_future_set_running_or_notify_cancel(weft_future_t *f);

/** For an owner that will never run f (an executor dropping queued work at
 * shutdown): cancel f if it is pending, and notify its cancel at once, as
 * a claim would. Returns 0 (f is CANCELLED_AND_NOTIFIED, now or before),
 * or WEFT_ESTATE when it is running or finished. */
WEFT_API int weft_future_cancel_and_notify(weft_future_t *f);

/** Finish f with a result, a byte-string result (taken: freed with f), or an
 * error (code and printf-style message). Wakes every waiter and runs the
 * callbacks. Errors: WEFT_ESTATE when f is already done (InvalidStateError;
 * a byte string passed in then stays the caller's), WEFT_EINVAL (code 0). */
WEFT_API int weft_future_set_result(weft_future_t *f, void *result);
WEFT_API int weft_future_set_result_bytes(weft_future_t *f,
                                          weft_bytes_t *result);
WEFT_API int weft_future_set_error(weft_future_t *f, int code,
                                   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Finish f from what a task returned: code 0 sets result, anything else
 * sets the error with the calling thread's last message. What executors call
 * after running a weft_fn. Errors: WEFT_ESTATE (f was done already; if it
 * was cancelled, it is notified now: its owner has seen it). */
WEFT_API int weft_future_finish(weft_future_t *f, int code, void *result);

/** Nonzero when a stop was asked for the running task that is calling (the
 * current task of a worker or coroutine): the same as weft_cancelled(). */
WEFT_API int weft_task_cancelled(void);

/* ----- For executors: a future at the head of a larger task object ----- */

/** What an executor's tasks share: the size of the whole object (future
 * first), how to release it once the last reference is dropped, and how to
 * ask a running task to stop (called with f's internal lock held: it must
 * only signal, never block). destroy runs after the future's own state
 * (result, error, callbacks) has been released.
 *
 * wait, if not NULL, lets an OS thread that waits on a future of the class
 * do the executor's work instead of sleeping, so that it is woken by the
 * event that completes the future rather than by another thread that saw
 * it (a process pool's waiter reads its worker's socket itself). It is
 * called by a thread (never a coroutine: see weft_park_in_thread()) whose
 * wait on f would otherwise park, after the thread's own wait hook
 * declined, with no weft lock held; it returns 0 once f is done,
 * WEFT_EAGAIN to park as usual, or WEFT_ETIMEDOUT (the monotonic deadline
 * passed) or WEFT_ECANCELLED (the caller's scope was cancelled). */
typedef struct weft_future_class {
    /** Bytes to allocate for a future of the class (at least
     * WEFT_FUTURE_SIZE). */
    size_t size;
    /** Release the executor's part of f (see above); may be NULL. */
    void (*destroy)(weft_future_t *f);
    /** Deliver weft_future_stop() to f's running task; may be NULL. */
    void (*stop)(weft_future_t *f);
    /** Wait for f by doing the executor's work (see above); may be NULL. */
    int (*wait)(weft_future_t *f, int64_t deadline);
} weft_future_class_t;

/** The bytes a future takes at the head of its object: what a class's size
 * must at least be, and where the executor's own part starts. */
#define WEFT_FUTURE_SIZE 64

/** A pending future of the given class with one reference (two when refs is
 * 2: one for the caller, one for the executor). The object is cls->size
 * bytes, zeroed past the future. Errors: WEFT_ENOMEM, WEFT_EINVAL. */
WEFT_API int weft_future_new_of(weft_future_t **out,
                                const weft_future_class_t *cls,
                                unsigned refs);

/** The same in memory the executor provides (cls->size bytes, aligned for
 * any type, e.g. from its own cache); the future part is set up, the rest
 * is left as it is. Returns the future. */
WEFT_API weft_future_t *weft_future_init_of(void *memory,
                                            const weft_future_class_t *cls,
                                            unsigned refs);

/** The class f was made with, so an executor can tell its own tasks. */
WEFT_API const weft_future_class_t *weft_future_class_of(const weft_future_t *f);

/** Claim a pending future for running, quietly: 1 when it was pending and
 * is now RUNNING (the caller must run it), 0 otherwise (someone else runs
 * it, or it was cancelled or is done). A cancelled future is notified by
 * the claim, as set_running_or_notify_cancel does. */
WEFT_API int weft_future_try_start(weft_future_t *f);

/** The executor's part of f's object: WEFT_FUTURE_SIZE bytes in. */
static inline void *weft_future_extra(weft_future_t *f)
{
    return (unsigned char *)f + WEFT_FUTURE_SIZE;
}

/** The state word (an atomic 32-bit word, see weft_park_wait) that a scope
 * can watch so that a stop request reaches a running task
 * (weft_cancel_scope_watch), and the bit that means it. */
WEFT_API const void *weft_future_stop_word(const weft_future_t *f);
#define WEFT_FUTURE_STOP_BIT (1u << 8)

/** While set on a thread, a wait on a future that is not done calls
 * hook(f, deadline) before parking: the hook may run other work until f is
 * done (returning 0), or return WEFT_EAGAIN to let the wait park as usual;
 * WEFT_ETIMEDOUT and WEFT_ECANCELLED end the wait. How a thread pool's
 * workers help instead of sleeping. Thread-local; returns the previous. */
typedef int (*weft_future_wait_hook)(weft_future_t *f, int64_t deadline);
WEFT_API weft_future_wait_hook
weft_future_set_wait_hook(weft_future_wait_hook hook);

/* ----- Waiting on many (module functions) ----- */

/** When weft_wait() returns (return_when). */
enum weft_return_when {
    WEFT_FIRST_COMPLETED = 1,
    WEFT_FIRST_EXCEPTION = 2,
    WEFT_ALL_COMPLETED = 3
};

/** concurrent.futures.wait: wait up to timeout seconds until return_when
 * holds for the n futures in fs (which may repeat, and may come from any
 * executors), then sort them into done and not_done: caller arrays of n
 * entries each (either may be NULL), filled with borrowed pointers, each
 * future once, in the order of fs; *n_done and *n_not_done (if not NULL)
 * get the counts. As in Python, done means finished, or cancelled and
 * notified (a future merely cancelled waits in not_done for its owner to
 * notice); FIRST_EXCEPTION stops at the first future that finishes with an
 * error, not at a cancellation. A timeout is not an error: the sets say
 * what happened. Costs O(n) to set up and O(1) per completion.
 * Blocks: yes. Errors: WEFT_EINVAL (NULL fs with n > 0, bad return_when,
 * bad timeout), WEFT_ENOMEM, WEFT_ECANCELLED (the caller's scope). */
WEFT_API int weft_wait(weft_future_t *const *fs, size_t n, double timeout,
                       int return_when, weft_future_t **done, size_t *n_done,
                       weft_future_t **not_done, size_t *n_not_done);

/** concurrent.futures.as_completed: an iterator that yields each future once
 * (duplicates in fs are yielded once), in the order they complete
 * (finished, or cancelled and notified, as for weft_wait), those already
 * done first. Its timeout counts from creation, as Python's.
 * Futures may be added while iterating (a completion queue).
 * Ownership: the iterator takes a reference to each future; what _next
 * yields is borrowed while the iterator lives. */
typedef struct weft_as_completed weft_as_completed_t;

/** Make the iterator over the n futures in fs; add one more to it. Errors:
 * WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_as_completed_new(weft_as_completed_t **out,
                                   weft_future_t *const *fs, size_t n,
                                   double timeout);
WEFT_API int weft_as_completed_add(weft_as_completed_t *it, weft_future_t *f);

/** Next completed future into *f. Returns 0; WEFT_EEOF when every future has
 * been yielded; WEFT_ETIMEDOUT when the timeout passed first, with Python's
 * message ("3 (of 5) futures unfinished"). Blocks: yes. O(1) per call. */
WEFT_API int weft_as_completed_next(weft_as_completed_t *it,
                                    weft_future_t **f);
WEFT_API void weft_as_completed_free(weft_as_completed_t *it);

/* ----- Progress ----- */

/** A progress bar over tasks (the seeds' ProgressTracker): count, percent,
 * rate and ETA. On a terminal it redraws one line of stderr; otherwise it
 * prints a plain line at most every interval seconds and at the end.
 * weft_progress_track() counts a future when it completes. */
typedef struct weft_progress weft_progress_t;

/** Options of a progress bar; NULL or a zeroed struct gives the defaults. */
typedef struct weft_progress_opts {
    const char *label;  /* shown first; NULL: "Progress" */
    int fd;             /* where to draw; 0: stderr */
    double interval;    /* seconds between plain lines; 0: 1.0 */
    int force_terminal; /* -1: never redraw in place, 1: always, 0: isatty */
} weft_progress_opts_t;

/** Make a bar over total tasks; count n more done; count f when it completes.
 * Ownership: *out returns new, freed with weft_progress_free(). Errors:
 * WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_progress_new(weft_progress_t **out, size_t total,
                               const weft_progress_opts_t *opts);
WEFT_API void weft_progress_update(weft_progress_t *p, size_t n);
WEFT_API int weft_progress_track(weft_progress_t *p, weft_future_t *f);
/** The count so far, and the final line (with the total time). */
WEFT_API size_t weft_progress_completed(weft_progress_t *p);
WEFT_API void weft_progress_finish(weft_progress_t *p);
/** Drop the caller's hold on p; futures still tracked keep it alive until
 * they complete. */
WEFT_API void weft_progress_free(weft_progress_t *p);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_FUTURE_H */
