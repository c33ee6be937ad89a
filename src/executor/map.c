/* SPDX-License-Identifier: MIT */
/* Executor.map as an iterator, over any executor.
 *
 * Items go in chunks of chunksize, one task a chunk, and each item keeps
 * its own result or error, so a failing item fails alone. A pointer chunk
 * is a task that runs fn over the items, writing into the chunk. A byte
 * chunk must run where no memory is shared (a process pool), so it is one
 * byte task whose argument packs the items and whose result packs their
 * outcomes (chunk.c); a chunk of one item is simply the item's own task,
 * of either kind: fn(item) submitted as it is, whose future holds the
 * item's result or error. At most buffersize chunks are in flight; each
 * result taken makes room for the next chunk, so an endless input works
 * with bounded memory.
 *
 * A pointer chunk of several items belongs to the map and to its task: the
 * task's hold is dropped by a done callback, which fires once the chunk's
 * future is done whether the chunk ran or was cancelled, so a map freed
 * early never leaves a running chunk writing into freed memory. A chunk of
 * one item is the map's alone (its task writes only into its own future),
 * so it needs no callback, and the map keeps it for the next item: an item
 * costs a task and nothing more. */
#include "executor_int.h"

#include "base/chaos.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
    _Atomic uint32_t refs;
    weft_fn fn;
    size_t first, n;
    void **args, **results; /* pointer chunks only, as the next two */
    int *codes;
    char **messages;
    int checked; /* a packed byte result: 0 not yet, 1 sound, -1 not */
    weft_future_t *f;
    struct chunk *next; /* in flight, in input order; or spare */
    void *one;          /* the item of a chunk of one (args points here) */
};

struct weft_map {
    weft_executor_t *ex;
    int bytes;
    int single;          /* chunks of one pointer item: the item's task */
    int packed;          /* byte chunks of several items, packed */
    weft_bytes_t fn_ref; /* then: the head of every packed chunk */
    weft_bytes_t item;   /* the byte result yielded last (a view) */
    weft_fn fn;
    weft_bytes_fn bfn;
    void *const *args;
    const weft_bytes_t *bargs;
    size_t n;
    weft_arg_source source;
    void *ctx;
    size_t taken;    /* inputs taken so far */
    int input_state; /* 0 more, WEFT_EEOF done, else the source's error */
    size_t chunksize, buffersize, inflight;
    int unordered;
    int64_t deadline;
    struct chunk *head, *tail; /* in flight */
    weft_as_completed_t *done; /* unordered only */
    struct chunk *cur;         /* being yielded */
    size_t pos;
    struct chunk *spare; /* chunks of one, done with, for reuse */
};

/* ----- Chunks ----- */

static void chunk_release(struct chunk *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; c->messages && i < c->n; i++)
        free(c->messages[i]);
    weft_future_free(c->f);
    free(c->args);
    free(c);
}

/* A chunk with room for n pointer items (0 for a byte chunk, whose items
 * stay in the caller's array). */
static struct chunk *chunk_new(size_t n)
{
    struct chunk *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    atomic_init(&c->refs, 2);
    if (n == 0)
        return c;
    /* One block for the four arrays of n entries. */
    size_t per = 3 * sizeof(void *) + sizeof(int);
    unsigned char *block = calloc(n, per);
    if (block == NULL) {
        free(c);
        return NULL;
    }
    c->args = (void **)block;
    c->results = c->args + n;
    c->messages = (char **)(c->results + n);
    c->codes = (int *)(c->messages + n);
    return c;
}

/* A chunk of one pointer item: the map's alone, taken from its spares. */
static struct chunk *single_new(weft_map_t *m)
{
    struct chunk *c = m->spare;
    if (c)
        m->spare = c->next;
    else if ((c = malloc(sizeof *c)) == NULL)
        return NULL;
    memset(c, 0, sizeof *c);
    c->fn = m->fn;
    c->args = &c->one;
    return c;
}

