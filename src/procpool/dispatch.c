/* SPDX-License-Identifier: MIT */
/* Dispatch: where each task goes, what a worker is sent, and what its
 * results do. Everything here runs under the pool's lock, except
 * weft__pp_complete(), which runs after it is released.
 *
 * A submitted task goes straight to a worker with nothing in flight
 * (written at once: no hop through the manager), else behind the tasks of
 * the worker with the fewest in flight, if that is below its share (the
 * frame waits in the pool's buffer for that worker, written when its next
 * results come), else to the pending queue. Each batch of results refills
 * the worker that sent it.
 *
 * A worker's share is how many tasks it may have in flight: enough to
 * cover about SHARE_NS of work at the tasks' average run time (measured by
 * the workers), between 1 and SHARE_MAX. Short tasks get a deep pipeline,
 * so that one write carries many of them and the worker never waits for
 * the pool; long ones get a shallow one, so that a task queued behind a
 * long task does not wait there while another worker idles. Until the
 * first result says how long tasks take, the share is 1.
 */
#include "procpool_int.h"

#include "base/chaos.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SHARE_NS 2000000.0 /* 2 ms of work in flight per worker */
#define SHARE_MAX 4096

/* ----- The pending queue ----- */

void weft__pp_pend_push(struct pp *pp, struct pp_task *t)
{
    t->next = NULL;
    if (pp->pend_tail)
        pp->pend_tail->next = t;
    else
        pp->pend_head = t;
    pp->pend_tail = t;
}

void weft__pp_pend_push_front(struct pp *pp, struct pp_task *t)
{
    t->next = pp->pend_head;
    pp->pend_head = t;
    if (pp->pend_tail == NULL)
        pp->pend_tail = t;
}

struct pp_task *weft__pp_pend_pop(struct pp *pp)
{
    struct pp_task *t = pp->pend_head;
    if (t) {
        pp->pend_head = t->next;
        if (pp->pend_head == NULL)
            pp->pend_tail = NULL;
        t->next = NULL;
    }
    return t;
}

/* ----- Outcomes ----- */

