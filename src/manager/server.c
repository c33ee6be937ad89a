/* SPDX-License-Identifier: MIT */
/* The manager's server: the target of its process.
 *
 * The main thread waits on three things: the listening socket (a new client
 * gets a thread of its own), a signalfd, and a pipe on which a client
 * thread asks to stop. A client thread authenticates its client (giving it
 * 10 s to answer), then answers requests one at a time; each request runs
 * whole under the store's lock, so every request is atomic and a slow or
 * silent client holds up no one else.
 *
 * Starting. The server makes its own address (the directory and the
 * socket), and tells its owner where it listens, or why it cannot, on a
 * pipe the owner passed it. It does so only once the owner's death would
 * reach it as a SIGTERM (below), so that an owner killed at any point of
 * the start leaves no socket and no directory behind.
 *
 * Only the owner stops it. A shutdown request counts only on a connection
 * the owner made (the peer credentials the kernel took at connect() name
 * the owner's pid); any other client that asks is refused with
 * WEFT_EPERM, and the server goes on.
 *
 * Stopping. The server stops on a shutdown request from its owner, on
 * SIGTERM (its owner terminates it at exit: it is daemonic), and when its
 * parent dies: rather than the SIGKILL every child gets then (process.h),
 * it asks for SIGTERM, which it blocks and reads from the signalfd. In
 * each case it closes the listening socket, removes the socket's file and
 * the directory made for it, and returns (its client threads are daemons:
 * the process ends with them blocked). SIGINT is ignored, as Python's
 * server does, so that a ^C reaches the owner, which stops the server in
 * its own time.
 */
#include "manager_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/chaos.h"
#include "weft/thread.h"

#define HANDSHAKE_SECONDS 10

struct server {
    weft__store_t *store;
    weft_lock_t lock;
    unsigned char key[WEFT__MGR_KEY_BYTES];
    pid_t owner;
    int stop[2];
};

struct client {
    struct server *server;
    weft_connection_t *conn;
    int fd;
    int is_owner; /* connected by the process that started the server */
};

static void set_receive_timeout(int fd, int seconds)
{
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* The refusal of a stop asked for by another process than the owner. */
static void refuse_stop(weft__wbuf_t *resp)
{
    static const char msg[] = "only the process that started the manager "
                              "stops it";
    weft__w_u32(resp, (uint32_t)WEFT_EPERM);
    weft__w_blob(resp, msg, sizeof msg - 1);
}

/* Answer one request; 0 to go on, 1 when the owner asked to stop. */
static int answer(struct client *c, const weft_bytes_t *req)
{
    weft__rbuf_t r = {req->data, req->len, 0, 0};
    weft__wbuf_t resp = {0};
    int stop = req->len > 0 && req->data[0] == OP_SHUTDOWN;
    if (stop && !c->is_owner) {
        refuse_stop(&resp);
        stop = 0;
    } else if (stop) {
        weft__w_u32(&resp, 0);
    } else {
        weft_lock_acquire(&c->server->lock, WEFT_FOREVER);
        weft__store_run(c->server->store, &r, &resp);
        weft_lock_release(&c->server->lock);
    }
    int rc = resp.failed
                 ? -1
                 : weft_connection_send_bytes(c->conn, resp.p, resp.len);
    weft__w_free(&resp);
    return rc != 0 ? -1 : stop;
}

static int serve_client(void *arg, void **result)
{
    struct client *c = arg;
    set_receive_timeout(c->fd, HANDSHAKE_SECONDS);
    int rc = weft__mgr_auth_server(c->conn, c->server->key);
    set_receive_timeout(c->fd, 0);
    while (rc == 0) {
        weft_bytes_t req = {0};
        if (weft_connection_recv_bytes(c->conn, &req) != 0)
            break;
        rc = answer(c, &req);
        weft_bytes_free(&req);
    }
    if (rc == 1) {
        ssize_t w = write(c->server->stop[1], "x", 1);
        (void)w; /* a full pipe already says stop */
    }
    weft_connection_free(c->conn);
    free(c);
    return 0;
}

/* Whether the process that connected fd is pid: the kernel records the
 * peer's credentials at connect(), so no client can claim another's. The
 * owner's pid cannot have been reused while the server runs: the server
 * ends when its owner does. */
static int connected_by(int fd, pid_t pid)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           len == sizeof cred && cred.pid == pid;
}

static void take_client(struct server *s, int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct client *c = calloc(1, sizeof *c);
    weft_thread_opts_t opts = {"manager-client", 1, 0};
    weft_thread_t *t = NULL;
    if (c == NULL || weft_connection_new_fd(&c->conn, fd) != 0) {
        free(c);
        return; /* new_fd closed fd, or the client goes unanswered */
    }
    c->server = s;
    c->fd = fd;
    c->is_owner = connected_by(fd, s->owner);
    weft_connection_set_max_message(c->conn, WEFT__MGR_MAX_MESSAGE);
    if (weft_thread_new(&t, serve_client, c, &opts) != 0 ||
        weft_thread_start(t) != 0) {
        weft_connection_free(c->conn);
        free(c);
    }
    weft_thread_free(t);
}

