/* SPDX-License-Identifier: MIT */
/* Inside the future layer only: the future's layout and its state word. */
#ifndef WEFT_FUTURE_INT_H
#define WEFT_FUTURE_INT_H

#include <stdatomic.h>

#include "weft/future.h"
#include "weft/park.h"

/* The state word: the state in the low two bits, then flags.
 *   LOCKED    a short internal lock over callbacks and completion
 *   WAITERS   someone may be parked on the word
 *   STOP      a stop was asked for the running task (WEFT_FUTURE_STOP_BIT)
 *   BYTES     the result is a byte string
 *   FAILED    finished with an error (code and message)
 *   NOTIFIED  cancelled, and its owner has seen it (Python's
 *             CANCELLED_AND_NOTIFIED): only then does it count for
 *             weft_wait() and as_completed
 * Completion stores the outcome under LOCKED and publishes it with one
 * release store that sets the final state and clears LOCKED and WAITERS:
 * that store is the last write to the future by the completer. While LOCKED
 * is held its holder is the only writer of the word: every other write is
 * a compare-and-swap from a value without LOCKED (future.c). */
#define ST_MASK 3u
#define ST_LOCKED (1u << 2)
#define ST_WAITERS (1u << 3)
#define ST_STOP WEFT_FUTURE_STOP_BIT
#define ST_BYTES (1u << 9)
#define ST_FAILED (1u << 10)
#define ST_NOTIFIED (1u << 11)

struct weft__callback {
    weft_future_callback fn;
    void *arg;
    struct weft__callback *next;
    unsigned char embedded; /* part of another object: never freed here */
    unsigned char waiter;   /* a waiter of weft_wait()/as_completed: runs
                               when the future counts for them (finished,
                               or cancelled and notified), not at a cancel */
};

struct weft_future {
    _Atomic uint32_t state;
    _Atomic uint32_t refs;
    const weft_future_class_t *cls;
    union {
        void *ptr;
        weft_bytes_t bytes;
    } result;
    int code;
    char *message;
    struct weft__callback *callbacks;
};

_Static_assert(sizeof(struct weft_future) <= WEFT_FUTURE_SIZE,
               "the future must fit the room executors leave for it");

static inline int weft__state_done(uint32_t s)
{
    return (s & ST_MASK) >= WEFT_FUTURE_FINISHED;
}

/* Whether a future in state s counts as done for weft_wait() and
 * as_completed: finished, or cancelled and notified. */
static inline int weft__state_counts(uint32_t s)
{
    return (s & ST_MASK) == WEFT_FUTURE_FINISHED ||
           ((s & ST_MASK) == WEFT_FUTURE_CANCELLED && (s & ST_NOTIFIED));
}

/* Add a callback node owned by the caller (embedded). Runs at once (and
 * returns 1) when f is already done (for a waiter node: when it already
 * counts, see weft__state_counts); returns 0 once queued. */
int weft__future_add_node(weft_future_t *f, struct weft__callback *node);

/* Take a queued node back out; 1 if it was still queued (it will never
 * run), 0 if the future has detached it to run it or has run it. */
int weft__future_remove_node(weft_future_t *f, struct weft__callback *node);

/* Report a failing callback, as Python's futures log it. */
void weft__future_report_callback(weft_future_t *f, int code);

/* Wait for f to be done: the hook first, then park. */
int weft__future_await(weft_future_t *f, int64_t deadline);

#endif
