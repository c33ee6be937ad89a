/* SPDX-License-Identifier: MIT */
/* Workers: starting them, stopping them, and what their deaths mean.
 *
 * A death is handled once, by the first pumper to see the worker's
 * sentinel turn readable (it moves the worker from LIVE to DYING under the
 * lock). It joins the worker (so no zombie stays), then, under the lock,
 * reads what is left in the socket and in the staging area: every result
 * there completes its task. The task the shared page names as running
 * failed with the worker: WEFT_EWORKERDIED with the signal or status, or
 * the reason the pool killed it (timeout, stop, a broken pool). Every other
 * task still in flight had not started: back to the front of the pending
 * queue, in order, for the live workers to take; and a fresh worker takes
 * the slot unless the pool is done with workers.
 *
 * Timeouts. The worker records when each task starts; the pool keeps a
 * timerfd armed for the soonest moment a running task could pass its
 * deadline (for a timed task not started yet: now plus its timeout, looked
 * at again then), and kills the worker of a task past it.
 */
#include "procpool_int.h"

#include "base/chaos.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* ----- References ----- */

void weft__pp_worker_unref(struct pp_worker *w)
{
    if (--w->refs > 0)
        return;
    close(w->sock);
    munmap(w->shm, WEFT__PP_MAP_SIZE);
    /* Reaped by now: close its sentinel at once, rather than when the list
     * of children next drops it. The list may be reading the handle's
     * descriptors meanwhile, without the handle's lock (another thread
     * starting a process scans it): so let it drop the finished children
     * first, under its own lock (active_children() does), and only then
     * close. */
    if (w->proc) {
        weft_process_t **kids;
        size_t n;
        if (weft_active_children(&kids, &n) == 0)
            weft_process_list_free(kids, n);
        weft_process_close(w->proc);
    }
    weft_process_free(w->proc);
    weft__pp_buf_free(&w->in);
    weft__pp_buf_free(&w->out);
    free(w->known);
    free(w);
}

struct pp_worker *weft__pp_worker_at(struct pp *pp, unsigned slot, uint32_t gen)
{
    struct pp_worker *w = slot < pp->max_workers ? pp->slots[slot] : NULL;
    return w && w->gen == gen && w->state == W_LIVE ? w : NULL;
}

/* ----- Starting ----- */

static int worker_arg(struct pp *pp, int sock, int shm, weft_bytes_t *arg)
{
    struct weft__pp_worker_arg a = {WEFT__PP_WORKER_MAGIC,
                                    sock,
                                    shm,
                                    pp->max_tasks,
                                    (uint32_t)pp->init_ref.len,
                                    (uint32_t)pp->initarg.len};
    size_t len = sizeof a + a.init_ref_len + a.initarg_len;
    unsigned char *p = malloc(len);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "process pool: no memory");
    memcpy(p, &a, sizeof a);
    if (a.init_ref_len)
        memcpy(p + sizeof a, pp->init_ref.data, a.init_ref_len);
    if (a.initarg_len)
        memcpy(p + sizeof a + a.init_ref_len, pp->initarg.data, a.initarg_len);
    *arg = (weft_bytes_t){p, len};
    return 0;
}

static int make_shared(struct pp_worker *w, int *fd)
{
    *fd = memfd_create("weft-procpool", MFD_CLOEXEC);
    if (*fd < 0)
        return weft_fail(WEFT_ESYS, "memfd_create: %s", strerror(errno));
    void *p = MAP_FAILED;
    if (ftruncate(*fd, WEFT__PP_MAP_SIZE) == 0)
        p = mmap(NULL, WEFT__PP_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                 *fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(*fd);
        return weft_fail(WEFT_ESYS, "mapping a worker's page: %s", strerror(e));
    }
    w->shm = p;
    return 0;
}

static int launch(struct pp *pp, struct pp_worker *w, int sock, int shm)
{
    weft_bytes_t arg;
    int rc = worker_arg(pp, sock, shm, &arg);
    if (rc)
        return rc;
    weft_process_opts_t opts = {NULL, 1};
    rc = weft_context_process_new(pp->ctx, &w->proc, weft__pp_worker_main,
                                  arg.data, arg.len, &opts);
    weft_bytes_free(&arg);
    if (rc == 0)
        rc = weft_process_pass_fd(w->proc, sock);
    if (rc == 0)
        rc = weft_process_pass_fd(w->proc, shm);
    if (rc == 0)
        rc = weft_process_start(w->proc);
    if (rc == 0) {
        w->pid = weft_process_pid(w->proc);
        w->sentinel = weft_process_sentinel(w->proc);
    }
    return rc;
}

