/* SPDX-License-Identifier: MIT */
/* Tasks: coroutines on a loop, and how park waits through them.
 *
 * The waiter. While a task runs, its weft_waiter_t is the thread's current
 * waiter (installed at each switch in, the previous one restored at each
 * switch out), so every blocking call of weft parks the task, not the
 * thread. Its ops:
 *   wait   suspend the task back to the loop, after arming a loop timer
 *          for the deadline, unless the waiter's state is already set;
 *   wake   (any thread) set the state bits, then schedule the task to
 *          resume if it is suspended in wait;
 *   yield  schedule the task at the back of the ready ring and suspend.
 *
 * Why no wake-up is lost. Each task has a run word: RUNNING, PARKED (in
 * wait, suspended or about to be) or NOTIFIED (a resume is scheduled).
 * wait stores PARKED and then reads the waiter's state; wake sets the state
 * and then tries PARKED -> NOTIFIED; all four are seq_cst, so either wait
 * sees the bits (and takes itself back with PARKED -> RUNNING, or, if a
 * wake got there first, suspends to take the resume already on its way),
 * or the wake sees PARKED and schedules the resume. Only the one whose CAS
 * from PARKED succeeds schedules, so a task is resumed once per
 * suspension. The deadline timer competes in the same CAS.
 *
 * Why the task outlives its wakers. park's contract lets a waiter vanish
 * once its bits are set. A task's waiter lives inside the task's future,
 * so wake takes a reference to the future before setting the bits and
 * hands it to the scheduled resume, or drops it when it schedules nothing;
 * the resume drops it on the loop's thread, where the loop's own reference
 * holds a suspended task.
 *
 * Handing over. A task that suspends while the loop is running the ready
 * callbacks of an iteration looks at the next one: if it resumes a task,
 * it takes it out of the ring (weft_loop_take_next) and switches straight
 * to that task, one switch instead of two through the loop's stack, in
 * the order the loop would have kept; at the end of an iteration, into the
 * next one too when the loop would do nothing in between but run the ring
 * (weft_loop_take_next decides). The loop, when some task finally
 * switches back, asks which one it was.
 *
 * Cancellation. A task enters a cancel scope of its own as it starts; the
 * scope watches the future's stop bit, and weft_future_stop() (through the
 * class's stop hook) pokes the waiter. park then finds the scope cancelled
 * at the task's next suspension point, and every later one.
 *
 * Ownership. A task's future has two references from birth: the caller's
 * and the loop's. The loop's is dropped when the task has finished and its
 * future is complete; the task's stack goes back to the pool just before.
 */
#include "base/check.h"
#include "coro_int.h"
#include "park/park_int.h" /* a coroutine is a kind of waiter: its fields */

#include <poll.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef WEFT_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif
#ifdef WEFT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* ----- Each thread's scheduler state ----- */

struct sched {
    weft__ctx_t loop_ctx;  /* where a suspending task returns to */
    struct coro *current;  /* the task running now, or NULL */
    int from_loop;         /* the last switch came from the loop's stack */
    void *loop_fiber;      /* ThreadSanitizer's fiber of the loop side */
    void *loop_fake_stack; /* AddressSanitizer's, of the loop side */
    const void *loop_stack;
    size_t loop_stack_size;
};

static _Thread_local struct sched sched;
static _Atomic size_t live_tasks;

/* ----- The switches, with the sanitizers told about each ----- */

/* In a task, just switched to: learn the loop's stack if we came from it. */
static void arrived(struct coro *c)
{
#ifdef WEFT_ASAN
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(c->san_fake_stack, &bottom, &size);
    if (sched.from_loop) {
        sched.loop_stack = bottom;
        sched.loop_stack_size = size;
    }
#endif
    (void)c;
}

/* From the loop's stack: run c, and whatever tasks it hands over to, until
 * one of them switches back. Returns that one. */
