/* SPDX-License-Identifier: MIT */
/* Nothing aborts the caller: every public function, called with NULL in
 * each of its pointer parameters (the others valid, scalars zero), refuses
 * it the way Python refuses None where it wants an object:
 *
 *   - a function that returns a code returns WEFT_EINVAL with a message;
 *   - one that returns a pointer or a value (a flag, a count, a name)
 *     returns without crashing and leaves a message for the caller;
 *   - a void function returns without crashing.
 *
 * Where the header says that NULL is a value the function takes (untyped
 * user data, an options struct, the lists below), any outcome but a crash
 * or a hang is right. The list of functions is generated from the headers
 * (gen_calls.awk), so a new function is covered the day it lands.
 *
 * Each call runs in a child process of its own, so that a crash or a hang
 * (the child is stopped after API_CALL_SECONDS) is reported with the
 * function's name and the rest go on. WEFT_API_ONLY=name runs one
 * function's calls alone. */
#include "api.h"
#include "testing.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define API_CALL_SECONDS 10

/* Where the header says NULL is a value the function takes, so that any
 * outcome but a crash or a hang is right: "name:index", or "name" for
 * every position. Keep each entry true to its header's words. */
static const char *const accepts_null[] = {
    /* Optional out-pointers: "(if not NULL)", "(may be NULL)". */
    "weft_barrier_wait:1", "weft_barrier_wait_timeout:2",
    "weft_connection_send_bytes_many:3", "weft_dict_proxy_add:4",
    "weft_gather:3", "weft_gather:4", "weft_rx_observable_subscribe:2", "weft_dict_proxy_compare_and_set:3", "weft_park:4", "weft_pool_map:6",
    "weft_pool_starmap:6", "weft_pool_map_bytes:6", "weft_stream_read_exactly:3",
    "weft_thread_stack_size:1", "weft_task_create:0", "weft_task_group_spawn:3",
    "weft_task_create_opts:0", "weft_loop_call_soon:3",
    "weft_loop_call_later:4", "weft_loop_call_at:4",
    "weft_loop_call_at_ns:4",
    /* A name for the message: NULL says "loop". */
    "weft_loop_check_thread:1",
    /* Results the caller may leave unread, as Python lets a return value
     * go unused: "result may be NULL". */
    "weft_future_result:2", "weft_future_error:2", "weft_run:2",
    "weft_wait_for:2", "weft_loop_run_until_complete:2",
    "weft_async_result_get:2", "weft_pool_apply:3", "weft_map_next:1",
    "weft_map_next:2", "weft_thread_result:1",
    /* NULL for a default: "NULL: the defaults", "loop NULL: the running
     * loop", "ex NULL: the loop's default thread pool", ... */
    "weft_get_context:1", "weft_log_basic_config:0", "weft_manager_start:1",
    "weft_loop_run_in_executor:1", "weft_start_server:1", "weft_http_serve:1",
    "weft_park:1",
    "weft_task_create:1", "weft_task_create_opts:1", "weft_task_group_new:1",
    "weft_park_set_waiter:0",
    "weft_rx_replay_subject_new:3", "weft_thread_set_excepthook:0",
    "weft_rx_observable_set_values:1", "weft_rx_subject_set_values:1",
    /* Optional callbacks: "(if not NULL)", "Either callback may be NULL",
     * "NULL combiner", "NULL key function". */
    "weft_local_new:1", "weft_unpark_one:1", "weft_pool_apply_async:4",
    "weft_pool_apply_async:5", "weft_pool_map_async:6",
    "weft_pool_map_async:7", "weft_pool_apply_async_bytes:5",
    "weft_pool_apply_async_bytes:6", "weft_pool_map_async_bytes:6",
    "weft_pool_map_async_bytes:7", "weft_rx_combine_latest:3",
    "weft_rx_zip:3", "weft_rx_distinct:2",
    "weft_rx_distinct_until_changed:2",
    /* An array with a count of 0 (the test's every count) is the empty
     * list: "NULL fs with n > 0" is the error the headers name. */
    "weft_gather:0", "weft_as_completed_new:1",
    "weft_connection_send_bytes_many:1", "weft_rx_concat:1",
    "weft_rx_merge:1", "weft_rx_combine_latest:1", "weft_rx_zip:1",
    "weft_rx_from_array:1", "weft_executor_map:3",
    "weft_executor_map_bytes:3", "weft_pool_map:2", "weft_pool_map:5",
    "weft_pool_starmap:2", "weft_pool_starmap:5", "weft_pool_map_bytes:2",
    "weft_pool_map_bytes:5", "weft_pool_imap:3", "weft_pool_imap_unordered:3",
    "weft_pool_imap_bytes:3", "weft_pool_imap_unordered_bytes:3",
    "weft_pool_map_async:3", "weft_pool_map_async_bytes:3",
    "weft_process_pool_pids:1",
    /* "host (NULL: \"localhost\")", "optional extra header lines ...
     * or NULL for none". */
    "weft_http_write_request:3", "weft_http_write_request:4", "weft_http_write_response:2",
    /* A buffer of size 0, as snprintf takes it. */
    "weft_rx_test_marbles:2", "weft_rx_test_start:2",
    /* Documented answers for NULL: "NULL q: 0", "NULL: no-op", "NULL ex:
     * NULL". */
    "weft_queue_qsize:0", "weft_queue_empty:0", "weft_queue_full:0",
    "weft_queue_maxsize:0", "weft_queue_is_shutdown:0", "weft_executor_impl",
    /* A hook of NULL is none: future.h's wait hook acts "while set". */
    "weft_future_set_wait_hook:0",
    NULL,
};

