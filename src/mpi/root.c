/* SPDX-License-Identifier: MIT */
/* The root: the executor's class, submission, shutdown and teardown, and
 * the start-up that checks every worker's task names and runs the
 * initializer. The progress thread (progress.c) does the rest.
 *
 * The struct lives on while any task does (each holds a reference), since
 * a task's destroy reaches it; the transport and the thread go at
 * destroy. */
#include "base/check.h"
#include "mpi_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----- The task class ----- */

static void task_destroy(weft_future_t *f)
{
    struct rtask *t = weft__mpi_task(f);
    struct root *r = t->root;
    weft_bytes_free(&t->arg);
    weft_bytes_free(&t->out);
    free(f);
    weft__mpi_release(r);
}

static const weft_future_class_t task_class = {
    WEFT_FUTURE_SIZE + sizeof(struct rtask), task_destroy, NULL, NULL};

void weft__mpi_release(struct root *r)
{
    WEFT_CHAOS_POINT();
    /* Acq_rel: the last dropper sees every write made under the others. */
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        free(r);
}

/* ----- Outcomes ----- */

void weft__mpi_finish(struct rtask *t, int code, struct rtask **done,
                      const char *fmt, ...)
{
    char text[WEFT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    weft_bytes_free(&t->out);
    t->code = code;
    weft_bytes_copy(&t->out, text, strlen(text) + 1);
    t->next = *done;
    *done = t;
}

void weft__mpi_complete(struct root *r, struct rtask *done)
{
    while (done) {
        struct rtask *t = done;
        done = t->next;
        weft_future_t *f = weft__mpi_future(t);
        const char *msg = t->out.data ? (const char *)t->out.data : "";
        if (t->code == 0)
            weft_future_set_result_bytes(f, &t->out);
        else if (t->stopped)
            /* A pending future: cancelling it completes it; a running one
             * was never stopped (an MPI task cannot be). */
            weft_future_cancel(f);
        else
            weft_future_set_error(f, t->code, "%s", msg);
        weft_bytes_free(&t->out); /* kept if the future was done already */
        weft_bytes_free(&t->arg);
        /* Release: pairs with the acquire load of shutdown's waiter. */
        WEFT_CHAOS_POINT();
        if (atomic_fetch_sub_explicit(&r->outstanding, 1,
                                      memory_order_acq_rel) == 1) {
            WEFT_CHAOS_POINT(); /* between the store of 0 and the unpark */
            weft_unpark_all(&r->outstanding, 0);
        }
        weft_future_free(f); /* the executor's reference */
    }
}

/* ----- The queue ----- */

void weft__mpi_pend_push(struct root *r, struct rtask *t)
{
    t->next = NULL;
    if (r->pend_tail)
        r->pend_tail->next = t;
    else
        r->pend_head = t;
    r->pend_tail = t;
}

void weft__mpi_pend_push_front(struct root *r, struct rtask *t)
{
    t->next = r->pend_head;
    r->pend_head = t;
    if (r->pend_tail == NULL)
        r->pend_tail = t;
}

struct rtask *weft__mpi_pend_pop(struct root *r)
{
    struct rtask *t = r->pend_head;
    if (t) {
        r->pend_head = t->next;
        if (r->pend_head == NULL)
            r->pend_tail = NULL;
        t->next = NULL;
    }
    return t;
}

/* ----- Functions ----- */

/* How fn goes to the workers: by the name given, by its registered name,
 * or by reference. */
static int describe(struct rfn *e, weft_bytes_fn fn, const char *name)
{
    e->fn = fn;
    if (name || weft__mpi_name_of(fn, e->name, sizeof e->name)) {
        if (name)
            snprintf(e->name, sizeof e->name, "%s", name);
        e->kind = FN_NAME;
        return weft_bytes_copy(&e->ref, e->name, strlen(e->name) + 1);
    }
    e->kind = FN_REF;
    weft_symbol_name((const void *)fn, e->name, sizeof e->name);
    return weft_fn_locate((weft_any_fn)fn, &e->ref);
}

/* The id of fn (sent by name if name is not NULL), described the first
 * time (under the lock). */
static int fn_id(struct root *r, weft_bytes_fn fn, const char *name,
                 uint32_t *id)
{
    for (size_t i = r->nfns; i-- > 0;)
        if (r->fns[i].fn == fn &&
            (name == NULL || (r->fns[i].kind == FN_NAME &&
                              strcmp(r->fns[i].name, name) == 0))) {
            *id = (uint32_t)i;
            return 0;
        }
    if (r->nfns == r->fncap) {
        size_t cap = r->fncap ? 2 * r->fncap : 8;
        struct rfn *fns = realloc(r->fns, cap * sizeof *fns);
        if (fns == NULL)
            return weft_fail(WEFT_ENOMEM, "MPI executor: no memory");
        r->fns = fns;
        r->fncap = cap;
    }
    struct rfn *e = &r->fns[r->nfns];
    memset(e, 0, sizeof *e);
    int rc = describe(e, fn, name);
    if (rc) {
        weft_bytes_free(&e->ref);
        return rc;
    }
    *id = (uint32_t)r->nfns++;
    return 0;
}

/* ----- Submitting ----- */

static int refuse(const struct root *r)
{
    if (r->broken)
        return weft_fail(WEFT_EBROKEN, "%s", r->broken_msg);
    if (r->shutdown)
        return weft_fail(WEFT_ESHUTDOWN,
                         "cannot schedule new futures after shutdown");
    return 0;
}

static int submit(struct root *r, weft_bytes_fn fn, const char *name,
                  weft_bytes_t *arg, weft_future_t **out)
{
    weft_future_t *f;
    int rc = weft_future_new_of(&f, &task_class, 2);
    if (rc)
        return rc;
    struct rtask *t = weft__mpi_task(f);
    t->root = r;
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    weft_lock_acquire_shielded(&r->lock);
    rc = refuse(r);
    if (rc == 0)
        rc = fn_id(r, fn, name, &t->fn);
    int wake = 0;
    if (rc == 0) {
        t->arg = *arg;
        *arg = (weft_bytes_t){NULL, 0};
        t->id = ++r->next_id;
        atomic_fetch_add_explicit(&r->outstanding, 1, memory_order_relaxed);
        /* The progress thread empties the queue under the lock: a task
         * that finds it empty wakes it; one that finds it not empty comes
         * behind one whose wake-up is still unread, or that the thread
         * will take with the next free room (see progress.c). */
        wake = r->pend_head == NULL;
        weft__mpi_pend_push(r, t);
    }
    weft_lock_release(&r->lock);
    if (rc) {
        weft_future_free(f);
        weft_future_free(f);
        return rc;
    }
    WEFT_CHAOS_POINT(); /* queued, its wake-up not written yet */
    if (wake)
        weft__mpi_idle_wake(&r->idle);
    *out = f;
    return 0;
}

static int root_submit_bytes(void *impl, weft_bytes_fn fn, weft_bytes_t *arg,
                             weft_future_t **out)
{
    return submit(impl, fn, NULL, arg, out);
}

/* ----- Shutdown ----- */

/* Cancel the queue (onto *done) and take references to the tasks in
 * flight behind the one each worker runs (to cancel after the lock). */
static void cancel_queued(struct root *r, struct rtask **done,
                          weft_future_t ***waiting, size_t *n,
                          const char *why)
{
    struct rtask *t;
    while ((t = weft__mpi_pend_pop(r)) != NULL) {
        t->stopped = 1;
        weft__mpi_finish(t, WEFT_ECANCELLED, done, "%s", why);
    }
    size_t count = 0;
    for (unsigned i = 0; i < r->nworkers; i++)
        if (r->workers[i].head)
            count += r->workers[i].inflight - 1;
    *waiting = count ? malloc(count * sizeof **waiting) : NULL;
    *n = 0;
    for (unsigned i = 0; *waiting && i < r->nworkers; i++)
        for (t = r->workers[i].head; t; t = t->next)
            if (t != r->workers[i].head)
                (*waiting)[(*n)++] = weft_future_ref(weft__mpi_future(t));
}

static void begin_shutdown(struct root *r, int cancel, int quit,
                           const char *why)
{
    struct rtask *done = NULL;
    weft_future_t **waiting = NULL;
    size_t n = 0;
    weft_lock_acquire_shielded(&r->lock);
    r->shutdown = 1;
    r->quit |= quit;
    if (cancel)
        cancel_queued(r, &done, &waiting, &n, why);
    weft_lock_release(&r->lock);
    weft__mpi_complete(r, done);
    for (size_t i = 0; i < n; i++) {
        weft_future_cancel(waiting[i]);
        weft_future_free(waiting[i]);
    }
    free(waiting);
    WEFT_CHAOS_POINT(); /* shutdown stored, the wake-up not written yet */
    weft__mpi_idle_wake(&r->idle);
}

static int some_left(void *ctx)
{
    return atomic_load((_Atomic uint32_t *)ctx) != 0;
}

static const weft_park_ops_t some_left_ops = {some_left, NULL, NULL};

/* Wait for the count of tasks not done to reach 0, by the deadline. No
 * wake is lost: the last completion stores 0 and then unparks, and a
 * waiter parks only if the word is still not 0 under the park lock. */
static int wait_zero(_Atomic uint32_t *word, int64_t deadline)
{
    while (atomic_load(word) != 0) {
        WEFT_CHAOS_POINT(); /* between the check and the park */
        int rc = weft_park(word, &some_left_ops, word, deadline, NULL);
        if (rc == WEFT_ETIMEDOUT || rc == WEFT_ECANCELLED)
            return rc;
    }
    return 0;
}

static int root_shutdown(void *impl, int wait, int cancel, int64_t deadline)
{
    struct root *r = impl;
    begin_shutdown(r, cancel, 0, "cancelled at shutdown");
    if (!wait)
        return 0;
    int rc = wait_zero(&r->outstanding, deadline);
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "shutdown timed out: %u tasks still running",
                         atomic_load(&r->outstanding));
    if (rc == WEFT_ECANCELLED)
        return weft_fail(rc, "shutdown cancelled");
    return 0;
}

