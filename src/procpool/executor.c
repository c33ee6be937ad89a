/* SPDX-License-Identifier: MIT */
/* The process pool as an executor: creation, submission, shutdown and
 * teardown, and the future class of its tasks.
 *
 * Teardown waits for every worker to be joined and the manager thread to
 * end, then closes the descriptors. The struct itself lives on while any
 * task of the pool does (each holds a reference), since a thread waiting
 * on such a task reads it; it then finds the pool torn down and parks. */
#include "base/check.h"
#include "procpool_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* ----- The task class ----- */

static void task_destroy(weft_future_t *f)
{
    struct pp_task *t = weft__pp_task(f);
    struct pp *pp = t->pool;
    weft_bytes_free(&t->arg);
    weft_bytes_free(&t->out);
    free(f);
    weft__pp_release(pp);
}

/* Under f's lock: only signal. */
static void task_stop(weft_future_t *f)
{
    struct pp_task *t = weft__pp_task(f);
    atomic_store(&t->stop, 1);
    weft__pp_poke(t->pool);
}

const weft_future_class_t weft__pp_task_class = {
    WEFT_FUTURE_SIZE + sizeof(struct pp_task), task_destroy, task_stop,
    weft__pp_wait};

void weft__pp_release(struct pp *pp)
{
    /* Acq_rel: the last dropper sees every write made under the others. */
    if (atomic_fetch_sub_explicit(&pp->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(pp);
}

/* ----- Functions ----- */

/* The id of fn, locating it the first time (under the lock). */
static int fn_id(struct pp *pp, weft_bytes_fn fn, uint32_t *id)
{
    for (size_t i = pp->nfns; i-- > 0;)
        if (pp->fns[i].fn == fn) {
            *id = (uint32_t)i;
            return 0;
        }
    if (pp->nfns == pp->fncap) {
        size_t cap = pp->fncap ? 2 * pp->fncap : 8;
        struct pp_fn *fns = realloc(pp->fns, cap * sizeof *fns);
        if (fns == NULL)
            return weft_fail(WEFT_ENOMEM, "process pool: no memory");
        pp->fns = fns;
        pp->fncap = cap;
    }
    struct pp_fn *e = &pp->fns[pp->nfns];
    memset(e, 0, sizeof *e);
    int rc = weft_fn_locate((weft_any_fn)fn, &e->ref);
    if (rc)
        return rc;
    e->fn = fn;
    weft_symbol_name((const void *)fn, e->name, sizeof e->name);
    *id = (uint32_t)pp->nfns++;
    return 0;
}

/* ----- Submitting ----- */

static int refuse(const struct pp *pp)
{
    if (pp->broken)
        return weft_fail(WEFT_EBROKEN, "%s", pp->broken_msg);
    if (pp->shutdown)
        return weft_fail(WEFT_ESHUTDOWN,
                         "cannot schedule new futures after shutdown");
    return 0;
}

/* A task with a timeout of 0 gets no time to run: it fails as it would
 * start, without running (as asyncio.wait_for(coro, 0) cancels its task
 * before it runs), and no worker is stopped for it. Under the lock. */
static void no_time(struct pp *pp, struct pp_task *t, struct pp_task **done)
{
    weft__pp_finish(t, WEFT_ETIMEDOUT,
                    "task %llu (%s) has a timeout of 0: it had no time to run",
                    (unsigned long long)t->id, pp->fns[t->fn].name);
    t->next = *done;
    *done = t;
}

static int submit(struct pp *pp, weft_bytes_fn fn, weft_bytes_t *arg,
                  int64_t timeout_ns, weft_future_t **out)
{
    if (arg->len > WEFT__PP_PAYLOAD_MAX)
        return weft_fail(WEFT_EMSGSIZE, "a task's argument holds at most "
                                        "1 GiB");
    weft_future_t *f;
    int rc = weft_future_new_of(&f, &weft__pp_task_class, 2);
    if (rc)
        return rc;
    struct pp_task *t = weft__pp_task(f);
    struct pp_task *done = NULL;
    t->pool = pp;
    t->timeout_ns = timeout_ns;
    atomic_fetch_add_explicit(&pp->refs, 1, memory_order_relaxed);
    weft_lock_acquire_shielded(&pp->lock);
    rc = refuse(pp);
    if (rc == 0)
        rc = fn_id(pp, fn, &t->fn);
    if (rc == 0) {
        t->arg = *arg;
        *arg = (weft_bytes_t){NULL, 0};
        t->id = ++pp->next_id;
        atomic_fetch_add_explicit(&pp->outstanding, 1, memory_order_relaxed);
        if (timeout_ns == 0)
            no_time(pp, t, &done);
        else
            weft__pp_dispatch(pp, t);
    }
    weft_lock_release(&pp->lock);
    if (rc) {
        weft_future_free(f);
        weft_future_free(f);
        return rc;
    }
    weft__pp_complete(pp, done);
    *out = f;
    return 0;
}

static int pp_submit_bytes(void *impl, weft_bytes_fn fn, weft_bytes_t *arg,
                           weft_future_t **out)
{
    struct pp *pp = impl;
    return submit(pp, fn, arg, pp->timeout_ns, out);
}

/* ----- Shutdown ----- */

void weft__pp_cancel_queued(struct pp *pp, struct pp_task **done,
                            weft_future_t ***waiting, size_t *n)
{
    struct pp_task *t;
    while ((t = weft__pp_pend_pop(pp)) != NULL) {
        weft__pp_finish(t, WEFT_ECANCELLED, "cancelled at shutdown");
        t->stopped = 1;
        t->next = *done;
        *done = t;
    }
    size_t count = 0;
    for (unsigned i = 0; i < pp->max_workers; i++)
        if (pp->slots[i] && pp->slots[i]->head)
            count += pp->slots[i]->inflight - 1;
    *waiting = count ? malloc(count * sizeof **waiting) : NULL;
    *n = 0;
    for (unsigned i = 0; *waiting && i < pp->max_workers; i++)
        for (t = pp->slots[i] ? pp->slots[i]->head : NULL; t; t = t->next)
            if (t != pp->slots[i]->head)
                (*waiting)[(*n)++] = weft_future_ref(weft__pp_future(t));
}

static int some_left(void *ctx)
{
    return atomic_load((_Atomic uint32_t *)ctx) != 0;
}

static const weft_park_ops_t some_left_ops = {some_left, NULL, NULL};

/* Wait for a counter to reach 0, by the deadline. */
static int wait_zero(_Atomic uint32_t *word, int64_t deadline)
{
    while (atomic_load(word) != 0) {
        int rc = weft_park(word, &some_left_ops, word, deadline, NULL);
        if (rc == WEFT_ETIMEDOUT || rc == WEFT_ECANCELLED)
            return rc;
    }
    return 0;
}

/* Stop taking tasks; cancel what has not started if asked. */
static void begin_shutdown(struct pp *pp, int cancel)
{
    struct pp_task *done = NULL;
    weft_future_t **waiting = NULL;
    size_t n = 0;
    weft_lock_acquire_shielded(&pp->lock);
    pp->shutdown = 1;
    if (cancel)
        weft__pp_cancel_queued(pp, &done, &waiting, &n);
    weft__pp_retire_idle(pp);
    weft_lock_release(&pp->lock);
    weft__pp_complete(pp, done);
    for (size_t i = 0; i < n; i++) {
        weft_future_cancel_and_notify(waiting[i]);
        weft_future_free(waiting[i]);
    }
    free(waiting);
}

static int pp_shutdown(void *impl, int wait, int cancel, int64_t deadline)
{
    struct pp *pp = impl;
    begin_shutdown(pp, cancel);
    if (!wait)
        return 0;
    int rc = wait_zero(&pp->outstanding, deadline);
    if (rc == 0)
        rc = wait_zero(&pp->live_word, deadline);
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "shutdown timed out: %u tasks still running",
                         atomic_load(&pp->outstanding));
    if (rc == WEFT_ECANCELLED)
        return weft_fail(rc, "shutdown cancelled");
    return 0;
}

/* ----- Teardown ----- */

static void stop_everything(struct pp *pp)
{
    struct pp_task *done = NULL, *t;
    weft_lock_acquire_shielded(&pp->lock);
    pp->closing = pp->shutdown = 1;
    while ((t = weft__pp_pend_pop(pp)) != NULL) {
        weft__pp_finish(t, WEFT_ECANCELLED, "the process pool was freed");
        t->stopped = 1;
        t->next = done;
        done = t;
    }
    for (unsigned i = 0; pp->slots && i < pp->max_workers; i++)
        if (pp->slots[i] && pp->slots[i]->state == W_LIVE)
            weft__pp_kill(pp->slots[i], WEFT_ECANCELLED, 0);
    weft_lock_release(&pp->lock);
    weft__pp_complete(pp, done);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Release what pp holds besides the struct (also for a pool that failed
 * to start: anything not made yet is skipped). */
static void teardown(struct pp *pp)
{
    weft__pp_manager_stop(pp);
    weft_lock_acquire_shielded(&pp->lock);
    pp->torn = 1;
    weft_lock_release(&pp->lock);
    if (pp->sigint_registered)
        weft__pp_sigint_unregister(pp);
    close_fd(&pp->ep);
    close_fd(&pp->ctl);
    close_fd(&pp->timer);
    for (size_t i = 0; i < pp->nfns; i++)
        weft_bytes_free(&pp->fns[i].ref);
    free(pp->fns);
    free(pp->slots);
    free(pp->gens);
    weft_bytes_free(&pp->init_ref);
    weft_bytes_free(&pp->initarg);
    pp->fns = NULL;
    pp->nfns = 0;
}

/* A pool whose manager thread never started (its creation failed) has
 * no one to see its workers die: handle their deaths here (each is
 * killed by now, so each join is short). */
static void reap_without_manager(struct pp *pp)
{
    for (unsigned i = 0; pp->slots && i < pp->max_workers; i++) {
        weft_lock_acquire_shielded(&pp->lock);
        struct pp_worker *w = pp->slots[i];
        uint32_t gen = w ? w->gen : 0;
        weft_lock_release(&pp->lock);
        if (w)
            weft__pp_on_death(pp, i, gen);
    }
}

static void pp_destroy(void *impl)
{
    struct pp *pp = impl;
    stop_everything(pp);
    if (pp->manager == NULL)
        reap_without_manager(pp);
    wait_zero(&pp->live_word, WEFT_NEVER);
    wait_zero(&pp->outstanding, WEFT_NEVER);
    teardown(pp);
    weft__pp_release(pp);
}

static unsigned pp_max_workers(const void *impl)
{
    return ((const struct pp *)impl)->max_workers;
}

static const weft_executor_class_t pp_class = {
    "process", NULL, pp_submit_bytes, pp_shutdown, pp_destroy, pp_max_workers};

/* Which pool an executor wraps; NULL for a backend of another class. */
static struct pp *pool_of(weft_executor_t *ex)
{
    return weft_executor_impl(ex, &pp_class);
}

/* ----- Creation ----- */

/* A task's timeout in nanoseconds: WEFT_FOREVER is none (WEFT_NEVER), 0
 * no time at all. */
static int to_ns(double timeout, int64_t *ns)
{
    if (timeout == WEFT_FOREVER) {
        *ns = WEFT_NEVER;
        return 0;
    }
    if (isnan(timeout) || timeout < 0)
        return weft_fail(WEFT_EINVAL,
                         "bad timeout %g: use WEFT_FOREVER for none, 0 for "
                         "no time, or a positive number of seconds",
                         timeout);
    double v = timeout * 1e9;
    *ns = timeout == 0 ? 0 : v >= 9e18 ? WEFT_NEVER : v < 1 ? 1 : (int64_t)v;
    return 0;
}

static int read_workers(struct pp *pp, const weft_process_pool_opts_t *o)
{
    if (o->max_workers > WEFT_PROCESS_POOL_MAX_WORKERS)
        return weft_fail(WEFT_EINVAL,
                         "max_workers %u: a process pool has at most %u "
                         "workers",
                         o->max_workers, WEFT_PROCESS_POOL_MAX_WORKERS);
    unsigned cpus = weft_process_cpu_count();
    pp->max_workers = o->max_workers ? o->max_workers
                      : cpus < WEFT_PROCESS_POOL_MAX_WORKERS
                          ? cpus
                          : WEFT_PROCESS_POOL_MAX_WORKERS;
    return 0;
}

static int read_timeout(struct pp *pp, const weft_process_pool_opts_t *o)
{
    pp->timeout_ns = WEFT_NEVER;
    if (o->has_timeout)
        return to_ns(o->timeout, &pp->timeout_ns);
    if (o->timeout != 0)
        return weft_fail(WEFT_EINVAL,
                         "opts.timeout is %g but opts.has_timeout is 0: set "
                         "has_timeout to give tasks a default timeout",
                         o->timeout);
    return 0;
}

static int read_opts(struct pp *pp, const weft_process_pool_opts_t *o)
{
    int rc = read_workers(pp, o);
    pp->max_tasks = o->max_tasks_per_child;
    if (rc == 0)
        rc = weft_get_context(&pp->ctx, o->start_method);
    if (rc == 0)
        rc = read_timeout(pp, o);
    if (rc == 0 && o->initializer)
        rc = weft_fn_locate((weft_any_fn)o->initializer, &pp->init_ref);
    if (rc == 0 && o->initarg_len)
        rc = o->initarg ? weft_bytes_copy(&pp->initarg, o->initarg,
                                          o->initarg_len)
                        : weft_fail(WEFT_EINVAL, "NULL initarg");
    return rc;
}

static int make_fds(struct pp *pp)
{
    pp->ep = epoll_create1(EPOLL_CLOEXEC);
    pp->ctl = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pp->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (pp->ep < 0 || pp->ctl < 0 || pp->timer < 0)
        return weft_fail(WEFT_ESYS, "process pool: %s", strerror(errno));
    struct epoll_event c = {EPOLLIN, {.u64 = weft__pp_ev(EV_CTL, 0, 0)}};
    struct epoll_event t = {EPOLLIN, {.u64 = weft__pp_ev(EV_TIMER, 0, 0)}};
    if (epoll_ctl(pp->ep, EPOLL_CTL_ADD, pp->ctl, &c) < 0 ||
        epoll_ctl(pp->ep, EPOLL_CTL_ADD, pp->timer, &t) < 0)
        return weft_fail(WEFT_ESYS, "epoll_ctl: %s", strerror(errno));
    return 0;
}

static struct pp *pp_alloc(void)
{
    struct pp *pp = calloc(1, sizeof *pp);
    if (pp == NULL)
        return NULL;
    atomic_init(&pp->refs, 1);
    weft_lock_init(&pp->lock);
    pp->ep = pp->ctl = pp->timer = -1;
    pp->timer_at = WEFT_NEVER;
    return pp;
}

static int start_workers(struct pp *pp)
{
    for (unsigned i = 0; i < pp->max_workers; i++) {
        int rc = weft__pp_start_worker(pp, i);
        if (rc)
            return rc;
    }
    return 0;
}

static int setup(struct pp *pp, const weft_process_pool_opts_t *opts)
{
    static const weft_process_pool_opts_t defaults;
    int rc = read_opts(pp, opts ? opts : &defaults);
    if (rc)
        return rc;
    pp->slots = calloc(pp->max_workers, sizeof *pp->slots);
    pp->gens = calloc(pp->max_workers, sizeof *pp->gens);
    if (pp->slots == NULL || pp->gens == NULL)
        return weft_fail(WEFT_ENOMEM, "process pool: no memory");
    rc = make_fds(pp);
    /* Workers first: the manager thread comes after the last fork. */
    if (rc == 0)
        rc = start_workers(pp);
    if (rc == 0)
        rc = weft__pp_manager_start(pp);
    if (rc == 0)
        rc = weft__pp_sigint_register(pp);
    return rc;
}

int weft_process_pool_new(weft_executor_t **out,
                          const weft_process_pool_opts_t *opts)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "process_pool_new: NULL out");
    struct pp *pp = pp_alloc();
    if (pp == NULL)
        return weft_fail(WEFT_ENOMEM, "process pool: no memory");
    int rc = setup(pp, opts);
    if (rc == 0)
        rc = weft_executor_new(out, &pp_class, pp);
    if (rc) {
        weft_error_info_t e;
        weft_error_capture(&e, rc);
        pp_destroy(pp);
        return weft_fail(e.code, "%s", e.message);
    }
    return 0;
}

