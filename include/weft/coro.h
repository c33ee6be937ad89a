/* SPDX-License-Identifier: MIT */
/** weft/coro.h: coroutines as tasks on a loop, asyncio's Task, gather,
 * wait_for, timeout, shield and TaskGroup.
 *
 * A task is a function (a weft_fn) that runs on its own stack on a loop's
 * thread; its handle is a weft_future_t, the one future of every backend.
 * Inside a task, the ordinary blocking calls of weft (weft_sleep, waiting on
 * a future, Lock, Event, Semaphore, Condition, Queue, joining, reading a
 * socket of the net layer) suspend that task alone and let the loop run the
 * others: there is no async twin of any API, and no await. A task that
 * calls a blocking function of another library (read(2), sleep(3)) stops
 * the whole loop meanwhile, as in asyncio.
 *
 * Stacks are mmap'ed with a guard page below them, pooled per thread and
 * reused. Guard pages cost the kernel a mapping each: once the program has
 * used a quarter of vm.max_map_count for them, further stacks come without
 * one (with a tripwire page below instead, checked when the task ends), so
 * that hundreds of thousands of tasks still fit. The default stack is 64 KiB
 * of address space, of which a parked task touches a page (about 4.7 KiB a
 * parked task in all, against about 0.9 KiB for a Python coroutine).
 *
 * Cancellation, as asyncio and Trio: weft_task_cancel() asks a task to stop;
 * the request reaches it at its next suspension point, where the blocking
 * call returns WEFT_ECANCELLED, and from then on every blocking call it
 * makes returns WEFT_ECANCELLED too (level-triggered: a cancellation cannot
 * be swallowed by accident). The task may clean up, blocking inside a
 * shield scope (weft_cancel_scope_enter(&s, t, WEFT_SCOPE_SHIELD)), then
 * return; if it returns WEFT_ECANCELLED its future ends CANCELLED. Requests
 * are counted (weft_task_cancelling). Deadlines are cancel scopes too:
 * asyncio.timeout(t) is weft_cancel_scope_enter(&s, t, 0) ... exit, which
 * returns WEFT_ETIMEDOUT when the deadline struck; a cancellation of the
 * task from outside stays visible after that exit, never turned into a
 * timeout. asyncio.shield(f): waiting on a future never cancels it, so
 * weft_future_result(f, ...) in a cancelled task returns WEFT_ECANCELLED
 * while f runs on.
 *
 * The loop holds every task until it finishes, so a task nobody references
 * still runs to completion; freeing the loop cancels the tasks left and
 * runs the loop until they are done (asyncio.run's clean-up).
 *
 * Defaults for this layer: functions that create tasks are for the loop's
 * thread (or its owner while it is not running); the others are
 * thread-safe. Blocking calls block the calling context: a task suspends,
 * a thread sleeps. An array
 * with a count of 0 may be NULL (the empty list), and an out-pointer for a
 * result may be NULL when the result is not wanted.
 *
 * Global state: each thread's pool of stacks (freed when the thread exits)
 * and its current task; the count of guarded stacks of the process.
 * \file */
#ifndef WEFT_CORO_H
#define WEFT_CORO_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/future.h"
#include "weft/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----- Tasks ----- */

/** Options of a new task; NULL or a zeroed struct gives the defaults. */
typedef struct weft_task_opts {
    size_t stack_size; /* bytes; 0: WEFT_TASK_STACK_DEFAULT */
} weft_task_opts_t;

/** A task's stack when stack_size is 0, and the smallest one taken, in
 * bytes. */
#define WEFT_TASK_STACK_DEFAULT (64 * 1024)
#define WEFT_TASK_STACK_MIN (16 * 1024)

/** Run fn(arg, &result) as a task on loop (asyncio.create_task), starting in
 * the loop's next iteration; its future completes with what fn returns.
 * loop NULL: the running loop of this thread, else its default loop.
 * Ownership: *out (may be NULL: the caller keeps no reference; the task
 * still runs) returns a new reference. Errors: WEFT_EINVAL (NULL fn, a
 * stack smaller than WEFT_TASK_STACK_MIN), WEFT_ENOMEM, WEFT_ECLOSED (the
 * loop is being freed), WEFT_ESTATE (loop runs on another thread: hand the
 * creation to it with weft_loop_call_soon_threadsafe). */
WEFT_API int weft_task_create(weft_future_t **out, weft_loop_t *loop,
                              weft_fn fn, void *arg);
WEFT_API int weft_task_create_opts(weft_future_t **out, weft_loop_t *loop,
                                   weft_fn fn, void *arg,
                                   const weft_task_opts_t *opts);

/** Ask task to stop (Task.cancel()): a task not started yet never runs and
 * is CANCELLED at once (and notified: weft_wait() counts it); a running
 * one sees WEFT_ECANCELLED at its next suspension point. Works on any future (for others it is
 * weft_future_stop). Returns 0, or WEFT_ESTATE when it is already done. */
WEFT_API int weft_task_cancel(weft_future_t *task);