static struct coro *enter_tasks(struct coro *c)
{
    sched.current = c;
    sched.from_loop = 1;
    weft_waiter_t *prev = weft_park_set_waiter(&c->waiter);
#ifdef WEFT_TSAN
    sched.loop_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(c->san_fiber, 0);
#endif
#ifdef WEFT_ASAN
    __sanitizer_start_switch_fiber(&sched.loop_fake_stack, c->stack->lo,
                                   c->stack->size);
#endif
    weft__ctx_switch(&sched.loop_ctx, &c->ctx);
#ifdef WEFT_ASAN
    __sanitizer_finish_switch_fiber(sched.loop_fake_stack, NULL, NULL);
#endif
    weft_park_set_waiter(prev);
    struct coro *back = sched.current;
    sched.current = NULL;
    return back;
}

/* In task c: back to the loop. final: c will never run again. */
static void switch_out(struct coro *c, int final)
{
#ifdef WEFT_TSAN
    __tsan_switch_to_fiber(sched.loop_fiber, 0);
#endif
#ifdef WEFT_ASAN
    __sanitizer_start_switch_fiber(final ? NULL : &c->san_fake_stack,
                                   sched.loop_stack, sched.loop_stack_size);
#endif
    weft__ctx_switch(&c->ctx, &sched.loop_ctx);
    arrived(c);
    (void) final;
}

/* In task c: straight to task next, which the loop would have resumed
 * next anyway: one switch instead of two. */
static void hand_over(struct coro *c, struct coro *next)
{
    atomic_store_explicit(&next->run, RUN_RUNNING, memory_order_relaxed);
    sched.current = next;
    sched.from_loop = 0;
    weft_park_set_waiter(&next->waiter);
#ifdef WEFT_TSAN
    __tsan_switch_to_fiber(next->san_fiber, 0);
#endif
#ifdef WEFT_ASAN
    __sanitizer_start_switch_fiber(&c->san_fake_stack, next->stack->lo,
                                   next->stack->size);
#endif
    weft__ctx_switch(&c->ctx, &next->ctx);
    arrived(c);
}

/* ----- Resuming ----- */

/* A resume in the ready ring is run_task with the task's address, its low
 * bit set when a wake's reference to the task comes with it. */
#define WOKEN ((uintptr_t)1)

static void finish(struct coro *c);

static void resume(struct coro *c)
{
    atomic_store_explicit(&c->run, RUN_RUNNING, memory_order_relaxed);
    struct coro *back = enter_tasks(c);
    if (back->finished)
        finish(back);
}

/* The wake's reference kept the task alive until now, on the loop's
 * thread; from here the loop's own reference does (a suspended task has
 * not finished). */
static struct coro *untag(void *arg)
{
    struct coro *c = (struct coro *)((uintptr_t)arg & ~WOKEN);
    if ((uintptr_t)arg & WOKEN)
        weft_future_free(task_of(c));
    return c;
}

static int run_task(void *arg)
{
    resume(untag(arg));
    return 0;
}

/* In task c, about to suspend: pass control to the next task of this
 * iteration if that is what the loop would run next, else to the loop. */
static void suspend(struct coro *c)
{
    void *next;
    if (weft_loop_take_next(c->loop, run_task, &next))
        hand_over(c, untag(next));
    else
        switch_out(c, 0);
}

void weft__coro_suspend(struct coro *c)
{
    suspend(c);
}

static void schedule_woken(struct coro *c)
{
    void *arg = (void *)((uintptr_t)c | WOKEN);
    if (weft_loop_running() == c->loop &&
        weft_loop_call_soon(c->loop, run_task, arg, NULL) == 0)
        return;
    if (weft_loop_call_soon_threadsafe(c->loop, run_task, arg) == 0)
        return;
    fprintf(stderr, "weft: a task's wake-up could not be scheduled: %s\n",
            weft_last_message());
    weft_future_free(task_of(c));
}