/* ----- Beyond the executor interface ----- */

int weft_process_pool_submit_timeout(weft_executor_t *ex, weft_bytes_fn fn,
                                     const void *arg, size_t len,
                                     double timeout, weft_future_t **out)
{
    struct pp *pp = pool_of(ex);
    if (pp == NULL)
        return weft_fail(WEFT_EINVAL, "submit_timeout: not a process pool");
    if (fn == NULL || out == NULL || (arg == NULL && len > 0))
        return weft_fail(WEFT_EINVAL, "submit_timeout: NULL argument");
    int64_t ns = WEFT_NEVER;
    int rc = to_ns(timeout, &ns);
    weft_bytes_t b = {NULL, 0};
    if (rc == 0)
        rc = weft_bytes_copy(&b, arg, len);
    if (rc == 0)
        rc = submit(pp, fn, &b, ns, out);
    weft_bytes_free(&b);
    return rc;
}

static int signal_workers(weft_executor_t *ex, int kill)
{
    struct pp *pp = pool_of(ex);
    if (pp == NULL)
        return weft_fail(WEFT_EINVAL, "%s_workers: not a process pool",
                         kill ? "kill" : "terminate");
    weft_lock_acquire_shielded(&pp->lock);
    pp->terminated = 1;
    weft_lock_release(&pp->lock);
    weft_executor_shutdown(ex, 0, 1, 0);
    weft_lock_acquire_shielded(&pp->lock);
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        if (w == NULL || w->state != W_LIVE)
            continue;
        if (w->kill_code == 0)
            w->kill_code = WEFT_ECANCELLED;
        if (kill)
            weft_process_kill(w->proc);
        else
            weft_process_terminate(w->proc);
    }
    weft_lock_release(&pp->lock);
    return 0;
}

int weft_process_pool_terminate_workers(weft_executor_t *ex)
{
    return signal_workers(ex, 0);
}

int weft_process_pool_kill_workers(weft_executor_t *ex)
{
    return signal_workers(ex, 1);
}

size_t weft_process_pool_pids(weft_executor_t *ex, int *pids, size_t cap)
{
    WEFT_REFUSE_NULL_OR(ex, 0);
    struct pp *pp = pool_of(ex);
    if (pp == NULL)
        return 0;
    size_t n = 0;
    weft_lock_acquire_shielded(&pp->lock);
    for (unsigned i = 0; i < pp->max_workers; i++) {
        struct pp_worker *w = pp->slots[i];
        if (w == NULL || w->state != W_LIVE)
            continue;
        if (n < cap && pids)
            pids[n] = w->pid;
        n++;
    }
    weft_lock_release(&pp->lock);
    return n;
}