/** How many times cancel was asked of task (Task.cancelling()); 0 for a
 * future that is not a task. */
WEFT_API unsigned weft_task_cancelling(const weft_future_t *task);

/** The task running on this thread, or NULL (asyncio.current_task()).
 * Returns borrowed. */
WEFT_API weft_future_t *weft_task_current(void);

/** Nonzero when f is a task of this layer. */
WEFT_API int weft_task_is_task(const weft_future_t *f);

/** asyncio.run(): a new loop on this thread runs fn(arg, &result) as a task
 * until it completes, then is freed (tasks still running are cancelled and
 * finished first). Returns the task's outcome as weft_future_result does.
 * Blocks: yes. Errors: the task's own; WEFT_ESTATE (a loop already runs on
 * this thread), WEFT_ENOMEM, WEFT_ESYS. */
WEFT_API int weft_run(weft_fn fn, void *arg, void **result);

/* ----- Waiting on several ----- */

/** asyncio.gather: wait for the n futures fs (tasks or any others). Without
 * return_exceptions, the first one to fail (or be cancelled) ends the wait
 * with its code and message; the others go on running. With it, every one
 * is waited for and errors[i] (if errors is not NULL) receives each one's
 * code (0 for a result) and message. results (if not NULL) receives the n
 * results (NULL for those that failed). If the caller is cancelled while
 * waiting, every future still pending is cancelled too, and the call
 * returns WEFT_ECANCELLED. Blocks: yes.
 * Errors: as described; WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_gather(weft_future_t *const *fs, size_t n,
                         int return_exceptions, void **results,
                         weft_error_info_t *errors);

/** asyncio.wait_for: wait up to timeout seconds for f and give its outcome.
 * On timeout, f is cancelled and waited for, then WEFT_ETIMEDOUT is
 * returned (or f's result, if it completed anyway). If the caller is
 * cancelled meanwhile, f is cancelled too and WEFT_ECANCELLED returned:
 * the caller's cancellation is never reported as a timeout, nor lost.
 * Blocks: yes. Errors: f's own; WEFT_ETIMEDOUT, WEFT_ECANCELLED,
 * WEFT_EINVAL (NULL f; a bad timeout, checked before anything else, even
 * a cancellation of the caller: f is then left alone). */
WEFT_API int weft_wait_for(weft_future_t *f, double timeout, void **result);

/* ----- Task groups (asyncio.TaskGroup) ----- */

/** A task group (asyncio.TaskGroup): see weft_task_group_new(). */
typedef struct weft_task_group weft_task_group_t;

/** Open a group in the calling context, `async with TaskGroup() as g`. The
 * group enters a cancel scope of the caller's, which weft_task_group_wait()
 * leaves: open and wait in the same context, scopes nested in order.
 * loop as for weft_task_create (NULL: the running loop, else the default).
 * Ownership: *out returns new, freed with weft_task_group_free() after the
 * wait. Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_task_group_new(weft_task_group_t **out, weft_loop_t *loop);

/** Start fn(arg) as a member task of g. out as for weft_task_create.
 * Errors: WEFT_ESTATE (g is closing: a member failed or wait returned),
 * and those of weft_task_create. */
WEFT_API int weft_task_group_spawn(weft_task_group_t *g, weft_fn fn, void *arg,
                                   weft_future_t **out);

/** Wait until every member has finished. When a member fails, the others are
 * cancelled, and so is the caller's body (its blocking calls inside the
 * group return WEFT_ECANCELLED); the wait then returns that member's code,
 * with a message "N of M tasks failed; first: ..." (asyncio's
 * ExceptionGroup). When the caller is cancelled from outside, the members
 * are cancelled and waited for, and WEFT_ECANCELLED returned.
 * Blocks: yes. Errors: as described; WEFT_ESTATE (waited twice, or not in
 * the context that opened the group). */
WEFT_API int weft_task_group_wait(weft_task_group_t *g);

/** Counts of the group's members so far: started and failed. */
WEFT_API size_t weft_task_group_size(const weft_task_group_t *g);
WEFT_API size_t weft_task_group_failed(const weft_task_group_t *g);

/** Free g (waited for, or never given a member). NULL: no-op. */
WEFT_API void weft_task_group_free(weft_task_group_t *g);

/* ----- Inspection ----- */

/** Counts of tasks and stacks, for tests and monitoring (weft_coro_stats()).
 * The struct's tag is not the function's name, which C++ would take for a
 * constructor hidden by the function (g++ -Wshadow). */
typedef struct weft_coro_stats_s {
    size_t live_tasks;       /* tasks not finished, process-wide */
    size_t stacks_pooled;    /* stacks kept for reuse by this thread */
    size_t stacks_guarded;   /* stacks with a guard page, process-wide */
    size_t stacks_unguarded; /* stacks with a tripwire page, process-wide */
} weft_coro_stats_t;

/** Fill *out for the calling thread. */
WEFT_API void weft_coro_stats(weft_coro_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_CORO_H */
