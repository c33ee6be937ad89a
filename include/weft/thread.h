/* SPDX-License-Identifier: MIT */
/** weft/thread.h: Thread, Timer, thread-local storage, and the registry
 * behind current_thread(), main_thread(), active_count() and enumerate():
 * Python's threading.Thread, without a GIL (threads run in parallel).
 *
 * A thread runs a target, a weft_fn: it returns 0 and may leave a result
 * (the seeds' ResultThread comes for free: weft_thread_result()), or fails
 * like Python raises, with a code and message. A failing target is reported
 * through the excepthook (by default one line on stderr naming the thread,
 * the code and the message), as threading.excepthook does.
 *
 * Python's exit rule holds: when the program exits (return from main or
 * exit()), weft joins every started non-daemon thread first; daemon threads
 * are not waited for and stop with the process. As in Python, the main
 * thread's entry counts as finished from then on, so a thread that joins it
 * is released. The joining is an atexit() handler registered when the
 * first thread starts: handlers registered later run before it, those
 * registered earlier after it.
 *
 * Handles are reference counted: weft_thread_new() returns one reference,
 * weft_thread_free() drops it; the registry keeps its own while the thread
 * runs, and each thread keeps one to its own entry (weft_current_thread())
 * until the end of its exit, its thread-local destructors included (all
 * but the last round of them, which sanitizer runtimes keep for
 * themselves).
 * Freeing the handle of a running thread does not stop it. Whoever keeps a
 * handle beyond the moment it was handed out borrowed takes a reference of
 * its own with weft_thread_ref() (and drops it with weft_thread_free()):
 * then the entry stays valid, and answers "not alive" once its thread has
 * ended, for as long as that reference is held.
 *
 * Defaults for this layer: thread-safe and non-blocking unless marked. An
 * out-pointer for a result may be NULL when the result is not wanted.
 *
 * Global state: the thread registry (the live threads, the main thread's
 * entry, the counter behind default names), the global default stack size,
 * the excepthook, the table of thread-local slots, and one registry entry
 * per thread that asks who it is. After fork() the child's registry holds
 * only the thread that forked, which becomes the child's main thread, as in
 * Python; the handles of the other threads read as finished there.
 * \file */
#ifndef WEFT_THREAD_H
#define WEFT_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "weft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A thread (threading.Thread): see weft_thread_new(). */
typedef struct weft_thread weft_thread_t;

/** Options for a new thread; a NULL pointer or a zeroed struct gives
 * Python's defaults. */
typedef struct weft_thread_opts {
    const char *name;  /* NULL or "": "Thread-N (target)" as Python names
                          it */
    int daemon;        /* nonzero: the process may exit without it; 0: as
                          the creating thread (Python's default: threads
                          made by a daemon, or by a thread weft did not
                          start, are daemons too; weft_thread_set_daemon()
                          overrides it before start) */
    size_t stack_size; /* 0: the global default (weft_thread_stack_size) */
} weft_thread_opts_t;

/** Create a thread that will run target(arg, &result) once started.
 * Ownership: arg is passed on as is; *out returns a new reference.
 * Errors: WEFT_EINVAL (NULL out or target, stack_size below the minimum),
 * WEFT_ENOMEM. */
WEFT_API int weft_thread_new(weft_thread_t **out, weft_fn target, void *arg,
                             const weft_thread_opts_t *opts);

/** Drop a reference; t may still be running (it then runs on). NULL: no-op. */
WEFT_API void weft_thread_free(weft_thread_t *t);

/** Take another reference to t. Returns t. */
WEFT_API weft_thread_t *weft_thread_ref(weft_thread_t *t);

/** Start t. Errors: WEFT_ESTATE on a second start ("threads can only be
 * started once"), WEFT_ESYS when the system refuses a new thread. */
WEFT_API int weft_thread_start(weft_thread_t *t);

/** Wait until t has finished, up to timeout seconds. Once it returns 0, the
 * target has returned, the excepthook has run and t's thread-local values
 * have been destroyed. The main thread's entry finishes when the program
 * exits (the exit rule above). A thread weft did not start cannot be
 * joined (Python 3.13): its end is not weft's to wait for.
 * Blocks: yes (a coroutine suspends alone), except on the errors below,
 * which come at once.
 * Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL (NULL t, bad
 * timeout: checked first), WEFT_ESTATE ("cannot join a dummy thread";
 * not started: "cannot join thread before it is started"), WEFT_EDEADLK
 * (t is the calling thread: "cannot join current thread"). */
WEFT_API int weft_thread_join(weft_thread_t *t, double timeout);

/** Nonzero from start until the target has returned. */
WEFT_API int weft_thread_is_alive(const weft_thread_t *t);

/** The name (borrowed, valid while t lives, even after a rename: names are
 * kept until t is freed), and a new one (copied). A thread's OS name (for
 * debuggers, cut to 15 bytes) is set as it starts, and on a rename made by
 * the thread itself. Errors: WEFT_EINVAL (NULL name), WEFT_ENOMEM. */
WEFT_API const char *weft_thread_name(const weft_thread_t *t);
WEFT_API int weft_thread_set_name(weft_thread_t *t, const char *name);

/** The daemon flag; it can only be changed before start (WEFT_ESTATE). */
WEFT_API int weft_thread_daemon(const weft_thread_t *t);
WEFT_API int weft_thread_set_daemon(weft_thread_t *t, int daemon);