static int on_deadline(void *arg)
{
    struct coro *c = arg;
    uint32_t parked = RUN_PARKED;
    if (atomic_compare_exchange_strong(&c->run, &parked, RUN_NOTIFIED))
        resume(c);
    return 0;
}

/* ----- The waiter's ops ----- */

static void coro_yield(weft_waiter_t *w)
{
    struct coro *c = w->data;
    if (weft_loop_call_soon(c->loop, run_task, c, NULL) == 0)
        suspend(c);
}

static void coro_wait(weft_waiter_t *w, int64_t deadline)
{
    struct coro *c = w->data;
    if (atomic_load_explicit(&weft__waiter(w)->state, memory_order_acquire))
        return;
    int armed = 0;
    if (deadline != WEFT_NEVER) {
        if (weft_loop_call_at_ns(c->loop, deadline, on_deadline, c,
                                 &c->timer) != 0) {
            coro_yield(w); /* no timer: come back soon and look again */
            return;
        }
        armed = 1;
    }
    atomic_store(&c->run, RUN_PARKED);
    uint32_t parked = RUN_PARKED;
    if (atomic_load(&weft__waiter(w)->state) == 0 ||
        !atomic_compare_exchange_strong(&c->run, &parked, RUN_RUNNING))
        suspend(c);
    if (armed)
        weft_handle_cancel(&c->timer);
}

static void coro_wake(weft_waiter_t *w, uint32_t bits)
{
    struct coro *c = w->data;
    weft_future_t *f = weft_future_ref(task_of(c));
    atomic_fetch_or(&weft__waiter(w)->state, bits);
    uint32_t parked = RUN_PARKED;
    if (atomic_compare_exchange_strong(&c->run, &parked, RUN_NOTIFIED))
        schedule_woken(c); /* hands on our reference */
    else
        weft_future_free(f);
}

/* Waiting on a descriptor: the loop watches it while the task is parked.
 * The loop runs fd callbacks as it polls (never queued for later), so once
 * the watch is removed the callback cannot reach the frame it points at. */
struct fd_wait {
    struct coro *c;
    int ready;
};

static int fd_ready(void *arg)
{
    struct fd_wait *fw = arg;
    fw->ready = 1;
    coro_wake(&fw->c->waiter, WEFT_WAITER_POKED);
    return 0;
}

static int coro_wait_fd(weft_waiter_t *w, int fd, short events,
                        int64_t deadline)
{
    struct coro *c = w->data;
    struct fd_wait fw = {c, 0};
    int write = (events & POLLOUT) != 0;
    int rc = write ? weft_loop_add_writer(c->loop, fd, fd_ready, &fw)
                   : weft_loop_add_reader(c->loop, fd, fd_ready, &fw);
    if (rc) {
        coro_yield(w); /* cannot watch it: come back soon and look again */
        return 0;
    }
    coro_wait(w, deadline);
    if (write)
        weft_loop_remove_writer(c->loop, fd);
    else
        weft_loop_remove_reader(c->loop, fd);
    return fw.ready;
}

static const weft_waiter_ops_t coro_ops = {coro_wait, coro_wake, coro_yield,
                                           coro_wait_fd};

/* ----- The task's life ----- */

/* A stop request for a running task: wake it so that it looks at its
 * scope, which watches the stop bit. Called with the future's lock held;
 * it only signals. */
static void stop_task(weft_future_t *f)
{
    weft_park_poke(&coro_of(f)->waiter);
}

static const weft_future_class_t task_class = {
    WEFT_FUTURE_SIZE + sizeof(struct coro), NULL, stop_task, NULL};

/* Each loop's tasks: listed until they finish. */
struct home {
    struct coro *head;
    size_t live;
    int closing;
};

static void unlink_task(struct coro *c)
{
    struct home *h = c->home;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    h->live--;
    atomic_fetch_sub(&live_tasks, 1);
}