void weft__pp_finish(struct pp_task *t, int code, const char *fmt, ...)
{
    char text[WEFT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    weft_bytes_free(&t->out);
    t->code = code;
    weft_bytes_copy(&t->out, text, strlen(text) + 1);
}

static void push_done(struct pp_task **done, struct pp_task *t)
{
    t->next = *done;
    *done = t;
}

void weft__pp_complete(struct pp *pp, struct pp_task *done)
{
    while (done) {
        struct pp_task *t = done;
        done = t->next;
        weft_future_t *f = weft__pp_future(t);
        const char *msg = t->out.data ? (const char *)t->out.data : "";
        if (t->code == 0) {
            weft_future_set_result_bytes(f, &t->out);
        } else if (t->stopped) {
            /* Stopping marks a running future so that finishing it with
             * WEFT_ECANCELLED leaves it CANCELLED (a pending one is
             * cancelled at once). */
            weft_future_stop(f);
            weft_future_finish(f, weft_fail(WEFT_ECANCELLED, "%s", msg), NULL);
        } else
            weft_future_set_error(f, t->code, "%s", msg);
        weft_bytes_free(&t->out);
        weft_bytes_free(&t->arg);
        /* Release: pairs with the acquire load of shutdown's waiter. */
        if (atomic_fetch_sub_explicit(&pp->outstanding, 1,
                                      memory_order_acq_rel) == 1)
            weft_unpark_all(&pp->outstanding, 0);
        weft_future_free(f); /* the pool's reference */
    }
}

/* ----- Sending ----- */

static size_t share(const struct pp *pp, const struct pp_worker *w)
{
    size_t n = 1;
    if (pp->avg_ns > 0) {
        double want = SHARE_NS / pp->avg_ns;
        n = want >= SHARE_MAX ? SHARE_MAX : want < 1 ? 1 : (size_t)want;
    }
    if (pp->max_tasks) {
        size_t left = pp->max_tasks > w->sent ? pp->max_tasks - w->sent : 0;
        n = n < w->inflight + left ? n : w->inflight + left;
    }
    return n;
}

static int can_take(const struct pp *pp, const struct pp_worker *w)
{
    return w && w->state == W_LIVE && !w->exiting && w->inflight < share(pp, w);
}

/* Make sure w knows function id fn. */
static int send_fn(struct pp *pp, struct pp_worker *w, uint32_t fn)
{
    if (fn < w->known_cap && w->known[fn])
        return 0;
    if (fn >= w->known_cap) {
        size_t cap = (size_t)fn + 16;
        unsigned char *k = realloc(w->known, cap);
        if (k == NULL)
            return weft_fail(WEFT_ENOMEM, "process pool: no memory");
        memset(k + w->known_cap, 0, cap - w->known_cap);
        w->known = k;
        w->known_cap = cap;
    }
    struct weft__pp_fn_frame ff = {{0, 0, 0}, fn, 0};
    int rc = weft__pp_put_frame(&w->out, FRAME_FN, &ff, sizeof ff,
                                pp->fns[fn].ref.data, pp->fns[fn].ref.len);
    if (rc == 0)
        w->known[fn] = 1;
    return rc;
}

/* The first task in flight is the one the worker runs, or is about to. */
static void mark_head_running(struct pp_worker *w)
{
    if (w->head)
        weft_future_try_start(weft__pp_future(w->head));
}

/* t's frame in w's buffer: its argument in the argument ring when it is
 * large and fits, else in the frame. */
static int put_task(struct pp_worker *w, struct pp_task *t)
{
    struct weft__pp_task_frame tf = {{0, 0, 0}, t->fn, 0, t->id};
    int64_t off = -1;
    if (t->arg.len >= WEFT__PP_BULK_MIN)
        off = weft__pp_ring_take(&w->arg_head, w->arg_tail, t->arg.len);
    if (off < 0)
        return weft__pp_put_frame(&w->out, FRAME_TASK, &tf, sizeof tf,
                                  t->arg.data, t->arg.len);
    memcpy(weft__pp_arg_ring(w->shm) + off, t->arg.data, t->arg.len);
    struct weft__pp_bulk_task_frame bf = {tf, {(uint64_t)off, t->arg.len, 0}};
    return weft__pp_put_frame(&w->out, FRAME_TASK_BULK, &bf, sizeof bf, NULL,
                              0);
}

/* Put t at the end of w's list and its frame in w's buffer. */
static int send_task(struct pp *pp, struct pp_worker *w, struct pp_task *t)
{
    int rc = send_fn(pp, w, t->fn);
    if (rc == 0)
        rc = put_task(w, t);
    if (rc)
        return rc;
    t->arg_end = w->arg_head;
    t->next = NULL;
    t->worker = w;
    if (w->tail)
        w->tail->next = t;
    else
        w->head = t;
    w->tail = t;
    w->inflight++;
    t->seq = ++w->sent; /* the worker numbers the tasks it gets alike */
    if (weft__pp_timed(t)) {
        w->timed++;
        weft__pp_arm_timer(pp, weft_monotonic_ns() + t->timeout_ns);
    }
    if (w->head == t)
        mark_head_running(w);
    return 0;
}

void weft__pp_watch_events(struct pp *pp, struct pp_worker *w)
{
    if (!w->in_epoll)
        return;
    uint32_t want = w->reader ? 0 : EPOLLIN | (w->want_out ? EPOLLOUT : 0);
    if (want == w->events)
        return;
    struct epoll_event ev = {want,
                             {.u64 = weft__pp_ev(EV_SOCK, w->slot, w->gen)}};
    if (epoll_ctl(pp->ep, EPOLL_CTL_MOD, w->sock, &ev) == 0)
        w->events = want;
}

static void set_events(struct pp *pp, struct pp_worker *w, int want_out)
{
    w->want_out = want_out;
    weft__pp_watch_events(pp, w);
}

void weft__pp_flush(struct pp *pp, struct pp_worker *w)
{
    struct weft__pp_buf *b = &w->out;
    while (b->off < b->len) {
        ssize_t n = send(w->sock, b->data + b->off, b->len - b->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            b->off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(pp, w, 1);
            return;
        }
        /* The worker is gone: its death is handled from its sentinel. */
        b->off = b->len = 0;
        break;
    }
    b->off = b->len = 0;
    set_events(pp, w, 0);
}

/* Whether t still wants to run (a cancelled pending task is dropped). */
static int wanted(struct pp *pp, struct pp_task *t, struct pp_task **done)
{
    if (!weft_future_cancelled(weft__pp_future(t)))
        return 1;
    t->code = WEFT_ECANCELLED;
    t->stopped = 1;
    push_done(done, t); /* completing a cancelled future changes nothing */
    return 0;
}

static void refill_into(struct pp *pp, struct pp_worker *w,
                        struct pp_task **done)
{
    while (pp->pend_head && can_take(pp, w)) {
        struct pp_task *t = weft__pp_pend_pop(pp);
        if (!wanted(pp, t, done))
            continue;
        if (send_task(pp, w, t) != 0) {
            weft__pp_pend_push_front(pp, t);
            break;
        }
    }
}

void weft__pp_refill(struct pp *pp, struct pp_worker *w)
{
    struct pp_task *dropped = NULL;
    refill_into(pp, w, &dropped);
    weft__pp_flush(pp, w);
    /* Dropped tasks are cancelled futures: completing them runs no
     * callback, so it may happen here, under the lock. */
    weft__pp_complete(pp, dropped);
}

void weft__pp_refill_all(struct pp *pp)
{
    for (unsigned i = 0; i < pp->max_workers; i++)
        if (pp->slots[i] && pp->slots[i]->state == W_LIVE)
            weft__pp_refill(pp, pp->slots[i]);
}

/* The live worker with the fewest tasks in flight, if below its share. */
static struct pp_worker *least_loaded(struct pp *pp)
{
    struct pp_worker *best = NULL;
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        if (can_take(pp, w) && (best == NULL || w->inflight < best->inflight))
            best = w;
    }
    return best;
}