/* A new worker process, not yet installed. */
static int spawn_worker(struct pp *pp, struct pp_worker **out)
{
    *out = NULL;
    struct pp_worker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return weft_fail(WEFT_ENOMEM, "process pool: no memory");
    w->pool = pp;
    w->refs = 1;
    int sv[2], shm;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        free(w);
        return weft_fail(WEFT_ESYS, "socketpair: %s", strerror(errno));
    }
    w->sock = sv[0];
    fcntl(w->sock, F_SETFL, O_NONBLOCK);
    int rc = make_shared(w, &shm);
    if (rc) {
        close(sv[0]);
        close(sv[1]);
        free(w);
        return rc;
    }
    rc = launch(pp, w, sv[1], shm);
    close(sv[1]);
    close(shm);
    if (rc) {
        weft__pp_worker_unref(w);
        return rc;
    }
    *out = w;
    return 0;
}

static int watch(struct pp *pp, struct pp_worker *w)
{
    struct epoll_event s = {EPOLLIN,
                            {.u64 = weft__pp_ev(EV_SOCK, w->slot, w->gen)}};
    struct epoll_event d = {EPOLLIN,
                            {.u64 = weft__pp_ev(EV_SENTINEL, w->slot, w->gen)}};
    if (epoll_ctl(pp->ep, EPOLL_CTL_ADD, w->sock, &s) < 0)
        return weft_fail(WEFT_ESYS, "epoll_ctl: %s", strerror(errno));
    w->in_epoll = 1;
    w->events = EPOLLIN;
    if (epoll_ctl(pp->ep, EPOLL_CTL_ADD, w->sentinel, &d) < 0)
        return weft_fail(WEFT_ESYS, "epoll_ctl: %s", strerror(errno));
    return 0;
}

/* Under the lock: w takes slot and starts taking tasks. */
static int install(struct pp *pp, unsigned slot, struct pp_worker *w)
{
    w->slot = slot;
    w->gen = ++pp->gens[slot];
    int rc = watch(pp, w);
    if (rc)
        return rc;
    w->state = W_LIVE;
    pp->slots[slot] = w;
    pp->live++;
    atomic_fetch_add(&pp->live_word, 1);
    weft__pp_refill(pp, w);
    weft__pp_retire_idle(pp);
    return 0;
}

/* A worker that was started but is not wanted: stop and reap it. */
static void discard(struct pp_worker *w)
{
    weft_process_kill(w->proc);
    weft_process_join(w->proc, WEFT_FOREVER);
    weft__pp_worker_unref(w);
}

int weft__pp_start_worker(struct pp *pp, unsigned slot)
{
    struct pp_worker *w;
    int rc = spawn_worker(pp, &w);
    if (rc)
        return rc;
    weft_lock_acquire_shielded(&pp->lock);
    if (pp->closing || pp->broken)
        rc = weft_fail(WEFT_ESHUTDOWN, "the process pool is closing");
    else
        rc = install(pp, slot, w);
    if (rc && w->in_epoll)
        epoll_ctl(pp->ep, EPOLL_CTL_DEL, w->sock, NULL);
    weft_lock_release(&pp->lock);
    if (rc)
        discard(w);
    return rc;
}

/* ----- Stopping ----- */

void weft__pp_kill(struct pp_worker *w, int code, uint64_t task)
{
    if (w->kill_code == 0) {
        w->kill_code = code ? code : WEFT_EWORKERDIED;
        w->kill_task = task;
    }
    weft_process_kill(w->proc);
}

void weft__pp_protocol_error(struct pp_worker *w, const char *why)
{
    if (w->kill_code == 0)
        snprintf(w->kill_why, sizeof w->kill_why, "%s", why);
    weft__pp_kill(w, WEFT_EPROTO, 0);
}

void weft__pp_progress(struct pp_worker *w, struct weft__pp_progress *p)
{
    /* Acquire, each: pairs with the worker's release stores (worker.c).
     * finished before staged: a 0 in staged read after finished is a
     * flush that came after those results were staged. */
    p->finished = atomic_load_explicit(&w->shm->finished, memory_order_acquire);
    p->staged = atomic_load_explicit(&w->shm->staged, memory_order_acquire);
    /* The worker writes started_ns, then started; two equal reads of
     * started around the read of started_ns mean that started_ns is that
     * task's. */
    for (;;) {
        uint64_t n =
            atomic_load_explicit(&w->shm->started, memory_order_acquire);
        int64_t at =
            atomic_load_explicit(&w->shm->started_ns, memory_order_acquire);
        if (atomic_load_explicit(&w->shm->started, memory_order_acquire) == n) {
            p->started = n;
            p->started_ns = at;
            return;
        }
    }
}

