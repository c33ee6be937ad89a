/* SPDX-License-Identifier: MIT */
/* thread: Thread (start, join, result, names, daemon, ids, stack size). */
#include "testing.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Targets with external linkage, so that default names can name them. */
int square(void *arg, void **result);
int square(void *arg, void **result)
{
    intptr_t n = (intptr_t)arg;
    *result = (void *)(n * n);
    return 0;
}

static int fail_with_einval(void *arg, void **result)
{
    return weft_fail(WEFT_EINVAL, "bad input %d", (int)(intptr_t)arg);
}

static int wait_for_event(void *arg, void **result)
{
    return weft_event_wait(arg, WEFT_FOREVER);
}

static void quiet_hook(weft_thread_t *t, const weft_error_info_t *e)
{
}

static void a_thread_runs_its_target_and_leaves_its_result(void **state)
{
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, square, (void *)7, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    void *result = NULL;
    assert_int_equal(weft_thread_result(t, &result), 0);
    assert_int_equal((intptr_t)result, 49);
    weft_thread_free(t);
}

static void default_names_count_up_and_name_the_target(void **state)
{
    weft_thread_t *a, *b, *c;
    weft_thread_opts_t named = {.name = "worker"};
    assert_int_equal(weft_thread_new(&a, square, NULL, NULL), 0);
    assert_int_equal(weft_thread_new(&b, square, NULL, &named), 0);
    assert_int_equal(weft_thread_new(&c, wait_for_event, NULL, NULL), 0);
    unsigned n = 0;
    assert_int_equal(sscanf(weft_thread_name(a), "Thread-%u", &n), 1);
    char want[64];
    snprintf(want, sizeof want, "Thread-%u (square)", n);
    assert_string_equal(weft_thread_name(a), want);
    assert_string_equal(weft_thread_name(b), "worker");
    /* A named thread takes no number; an unknown target gets none. */
    snprintf(want, sizeof want, "Thread-%u", n + 1);
    assert_string_equal(weft_thread_name(c), want);
    weft_thread_free(a);
    weft_thread_free(b);
    weft_thread_free(c);
}

/* Python: Thread(name="") is named as if no name was given. */
static void an_empty_name_gets_the_default_name(void **state)
{
    weft_thread_t *a, *b, *timer;
    weft_thread_opts_t empty = {.name = ""};
    assert_int_equal(weft_thread_new(&a, square, NULL, &empty), 0);
    assert_int_equal(weft_thread_new(&b, wait_for_event, NULL, &empty), 0);
    assert_int_equal(weft_timer_new(&timer, 1, square, NULL, &empty), 0);
    unsigned n = 0;
    assert_int_equal(sscanf(weft_thread_name(a), "Thread-%u", &n), 1);
    char want[64];
    snprintf(want, sizeof want, "Thread-%u (square)", n);
    assert_string_equal(weft_thread_name(a), want);
    snprintf(want, sizeof want, "Thread-%u", n + 1);
    assert_string_equal(weft_thread_name(b), want);
    snprintf(want, sizeof want, "Thread-%u", n + 2);
    assert_string_equal(weft_thread_name(timer), want);
    /* Renaming to "" later is allowed, as Python's t.name = "". */
    assert_int_equal(weft_thread_set_name(a, ""), 0);
    assert_string_equal(weft_thread_name(a), "");
    weft_thread_free(a);
    weft_thread_free(b);
    weft_thread_free(timer);
}

static void renaming_keeps_the_old_text_valid(void **state)
{
    weft_thread_t *t;
    weft_thread_opts_t o = {.name = "first"};
    assert_int_equal(weft_thread_new(&t, square, NULL, &o), 0);
    const char *old = weft_thread_name(t);
    assert_int_equal(weft_thread_set_name(t, "second"), 0);
    assert_string_equal(weft_thread_name(t), "second");
    assert_string_equal(old, "first");
    assert_fails_with(weft_thread_set_name(t, NULL), WEFT_EINVAL, "NULL");
    weft_thread_free(t);
}

static int read_os_name(void *arg, void **result)
{
    pthread_getname_np(pthread_self(), arg, 16);
    return 0;
}

