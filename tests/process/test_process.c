/* SPDX-License-Identifier: MIT */
/* process: Process under each start method, exit codes, joins, names, the
 * descriptors a child gets, and children that never outlive their parent. */
#include "testing_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const methods[] = {"fork", "spawn", "forkserver"};

#if defined(WEFT_TSAN)
/* A child ends with _exit(), where ThreadSanitizer's exit code never
 * applies: a report there must end the child, so that its exit code
 * shows it. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "halt_on_error=1";
}
#endif

/* A process of method with target and arg (len bytes), started. */
static weft_process_t *start(const char *method, weft_process_fn target,
                             const void *arg, size_t len)
{
    weft_context_t *ctx;
    assert_int_equal(weft_get_context(&ctx, method), 0);
    weft_process_t *p;
    assert_int_equal(weft_context_process_new(ctx, &p, target, arg, len, NULL),
                     0);
    assert_int_equal(weft_process_start(p), 0);
    return p;
}

static int exit_code_of(weft_process_t *p)
{
    assert_int_equal(weft_process_join(p, 10.0 * testing_scale()), 0);
    int code = 12345;
    assert_int_equal(weft_process_exitcode(p, &code), 0);
    return code;
}

static int fd_in(const weft_bytes_t *arg)
{
    int fd = -1;
    if (arg->len >= sizeof fd)
        memcpy(&fd, arg->data, sizeof fd);
    return fd;
}

/* ----- Exit codes ----- */

static int return_seven(const weft_bytes_t *arg)
{
    return 7;
}

static int call_exit_three(const weft_bytes_t *arg)
{
    exit(3);
}

static int call_abort(const weft_bytes_t *arg)
{
    signal(SIGABRT, SIG_DFL);
    abort();
}

/* Wait until the parent closes the pipe whose read end is passed. */
static int wait_for_eof(const weft_bytes_t *arg)
{
    char c;
    while (read(fd_in(arg), &c, 1) > 0)
        ;
    return 0;
}

static void exit_codes_read_as_python_reports_them(void **state)
{
    for (int m = 0; m < 3; m++) {
        weft_process_t *p = start(methods[m], return_seven, NULL, 0);
        assert_int_equal(exit_code_of(p), 7);
        weft_process_free(p);
        p = start(methods[m], call_exit_three, NULL, 0);
        assert_int_equal(exit_code_of(p), 3);
        weft_process_free(p);
        p = start(methods[m], call_abort, NULL, 0);
        assert_int_equal(exit_code_of(p), -SIGABRT);
        weft_process_free(p);
    }
}

static void a_killed_child_reads_minus_sigkill(void **state)
{
    for (int m = 0; m < 3; m++) {
        int fds[2];
        testing_pipe(fds);
        weft_context_t *ctx;
        weft_get_context(&ctx, methods[m]);
        weft_process_t *p;
        weft_context_process_new(ctx, &p, wait_for_eof, &fds[0], sizeof fds[0],
                                 NULL);
        assert_int_equal(weft_process_pass_fd(p, fds[0]), 0);
        assert_int_equal(weft_process_start(p), 0);
        assert_true(weft_process_is_alive(p));
        int code;
        assert_fails_with(weft_process_exitcode(p, &code), WEFT_ESTATE,
                          "not ended");
        assert_int_equal(weft_process_kill(p), 0);
        assert_int_equal(exit_code_of(p), -SIGKILL);
        assert_false(weft_process_is_alive(p));
        assert_int_equal(weft_process_kill(p), 0); /* ended: nothing */
        close(fds[0]);
        close(fds[1]);
        weft_process_free(p);
    }
}

static int spin_forever(const weft_bytes_t *arg)
{
    volatile unsigned long i = 0;
    while (arg != NULL)
        i++;
    return 0;
}

static void terminate_stops_a_busy_child(void **state)
{
    for (int m = 0; m < 3; m++) {
        weft_process_t *p = start(methods[m], spin_forever, NULL, 0);
        double t0 = weft_monotonic();
        assert_int_equal(weft_process_terminate(p), 0);
        assert_int_equal(exit_code_of(p), -SIGTERM);
        assert_elapsed_between(weft_monotonic() - t0, 0, 1.0);
        weft_process_free(p);
    }
}

