/* SPDX-License-Identifier: MIT */
/* Tasks: running, results and errors, the blocking calls of weft inside
 * tasks (sleep, futures, Lock, Event, Semaphore, Condition), many tasks at
 * once, and tasks nobody holds. */
#include "testing.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add_one(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg + 1);
    return 0;
}

static void
a_task_runs_on_the_loop_and_its_future_holds_the_result(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *f;
    assert_int_equal(weft_task_create(&f, loop, add_one, (void *)41), 0);
    assert_true(weft_task_is_task(f));
    assert_false(weft_future_done(f)); /* it starts with the loop */
    void *r = NULL;
    assert_int_equal(weft_loop_run_until_complete(loop, f, &r), 0);
    assert_ptr_equal(r, (void *)42);
    weft_future_free(f);
    weft_loop_free(loop);
}

static int fail_task(void *arg, void **result)
{
    weft_sleep(0.001);
    return weft_fail(WEFT_EUSER + 3, "task %s failed", (const char *)arg);
}

static void
a_failing_task_leaves_its_code_and_message_in_the_future(void **state)
{
    assert_fails_with(weft_run(fail_task, "seven", NULL), WEFT_EUSER + 3,
                      "task seven failed");
}

/* How many tasks are asleep now, and the most at once: concurrency shown
 * by overlap, which no load on the machine can fake or hide. */
struct overlap {
    double seconds;
    int asleep, most;
};

static void fall_asleep(struct overlap *o)
{
    if (++o->asleep > o->most) /* one loop thread: no race */
        o->most = o->asleep;
}

static int sleeper(void *arg, void **result)
{
    struct overlap *o = arg;
    fall_asleep(o);
    double t0 = weft_monotonic();
    int rc = weft_sleep(o->seconds);
    o->asleep--;
    *result = (void *)(intptr_t)((weft_monotonic() - t0) * 1000);
    return rc;
}

static void sleeping_tasks_overlap_instead_of_adding_up(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct overlap o = {0.1, 0, 0};
    weft_future_t *fs[5];
    for (int i = 0; i < 5; i++)
        assert_int_equal(weft_task_create(&fs[i], loop, sleeper, &o), 0);
    double t0 = weft_monotonic();
    for (int i = 0; i < 5; i++)
        assert_int_equal(weft_loop_run_until_complete(loop, fs[i], NULL), 0);
    assert_true(weft_monotonic() - t0 >= 0.1);
    assert_int_equal(o.most, 5); /* all five slept at once */
    for (int i = 0; i < 5; i++) {
        void *ms = NULL;
        assert_int_equal(weft_future_result(fs[i], 0, &ms), 0);
        assert_true((intptr_t)ms >= 100);
        weft_future_free(fs[i]);
    }
    weft_loop_free(loop);
}

/* ----- Ten thousand tasks ----- */

struct crowd {
    _Atomic int done;
    int asleep, most; /* on the loop's thread only */
    int n;            /* the crowd's size */
    weft_event_t all_in; /* set by the last task to start */
};

static int sleep_then_count(void *arg, void **result)
{
    struct crowd *c = arg;
    if (++c->asleep > c->most)
        c->most = c->asleep;
    /* Every task waits until the last one has started: tasks run one
     * after another (no concurrency) would leave the first waiting, and
     * the wait would time out. */
    if (c->asleep == c->n)
        weft_event_set(&c->all_in);
    int rc = weft_event_wait(&c->all_in, 60.0 * testing_scale());
    if (rc == 0)
        rc = weft_sleep(0.05 + (rand() % 50) / 1000.0);
    c->asleep--;
    if (rc)
        return WEFT_ECANCELLED;
    atomic_fetch_add(&c->done, 1);
    return 0;
}

/* ThreadSanitizer counts each coroutine's fiber as a thread and stops at
 * 8128 of them: under it, the crowd is smaller. */