static void the_os_thread_gets_the_name_cut_to_15_bytes(void **state)
{
    char os_name[16] = "";
    weft_thread_t *t;
    weft_thread_opts_t o = {.name = "a-very-long-thread-name"};
    assert_int_equal(weft_thread_new(&t, read_os_name, os_name, &o), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_string_equal(os_name, "a-very-long-thr");
    weft_thread_free(t);
}

static void a_thread_can_only_be_started_once(void **state)
{
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, square, NULL, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_fails_with(weft_thread_start(t), WEFT_ESTATE, "started once");
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_fails_with(weft_thread_start(t), WEFT_ESTATE, "started once");
    assert_fails_with(weft_thread_start(weft_main_thread()), WEFT_ESTATE,
                      "started once");
    weft_thread_free(t);
}

static void joining_an_unstarted_thread_is_an_error(void **state)
{
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, square, NULL, NULL), 0);
    assert_fails_with(weft_thread_join(t, WEFT_FOREVER), WEFT_ESTATE,
                      "cannot join thread before it is started");
    assert_fails_with(weft_thread_join(NULL, 1), WEFT_EINVAL, "NULL");
    weft_thread_free(t);
}

static int join_myself(void *arg, void **result)
{
    int rc = weft_thread_join(weft_current_thread(), WEFT_FOREVER);
    *result = (void *)(intptr_t)rc;
    snprintf(arg, WEFT_MESSAGE_MAX, "%s", weft_last_message());
    return 0;
}

static void a_thread_cannot_join_itself(void **state)
{
    char message[WEFT_MESSAGE_MAX] = "";
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, join_myself, message, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    void *rc = NULL;
    weft_thread_result(t, &rc);
    assert_int_equal((intptr_t)rc, WEFT_EDEADLK);
    assert_string_equal(message, "cannot join current thread");
    assert_fails_with(weft_thread_join(weft_main_thread(), 0), WEFT_EDEADLK,
                      "cannot join current thread");
    weft_thread_free(t);
}

static void join_with_a_timeout_waits_at_least_the_timeout(void **state)
{
    weft_event_t go;
    weft_event_init(&go);
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, wait_for_event, &go, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    double t0 = weft_monotonic();
    assert_fails_with(weft_thread_join(t, 0.2), WEFT_ETIMEDOUT, "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_thread_join(t, 0), WEFT_ETIMEDOUT, "timed out");
    assert_fails_with(weft_thread_join(t, -5), WEFT_EINVAL, "timeout");
    assert_true(weft_thread_is_alive(t));
    weft_event_set(&go);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_false(weft_thread_is_alive(t));
    /* A finished thread does not hide a bad timeout; 0 then polls. */
    const double bad[] = {-0.5, -2, -INFINITY, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_fails_with(weft_thread_join(t, bad[i]), WEFT_EINVAL,
                          "timeout");
    assert_int_equal(weft_thread_join(t, 0), 0);
    weft_thread_free(t);
}

static void join_inside_a_cancelled_scope_is_cancelled(void **state)
{
    weft_event_t go;
    weft_event_init(&go);
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, wait_for_event, &go, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    weft_cancel_scope_t s;
    weft_cancel_scope_init(&s);
    weft_cancel_scope_cancel(&s);
    assert_int_equal(weft_cancel_scope_enter(&s, WEFT_FOREVER, 0), 0);
    assert_fails_with(weft_thread_join(t, WEFT_FOREVER), WEFT_ECANCELLED,
                      "cancelled");
    weft_cancel_scope_exit(&s);
    weft_event_set(&go);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_free(t);
}

static void is_alive_from_start_until_the_target_returns(void **state)
{
    weft_event_t go;
    weft_event_init(&go);
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, wait_for_event, &go, NULL), 0);
    assert_false(weft_thread_is_alive(t));
    assert_int_equal(weft_thread_start(t), 0);
    assert_true(weft_thread_is_alive(t));
    weft_event_set(&go);
    weft_thread_join(t, WEFT_FOREVER);
    assert_false(weft_thread_is_alive(t));
    weft_thread_free(t);
}

struct ids {
    uint64_t ident, native_id;
    weft_thread_t *self;
};

static int note_ids(void *arg, void **result)
{
    struct ids *ids = arg;
    ids->ident = weft_get_ident();
    ids->native_id = weft_get_native_id();
    ids->self = weft_current_thread();
    return 0;
}

static void ids_are_known_once_started_and_match_the_threads_own(void **state)
{
    struct ids ids = {0, 0, NULL};
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, note_ids, &ids, NULL), 0);
    assert_int_equal(weft_thread_ident(t), 0);
    assert_int_equal(weft_thread_native_id(t), 0);
    assert_int_equal(weft_thread_start(t), 0);
    uint64_t ident = weft_thread_ident(t), native = weft_thread_native_id(t);
    assert_true(ident != 0 && native != 0);
    weft_thread_join(t, WEFT_FOREVER);
    assert_true(ids.ident == ident);
    assert_true(ids.native_id == native);
    assert_ptr_equal(ids.self, t);
    assert_true(native != weft_get_native_id());
    weft_thread_free(t);
}