static void join_with_a_timeout_waits_at_least_the_timeout(void **state)
{
    int fds[2];
    testing_pipe(fds);
    weft_process_t *p;
    weft_process_new(&p, wait_for_eof, &fds[0], sizeof fds[0], NULL);
    weft_process_pass_fd(p, fds[0]);
    assert_int_equal(weft_process_start(p), 0);
    double t0 = weft_monotonic();
    assert_fails_with(weft_process_join(p, 0.2), WEFT_ETIMEDOUT, "still runs");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_process_join(p, 0), WEFT_ETIMEDOUT, "still runs");
    assert_fails_with(weft_process_join(p, -2), WEFT_EINVAL, "timeout");
    close(fds[1]);
    assert_int_equal(exit_code_of(p), 0);
    close(fds[0]);
    weft_process_free(p);
}

static void a_cancelled_scope_ends_a_join(void **state)
{
    int fds[2];
    testing_pipe(fds);
    weft_process_t *p;
    weft_process_new(&p, wait_for_eof, &fds[0], sizeof fds[0], NULL);
    weft_process_pass_fd(p, fds[0]);
    weft_process_start(p);
    weft_cancel_scope_t scope;
    weft_cancel_scope_init(&scope);
    weft_cancel_scope_enter(&scope, 0.1, 0);
    assert_fails_with(weft_process_join(p, WEFT_FOREVER), WEFT_ECANCELLED,
                      "cancelled");
    weft_cancel_scope_exit(&scope);
    close(fds[1]);
    assert_int_equal(exit_code_of(p), 0);
    close(fds[0]);
    weft_process_free(p);
}

/* ----- Misuse ----- */

static void misuse_gets_codes_and_messages(void **state)
{
    weft_process_t *p;
    assert_fails_with(weft_process_new(&p, NULL, NULL, 0, NULL), WEFT_EINVAL,
                      "NULL target");
    assert_int_equal(weft_process_new(&p, return_seven, NULL, 0, NULL), 0);
    assert_fails_with(weft_process_join(p, 1), WEFT_ESTATE, "started");
    assert_fails_with(weft_process_terminate(p), WEFT_ESTATE, "started");
    assert_fails_with(weft_process_pass_fd(p, 1), WEFT_EINVAL, "below 3");
    assert_fails_with(weft_process_pass_fd(p, 1000), WEFT_EINVAL, "not open");
    assert_false(weft_process_is_alive(p));
    assert_int_equal(weft_process_pid(p), 0);
    assert_int_equal(weft_process_sentinel(p), -1);
    assert_int_equal(weft_process_start(p), 0);
    assert_true(weft_process_pid(p) > 0);
    assert_true(weft_process_sentinel(p) >= 0);
    assert_fails_with(weft_process_start(p), WEFT_ESTATE, "only be started");
    assert_fails_with(weft_process_set_daemon(p, 1), WEFT_ESTATE, "started");
    int fds[2];
    testing_pipe(fds);
    assert_fails_with(weft_process_pass_fd(p, fds[0]), WEFT_ESTATE, "before");
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(exit_code_of(p), 7);
    assert_int_equal(weft_process_close(p), 0);
    assert_fails_with(weft_process_join(p, 0), WEFT_ESTATE, "closed");
    assert_fails_with(weft_process_join(weft_current_process(), 0), WEFT_ESTATE,
                      "child process");
    weft_process_free(p);
}

static void closing_a_running_process_is_refused(void **state)
{
    int fds[2];
    testing_pipe(fds);
    weft_process_t *p;
    weft_process_new(&p, wait_for_eof, &fds[0], sizeof fds[0], NULL);
    weft_process_pass_fd(p, fds[0]);
    weft_process_start(p);
    assert_fails_with(weft_process_close(p), WEFT_ESTATE, "still running");
    close(fds[1]);
    exit_code_of(p);
    assert_int_equal(weft_process_close(p), 0);
    close(fds[0]);
    weft_process_free(p);
}