/* The task with number seq on w's list, or NULL. */
static struct pp_task *find_seq(struct pp_worker *w, uint64_t seq)
{
    for (struct pp_task *t = w->head; t; t = t->next)
        if (t->seq == seq)
            return t;
    return NULL;
}

struct pp_task *weft__pp_running(struct pp_worker *w,
                                 const struct weft__pp_progress *p)
{
    return p->started > p->finished ? find_seq(w, p->started) : NULL;
}

void weft__pp_arm_timer(struct pp *pp, int64_t ns)
{
    if (ns >= pp->timer_at)
        return;
    pp->timer_at = ns;
    struct itimerspec its = {{0, 0}, {ns / 1000000000, ns % 1000000000}};
    timerfd_settime(pp->timer, TFD_TIMER_ABSTIME, &its, NULL);
}

static int64_t soonest_timeout(struct pp_worker *w)
{
    int64_t least = WEFT_NEVER;
    for (struct pp_task *t = w->head; t; t = t->next)
        if (weft__pp_timed(t) && t->timeout_ns < least)
            least = t->timeout_ns;
    return least;
}

/* w's next deadline check; kills w if its running task is late. A task
 * counts from its start, which the page says; a timed task not started
 * yet is looked at again after its timeout from now. */
static int64_t check_worker(struct pp_worker *w, int64_t now)
{
    struct weft__pp_progress p;
    weft__pp_progress(w, &p);
    struct pp_task *t = weft__pp_running(w, &p);
    if (t && weft__pp_timed(t)) {
        if (now - p.started_ns >= t->timeout_ns) {
            weft__pp_kill(w, WEFT_ETIMEDOUT, t->id);
            return WEFT_NEVER;
        }
        return p.started_ns + t->timeout_ns;
    }
    int64_t least = soonest_timeout(w);
    return least == WEFT_NEVER ? WEFT_NEVER : now + least;
}

/* Workers whose due result had not come: look again (see check_due() in
 * dispatch.c). Those a waiting thread reads are its to look at. */
static void recheck_due(struct pp *pp, struct pp_task **done)
{
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        if (w && w->state == W_LIVE && w->recheck && !w->reader &&
            !w->kill_code)
            weft__pp_pump(pp, w, done);
    }
}

void weft__pp_check_deadlines(struct pp *pp, struct pp_task **done)
{
    pp->timer_at = WEFT_NEVER;
    recheck_due(pp, done);
    int64_t now = weft_monotonic_ns(), next = WEFT_NEVER;
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        if (w == NULL || w->state != W_LIVE || w->timed == 0 || w->kill_code)
            continue;
        int64_t at = check_worker(w, now);
        if (at < next)
            next = at;
    }
    if (next != WEFT_NEVER)
        weft__pp_arm_timer(pp, next);
}

void weft__pp_check_stops(struct pp *pp)
{
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        struct pp_task *t = w && w->state == W_LIVE ? w->head : NULL;
        if (t == NULL || !atomic_load(&t->stop) || w->kill_code)
            continue;
        struct weft__pp_progress p;
        weft__pp_progress(w, &p);
        /* Finished: its result stands, whether it has come or not. */
        if (t->seq > p.finished)
            weft__pp_kill(w, WEFT_ECANCELLED, t->id);
    }
}

/* ----- Deaths ----- */

/* "killed by signal 9 (SIGKILL)", "exited with status 3". */
static void describe_end(int code, char *buf, size_t size)
{
    if (code < 0) {
        const char *abbrev = sigabbrev_np(-code);
        snprintf(buf, size, "killed by signal %d (SIG%s)", -code,
                 abbrev ? abbrev : "?");
    } else if (code == INT32_MIN) {
        snprintf(buf, size, "ended (its status is unknown)");
    } else {
        snprintf(buf, size, "exited with status %d", code);
    }
}

static const char *fn_name(struct pp *pp, const struct pp_task *t)
{
    return t->fn < pp->nfns && pp->fns[t->fn].name[0] ? pp->fns[t->fn].name
                                                      : "?";
}