static void a_failed_target_leaves_its_code_and_message(void **state)
{
    weft_excepthook_t old = weft_thread_set_excepthook(quiet_hook);
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, fail_with_einval, (void *)7, NULL), 0);
    void *result = (void *)1;
    assert_fails_with(weft_thread_result(t, &result), WEFT_ESTATE,
                      "has not finished");
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    assert_fails_with(weft_thread_result(t, &result), WEFT_EINVAL,
                      "bad input 7");
    assert_ptr_equal(result, (void *)1);
    assert_fails_with(weft_thread_result(NULL, &result), WEFT_EINVAL, "NULL");
    weft_thread_set_excepthook(old);
    weft_thread_free(t);
}

static void the_daemon_flag_changes_only_before_start(void **state)
{
    weft_event_t go;
    weft_event_init(&go);
    weft_thread_t *t;
    weft_thread_opts_t o = {.daemon = 1};
    assert_int_equal(weft_thread_new(&t, wait_for_event, &go, &o), 0);
    assert_true(weft_thread_daemon(t));
    assert_int_equal(weft_thread_set_daemon(t, 0), 0);
    assert_false(weft_thread_daemon(t));
    assert_int_equal(weft_thread_set_daemon(t, 1), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_fails_with(weft_thread_set_daemon(t, 0), WEFT_ESTATE,
                      "cannot set daemon status of active thread");
    assert_fails_with(weft_thread_set_daemon(NULL, 0), WEFT_EINVAL, "NULL");
    weft_event_set(&go);
    weft_thread_join(t, WEFT_FOREVER);
    weft_thread_free(t);
}

static int make_child_thread(void *arg, void **result)
{
    weft_thread_t *child;
    int rc = weft_thread_new(&child, square, NULL, NULL);
    if (rc == 0) {
        *(int *)arg = weft_thread_daemon(child);
        weft_thread_free(child);
    }
    return rc;
}

static void a_thread_inherits_the_daemon_flag_of_its_creator(void **state)
{
    int daemons[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        weft_thread_opts_t o = {.daemon = i};
        weft_thread_t *t;
        assert_int_equal(
            weft_thread_new(&t, make_child_thread, &daemons[i], &o), 0);
        assert_int_equal(weft_thread_start(t), 0);
        assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
        weft_thread_free(t);
    }
    assert_int_equal(daemons[0], 0);
    assert_int_equal(daemons[1], 1);
    assert_false(weft_thread_daemon(weft_main_thread()));
}

struct finished_flag {
    weft_event_t done;
    _Atomic int ran;
};

static int run_and_signal(void *arg, void **result)
{
    struct finished_flag *f = arg;
    atomic_store(&f->ran, 1);
    weft_event_set(&f->done);
    return 0;
}

static void a_freed_handle_leaves_the_thread_running(void **state)
{
    struct finished_flag f;
    weft_event_init(&f.done);
    atomic_init(&f.ran, 0);
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, run_and_signal, &f, NULL), 0);
    assert_ptr_equal(weft_thread_ref(t), t);
    weft_thread_free(t);
    assert_int_equal(weft_thread_start(t), 0);
    weft_thread_free(t);
    assert_int_equal(weft_event_wait(&f.done, WEFT_FOREVER), 0);
    assert_int_equal(atomic_load(&f.ran), 1);
    weft_thread_free(NULL);
}

static int measure_stack(void *arg, void **result)
{
    pthread_attr_t attr;
    size_t size = 0;
    pthread_getattr_np(pthread_self(), &attr);
    pthread_attr_getstacksize(&attr, &size);
    pthread_attr_destroy(&attr);
    *(size_t *)arg = size;
    return 0;
}

static size_t stack_of_new_thread(const weft_thread_opts_t *o)
{
    size_t size = 0;
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, measure_stack, &size, o), 0);
    assert_int_equal(weft_thread_start(t), 0);
    weft_thread_join(t, WEFT_FOREVER);
    weft_thread_free(t);
    return size;
}

static void stack_sizes_apply_to_new_threads(void **state)
{
    /* Sizes above the system's default of 8 MiB, since glibc may hand out a
     * cached stack larger than asked for. */
    const size_t global = 24u << 20, own = 40u << 20;
    size_t old = 1;
    assert_int_equal(weft_thread_stack_size(global, &old), 0);
    assert_int_equal(old, 0);
    assert_true(stack_of_new_thread(NULL) >= global);
    weft_thread_opts_t o = {.stack_size = own};
    assert_true(stack_of_new_thread(&o) >= own);
    assert_fails_with(weft_thread_stack_size(1000, NULL), WEFT_EINVAL,
                      "32 KiB");
    assert_int_equal(weft_thread_stack_size(0, &old), 0);
    assert_int_equal(old, global);
}

