/* SPDX-License-Identifier: MIT */
/* The root's progress thread: the only thread that touches the transport.
 *
 * Each turn it (1) moves tasks from the queue to the workers with room,
 * as FN and TASK frames in each worker's out buffer, (2) sends those
 * buffers, one message per worker, (3) reads what has come: results and
 * errors complete their tasks and free room for more (a returned result is
 * the worker's next request), heartbeats only say the worker lives,
 * (4) gives up on workers silent past the timeout, and (5) sleeps when the
 * turn did nothing: on the eventfd alone (a heartbeat period at most)
 * when nothing is in flight, else with the back-off (idle.c).
 *
 * A worker's share is how many tasks it may have in flight: enough for
 * about SHARE_NS of work at the tasks' average run time, between 1 and
 * SHARE_MAX, as in the process pool. Short tasks so travel many to a
 * message and a worker's queue never runs dry while its results are on the
 * way; long ones spread over the workers. Until a result says how long
 * tasks take, the share is 1.
 *
 * Ending: once the executor is shut down and no task is left, each live
 * worker is sent EXIT; after destroy asked the thread to quit, it returns
 * when every live worker has said BYE (or been given up) and every send
 * has completed. */
#include "mpi_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_NS 2000000.0
#define SHARE_MAX 4096
#define BATCH_BYTES (1024 * 1024)

/* ----- Sending ----- */

static size_t share(const struct root *r)
{
    if (r->avg_ns <= 0)
        return 1;
    double want = SHARE_NS / r->avg_ns;
    return want >= SHARE_MAX ? SHARE_MAX : want < 1 ? 1 : (size_t)want;
}

static int can_take(const struct root *r, const struct rworker *w)
{
    return w->state == W_LIVE && !w->exit_sent && w->inflight < share(r) &&
           w->out.b.len < BATCH_BYTES;
}

static int send_fn(struct root *r, struct rworker *w, uint32_t fn)
{
    if (fn < w->known_cap && w->known[fn])
        return 0;
    if (fn >= w->known_cap) {
        size_t cap = (size_t)fn + 16;
        unsigned char *k = realloc(w->known, cap);
        if (k == NULL)
            return weft_fail(WEFT_ENOMEM, "MPI executor: no memory");
        memset(k + w->known_cap, 0, cap - w->known_cap);
        w->known = k;
        w->known_cap = cap;
    }
    int rc = weft__mpi_put(&w->out,
                           (struct weft__mpi_head){.type = F_FN, .fn = fn,
                                                   .code = r->fns[fn].kind},
                           r->fns[fn].ref.data, r->fns[fn].ref.len);
    if (rc == 0)
        w->known[fn] = 1;
    return rc;
}

/* The first task in flight is the one the worker runs, or is about to. */
static void mark_head_running(struct rworker *w)
{
    if (w->head)
        weft_future_try_start(weft__mpi_future(w->head));
}

static int send_task(struct root *r, struct rworker *w, struct rtask *t)
{
    int rc = send_fn(r, w, t->fn);
    if (rc == 0)
        rc = weft__mpi_put(&w->out,
                           (struct weft__mpi_head){.type = F_TASK,
                                                   .fn = t->fn, .id = t->id},
                           t->arg.data, t->arg.len);
    if (rc)
        return rc;
    /* t->arg stays until t is done: if the worker is given up, t goes to
     * another. */
    t->next = NULL;
    t->worker = w;
    if (w->tail)
        w->tail->next = t;
    else
        w->head = t;
    w->tail = t;
    w->inflight++;
    if (w->head == t)
        mark_head_running(w);
    return 0;
}

static struct rworker *least_loaded(struct root *r)
{
    struct rworker *best = NULL;
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct rworker *w = &r->workers[i];
        if (can_take(r, w) && (best == NULL || w->inflight < best->inflight))
            best = w;
    }
    return best;
}

/* Under the lock: the queue to the workers with room. */
static void dispatch(struct root *r, struct rtask **done)
{
    struct rworker *w;
    while (r->pend_head && (w = least_loaded(r)) != NULL) {
        struct rtask *t = weft__mpi_pend_pop(r);
        if (weft_future_cancelled(weft__mpi_future(t))) {
            t->stopped = 1;
            weft__mpi_finish(t, WEFT_ECANCELLED, done, "cancelled");
            continue;
        }
        if (send_task(r, w, t) != 0) {
            weft__mpi_pend_push_front(r, t);
            break;
        }
    }
}

static int nothing_in_flight(const struct root *r)
{
    for (unsigned i = 0; i < r->nworkers; i++)
        if (r->workers[i].state == W_LIVE && r->workers[i].inflight)
            return 0;
    return 1;
}

