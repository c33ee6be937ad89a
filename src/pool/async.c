/* SPDX-License-Identifier: MIT */
/* Pool's calls: apply, map, starmap, imap, and the async forms behind an
 * AsyncResult. */
#include "base/check.h"
#include "pool_int.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned weft__cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* ----- Chunks of a map ----- */

struct chunk {
    weft_fn fn;
    weft_starfn star;
    void *const *args;              /* map: items first .. first + n */
    void *const *const *tuples;     /* starmap */
    void **results;                 /* the AsyncResult's array */
    int *codes;
    char **messages;
    size_t first, n;
};

static int run_chunk(void *arg, void **unused)
{
    struct chunk *c = arg;
    for (size_t i = c->first; i < c->first + c->n; i++) {
        weft_clear_message();
        int code = weft_task_cancelled() ? WEFT_ECANCELLED
                   : c->star           ? c->star(c->tuples[i], &c->results[i])
                                       : c->fn(c->args[i], &c->results[i]);
        if (code) {
            c->codes[i] = code;
            const char *m = weft_last_message();
            c->messages[i] = strdup(m[0] ? m : weft_strerror(code));
        }
    }
    return 0;
}

/* ----- AsyncResult ----- */

struct weft_async_result {
    _Atomic uint32_t refs;   /* the caller's, and one per pending chunk */
    _Atomic uint32_t left;   /* chunks not done; 0: ready */
    size_t n, nchunks;
    int is_map;
    int bytes;               /* a call over byte strings: one item a task */
    weft_bytes_t *bresults;  /* its results, borrowed from the futures */
    void **results;
    int *codes;
    char **messages;
    struct chunk *chunks;
    weft_future_t **futures;
    int code;                /* the outcome once ready */
    char message[WEFT_MESSAGE_MAX];
    weft_pool_callback callback;
    weft_pool_error_callback error_callback;
    void *ctx;
};

static void result_release(weft_async_result_t *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->messages[i]);
    for (size_t i = 0; i < r->nchunks; i++)
        weft_future_free(r->futures[i]);
    free(r->futures);
    free(r->chunks);
    free(r->results);
    free(r->bresults);
    free(r);
}

/* What callbacks and get() hand out: the results array (map), the one
 * result (apply). */
static void *outcome_of(weft_async_result_t *r)
{
    if (r->bytes)
        return r->is_map ? (void *)r->bresults : (void *)&r->bresults[0];
    return r->is_map ? (void *)r->results : r->results[0];
}

/* A byte call's results, borrowed from its futures (which r keeps). */
static void borrow_bytes(weft_async_result_t *r)
{
    for (size_t i = 0; r->bytes && i < r->nchunks; i++) {
        const weft_bytes_t *b;
        if (weft_future_result_bytes(r->futures[i], 0, &b) == 0)
            r->bresults[i] = *b;
    }
}

/* The outcome once every chunk is done: the first failing item by
 * position, or a chunk that never ran (cancelled, broken executor). */
static void settle(weft_async_result_t *r)
{
    r->code = 0;
    for (size_t c = 0; c < r->nchunks && r->code == 0; c++) {
        weft_error_info_t e;
        int rc = weft_future_error(r->futures[c], 0, &e);
        if (rc || e.code) {
            r->code = rc ? rc : e.code;
            snprintf(r->message, sizeof r->message, "%s",
                     rc ? weft_last_message() : e.message);
        }
    }
    for (size_t i = 0; i < r->n && r->code == 0; i++)
        if (r->codes[i]) {
            r->code = r->codes[i];
            snprintf(r->message, sizeof r->message, "%s", r->messages[i]);
        }
    if (r->code == 0)
        borrow_bytes(r);
}

static void mark_ready(weft_async_result_t *r);

static int chunk_done(weft_future_t *f, void *arg)
{
    weft_async_result_t *r = arg;
    if (atomic_fetch_sub(&r->left, 1) == 1)
        mark_ready(r);
    result_release(r);
    return 0;
}

