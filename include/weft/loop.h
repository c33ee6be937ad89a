/* SPDX-License-Identifier: MIT */
/** weft/loop.h: the event loop, asyncio's loop and the event-driven programs
 * built on it (callbacks, timers, file descriptors, signals, an event
 * emitter).
 *
 * A loop runs callbacks on one thread: the one that calls run_forever or
 * run_until_complete. Callbacks scheduled with call_soon run in the order
 * they were scheduled (strict FIFO); timers run in the order of their
 * deadlines on the monotonic clock, ties in the order they were set. Each
 * iteration of the loop waits for I/O (epoll), moves the timers that are due
 * to the back of the ready callbacks, then runs the callbacks that were ready
 * when the iteration began; those they schedule run in the next iteration,
 * as in asyncio. A busy loop looks for I/O at least every 64 iterations.
 *
 * Callbacks return 0, or fail the way Python raises (return weft_fail(...)):
 * a failing callback is reported through the loop's exception handler and
 * the loop keeps running. The coro layer runs coroutines on a loop; the net
 * layer its sockets.
 *
 * Defaults for this layer: functions taking a loop are for the loop's own
 * thread only (the thread that runs it, or, while it is not running, the
 * thread that owns it), and never block; the exceptions, marked
 * "thread-safe", may be called from any thread. While a loop runs, its
 * other functions called from another thread fail with WEFT_ESTATE and a
 * message naming weft_loop_call_soon_threadsafe (asyncio's debug-mode
 * check, always on here: a thread-id compare); a loop that is not running
 * takes them from any thread (asyncio allows call_soon before run: the
 * thread that will run it is not known yet). Callbacks run on the loop's
 * thread with no weft lock held and may call any weft function; a callback
 * that blocks stops the whole loop meanwhile (run blocking work with
 * run_in_executor, or in a coroutine, which suspends alone). An
 * out-pointer for a result may be NULL when the result is not wanted.
 *
 * Global state: each thread's running loop and its default loop (created on
 * first use, freed when the thread exits; a child made by fork() must make
 * its own); which loop handles each signal.
 * \file */
#ifndef WEFT_LOOP_H
#define WEFT_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "weft/base.h"
#include "weft/executor.h"
#include "weft/future.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An event loop: see weft_loop_new(). */
typedef struct weft_loop weft_loop_t;

/** A callback: returns 0, or a code after weft_fail() recorded a message. */
typedef int (*weft_callback)(void *arg);

/** What call_soon, call_later and call_at hand back, to cancel the callback
 * (asyncio.Handle / TimerHandle). A plain value: copy it freely; once the
 * callback has run or been cancelled, cancelling again does nothing. */
typedef struct weft_handle {
    void *node_;
    uint64_t gen_;
} weft_handle_t;

/* ----- Life ----- */

/** A new loop, owned by the calling thread (asyncio.new_event_loop).
 * Ownership: *out returns new, freed with weft_loop_free().
 * Errors: WEFT_ENOMEM, WEFT_ESYS (no epoll or eventfd), WEFT_EINVAL. */
WEFT_API int weft_loop_new(weft_loop_t **out);

/** Close loop and free it (loop.close()). Services attached to it (the coro
 * layer's tasks) are closed first: pending tasks are cancelled and the loop
 * runs until they have finished, as asyncio.run() does. Callbacks still
 * scheduled are dropped without running. NULL: no-op. A running loop is not
 * freed: the call reports WEFT_ESTATE on stderr and returns. */
WEFT_API void weft_loop_free(weft_loop_t *loop);

/** The calling thread's default loop, made on first use and freed when the
 * thread exits (asyncio.get_event_loop()). Returns borrowed.
 * Errors: as weft_loop_new. */
WEFT_API int weft_loop_default(weft_loop_t **out);

/** The loop running on the calling thread, or NULL (get_running_loop()).
 * Thread-safe (it answers for the caller's thread). */
WEFT_API weft_loop_t *weft_loop_running(void);

/* ----- Running ----- */

/** Run until weft_loop_stop() (loop.run_forever()).
 * Blocks: yes. Errors: WEFT_ESTATE (this loop or another one is already
 * running on this thread, or the call comes from another thread than the
 * owner's while the loop is not free to move: see weft_loop_new). */
WEFT_API int weft_loop_run_forever(weft_loop_t *loop);

