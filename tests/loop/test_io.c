/* SPDX-License-Identifier: MIT */
/* loop I/O: readers and writers on file descriptors, edge-triggered
 * watches, signals, and a child process's pidfd. */
#include "testing.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct pipe_state {
    weft_loop_t *loop;
    int fds[2];
    char got[64];
    size_t len;
    int reads, writes;
};

static int on_readable(void *arg)
{
    struct pipe_state *p = arg;
    p->reads++;
    ssize_t n = read(p->fds[0], p->got + p->len, sizeof p->got - p->len - 1);
    if (n > 0)
        p->len += (size_t)n;
    if (p->len >= 5) {
        weft_loop_remove_reader(p->loop, p->fds[0]);
        weft_loop_stop(p->loop);
    }
    return 0;
}

static int on_writable(void *arg)
{
    struct pipe_state *p = arg;
    p->writes++;
    assert_int_equal(write(p->fds[1], "hello", 5), 5);
    weft_loop_remove_writer(p->loop, p->fds[1]);
    return 0;
}

static void
a_reader_runs_when_data_arrives_and_a_writer_when_there_is_room(void **state)
{
    struct pipe_state p = {0};
    assert_int_equal(weft_loop_new(&p.loop), 0);
    assert_int_equal(pipe2(p.fds, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(weft_loop_add_reader(p.loop, p.fds[0], on_readable, &p),
                     0);
    assert_int_equal(weft_loop_add_writer(p.loop, p.fds[1], on_writable, &p),
                     0);
    assert_int_equal(weft_loop_run_forever(p.loop), 0);
    assert_string_equal(p.got, "hello");
    assert_int_equal(p.writes, 1);
    assert_fails_with(weft_loop_remove_reader(p.loop, p.fds[0]), WEFT_EKEY,
                      "no reader");
    assert_fails_with(weft_loop_add_reader(p.loop, -1, on_readable, &p),
                      WEFT_EINVAL, "bad file descriptor");
    close(p.fds[0]);
    close(p.fds[1]);
    weft_loop_free(p.loop);
}

struct edge {
    weft_loop_t *loop;
    int fd;
    unsigned seen;
    int calls;
};

static void on_edge(void *arg, unsigned events)
{
    struct edge *e = arg;
    e->seen |= events;
    e->calls++;
    if (events & WEFT_IO_CLOSED)
        weft_loop_stop(e->loop);
}

static int close_writer(void *arg)
{
    close(*(int *)arg);
    return 0;
}

static void a_watched_fd_reports_readable_and_closed_edges(void **state)
{
    struct edge e = {0};
    int sv[2];
    assert_int_equal(weft_loop_new(&e.loop), 0);
    assert_int_equal(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv),
        0);
    e.fd = sv[0];
    assert_int_equal(weft_loop_watch_fd(e.loop, sv[0], on_edge, &e), 0);
    assert_fails_with(weft_loop_add_reader(e.loop, sv[0], close_writer, NULL),
                      WEFT_EINVAL, "edge");
    assert_int_equal(write(sv[1], "x", 1), 1);
    weft_loop_call_later(e.loop, 0.01, close_writer, &sv[1], NULL);
    assert_int_equal(weft_loop_run_forever(e.loop), 0);
    assert_true(e.seen & WEFT_IO_READ);
    assert_true(e.seen & WEFT_IO_CLOSED);
    assert_int_equal(weft_loop_unwatch_fd(e.loop, sv[0]), 0);
    assert_fails_with(weft_loop_unwatch_fd(e.loop, sv[0]), WEFT_EKEY,
                      "not watched");
    close(sv[0]);
    weft_loop_free(e.loop);
}

static int got_signal;

static int on_signal(void *arg)
{
    got_signal++;
    weft_loop_stop(arg);
    return 0;
}

static int send_usr1(void *arg)
{
    kill(getpid(), SIGUSR1);
    return 0;
}

static void a_signal_is_delivered_as_a_callback_on_the_loop(void **state)
{
    weft_loop_t *loop, *other;
    assert_int_equal(weft_loop_new(&loop), 0);
    assert_int_equal(weft_loop_new(&other), 0);
    assert_int_equal(
        weft_loop_add_signal_handler(loop, SIGUSR1, on_signal, loop), 0);
    assert_fails_with(
        weft_loop_add_signal_handler(other, SIGUSR1, on_signal, other),
        WEFT_EEXIST, "another loop");
    assert_fails_with(
        weft_loop_add_signal_handler(loop, SIGKILL, on_signal, loop),
        WEFT_EINVAL, "bad signal");
    weft_loop_call_soon(loop, send_usr1, NULL, NULL);
    assert_int_equal(weft_loop_run_forever(loop), 0);
    assert_int_equal(got_signal, 1);
    assert_int_equal(weft_loop_remove_signal_handler(loop, SIGUSR1), 0);
    assert_fails_with(weft_loop_remove_signal_handler(loop, SIGUSR1), WEFT_EKEY,
                      "no handler");
    weft_loop_free(other);
    weft_loop_free(loop);
}

struct child {
    weft_loop_t *loop;
    int pidfd;
    int exited;
};

static int on_child_exit(void *arg)
{
    struct child *c = arg;
    c->exited = 1;
    weft_loop_remove_reader(c->loop, c->pidfd);
    weft_loop_stop(c->loop);
    return 0;
}

static void a_child_process_sentinel_is_just_a_reader(void **state)
{
    struct child c = {0};
    assert_int_equal(weft_loop_new(&c.loop), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep(20000);
        _exit(3);
    }
    c.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    assert_true(c.pidfd >= 0);
    fcntl(c.pidfd, F_SETFD, FD_CLOEXEC);
    assert_int_equal(weft_loop_add_reader(c.loop, c.pidfd, on_child_exit, &c),
                     0);
    assert_int_equal(weft_loop_run_forever(c.loop), 0);
    assert_true(c.exited);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 3);
    close(c.pidfd);
    weft_loop_free(c.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            a_reader_runs_when_data_arrives_and_a_writer_when_there_is_room),
        cmocka_unit_test(a_watched_fd_reports_readable_and_closed_edges),
        cmocka_unit_test(a_signal_is_delivered_as_a_callback_on_the_loop),
        cmocka_unit_test(a_child_process_sentinel_is_just_a_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