static void start_methods_and_contexts(void **state)
{
    weft_context_t *ctx;
    assert_int_equal(weft_get_context(&ctx, NULL), 0);
    assert_string_equal(weft_context_start_method(ctx), "forkserver");
    assert_string_equal(weft_get_start_method(), "forkserver");
    assert_fails_with(weft_get_context(&ctx, "vfork"), WEFT_EINVAL,
                      "cannot find context for 'vfork'");
    assert_int_equal(weft_get_context(&ctx, "spawn"), 0);
    assert_string_equal(weft_context_start_method(ctx), "spawn");
    const char *const *all = weft_get_all_start_methods();
    assert_string_equal(all[0], "forkserver");
    assert_string_equal(all[1], "spawn");
    assert_string_equal(all[2], "fork");
    assert_null(all[3]);
    assert_fails_with(weft_set_start_method("nope", 0), WEFT_EINVAL, "nope");
    assert_int_equal(weft_set_start_method("spawn", 0), 0);
    assert_fails_with(weft_set_start_method("fork", 0), WEFT_ESTATE,
                      "already been set");
    assert_string_equal(weft_get_start_method(), "spawn");
    weft_process_t *p;
    weft_process_new(&p, return_seven, NULL, 0, NULL);
    weft_process_start(p);
    assert_string_equal(weft_process_start_method(p), "spawn");
    assert_int_equal(exit_code_of(p), 7);
    weft_process_free(p);
    assert_int_equal(weft_set_start_method("forkserver", 1), 0);
    assert_true(weft_cpu_count() >= weft_process_cpu_count());
    assert_true(weft_process_cpu_count() >= 1);
}

/* ----- The lifeline ----- */

/* In a child: SIGKILL is the death signal, and another can be asked for. */
static int check_death_signal(const weft_bytes_t *arg)
{
    if (weft_parent_death_signal() != SIGKILL)
        return 1;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    if (weft_set_parent_death_signal(SIGUSR1) != 0 ||
        weft_parent_death_signal() != SIGUSR1)
        return 2;
    if (weft_set_parent_death_signal(0) != WEFT_EINVAL)
        return 3;
    /* A fork() of its own has no lifeline (the kernel gives it none). */
    pid_t pid = fork();
    if (pid == 0)
        _exit(weft_parent_death_signal() == 0 ? 0 : 1);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
        return 4;
    return 0;
}

static void children_die_by_sigkill_unless_they_ask_otherwise(void **state)
{
    assert_int_equal(weft_parent_death_signal(), 0);
    assert_fails_with(weft_set_parent_death_signal(SIGTERM), WEFT_ESTATE,
                      "no lifeline");
    assert_fails_with(weft_set_parent_death_signal(-1), WEFT_EINVAL,
                      "not a signal");
    size_t threads = weft_active_count();
    for (int m = 0; m < 3; m++) {
        weft_process_t *p = start(methods[m], check_death_signal, NULL, 0);
        assert_int_equal(exit_code_of(p), 0);
        weft_process_free(p);
    }
    /* The thread that makes children is weft's own, not the program's. */
    assert_int_equal(weft_active_count(), threads);
}

/* ----- Who is who ----- */

/* Write "name|parent's name|daemon|parent's pid|parent alive". */
static int say_who(const weft_bytes_t *arg)
{
    weft_process_t *me = weft_current_process(), *up = weft_parent_process();
    dprintf(fd_in(arg), "%s|%s|%d|%d|%d", weft_process_name(me),
            up ? weft_process_name(up) : "none", weft_process_daemon(me),
            weft_process_pid(up), weft_process_is_alive(up));
    return 0;
}

/* Run target in a child of the given start method, handing it the write
 * end of a pipe (its number in *wfd, if asked), and return all the child
 * wrote there (to free) once it has exited with 0; the child in *out. */