/** Run until f is done, then give f's outcome as weft_future_result would
 * (0 and *result; the task's code and message; WEFT_ECANCELLED). f may be
 * any weft future: a task of this loop, a thread pool's, one completed by
 * another thread. Blocks: yes. Errors: WEFT_ESTATE (as run_forever, or the
 * loop was stopped before f was done), WEFT_EINVAL. */
WEFT_API int weft_loop_run_until_complete(weft_loop_t *loop, weft_future_t *f,
                                          void **result);

/** Run iterations until done(ctx) returns nonzero (asked after each one) or
 * the loop is stopped. For layers above that wait on a loop that nobody
 * runs (a plain thread reading a socket). done must be quick and must not
 * block: it may be asked on a task's stack, between two tasks. Returns 0,
 * or WEFT_ESTATE as run_forever (and when stopped before done). done NULL:
 * until stopped (run_forever). Blocks: yes. */
WEFT_API int weft_loop_run_until(weft_loop_t *loop, int (*done)(void *ctx),
                                 void *ctx);

/** Ask the loop to stop once the callbacks ready now have run (loop.stop()).
 * Thread-safe. */
WEFT_API void weft_loop_stop(weft_loop_t *loop);

/** 0 when the calling thread may make loop's non-thread-safe calls now:
 * loop is not running, or runs on this thread. Otherwise WEFT_ESTATE, with
 * a message that starts with what (the caller's name) and names
 * weft_loop_call_soon_threadsafe; the loop functions marked "for the
 * loop's own thread" make this check themselves, and a layer above uses it
 * for its own (the coro layer's task creation); what NULL reads "loop".
 * Thread-safe; never blocks.
 * Errors: WEFT_ESTATE, WEFT_EINVAL (NULL loop). */
WEFT_API int weft_loop_check_thread(const weft_loop_t *loop, const char *what);

/** Nonzero while the loop runs. Thread-safe. */
WEFT_API int weft_loop_is_running(const weft_loop_t *loop);

/** The loop's clock: monotonic seconds (loop.time()). Thread-safe. */
WEFT_API double weft_loop_time(const weft_loop_t *loop);

/* ----- Callbacks and timers ----- */

/** Schedule fn(arg) to run in the loop's next iteration, after every
 * callback already scheduled (loop.call_soon). handle, if not NULL,
 * receives a handle to cancel it. Costs no allocation in the steady state.
 * Errors: WEFT_EINVAL (NULL fn), WEFT_ENOMEM (nothing was scheduled),
 * WEFT_ESTATE (the loop runs on another thread: see weft_loop_check_thread).
 */
WEFT_API int weft_loop_call_soon(weft_loop_t *loop, weft_callback fn, void *arg,
                                 weft_handle_t *handle);

/** The same from any thread, waking the loop at once if it sleeps
 * (loop.call_soon_threadsafe). Thread-safe. Callbacks scheduled by one
 * thread run in the order that thread scheduled them.
 * Errors: WEFT_EINVAL, WEFT_ENOMEM, WEFT_ECLOSED (the loop is being freed). */
WEFT_API int weft_loop_call_soon_threadsafe(weft_loop_t *loop, weft_callback fn,
                                            void *arg);

/** Schedule fn(arg) after delay seconds (loop.call_later), or at the loop
 * time when (monotonic seconds, loop.call_at); call_at_ns takes monotonic
 * nanoseconds. A delay of 0 is due at once: it runs in the next iteration,
 * in order with the other timers that are due. A timer runs no earlier than
 * its deadline, and late by the time the loop spends in other callbacks.
 * Errors: WEFT_EINVAL (NULL fn, NaN or negative delay), WEFT_ENOMEM,
 * WEFT_ESTATE (the loop runs on another thread). */
WEFT_API int weft_loop_call_later(weft_loop_t *loop, double delay,
                                  weft_callback fn, void *arg,
                                  weft_handle_t *handle);
WEFT_API int weft_loop_call_at(weft_loop_t *loop, double when, weft_callback fn,
                               void *arg, weft_handle_t *handle);
WEFT_API int weft_loop_call_at_ns(weft_loop_t *loop, int64_t when,
                                  weft_callback fn, void *arg,
                                  weft_handle_t *handle);