/* The map lets go of chunk c (in flight or yielded). */
static void chunk_drop(weft_map_t *m, struct chunk *c)
{
    if (!m->single) {
        chunk_release(c);
        return;
    }
    weft_future_free(c->f);
    c->next = m->spare;
    m->spare = c;
}

static int run_chunk(void *arg, void **result)
{
    struct chunk *c = arg;
    for (size_t i = 0; i < c->n; i++) {
        weft_clear_message();
        int code = weft_task_cancelled() ? WEFT_ECANCELLED
                                         : c->fn(c->args[i], &c->results[i]);
        if (code) {
            c->codes[i] = code;
            const char *m = weft_last_message();
            c->messages[i] = strdup(m[0] ? m : weft_strerror(code));
        }
    }
    *result = c;
    return 0;
}

static int chunk_done(weft_future_t *f, void *arg)
{
    chunk_release(arg);
    return 0;
}

/* ----- Input ----- */

static int take_input(weft_map_t *m, void **arg)
{
    if (m->input_state)
        return m->input_state;
    int rc = 0;
    if (m->source)
        rc = m->source(m->ctx, arg);
    else if (m->taken < m->n)
        *arg = m->args ? m->args[m->taken] : NULL;
    else
        rc = WEFT_EEOF;
    if (rc)
        m->input_state = rc;
    else
        m->taken++;
    return rc;
}

static void link_inflight(weft_map_t *m, struct chunk *c)
{
    c->next = NULL;
    if (m->tail)
        m->tail->next = c;
    else
        m->head = c;
    m->tail = c;
    m->inflight++;
}

/* Take the next chunk's items: 0, or WEFT_EEOF (none left), or the
 * source's error. */
static int fill_chunk(weft_map_t *m, struct chunk *c)
{
    int rc = 0;
    if (m->bytes) {
        size_t want = m->packed ? m->chunksize : 1, left = m->n - m->taken;
        c->n = want < left ? want : left;
        m->taken += c->n;
        if (c->n == 0)
            rc = m->input_state = WEFT_EEOF;
        return rc;
    }
    while (c->n < m->chunksize && (rc = take_input(m, &c->args[c->n])) == 0)
        c->n++;
    return c->n ? 0 : rc;
}

static int submit_to_executor(weft_map_t *m, struct chunk *c)
{
    if (m->single)
        return weft_executor_submit(m->ex, m->fn, c->one, &c->f);
    if (!m->bytes)
        return weft_executor_submit(m->ex, run_chunk, c, &c->f);
    const weft_bytes_t *items = &m->bargs[c->first];
    if (!m->packed)
        return weft_executor_submit_bytes(m->ex, m->bfn, items->data,
                                          items->len, &c->f);
    weft_bytes_t packed;
    int rc = weft__chunk_pack(&packed, &m->fn_ref, items, c->n);
    if (rc == 0)
        rc = weft__executor_submit_taking(m->ex, weft__chunk_run, &packed,
                                          &c->f);
    weft_bytes_free(&packed); /* emptied when taken */
    return rc;
}

/* Submit the next chunk; 0, WEFT_EEOF when the input is done, or an
 * error (from the source or the executor). */
static int submit_chunk(weft_map_t *m)
{
    struct chunk *c =
        m->single ? single_new(m) : chunk_new(m->bytes ? 0 : m->chunksize);
    if (c == NULL)
        return weft_fail(WEFT_ENOMEM, "map: no memory");
    c->fn = m->fn;
    c->first = m->taken;
    int rc = fill_chunk(m, c);
    if (rc == 0)
        rc = submit_to_executor(m, c);
    if (rc) {
        /* Nothing left (input_state says so already), or refused: the map
         * ends with the executor's error. */
        if (c->n)
            m->input_state = rc;
        atomic_store(&c->refs, 1);
        chunk_drop(m, c);
        return rc;
    }
    if (!m->single && weft_future_add_done_callback(c->f, chunk_done, c)) {
        /* No memory for the callback: drop the task's hold ourselves,
         * once it can no longer write into the chunk. */
        weft_future_wait(c->f, WEFT_FOREVER);
        chunk_release(c);
    }
    link_inflight(m, c);
    return m->done ? weft_as_completed_add(m->done, c->f) : 0;
}