static void coro_entry(void *arg)
{
    struct coro *c = arg;
    arrived(c);
    weft_future_t *f = task_of(c);
    weft_cancel_scope_init(&c->scope);
    weft_cancel_scope_enter(&c->scope, WEFT_FOREVER, 0);
    weft_cancel_scope_watch(&c->scope, weft_future_stop_word(f),
                            WEFT_FUTURE_STOP_BIT);
    void *result = NULL;
    weft_clear_message();
    int rc = c->fn(c->arg, &result);
    /* The message is this task's until the next switch: keep it. */
    snprintf(c->message, sizeof c->message, "%s", weft_last_message());
    if (weft_cancel_scope_exit(&c->scope) == WEFT_EINVAL)
        weft__waiter(&c->waiter)->scope_ = NULL; /* it left scopes: drop them */
    c->code = rc;
    c->result = result;
    c->finished = 1;
    switch_out(c, 1); /* the loop finishes what is left: the stack */
    abort();          /* a finished task is never resumed */
}

static void finish(struct coro *c)
{
    weft_future_t *f = task_of(c);
#ifdef WEFT_TSAN
    __tsan_destroy_fiber(c->san_fiber);
#endif
    weft__stack_put(c->stack);
    c->stack = NULL;
    unlink_task(c);
    if (c->code == 0) {
        weft_future_set_result(f, c->result);
    } else {
        if (c->message[0])
            weft_fail(c->code, "%s", c->message);
        else
            weft_clear_message();
        weft_future_finish(f, c->code, NULL);
    }
    weft_future_free(f);
}

static int start_task(void *arg)
{
    struct coro *c = arg;
    weft_future_t *f = task_of(c);
    if (!weft_future_try_start(f)) { /* cancelled before it started */
        unlink_task(c);
        weft_future_free(f);
        return 0;
    }
    c->stack = weft__stack_get(c->stack_size);
    if (c->stack == NULL) {
        unlink_task(c);
        weft_future_finish(f, WEFT_ENOMEM, NULL);
        weft_future_free(f);
        return 0;
    }
    weft__ctx_make(&c->ctx, c->stack->lo, c->stack->size, coro_entry, c);
#ifdef WEFT_TSAN
    c->san_fiber = __tsan_create_fiber(0);
#endif
    resume(c);
    return 0;
}

/* ----- Each loop's home ----- */

static int no_tasks(void *arg)
{
    return ((struct home *)arg)->live == 0;
}

/* asyncio.run's clean-up: cancel what is left and let it finish. */
static void home_close(weft_loop_t *loop, void *state)
{
    struct home *h = state;
    h->closing = 1;
    for (struct coro *c = h->head, *next; c; c = next) {
        next = c->next;
        weft_task_cancel(task_of(c));
    }
    if (h->live)
        weft_loop_run_until(loop, no_tasks, h);
}

static const weft_loop_service_t home_service = {"coro", home_close, free};

static struct home *home_of(weft_loop_t *loop)
{
    struct home *h = weft_loop_service(loop, &home_service);
    if (h)
        return h;
    h = calloc(1, sizeof *h);
    if (h == NULL) {
        weft_fail(WEFT_ENOMEM, "task: no memory");
        return NULL;
    }
    if (weft_loop_attach_service(loop, &home_service, h) != 0) {
        free(h);
        return NULL;
    }
    return h;
}

/* ----- Creating ----- */

static int resolve_loop(weft_loop_t **loop)
{
    if (*loop)
        return 0;
    *loop = weft_loop_running();
    return *loop ? 0 : weft_loop_default(loop);
}

static int check_create(weft_fn fn, const weft_task_opts_t *opts, size_t *stack)
{
    if (fn == NULL)
        return weft_fail(WEFT_EINVAL, "create_task: NULL function");
    *stack =
        opts && opts->stack_size ? opts->stack_size : WEFT_TASK_STACK_DEFAULT;
    if (*stack < WEFT_TASK_STACK_MIN)
        return weft_fail(WEFT_EINVAL,
                         "create_task: a stack of %zu bytes "
                         "is below the minimum of %d",
                         *stack, WEFT_TASK_STACK_MIN);
    return 0;
}