/* SIGTERM, blocked and read from an fd, also as the parent-death signal.
 * -1 if the parent is gone already (or no fd could be made). */
static int watch_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN); /* an owner gone before the report is read */
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd >= 0 && weft_set_parent_death_signal(SIGTERM) != 0) {
        close(sfd);
        return -1;
    }
    return sfd;
}

/* A signal came: 1 if it means stop. */
static int stop_signal(int sfd)
{
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != sizeof si)
        return 0;
    return si.ssi_signo == SIGTERM;
}

static void run(struct server *s, int listen_fd, int sfd)
{
    for (;;) {
        struct pollfd p[3] = {
            {listen_fd, POLLIN, 0}, {sfd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            return;
        if (p[2].revents || (p[1].revents && stop_signal(sfd)))
            return;
        if (p[0].revents)
            take_client(s, listen_fd);
    }
}

/* ----- The address ----- */

static int listen_at(const char *path, int *out)
{
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        if (err == EADDRINUSE)
            return weft_fail(WEFT_EEXIST, "%s is taken", path);
        return weft_fail(WEFT_ESYS, "bind %s: %s", path, strerror(err));
    }
    if (chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
        int err = errno;
        close(fd);
        unlink(path);
        return weft_fail(WEFT_ESYS, "listen %s: %s", path, strerror(err));
    }
    *out = fd;
    return 0;
}

/* Make the address a asks for (a fresh directory and the socket in it, or
 * the socket at the given path), its names in r, and listen there. */
static int make_address(const struct weft__mgr_server_arg *a,
                        struct weft__mgr_server_report *r, int *fd)
{
    char path[WEFT__MGR_PATH_MAX];
    memcpy(path, a->path, sizeof path);
    path[sizeof path - 1] = '\0';
    if (a->private_dir) {
        if (mkdtemp(path) == NULL)
            return weft_fail(WEFT_ESYS, "mkdtemp: %s", strerror(errno));
        memcpy(r->dir, path, sizeof r->dir);
        /* Fits: the owner checked that the template leaves room. */
        snprintf(r->path, sizeof r->path, "%.*s/socket",
                 (int)(sizeof r->path - sizeof "/socket"), path);
    } else {
        memcpy(r->path, path, sizeof r->path);
    }
    int rc = listen_at(r->path, fd);
    if (rc && r->dir[0])
        rmdir(r->dir);
    return rc;
}

/* Tell the owner (a pipe, one write under PIPE_BUF: whole or nothing). */
static void report(int fd, struct weft__mgr_server_report *r, int code)
{
    r->code = code;
    if (code)
        snprintf(r->message, sizeof r->message, "%s", weft_last_message());
    ssize_t w = write(fd, r, sizeof *r);
    (void)w; /* an owner that is gone reads nothing anyway */
    close(fd);
}

/* The lifeline comes first (watch_signals()): from then on, the death of
 * the owner is a SIGTERM here, so the address is made only once it would
 * be removed whatever happens to the owner.
 *
 * The server's state is on the heap and never freed: its client threads
 * are daemons that may still be answering a request (under its lock, in
 * its store) when this returns, until the process ends. On this stack it
 * would be reused under them. */
int weft__mgr_serve(const weft_bytes_t *arg)
{
    struct weft__mgr_server_arg a;
    struct server *s = calloc(1, sizeof *s);
    if (arg->len != sizeof a || s == NULL)
        return 2;
    memcpy(&a, arg->data, sizeof a);
    memcpy(s->key, a.key, sizeof s->key);
    s->owner = (pid_t)a.owner;
    weft_lock_init(&s->lock);
    struct weft__mgr_server_report r;
    memset(&r, 0, sizeof r);
    int listen_fd = -1, sfd = watch_signals();
    if (sfd < 0)
        return 3; /* the owner is gone: nothing was made */
    int rc = pipe2(s->stop, O_CLOEXEC) < 0 || weft__store_new(&s->store) != 0
                 ? weft_fail(WEFT_ENOMEM, "the manager's server cannot start")
                 : make_address(&a, &r, &listen_fd);
    WEFT_CHAOS_POINT(); /* the owner may die between the two */
    report(a.report_fd, &r, rc);
    if (rc)
        return 3;
    run(s, listen_fd, sfd);
    close(listen_fd);
    unlink(r.path);
    if (r.dir[0])
        rmdir(r.dir);
    return 0;
}
