/* SPDX-License-Identifier: MIT */
/* thread: the registry (current_thread, main_thread, active_count,
 * enumerate, dummy entries, fork). */
#include "testing.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int wait_for_event(void *arg, void **result)
{
    return weft_event_wait(arg, WEFT_FOREVER);
}

static void the_main_thread_is_MainThread_and_current_here(void **state)
{
    weft_thread_t *m = weft_main_thread();
    assert_non_null(m);
    assert_ptr_equal(weft_current_thread(), m);
    assert_string_equal(weft_thread_name(m), "MainThread");
    assert_true(weft_thread_is_alive(m));
    assert_false(weft_thread_daemon(m));
    assert_true(weft_thread_ident(m) == weft_get_ident());
    assert_true(weft_thread_native_id(m) == (uint64_t)getpid());
    assert_true(weft_get_native_id() == (uint64_t)getpid());
    assert_fails_with(weft_thread_result(m, NULL), WEFT_ESTATE,
                      "has not finished");
}

struct seen {
    weft_thread_t *current, *main;
};

static int look_around(void *arg, void **result)
{
    struct seen *s = arg;
    s->current = weft_current_thread();
    s->main = weft_main_thread();
    return 0;
}

static void a_weft_thread_sees_itself_and_the_main_thread(void **state)
{
    struct seen s = {NULL, NULL};
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, look_around, &s, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_ptr_equal(s.current, t);
    assert_ptr_equal(s.main, weft_main_thread());
    weft_thread_free(t);
}

static void live_threads_are_listed_in_start_order_main_first(void **state)
{
    size_t base = weft_active_count();
    assert_int_equal(base, 1);
    weft_event_t go;
    weft_event_init(&go);
    weft_thread_t *t[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(weft_thread_new(&t[i], wait_for_event, &go, NULL), 0);
        assert_int_equal(weft_thread_start(t[i]), 0);
        assert_int_equal(weft_active_count(), base + 1 + (size_t)i);
    }
    weft_thread_t **list;
    size_t n;
    assert_int_equal(weft_enumerate(&list, &n), 0);
    assert_int_equal(n, 4);
    assert_ptr_equal(list[0], weft_main_thread());
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(list[i + 1], t[i]);
    weft_thread_list_free(list, n);
    weft_event_set(&go);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(weft_thread_join(t[i], WEFT_FOREVER), 0);
        weft_thread_free(t[i]);
    }
    assert_int_equal(weft_active_count(), base);
    assert_fails_with(weft_enumerate(NULL, &n), WEFT_EINVAL, "NULL");
    assert_fails_with(weft_enumerate(&list, NULL), WEFT_EINVAL, "NULL");
}

struct foreigner {
    weft_event_t entered, leave;
    weft_thread_t *entry;
    char name[32];
};

static void be_foreign(void *arg)
{
    struct foreigner *f = arg;
    f->entry = weft_thread_ref(weft_current_thread());
    assert_ptr_equal(weft_current_thread(), f->entry);
    snprintf(f->name, sizeof f->name, "%s", weft_thread_name(f->entry));
    weft_event_set(&f->entered);
    weft_event_wait(&f->leave, WEFT_FOREVER);
}

static void a_foreign_thread_is_a_dummy_until_it_exits(void **state)
{
    size_t base = weft_active_count();
    struct foreigner f;
    weft_event_init(&f.entered);
    weft_event_init(&f.leave);
    testing_thread_t *p = testing_thread_start(be_foreign, &f);
    weft_event_wait(&f.entered, WEFT_FOREVER);
    unsigned n;
    assert_int_equal(sscanf(f.name, "Dummy-%u", &n), 1);
    assert_true(weft_thread_daemon(f.entry));
    assert_true(weft_thread_is_alive(f.entry));
    assert_int_equal(weft_active_count(), base + 1);
    weft_event_set(&f.leave);
    testing_thread_join(p);
    assert_false(weft_thread_is_alive(f.entry));
    assert_int_equal(weft_active_count(), base);
    weft_thread_free(f.entry);
}