/** Python's ident (a process-unique number, 0 before start) and native_id
 * (the kernel's thread id, 0 before start). */
WEFT_API uint64_t weft_thread_ident(const weft_thread_t *t);
WEFT_API uint64_t weft_thread_native_id(const weft_thread_t *t);

/** What the finished target left: returns the target's own code (0 on
 * success, *result then holds its result; result may be NULL) or
 * WEFT_ESTATE while t has not finished (or, in a child made by fork(), for
 * a thread that stayed in the parent). On failure the calling thread's last
 * message is the target's message and *result is left as it was.
 * Ownership: *result is the target's, passed on as is. */
WEFT_API int weft_thread_result(const weft_thread_t *t, void **result);

/** The calling thread's entry: a weft thread's own handle, or an entry made
 * on first use for a thread weft did not start ("MainThread" for the main
 * thread, "Dummy-N" for others; a dummy is a daemon, leaves the registry
 * and reads as not alive once its thread exits, and becomes the child's
 * "MainThread" if its thread forks). Returns borrowed: valid, and the
 * calling thread's, until that thread has ended, through its last
 * thread-local destructor (weft's and other libraries'). To keep it longer,
 * or to hand it to another thread, take a reference (weft_thread_ref())
 * while it is valid. NULL only when out of memory, or when asked from an
 * exit destructor that runs after the calling thread's entry was let go. */
WEFT_API weft_thread_t *weft_current_thread(void);
WEFT_API weft_thread_t *weft_main_thread(void);

/** The calling thread's ident and native id (threading.get_ident(),
 * get_native_id()). */
WEFT_API uint64_t weft_get_ident(void);
WEFT_API uint64_t weft_get_native_id(void);

/** How many threads are alive: the main thread, every started weft thread
 * that has not finished, and every other thread that asked for its entry. */
WEFT_API size_t weft_active_count(void);

/** A snapshot of the live threads, in start order, main thread first.
 * Ownership: *list returns a new array of new references; free both with
 * weft_thread_list_free(). Errors: WEFT_EINVAL (NULL list or count),
 * WEFT_ENOMEM. */
WEFT_API int weft_enumerate(weft_thread_t ***list, size_t *count);
WEFT_API void weft_thread_list_free(weft_thread_t **list, size_t count);

/** The default stack size for new threads (threading.stack_size()): 0 for the
 * system's default. *old, if not NULL, receives the previous value.
 * Errors: WEFT_EINVAL (non-zero and below 32 KiB). */
WEFT_API int weft_thread_stack_size(size_t size, size_t *old);

/** threading.excepthook: called on the failing thread, after its target
 * returned a non-zero code, with the thread and the error (both borrowed
 * for the call), before the thread counts as finished. NULL restores the
 * default, which prints "Exception in thread NAME: WEFT_EXXX: message" on
 * stderr in one write, the code named by weft_errname() ("WEFT_EUSER+5",
 * "error N" for a code weft does not know). Returns the previous hook, the
 * default included, so a hook may chain to it (threading.__excepthook__). */
typedef void (*weft_excepthook_t)(weft_thread_t *t,
                                  const weft_error_info_t *error);
WEFT_API weft_excepthook_t weft_thread_set_excepthook(weft_excepthook_t hook);

/* ----- Timer (threading.Timer) ----- */

/** A thread that waits interval seconds, then runs fn(arg, &result) unless
 * cancelled first. It is a weft_thread_t: start, join, name and daemon work
 * as for any thread; its default name is "Thread-N", as Python names a
 * Timer. A cancelled timer finishes with code 0 and a NULL result.
 * Errors: as weft_thread_new(), and WEFT_EINVAL for a negative or NaN
 * interval. */
WEFT_API int weft_timer_new(weft_thread_t **out, double interval, weft_fn fn,
                            void *arg, const weft_thread_opts_t *opts);

/** Stop the timer if it has not fired yet: fn will not run, and a timer
 * waiting out its interval ends at once. Cancelling before start, or after
 * firing, is allowed. Errors: WEFT_EINVAL when t is NULL or not a timer. */
WEFT_API int weft_timer_cancel(weft_thread_t *t);

/* ----- Thread-local storage (threading.local) ----- */

/** Thread-local storage (threading.local): see weft_local_new(). */
typedef struct weft_local weft_local_t;

/** A slot that holds one value per thread, NULL until set. destructor, if
 * not NULL, runs on a thread's non-NULL value when that thread ends: for a
 * weft thread before join() returns, for another thread as it exits (the
 * main thread's values are not destroyed at exit). A destructor may set
 * values again; they are destroyed in turn, up to four rounds.
 * weft_local_free() drops the values still held without their destructors
 * (as pthread_key_delete does); free a local only when no thread uses it.
 * Errors: WEFT_EINVAL (NULL out or local), WEFT_ENOMEM (out of memory, or
 * all 1024 slots in use). */
WEFT_API int weft_local_new(weft_local_t **out, void (*destructor)(void *));
WEFT_API void weft_local_free(weft_local_t *l);
WEFT_API void *weft_local_get(const weft_local_t *l);
WEFT_API int weft_local_set(weft_local_t *l, void *value);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_THREAD_H */