static void link_task(struct home *h, struct coro *c)
{
    c->home = h;
    c->next = h->head;
    if (h->head)
        h->head->prev = c;
    h->head = c;
    h->live++;
    atomic_fetch_add(&live_tasks, 1);
}

int weft_task_create_opts(weft_future_t **out, weft_loop_t *loop, weft_fn fn,
                          void *arg, const weft_task_opts_t *opts)
{
    size_t stack = 0;
    int rc = check_create(fn, opts, &stack);
    if (rc == 0)
        rc = resolve_loop(&loop);
    if (rc == 0)
        rc = weft_loop_check_thread(loop, "weft_task_create");
    if (rc)
        return rc;
    struct home *h = home_of(loop);
    if (h == NULL)
        return WEFT_ENOMEM;
    if (h->closing)
        return weft_fail(WEFT_ECLOSED, "create_task: the loop is closing");
    weft_future_t *f;
    rc = weft_future_new_of(&f, &task_class, 2);
    if (rc)
        return rc;
    struct coro *c = coro_of(f);
    weft_waiter_init(&c->waiter, &coro_ops, c);
    c->loop = loop;
    c->fn = fn;
    c->arg = arg;
    c->stack_size = stack;
    link_task(h, c);
    rc = weft_loop_call_soon(loop, start_task, c, NULL);
    if (rc) {
        unlink_task(c);
        weft_future_free(f);
        weft_future_free(f);
        return rc;
    }
    if (out)
        *out = f;
    else
        weft_future_free(f);
    return 0;
}

int weft_task_create(weft_future_t **out, weft_loop_t *loop, weft_fn fn,
                     void *arg)
{
    return weft_task_create_opts(out, loop, fn, arg, NULL);
}

/* ----- Questions and requests ----- */

int weft_task_is_task(const weft_future_t *f)
{
    WEFT_REFUSE_NULL_OR(f, 0);
    return f && weft_future_class_of(f) == &task_class;
}

int weft_task_cancel(weft_future_t *task)
{
    if (task == NULL)
        return weft_fail(WEFT_EINVAL, "cancel: NULL task");
    if (weft_future_done(task))
        return weft_fail(WEFT_ESTATE, "cancel: the task has finished");
    int rc = weft_future_stop(task);
    if (rc == 0 && weft_task_is_task(task)) {
        atomic_fetch_add(&coro_of(task)->cancels, 1);
        /* A task that had not started never will: this layer, its owner,
         * has seen the cancel, so weft_wait() may count it at once. */
        if (weft_future_cancelled(task))
            weft_future_try_start(task);
    }
    return rc;
}

unsigned weft_task_cancelling(const weft_future_t *task)
{
    WEFT_REFUSE_NULL_OR(task, 0);
    if (!weft_task_is_task(task))
        return 0;
    return atomic_load(&coro_of((weft_future_t *)task)->cancels);
}

weft_future_t *weft_task_current(void)
{
    return sched.current ? task_of(sched.current) : NULL;
}

void weft_coro_stats(weft_coro_stats_t *out)
{
    WEFT_REFUSE_NULL_OR(out, );
    out->live_tasks = atomic_load(&live_tasks);
    weft__stack_stats(out);
}

/* ----- asyncio.run ----- */

int weft_run(weft_fn fn, void *arg, void **result)
{
    weft_loop_t *loop;
    int rc = weft_loop_new(&loop);
    if (rc)
        return rc;
    weft_future_t *f;
    rc = weft_task_create(&f, loop, fn, arg);
    if (rc) {
        weft_loop_free(loop);
        return rc;
    }
    rc = weft_loop_run_until_complete(loop, f, result);
    weft_error_info_t why;
    weft_error_capture(&why, rc);
    weft_loop_free(loop);
    weft_future_free(f);
    if (rc)
        weft_fail(rc, "%s", why.message);
    return rc;
}