static int refill(weft_map_t *m)
{
    while (m->inflight < m->buffersize) {
        int rc = submit_chunk(m);
        if (rc == WEFT_EEOF)
            return 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* ----- Creating ----- */

/* Enough chunks to keep every worker busy, and about a thousand items in
 * flight, so that small items do not wait on wake-ups one by one. */
static size_t default_buffer(weft_executor_t *ex, const weft_map_opts_t *o)
{
    size_t chunk = o->chunksize ? o->chunksize : 1;
    size_t by_workers = 2 * (size_t)weft_executor_max_workers(ex);
    size_t by_items = (1024 + chunk - 1) / chunk;
    return by_workers > by_items ? by_workers : by_items;
}

/* The options in force (NULL: the defaults), checked: 0, or WEFT_EINVAL
 * for a bad timeout. */
static int take_opts(const weft_map_opts_t *opts, weft_map_opts_t *o)
{
    static const weft_map_opts_t defaults = WEFT_MAP_OPTS_DEFAULT;
    *o = opts ? *opts : defaults;
    if (isnan(o->timeout) || (o->timeout < 0 && o->timeout != WEFT_FOREVER))
        return weft_fail(WEFT_EINVAL,
                         "map: bad timeout %g (WEFT_FOREVER, or seconds >= 0)",
                         o->timeout);
    return 0;
}

/* A byte map packs its chunks unless the item function cannot be named to
 * the executor's workers (it is in no loaded image and they run in other
 * processes): then it sends one item per task, which the executor names
 * its own way (a function registered by name, say). */
static int pack_or_not(weft_map_t *m)
{
    int rc = weft__chunk_fn_ref(m->bfn, weft__executor_in_process(m->ex),
                                &m->fn_ref);
    m->packed = rc == 0;
    if (rc == WEFT_EINVAL) {
        weft_clear_message();
        return 0;
    }
    return rc;
}

static int map_new(weft_map_t **out, weft_executor_t *ex,
                   const weft_map_opts_t *opts, weft_map_t *proto)
{
    weft_map_opts_t o;
    int rc = take_opts(opts, &o);
    if (rc)
        return rc;
    if (out == NULL || ex == NULL)
        return weft_fail(WEFT_EINVAL, "map: NULL %s", out ? "executor" : "out");
    weft_map_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return weft_fail(WEFT_ENOMEM, "map: no memory");
    *m = *proto;
    m->ex = ex;
    m->chunksize = o.chunksize ? o.chunksize : 1;
    m->single = !m->bytes && m->chunksize == 1;
    m->buffersize = o.buffersize ? o.buffersize : default_buffer(ex, &o);
    m->unordered = o.unordered;
    /* From the call, as Python's; as_completed counts from its creation. */
    rc = weft_deadline(o.timeout, &m->deadline);
    if (rc == 0 && m->bytes && m->chunksize > 1)
        rc = pack_or_not(m);
    if (rc == 0 && m->unordered)
        rc = weft_as_completed_new(&m->done, NULL, 0, o.timeout);
    if (rc == 0)
        rc = refill(m);
    if (rc) {
        weft_map_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int weft_executor_map(weft_map_t **out, weft_executor_t *ex, weft_fn fn,
                      void *const *args, size_t n, const weft_map_opts_t *opts)
{
    if (fn == NULL || (args == NULL && n > 0))
        return weft_fail(WEFT_EINVAL, "map: NULL %s", fn ? "args" : "function");
    weft_map_t proto = {.fn = fn, .args = args, .n = n};
    return map_new(out, ex, opts, &proto);
}

int weft_executor_map_source(weft_map_t **out, weft_executor_t *ex, weft_fn fn,
                             weft_arg_source next, void *ctx,
                             const weft_map_opts_t *opts)
{
    if (fn == NULL || next == NULL)
        return weft_fail(WEFT_EINVAL, "map: NULL %s",
                         fn ? "source" : "function");
    weft_map_t proto = {.fn = fn, .source = next, .ctx = ctx};
    return map_new(out, ex, opts, &proto);
}

int weft_executor_map_bytes(weft_map_t **out, weft_executor_t *ex,
                            weft_bytes_fn fn, const weft_bytes_t *args,
                            size_t n, const weft_map_opts_t *opts)
{
    if (fn == NULL || (args == NULL && n > 0))
        return weft_fail(WEFT_EINVAL, "map: NULL %s", fn ? "args" : "function");
    weft_map_t proto = {.bytes = 1, .bfn = fn, .bargs = args, .n = n};
    return map_new(out, ex, opts, &proto);
}

/* ----- Iterating ----- */

static void unlink_chunk(weft_map_t *m, struct chunk *c)
{
    struct chunk **it = &m->head, *prev = NULL;
    while (*it != c) {
        prev = *it;
        it = &(*it)->next;
    }
    *it = c->next;
    if (m->tail == c)
        m->tail = prev;
    m->inflight--;
}

static struct chunk *chunk_of(weft_map_t *m, weft_future_t *f)
{
    for (struct chunk *c = m->head; c; c = c->next)
        if (c->f == f)
            return c;
    return NULL;
}

/* Waiting for the next result in a batch.
 *
 * A consumer that waits for each chunk in turn, while the workers run
 * ahead of it on the buffered chunks, is put to sleep and woken for
 * nearly every chunk: the sleep and the wake (two system calls, and the
 * waker's on the workers' path) cost several times what a small item
 * does. So when the chunk at the head is not done, the map first waits
 * for the chunk halfway through those in flight (at most WAIT_BATCH
 * further on), for at most WAIT_BATCH_S: the workers take the queued
 * chunks in order, so that one is done about when the batch before it is,
 * and the consumer then takes the whole batch without sleeping again,
 * while the workers go on with the other half. Only then does it wait for
 * the head itself.
 *
 * Nothing is lost or reordered by this, and every wait ends: results are
 * still taken from the head, in order, and only once the head is done (the
 * wait for the head is the one that decides). The first wait is bounded
 * in time, so a chunk further on that never finishes (an item that waits
 * for the consumer to take an earlier result, say) delays the head by at
 * most WAIT_BATCH_S; it is bounded by the map's deadline too, so that a
 * timeout fires when it did, and a cancelled wait returns at once. The
 * wake that ends the first wait is the later chunk's own completion (its
 * future's protocol, future.c); if that wake comes before the head is
 * done, the wait for the head is the ordinary one. */
enum { WAIT_BATCH = 512 };
#define WAIT_BATCH_S 100e-6

static int wait_head(weft_map_t *m, struct chunk *head)
{
    double left = weft_deadline_remaining(m->deadline);
    if (left == 0 || weft_future_done(head->f))
        return weft_future_wait(head->f, left);
    size_t ahead = m->inflight / 2 < WAIT_BATCH ? m->inflight / 2 : WAIT_BATCH;
    struct chunk *later = head;
    for (size_t i = 0; i < ahead && later->next; i++)
        later = later->next;
    if (later != head) {
        WEFT_CHAOS_POINT(); /* the head may finish before the first wait */
        double bound = left >= 0 && left < WAIT_BATCH_S ? left : WAIT_BATCH_S;
        int rc = weft_future_wait(later->f, bound);
        if (rc == WEFT_ECANCELLED)
            return rc;
        if (rc) /* timed out: no matter */
            weft_clear_message();
        WEFT_CHAOS_POINT(); /* between the two waits */
        left = weft_deadline_remaining(m->deadline);
    }
    return weft_future_wait(head->f, left);
}

/* The next chunk whose results are ready, per the map's order. */
static int next_chunk(weft_map_t *m, struct chunk **out)
{
    if (m->head == NULL)
        return m->input_state && m->input_state != WEFT_EEOF
                   ? weft_fail(m->input_state, "map: the input failed")
                   : weft_fail(WEFT_EEOF, "map: no more results");
    struct chunk *c = m->head;
    if (m->unordered) {
        weft_future_t *f;
        int rc = weft_as_completed_next(m->done, &f);
        if (rc == 0)
            c = chunk_of(m, f);
        else
            return rc;
    } else {
        int rc = wait_head(m, c);
        if (rc)
            return rc;
    }
    unlink_chunk(m, c);
    *out = c;
    return 0;
}

/* Item pos of a byte chunk: the task's result, or the item's own in a
 * packed chunk's result (checked once), or the task's error. */
static int byte_outcome(weft_map_t *m, struct chunk *c, size_t pos,
                        const weft_bytes_t **bytes)
{
    if (!m->packed)
        return weft_future_result_bytes(c->f, 0, bytes);
    const weft_bytes_t *whole = NULL;
    int rc = weft_future_result_bytes(c->f, 0, &whole);
    if (rc) /* the chunk failed whole: cancelled, a worker died, ... */
        return rc;
    if (c->checked == 0)
        c->checked = weft__chunk_open(whole, c->n) == 0 ? 1 : -1;
    if (c->checked < 0)
        return weft_fail(WEFT_EPROTO, "map: a chunk's result is malformed");
    rc = weft__chunk_item(whole, pos, &m->item);
    if (rc == 0 && bytes)
        *bytes = &m->item;
    return rc;
}

/* Item pos of chunk c: its result, or its own error. */
static int item_outcome(weft_map_t *m, struct chunk *c, size_t pos,
                        void **result, const weft_bytes_t **bytes)
{
    if (m->bytes)
        return byte_outcome(m, c, pos, bytes);
    if (m->single) /* the item's own task */
        return weft_future_result(c->f, 0, result);
    void *whole = NULL;
    int rc = weft_future_result(c->f, 0, &whole);
    if (rc) /* the chunk never ran: cancelled, broken pool */
        return rc;
    if (c->codes[pos])
        return weft_fail(c->codes[pos], "%s", c->messages[pos]);
    if (result)
        *result = c->results[pos];
    return 0;
}

static int map_step(weft_map_t *m, void **result, const weft_bytes_t **bytes,
                    size_t *index)
{
    if (m == NULL)
        return weft_fail(WEFT_EINVAL, "map_next: NULL map");
    while (m->cur == NULL || m->pos == m->cur->n) {
        if (m->cur) {
            chunk_drop(m, m->cur);
            m->cur = NULL;
        }
        int rc = refill(m);
        if (rc == 0)
            rc = next_chunk(m, &m->cur);
        if (rc) {
            if (rc == WEFT_ETIMEDOUT)
                weft_fail(rc, "map: timed out");
            return rc;
        }
        m->pos = 0;
    }
    size_t pos = m->pos++;
    if (index)
        *index = m->cur->first + pos;
    return item_outcome(m, m->cur, pos, result, bytes);
}

int weft_map_next(weft_map_t *m, void **result, size_t *index)
{
    if (m && m->bytes)
        return weft_fail(WEFT_EINVAL, "map_next: a byte map (use "
                                      "weft_map_next_bytes)");
    return map_step(m, result, NULL, index);
}

int weft_map_next_bytes(weft_map_t *m, const weft_bytes_t **result,
                        size_t *index)
{
    if (m && !m->bytes)
        return weft_fail(WEFT_EINVAL, "map_next_bytes: a pointer map");
    return map_step(m, NULL, result, index);
}

void weft_map_free(weft_map_t *m)
{
    if (m == NULL)
        return;
    for (struct chunk *c = m->head; c; c = c->next)
        weft_future_cancel(c->f);
    weft_as_completed_free(m->done);
    while (m->head) {
        struct chunk *c = m->head;
        m->head = c->next;
        chunk_drop(m, c);
    }
    if (m->cur)
        chunk_drop(m, m->cur);
    while (m->spare) {
        struct chunk *c = m->spare;
        m->spare = c->next;
        free(c);
    }
    weft_bytes_free(&m->fn_ref);
    free(m);
}