/* The task w was running when it ended: fail it for the right reason. */
static void fail_running(struct pp *pp, struct pp_worker *w, struct pp_task *t,
                         int exitcode)
{
    unsigned long long id = (unsigned long long)t->id;
    uint32_t fault = atomic_load(&w->shm->fault);
    if (w->kill_code == WEFT_ETIMEDOUT && w->kill_task == t->id) {
        weft__pp_finish(t, WEFT_ETIMEDOUT,
                        "task %llu (%s) timed out after %g s; its worker %d "
                        "was killed",
                        id, fn_name(pp, t), (double)t->timeout_ns / 1e9,
                        w->pid);
    } else if (w->kill_code == WEFT_ECANCELLED &&
               (w->kill_task == t->id || w->kill_task == 0)) {
        weft__pp_finish(t, WEFT_ECANCELLED,
                        "task %llu (%s) was stopped: its worker %d was killed",
                        id, fn_name(pp, t), w->pid);
        t->stopped = 1;
    } else if (w->kill_code == WEFT_EBROKEN) {
        weft__pp_finish(t, WEFT_EBROKEN, "%s", pp->broken_msg);
    } else if (w->kill_code == WEFT_EPROTO) {
        weft__pp_finish(t, WEFT_EPROTO,
                        "worker %d sent a malformed frame (%s) while running "
                        "task %llu (%s); it was killed",
                        w->pid, w->kill_why, id, fn_name(pp, t));
    } else if (fault == WEFT__PP_FAULT_CHANNEL) {
        weft__pp_finish(t, WEFT_EWORKERDIED,
                        "worker %d lost its channel to the pool (closed or "
                        "broken, perhaps by the task) while running task "
                        "%llu (%s)",
                        w->pid, id, fn_name(pp, t));
    } else {
        char end[96];
        describe_end(exitcode, end, sizeof end);
        weft__pp_finish(t, WEFT_EWORKERDIED,
                        "worker %d died: %s while running task %llu (%s)",
                        w->pid, end, id, fn_name(pp, t));
    }
}

/* A task that ran to its end on w, whose result the pool never got. */
static void fail_lost(struct pp *pp, struct pp_worker *w, struct pp_task *t,
                      int exitcode)
{
    unsigned long long id = (unsigned long long)t->id;
    if (w->kill_code == WEFT_EPROTO) {
        weft__pp_finish(t, WEFT_EPROTO,
                        "task %llu (%s) ran, but its result was lost: worker "
                        "%d sent a malformed frame (%s) and was killed",
                        id, fn_name(pp, t), w->pid, w->kill_why);
        return;
    }
    char end[96];
    describe_end(exitcode, end, sizeof end);
    weft__pp_finish(t, WEFT_EWORKERDIED,
                    "task %llu (%s) ran, but its result was lost: worker %d "
                    "%s",
                    id, fn_name(pp, t), w->pid, end);
}

static void push(struct pp_task **list, struct pp_task *t)
{
    t->next = *list;
    *list = t;
}

/* Whether w's page agrees with what the pool sent it. */
static int page_sane(const struct pp_worker *w,
                     const struct weft__pp_progress *p)
{
    return p->finished <= p->started && p->started <= w->sent;
}

/* Read what w left: its socket, then its staging area. */
static void read_leftovers(struct pp *pp, struct pp_worker *w,
                           struct pp_task **done)
{
    weft__pp_read_all(pp, w);
    size_t used;
    if (w->in.len > w->in.off)
        weft__pp_parse(pp, w, w->in.data + w->in.off, w->in.len - w->in.off,
                       &used, done);
    uint64_t staged =
        atomic_load_explicit(&w->shm->staged, memory_order_acquire);
    if (staged <= WEFT__PP_STAGE_CAP)
        weft__pp_parse(pp, w, w->shm->stage, (size_t)staged, &used, done);
}

/* Under the lock, w DYING: everything it finished, what it was running,
 * and what ran but whose result is lost; what is left on its list was
 * never started. Returns how many tasks failed with it. */
static int collect(struct pp *pp, struct pp_worker *w, int exitcode,
                   struct pp_task **done)
{
    struct weft__pp_progress p;
    weft__pp_progress(w, &p); /* final: the worker has ended */
    read_leftovers(pp, w, done);
    int sane = page_sane(w, &p), failed = 0;
    struct pp_task *t = w->head, *next;
    for (; t; t = next) {
        next = t->next;
        int ran = !sane || t->seq <= p.started;
        if (!ran && t->id != w->kill_task)
            continue; /* never started: back to the queue */
        weft__pp_unlink(w, t);
        if (sane && t->seq <= p.finished)
            fail_lost(pp, w, t, exitcode);
        else
            fail_running(pp, w, t, exitcode);
        push(done, t);
        failed++;
    }
    return failed;
}

/* Workers that die as they start (a crash before the first task, a
 * sanitizer's report, a missing library) would be replaced for ever: after
 * a few in a row, the pool breaks instead. A kill from outside, a clean
 * exit, or a death in a task does not count. */
#define STARTUP_DEATHS_MAX 3