static char *hear(const char *method, weft_process_fn target,
                  const weft_process_opts_t *opts, int *wfd,
                  weft_process_t **out)
{
    int fds[2];
    testing_pipe(fds);
    weft_context_t *ctx;
    weft_get_context(&ctx, method);
    weft_process_t *p;
    assert_int_equal(
        weft_context_process_new(ctx, &p, target, &fds[1], sizeof fds[1], opts),
        0);
    weft_process_pass_fd(p, fds[1]);
    assert_int_equal(weft_process_start(p), 0);
    close(fds[1]);
    char *said = testing_read_all(fds[0]);
    close(fds[0]);
    assert_int_equal(exit_code_of(p), 0);
    if (wfd)
        *wfd = fds[1];
    *out = p;
    return said;
}

static char *who_is(const char *method, const weft_process_opts_t *opts,
                    weft_process_t **out)
{
    return hear(method, say_who, opts, NULL, out);
}

static void children_know_their_names_and_their_parent(void **state)
{
    assert_string_equal(weft_process_name(weft_current_process()),
                        "MainProcess");
    assert_null(weft_parent_process());
    assert_int_equal(weft_process_pid(weft_current_process()), getpid());
    assert_true(weft_process_is_alive(weft_current_process()));
    size_t len = 0;
    assert_non_null(weft_process_authkey(&len));
    assert_int_equal(len, 32);
    for (int m = 0; m < 3; m++) {
        weft_process_t *p;
        char *said = who_is(methods[m], NULL, &p);
        char want[128];
        snprintf(want, sizeof want, "%s|MainProcess|0|%d|1",
                 weft_process_name(p), (int)getpid());
        assert_string_equal(said, want);
        assert_memory_equal(weft_process_name(p), "Process-", 8);
        free(said);
        weft_process_free(p);
        weft_process_opts_t opts = {"worker", 1};
        said = who_is(methods[m], &opts, &p);
        snprintf(want, sizeof want, "worker|MainProcess|1|%d|1", (int)getpid());
        assert_string_equal(said, want);
        free(said);
        weft_process_free(p);
    }
}

static void process_names_count_up(void **state)
{
    weft_process_t *a, *b;
    weft_process_new(&a, return_seven, NULL, 0, NULL);
    weft_process_new(&b, return_seven, NULL, 0, NULL);
    int na = atoi(weft_process_name(a) + 8),
        nb = atoi(weft_process_name(b) + 8);
    assert_int_equal(nb, na + 1);
    const char *old = weft_process_name(a);
    assert_int_equal(weft_process_set_name(a, "renamed"), 0);
    assert_string_equal(weft_process_name(a), "renamed");
    assert_memory_equal(old, "Process-", 8); /* still readable */
    weft_process_free(a);
    weft_process_free(b);
}

/* A child that starts a grandchild (fork) and reports its name. */
static int start_grandchild(const weft_bytes_t *arg)
{
    weft_context_t *ctx;
    weft_get_context(&ctx, "fork");
    weft_process_t *p;
    if (weft_context_process_new(ctx, &p, say_who, arg->data, arg->len, NULL) !=
            0 ||
        weft_process_start(p) != 0 || weft_process_join(p, 10) != 0)
        return 1;
    weft_process_free(p);
    return 0;
}

static void a_grandchild_is_named_after_its_parent(void **state)
{
    weft_process_t *p;
    char *said = hear("spawn", start_grandchild, NULL, NULL, &p);
    char want[128];
    snprintf(want, sizeof want, "%s:1|%s|0|%d|1", weft_process_name(p),
             weft_process_name(p), weft_process_pid(p));
    assert_string_equal(said, want);
    free(said);
    weft_process_free(p);
}

static void active_children_lists_the_running_and_reaps_the_rest(void **state)
{
    int fds[2];
    testing_pipe(fds);
    weft_process_t *quick, *slow;
    weft_process_new(&quick, return_seven, NULL, 0, NULL);
    weft_process_new(&slow, wait_for_eof, &fds[0], sizeof fds[0], NULL);
    weft_process_pass_fd(slow, fds[0]);
    weft_process_start(quick);
    weft_process_start(slow);
    weft_process_join(quick, 10);
    weft_process_t **list;
    size_t n;
    assert_int_equal(weft_active_children(&list, &n), 0);
    assert_int_equal(n, 1);
    assert_ptr_equal(list[0], slow);
    weft_process_list_free(list, n);
    weft_process_free(quick);
    /* A freed handle of a running child stays listed until it ends. */
    weft_process_free(slow);
    close(fds[1]);
    close(fds[0]);
    for (double t0 = weft_monotonic(); n > 0;) {
        assert_int_equal(weft_active_children(&list, &n), 0);
        weft_process_list_free(list, n);
        assert_true(weft_monotonic() - t0 < 5 * testing_scale());
    }
}