static weft_async_result_t *result_new(size_t n, size_t nchunks)
{
    weft_async_result_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    size_t items = n ? n : 1;
    r->results = calloc(items, sizeof(void *) * 2 + sizeof(int));
    r->chunks = calloc(nchunks ? nchunks : 1, sizeof *r->chunks);
    r->futures = calloc(nchunks ? nchunks : 1, sizeof *r->futures);
    if (!r->results || !r->chunks || !r->futures) {
        free(r->results);
        free(r->chunks);
        free(r->futures);
        free(r);
        return NULL;
    }
    r->messages = (char **)(r->results + items);
    r->codes = (int *)(r->messages + items);
    r->n = n;
    r->nchunks = nchunks;
    atomic_init(&r->refs, 1);
    atomic_init(&r->left, nchunks ? (uint32_t)nchunks : UINT32_MAX);
    return r;
}

/* Python's default chunksize: about n / (4 * workers), at least 1. */
static size_t default_chunksize(weft_pool_t *p, size_t n)
{
    size_t w = weft_executor_max_workers(weft_pool_executor(p));
    size_t c = (n + 4 * w - 1) / (4 * w);
    return c ? c : 1;
}

/* Settle r and wake its waiters: the last chunk's done callback, or the
 * submitter when the rest was never sent. */
static void mark_ready(weft_async_result_t *r)
{
    settle(r);
    if (r->code == 0 && r->callback)
        r->callback(outcome_of(r), r->ctx);
    if (r->code && r->error_callback) {
        weft_fail(r->code, "%s", r->message);
        r->error_callback(r->code, r->ctx);
    }
    /* Release: the settled outcome, then the wake-up. */
    atomic_store_explicit(&r->left, UINT32_MAX, memory_order_release);
    weft_unpark_all(&r->left, 0);
}

/* Submit every chunk. On a refusal the chunks already sent complete on
 * their own; the ones never sent count as done, so r still settles. */
static int submit_chunks(weft_async_result_t *r, weft_pool_t *p)
{
    size_t total = r->nchunks;
    for (size_t c = 0; c < total; c++) {
        atomic_fetch_add(&r->refs, 1);
        int rc = weft__pool_submit(p, run_chunk, &r->chunks[c], chunk_done,
                                   r, &r->futures[c]);
        if (rc == 0)
            continue;
        atomic_fetch_sub(&r->refs, 1);
        r->nchunks = c; /* left > 0 until the subtraction: nobody settles */
        uint32_t missing = (uint32_t)(total - c);
        if (atomic_fetch_sub(&r->left, missing) == missing)
            mark_ready(r);
        return rc;
    }
    return 0;
}

static int start_map(weft_async_result_t **out, weft_pool_t *p, weft_fn fn,
                     weft_starfn star, void *const *args,
                     void *const *const *tuples, size_t n, size_t chunksize,
                     int is_map)
{
    if (out == NULL || p == NULL || (fn == NULL && star == NULL) ||
        (n > 0 && args == NULL && tuples == NULL))
        return weft_fail(WEFT_EINVAL, "pool: NULL argument");
    size_t cs = chunksize ? chunksize : default_chunksize(p, n);
    size_t nchunks = (n + cs - 1) / cs;
    weft_async_result_t *r = result_new(n, nchunks);
    if (r == NULL)
        return weft_fail(WEFT_ENOMEM, "pool: no memory");
    r->is_map = is_map;
    for (size_t c = 0; c < nchunks; c++) {
        size_t first = c * cs, len = n - first < cs ? n - first : cs;
        r->chunks[c] = (struct chunk){fn,         star,    args,
                                      tuples,     r->results, r->codes,
                                      r->messages, first,  len};
    }
    *out = r;
    return 0;
}

static int launch(weft_async_result_t *r, weft_pool_t *p)
{
    int rc = submit_chunks(r, p);
    if (rc) {
        /* What went out finishes before r goes: chunks hold references,
         * and the caller never sees r. */
        result_release(r);
        return rc;
    }
    return 0;
}