/* Python 3.13: "cannot join a dummy thread", at once, whatever the
 * timeout, while it runs and after it has exited; a bad timeout is still
 * refused first. */
static void joining_a_thread_weft_did_not_start_is_an_error(void **state)
{
    struct foreigner f;
    weft_event_init(&f.entered);
    weft_event_init(&f.leave);
    testing_thread_t *p = testing_thread_start(be_foreign, &f);
    weft_event_wait(&f.entered, WEFT_FOREVER);
    /* Bounded first, so that a join that would wait fails the test
     * (with WEFT_ETIMEDOUT) rather than hang it. */
    assert_fails_with(weft_thread_join(f.entry, 0), WEFT_ESTATE,
                      "cannot join a dummy thread");
    assert_fails_with(weft_thread_join(f.entry, 5), WEFT_ESTATE,
                      "cannot join a dummy thread");
    assert_fails_with(weft_thread_join(f.entry, WEFT_FOREVER), WEFT_ESTATE,
                      "cannot join a dummy thread");
    assert_fails_with(weft_thread_join(f.entry, -5), WEFT_EINVAL, "timeout");
    assert_true(weft_thread_is_alive(f.entry));
    weft_event_set(&f.leave);
    testing_thread_join(p);
    assert_fails_with(weft_thread_join(f.entry, WEFT_FOREVER), WEFT_ESTATE,
                      "cannot join a dummy thread");
    weft_thread_free(f.entry);
}

/* What a thread's exit destructors see. The pthread key is made here,
 * after weft's own (an earlier test made the dummy's), so that its
 * destructor runs after weft's in each round: the worst order. */
struct late {
    weft_thread_t *me;
    char name[32];
    int local_ok, key_ok;
    weft_event_t key_ran;
};

static weft_local_t *late_local;
static pthread_key_t late_key;

static int sees_itself(const struct late *l)
{
    /* The entry first: reading a freed one is what the sanitizers catch. */
    int named = strcmp(weft_thread_name(l->me), l->name) == 0;
    return named && weft_current_thread() == l->me;
}

static void late_local_destructor(void *p)
{
    struct late *l = p;
    l->local_ok = sees_itself(l);
}

static void late_key_destructor(void *p)
{
    struct late *l = p;
    l->key_ok = sees_itself(l);
    weft_event_set(&l->key_ran);
}

static void make_late_slots(void)
{
    if (late_local == NULL) {
        assert_int_equal(weft_local_new(&late_local, late_local_destructor),
                         0);
        assert_int_equal(pthread_key_create(&late_key, late_key_destructor),
                         0);
    }
}

static void leave_late_work(struct late *l)
{
    l->me = weft_current_thread();
    snprintf(l->name, sizeof l->name, "%s", weft_thread_name(l->me));
    assert_int_equal(weft_local_set(late_local, l), 0);
    pthread_setspecific(late_key, l);
}

static void be_foreign_and_leave_late_work(void *arg)
{
    leave_late_work(arg);
}

/* The entry weft_current_thread() gave a thread it did not start stays
 * valid, and stays that thread's, while the thread's thread-local
 * destructors run (weft's and other libraries'), and is released after. */
static void a_dummy_entry_outlives_its_threads_exit_destructors(void **state)
{
    size_t base = weft_active_count();
    make_late_slots();
    struct late l = {.me = NULL};
    weft_event_init(&l.key_ran);
    testing_thread_join(testing_thread_start(be_foreign_and_leave_late_work,
                                             &l));
    assert_true(strncmp(l.name, "Dummy-", 6) == 0);
    assert_true(l.local_ok);
    assert_true(l.key_ok);
    assert_int_equal(weft_active_count(), base);
}

static int leave_late_work_target(void *arg, void **result)
{
    leave_late_work(arg);
    return 0;
}

/* The same for a weft thread: after its target, its own handle, not a new
 * "Dummy-N" entry, is the current thread until the very end. */