/* Log one record in the child's name, to the passed descriptor. */
static int log_in_child(const weft_bytes_t *arg)
{
    weft_log_config_t config = {.level = WEFT_LOG_INFO,
                                .format = "%(processName)s|%(message)s",
                                .fd = fd_in(arg)};
    if (weft_log_basic_config(&config) != 0)
        return 1;
    weft_log_info("hello");
    return 0;
}

static void a_childs_log_records_carry_its_name(void **state)
{
    for (int m = 0; m < 3; m++) {
        weft_process_t *p;
        char *said = hear(methods[m], log_in_child, NULL, NULL, &p);
        char want[64];
        snprintf(want, sizeof want, "%s|hello\n", weft_process_name(p));
        assert_string_equal(said, want);
        free(said);
        weft_process_free(p);
    }
}

/* ----- Descriptors ----- */

/* Write every open descriptor number from 3 up, but the directory's own. */
static int list_fds(const weft_bytes_t *arg)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 1;
    struct dirent *e;
    /* Beside the passed descriptor, a child holds its parent's sentinel:
     * without pidfd_open (WEFT_NO_PIDFD), both ends of a watcher's pipe,
     * which name the same file, and, for a moment every 20 ms, the
     * watcher thread's own close-on-exec read of /proc/<parent>/stat:
     * opened in this process, not inherited. */
    int sentinel = weft_process_sentinel(weft_parent_process());
    char sentinel_file[64] = "", file[64], path[64], parent_stat[64];
    snprintf(parent_stat, sizeof parent_stat, "/proc/%d/stat",
             weft_process_pid(weft_parent_process()));
    snprintf(path, sizeof path, "/proc/self/fd/%d", sentinel);
    ssize_t n = readlink(path, sentinel_file, sizeof sentinel_file - 1);
    sentinel_file[n > 0 ? n : 0] = '\0';
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        n = readlink(path, file, sizeof file - 1);
        file[n > 0 ? n : 0] = '\0';
        if (n <= 0) /* closed since it was listed: that read, ended */
            continue;
        if (e->d_name[0] != '.' && fd > 2 && fd != dirfd(d) && fd != sentinel &&
            !(strncmp(file, "pipe:", 5) == 0 &&
              strcmp(file, sentinel_file) == 0) &&
            strcmp(file, parent_stat) != 0)
            dprintf(fd_in(arg), "%d ", fd);
    }
    closedir(d);
    return 0;
}

static void a_child_gets_only_the_descriptors_passed_to_it(void **state)
{
    int leaky = dup(0); /* not close-on-exec: must still stay behind */
    for (int m = 1; m < 3; m++) {
        weft_process_t *p;
        int wfd;
        char *said = hear(methods[m], list_fds, NULL, &wfd, &p);
        char want[32];
        snprintf(want, sizeof want, "%d ", wfd);
        assert_string_equal(said, want);
        free(said);
        weft_process_free(p);
    }
    close(leaky);
}

/* ----- Targets ----- */

static int registered_target(const weft_bytes_t *arg)
{
    return 42;
}
WEFT_PROCESS_TARGET(registered_target)

static void a_registered_target_is_found_by_name(void **state)
{
    for (int m = 1; m < 3; m++) {
        weft_process_t *p = start(methods[m], registered_target, NULL, 0);
        assert_int_equal(exit_code_of(p), 42);
        weft_process_free(p);
    }
    assert_fails_with(weft_process_register("registered_target", return_seven),
                      WEFT_EEXIST, "taken");
    assert_int_equal(
        weft_process_register("registered_target", registered_target), 0);
    assert_fails_with(weft_process_register("", return_seven), WEFT_EINVAL,
                      "255 bytes");
}

