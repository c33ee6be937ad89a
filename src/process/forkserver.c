/* SPDX-License-Identifier: MIT */
/* The forkserver start method, the parent's side.
 *
 * The server is started (by spawn) the first time a process needs it, and
 * serves this process for the rest of its life. To start a child, the
 * parent makes a socket pair, the child's channel, and sends one end to the
 * server with the descriptors to pass, in one message on the control
 * socket (a SOCK_SEQPACKET pair, so that requests from several threads
 * never mix). The server forks; it answers on the channel with the child's
 * pid and a pidfd for it (made by the server, the child's parent, so no
 * pid can be reused in between), and later with the child's wait status
 * once it has reaped it. The child reads its specification from the same
 * channel, written there by the parent once the pid has come back.
 *
 * The server ends when the control socket closes, that is when this process
 * (and any fork() of it still holding the socket) has ended; its children,
 * whose parent-death signal is SIGKILL, end with it.
 */
#include "process_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkserver_int.h"

static weft_lock_t server_lock = WEFT_LOCK_INIT;
static int server_ctl = -1;
static pid_t server_pid;

void weft__forkserver_forget(void)
{
    if (server_ctl >= 0)
        close(server_ctl);
    server_ctl = -1;
    server_pid = 0;
    weft_lock_init(&server_lock);
}

static int start_server_locked(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return weft_fail(WEFT_ESYS, "socketpair: %s", strerror(errno));
    pid_t pid;
    int pidfd = -1;
    /* No lifeline: the server ends when the control socket closes. */
    int rc =
        weft__exec_self("WEFT_FORKSERVER", sv[1], NULL, 0, 0, &pid, &pidfd);
    close(sv[1]);
    if (pidfd >= 0)
        close(pidfd);
    if (rc) {
        close(sv[0]);
        return rc;
    }
    server_ctl = sv[0];
    server_pid = pid;
    return 0;
}

/* The server died: reap it (it is our child) and forget it. */
static void drop_server_locked(void)
{
    close(server_ctl);
    server_ctl = -1;
    waitpid(server_pid, NULL, 0);
    server_pid = 0;
}

static int send_request(int ctl, int chan, const int *fds, size_t n)
{
    struct weft__fs_request req = {WEFT__FS_MAGIC, (uint32_t)n, {0}};
    int all[WEFT__FS_MAX_FDS + 1];
    all[0] = chan;
    for (size_t i = 0; i < n; i++) {
        req.targets[i] = fds[i];
        all[i + 1] = fds[i];
    }
    return weft__fs_send(ctl, &req, sizeof req, all, n + 1);
}

/* Send the request, starting the server first if needed, and once more
 * with a new server if the old one has died. */
static int ask_server(int chan, const int *fds, size_t n)
{
    weft_lock_acquire(&server_lock, WEFT_FOREVER);
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (server_ctl < 0 && (rc = start_server_locked()) != 0)
            break;
        rc = send_request(server_ctl, chan, fds, n);
        if (rc != -EPIPE && rc != -ECONNRESET && rc != -ECONNREFUSED)
            break;
        drop_server_locked();
    }
    weft_lock_release(&server_lock);
    if (rc < 0)
        return weft_fail(WEFT_ESYS, "cannot reach the fork server: %s",
                         strerror(-rc));
    return rc;
}

/* The server's answer: the child's pid and pidfd. */
static int read_pid(weft_process_t *p, int chan)
{
    struct weft__fs_record rec;
    int pidfd = -1;
    int rc = weft__fs_recv(chan, &rec, &pidfd);
    if (rc == 0 && rec.tag == WEFT__FS_PID) {
        p->pid = rec.value;
        p->pidfd = pidfd;
        return 0;
    }
    if (pidfd >= 0)
        close(pidfd);
    if (rc == 0 && rec.tag == WEFT__FS_FAILED)
        return weft_fail(WEFT_ESYS, "the fork server could not fork: %s",
                         strerror(rec.value));
    return weft_fail(WEFT_ESYS, "the fork server did not answer");
}

int weft__start_forkserver(weft_process_t *p,
                           const struct weft__child_spec *spec)
{
    if (p->n_fds > WEFT__FS_MAX_FDS)
        return weft_fail(WEFT_EINVAL, "at most %d descriptors can be passed",
                         WEFT__FS_MAX_FDS);
    weft_bytes_t msg;
    int rc = weft__spec_encode(spec, &msg);
    if (rc)
        return rc;
    int chan[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0) {
        weft_bytes_free(&msg);
        return weft_fail(WEFT_ESYS, "socketpair: %s", strerror(errno));
    }
    rc = ask_server(chan[1], p->fds, p->n_fds);
    close(chan[1]);
    if (rc == 0)
        rc = read_pid(p, chan[0]);
    if (rc == 0)
        weft__write_message(chan[0], &msg); /* a dead child shows in join */
    weft_bytes_free(&msg);
    if (rc) {
        close(chan[0]);
        return rc;
    }
    p->status_fd = chan[0];
    return 0;
}

int weft__forkserver_reap(weft_process_t *p, int *exitcode)
{
    struct weft__fs_record rec;
    int fd = -1;
    if (weft__fs_recv(p->status_fd, &rec, &fd) == 0 &&
        rec.tag == WEFT__FS_EXIT) {
        *exitcode = weft__exitcode_of(rec.value);
        return 0;
    }
    if (fd >= 0)
        close(fd);
    *exitcode = 255;
    return weft_fail(WEFT_ESYS, "exit status lost: the fork server died");
}