/* Under the lock: EXIT to every live worker once nothing is left. */
static void send_exits(struct root *r)
{
    if (!r->shutdown || r->pend_head || !nothing_in_flight(r))
        return;
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct rworker *w = &r->workers[i];
        if (w->state == W_LIVE && !w->exit_sent &&
            weft__mpi_put(&w->out, (struct weft__mpi_head){.type = F_EXIT},
                          NULL, 0) == 0)
            w->exit_sent = 1;
    }
}

/* The out buffers as messages (outside the lock: only this thread touches
 * them). Returns whether anything went, or the transport's error. */
static int send_all(struct root *r, int *sent)
{
    *sent = 0;
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct rworker *w = &r->workers[i];
        if (w->out.b.len == 0)
            continue;
        weft_bytes_t msg = weft__mpi_take(&w->out);
        int rc = w->state == W_LIVE ? r->t->ops->send(r->t, w->rank, &msg)
                                    : 0;
        weft_bytes_free(&msg);
        if (rc)
            return rc;
        *sent = 1;
    }
    return 0;
}

/* ----- Receiving ----- */

static void unlink_task(struct rworker *w, struct rtask *t)
{
    struct rtask **it = &w->head, *prev = NULL;
    while (*it && *it != t) {
        prev = *it;
        it = &(*it)->next;
    }
    if (*it == NULL)
        return;
    *it = t->next;
    if (w->tail == t)
        w->tail = prev;
    t->next = NULL;
    t->worker = NULL;
    w->inflight--;
}

