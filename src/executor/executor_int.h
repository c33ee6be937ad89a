/* Inside the executor layer only. */
#ifndef WEFT_EXECUTOR_INT_H
#define WEFT_EXECUTOR_INT_H

#include "weft/executor.h"
#include "weft/park.h"
#include "weft/sync.h"

/* A task that runs fn(arg) and completes its future: what map's chunks
 * and the inline executor share with the pools. */
typedef struct weft__call {
    int bytes; /* fn is a weft_bytes_fn over arg_bytes */
    union {
        weft_fn ptr;
        weft_bytes_fn bytes;
    } fn;
    union {
        void *ptr;
        weft_bytes_t bytes;
    } arg;
} weft__call_t;

/* What a call gave back, between running it and completing its future. */
typedef struct weft__outcome {
    int code;
    void *result;
    weft_bytes_t bytes;
} weft__outcome_t;

/* Run the call on this thread and finish f with its outcome. The thread's
 * last message is cleared first, so a task that fails without a message
 * still leaves the text of its code. */
void weft__call_run(const weft__call_t *c, weft_future_t *f);

/* The same in two steps, for an executor that has work to do in between:
 * invoke runs the call (clearing the message first) and keeps what it gave
 * in *o; complete finishes f with it and releases it. Between the two the
 * thread must not change its last message. */
void weft__call_invoke(const weft__call_t *c, weft__outcome_t *o);
void weft__call_complete(const weft__call_t *c, weft_future_t *f,
                         weft__outcome_t *o);

/* Free what the call owns (a byte-string argument). */
void weft__call_release(weft__call_t *c);

#endif
