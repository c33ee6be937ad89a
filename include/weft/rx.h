/* SPDX-License-Identifier: MIT */
/** weft/rx.h: reactive streams, ReactiveX as RxPY has it: Observable,
 * Observer, Subject, the operators, and schedulers that are weft's own
 * executors and loops.
 *
 * An observable is a recipe for a stream of values; subscribing an observer
 * runs it. The observer hears on_next for each value, then at most one of
 * on_error or on_completed, and nothing after that (the Rx contract). Calls
 * to one observer never overlap, even where the values come from several
 * threads: merge, flat_map, zip, combine_latest, the time operators and the
 * Subjects serialize what reaches each observer (RxPY leaves that to its
 * users). Disposing a subscription, from any thread, stops delivery: no call
 * to the observer starts after weft_rx_subscription_dispose() returns (one
 * already running on another thread may finish), and everything the
 * subscription holds (timers, inner subscriptions, queued values) is freed.
 *
 * Values are pointers, borrowed by each on_next for the duration of the
 * call. By default they are plain (small integers in a pointer, static
 * text): nobody frees them. A stream of owned objects names how to keep and
 * drop them (weft_rx_value_ops_t, set on the source or on map with
 * weft_rx_observable_set_values()): the source releases each value after
 * delivering it, and an operator that holds a value beyond the call
 * (buffer, zip, replay, observe_on's queue, ...) retains it and releases it
 * when done, so that nothing leaks, whatever is disposed when.
 *
 * Operators take their source: weft_rx_map(&xs, xs, ...) consumes the
 * reference to xs (on success; on failure it stays the caller's), so a
 * chain is built in one variable and freed once. To use an observable
 * twice, take another reference with weft_rx_observable_ref().
 *
 * Schedulers are weft's loops and executors (weft_rx_loop_scheduler_new,
 * weft_rx_executor_scheduler_new), and a virtual-time test scheduler (as
 * RxPY's TestScheduler) that runs time operators exactly, without
 * sleeping. subscribe_on and observe_on move work between them: a stream
 * produced on a thread pool and observed on a loop.
 *
 * Callbacks (observers, mappers, predicates, ...) return 0, or fail the
 * way Python raises: `return weft_fail(WEFT_EUSER, "bad reading %d", x);`.
 * An operator whose callback fails sends on_error downstream with that code
 * and message, and disposes its source. Errors reach observers as a
 * weft_error_info_t (code and message), borrowed for the call.
 *
 * Defaults for this layer: thread-safe and non-blocking unless marked.
 * Callbacks run on the thread that delivers the event (the producer's, a
 * loop's, an executor's worker), with no weft lock held; they may call any
 * weft function, including dispose on their own subscription. An array
 * with a count of 0 may be NULL (the empty list).
 * \file */
#ifndef WEFT_RX_H
#define WEFT_RX_H

#include <stddef.h>
#include <stdint.h>

#include "weft/base.h"
#include "weft/executor.h"
#include "weft/future.h"
#include "weft/loop.h"
#include "weft/queue.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An observable, a subscription, a subject, a scheduler, and the emitter a
 * created observable's producer calls. */
typedef struct weft_rx_observable weft_rx_observable_t;
typedef struct weft_rx_subscription weft_rx_subscription_t;
typedef struct weft_rx_subject weft_rx_subject_t;
typedef struct weft_rx_scheduler weft_rx_scheduler_t;
typedef struct weft_rx_emitter weft_rx_emitter_t;

/* ----- Values ----- */

/** How a stream keeps and drops its values. retain returns a reference the
 * holder owns (the same pointer with a count raised, or a copy); release
 * drops one. format, if not NULL, writes a short text for the value (used by
 * the test scheduler's recordings) and returns its length as snprintf.
 * The struct must outlive every observable that names it. */
typedef struct weft_rx_value_ops {
    /** Take a reference to value. */
    void *(*retain)(void *value);
    /** Drop one. */
    void (*release)(void *value);
    /** Write a short text for value; may be NULL. */
    int (*format)(void *value, char *buf, size_t size);
} weft_rx_value_ops_t;

/** What buffer emits, what zip and combine_latest emit without a combiner,
 * and what weft_rx_to_future(WEFT_RX_LIST) gives: n values, each retained
 * with the source's ops. Reference counted through weft_rx_list_ops. */