int weft_pool_map_async(weft_async_result_t **out, weft_pool_t *p, weft_fn fn,
                        void *const *args, size_t n, size_t chunksize,
                        weft_pool_callback callback,
                        weft_pool_error_callback error_callback, void *ctx)
{
    WEFT_REFUSE_NULL(out);
    weft_async_result_t *r = NULL;
    int rc = start_map(&r, p, fn, NULL, args, NULL, n, chunksize, 1);
    if (rc)
        return rc;
    r->callback = callback;
    r->error_callback = error_callback;
    r->ctx = ctx;
    if (n == 0 && callback)
        callback(r->results, ctx);
    rc = launch(r, p);
    if (rc == 0)
        *out = r;
    return rc;
}

int weft_pool_apply_async(weft_async_result_t **out, weft_pool_t *p,
                          weft_fn fn, void *arg, weft_pool_callback callback,
                          weft_pool_error_callback error_callback, void *ctx)
{
    WEFT_REFUSE_NULL(out);
    weft_async_result_t *r = NULL;
    void *args[1] = {arg};
    int rc = start_map(&r, p, fn, NULL, args, NULL, 1, 1, 0);
    if (rc)
        return rc;
    /* The argument array lives in the result, not on this stack. */
    r->chunks[0].args = (void *const *)&r->results[0];
    r->results[0] = arg;
    r->callback = callback;
    r->error_callback = error_callback;
    r->ctx = ctx;
    rc = launch(r, p);
    if (rc == 0)
        *out = r;
    return rc;
}

/* ----- AsyncResult queries ----- */

static int is_ready(weft_async_result_t *r)
{
    return atomic_load_explicit(&r->left, memory_order_acquire) == UINT32_MAX;
}

static int still_pending(void *ctx)
{
    return !is_ready(ctx);
}

static const weft_park_ops_t pending_ops = {still_pending, NULL, NULL};

int weft_async_result_wait(weft_async_result_t *r, double timeout)
{
    WEFT_REFUSE_NULL(r);
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    while (rc == 0 && !is_ready(r)) {
        rc = weft_park(&r->left, &pending_ops, r, deadline, NULL);
        if (rc == WEFT_EAGAIN)
            rc = 0;
    }
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "the result is not ready");
    return rc;
}

int weft_async_result_ready(weft_async_result_t *r)
{
    WEFT_REFUSE_NULL_OR(r, 0);
    return is_ready(r);
}

int weft_async_result_successful(weft_async_result_t *r, int *successful)
{
    WEFT_REFUSE_NULL(r);
    WEFT_REFUSE_NULL(successful);
    if (!is_ready(r))
        return weft_fail(WEFT_ESTATE, "the result is not ready");
    *successful = r->code == 0;
    return 0;
}

int weft_async_result_get(weft_async_result_t *r, double timeout,
                          void **result)
{
    WEFT_REFUSE_NULL(r);
    int rc = weft_async_result_wait(r, timeout);
    if (rc)
        return rc;
    if (r->code)
        return weft_fail(r->code, "%s", r->message);
    if (result)
        *result = outcome_of(r);
    return 0;
}

void weft_async_result_free(weft_async_result_t *r)
{
    if (r)
        result_release(r);
}

/* ----- Blocking forms ----- */

/* Copy out the results and report the first failure by position. */
static int collect(weft_async_result_t *r, void **results, size_t *failed)
{
    int rc = weft_async_result_wait(r, WEFT_FOREVER);
    if (rc)
        return rc;
    if (results)
        memcpy(results, r->results, r->n * sizeof *results);
    for (size_t i = 0; i < r->n; i++)
        if (r->codes[i]) {
            if (failed)
                *failed = i;
            return weft_fail(r->codes[i], "%s", r->messages[i]);
        }
    return r->code ? weft_fail(r->code, "%s", r->message) : 0;
}

int weft_pool_map(weft_pool_t *p, weft_fn fn, void *const *args, size_t n,
                  size_t chunksize, void **results, size_t *failed)
{
    weft_async_result_t *r = NULL;
    int rc = weft_pool_map_async(&r, p, fn, args, n, chunksize, NULL, NULL,
                                 NULL);
    if (rc)
        return rc;
    rc = collect(r, results, failed);
    result_release(r);
    return rc;
}