/* ----- Teardown ----- */

static void teardown(struct root *r)
{
    if (r->t)
        r->t->ops->destroy(r->t);
    r->t = NULL;
    for (unsigned i = 0; r->workers && i < r->nworkers; i++) {
        free(r->workers[i].known);
        weft__mpi_out_free(&r->workers[i].out);
    }
    free(r->workers);
    r->workers = NULL;
    for (size_t i = 0; i < r->nfns; i++)
        weft_bytes_free(&r->fns[i].ref);
    free(r->fns);
    r->fns = NULL;
    r->nfns = 0;
    weft__mpi_settings_clear(&r->set);
    weft__mpi_idle_destroy(&r->idle);
    if (r->on_destroy)
        r->on_destroy(r->on_destroy_arg);
}

static void root_destroy(void *impl)
{
    struct root *r = impl;
    begin_shutdown(r, 1, 1, "the MPI executor was freed");
    if (r->thread) {
        weft_thread_join(r->thread, WEFT_FOREVER);
        weft_thread_free(r->thread);
    }
    wait_zero(&r->outstanding, WEFT_NEVER);
    teardown(r);
    weft__mpi_release(r);
}

static unsigned root_max_workers(const void *impl)
{
    return ((const struct root *)impl)->nworkers;
}

static const weft_executor_class_t root_class = {
    "mpi", NULL, root_submit_bytes, root_shutdown, root_destroy,
    root_max_workers};

