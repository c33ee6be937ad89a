/* SPDX-License-Identifier: MIT */
/* park: parking, unparking, tokens, order, timeouts, custom waiters. */
#include "testing.h"

#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int say_no(void *ctx)
{
    (void)ctx;
    return 0;
}

static void park_refuses_when_validate_says_no(void **state)
{
    int x = 0;
    weft_park_ops_t ops = {say_no, NULL, NULL};
    assert_int_equal(weft_park(&x, &ops, NULL, WEFT_NEVER, NULL), WEFT_EAGAIN);
}

static void park_times_out_within_bounds(void **state)
{
    int x = 0;
    int64_t dl;
    weft_deadline(0.2, &dl);
    double t0 = weft_monotonic();
    assert_int_equal(weft_park(&x, NULL, NULL, dl, NULL), WEFT_ETIMEDOUT);
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
}

/* Waiters park in a known order; unpark_one must wake them oldest first. */
struct order {
    _Atomic uint32_t parked;
    _Atomic int woken[4];
    _Atomic int next;
    int addr;
};

static void mark_parked(void *ctx)
{
    struct order *o = ctx;
    atomic_fetch_add(&o->parked, 1);
}

static void fifo_parker(void *arg, unsigned i)
{
    struct order *o = arg;
    if (i == 4) {
        /* The waker: wait until all four are queued, then wake one by one,
         * handing out tokens in order. */
        while (atomic_load(&o->parked) != 4)
            weft_sleep(0.001);
        for (unsigned k = 0; k < 4; k++) {
            while (atomic_load(&o->next) != (int)k)
                weft_sleep(0.001);
            uintptr_t token = 100 + k;
            assert_int_equal(weft_unpark_some(&o->addr, 1, token), 1);
        }
        return;
    }
    while (atomic_load(&o->parked) != i)
        weft_sleep(0.001);
    weft_park_ops_t ops = {NULL, mark_parked, NULL};
    uintptr_t token = 0;
    assert_int_equal(weft_park(&o->addr, &ops, o, WEFT_NEVER, &token), 0);
    o->woken[i] = atomic_fetch_add(&o->next, 1);
    assert_int_equal(token, 100 + o->woken[i]);
}

static void unpark_wakes_the_oldest_first(void **state)
{
    struct order o;
    memset(&o, 0, sizeof o);
    testing_run_threads(5, fifo_parker, &o);
    for (int i = 0; i < 4; i++)
        assert_int_equal(o.woken[i], i);
}

struct crowd {
    int addr;
    _Atomic int queued;
    _Atomic int woken;
};

static void count_queued(void *ctx)
{
    struct crowd *c = ctx;
    atomic_fetch_add(&c->queued, 1);
}

static void crowd_member(void *arg, unsigned i)
{
    struct crowd *c = arg;
    if (i == 0) {
        while (atomic_load(&c->queued) != 7)
            weft_sleep(0.001);
        assert_int_equal(weft_unpark_all(&c->addr, 9), 7);
        return;
    }
    weft_park_ops_t ops = {NULL, count_queued, NULL};
    uintptr_t token = 0;
    assert_int_equal(weft_park(&c->addr, &ops, c, WEFT_NEVER, &token), 0);
    assert_int_equal(token, 9);
    atomic_fetch_add(&c->woken, 1);
}

static void unpark_all_wakes_everyone_with_the_token(void **state)
{
    struct crowd c;
    memset(&c, 0, sizeof c);
    testing_run_threads(8, crowd_member, &c);
    assert_int_equal(atomic_load(&c.woken), 7);
    assert_int_equal(weft_unpark_all(&c.addr, 0), 0);
}

static uintptr_t report(void *ctx, weft_unpark_result_t r)
{
    weft_unpark_result_t *out = ctx;
    *out = r;
    return 5;
}

static void unpark_one_reports_what_it_found(void **state)
{
    int addr = 0;
    weft_unpark_result_t r = {9, 9, 9};
    assert_int_equal(weft_unpark_one(&addr, report, &r), 0);
    assert_int_equal(r.unparked, 0);
    assert_int_equal(r.have_more, 0);
}

/* Ping-pong through a word many times: a lost wake-up would hang here. */
struct pingpong {
    _Atomic uint32_t turn;
    int rounds;
};

static void player(void *arg, unsigned me)
{
    struct pingpong *p = arg;
    for (int r = 0; r < p->rounds; r++) {
        uint32_t t;
        while ((t = atomic_load(&p->turn)) % 2 != me)
            weft_park_wait(&p->turn, t, WEFT_NEVER);
        atomic_store(&p->turn, t + 1);
        weft_park_wake(&p->turn, 1);
    }
}

static void no_wake_up_is_lost_in_ping_pong(void **state)
{
    struct pingpong p = {0, 20000};
    testing_run_threads(2, player, &p);
    assert_int_equal(atomic_load(&p.turn), 40000);
}

