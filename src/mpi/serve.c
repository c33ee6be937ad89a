/* SPDX-License-Identifier: MIT */
/* A worker rank: the start-up, then serving tasks until the root says EXIT.
 *
 * Two threads. The progress thread makes every transport call: it reads
 * the root's messages (FN frames fill the function table, TASK frames go
 * on the task queue, EXIT puts the end marker there), sends what the
 * serving thread has staged, and a heartbeat whenever it has sent nothing
 * for a heartbeat period. The serving thread (the caller's) takes tasks
 * off the queue in order, runs them, and stages a RESULT or ERROR frame
 * per task under the lock.
 *
 * Staged frames go out as one message. The serving thread wakes the
 * progress thread when its queue is empty (the root should hear at once:
 * the worker has nothing left, and its results are the requests for more),
 * when 64 KiB are staged, or when the oldest staged frame has waited 1 ms;
 * otherwise the progress thread takes them at its next probe. Many short
 * tasks so share a message, and a long one is reported as it ends.
 *
 * Ending: after the end marker the serving thread sets done and wakes the
 * progress thread, which sends what is staged and BYE, waits for its
 * sends to complete, and returns. If the transport fails, the progress
 * thread puts the end marker on the queue itself (a task that is running
 * ends first) and returns. */
#include "mpi_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_BYTES (64 * 1024)
#define FLUSH_NS 1000000

/* A received message, shared by the tasks whose arguments lie in it. */
struct wmsg {
    _Atomic unsigned refs;
    weft_bytes_t data;
};

struct wtask {
    uint64_t id;
    uint32_t fn;
    weft_bytes_t arg; /* borrowed from msg */
    struct wmsg *msg;
};

struct wfn {
    weft_bytes_fn fn;
    int code; /* why it could not be found, if fn is NULL */
    char message[WEFT_MESSAGE_MAX];
};

struct serve {
    weft__mpi_transport_t *t;
    int root;
    int64_t heartbeat_ns;
    int broken; /* the initializer failed here */
    weft_queue_t *tasks;
    struct weft__mpi_idle idle;
    weft_lock_t lock; /* guards what follows */
    struct weft__mpi_out out;
    int64_t out_since;
    struct wfn *fns;
    size_t nfns;
    int done; /* the serving thread has ended */
    int rc;   /* the progress thread's error */
};

static void msg_release(struct wmsg *m)
{
    /* Acq_rel: the last releaser sees every other task done with it. */
    WEFT_CHAOS_POINT();
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) {
        weft_bytes_free(&m->data);
        free(m);
    }
}

/* ----- The progress thread ----- */

/* The function an FN frame names (by name or by reference), or why not. */
static struct wfn find_fn(int kind, const unsigned char *body, size_t len,
                          int rank)
{
    struct wfn e = {NULL, 0, ""};
    if (kind == FN_NAME) {
        char name[256];
        snprintf(name, sizeof name, "%.*s",
                 (int)strnlen((const char *)body, len), (const char *)body);
        e.fn = weft__mpi_lookup(name);
        if (e.fn == NULL) {
            e.code = WEFT_EKEY;
            snprintf(e.message, sizeof e.message,
                     "no task registered as '%.200s' on rank %d", name,
                     rank);
        }
        return e;
    }
    weft_bytes_t ref = {(unsigned char *)body, len};
    weft_any_fn fn;
    int rc = weft_fn_resolve(&ref, &fn);
    if (rc == 0)
        e.fn = (weft_bytes_fn)fn;
    else {
        e.code = rc;
        snprintf(e.message, sizeof e.message, "%s", weft_last_message());
    }
    return e;
}