#ifdef WEFT_TSAN
enum { CROWD = 1000 };
#else
enum { CROWD = 10000 };
#endif

static int spawn_crowd(void *arg, void **result)
{
    enum { N = CROWD };
    weft_future_t **fs = calloc(N, sizeof *fs);
    for (int i = 0; i < N; i++)
        if (weft_task_create(&fs[i], NULL, sleep_then_count, arg))
            return WEFT_ENOMEM;
    int rc = weft_gather(fs, N, 0, NULL, NULL);
    for (int i = 0; i < N; i++)
        weft_future_free(fs[i]);
    free(fs);
    *result = (void *)(intptr_t)N;
    return rc;
}

static void ten_thousand_concurrent_tasks_each_sleep_and_complete(void **state)
{
    struct crowd c = {.n = CROWD};
    weft_event_init(&c.all_in);
    void *n = NULL;
    double t0 = weft_monotonic();
    assert_int_equal(weft_run(spawn_crowd, &c, &n), 0);
    assert_int_equal(atomic_load(&c.done), (int)(intptr_t)n);
    assert_true(weft_monotonic() - t0 >= 0.05);
    /* Concurrent, not one after another: every task was in flight at once
     * (the last to start released the others). */
    assert_int_equal(c.most, (int)(intptr_t)n);
    weft_event_destroy(&c.all_in);
    weft_coro_stats_t st;
    weft_coro_stats(&st);
    assert_int_equal(st.live_tasks, 0);
    assert_true(st.stacks_pooled > 0);
}

/* ----- Waiting on sync primitives and futures ----- */

struct shared {
    weft_lock_t lock;
    weft_semaphore_t sem;
    weft_event_t event;
    weft_condition_t cond;
    int inside, max_inside, counter, ready;
};

static int locker(void *arg, void **result)
{
    struct shared *s = arg;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(weft_lock_acquire(&s->lock, WEFT_FOREVER), 0);
        int v = s->counter;
        weft_sleep(0); /* let the others run while the lock is held */
        s->counter = v + 1;
        weft_lock_release(&s->lock);
    }
    return 0;
}

static int limited(void *arg, void **result)
{
    struct shared *s = arg;
    assert_int_equal(weft_semaphore_acquire(&s->sem, WEFT_FOREVER), 0);
    if (++s->inside > s->max_inside)
        s->max_inside = s->inside;
    weft_sleep(0.01);
    s->inside--;
    weft_semaphore_release(&s->sem, 1);
    return 0;
}

static int event_waiter(void *arg, void **result)
{
    struct shared *s = arg;
    return weft_event_wait(&s->event, 10.0 * testing_scale());
}

static int cond_waiter(void *arg, void **result)
{
    struct shared *s = arg;
    weft_condition_acquire(&s->cond, WEFT_FOREVER);
    while (!s->ready) {
        int rc = weft_condition_wait(&s->cond, WEFT_FOREVER);
        if (rc) {
            weft_condition_release(&s->cond);
            return rc;
        }
    }
    weft_condition_release(&s->cond);
    return 0;
}

static int setter(void *arg, void **result)
{
    struct shared *s = arg;
    weft_sleep(0.02);
    weft_event_set(&s->event);
    weft_condition_acquire(&s->cond, WEFT_FOREVER);
    s->ready = 1;
    weft_condition_notify_all(&s->cond);
    weft_condition_release(&s->cond);
    return 0;
}