/* ----- Start-up ----- */

static int worker_index(const struct root *r, int rank)
{
    int me = r->t->rank;
    if (rank < 0 || rank >= r->t->size || rank == me)
        return -1;
    return rank < me ? rank : rank - 1;
}

/* The next frame of the given type from any worker: its index. */
static int recv_frame(struct root *r, uint32_t type, int *index,
                      weft_bytes_t *msg, struct weft__mpi_head *h,
                      const unsigned char **body, size_t *len)
{
    for (;;) {
        int peer;
        weft_bytes_free(msg);
        int rc = weft__mpi_recv_blocking(r->t, &peer, msg);
        if (rc)
            return rc;
        size_t off = 0;
        *index = worker_index(r, peer);
        if (*index >= 0 && weft__mpi_next(msg, &off, h, body, len) == 1 &&
            h->type == type)
            return 0;
    }
}

/* Gather every worker's names and compare them with ours. */
static int gather_names(struct root *r, int *verdict, char *why,
                        size_t size)
{
    weft_bytes_t ours, msg = {NULL, 0};
    int rc = weft__mpi_names(&ours);
    for (unsigned got = 0; rc == 0 && got < r->nworkers; got++) {
        int i;
        struct weft__mpi_head h;
        const unsigned char *body;
        size_t len;
        rc = recv_frame(r, F_HELLO, &i, &msg, &h, &body, &len);
        weft_bytes_t theirs = {(unsigned char *)body, len};
        if (rc == 0 && *verdict == 0 &&
            (*verdict = weft__mpi_names_check(&ours, &theirs, r->t->rank,
                                              r->workers[i].rank)) != 0)
            snprintf(why, size, "%s", weft_last_message());
    }
    weft_bytes_free(&msg);
    weft_bytes_free(&ours);
    return rc;
}