static void a_target_in_no_image_is_refused(void **state)
{
    void *heap = malloc(64);
    weft_process_fn bogus;
    memcpy(&bogus, &heap, sizeof bogus);
    weft_context_t *ctx;
    weft_get_context(&ctx, "spawn");
    weft_process_t *p;
    weft_context_process_new(ctx, &p, bogus, NULL, 0, NULL);
    assert_fails_with(weft_process_start(p), WEFT_EINVAL, "no loaded image");
    assert_false(weft_process_is_alive(p));
    weft_process_free(p);
    free(heap);
}

static int echo_arg_length(const weft_bytes_t *arg)
{
    size_t sum = 0;
    for (size_t i = 0; i < arg->len; i++)
        sum += arg->data[i];
    return arg->len == 1 << 20 && sum == (size_t)(1 << 20) * 7 ? 0 : 1;
}

static void a_large_argument_arrives_whole(void **state)
{
    unsigned char *big = malloc(1 << 20);
    memset(big, 7, 1 << 20);
    for (int m = 0; m < 3; m++) {
        weft_process_t *p = start(methods[m], echo_arg_length, big, 1 << 20);
        assert_int_equal(exit_code_of(p), 0);
        weft_process_free(p);
    }
    free(big);
}

/* ----- Lifelines ----- */

struct middle {
    const char *method;
    int daemon;
    int report;            /* where the middle writes its child's pid */
    weft_process_fn child; /* NULL: spin_forever; else it reports itself */
};

/* A child that blocks every signal it can, says so (its pid, on the
 * passed descriptor), then waits forever: a parent-death signal that can
 * be blocked never reaches it. */
static int block_everything(const weft_bytes_t *arg)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    int pid = getpid();
    if (write(fd_in(arg), &pid, sizeof pid) != sizeof pid)
        return 1;
    close(fd_in(arg));
    for (;;)
        pause();
}

/* The middle process: start a child that waits forever, report its pid
 * (or have the child report it once it is ready), then wait to be killed
 * (or exit, running the exit handler). */
static void run_middle(const struct middle *m, int then_exit)
{
    weft_context_t *ctx;
    weft_get_context(&ctx, m->method);
    weft_process_opts_t opts = {NULL, m->daemon};
    weft_process_t *p;
    weft_process_fn target = m->child ? m->child : spin_forever;
    if (weft_context_process_new(ctx, &p, target, &m->report, sizeof m->report,
                                 &opts) ||
        weft_process_pass_fd(p, m->report) || weft_process_start(p))
        _exit(2);
    int pid = weft_process_pid(p);
    if (!m->child && write(m->report, &pid, sizeof pid) != sizeof pid)
        _exit(3);
    close(m->report);
    if (then_exit)
        exit(0);
    for (;;)
        pause();
}

static pid_t fork_middle(const struct middle *m, int then_exit, int *child)
{
    int fds[2];
    testing_pipe(fds);
    struct middle mm = *m;
    mm.report = fds[1];
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        run_middle(&mm, then_exit);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], child, sizeof *child), sizeof *child);
    close(fds[0]);
    return pid;
}

/* Reap the children that come to us (their subreaper) until pid was one
 * of them and only the children of before are left; whether pid ended by
 * SIGKILL. */
static int reap_until_gone(pid_t pid, const char *before)
{
    int killed = 0, seen = 0;
    double t0 = weft_monotonic();
    for (;;) {
        int st;
        pid_t got = waitpid(-1, &st, WNOHANG);
        if (got == pid) {
            seen = 1;
            killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        }
        char now[4096];
        testing_list_children(now, sizeof now, 1);
        if (got <= 0 && seen && strcmp(now, before) == 0)
            return killed;
        if (weft_monotonic() - t0 > 5 * testing_scale())
            fail_msg("%d processes outlived their parent",
                     testing_kill_children_but(before));
        if (got <= 0)
            weft_sleep(0.005);
    }
}

/* Kill a middle process whose child runs target, under each start
 * method, and see the child end by SIGKILL. */