static void
locks_events_semaphores_and_conditions_suspend_only_the_task(void **state)
{
    struct shared s;
    memset(&s, 0, sizeof s);
    weft_lock_init(&s.lock);
    weft_semaphore_init(&s.sem, 2);
    weft_event_init(&s.event);
    weft_condition_init(&s.cond);
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *fs[16];
    int n = 0;
    for (int i = 0; i < 4; i++)
        weft_task_create(&fs[n++], loop, locker, &s);
    for (int i = 0; i < 6; i++)
        weft_task_create(&fs[n++], loop, limited, &s);
    for (int i = 0; i < 2; i++)
        weft_task_create(&fs[n++], loop, event_waiter, &s);
    for (int i = 0; i < 2; i++)
        weft_task_create(&fs[n++], loop, cond_waiter, &s);
    weft_task_create(&fs[n++], loop, setter, &s);
    for (int i = 0; i < n; i++)
        assert_int_equal(weft_loop_run_until_complete(loop, fs[i], NULL), 0);
    assert_int_equal(s.counter, 400);
    assert_int_equal(s.max_inside, 2);
    for (int i = 0; i < n; i++)
        weft_future_free(fs[i]);
    weft_loop_free(loop);
    weft_condition_destroy(&s.cond);
}

struct pipeline {
    weft_queue_t *q;
    long sum;
};

static int producer(void *arg, void **result)
{
    struct pipeline *p = arg;
    for (long i = 1; i <= 100; i++)
        if (weft_queue_put(p->q, (void *)i, WEFT_FOREVER))
            return WEFT_ECANCELLED;
    return weft_queue_put(p->q, NULL, WEFT_FOREVER); /* the end */
}

static int consumer(void *arg, void **result)
{
    struct pipeline *p = arg;
    for (;;) {
        void *item;
        int rc = weft_queue_get(p->q, &item, WEFT_FOREVER);
        if (rc || item == NULL)
            return rc;
        p->sum += (long)item;
    }
}

static void tasks_pass_items_through_a_small_queue(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct pipeline p = {NULL, 0};
    assert_int_equal(weft_queue_new(&p.q, 2), 0); /* puts wait for room */
    weft_future_t *c, *pr;
    weft_task_create(&c, loop, consumer, &p);
    weft_task_create(&pr, loop, producer, &p);
    assert_int_equal(weft_loop_run_until_complete(loop, c, NULL), 0);
    assert_int_equal(weft_loop_run_until_complete(loop, pr, NULL), 0);
    assert_int_equal(p.sum, 5050);
    weft_future_free(c);
    weft_future_free(pr);
    weft_queue_free(p.q);
    weft_loop_free(loop);
}

/* Completes the future once the ticker has ticked three times while the
 * waiter waited (or gives up after 10 s, and the test then fails): the
 * loop must have gone on, whatever the machine's speed. */
struct completer {
    weft_future_t *f;
    _Atomic int *ticks;
};

static void complete_later(void *arg)
{
    struct completer *c = arg;
    double end = weft_monotonic() + 10 * testing_scale();
    while (atomic_load(c->ticks) < 3 && weft_monotonic() < end)
        weft_sleep(0.001);
    weft_future_set_result(c->f, (void *)7);
}

static int wait_future(void *arg, void **result)
{
    return weft_future_result(arg, WEFT_FOREVER, result);
}

static int tick(void *arg, void **result)
{
    _Atomic int *ticks = arg;
    while (weft_sleep(0.005) == 0 && atomic_load(ticks) < 1000)
        atomic_fetch_add(ticks, 1);
    return 0;
}

static void a_task_waits_on_a_future_completed_by_another_thread(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *plain, *waiter, *ticker;
    weft_future_new(&plain);
    _Atomic int ticks = 0;
    weft_task_create(&waiter, loop, wait_future, plain);
    weft_task_create(&ticker, loop, tick, &ticks);
    struct completer c = {plain, &ticks};
    testing_thread_t *t = testing_thread_start(complete_later, &c);
    void *r = NULL;
    assert_int_equal(weft_loop_run_until_complete(loop, waiter, &r), 0);
    assert_ptr_equal(r, (void *)7);
    assert_true(ticks >= 3); /* the loop went on while the task waited */
    testing_thread_join(t);
    weft_task_cancel(ticker);
    weft_loop_run_until_complete(loop, ticker, NULL);
    weft_future_free(ticker);
    weft_future_free(waiter);
    weft_future_free(plain);
    weft_loop_free(loop);
}