static void count_startup_death(struct pp *pp, struct pp_worker *w,
                                int exitcode, int failed, struct pp_task **done)
{
    if (w->results > 0 || failed || w->kill_code || exitcode == 0 ||
        exitcode == -SIGKILL) {
        pp->startup_deaths = 0;
        return;
    }
    if (++pp->startup_deaths < STARTUP_DEATHS_MAX)
        return;
    char end[96], message[WEFT_MESSAGE_MAX];
    describe_end(exitcode, end, sizeof end);
    snprintf(message, sizeof message,
             "workers die as they start, the process pool is not usable "
             "anymore (worker %d %s)",
             w->pid, end);
    weft__pp_break(pp, message, done);
}

/* The tasks w was sent and never started: back to the front of the
 * queue, in their order (or failed, if the pool is broken). */
static void requeue(struct pp *pp, struct pp_worker *w, struct pp_task **done)
{
    struct pp_task *rev = NULL, *t;
    while ((t = w->head) != NULL) {
        weft__pp_unlink(w, t);
        push(&rev, t);
    }
    while ((t = rev) != NULL) {
        rev = t->next;
        if (pp->broken) {
            weft__pp_finish(t, WEFT_EBROKEN, "%s", pp->broken_msg);
            push(done, t);
        } else if (weft__pp_stopping(pp)) {
            weft__pp_finish(t, WEFT_ECANCELLED,
                            "the process pool's workers were stopped");
            t->stopped = 1;
            push(done, t);
        } else {
            weft__pp_pend_push_front(pp, t);
        }
    }
}

static void detach(struct pp *pp, struct pp_worker *w)
{
    if (w->in_epoll)
        epoll_ctl(pp->ep, EPOLL_CTL_DEL, w->sock, NULL);
    w->in_epoll = 0;
    pp->slots[w->slot] = NULL;
    pp->live--;
    w->state = W_GONE;
    weft__pp_worker_unref(w); /* the slot's */
}

/* Join w's process; its exit code (INT32_MIN if it could not be had). */
static int reap(struct pp_worker *w)
{
    int code = INT32_MIN;
    if (weft_process_join(w->proc, 30.0) == 0)
        weft_process_exitcode(w->proc, &code);
    return code;
}

static int wants_replacement(const struct pp *pp)
{
    return !pp->closing && !pp->broken && !pp->interrupted &&
           (!pp->shutdown || pp->pend_head != NULL);
}

/* A replacement could not start: with no worker left, the pool cannot
 * go on. */
static void start_failed(struct pp *pp, const char *why)
{
    struct pp_task *done = NULL;
    weft_lock_acquire_shielded(&pp->lock);
    if (pp->live == 0 && !pp->closing) {
        char message[WEFT_MESSAGE_MAX];
        snprintf(message, sizeof message,
                 "no worker could be started, the process pool is not "
                 "usable anymore (%s)",
                 why);
        weft__pp_break(pp, message, &done);
    }
    weft_lock_release(&pp->lock);
    weft__pp_complete(pp, done);
}

void weft__pp_on_death(struct pp *pp, unsigned slot, uint32_t gen)
{
    weft_lock_acquire_shielded(&pp->lock);
    struct pp_worker *w = weft__pp_worker_at(pp, slot, gen);
    if (w) {
        /* Its sentinel stays readable: stop watching it at once. */
        epoll_ctl(pp->ep, EPOLL_CTL_DEL, w->sentinel, NULL);
        w->state = W_DYING;
        w->refs++;
    }
    weft_lock_release(&pp->lock);
    if (w == NULL)
        return;
    WEFT_CHAOS_POINT(); /* DYING: pumpers leave it alone from now */
    int exitcode = reap(w);
    struct pp_task *done = NULL;
    weft_lock_acquire_shielded(&pp->lock);
    int failed = collect(pp, w, exitcode, &done);
    count_startup_death(pp, w, exitcode, failed, &done);
    requeue(pp, w, &done);
    detach(pp, w);
    weft__pp_refill_all(pp);
    int replace = wants_replacement(pp);
    int interrupted_all = pp->interrupted && pp->live == 0;
    weft__pp_worker_unref(w);
    weft_lock_release(&pp->lock);
    weft__pp_complete(pp, done);
    if (replace && weft__pp_start_worker(pp, slot) != 0)
        start_failed(pp, weft_last_message());
    if (interrupted_all)
        weft__pp_sigint_done(pp);
    /* Last: once the count is 0, destroy may tear the pool down (parking
     * keys on the address only, so the wake-up is safe even then). */
    if (atomic_fetch_sub(&pp->live_word, 1) == 1)
        weft_unpark_all(&pp->live_word, 0);
}