static void park_wait_returns_at_once_when_the_word_changed(void **state)
{
    _Atomic uint32_t w = 1;
    assert_int_equal(weft_park_wait(&w, 0, WEFT_NEVER), 0);
}

/* A waiter of another kind: sleeps on a pthread condition variable, as a
 * stand-in for the coroutine kind that the coro layer adds. */
struct cv_waiter {
    weft_waiter_t w;
    pthread_mutex_t m;
    pthread_cond_t c;
    _Atomic int waits, wakes;
};

static void cv_wait(weft_waiter_t *w, int64_t deadline)
{
    struct cv_waiter *cw = w->data;
    atomic_fetch_add(&cw->waits, 1);
    pthread_mutex_lock(&cw->m);
    if (weft_waiter_state(w) == 0)
        pthread_cond_wait(&cw->c, &cw->m);
    pthread_mutex_unlock(&cw->m);
    (void)deadline;
}

static void cv_wake(weft_waiter_t *w, uint32_t bits)
{
    struct cv_waiter *cw = w->data;
    atomic_fetch_add(&cw->wakes, 1);
    pthread_mutex_lock(&cw->m);
    weft_waiter_set_state(w, bits);
    pthread_cond_signal(&cw->c);
    pthread_mutex_unlock(&cw->m);
}

static const weft_waiter_ops_t cv_ops = {cv_wait, cv_wake, NULL, NULL};

struct kinds {
    struct cv_waiter cw;
    _Atomic uint32_t go;
};

static void kinds_member(void *arg, unsigned i)
{
    struct kinds *k = arg;
    if (i == 0) {
        weft_waiter_t *prev = weft_park_set_waiter(&k->cw.w);
        assert_ptr_equal(weft_park_current(), &k->cw.w);
        uint64_t id = weft_park_context_id();
        assert_true(id >= (UINT64_C(1) << 32));
        assert_false(weft_park_in_thread());
        while (atomic_load(&k->go) == 0)
            weft_park_wait(&k->go, 0, WEFT_NEVER);
        weft_park_set_waiter(prev == &k->cw.w ? NULL : prev);
        assert_ptr_not_equal(weft_park_current(), &k->cw.w);
        assert_true(weft_park_in_thread());
        /* The thread's own waiter installed by name is still the thread. */
        weft_park_set_waiter(weft_park_current());
        assert_true(weft_park_in_thread());
        weft_park_set_waiter(NULL);
        return;
    }
    weft_sleep(0.05);
    atomic_store(&k->go, 1);
    weft_park_wake(&k->go, 1);
}

static void a_custom_waiter_kind_parks_through_its_own_ops(void **state)
{
    struct kinds k;
    memset(&k, 0, sizeof k);
    pthread_mutex_init(&k.cw.m, NULL);
    pthread_cond_init(&k.cw.c, NULL);
    weft_waiter_init(&k.cw.w, &cv_ops, &k.cw);
    testing_run_threads(2, kinds_member, &k);
    assert_true(atomic_load(&k.cw.wakes) >= 1);
    pthread_mutex_destroy(&k.cw.m);
    pthread_cond_destroy(&k.cw.c);
}

static void context_ids_differ_between_threads(void **state)
{
    uint64_t mine = weft_park_context_id();
    assert_int_equal(mine, (uint64_t)gettid());
}

static void the_table_works_in_a_forked_child(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _Atomic uint32_t w = 0;
        int64_t dl;
        weft_deadline(0.01, &dl);
        int ok = weft_park_wait(&w, 0, dl) == WEFT_ETIMEDOUT &&
                 weft_park_context_id() == (uint64_t)getpid();
        _exit(ok ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void shared_waits_time_out_and_see_changes(void **state)
{
    _Atomic uint32_t w = 0;
    int64_t dl;
    weft_deadline(0.1, &dl);
    double t0 = weft_monotonic();
    assert_int_equal(weft_park_wait_shared(&w, 0, dl), WEFT_ETIMEDOUT);
    assert_elapsed_between(weft_monotonic() - t0, 0.1, 1.0);
    atomic_store(&w, 1);
    assert_int_equal(weft_park_wait_shared(&w, 0, WEFT_NEVER), 0);
    weft_park_wake_shared(&w, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(park_refuses_when_validate_says_no),
        cmocka_unit_test(park_times_out_within_bounds),
        cmocka_unit_test(unpark_wakes_the_oldest_first),
        cmocka_unit_test(unpark_all_wakes_everyone_with_the_token),
        cmocka_unit_test(unpark_one_reports_what_it_found),
        cmocka_unit_test(no_wake_up_is_lost_in_ping_pong),
        cmocka_unit_test(park_wait_returns_at_once_when_the_word_changed),
        cmocka_unit_test(a_custom_waiter_kind_parks_through_its_own_ops),
        cmocka_unit_test(context_ids_differ_between_threads),
        cmocka_unit_test(the_table_works_in_a_forked_child),
        cmocka_unit_test(shared_waits_time_out_and_see_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