/* ----- Ownership ----- */

static int bump_after_sleep(void *arg, void **result)
{
    weft_sleep(0.01);
    (*(int *)arg)++;
    return 0;
}

static void a_task_nobody_references_still_runs_to_completion(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    int count = 0;
    assert_int_equal(weft_task_create(NULL, loop, bump_after_sleep, &count), 0);
    weft_future_t *f;
    struct overlap o = {0.05, 0, 0};
    weft_task_create(&f, loop, sleeper, &o);
    assert_int_equal(weft_loop_run_until_complete(loop, f, NULL), 0);
    assert_int_equal(count, 1);
    weft_future_free(f);
    weft_loop_free(loop);
}

static int sleep_long(void *arg, void **result)
{
    int rc = weft_sleep(30);
    *(int *)arg = rc;
    return rc;
}

static void freeing_the_loop_cancels_and_finishes_the_tasks_left(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    int seen = -1, never = -1;
    weft_future_t *f, *g;
    weft_task_create(&f, loop, sleep_long, &seen);
    weft_task_create(&g, loop, sleep_long, &never);
    /* f starts and sleeps; g is cancelled before it ever starts. */
    weft_future_t *tick_f;
    weft_task_create(&tick_f, loop, bump_after_sleep, &(int){0});
    weft_loop_run_until_complete(loop, tick_f, NULL);
    weft_future_free(tick_f);
    weft_loop_free(loop);
    /* Cancelled in its sleep of 30 s, not left to finish it. */
    assert_int_equal(seen, WEFT_ECANCELLED);
    assert_true(weft_future_cancelled(f));
    assert_true(weft_future_done(g));
    weft_future_free(f);
    weft_future_free(g);
}

static int who_am_i(void *arg, void **result)
{
    *result = weft_task_current();
    return 0;
}

static void current_task_names_the_running_task(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    assert_null(weft_task_current());
    weft_future_t *f;
    weft_task_create(&f, loop, who_am_i, NULL);
    void *r = NULL;
    weft_loop_run_until_complete(loop, f, &r);
    assert_ptr_equal(r, f);
    weft_future_free(f);
    weft_loop_free(loop);
}

static void bad_arguments_are_refused_with_a_message(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_future_t *f;
    assert_fails_with(weft_task_create(&f, loop, NULL, NULL), WEFT_EINVAL,
                      "NULL function");
    weft_task_opts_t small = {1024};
    assert_fails_with(weft_task_create_opts(&f, loop, add_one, NULL, &small),
                      WEFT_EINVAL, "below the minimum");
    assert_fails_with(weft_task_cancel(NULL), WEFT_EINVAL, "NULL");
    weft_loop_free(loop);
}

static int deep(int n)
{
    volatile char pad[1024];
    pad[0] = (char)n;
    return n == 0 ? pad[0] : deep(n - 1) + pad[0];
}

static int use_stack(void *arg, void **result)
{
    *result = (void *)(intptr_t)deep(200);
    return 0;
}

static void a_task_may_ask_for_a_larger_stack(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_task_opts_t big = {1024 * 1024};
    weft_future_t *f;
    assert_int_equal(weft_task_create_opts(&f, loop, use_stack, NULL, &big), 0);
    assert_int_equal(weft_loop_run_until_complete(loop, f, NULL), 0);
    weft_future_free(f);
    weft_loop_free(loop);
}

/* The offloaded call blocks its worker thread (usleep, which no task
 * scheduler can turn into a suspension) until a task on the loop has
 * ticked three times: only a loop left free to run can release it; a loop
 * blocked by the call leaves it to time out. */
struct offloaded {
    _Atomic int ticks;
};

static int blocking_work(void *arg, void **result)
{
    struct offloaded *o = arg;
    double end = weft_monotonic() + 10.0 * testing_scale();
    while (atomic_load(&o->ticks) < 3)
        if (weft_monotonic() > end)
            return weft_fail(WEFT_ETIMEDOUT, "the loop did not tick");
        else
            usleep(1000);
    *result = (void *)9;
    return 0;
}