static void kill_middles_and_see_their_children_go(weft_process_fn target)
{
    /* Orphans come to us, so that we can see them end, and reap them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    for (int m = 0; m < 3; m++) {
        struct middle mid = {methods[m], 0, -1, target};
        char before[4096];
        testing_list_children(before, sizeof before, 1);
        int child;
        pid_t middle = fork_middle(&mid, 0, &child);
        kill(middle, SIGKILL);
        int st;
        assert_int_equal(waitpid(middle, &st, 0), middle);
        /* fork and spawn: the child is ours now; forkserver: the server
         * and the child both come to us, and both end. */
        assert_true(reap_until_gone(child, before));
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void a_parent_killed_with_sigkill_leaves_no_child(void **state)
{
    kill_middles_and_see_their_children_go(NULL);
}

static void a_child_that_blocks_every_signal_dies_with_its_parent(void **state)
{
    kill_middles_and_see_their_children_go(block_everything);
}

static void daemonic_children_are_terminated_at_exit(void **state)
{
    for (int m = 0; m < 3; m++) {
        struct middle mid = {methods[m], 1, -1, NULL};
        int child;
        pid_t middle = fork_middle(&mid, 1, &child);
        int st;
        assert_int_equal(waitpid(middle, &st, 0), middle);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        /* Terminated and reaped by the middle's exit handler. */
        assert_int_equal(kill(child, 0), -1);
    }
}

struct starter {
    int fd;
    weft_process_t *p;
};

static void start_from_thread(void *arg)
{
    struct starter *s = arg;
    weft_context_t *ctx;
    weft_get_context(&ctx, "spawn");
    weft_context_process_new(ctx, &s->p, wait_for_eof, &s->fd, sizeof s->fd,
                             NULL);
    weft_process_pass_fd(s->p, s->fd);
    weft_process_start(s->p);
}

static void a_child_outlives_the_thread_that_started_it(void **state)
{
#if defined(WEFT_TSAN)
    /* Under ThreadSanitizer the calling thread makes the child (see
     * process.h), so the child ends with it. */
    skip();
#endif
    int fds[2];
    testing_pipe(fds);
    struct starter s = {fds[0], NULL};
    testing_thread_join(testing_thread_start(start_from_thread, &s));
    assert_non_null(s.p);
    /* The thread that started it is gone; the one that made it is not. */
    assert_int_equal(weft_process_join(s.p, 0.2), WEFT_ETIMEDOUT);
    assert_true(weft_process_is_alive(s.p));
    close(fds[1]);
    assert_int_equal(exit_code_of(s.p), 0);
    close(fds[0]);
    weft_process_free(s.p);
}

/* ----- fork() beside a thread that parks ----- */

static void park_until_stopped(void *arg)
{
    while (weft_event_wait(arg, 0.0005) == WEFT_ETIMEDOUT)
        ;
}

/* In a child of fork(): park on the event arg points to, in the copy of
 * the parking table, where the parent's thread was parking. */
static int park_in_child(const weft_bytes_t *arg)
{
    weft_event_t *e;
    memcpy(&e, arg->data, sizeof e);
    return weft_event_wait(e, 0.001) == WEFT_ETIMEDOUT ? 7 : 1;
}

/* A child of fork() resets its copy of the parking table, which another
 * thread of the parent was using at the time, and parks there in turn
 * (under ThreadSanitizer, a race with that thread's past accesses unless
 * the reset says why there is none). */
static void a_fork_beside_a_parking_thread_is_clean(void **state)
{
    weft_event_t stop;
    weft_event_init(&stop);
    testing_thread_t *t = testing_thread_start(park_until_stopped, &stop);
    weft_event_t *e = &stop;
    for (int i = 0; i < 20; i++) {
        weft_process_t *p = start("fork", park_in_child, &e, sizeof e);
        assert_int_equal(exit_code_of(p), 7);
        weft_process_free(p);
    }
    weft_event_set(&stop);
    testing_thread_join(t);
    weft_event_destroy(&stop);
}

/* Become cat reading the pipe of arg's first descriptor, so that it ends
 * at that pipe's end of file. arg's second descriptor closes at exec: its
 * end of file tells the parent that the exec has happened. */
static int exec_cat(const weft_bytes_t *arg)
{
    int fds[2];
    memcpy(fds, arg->data, sizeof fds);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    if (dup2(fds[0], 0) != 0)
        return 126;
    execl("/bin/cat", "cat", (char *)NULL);
    return 127;
}

struct exec_starter {
    const char *method;
    int fds[2]; /* cat's input (read end), the exec's sign (write end) */
    int seen;   /* the read end of the sign */
    weft_process_t *p;
};

static void start_exec_from_thread(void *arg)
{
    struct exec_starter *s = arg;
    s->p = NULL;
    weft_context_t *ctx;
    weft_get_context(&ctx, s->method);
    weft_process_t *p;
    if (weft_context_process_new(ctx, &p, exec_cat, s->fds, sizeof s->fds,
                                 NULL) != 0)
        return;
    weft_process_pass_fd(p, s->fds[0]);
    weft_process_pass_fd(p, s->fds[1]);
    if (weft_process_start(p) != 0) {
        weft_process_free(p);
        return;
    }
    close(s->fds[1]);
    char c;
    while (read(s->seen, &c, 1) > 0) /* until the child has exec()ed */
        ;
    s->p = p;
}

static void a_child_that_execs_outlives_the_thread_that_started_it(void **st)
{
#if defined(WEFT_TSAN)
    /* Under ThreadSanitizer the calling thread makes the child (see
     * process.h), so the child ends with it. */
    skip();
#endif
    for (int m = 0; m < 2; m++) { /* fork, spawn: forkserver's is the server */
        int in[2], sign[2];
        testing_pipe(in);
        testing_pipe(sign);
        struct exec_starter s = {methods[m], {in[0], sign[1]}, sign[0], NULL};
        testing_thread_join(testing_thread_start(start_exec_from_thread, &s));
        close(sign[0]);
        close(in[0]);
        assert_non_null(s.p);
        /* cat runs on: the thread that made it is gone, its process not. */
        assert_int_equal(weft_process_join(s.p, 0.3), WEFT_ETIMEDOUT);
        assert_true(weft_process_is_alive(s.p));
        close(in[1]);
        assert_int_equal(exit_code_of(s.p), 0);
        weft_process_free(s.p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        testing_proc_test(exit_codes_read_as_python_reports_them),
        testing_proc_test(a_killed_child_reads_minus_sigkill),
        testing_proc_test(terminate_stops_a_busy_child),
        testing_proc_test(join_with_a_timeout_waits_at_least_the_timeout),
        testing_proc_test(a_cancelled_scope_ends_a_join),
        testing_proc_test(misuse_gets_codes_and_messages),
        testing_proc_test(closing_a_running_process_is_refused),
        testing_proc_test(start_methods_and_contexts),
        testing_proc_test(children_die_by_sigkill_unless_they_ask_otherwise),
        testing_proc_test(children_know_their_names_and_their_parent),
        testing_proc_test(process_names_count_up),
        testing_proc_test(a_grandchild_is_named_after_its_parent),
        testing_proc_test(a_childs_log_records_carry_its_name),
        testing_proc_test(active_children_lists_the_running_and_reaps_the_rest),
        testing_proc_test(a_child_gets_only_the_descriptors_passed_to_it),
        testing_proc_test(a_registered_target_is_found_by_name),
        testing_proc_test(a_target_in_no_image_is_refused),
        testing_proc_test(a_large_argument_arrives_whole),
        testing_proc_test(a_parent_killed_with_sigkill_leaves_no_child),
        testing_proc_test(
            a_child_that_blocks_every_signal_dies_with_its_parent),
        testing_proc_test(daemonic_children_are_terminated_at_exit),
        /* Last: after a second thread, fork() is not for ThreadSanitizer. */
        testing_proc_test(a_fork_beside_a_parking_thread_is_clean),
        testing_proc_test(a_child_outlives_the_thread_that_started_it),
        testing_proc_test(
            a_child_that_execs_outlives_the_thread_that_started_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