/* Functions whose int result is a value (a count, a flag), not a code:
 * given NULL they must leave a message, whatever they return. */
static const char *const returns_value[] = {
    "weft_fail", "weft_rx_test_start", "weft_rx_test_marbles",
    "weft_rx_test_subscriptions", "weft_task_is_task", "weft_handle_pending",
    "weft_connection_fileno", "weft_connection_readable",
    "weft_connection_writable", "weft_connection_closed",
    "weft_proc_queue_empty", "weft_proc_queue_full",
    "weft_process_is_alive", "weft_process_daemon", "weft_process_pid",
    "weft_process_sentinel", "weft_queue_empty", "weft_queue_full",
    "weft_queue_is_shutdown", "weft_shm_is_creator", "weft_thread_is_alive",
    "weft_thread_daemon", "weft_rx_emitter_disposed",
    "weft_rx_subscription_closed", "weft_loop_take_next",
    "weft_lock_locked", "weft_rlock_is_owned", "weft_rlock_count",
    "weft_event_is_set", "weft_semaphore_value", "weft_barrier_parties",
    "weft_barrier_n_waiting", "weft_barrier_broken", "weft_future_done",
    "weft_future_running", "weft_future_cancelled", "weft_future_state",
    "weft_loop_is_running", "weft_async_result_ready",
    "weft_task_group_size", "weft_task_group_failed", "weft_stream_fd",
    "weft_server_port", "weft_cancel_scope_cancelled",
    "weft_executor_max_workers",
    NULL,
};

/* Calls that are valid with NULL there and then block by design (nothing
 * the fixtures can make happen ends them): not made. */
static const char *const blocks_when_valid[] = {
    "weft_loop_run_until:1", /* done NULL: until stopped (run_forever) */
    "weft_loop_run_until:2", /* ctx NULL; the no-op done() never says done */
    NULL,
};

static int listed(const char *const *list, const char *name, unsigned index)
{
    char key[128];
    snprintf(key, sizeof key, "%s:%u", name, index);
    char any[128];
    snprintf(any, sizeof any, "%s:*", name);
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], key) || !strcmp(list[i], any) ||
            !strcmp(list[i], name))
            return 1;
    return 0;
}

/* Untyped data and option structs: NULL is a value there. */
static int nullable(const struct api_function *fn, unsigned i)
{
    const char *t = fn->types[i];
    if (!strcmp(t, "void *"))
        return 1;
    size_t n = strlen(t);
    if (n > 9 && !strcmp(t + n - 9, "_opts_t *"))
        return 1;
    return listed(accepts_null, fn->name, i);
}

struct report {
    int rc;
    char message[WEFT_MESSAGE_MAX];
};

static void child(const struct api_function *fn, unsigned i, int out)
{
    /* The test framework catches crashes: a crash here must kill the child
     * for the parent to see it. */
    int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM};
    for (size_t k = 0; k < sizeof fatal / sizeof *fatal; k++)
        signal(fatal[k], SIG_DFL);
    alarm(API_CALL_SECONDS);
    struct api_outcome o = {-12345, NULL};
    weft_clear_message();
    fn->call(i, &o);
    struct report r = {o.rc, {0}};
    snprintf(r.message, sizeof r.message, "%s", weft_last_message());
    if (write(out, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(3);
    _exit(0);
}

/* One call; returns 1 when its outcome is right, after saying why not. */
static int check_call(const struct api_function *fn, unsigned i)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(fn, i, fds[1]);
    }
    close(fds[1]);
    struct report r;
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        fprintf(stderr, "%s: NULL at %u (%s): %s\n", fn->name, i,
                fn->types[i],
                sig == SIGALRM ? "blocks" : strsignal(sig));
        return 0;
    }
    if (got != (ssize_t)sizeof r || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: NULL at %u: the child exited with %d\n",
                fn->name, i, WEXITSTATUS(status));
        return 0;
    }
    if (fn->returns == 'v' || nullable(fn, i))
        return 1;
    const char *want = "a message";
    int right = r.message[0] != '\0';
    if (fn->returns == 'i' && !listed(returns_value, fn->name, i)) {
        want = "WEFT_EINVAL and a message";
        right = right && r.rc == WEFT_EINVAL;
    }
    if (!right) {
        fprintf(stderr, "%s: NULL at %u (%s): returned %d (%s), message "
                        "\"%s\"; want %s\n",
                fn->name, i, fn->types[i], r.rc,
                fn->returns == 'i' ? weft_errname(r.rc) : "a value",
                r.message, want);
        return 0;
    }
    return 1;
}

static void every_public_function_refuses_null(void **state)
{
    unsigned calls = 0, wrong = 0, functions = 0;
    const char *only = getenv("WEFT_API_ONLY");
    for (const struct api_function *fn = api_functions; fn->name; fn++) {
        if (only && strcmp(only, fn->name))
            continue;
        functions++;
        for (unsigned i = 0; i < fn->nparams; i++) {
            if (fn->types[i] == NULL ||
                listed(blocks_when_valid, fn->name, i))
                continue;
            calls++;
            wrong += !check_call(fn, i);
        }
    }
    fprintf(stderr, "%u functions, %u calls with a NULL, %u wrong; "
                    "left out: %s\n",
            functions, calls, wrong, api_skipped);
    assert_true(functions > 0);
    assert_int_equal(wrong, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_public_function_refuses_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