void weft__pp_dispatch(struct pp *pp, struct pp_task *t)
{
    struct pp_worker *w = pp->pend_head ? NULL : least_loaded(pp);
    if (w == NULL || send_task(pp, w, t) != 0) {
        weft__pp_pend_push(pp, t);
        return;
    }
    WEFT_CHAOS_POINT(); /* on the worker's list, not yet written */
    /* Idle before this task: write now. Busy: its next results will. */
    if (w->inflight == 1)
        weft__pp_flush(pp, w);
}

/* ----- Results ----- */

void weft__pp_unlink(struct pp_worker *w, struct pp_task *t)
{
    struct pp_task **it = &w->head, *prev = NULL;
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
    if (weft__pp_timed(t))
        w->timed--;
}

struct pp_task *weft__pp_find(struct pp_worker *w, uint64_t id)
{
    for (struct pp_task *t = w->head; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static void learn_run_time(struct pp *pp, uint64_t run_ns)
{
    double ns = run_ns ? (double)run_ns : 1.0;
    pp->avg_ns = pp->avg_ns > 0 ? pp->avg_ns + (ns - pp->avg_ns) / 8 : ns;
}

/* A result in the result ring: copied out, and the ring read past it. */
static void take_bulk(struct pp_worker *w, struct pp_task *t,
                      const struct weft__pp_bulk *b)
{
    const unsigned char *at = weft__pp_result_ring(w->shm) + b->off;
    if (weft_bytes_copy(&t->out, at, b->len) != 0)
        t->code = WEFT_ENOMEM;
    if (b->end > atomic_load_explicit(&w->shm->bulk_read, memory_order_relaxed))
        /* Release: the copy is done before the worker may write there. */
        atomic_store_explicit(&w->shm->bulk_read, b->end, memory_order_release);
}

/* The task a result is for. Results come in task order: from a live
 * worker, always the first in flight, and anything else is a protocol
 * error (bytes that only look like a result). After a death, what is read
 * again from the staging area may repeat results already taken: a result
 * for no task in flight is then ignored. */
static int result_task(struct pp_worker *w, uint64_t id, struct pp_task **t)
{
    if (w->head && w->head->id == id) {
        *t = w->head;
        return 0;
    }
    *t = NULL;
    if (w->state == W_LIVE)
        return -1;
    return weft__pp_find(w, id) ? -1 : 0;
}

static int take_result(struct pp *pp, struct pp_worker *w,
                       const struct weft__pp_frame *f, struct pp_task **done)
{
    const struct weft__pp_result_frame *rf = &f->u.result;
    struct pp_task *t;
    if (result_task(w, rf->id, &t) != 0)
        return -1;
    if (t == NULL)
        return 0;
    weft__pp_unlink(w, t);
    w->results++;
    if (t->arg_end > w->arg_tail) /* its argument, and those before, done */
        w->arg_tail = t->arg_end;
    learn_run_time(pp, rf->run_ns);
    t->code = f->h.type == FRAME_ERROR ? rf->code : 0;
    if (f->h.type == FRAME_RESULT_BULK) {
        take_bulk(w, t, &f->u.bulk_result.b);
    } else {
        if (weft_bytes_copy(&t->out, f->body, f->body_len) != 0)
            t->code = WEFT_ENOMEM;
        if (t->code && f->body_len > 0 && t->out.data)
            t->out.data[f->body_len - 1] = '\0'; /* a message, whatever came */
    }
    push_done(done, t);
    mark_head_running(w);
    return 0;
}

/* An initializer failed: the pool breaks. Only a worker that has started
 * no task can say so: the same frame later came from a task's code. */
static int init_failed(struct pp *pp, struct pp_worker *w,
                       const struct weft__pp_frame *f, struct pp_task **done)
{
    struct weft__pp_progress p;
    weft__pp_progress(w, &p);
    if (w->results > 0 || p.started > 0)
        return -1;
    const char *text = (const char *)f->body;
    char message[WEFT_MESSAGE_MAX];
    snprintf(message, sizeof message,
             "A process initializer failed, the process pool is not usable "
             "anymore (%s: %.*s)",
             weft_errname(f->u.result.code) ? weft_errname(f->u.result.code)
                                            : "error",
             (int)strnlen(text, f->body_len), text);
    weft__pp_break(pp, message, done);
    return 0;
}

void weft__pp_parse(struct pp *pp, struct pp_worker *w,
                    const unsigned char *data, size_t len, size_t *used,
                    struct pp_task **done)
{
    size_t off = 0;
    struct weft__pp_frame f;
    const char *why = NULL;
    int got;
    while ((got = weft__pp_read_frame(data + off, len - off, WEFT__PP_TO_POOL,
                                      &f, &why)) == 1) {
        if (f.h.type != FRAME_INIT_FAILED) {
            if (take_result(pp, w, &f, done) != 0) {
                why = "a result out of turn";
                got = -1;
                break;
            }
        } else if (init_failed(pp, w, &f, done) != 0) {
            why = "an initializer's failure after tasks had started";
            got = -1;
            break;
        }
        off += f.h.size;
    }
    /* A broken stream: the worker is killed, the rest of it dropped. */
    if (got < 0) {
        weft__pp_protocol_error(w, why);
        off = len;
    }
    *used = off;
}

void weft__pp_read_all(struct pp *pp, struct pp_worker *w)
{
    struct weft__pp_buf *b = &w->in;
    for (;;) {
        if (weft__pp_buf_reserve(b, 64 * 1024))
            return;
        size_t room = b->cap - b->len;
        ssize_t n = recv(w->sock, b->data + b->len, room, MSG_DONTWAIT);
        if (n > 0) {
            b->len += (size_t)n;
            /* Less than asked: the socket held no more just now. Whatever
             * comes later makes it readable again, level-triggered. */
            if ((size_t)n < room)
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && w->in_epoll) {
            /* End of stream: the worker is ending; its sentinel says
             * when. Stop watching the socket, which stays readable. */
            epoll_ctl(pp->ep, EPOLL_CTL_DEL, w->sock, NULL);
            w->in_epoll = 0;
        }
        return;
    }
}

/* Parse what w's buffer holds. */
static void parse_input(struct pp *pp, struct pp_worker *w,
                        struct pp_task **done)
{
    struct weft__pp_buf *b = &w->in;
    size_t used = 0;
    if (b->len > b->off)
        weft__pp_parse(pp, w, b->data + b->off, b->len - b->off, &used, done);
    b->off += used;
    if (b->off == b->len)
        b->off = b->len = 0;
}

#define RECHECK_NS 10000000 /* 10 ms */

/* After a read: whether the result of w's first task in flight, which its
 * page says was sent (see Progress), is lost. p was read before the
 * socket was read dry, so when it says nothing is staged, every result up
 * to p.finished was in the socket and has been parsed: one still missing
 * was eaten by bytes that are not the pool's frames (a frame header
 * written by a task, that makes a frame look longer than it is), and no
 * byte to come can bring it back.
 *
 * Otherwise it cannot tell yet, when the result is due by the page read
 * again now, after the read: it may be staged while the worker runs a
 * later task, or it may have been finished and sent while the pool read
 * (after p was read), to be eaten there, the worker silent after. So the
 * timer looks again (recheck, in weft__pp_check_deadlines) every
 * RECHECK_NS while a result is due; the timer is set only when none is
 * set that soon, so a busy pool pays for this at most once per
 * RECHECK_NS. A result not due by that second reading is sent after this
 * read (the worker publishes finished before it sends), and its bytes
 * bring the next pump. */
static void check_due(struct pp *pp, struct pp_worker *w,
                      const struct weft__pp_progress *p)
{
    struct pp_task *t = w->head;
    w->recheck = 0;
    if (w->state != W_LIVE || w->kill_code || t == NULL)
        return;
    if (t->seq <= p->finished && p->staged == 0) {
        weft__pp_protocol_error(w, "a frame that the bytes after it do not "
                                   "complete");
        return;
    }
    /* Acquire: pairs with the worker's release store in end(). */
    if (t->seq > atomic_load_explicit(&w->shm->finished, memory_order_acquire))
        return;
    w->recheck = 1;
    int64_t at = weft_monotonic_ns() + RECHECK_NS;
    if (pp->timer_at > at + RECHECK_NS)
        weft__pp_arm_timer(pp, at);
}

void weft__pp_pump(struct pp *pp, struct pp_worker *w, struct pp_task **done)
{
    if (w->state != W_LIVE)
        return;
    /* Before the read (see check_due()); finished before staged, as in
     * weft__pp_progress(). */
    struct weft__pp_progress p = {0, 0, 0, 0};
    p.finished = atomic_load_explicit(&w->shm->finished, memory_order_acquire);
    p.staged = atomic_load_explicit(&w->shm->staged, memory_order_acquire);
    WEFT_CHAOS_POINT();
    weft__pp_read_all(pp, w);
    parse_input(pp, w, done);
    check_due(pp, w, &p);
    if (w->state == W_LIVE && !w->kill_code) {
        refill_into(pp, w, done);
        weft__pp_flush(pp, w);
    }
    weft__pp_retire_idle(pp);
}

/* ----- Retiring and breaking ----- */

static void send_exit(struct pp *pp, struct pp_worker *w)
{
    struct weft__pp_head h = {0, 0, 0};
    if (weft__pp_put_frame(&w->out, FRAME_EXIT, &h, sizeof h, NULL, 0) == 0) {
        w->exiting = 1;
        weft__pp_flush(pp, w);
    }
}

void weft__pp_retire_idle(struct pp *pp)
{
    if (!pp->shutdown || pp->pend_head)
        return;
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        if (w && w->state == W_LIVE && !w->exiting && w->inflight == 0)
            send_exit(pp, w);
    }
}

void weft__pp_break(struct pp *pp, const char *why, struct pp_task **done)
{
    if (!pp->broken)
        snprintf(pp->broken_msg, sizeof pp->broken_msg, "%s", why);
    pp->broken = 1;
    struct pp_task *t;
    while ((t = weft__pp_pend_pop(pp)) != NULL) {
        weft__pp_finish(t, WEFT_EBROKEN, "%s", pp->broken_msg);
        push_done(done, t);
    }
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        if (w && w->state == W_LIVE)
            weft__pp_kill(w, WEFT_EBROKEN, 0);
    }
}