static int set_fn(struct serve *s, const struct weft__mpi_head *h,
                  const unsigned char *body, size_t len)
{
    uint32_t id = h->fn;
    struct wfn e = find_fn(h->code, body, len, s->t->rank);
    weft_lock_acquire_shielded(&s->lock);
    if (id >= s->nfns) {
        size_t n = (size_t)id + 16;
        struct wfn *fns = realloc(s->fns, n * sizeof *fns);
        if (fns == NULL) {
            weft_lock_release(&s->lock);
            return weft_fail(WEFT_ENOMEM, "MPI worker: no memory");
        }
        memset(fns + s->nfns, 0, (n - s->nfns) * sizeof *fns);
        s->fns = fns;
        s->nfns = n;
    }
    s->fns[id] = e;
    weft_lock_release(&s->lock);
    return 0;
}

static int queue_task(struct serve *s, struct wmsg *m,
                      const struct weft__mpi_head *h,
                      const unsigned char *body, size_t len)
{
    struct wtask *w = malloc(sizeof *w);
    if (w == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI worker: no memory");
    *w = (struct wtask){h->id, h->fn, {len ? (unsigned char *)body : NULL, len}, m};
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    WEFT_CHAOS_POINT();
    weft_queue_put(s->tasks, w, WEFT_FOREVER);
    return 0;
}

/* The frames of one message from the root. */
static int take_message(struct serve *s, weft_bytes_t *msg)
{
    struct wmsg *m = malloc(sizeof *m);
    if (m == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI worker: no memory");
    atomic_init(&m->refs, 1);
    m->data = *msg;
    *msg = (weft_bytes_t){NULL, 0};
    size_t off = 0, len;
    struct weft__mpi_head h;
    const unsigned char *body;
    int got, rc = 0;
    while (rc == 0 && (got = weft__mpi_next(&m->data, &off, &h, &body, &len)) == 1) {
        if (h.type == F_FN)
            rc = set_fn(s, &h, body, len);
        else if (h.type == F_TASK)
            rc = queue_task(s, m, &h, body, len);
        else if (h.type == F_EXIT)
            weft_queue_put(s->tasks, NULL, WEFT_FOREVER);
    }
    if (rc == 0 && got < 0)
        rc = weft_fail(WEFT_EPROTO, "MPI worker: a malformed message from "
                                    "the root");
    msg_release(m);
    return rc;
}

/* Send what is staged (and BYE once the serving thread is done). */
static int flush(struct serve *s, int *sent, int *done)
{
    weft_lock_acquire_shielded(&s->lock);
    *done = s->done;
    int rc = 0;
    if (*done)
        rc = weft__mpi_put(&s->out, (struct weft__mpi_head){.type = F_BYE},
                           NULL, 0);
    weft_bytes_t msg = weft__mpi_take(&s->out);
    weft_lock_release(&s->lock);
    WEFT_CHAOS_POINT(); /* done read, the frames not sent yet */
    *sent = msg.len > 0;
    if (rc == 0 && msg.len)
        rc = s->t->ops->send(s->t, s->root, &msg);
    weft_bytes_free(&msg);
    return rc;
}

static int beat(struct serve *s)
{
    return weft__mpi_send_frame(s->t, s->root,
                                (struct weft__mpi_head){.type = F_BEAT}, NULL,
                                0);
}

/* Until the end: returns 0, or the transport's error. */
static int progress_loop(struct serve *s)
{
    int64_t last_send = weft_monotonic_ns();
    for (;;) {
        int peer, got = 0, sent = 0, done = 0;
        weft_bytes_t msg = {NULL, 0};
        int rc = s->t->ops->poll(s->t, &peer, &msg, &got);
        if (rc == 0 && got)
            rc = take_message(s, &msg);
        weft_bytes_free(&msg);
        if (rc == 0)
            rc = flush(s, &sent, &done);
        int64_t now = weft_monotonic_ns();
        if (rc == 0 && !sent && now - last_send >= s->heartbeat_ns)
            rc = beat(s), sent = 1;
        if (rc)
            return rc;
        if (sent)
            last_send = now;
        if (done) {
            while ((rc = s->t->ops->poll(s->t, &peer, &msg, &got)) == 0 &&
                   s->t->ops->sends_pending(s->t) > 0) {
                weft_bytes_free(&msg);
                weft__mpi_idle_wait(&s->idle, 1000000, 0);
            }
            weft_bytes_free(&msg);
            return rc == WEFT_ECLOSED ? 0 : rc;
        }
        if (got || sent) {
            weft__mpi_idle_reset(&s->idle);
            continue;
        }
        WEFT_CHAOS_POINT(); /* between finding nothing and the sleep */
        weft__mpi_idle_wait(&s->idle, s->heartbeat_ns - (now - last_send), 0);
    }
}

static int progress_main(void *arg, void **result)
{
    struct serve *s = arg;
    weft__mpi_idle_thread_setup();
    int rc = progress_loop(s);
    if (rc) {
        weft_lock_acquire_shielded(&s->lock);
        s->rc = rc;
        weft_lock_release(&s->lock);
        WEFT_CHAOS_POINT(); /* the error stored, the end marker not put */
        weft_queue_put(s->tasks, NULL, WEFT_FOREVER);
    }
    return 0;
}

/* ----- The serving thread ----- */

static struct wfn lookup(struct serve *s, uint32_t id)
{
    struct wfn e = {NULL, WEFT_EPROTO, "the root sent a task of an unknown "
                                       "function"};
    weft_lock_acquire_shielded(&s->lock);
    if (id < s->nfns && (s->fns[id].fn || s->fns[id].code))
        e = s->fns[id];
    weft_lock_release(&s->lock);
    return e;
}

static int stage(struct serve *s, struct weft__mpi_head h, const void *body,
                 size_t len)
{
    weft_lock_acquire_shielded(&s->lock);
    int64_t now = weft_monotonic_ns();
    if (s->out.b.len == 0)
        s->out_since = now;
    int rc = weft__mpi_put(&s->out, h, body, len);
    int wake = weft_queue_empty(s->tasks) || s->out.b.len >= FLUSH_BYTES ||
               now - s->out_since >= FLUSH_NS;
    weft_lock_release(&s->lock);
    WEFT_CHAOS_POINT(); /* staged, the wake-up not written yet */
    if (wake)
        weft__mpi_idle_wake(&s->idle);
    return rc;
}

static void run_task(struct serve *s, struct wtask *w)
{
    struct wfn e = lookup(s, w->fn);
    weft_bytes_t result = {NULL, 0};
    int code = e.code;
    const char *message = e.message;
    int64_t t0 = weft_monotonic_ns();
    if (s->broken) {
        code = WEFT_EBROKEN;
        message = "the initializer failed on this rank";
    } else if (e.fn) {
        weft_clear_message();
        code = e.fn(&w->arg, &result);
        message = weft_last_message();
    }
    struct weft__mpi_head h = {.id = w->id, .code = code};
    if (code == 0) {
        h.type = F_RESULT;
        h.aux = (uint64_t)(weft_monotonic_ns() - t0);
        stage(s, h, result.data, result.len);
    } else {
        h.type = F_ERROR;
        stage(s, h, message, strlen(message) + 1);
    }
    weft_bytes_free(&result);
}

static void serve_tasks(struct serve *s)
{
    void *item;
    while (weft_queue_get(s->tasks, &item, WEFT_FOREVER) == 0 && item) {
        struct wtask *w = item;
        run_task(s, w);
        msg_release(w->msg);
        free(w);
    }
    weft_lock_acquire_shielded(&s->lock);
    s->done = 1;
    weft_lock_release(&s->lock);
    WEFT_CHAOS_POINT(); /* done stored, the wake-up not written yet */
    weft__mpi_idle_wake(&s->idle);
}

/* ----- Start-up ----- */

static int hello(weft__mpi_transport_t *t, int root)
{
    weft_bytes_t names;
    int rc = weft__mpi_names(&names);
    if (rc == 0)
        rc = weft__mpi_send_frame(t, root,
                                  (struct weft__mpi_head){.type = F_HELLO},
                                  names.data, names.len);
    weft_bytes_free(&names);
    return rc;
}

/* Run the initializer that START carries: its code, message in msg. */
static int initialize(const struct weft__mpi_head *h, const unsigned char *body,
                      size_t len, char *msg, size_t size)
{
    if (h->id == 0 || h->id > len)
        return 0;
    weft_bytes_t ref = {(unsigned char *)body, h->id};
    weft_bytes_t arg = {len > h->id ? (unsigned char *)body + h->id : NULL,
                        len - h->id};
    weft_any_fn fn;
    int rc = weft_fn_resolve(&ref, &fn);
    weft_bytes_t result = {NULL, 0};
    if (rc == 0) {
        weft_clear_message();
        rc = ((weft_bytes_fn)fn)(&arg, &result);
    }
    weft_bytes_free(&result);
    snprintf(msg, size, "%s", rc ? weft_last_message() : "");
    return rc;
}

/* HELLO, START, the initializer, READY. Returns 0 to serve, or the error
 * the root sent (or met). */
static int start(struct serve *s)
{
    int rc = hello(s->t, s->root);
    int peer;
    weft_bytes_t msg = {NULL, 0};
    if (rc == 0)
        rc = weft__mpi_recv_blocking(s->t, &peer, &msg);
    size_t off = 0, len;
    struct weft__mpi_head h;
    const unsigned char *body;
    if (rc == 0 && (weft__mpi_next(&msg, &off, &h, &body, &len) != 1 ||
                    h.type != F_START))
        rc = weft_fail(WEFT_EPROTO, "MPI worker: expected START from the "
                                    "root");
    if (rc == 0 && h.code != 0)
        rc = weft_fail(h.code, "%.*s", (int)strnlen((const char *)body, len),
                       (const char *)body);
    if (rc == 0) {
        s->heartbeat_ns = (int64_t)h.aux > 0 ? (int64_t)h.aux : 1000000000;
        char text[WEFT_MESSAGE_MAX];
        int code = initialize(&h, body, len, text, sizeof text);
        s->broken = code != 0;
        rc = weft__mpi_send_frame(s->t, s->root,
                                  (struct weft__mpi_head){.type = F_READY,
                                                          .code = code},
                                  text, strlen(text) + 1);
    }
    weft_bytes_free(&msg);
    return rc;
}

static void serve_free(struct serve *s)
{
    void *item;
    while (s->tasks && weft_queue_get_nowait(s->tasks, &item) == 0)
        if (item) {
            msg_release(((struct wtask *)item)->msg);
            free(item);
        }
    weft_queue_free(s->tasks);
    weft__mpi_idle_destroy(&s->idle);
    weft__mpi_out_free(&s->out);
    free(s->fns);
    free(s);
}

static int run(struct serve *s)
{
    weft_thread_t *th;
    int rc = weft_thread_new(&th, progress_main, s,
                             &(weft_thread_opts_t){.name = "MPIProgress",
                                                   .daemon = 1});
    if (rc)
        return rc;
    rc = weft_thread_start(th);
    if (rc == 0) {
        serve_tasks(s);
        weft_thread_join(th, WEFT_FOREVER);
        rc = s->rc;
    }
    weft_thread_free(th);
    return rc;
}

int weft__mpi_serve(weft__mpi_transport_t *t, int root)
{
    struct serve *s = calloc(1, sizeof *s);
    if (s == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI worker: no memory");
    s->t = t;
    s->root = root;
    s->idle.efd = -1;
    weft_lock_init(&s->lock);
    int rc = weft_simple_queue_new(&s->tasks);
    if (rc == 0)
        rc = weft__mpi_idle_init(&s->idle);
    if (rc == 0)
        rc = start(s);
    if (rc == 0)
        rc = run(s);
    weft_error_info_t e;
    weft_error_capture(&e, rc);
    serve_free(s);
    return rc ? weft_fail(rc, "%s", e.message) : 0;
}
