/* SPDX-License-Identifier: MIT */
/* The fork server itself: a process with one thread that forks children on
 * request (see forkserver.c for the protocol).
 *
 * Its loop waits on the control socket and on a signalfd for SIGCHLD. A
 * request is served at once: fork, answer with the pid and a pidfd, keep
 * the channel. A SIGCHLD reaps every ended child and sends each one's wait
 * status on its channel, then closes it. End of file on the control socket
 * (the parent is gone) ends the server; its children then get SIGKILL from
 * the kernel (their parent-death signal). The server ignores SIGINT, as
 * Python's does, so that ^C reaches the children and the parent but leaves
 * the server to end with its parent.
 */
#include "process_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkserver_int.h"

/* ----- Messages with descriptors ----- */

int weft__fs_send(int sock, const void *data, size_t len, const int *fds,
                  size_t n)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * (WEFT__FS_MAX_FDS + 1))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {(void *)data, len};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (n > 0) {
        memset(&ctl, 0, sizeof ctl);
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    ssize_t r;
    do
        r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

/* The descriptors attached to msg: up to max into fds; the count. Extra
 * ones are closed. */
static size_t take_fds(struct msghdr *msg, int *fds, size_t max)
{
    size_t n = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (n < max)
                fds[n++] = fd;
            else
                close(fd);
        }
    }
    return n;
}

int weft__fs_recv(int sock, struct weft__fs_record *rec, int *fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    *fd = -1;
    size_t got = 0;
    while (got < sizeof *rec) {
        struct iovec iov = {(char *)rec + got, sizeof *rec - got};
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof ctl.buf;
        ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        if (*fd < 0)
            take_fds(&msg, fd, 1);
        got += (size_t)r;
    }
    return 0;
}

/* ----- The server's children ----- */

struct kid {
    pid_t pid;
    int chan;
};

static struct kid *kids;
static size_t n_kids, cap_kids;

static int remember(pid_t pid, int chan)
{
    if (n_kids == cap_kids) {
        size_t cap = cap_kids ? 2 * cap_kids : 16;
        struct kid *k = realloc(kids, cap * sizeof *k);
        if (k == NULL)
            return -1;
        kids = k;
        cap_kids = cap;
    }
    kids[n_kids++] = (struct kid){pid, chan};
    return 0;
}

static void report_exit(pid_t pid, int status)
{
    for (size_t i = 0; i < n_kids; i++) {
        if (kids[i].pid != pid)
            continue;
        struct weft__fs_record rec = {WEFT__FS_EXIT, status};
        weft__fs_send(kids[i].chan, &rec, sizeof rec, NULL, 0);
        close(kids[i].chan);
        kids[i] = kids[--n_kids];
        return;
    }
}

static void reap_all(int sfd)
{
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si)
        ;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        report_exit(pid, status);
}

/* ----- Serving a request ----- */

static int cmp_dst(const void *a, const void *b)
{
    const struct weft__fd_move *x = a, *y = b;
    return (x->dst > y->dst) - (x->dst < y->dst);
}

/* The child: take its descriptors, read its specification, become it. */
static _Noreturn void run_kid(struct weft__fd_move *moves, size_t n,
                              int chan_at, pid_t server)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    free(kids);
    kids = NULL;
    n_kids = cap_kids = 0;
    weft_bytes_t msg;
    struct weft__child_spec spec;
    if (weft__place_fds(moves, n) != 0 ||
        weft__read_message(chan_at, &msg) != 0 ||
        weft__spec_decode(&spec, msg.data, msg.len) != 0)
        _exit(255);
    close(chan_at);
    weft_bytes_free(&msg);
    weft__child_main(&spec, server);
}

static void answer(int chan, uint32_t tag, int value, int fd)
{
    struct weft__fs_record rec = {tag, value};
    weft__fs_send(chan, &rec, sizeof rec, &fd, fd >= 0 ? 1 : 0);
}

static void serve(const struct weft__fs_request *req, int *fds, size_t nfds)
{
    int chan = fds[0];
    size_t n = nfds - 1 < req->nfds ? nfds - 1 : req->nfds;
    struct weft__fd_move moves[WEFT__FS_MAX_FDS + 1];
    int top = 2;
    for (size_t i = 0; i < n; i++) {
        if (req->targets[i] < 3 || req->targets[i] > (1 << 20)) {
            for (size_t k = 1; k < nfds; k++)
                close(fds[k]);
            answer(chan, WEFT__FS_FAILED, EBADF, -1);
            close(chan);
            return;
        }
        moves[i] = (struct weft__fd_move){fds[i + 1], req->targets[i], 0};
        if (req->targets[i] > top)
            top = req->targets[i];
    }
    moves[n] = (struct weft__fd_move){chan, top + 1, 1};
    qsort(moves, n + 1, sizeof moves[0], cmp_dst);
    /* Taken before fork(): the child may run only after the server has
     * died, when getppid() would already name its new parent. */
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid == 0)
        run_kid(moves, n + 1, top + 1, server);
    for (size_t i = 1; i < nfds; i++)
        close(fds[i]);
    if (pid < 0) {
        answer(chan, WEFT__FS_FAILED, errno, -1);
        close(chan);
        return;
    }
    int pidfd = weft__pidfd_open(pid);
    answer(chan, WEFT__FS_PID, pid, pidfd);
    if (pidfd >= 0)
        close(pidfd);
    if (remember(pid, chan) != 0)
        close(chan); /* its status will be lost: the parent reads 255 */
}

/* One request from the control socket; 0 when the parent is gone. */
static int take_request(int ctl)
{
    struct weft__fs_request req;
    union {
        char buf[CMSG_SPACE(sizeof(int) * (WEFT__FS_MAX_FDS + 1))];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {&req, sizeof req};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.buf;
    msg.msg_controllen = sizeof cbuf.buf;
    ssize_t r = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN;
    if (r == 0)
        return 0;
    int fds[WEFT__FS_MAX_FDS + 1];
    size_t nfds = take_fds(&msg, fds, WEFT__FS_MAX_FDS + 1);
    if ((size_t)r < 2 * sizeof(uint32_t) || req.magic != WEFT__FS_MAGIC ||
        nfds == 0 || req.nfds > WEFT__FS_MAX_FDS) {
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        return 1;
    }
    serve(&req, fds, nfds);
    return 1;
}

_Noreturn void weft__forkserver_main(int ctl)
{
    prctl(PR_SET_NAME, "weft-forkserver");
    signal(SIGINT, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        _exit(255);
    for (;;) {
        struct pollfd p[2] = {{ctl, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            _exit(255);
        if (p[1].revents)
            reap_all(sfd);
        if (p[0].revents && !take_request(ctl))
            _exit(0);
    }
}