static int offload(void *arg, void **result)
{
    weft_future_t *f;
    int rc = weft_loop_run_in_executor(weft_loop_running(), NULL, blocking_work,
                                       arg, &f);
    if (rc)
        return rc;
    rc = weft_future_result(f, WEFT_FOREVER, result);
    weft_future_free(f);
    return rc;
}

static int tick_on(void *arg, void **result)
{
    struct offloaded *o = arg;
    while (weft_sleep(0.005) == 0)
        atomic_fetch_add(&o->ticks, 1);
    return 0;
}

static void
run_in_executor_lets_the_loop_run_while_a_thread_blocks(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct offloaded o = {.ticks = 0};
    weft_future_t *f, *ticker;
    weft_task_create(&f, loop, offload, &o);
    weft_task_create(&ticker, loop, tick_on, &o);
    void *r = NULL;
    assert_int_equal(weft_loop_run_until_complete(loop, f, &r), 0);
    assert_ptr_equal(r, (void *)9);
    assert_true(o.ticks >= 3);
    weft_task_cancel(ticker);
    weft_loop_run_until_complete(loop, ticker, NULL);
    weft_future_free(ticker);
    weft_future_free(f);
    weft_loop_free(loop);
}

/* ----- Tasks that only yield to each other ----- */

/* Tasks passing control straight to each other, iteration after iteration,
 * must still let the loop look at I/O, at its timers and at other threads'
 * callbacks, and notice that its wait is over, as soon as asyncio would:
 * I/O within the 64 iterations between two looks, the others within an
 * iteration or two (a few tasks' turns). */
struct turns {
    weft_loop_t *loop;
    _Atomic int stop;
    long turns;
    double give_up; /* a spinner stops by itself then: the loop starved */
    int fds[2];
    weft_future_t *ended;
    _Atomic int posted;
    long asked, timer_at, queued_at, ended_at;
};

static int spinner(void *arg, void **result)
{
    struct turns *t = arg;
    while (!atomic_load(&t->stop) && weft_monotonic() < t->give_up) {
        assert_int_equal(weft_sleep(0), 0);
        t->turns++;
    }
    return 0;
}

static void start_spinners(struct turns *t, weft_future_t **fs, int n)
{
    assert_int_equal(weft_loop_new(&t->loop), 0);
    assert_int_equal(weft_future_new(&t->ended), 0);
    t->give_up = weft_monotonic() + 5.0;
    for (int i = 0; i < n; i++)
        assert_int_equal(weft_task_create(&fs[i], t->loop, spinner, t), 0);
}

static void stop_spinners(struct turns *t, weft_future_t **fs, int n)
{
    atomic_store(&t->stop, 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(weft_loop_run_until_complete(t->loop, fs[i], NULL), 0);
        weft_future_free(fs[i]);
    }
    weft_future_free(t->ended);
    weft_loop_free(t->loop);
}

static int on_readable(void *arg)
{
    struct turns *t = arg;
    char c;
    assert_int_equal(read(t->fds[0], &c, 1), 1);
    weft_loop_remove_reader(t->loop, t->fds[0]);
    return weft_future_set_result(t->ended, NULL);
}

static void *write_later(void *arg)
{
    struct turns *t = arg;
    usleep(20000);
    assert_int_equal(write(t->fds[1], "x", 1), 1);
    return NULL;
}

static void yielding_tasks_still_let_the_loop_look_at_io(void **state)
{
    struct turns t = {0};
    weft_future_t *fs[2];
    start_spinners(&t, fs, 2);
    assert_int_equal(pipe(t.fds), 0);
    assert_int_equal(weft_loop_add_reader(t.loop, t.fds[0], on_readable, &t),
                     0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_later, &t), 0);
    assert_int_equal(weft_loop_run_until_complete(t.loop, t.ended, NULL), 0);
    assert_true(weft_monotonic() < t.give_up);
    pthread_join(th, NULL);
    close(t.fds[0]);
    close(t.fds[1]);
    stop_spinners(&t, fs, 2);
}