static void a_weft_thread_stays_current_in_its_exit_destructors(void **state)
{
    size_t base = weft_active_count();
    make_late_slots();
    struct late l = {.me = NULL};
    weft_event_init(&l.key_ran);
    weft_thread_t *t;
    weft_thread_opts_t o = {.name = "late-worker"};
    assert_int_equal(weft_thread_new(&t, leave_late_work_target, &l, &o), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    /* join returns once the target and weft's own destructors are done;
     * other libraries' destructors run later, as the pthread ends. */
    assert_int_equal(weft_event_wait(&l.key_ran, 10 * testing_scale()), 0);
    assert_ptr_equal(l.me, t);
    assert_string_equal(l.name, "late-worker");
    assert_true(l.local_ok);
    assert_true(l.key_ok);
    assert_int_equal(weft_active_count(), base);
    weft_thread_free(t);
}

static void ask_who_i_am(void *arg, unsigned i)
{
    assert_non_null(weft_current_thread());
}

static void foreign_threads_that_come_and_go_leave_nothing(void **state)
{
    size_t base = weft_active_count();
    for (int round = 0; round < 20; round++)
        testing_run_threads(4, ask_who_i_am, NULL);
    assert_int_equal(weft_active_count(), base);
}

static void dummies_and_threads_share_one_counter(void **state)
{
    struct foreigner f;
    weft_event_init(&f.entered);
    weft_event_init(&f.leave);
    weft_event_set(&f.leave);
    weft_thread_t *before, *after;
    assert_int_equal(weft_thread_new(&before, wait_for_event, NULL, NULL), 0);
    testing_thread_join(testing_thread_start(be_foreign, &f));
    assert_int_equal(weft_thread_new(&after, wait_for_event, NULL, NULL), 0);
    unsigned a, d, b;
    sscanf(weft_thread_name(before), "Thread-%u", &a);
    sscanf(f.name, "Dummy-%u", &d);
    sscanf(weft_thread_name(after), "Thread-%u", &b);
    assert_int_equal(d, a + 1);
    assert_int_equal(b, d + 1);
    weft_thread_free(before);
    weft_thread_free(after);
    weft_thread_free(f.entry);
}

/* ----- fork() ----- */

/* In the child: 0 when the registry holds only the calling thread, as the
 * main thread, and the others read as finished. */
static int child_sees_only_itself(weft_thread_t *const *others, int n)
{
    weft_thread_t **list;
    size_t count;
    if (weft_active_count() != 1 || weft_enumerate(&list, &count) != 0)
        return 1;
    int bad = count != 1 || list[0] != weft_current_thread() ||
              list[0] != weft_main_thread();
    weft_thread_list_free(list, count);
    for (int i = 0; i < n && !bad; i++)
        bad = weft_thread_is_alive(others[i]) ||
              weft_thread_join(others[i], 0) != 0 ||
              weft_thread_result(others[i], NULL) != WEFT_ESTATE ||
              !testing_message_has("did not survive fork()");
    return bad;
}

static int fork_and_check(weft_thread_t *const *others, int n)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_sees_only_itself(others, n));
    int status = -1;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void after_fork_the_child_holds_only_the_forking_thread(void **state)
{
    weft_event_t go;
    weft_event_init(&go);
    weft_thread_t *t[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(weft_thread_new(&t[i], wait_for_event, &go, NULL), 0);
        assert_int_equal(weft_thread_start(t[i]), 0);
    }
    assert_int_equal(fork_and_check(t, 2), 0);
    assert_int_equal(weft_active_count(), 3);
    weft_event_set(&go);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(weft_thread_join(t[i], WEFT_FOREVER), 0);
        weft_thread_free(t[i]);
    }
}

static int fork_from_here(void *arg, void **result)
{
    weft_thread_t *main_thread = weft_main_thread();
    *result = (void *)(intptr_t)fork_and_check(&main_thread, 1);
    return 0;
}

/* Python: a thread it did not start that forks becomes the child's
 * MainThread, no longer a dummy. */