static int send_start(struct root *r, int verdict, const char *why)
{
    struct weft__mpi_out o = {{NULL, 0}, 0};
    struct weft__mpi_head h = {.type = F_START, .code = verdict};
    int rc;
    if (verdict) {
        rc = weft__mpi_put(&o, h, why, strlen(why) + 1);
    } else {
        size_t rl = r->set.init_ref.len, al = r->set.initarg.len;
        unsigned char *body = malloc(rl + al + 1);
        if (body == NULL)
            return weft_fail(WEFT_ENOMEM, "MPI executor: no memory");
        if (rl)
            memcpy(body, r->set.init_ref.data, rl);
        if (al)
            memcpy(body + rl, r->set.initarg.data, al);
        h.aux = (uint64_t)r->set.heartbeat_ns;
        h.id = rl;
        rc = weft__mpi_put(&o, h, body, rl + al);
        free(body);
    }
    for (unsigned i = 0; rc == 0 && i < r->nworkers; i++) {
        weft_bytes_t msg;
        rc = weft_bytes_copy(&msg, o.b.data, o.b.len);
        if (rc == 0)
            rc = r->t->ops->send(r->t, r->workers[i].rank, &msg);
        weft_bytes_free(&msg);
    }
    weft__mpi_out_free(&o);
    return rc;
}

/* Every worker's READY: an initializer that failed breaks the executor. */
static int gather_ready(struct root *r)
{
    weft_bytes_t msg = {NULL, 0};
    int rc = 0;
    for (unsigned got = 0; rc == 0 && got < r->nworkers; got++) {
        int i;
        struct weft__mpi_head h;
        const unsigned char *body;
        size_t len;
        rc = recv_frame(r, F_READY, &i, &msg, &h, &body, &len);
        if (rc == 0 && h.code != 0 && !r->broken) {
            r->broken = 1;
            snprintf(r->broken_msg, sizeof r->broken_msg,
                     "An MPI initializer failed on rank %d, the executor is "
                     "not usable anymore (%s: %.*s)",
                     r->workers[i].rank,
                     weft_errname(h.code),
                     (int)strnlen((const char *)body, len),
                     (const char *)body);
        }
    }
    weft_bytes_free(&msg);
    return rc;
}

/* The start-up; verdict (with why) is an error met before it, which the
 * workers are told of so that they do not wait for a START that never
 * comes. */