typedef struct weft_rx_list {
    /** How many values. */
    size_t n;
    /** The values. */
#ifdef __cplusplus
    void *items[1]; /* n of them: C++ has no flexible array member */
#else
    void *items[];
#endif
} weft_rx_list_t;

/** retain/release/format for weft_rx_list_t values (format: "[1,2,3]"). */
WEFT_API extern const weft_rx_value_ops_t weft_rx_list_ops;

/** Drop a reference to a list (what a to_future(WEFT_RX_LIST) result is).
 * NULL: no-op. */
WEFT_API void weft_rx_list_free(weft_rx_list_t *l);

/** Values that are observables (what window emits): retain takes a
 * reference, release drops it. */
WEFT_API extern const weft_rx_value_ops_t weft_rx_observable_ops;

/* ----- Observers and subscriptions ----- */

/** An observer: on_next for each value (borrowed for the call), then at most
 * one of on_error (error borrowed for the call) or on_completed. Any of the
 * three may be NULL (ignored; an error nobody hears is dropped silently).
 * release, if not NULL, runs once, after the last call, when the
 * subscription is freed: for a heap ctx. */
typedef struct weft_rx_observer {
    /** Each value; may be NULL. */
    void (*on_next)(void *ctx, void *value);
    /** The error that ends the stream; may be NULL. */
    void (*on_error)(void *ctx, const weft_error_info_t *error);
    /** The end of the stream; may be NULL. */
    void (*on_completed)(void *ctx);
    /** Passed to each call. */
    void *ctx;
    /** After the last call; may be NULL. */
    void (*release)(void *ctx);
} weft_rx_observer_t;

/** Subscribe observer (copied) to o and run it: a cold source starts
 * emitting now, on the calling thread unless it names a scheduler, so a
 * synchronous source may have delivered everything before this returns.
 * out (may be NULL: the subscription then lives until its stream ends)
 * receives the subscription. Blocks: only as long as o's synchronous part
 * runs. Ownership: o is borrowed (it may be freed at once: the
 * subscription holds what it needs); *out returns new, freed with
 * weft_rx_subscription_free(). Errors: WEFT_EINVAL (NULL o or observer),
 * WEFT_ENOMEM. */
WEFT_API int weft_rx_observable_subscribe(weft_rx_observable_t *o,
                                          const weft_rx_observer_t *observer,
                                          weft_rx_subscription_t **out);

/** Stop delivery and free what the subscription holds (RxPY's dispose()).
 * After it returns no call to the observer starts. Idempotent; may be
 * called from the observer's own callbacks. NULL: no-op. */
WEFT_API void weft_rx_subscription_dispose(weft_rx_subscription_t *s);

/** Nonzero once the observer has heard on_error or on_completed, or the
 * subscription was disposed. */
WEFT_API int weft_rx_subscription_closed(const weft_rx_subscription_t *s);

/** Dispose s and drop the handle. NULL: no-op. */
WEFT_API void weft_rx_subscription_free(weft_rx_subscription_t *s);

/** Take another reference to o (returns o); drop one (NULL: no-op). */
WEFT_API weft_rx_observable_t *weft_rx_observable_ref(weft_rx_observable_t *o);
WEFT_API void weft_rx_observable_free(weft_rx_observable_t *o);

/** Name how o's values are kept and dropped (NULL: plain values). For
 * sources that emit owned values and for map, scan, reduce and
 * combiners that make new ones; operators that pass values through inherit
 * their source's. Set it before the first subscription. Errors: WEFT_EINVAL
 * (NULL o), WEFT_ESTATE (o was already subscribed). */
WEFT_API int weft_rx_observable_set_values(weft_rx_observable_t *o,
                                           const weft_rx_value_ops_t *ops);

/* ----- Schedulers ----- */

