/* SPDX-License-Identifier: MIT */
/* process: where pidfd_open is missing (old kernels; valgrind 3.19, which
 * answers ENOSYS), forced here with WEFT_NO_PIDFD=1: a child's sentinel is
 * a watcher's pipe that turns readable when the child ends, so joins with
 * timeouts, kills and death detection behave as with a pidfd, under each
 * start method. The process and process-pool suites also run whole with
 * WEFT_NO_PIDFD=1 (ctest entries *_no_pidfd); this file checks that the
 * fallback is the one in use, and what only it could get wrong. */
#include "testing_proc.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const methods[] = {"fork", "spawn", "forkserver"};

static int fd_in(const weft_bytes_t *arg)
{
    int fd = -1;
    if (arg->len >= sizeof fd)
        memcpy(&fd, arg->data, sizeof fd);
    return fd;
}

/* Wait until the parent writes a byte on the pipe whose read end is
 * passed (a fork child holds the write end too: no end of file comes). */
static int wait_for_byte(const weft_bytes_t *arg)
{
    char c;
    while (read(fd_in(arg), &c, 1) < 0)
        ;
    return 5;
}

static void release(int fd)
{
    assert_int_equal(write(fd, "x", 1), 1);
}

static weft_process_t *start_waiting(const char *method, int fds[2])
{
    testing_pipe(fds);
    weft_context_t *ctx;
    assert_int_equal(weft_get_context(&ctx, method), 0);
    weft_process_t *p;
    assert_int_equal(weft_context_process_new(ctx, &p, wait_for_byte, &fds[0],
                                              sizeof fds[0], NULL),
                     0);
    assert_int_equal(weft_process_pass_fd(p, fds[0]), 0);
    assert_int_equal(weft_process_start(p), 0);
    return p;
}

static int is_fifo(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

static int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

static void a_sentinel_turns_readable_exactly_when_the_child_ends(void **s)
{
    for (int m = 0; m < 3; m++) {
        int fds[2];
        weft_process_t *p = start_waiting(methods[m], fds);
        int sentinel = weft_process_sentinel(p);
        assert_true(sentinel >= 0);
        assert_true(is_fifo(sentinel)); /* a watcher's pipe, not a pidfd */
        assert_false(readable(sentinel));
        assert_true(weft_process_is_alive(p));
        double t0 = weft_monotonic();
        assert_fails_with(weft_process_join(p, 0.2), WEFT_ETIMEDOUT,
                          "still runs");
        assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
        assert_false(readable(sentinel));
        release(fds[1]);
        assert_int_equal(weft_process_join(p, 10 * testing_scale()), 0);
        assert_true(readable(sentinel));
        int code = 0;
        assert_int_equal(weft_process_exitcode(p, &code), 0);
        assert_int_equal(code, 5);
        assert_false(weft_process_is_alive(p));
        close(fds[0]);
        close(fds[1]);
        weft_process_free(p);
    }
}

static void a_killed_child_is_seen_dead_and_reads_minus_sigkill(void **s)
{
    for (int m = 0; m < 3; m++) {
        int fds[2];
        weft_process_t *p = start_waiting(methods[m], fds);
        assert_int_equal(weft_process_kill(p), 0);
        assert_int_equal(weft_process_join(p, 10 * testing_scale()), 0);
        int code = 0;
        assert_int_equal(weft_process_exitcode(p, &code), 0);
        assert_int_equal(code, -SIGKILL);
        close(fds[0]);
        close(fds[1]);
        weft_process_free(p);
    }
}

/* The watcher's write end must not survive in a process forked by the
 * program: there it would keep the pipe open after the child's end. */
static void a_fork_beside_a_watched_child_does_not_hide_its_end(void **s)
{
    int fds[2], hold[2];
    weft_process_t *p = start_waiting("spawn", fds);
    testing_pipe(hold);
    pid_t other = fork();
    if (other == 0) {
        char c;
        close(hold[1]);
        while (read(hold[0], &c, 1) > 0) /* lives until the test says */
            ;
        _exit(0);
    }
    assert_true(other > 0);
    close(hold[0]);
    release(fds[1]);
    int rc = weft_process_join(p, 5 * testing_scale());
    close(hold[1]);
    assert_int_equal(waitpid(other, NULL, 0), other);
    assert_int_equal(rc, 0);
    assert_false(weft_process_is_alive(p));
    close(fds[0]);
    close(fds[1]);
    weft_process_free(p);
}

/* In the child: its parent's sentinel is a watcher's pipe too, and says the
 * parent is alive. */
static int check_parent(const weft_bytes_t *arg)
{
    weft_process_t *parent = weft_parent_process();
    if (parent == NULL)
        return 10;
    if (!is_fifo(weft_process_sentinel(parent)))
        return 11;
    if (!weft_process_is_alive(parent))
        return 12;
    if (weft_process_join(parent, 0.05) != WEFT_ETIMEDOUT)
        return 13;
    return 0;
}

static void a_child_watches_its_parent_without_a_pidfd(void **s)
{
#if defined(WEFT_TSAN)
    /* Watching the parent starts a thread, which ThreadSanitizer does not
     * allow in a fork of a process with threads: spawned children only. */
    int first = 1;
#else
    int first = 0;
#endif
    for (int m = first; m < 3; m++) {
        weft_context_t *ctx;
        assert_int_equal(weft_get_context(&ctx, methods[m]), 0);
        weft_process_t *p;
        assert_int_equal(
            weft_context_process_new(ctx, &p, check_parent, NULL, 0, NULL), 0);
        assert_int_equal(weft_process_start(p), 0);
        assert_int_equal(weft_process_join(p, 10 * testing_scale()), 0);
        int code = -1;
        assert_int_equal(weft_process_exitcode(p, &code), 0);
        assert_int_equal(code, 0);
        weft_process_free(p);
    }
}

int main(void)
{
    /* Before the first process starts; children inherit it. */
    setenv("WEFT_NO_PIDFD", "1", 1);
    const struct CMUnitTest tests[] = {
        testing_proc_test(
            a_sentinel_turns_readable_exactly_when_the_child_ends),
        testing_proc_test(a_killed_child_is_seen_dead_and_reads_minus_sigkill),
        testing_proc_test(a_fork_beside_a_watched_child_does_not_hide_its_end),
        testing_proc_test(a_child_watches_its_parent_without_a_pidfd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