/** Cancel the callback or timer behind h (Handle.cancel()): it will not run.
 * Cancelling one that has run, or twice, does nothing. For the loop's
 * thread only, like the call that made h; the loop must still exist. */
WEFT_API void weft_handle_cancel(weft_handle_t *h);

/** Nonzero while h's callback is scheduled and not cancelled. */
WEFT_API int weft_handle_pending(const weft_handle_t *h);

/* ----- File descriptors ----- */

/** Call fn(arg) in each iteration while fd is readable (loop.add_reader),
 * or writable (add_writer); level-triggered, as asyncio. Adding again
 * replaces the callback. The fd stays the caller's.
 * Errors: WEFT_EINVAL (bad fd or NULL fn; an fd watched with
 * weft_loop_watch_fd), WEFT_ESYS (epoll refused it), WEFT_ENOMEM. */
WEFT_API int weft_loop_add_reader(weft_loop_t *loop, int fd, weft_callback fn,
                                  void *arg);
WEFT_API int weft_loop_add_writer(weft_loop_t *loop, int fd, weft_callback fn,
                                  void *arg);

/** Stop watching fd for reading (writing). Returns 0, or WEFT_EKEY when no
 * reader (writer) was registered (asyncio's False). */
WEFT_API int weft_loop_remove_reader(weft_loop_t *loop, int fd);
WEFT_API int weft_loop_remove_writer(weft_loop_t *loop, int fd);

/** Edge-triggered watching, for layers that read until EAGAIN themselves
 * (the net layer's streams): fn(arg, events) runs whenever fd becomes
 * readable (WEFT_IO_READ), writable (WEFT_IO_WRITE), or its peer hangs up or
 * fails (WEFT_IO_CLOSED), once per change. Errors: as add_reader. */
#define WEFT_IO_READ 1u
#define WEFT_IO_WRITE 2u
#define WEFT_IO_CLOSED 4u
typedef void (*weft_io_callback)(void *arg, unsigned events);
WEFT_API int weft_loop_watch_fd(weft_loop_t *loop, int fd, weft_io_callback fn,
                                void *arg);
/** Errors: WEFT_EKEY (fd was not watched). */
WEFT_API int weft_loop_unwatch_fd(weft_loop_t *loop, int fd);

/* ----- Signals ----- */

/** Run fn(arg) on the loop whenever signal sig arrives
 * (loop.add_signal_handler), through a signalfd: sig is blocked in the
 * calling thread; if another thread receives it, a small handler passes it
 * on to this one. One loop handles a given signal at a time.
 * Errors: WEFT_EINVAL (bad signal, SIGKILL/SIGSTOP, NULL fn), WEFT_EEXIST
 * (another loop handles sig), WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_loop_add_signal_handler(weft_loop_t *loop, int sig,
                                          weft_callback fn, void *arg);

/** Stop handling sig: its previous disposition and mask come back.
 * Errors: WEFT_EKEY (no handler for sig on this loop). */
WEFT_API int weft_loop_remove_signal_handler(weft_loop_t *loop, int sig);

/* ----- Futures ----- */

/** Call fn(f, arg) on the loop once f is done, whichever thread completes f
 * (a thread pool's, a process pool's, another loop's): the done callback
 * hands it over with call_soon_threadsafe. Takes a reference to f until fn
 * has run. Thread-safe. Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_loop_call_when_done(weft_loop_t *loop, weft_future_t *f,
                                      weft_future_callback fn, void *arg);

/** Run fn(arg, &result) on executor ex (loop.run_in_executor) and hand its
 * future back in *out: a task waits on it like on any future (suspending
 * alone), and weft_loop_call_when_done runs a callback on the loop when it
 * completes. ex NULL: the loop's default thread pool, made on first use and
 * shut down (waiting for its tasks) when the loop is freed.
 * Ownership: *out returns a new reference. Errors: those of
 * weft_executor_submit and weft_thread_pool_new; WEFT_EINVAL. */
WEFT_API int weft_loop_run_in_executor(weft_loop_t *loop, weft_executor_t *ex,
                                       weft_fn fn, void *arg,
                                       weft_future_t **out);

/* ----- Errors in callbacks ----- */

/** What the exception handler learns (asyncio's context dict). */
typedef struct weft_loop_error {
    /** The callback's code (WEFT_E* or its own). */
    int code;
    const char *message;  /* the callback's message, borrowed for the call */
    const void *callback; /* the function that failed, NULL if none */
    /** The argument the callback was given. */
    void *arg;
} weft_loop_error_t;