static struct rtask *find(struct rworker *w, uint64_t id)
{
    for (struct rtask *t = w->head; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static void learn_run_time(struct root *r, uint64_t run_ns)
{
    double ns = run_ns ? (double)run_ns : 1.0;
    r->avg_ns = r->avg_ns > 0 ? r->avg_ns + (ns - r->avg_ns) / 8 : ns;
}

static void take_outcome(struct root *r, struct rworker *w,
                         const struct weft__mpi_head *h,
                         const unsigned char *body, size_t len,
                         struct rtask **done)
{
    struct rtask *t = find(w, h->id);
    if (t == NULL)
        return;
    int was_head = t == w->head;
    unlink_task(w, t);
    if (h->type == F_RESULT) {
        learn_run_time(r, h->aux);
        t->code = weft_bytes_copy(&t->out, body, len) ? WEFT_ENOMEM : 0;
    } else {
        t->code = h->code ? h->code : WEFT_ETASK;
        if (weft_bytes_copy(&t->out, body, len) == 0 && len > 0)
            t->out.data[len - 1] = '\0'; /* a message, whatever was sent */
    }
    t->next = *done;
    *done = t;
    if (was_head)
        mark_head_running(w);
}

static int index_of(const struct root *r, int rank)
{
    int me = r->t->rank;
    if (rank < 0 || rank >= r->t->size || rank == me)
        return -1;
    return rank < me ? rank : rank - 1;
}

/* Under the lock: one message from a worker. Returns whether it was more
 * than a heartbeat. */
static int take_message(struct root *r, int peer, const weft_bytes_t *msg,
                        struct rtask **done)
{
    int i = index_of(r, peer);
    if (i < 0 || r->workers[i].state != W_LIVE)
        return 0; /* late words of a worker given up: dropped */
    struct rworker *w = &r->workers[i];
    w->last_heard = weft_monotonic_ns();
    size_t off = 0, len;
    struct weft__mpi_head h;
    const unsigned char *body;
    int busy = 0;
    while (weft__mpi_next(msg, &off, &h, &body, &len) == 1) {
        if (h.type == F_RESULT || h.type == F_ERROR)
            take_outcome(r, w, &h, body, len, done), busy = 1;
        else if (h.type == F_BYE)
            w->bye = 1, busy = 1;
    }
    return busy;
}

/* ----- Workers that fall silent ----- */

static void give_up(struct root *r, struct rworker *w, int64_t silent,
                    struct rtask **done)
{
    w->state = W_DEAD;
    r->live--;
    r->t->ops->abandon(r->t, w->rank);
    struct rtask *t = w->head, *rest;
    if (t) {
        rest = t->next;
        unlink_task(w, t);
        const char *name = r->fns[t->fn].name;
        weft__mpi_finish(t, WEFT_EWORKERDIED, done,
                         "MPI worker rank %d sent nothing for %.1f s and is "
                         "presumed dead, while running task %llu (%s)",
                         w->rank, (double)silent / 1e9,
                         (unsigned long long)t->id, name[0] ? name : "?");
        /* What it had not started goes back to the front, in order. */
        struct rtask *back = NULL;
        while ((t = rest) != NULL) {
            rest = t->next;
            unlink_task(w, t);
            t->next = back;
            back = t;
        }
        while ((t = back) != NULL) {
            back = t->next;
            weft__mpi_pend_push_front(r, t);
        }
    }
    if (r->live > 0)
        return;
    r->broken = 1;
    snprintf(r->broken_msg, sizeof r->broken_msg,
             "every MPI worker rank is presumed dead");
    while ((t = weft__mpi_pend_pop(r)) != NULL)
        weft__mpi_finish(t, WEFT_EWORKERDIED, done,
                         "no MPI worker rank is left to run it");
}

/* Under the lock. */
static void check_silence(struct root *r, struct rtask **done)
{
    if (r->set.timeout_ns == WEFT_NEVER)
        return;
    int64_t now = weft_monotonic_ns();
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct rworker *w = &r->workers[i];
        if (w->state == W_LIVE && !w->bye &&
            now - w->last_heard > r->set.timeout_ns)
            give_up(r, w, now - w->last_heard, done);
    }
}

/* ----- The loop ----- */

static int finished(struct root *r)
{
    if (!r->quit || r->pend_head)
        return 0;
    for (unsigned i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        if (w->state == W_LIVE && (!w->exit_sent || !w->bye))
            return 0;
    }
    return 1;
}

/* Read what has come, up to a batch of messages. */
static int receive(struct root *r, int *busy, int *got_any)
{
    for (int n = 0; n < 64; n++) {
        int peer, got = 0;
        weft_bytes_t msg = {NULL, 0};
        int rc = r->t->ops->poll(r->t, &peer, &msg, &got);
        if (rc || !got)
            return rc;
        *got_any = 1;
        struct rtask *done = NULL;
        weft_lock_acquire_shielded(&r->lock);
        *busy |= take_message(r, peer, &msg, &done);
        weft_lock_release(&r->lock);
        WEFT_CHAOS_POINT(); /* outcomes taken, their futures not done */
        weft_bytes_free(&msg);
        weft__mpi_complete(r, done);
    }
    return 0;
}

/* One turn; *end when the thread may return. */
static int turn(struct root *r, int *busy, int *idle, int *end)
{
    struct rtask *done = NULL;
    weft_lock_acquire_shielded(&r->lock);
    check_silence(r, &done);
    dispatch(r, &done);
    send_exits(r);
    weft_lock_release(&r->lock);
    weft__mpi_complete(r, done);
    WEFT_CHAOS_POINT(); /* tasks taken, the buffers not sent yet */
    int sent, got = 0;
    int rc = send_all(r, &sent);
    if (rc == 0)
        rc = receive(r, busy, &got);
    *busy |= sent;
    weft_lock_acquire_shielded(&r->lock);
    *end = finished(r) && r->t->ops->sends_pending(r->t) == 0;
    *idle = nothing_in_flight(r) && !r->quit && !r->pend_head &&
            r->t->ops->sends_pending(r->t) == 0;
    weft_lock_release(&r->lock);
    return rc;
}

/* The transport failed: every task not done fails with its error, and the
 * executor is broken. */
static void fail_all(struct root *r, int rc)
{
    weft_error_info_t e;
    weft_error_capture(&e, rc);
    struct rtask *done = NULL, *t;
    weft_lock_acquire_shielded(&r->lock);
    r->broken = 1;
    snprintf(r->broken_msg, sizeof r->broken_msg, "%s", e.message);
    while ((t = weft__mpi_pend_pop(r)) != NULL)
        weft__mpi_finish(t, rc, &done, "%s", e.message);
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct rworker *w = &r->workers[i];
        while ((t = w->head) != NULL) {
            unlink_task(w, t);
            weft__mpi_finish(t, rc, &done, "%s", e.message);
        }
        w->state = W_DEAD;
    }
    weft_lock_release(&r->lock);
    weft__mpi_complete(r, done);
}

int weft__mpi_progress_main(void *arg, void **result)
{
    struct root *r = arg;
    weft__mpi_idle_thread_setup();
    for (;;) {
        int busy = 0, idle = 0, end = 0;
        int rc = turn(r, &busy, &idle, &end);
        if (rc) {
            fail_all(r, rc);
            return 0;
        }
        if (end)
            return 0;
        if (busy) {
            weft__mpi_idle_reset(&r->idle);
            continue;
        }
        /* Between the check that nothing is to do and the sleep: a
         * submission's wake-up written here is read by the sleep. */
        WEFT_CHAOS_POINT();
        weft__mpi_idle_wait(&r->idle, r->set.heartbeat_ns, idle);
    }
}