static void bad_arguments_to_new_are_refused(void **state)
{
    weft_thread_t *t = NULL;
    assert_fails_with(weft_thread_new(NULL, square, NULL, NULL), WEFT_EINVAL,
                      "NULL out");
    assert_fails_with(weft_thread_new(&t, NULL, NULL, NULL), WEFT_EINVAL,
                      "NULL target");
    weft_thread_opts_t o = {.stack_size = 4096};
    assert_fails_with(weft_thread_new(&t, square, NULL, &o), WEFT_EINVAL,
                      "32 KiB");
    assert_null(t);
}

static void a_start_the_system_refuses_changes_nothing(void **state)
{
    size_t before = weft_active_count();
    weft_thread_t *t;
    weft_thread_opts_t o = {.stack_size = SIZE_MAX / 4};
    assert_int_equal(weft_thread_new(&t, square, NULL, &o), 0);
    assert_fails_with(weft_thread_start(t), WEFT_ESYS,
                      "can't start new thread");
    assert_false(weft_thread_is_alive(t));
    assert_int_equal(weft_active_count(), before);
    assert_fails_with(weft_thread_join(t, 0), WEFT_ESTATE, "before it is");
    weft_thread_free(t);
}

static int count_up(void *arg, void **result)
{
    atomic_fetch_add((_Atomic long *)arg, 1);
    return 0;
}

static void many_threads_each_run_exactly_once(void **state)
{
    enum { N = 64 };
    _Atomic long count = 0;
    weft_thread_t *t[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(weft_thread_new(&t[i], count_up, &count, NULL), 0);
        assert_int_equal(weft_thread_start(t[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(weft_thread_join(t[i], WEFT_FOREVER), 0);
        weft_thread_free(t[i]);
    }
    assert_int_equal(atomic_load(&count), N);
}

/* Many joiners on one thread: every one returns once it ends. */
struct crowd {
    weft_event_t go;
    weft_thread_t *target;
    _Atomic int joined;
};

static void join_the_target(void *arg, unsigned i)
{
    struct crowd *c = arg;
    if (i == 0) {
        weft_event_set(&c->go);
        return;
    }
    assert_int_equal(weft_thread_join(c->target, WEFT_FOREVER), 0);
    atomic_fetch_add(&c->joined, 1);
}

static void every_joiner_returns_when_the_thread_ends(void **state)
{
    struct crowd c;
    weft_event_init(&c.go);
    atomic_init(&c.joined, 0);
    assert_int_equal(weft_thread_new(&c.target, wait_for_event, &c.go, NULL),
                     0);
    assert_int_equal(weft_thread_start(c.target), 0);
    testing_run_threads(8, join_the_target, &c);
    assert_int_equal(atomic_load(&c.joined), 7);
    weft_thread_free(c.target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_thread_runs_its_target_and_leaves_its_result),
        cmocka_unit_test(default_names_count_up_and_name_the_target),
        cmocka_unit_test(an_empty_name_gets_the_default_name),
        cmocka_unit_test(renaming_keeps_the_old_text_valid),
        cmocka_unit_test(the_os_thread_gets_the_name_cut_to_15_bytes),
        cmocka_unit_test(a_thread_can_only_be_started_once),
        cmocka_unit_test(joining_an_unstarted_thread_is_an_error),
        cmocka_unit_test(a_thread_cannot_join_itself),
        cmocka_unit_test(join_with_a_timeout_waits_at_least_the_timeout),
        cmocka_unit_test(join_inside_a_cancelled_scope_is_cancelled),
        cmocka_unit_test(is_alive_from_start_until_the_target_returns),
        cmocka_unit_test(ids_are_known_once_started_and_match_the_threads_own),
        cmocka_unit_test(a_failed_target_leaves_its_code_and_message),
        cmocka_unit_test(the_daemon_flag_changes_only_before_start),
        cmocka_unit_test(a_thread_inherits_the_daemon_flag_of_its_creator),
        cmocka_unit_test(a_freed_handle_leaves_the_thread_running),
        cmocka_unit_test(stack_sizes_apply_to_new_threads),
        cmocka_unit_test(bad_arguments_to_new_are_refused),
        cmocka_unit_test(a_start_the_system_refuses_changes_nothing),
        cmocka_unit_test(many_threads_each_run_exactly_once),
        cmocka_unit_test(every_joiner_returns_when_the_thread_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