int weft_pool_starmap(weft_pool_t *p, weft_starfn fn,
                      void *const *const *tuples, size_t n, size_t chunksize,
                      void **results, size_t *failed)
{
    weft_async_result_t *r = NULL;
    int rc = start_map(&r, p, NULL, fn, NULL, tuples, n, chunksize, 1);
    if (rc)
        return rc;
    rc = launch(r, p);
    if (rc)
        return rc;
    rc = collect(r, results, failed);
    result_release(r);
    return rc;
}

int weft_pool_apply(weft_pool_t *p, weft_fn fn, void *arg, void **result)
{
    weft_async_result_t *r = NULL;
    int rc = weft_pool_apply_async(&r, p, fn, arg, NULL, NULL, NULL);
    if (rc)
        return rc;
    rc = weft_async_result_get(r, WEFT_FOREVER, result);
    result_release(r);
    return rc;
}

static int imap(weft_map_t **out, weft_pool_t *p, weft_fn fn,
                void *const *args, size_t n, size_t chunksize, int unordered)
{
    if (p == NULL)
        return weft_fail(WEFT_EINVAL, "imap: NULL pool");
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = chunksize ? chunksize : 1;
    o.unordered = unordered;
    return weft_executor_map(out, weft_pool_executor(p), fn, args, n, &o);
}

int weft_pool_imap(weft_map_t **out, weft_pool_t *p, weft_fn fn,
                   void *const *args, size_t n, size_t chunksize)
{
    return imap(out, p, fn, args, n, chunksize, 0);
}

int weft_pool_imap_unordered(weft_map_t **out, weft_pool_t *p, weft_fn fn,
                             void *const *args, size_t n, size_t chunksize)
{
    return imap(out, p, fn, args, n, chunksize, 1);
}

/* ----- Calls over byte strings ----- */

/* Submit every item, one task each; as submit_chunks for a refusal. */
static int submit_items(weft_async_result_t *r, weft_pool_t *p,
                        weft_bytes_fn fn, const weft_bytes_t *args)
{
    size_t total = r->nchunks;
    for (size_t i = 0; i < total; i++) {
        atomic_fetch_add(&r->refs, 1);
        int rc = weft__pool_submit_bytes(p, fn, args[i].data, args[i].len,
                                         chunk_done, r, &r->futures[i]);
        if (rc == 0)
            continue;
        atomic_fetch_sub(&r->refs, 1);
        r->nchunks = i;
        uint32_t missing = (uint32_t)(total - i);
        if (atomic_fetch_sub(&r->left, missing) == missing)
            mark_ready(r);
        return rc;
    }
    return 0;
}

static int start_bytes(weft_async_result_t **out, weft_pool_t *p,
                       weft_bytes_fn fn, const weft_bytes_t *args, size_t n,
                       int is_map, weft_pool_callback callback,
                       weft_pool_error_callback error_callback, void *ctx)
{
    if (out == NULL || p == NULL || fn == NULL || (n > 0 && args == NULL))
        return weft_fail(WEFT_EINVAL, "pool: NULL argument");
    weft_async_result_t *r = result_new(n, n);
    weft_bytes_t *b = r ? calloc(n ? n : 1, sizeof *b) : NULL;
    if (b == NULL) {
        if (r)
            result_release(r);
        return weft_fail(WEFT_ENOMEM, "pool: no memory");
    }
    r->bytes = 1;
    r->bresults = b;
    r->is_map = is_map;
    r->callback = callback;
    r->error_callback = error_callback;
    r->ctx = ctx;
    if (n == 0 && callback)
        callback(r->bresults, ctx);
    int rc = submit_items(r, p, fn, args);
    if (rc) {
        result_release(r);
        return rc;
    }
    *out = r;
    return 0;
}

int weft_pool_map_async_bytes(weft_async_result_t **out, weft_pool_t *p,
                              weft_bytes_fn fn, const weft_bytes_t *args,
                              size_t n, size_t chunksize,
                              weft_pool_callback callback,
                              weft_pool_error_callback error_callback,
                              void *ctx)
{
    return start_bytes(out, p, fn, args, n, 1, callback, error_callback, ctx);
}