static void fork_from_a_dummy(void *arg)
{
    int *status = arg;
    weft_thread_t *me = weft_current_thread();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        weft_thread_t *m = weft_main_thread();
        int bad = m != me || weft_current_thread() != m ||
                  strcmp(weft_thread_name(m), "MainThread") != 0 ||
                  weft_thread_daemon(m) || !weft_thread_is_alive(m) ||
                  weft_active_count() != 1 ||
                  weft_thread_join(m, 0) != WEFT_EDEADLK;
        _exit(bad);
    }
    waitpid(pid, status, 0);
}

static void a_dummy_that_forks_is_the_childs_MainThread(void **state)
{
    int status = -1;
    testing_thread_join(testing_thread_start(fork_from_a_dummy, &status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void a_thread_that_forks_is_the_childs_main_thread(void **state)
{
    weft_thread_t *t;
    weft_thread_opts_t o = {.name = "forker"};
    assert_int_equal(weft_thread_new(&t, fork_from_here, NULL, &o), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    void *status = (void *)1;
    assert_int_equal(weft_thread_result(t, &status), 0);
    assert_int_equal((intptr_t)status, 0);
    weft_thread_free(t);
    assert_true(weft_thread_is_alive(weft_main_thread()));
}

/* ----- CPython's test_threading ----- */

static int nothing(void *arg, void **result)
{
    return 0;
}

/* test_enumerate_after_join (bpo-1703448): once join() returned, the
 * thread is not listed any more. */
static void python_enumerate_after_join(void **state)
{
    for (int i = 1; i < 100; i++) {
        weft_thread_t *t;
        assert_int_equal(weft_thread_new(&t, nothing, NULL, NULL), 0);
        assert_int_equal(weft_thread_start(t), 0);
        assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
        weft_thread_t **list;
        size_t n;
        assert_int_equal(weft_enumerate(&list, &n), 0);
        for (size_t k = 0; k < n; k++)
            assert_ptr_not_equal(list[k], t);
        weft_thread_list_free(list, n);
        weft_thread_free(t);
    }
}

/* test_is_alive_after_fork: in the child, a thread of the parent is not
 * alive, though it is in the parent. (Python forks while the thread may
 * still be starting; here it waits on an event, so that the fork never
 * lands in the middle of weft's own bookkeeping, which ThreadSanitizer,
 * blind to what fork() orders, would report.) */
static void python_is_alive_after_fork(void **state)
{
    for (int i = 0; i < 20; i++) {
        weft_event_t go;
        weft_event_init(&go);
        weft_thread_t *t;
        assert_int_equal(weft_thread_new(&t, wait_for_event, &go, NULL), 0);
        assert_int_equal(weft_thread_start(t), 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            _exit(weft_thread_is_alive(t) ? 11 : 10);
        assert_true(weft_thread_is_alive(t));
        weft_event_set(&go);
        assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
        int status = 0;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 10);
        weft_thread_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_main_thread_is_MainThread_and_current_here),
        cmocka_unit_test(a_weft_thread_sees_itself_and_the_main_thread),
        cmocka_unit_test(live_threads_are_listed_in_start_order_main_first),
        cmocka_unit_test(a_foreign_thread_is_a_dummy_until_it_exits),
        cmocka_unit_test(joining_a_thread_weft_did_not_start_is_an_error),
        cmocka_unit_test(a_dummy_entry_outlives_its_threads_exit_destructors),
        cmocka_unit_test(a_weft_thread_stays_current_in_its_exit_destructors),
        cmocka_unit_test(foreign_threads_that_come_and_go_leave_nothing),
        cmocka_unit_test(dummies_and_threads_share_one_counter),
        cmocka_unit_test(after_fork_the_child_holds_only_the_forking_thread),
        cmocka_unit_test(a_thread_that_forks_is_the_childs_main_thread),
        cmocka_unit_test(a_dummy_that_forks_is_the_childs_MainThread),
        cmocka_unit_test(python_enumerate_after_join),
        cmocka_unit_test(python_is_alive_after_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