static int start_up(struct root *r, int verdict, char *why, size_t size)
{
    int rc = gather_names(r, &verdict, why, size);
    if (rc == 0)
        rc = send_start(r, verdict, why);
    if (rc == 0 && verdict) {
        /* Every worker waits for its START: let them go out before the
         * transport is destroyed (10 s at most, for a worker that died). */
        weft__mpi_drain_sends(r->t, 10 * (int64_t)1000000000);
        return weft_fail(verdict, "%s", why);
    }
    if (rc == 0)
        rc = gather_ready(r);
    int64_t now = weft_monotonic_ns();
    for (unsigned i = 0; i < r->nworkers; i++)
        r->workers[i].last_heard = now;
    return rc;
}

static int setup(struct root *r, weft__mpi_transport_t *t,
                 const weft_mpi_opts_t *opts)
{
    static const weft_mpi_opts_t defaults;
    char why[WEFT_MESSAGE_MAX] = "";
    int verdict = weft__mpi_settings_read(&r->set, opts ? opts : &defaults);
    if (verdict)
        snprintf(why, sizeof why, "%s", weft_last_message());
    r->nworkers = r->live = (unsigned)(t->size - 1);
    r->workers = calloc(r->nworkers, sizeof *r->workers);
    if (r->workers == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI executor: no memory");
    for (int rank = 0; rank < t->size; rank++)
        if (rank != t->rank)
            r->workers[worker_index(r, rank)].rank = rank;
    int rc = weft__mpi_idle_init(&r->idle);
    if (rc == 0)
        rc = start_up(r, verdict, why, sizeof why);
    if (rc == 0)
        rc = weft_thread_new(&r->thread, weft__mpi_progress_main, r,
                             &(weft_thread_opts_t){.name = "MPIProgress",
                                                   .daemon = 1});
    if (rc == 0 && (rc = weft_thread_start(r->thread)) != 0) {
        weft_thread_free(r->thread);
        r->thread = NULL;
    }
    return rc;
}

int weft__mpi_root_new(weft_executor_t **out, weft__mpi_transport_t *t,
                       const weft_mpi_opts_t *opts,
                       weft__mpi_on_destroy on_destroy, void *arg)
{
    struct root *r = calloc(1, sizeof *r);
    if (r == NULL) {
        t->ops->destroy(t);
        return weft_fail(WEFT_ENOMEM, "MPI executor: no memory");
    }
    atomic_init(&r->refs, 1);
    weft_lock_init(&r->lock);
    r->t = t;
    r->idle.efd = -1;
    r->on_destroy = on_destroy;
    r->on_destroy_arg = arg;
    int rc = setup(r, t, opts);
    if (rc == 0)
        rc = weft_executor_new(out, &root_class, r);
    if (rc) {
        weft_error_info_t e;
        weft_error_capture(&e, rc);
        if (r->thread)
            root_destroy(r);
        else {
            teardown(r);
            weft__mpi_release(r);
        }
        return weft_fail(e.code, "%s", e.message);
    }
    return 0;
}

/* ----- Beyond the executor interface ----- */

int weft_mpi_submit_name(weft_executor_t *ex, const char *name,
                         const void *arg, size_t len, weft_future_t **out)
{
    struct root *r = weft_executor_impl(ex, &root_class);
    if (r == NULL)
        return weft_fail(WEFT_EINVAL, "submit_name: not an MPI executor");
    if (name == NULL || out == NULL || (arg == NULL && len > 0))
        return weft_fail(WEFT_EINVAL, "submit_name: NULL argument");
    weft_bytes_fn fn = weft__mpi_lookup(name);
    if (fn == NULL)
        return weft_fail(WEFT_EKEY, "no task registered as '%s'", name);
    weft_bytes_t b;
    int rc = weft_bytes_copy(&b, arg, len);
    if (rc == 0)
        rc = submit(r, fn, name, &b, out);
    weft_bytes_free(&b);
    return rc;
}

unsigned weft_mpi_live_workers(weft_executor_t *ex)
{
    WEFT_REFUSE_NULL_OR(ex, 0);
    struct root *r = weft_executor_impl(ex, &root_class);
    if (r == NULL)
        return 0;
    weft_lock_acquire_shielded(&r->lock);
    unsigned n = r->live;
    weft_lock_release(&r->lock);
    return n;
}