/** A scheduler over loop: actions run on the loop's thread, as callbacks and
 * timers (call_soon, call_later), whichever thread schedules them. Call
 * it on the loop's thread (or its owner's while it does not run). Actions
 * still pending when the loop is freed are dropped and freed with it; the
 * loop must outlive the schedulers' use. Ownership: *out returns new,
 * freed with weft_rx_scheduler_free(); loop is borrowed.
 * Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_rx_loop_scheduler_new(weft_rx_scheduler_t **out,
                                        weft_loop_t *loop);

/** A scheduler over executor ex (a thread pool, the inline executor): each
 * action is a task. A delayed action holds a worker while it waits (its
 * sleep ends early when the action is cancelled): use a loop for timers.
 * ex is borrowed and must outlive the scheduler's use.
 * Errors: WEFT_EINVAL, WEFT_ENOMEM, WEFT_ENOTSUP (ex cannot run pointer
 * tasks). */
WEFT_API int weft_rx_executor_scheduler_new(weft_rx_scheduler_t **out,
                                            weft_executor_t *ex);

/** Take another reference (returns s); drop one (NULL: no-op). Operators
 * that are given a scheduler take their own reference. */
WEFT_API weft_rx_scheduler_t *weft_rx_scheduler_ref(weft_rx_scheduler_t *s);
WEFT_API void weft_rx_scheduler_free(weft_rx_scheduler_t *s);

/** The scheduler's clock in seconds: monotonic for loops and executors,
 * virtual for the test scheduler. */
WEFT_API double weft_rx_scheduler_now(const weft_rx_scheduler_t *s);

/* ----- Sources (rx.from_iterable, of, range, empty, ...) ----- */

/** Emit the n pointers of values in order, then complete. The array is
 * borrowed while o lives (of copies its arguments instead). */
WEFT_API int weft_rx_from_array(weft_rx_observable_t **out,
                                void *const *values, size_t n);
WEFT_API int weft_rx_of(weft_rx_observable_t **out, size_t n, ...);

/** The integers start, start + 1, ..., start + count - 1, each as
 * (void *)(intptr_t)i (rx.range). Errors: WEFT_EINVAL (count < 0, or the
 * last value past LONG_MAX). */
WEFT_API int weft_rx_range(weft_rx_observable_t **out, long start, long count);

/** An iterator callback: fill *value with the index-th value (index counts
 * from 0 for each subscription) and return 0; return WEFT_EEOF after the
 * last, or fail (another code: the stream ends with that error). */
typedef int (*weft_rx_iter_fn)(void *ctx, size_t index, void **value);
WEFT_API int weft_rx_from_iter(weft_rx_observable_t **out, weft_rx_iter_fn fn,
                               void *ctx);

/** Complete at once; never emit anything; fail at once with code and the
 * formatted message (rx.empty, rx.never, rx.throw). */