static int timer_ran(void *arg)
{
    struct turns *t = arg;
    t->timer_at = t->turns;
    return 0;
}

static int queued_ran(void *arg)
{
    struct turns *t = arg;
    t->queued_at = t->turns;
    return 0;
}

static void *post_from_thread(void *arg)
{
    struct turns *t = arg;
    assert_int_equal(weft_loop_call_soon_threadsafe(t->loop, queued_ran, t), 0);
    atomic_store(&t->posted, 1);
    return NULL;
}

static void yield_times(int n)
{
    for (int i = 0; i < n; i++)
        weft_sleep(0);
}

static int asker(void *arg, void **result)
{
    struct turns *t = arg;
    yield_times(100);
    t->asked = t->turns;
    weft_loop_call_later(t->loop, 0, timer_ran, t, NULL);
    yield_times(100);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_from_thread, t), 0);
    while (!atomic_load(&t->posted))
        weft_sleep(0);
    long posted_at = t->turns;
    yield_times(100);
    pthread_join(th, NULL);
    assert_true(t->queued_at > 0 && t->queued_at <= posted_at + 8);
    t->ended_at = t->turns;
    assert_int_equal(weft_future_set_result(t->ended, NULL), 0);
    yield_times(100);
    return 0;
}

static int reached(void *arg)
{
    struct turns *t = arg;
    return t->turns >= t->ended_at;
}

static void
yielding_tasks_let_the_loop_in_within_an_iteration_or_two(void **state)
{
    struct turns t = {0};
    weft_future_t *fs[3];
    start_spinners(&t, fs, 2);
    assert_int_equal(weft_task_create(&fs[2], t.loop, asker, &t), 0);
    assert_int_equal(weft_loop_run_until_complete(t.loop, t.ended, NULL), 0);
    assert_in_range(t.turns - t.ended_at, 0, 8);
    assert_in_range(t.timer_at - t.asked, 1, 8);
    /* And a wait of weft_loop_run_until, with only the spinners left. */
    assert_int_equal(weft_loop_run_until_complete(t.loop, fs[2], NULL), 0);
    t.ended_at = t.turns + 300;
    assert_int_equal(weft_loop_run_until(t.loop, reached, &t), 0);
    assert_in_range(t.turns - t.ended_at, 0, 8);
    stop_spinners(&t, fs, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            a_task_runs_on_the_loop_and_its_future_holds_the_result),
        cmocka_unit_test(
            a_failing_task_leaves_its_code_and_message_in_the_future),
        cmocka_unit_test(sleeping_tasks_overlap_instead_of_adding_up),
        cmocka_unit_test(ten_thousand_concurrent_tasks_each_sleep_and_complete),
        cmocka_unit_test(
            locks_events_semaphores_and_conditions_suspend_only_the_task),
        cmocka_unit_test(tasks_pass_items_through_a_small_queue),
        cmocka_unit_test(a_task_waits_on_a_future_completed_by_another_thread),
        cmocka_unit_test(a_task_nobody_references_still_runs_to_completion),
        cmocka_unit_test(freeing_the_loop_cancels_and_finishes_the_tasks_left),
        cmocka_unit_test(current_task_names_the_running_task),
        cmocka_unit_test(bad_arguments_are_refused_with_a_message),
        cmocka_unit_test(a_task_may_ask_for_a_larger_stack),
        cmocka_unit_test(
            run_in_executor_lets_the_loop_run_while_a_thread_blocks),
        cmocka_unit_test(yielding_tasks_still_let_the_loop_look_at_io),
        cmocka_unit_test(
            yielding_tasks_let_the_loop_in_within_an_iteration_or_two),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