/** A loop's exception handler: called on the thread that reports the error
 * (the loop's own, for its callbacks), error borrowed for the call. */
typedef void (*weft_loop_exception_handler)(weft_loop_t *loop,
                                            const weft_loop_error_t *error,
                                            void *arg);

/** Replace the exception handler (NULL: the default, which prints
 * "weft loop: exception in callback NAME: WEFT_E...: message" on stderr). */
WEFT_API void weft_loop_set_exception_handler(weft_loop_t *loop,
                                              weft_loop_exception_handler fn,
                                              void *arg);

/** Report an error through the loop's handler (call_exception_handler). */
WEFT_API void weft_loop_call_exception_handler(weft_loop_t *loop,
                                               const weft_loop_error_t *error);

/* ----- Services: per-loop state of the layers above ----- */

/** A layer above (coro, net) keeps its per-loop state as a service: close
 * runs first thing in weft_loop_free (services in reverse order of
 * attachment), while the loop can still run (to finish tasks); destroy
 * runs after every service was closed. The struct's tag is not the name of
 * the function weft_loop_service(), which C++ would take for a constructor
 * hidden by the function (g++ -Wshadow). */
typedef struct weft_loop_service_s {
    /** The service's name, for messages. */
    const char *name;
    /** First thing in weft_loop_free; may be NULL. */
    void (*close)(weft_loop_t *loop, void *state);
    /** After every service was closed: free state; may be NULL. */
    void (*destroy)(void *state);
} weft_loop_service_t;

/** The state attached for cls, or NULL. */
WEFT_API void *weft_loop_service(const weft_loop_t *loop,
                                 const weft_loop_service_t *cls);

/** Attach state for cls. Errors: WEFT_EEXIST, WEFT_ENOMEM (too many). */
WEFT_API int weft_loop_attach_service(weft_loop_t *loop,
                                      const weft_loop_service_t *cls,
                                      void *state);

/** For the coro layer, which passes control from one task straight to the
 * next: if the loop is running the callbacks of an iteration and the next
 * of them is fn(arg) scheduled with no handle, take it out of the ring and
 * return 1 with *arg: the caller then does its work in its stead, in the
 * same order. At the end of an iteration, the next one counts when it
 * would only run the ready ring (nothing to poll, no timer due). Else 0.
 * For the loop's thread only, while it runs. */
WEFT_API int weft_loop_take_next(weft_loop_t *loop, weft_callback fn,
                                 void **arg);

/* ----- Event emitter (the seeds' event-driven programs) ----- */

/** Named events matched to handlers: emit("Up") runs, on the loop, every
 * handler registered for "Up" (turtle's onkey, Node's EventEmitter). */
typedef struct weft_emitter weft_emitter_t;

/** A handler: gets its own arg, the event's name and the data emitted. */
typedef int (*weft_emitter_fn)(void *arg, const char *event, void *data);

/** An emitter whose handlers run on loop. Ownership: *out returns new,
 * freed with weft_emitter_free() (on the loop's thread; emits already
 * scheduled still run). Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_emitter_new(weft_emitter_t **out, weft_loop_t *loop);
WEFT_API void weft_emitter_free(weft_emitter_t *e);

/** Register fn(arg, ...) for event (copied). A handler registered twice
 * runs twice. Thread-safe. Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_emitter_on(weft_emitter_t *e, const char *event,
                             weft_emitter_fn fn, void *arg);

/** Remove the earliest registration of fn with arg for event. Thread-safe.
 * Errors: WEFT_EKEY (no such registration), WEFT_EINVAL. */
WEFT_API int weft_emitter_off(weft_emitter_t *e, const char *event,
                              weft_emitter_fn fn, void *arg);

/** Emit event with data: the handlers registered for it when the loop gets
 * to it run there, in registration order. Thread-safe; never blocks.
 * Ownership: data is passed on as is. Errors: WEFT_EKEY (no handler is
 * registered for event now: nothing was scheduled), WEFT_EINVAL,
 * WEFT_ENOMEM. */
WEFT_API int weft_emitter_emit(weft_emitter_t *e, const char *event,
                               void *data);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_LOOP_H */