WEFT_API int weft_rx_empty(weft_rx_observable_t **out);
WEFT_API int weft_rx_never(weft_rx_observable_t **out);
WEFT_API int weft_rx_throw(weft_rx_observable_t **out, int code,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** rx.create: fn(ctx, emitter) runs at each subscription, on the
 * subscribing thread. It emits through the emitter (now, or later from any
 * thread, holding a reference with weft_rx_emitter_ref) and returns 0, or
 * fails: the stream then ends with its code and message. */
typedef int (*weft_rx_create_fn)(void *ctx, weft_rx_emitter_t *emitter);
WEFT_API int weft_rx_create(weft_rx_observable_t **out, weft_rx_create_fn fn,
                            void *ctx);

/** Emit value (owned values: the emitter's stream releases it after
 * delivery), an error, or completion. After a terminal event, or once the
 * subscriber has disposed, further calls do nothing (a value passed is
 * still released). Calls on one emitter must not overlap. */
WEFT_API void weft_rx_emitter_next(weft_rx_emitter_t *e, void *value);
WEFT_API void weft_rx_emitter_error(weft_rx_emitter_t *e, int code,
                                    const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
WEFT_API void weft_rx_emitter_completed(weft_rx_emitter_t *e);
/** Nonzero once nobody listens: stop producing. */
WEFT_API int weft_rx_emitter_disposed(const weft_rx_emitter_t *e);
/** Take another reference to e (returns e); drop one (NULL: no-op). */
WEFT_API weft_rx_emitter_t *weft_rx_emitter_ref(weft_rx_emitter_t *e);
WEFT_API void weft_rx_emitter_free(weft_rx_emitter_t *e);

/** A producer that may block: fn(ctx, emitter) runs on sched for each
 * subscription (an executor's worker, or a coroutine task on a loop), and
 * may wait on anything weft offers (weft_sleep, futures, queues, sockets):
 * in a coroutine each wait suspends only that task. Disposing the
 * subscription cancels fn's waits (they return WEFT_ECANCELLED). When fn
 * returns, the stream completes (0) or fails with fn's code. */
WEFT_API int weft_rx_generate(weft_rx_observable_t **out,
                              weft_rx_scheduler_t *sched,
                              weft_rx_create_fn fn, void *ctx);

/** The coroutine bridge: weft_rx_generate on loop, so that a coroutine's
 * repeated awaits (waits on futures, sleeps, reads) become a stream. */
WEFT_API int weft_rx_from_coroutine(weft_rx_observable_t **out,
                                    weft_loop_t *loop, weft_rx_create_fn fn,
                                    void *ctx);

/** Emit 0, 1, 2, ... every period seconds on sched (rx.interval); emit 0
 * after due seconds, then complete, or with period > 0 go on every period
 * (rx.timer). Errors: WEFT_EINVAL (NULL sched, period <= 0 for interval,
 * negative or NaN times). */
WEFT_API int weft_rx_interval(weft_rx_observable_t **out, double period,
                              weft_rx_scheduler_t *sched);
WEFT_API int weft_rx_timer(weft_rx_observable_t **out, double due,
                           double period, weft_rx_scheduler_t *sched);

/** The outcome of a weft future as a stream (rx.from_future): its result
 * and completion, its error, or WEFT_ECANCELLED. The source holds a
 * reference to f; a subscription holds one until f completes. */
WEFT_API int weft_rx_from_future(weft_rx_observable_t **out, weft_future_t *f);

/** Every item got from q, taken on sched (an executor's worker or a
 * coroutine on a loop, which block in weft_queue_get); a shutdown of q that
 * leaves it empty completes the stream. Several subscriptions share the
 * items. Disposing cancels the waiting get; an item the get took just as
 * the subscription was disposed goes to nobody (it is released if the
 * stream has value ops). q is borrowed while o lives. Errors:
 * WEFT_EINVAL. */
WEFT_API int weft_rx_from_queue(weft_rx_observable_t **out, weft_queue_t *q,
                                weft_rx_scheduler_t *sched);

/** What fd gives to read, through loop, as chunks of up to 4096 bytes
 * (weft_bytes_t values, owned: weft_rx_bytes_ops); end of file completes,
 * a read error fails with WEFT_ESYS. The subscription adds a reader to the
 * loop (on the loop's thread; from another thread it is handed over) and
 * removes it when it ends. fd stays the caller's and should be
 * non-blocking. Errors: WEFT_EINVAL. */
WEFT_API int weft_rx_from_fd(weft_rx_observable_t **out, weft_loop_t *loop,
                             int fd);
WEFT_API extern const weft_rx_value_ops_t weft_rx_bytes_ops;

/* ----- Transforming (map, scan, reduce, buffer, window) ----- */

/** map: *out = f(value). The new values are plain unless the result's
 * value ops are set. A failing mapper ends the stream with its error. */
typedef int (*weft_rx_map_fn)(void *ctx, void *value, void **out);
WEFT_API int weft_rx_map(weft_rx_observable_t **out, weft_rx_observable_t *src,
                         weft_rx_map_fn fn, void *ctx);

/** scan and reduce: acc = f(acc, value), starting from seed; scan emits
 * each acc, reduce only the last, at completion (seed for an empty
 * source). With value ops on the result, f returns a new reference and the
 * old acc is released unless f returned it as is; seed is borrowed while the
 * operator lives and retained by each subscription. */
typedef int (*weft_rx_acc_fn)(void *ctx, void *acc, void *value, void **out);
WEFT_API int weft_rx_scan(weft_rx_observable_t **out, weft_rx_observable_t *src,
                          weft_rx_acc_fn fn, void *seed, void *ctx);
WEFT_API int weft_rx_reduce(weft_rx_observable_t **out,
                            weft_rx_observable_t *src, weft_rx_acc_fn fn,
                            void *seed, void *ctx);

/** Lists of count values, a new one started every skip values (skip 0:
 * count, no overlap); what is left is emitted at completion
 * (buffer_with_count). Values are weft_rx_list_t. Errors: WEFT_EINVAL
 * (count < 1, skip < 0). */
WEFT_API int weft_rx_buffer_with_count(weft_rx_observable_t **out,
                                       weft_rx_observable_t *src, long count,
                                       long skip);

/** Lists of what came in each timespan seconds on sched, empty ones
 * included (buffer_with_time). Errors: WEFT_EINVAL (timespan <= 0). */
WEFT_API int weft_rx_buffer_with_time(weft_rx_observable_t **out,
                                      weft_rx_observable_t *src,
                                      double timespan,
                                      weft_rx_scheduler_t *sched);

/** Windows of count values (window_with_count): each value emitted is an
 * observable (weft_rx_observable_ops: borrowed by on_next; take a reference
 * to keep it) that replays its window to a subscriber that comes while the
 * window is open or after. Errors: WEFT_EINVAL (count < 1). */
WEFT_API int weft_rx_window_with_count(weft_rx_observable_t **out,
                                       weft_rx_observable_t *src, long count);

/** tap (RxPY's do_action): call observer's functions for each event, then
 * pass it on. observer is copied; its release runs when o is freed. */
WEFT_API int weft_rx_tap(weft_rx_observable_t **out, weft_rx_observable_t *src,
                         const weft_rx_observer_t *observer);

/* ----- Filtering ----- */

/** A predicate: set *keep (nonzero to keep) and return 0, or fail. */
typedef int (*weft_rx_pred_fn)(void *ctx, void *value, int *keep);

/** ops.filter: the values of src for which fn keeps them. */
WEFT_API int weft_rx_filter(weft_rx_observable_t **out,
                            weft_rx_observable_t *src, weft_rx_pred_fn fn,
                            void *ctx);

/** The first n values, then complete and dispose the source; skip the
 * first n. Errors: WEFT_EINVAL (n < 0). */
WEFT_API int weft_rx_take(weft_rx_observable_t **out, weft_rx_observable_t *src,
                          long n);
WEFT_API int weft_rx_skip(weft_rx_observable_t **out, weft_rx_observable_t *src,
                          long n);

/** Values while fn keeps them; the first it rejects completes the stream. */
WEFT_API int weft_rx_take_while(weft_rx_observable_t **out,
                                weft_rx_observable_t *src, weft_rx_pred_fn fn,
                                void *ctx);

/** A key for distinct and distinct_until_changed: values with equal keys
 * are the same. NULL key function: the value's own bits. */
typedef uintptr_t (*weft_rx_key_fn)(void *ctx, void *value);
WEFT_API int weft_rx_distinct(weft_rx_observable_t **out,
                              weft_rx_observable_t *src, weft_rx_key_fn fn,
                              void *ctx);
WEFT_API int weft_rx_distinct_until_changed(weft_rx_observable_t **out,
                                            weft_rx_observable_t *src,
                                            weft_rx_key_fn fn, void *ctx);

/* ----- Combining ----- */

/** merge: the values of every source, as they come, from whatever threads;
 * completes when all have, fails at the first error. concat: one source
 * after the other. The n sources are taken (on success). Errors:
 * WEFT_EINVAL (NULL srcs with n > 0, a NULL source). */
WEFT_API int weft_rx_merge(weft_rx_observable_t **out,
                           weft_rx_observable_t *const *srcs, size_t n);
WEFT_API int weft_rx_concat(weft_rx_observable_t **out,
                            weft_rx_observable_t *const *srcs, size_t n);

/** flat_map: fn maps each value to an observable (a new reference in
 * *inner) whose values are merged into the output; concat_map subscribes
 * them one at a time, in order. */
typedef int (*weft_rx_flat_fn)(void *ctx, void *value,
                               weft_rx_observable_t **inner);
WEFT_API int weft_rx_flat_map(weft_rx_observable_t **out,
                              weft_rx_observable_t *src, weft_rx_flat_fn fn,
                              void *ctx);
WEFT_API int weft_rx_concat_map(weft_rx_observable_t **out,
                                weft_rx_observable_t *src, weft_rx_flat_fn fn,
                                void *ctx);

/** A combiner for zip and combine_latest: *out from the n values (borrowed).
 * NULL combiner: the value is a weft_rx_list_t of the n values. */
typedef int (*weft_rx_combine_fn)(void *ctx, void *const *values, size_t n,
                                  void **out);

/** zip: the i-th values of all sources together; completes when a source
 * that completed has nothing left queued. combine_latest: each source's
 * latest value, whenever one emits, once all have emitted. */
WEFT_API int weft_rx_zip(weft_rx_observable_t **out,
                         weft_rx_observable_t *const *srcs, size_t n,
                         weft_rx_combine_fn fn, void *ctx);
WEFT_API int weft_rx_combine_latest(weft_rx_observable_t **out,
                                    weft_rx_observable_t *const *srcs,
                                    size_t n, weft_rx_combine_fn fn,
                                    void *ctx);

/* ----- Time (each on a scheduler; see weft_rx_test_scheduler_new) ----- */

/** debounce: a value is emitted once due seconds pass without another;
 * completion emits the one pending first. throttle (throttle_first): a
 * value passes when duration seconds have passed since the last that
 * passed. sample: every interval seconds, the latest value if a new one
 * came; the stream ends at the tick after the source's end (as RxPY).
 * timeout: fail with WEFT_ETIMEDOUT when due seconds pass before the first
 * value or between two. buffer_with_time and sample tick from the
 * subscription on.
 * Errors: WEFT_EINVAL (NULL sched, times <= 0 or NaN). */
WEFT_API int weft_rx_debounce(weft_rx_observable_t **out,
                              weft_rx_observable_t *src, double due,
                              weft_rx_scheduler_t *sched);
WEFT_API int weft_rx_throttle(weft_rx_observable_t **out,
                              weft_rx_observable_t *src, double duration,
                              weft_rx_scheduler_t *sched);
WEFT_API int weft_rx_sample(weft_rx_observable_t **out,
                            weft_rx_observable_t *src, double interval,
                            weft_rx_scheduler_t *sched);
WEFT_API int weft_rx_timeout(weft_rx_observable_t **out,
                             weft_rx_observable_t *src, double due,
                             weft_rx_scheduler_t *sched);

/* ----- Errors ----- */

/** catch: on error, go on with fallback (taken) instead. catch_handler: on
 * error, fn chooses the observable to go on with (a new reference in
 * *next), or fails (its error passes on). */
typedef int (*weft_rx_catch_fn)(void *ctx, const weft_error_info_t *error,
                                weft_rx_observable_t **next);
WEFT_API int weft_rx_catch(weft_rx_observable_t **out,
                           weft_rx_observable_t *src,
                           weft_rx_observable_t *fallback);
WEFT_API int weft_rx_catch_handler(weft_rx_observable_t **out,
                                   weft_rx_observable_t *src,
                                   weft_rx_catch_fn fn, void *ctx);

/** retry: on error, subscribe to src again, up to attempts subscriptions in
 * all (RxPY's retry(n)); WEFT_RX_FOREVER for no limit. The last error
 * passes on. Errors: WEFT_EINVAL (attempts < 1 other than
 * WEFT_RX_FOREVER). */
#define WEFT_RX_FOREVER (-1L)
WEFT_API int weft_rx_retry(weft_rx_observable_t **out,
                           weft_rx_observable_t *src, long attempts);

/* ----- Sharing ----- */

/** publish: an observable that subscribes to src once, when connected, and
 * passes what it emits to all its subscribers (a Subject in between).
 * connect returns the connection (disposing or freeing it disconnects);
 * connecting again while connected hands back the same connection (a new
 * handle to it: freeing either disconnects both).
 * ref_count: connects at the first subscriber, disconnects when the last
 * leaves. share = ref_count(publish(src)). Errors: WEFT_EINVAL (connect or
 * ref_count on what publish did not make). */
WEFT_API int weft_rx_publish(weft_rx_observable_t **out,
                             weft_rx_observable_t *src);
WEFT_API int weft_rx_connect(weft_rx_observable_t *published,
                             weft_rx_subscription_t **connection);
WEFT_API int weft_rx_ref_count(weft_rx_observable_t **out,
                               weft_rx_observable_t *published);
WEFT_API int weft_rx_share(weft_rx_observable_t **out,
                           weft_rx_observable_t *src);

/* ----- Moving between schedulers ----- */

/** subscribe_on: subscribe to src (run its synchronous part) as an action on
 * sched rather than on the subscribing thread. */
WEFT_API int weft_rx_subscribe_on(weft_rx_observable_t **out,
                                  weft_rx_observable_t *src,
                                  weft_rx_scheduler_t *sched);

/** What observe_on does when its queue is full. */
enum weft_rx_overflow {
    WEFT_RX_BLOCK = 0,       /* the producer waits for room (backpressure);
                                on a thread the drain needs (sched's loop's
                                own, or any while that loop does not run)
                                the queue grows instead */
    WEFT_RX_DROP_OLDEST = 1, /* the oldest queued value is dropped */
    WEFT_RX_KEEP_LATEST = 2  /* the newest queued value is replaced */
};

/** Options of weft_rx_observe_on(); NULL gives the defaults. */
typedef struct weft_rx_observe_on_opts {
    size_t capacity; /* values queued at most; 0: 1024 */
    int overflow;    /* enum weft_rx_overflow */
} weft_rx_observe_on_opts_t;

/** observe_on: deliver src's events on sched, in order, through a bounded
 * queue (opts NULL: 1024, WEFT_RX_BLOCK). Terminal events are never
 * dropped. Dropped values are released; weft_rx_observe_on_dropped counts
 * them (for the subscription's whole life, all subscriptions of o
 * together). Errors: WEFT_EINVAL (NULL sched, bad overflow). */
WEFT_API int weft_rx_observe_on(weft_rx_observable_t **out,
                                weft_rx_observable_t *src,
                                weft_rx_scheduler_t *sched,
                                const weft_rx_observe_on_opts_t *opts);
WEFT_API size_t weft_rx_observe_on_dropped(const weft_rx_observable_t *o);

/* ----- Subjects ----- */

/** A Subject is an observer and an observable: what is pushed into it goes
 * to every current subscriber. Pushes may come from any threads at once:
 * they are serialized, so that each subscriber hears one call at a time
 * (a push that finds another in progress is queued and delivered by the
 * thread already delivering, and returns at once). A subscriber that comes
 * after the end hears the end (and, for a replay subject, the values
 * first). BehaviorSubject: a new subscriber first hears the latest value
 * (initial before any). ReplaySubject: a new subscriber first hears the
 * last count values (0: all) no older than window seconds (WEFT_FOREVER:
 * any age) on sched's clock (NULL: the monotonic clock).
 * Ownership: *out returns new, freed with weft_rx_subject_free(); initial
 * is retained (with the values set later: set them first, see
 * weft_rx_subject_set_values). Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_rx_subject_new(weft_rx_subject_t **out);
WEFT_API int weft_rx_behavior_subject_new(weft_rx_subject_t **out,
                                          void *initial);
WEFT_API int weft_rx_replay_subject_new(weft_rx_subject_t **out, size_t count,
                                        double window,
                                        weft_rx_scheduler_t *sched);

/** Name the subject's value ops (before the first push). For a behavior
 * subject the initial value is retained now. Errors: WEFT_EINVAL,
 * WEFT_ESTATE. */
WEFT_API int weft_rx_subject_set_values(weft_rx_subject_t *s,
                                        const weft_rx_value_ops_t *ops);

/** Push a value (borrowed; retained where it is kept), an error, or the
 * end. After the end, pushes do nothing. */
WEFT_API void weft_rx_subject_on_next(weft_rx_subject_t *s, void *value);
WEFT_API void weft_rx_subject_on_error(weft_rx_subject_t *s, int code,
                                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
WEFT_API void weft_rx_subject_on_completed(weft_rx_subject_t *s);

/** The subject as an observable (a new reference) and as an observer (to
 * subscribe it to a source; it holds a reference to s, dropped by
 * its release). */
WEFT_API weft_rx_observable_t *weft_rx_subject_observable(weft_rx_subject_t *s);
WEFT_API weft_rx_observer_t weft_rx_subject_observer(weft_rx_subject_t *s);

/** How many subscribers hear the subject now. */
WEFT_API size_t weft_rx_subject_observers(const weft_rx_subject_t *s);

/** Drop the caller's reference; subscribers keep theirs. NULL: no-op. */
WEFT_API void weft_rx_subject_free(weft_rx_subject_t *s);

/* ----- Futures ----- */

/** What weft_rx_to_future() waits for. */
enum weft_rx_to_future_mode {
    WEFT_RX_FIRST = 0, /* the first value; the rest is disposed */
    WEFT_RX_LAST = 1,  /* the last value, at completion */
    WEFT_RX_LIST = 2   /* every value, as a weft_rx_list_t, at completion */
};

/** Subscribe to o and give a future of its outcome: the value (retained:
 * the caller releases it with o's ops) or list (weft_rx_list_free), or the
 * stream's error; an empty stream fails FIRST and LAST with WEFT_EEMPTY
 * ("sequence contains no elements"). Cancelling the future disposes the
 * subscription. Ownership: o borrowed; *out returns a new reference.
 * Errors: WEFT_EINVAL (NULL o or out, bad mode), WEFT_ENOMEM. */
WEFT_API int weft_rx_to_future(weft_rx_observable_t *o, int mode,
                               weft_future_t **out);

/* ----- The test scheduler (virtual time) ----- */

/** A scheduler whose clock moves only when told, as RxPY's TestScheduler:
 * actions run in order of their due time (ties in the order they were
 * scheduled), on the thread that advances the clock, and a time operator
 * on it is exact. Times are double "ticks" starting at 0. */
WEFT_API int weft_rx_test_scheduler_new(weft_rx_scheduler_t **out);

/** Run every action due up to time t (absolute) or for dt more, then set
 * the clock there; run everything scheduled, however far (test_run).
 * Blocks: runs the actions. Errors: WEFT_EINVAL (not a test scheduler). */
WEFT_API int weft_rx_test_advance_to(weft_rx_scheduler_t *s, double t);
WEFT_API int weft_rx_test_advance_by(weft_rx_scheduler_t *s, double dt);
WEFT_API int weft_rx_test_run(weft_rx_scheduler_t *s);

/** Marbles: one character a frame of 10 ticks. '-' lets a frame pass; a
 * number (e.g. 7, 42) is a value (intptr_t) emitted at its frame, taking
 * that one frame; '|' completes; '#' fails with WEFT_ETASK "error";
 * "(1,2)" emits several things in one frame; spaces are ignored. A cold
 * observable counts from each subscription; a hot one from time 0, or,
 * when a '^' is given, from '^' at time 200 (where weft_rx_test_start
 * subscribes; what comes before '^' comes earlier). The timed form
 * "150:1 210:2 250:|" (RxPY's on_next(150, 1) ...) gives each time as is:
 * absolute for a hot observable, from the subscription for a cold one.
 * Errors: WEFT_EINVAL (a malformed string: the message names the
 * position). */
WEFT_API int weft_rx_test_cold(weft_rx_observable_t **out,
                               weft_rx_scheduler_t *s, const char *marbles);
WEFT_API int weft_rx_test_hot(weft_rx_observable_t **out,
                              weft_rx_scheduler_t *s, const char *marbles);

/** The subscriptions a cold or hot test observable saw, as text: "200-250"
 * for one disposed at 250, "200-" for one still open, several separated by
 * spaces. Returns the length as snprintf, or -1 with WEFT_EINVAL. */
WEFT_API int weft_rx_test_subscriptions(const weft_rx_observable_t *o,
                                        char *buf, size_t size);

/** RxPY's scheduler.start(): subscribe to o at 200, dispose at 1000, run the
 * clock to the end, and write what the observer heard into buf as
 * "210:1 220:2 250:|" (a value as its ops format it, else as an integer;
 * an error as "#WEFT_ETIMEDOUT"). weft_rx_test_marbles writes what marbles
 * describe in the same form, with '^' (or the first frame) at time
 * start, so that an expectation reads as a marble string. Return the
 * length as snprintf, or -1 with the error recorded. */
WEFT_API int weft_rx_test_start(weft_rx_scheduler_t *s,
                                weft_rx_observable_t *o, char *buf,
                                size_t size);
WEFT_API int weft_rx_test_marbles(const char *marbles, double start, char *buf,
                                  size_t size);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_RX_H */