int weft_pool_apply_async_bytes(weft_async_result_t **out, weft_pool_t *p,
                                weft_bytes_fn fn, const void *arg, size_t len,
                                weft_pool_callback callback,
                                weft_pool_error_callback error_callback,
                                void *ctx)
{
    if (arg == NULL && len > 0)
        return weft_fail(WEFT_EINVAL, "pool: NULL argument");
    weft_bytes_t one = {(unsigned char *)arg, len};
    return start_bytes(out, p, fn, &one, 1, 0, callback, error_callback, ctx);
}

int weft_async_result_get_bytes(weft_async_result_t *r, double timeout,
                                const weft_bytes_t **results)
{
    if (r == NULL || !r->bytes)
        return weft_fail(WEFT_EINVAL, "get_bytes: not a byte-string call");
    void *out = NULL;
    int rc = weft_async_result_get(r, timeout, &out);
    if (rc == 0 && results)
        *results = out;
    return rc;
}

/* Copy the results of a settled byte call into results (new strings). */
static int copy_out(weft_async_result_t *r, weft_bytes_t *results)
{
    for (size_t i = 0; results && i < r->n; i++) {
        int rc = weft_bytes_copy(&results[i], r->bresults[i].data,
                                 r->bresults[i].len);
        if (rc) {
            while (i-- > 0)
                weft_bytes_free(&results[i]);
            return rc;
        }
    }
    return 0;
}

/* The first failing item by position, as map reports it. */
static int first_failure(weft_async_result_t *r, size_t *failed)
{
    for (size_t i = 0; i < r->nchunks; i++) {
        weft_error_info_t e;
        int rc = weft_future_error(r->futures[i], 0, &e);
        if (rc || e.code) {
            if (failed)
                *failed = i;
            return rc ? rc : weft_fail(e.code, "%s", e.message);
        }
    }
    return r->code ? weft_fail(r->code, "%s", r->message) : 0;
}

int weft_pool_map_bytes(weft_pool_t *p, weft_bytes_fn fn,
                        const weft_bytes_t *args, size_t n, size_t chunksize,
                        weft_bytes_t *results, size_t *failed)
{
    weft_async_result_t *r = NULL;
    int rc = weft_pool_map_async_bytes(&r, p, fn, args, n, chunksize, NULL,
                                       NULL, NULL);
    if (rc)
        return rc;
    rc = weft_async_result_wait(r, WEFT_FOREVER);
    if (rc == 0)
        rc = first_failure(r, failed);
    if (rc == 0)
        rc = copy_out(r, results);
    result_release(r);
    return rc;
}

int weft_pool_apply_bytes(weft_pool_t *p, weft_bytes_fn fn, const void *arg,
                          size_t len, weft_bytes_t *result)
{
    WEFT_REFUSE_NULL(result);
    weft_async_result_t *r = NULL;
    int rc = weft_pool_apply_async_bytes(&r, p, fn, arg, len, NULL, NULL,
                                         NULL);
    if (rc)
        return rc;
    const weft_bytes_t *b = NULL;
    rc = weft_async_result_get_bytes(r, WEFT_FOREVER, &b);
    if (rc == 0 && result)
        rc = weft_bytes_copy(result, b->data, b->len);
    result_release(r);
    return rc;
}

static int imap_bytes(weft_map_t **out, weft_pool_t *p, weft_bytes_fn fn,
                      const weft_bytes_t *args, size_t n, size_t chunksize,
                      int unordered)
{
    if (p == NULL)
        return weft_fail(WEFT_EINVAL, "imap: NULL pool");
    weft_map_opts_t o = WEFT_MAP_OPTS_DEFAULT;
    o.chunksize = chunksize;
    o.unordered = unordered;
    return weft_executor_map_bytes(out, weft_pool_executor(p), fn, args, n,
                                   &o);
}

int weft_pool_imap_bytes(weft_map_t **out, weft_pool_t *p, weft_bytes_fn fn,
                         const weft_bytes_t *args, size_t n, size_t chunksize)
{
    return imap_bytes(out, p, fn, args, n, chunksize, 0);
}

int weft_pool_imap_unordered_bytes(weft_map_t **out, weft_pool_t *p,
                                   weft_bytes_fn fn, const weft_bytes_t *args,
                                   size_t n, size_t chunksize)
{
    return imap_bytes(out, p, fn, args, n, chunksize, 1);
}
