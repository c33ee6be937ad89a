/* SPDX-License-Identifier: MIT */
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

/* Nonzero when ex runs tasks in this process (it takes pointer tasks), so
 * that a function pointer is valid where its tasks run. */
int weft__executor_in_process(const weft_executor_t *ex);

/* submit_bytes taking *arg (emptied on success; left on failure) instead
 * of copying it. Errors: as weft_executor_submit_bytes. */
int weft__executor_submit_taking(weft_executor_t *ex, weft_bytes_fn fn,
                                 weft_bytes_t *arg, weft_future_t **out);

/* ----- Byte chunks (chunk.c): several items of a byte map as one byte
 * task, on any executor ----- */

/* The head of every chunk for fn, made once per map: fn by pointer when
 * same_process, else by its place in its loaded image. Ownership: *ref
 * returns new (weft_bytes_free). Errors: WEFT_EINVAL (fn is in no loaded
 * image), WEFT_ENOMEM. */
int weft__chunk_fn_ref(weft_bytes_fn fn, int same_process, weft_bytes_t *ref);

/* Pack the n items (borrowed) behind fn_ref into *out (returns new).
 * Errors: WEFT_EINVAL (an item with NULL data and a length), WEFT_ENOMEM. */
int weft__chunk_pack(weft_bytes_t *out, const weft_bytes_t *fn_ref,
                     const weft_bytes_t *items, size_t n);

/* The task of every chunk: runs the item function on each item (with a
 * cleared message; WEFT_ECANCELLED for those left once a stop is asked)
 * and packs every outcome into *result. Fails only when the chunk cannot
 * be run at all: WEFT_EPROTO (malformed), WEFT_EINVAL (no such function
 * here), WEFT_ENOMEM. */
int weft__chunk_run(const weft_bytes_t *arg, weft_bytes_t *result);

/* Check a chunk's packed result, of n items: 0 or WEFT_EPROTO. */
int weft__chunk_open(const weft_bytes_t *packed, size_t n);

/* Item i of a checked result: 0 with *item (borrowed from packed), or the
 * item's code with its message as the thread's last message. */
int weft__chunk_item(const weft_bytes_t *packed, size_t i, weft_bytes_t *item);

#endif
