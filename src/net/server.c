/* SPDX-License-Identifier: MIT */
/* start_server: a listening socket and an accepting task on the loop.
 *
 * The acceptor is a task: it accepts until EAGAIN, then parks on the
 * listening socket's read word like any reader, so closing the server is
 * cancelling that task. Each connection runs its handler as a task of its
 * own and frees its stream when the handler returns. The server is held
 * by its owner, its acceptor and each connection (a reference each), so
 * that the handler's argument outlives every connection; the listening
 * socket closes as soon as the acceptor ends.
 */
#include "base/check.h"
#include "net_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct weft_server {
    weft_loop_t *loop;
    weft_stream_t *listener; /* the listening socket, as a stream */
    int port;
    weft_stream_handler fn;
    void *arg;
    void (*release)(void *arg); /* for the HTTP server's own argument */
    weft_future_t *acceptor;
    _Atomic int refs;
};

static void unref(struct weft_server *sv)
{
    if (atomic_fetch_sub(&sv->refs, 1) != 1)
        return;
    if (sv->release)
        sv->release(sv->arg);
    free(sv);
}

struct conn {
    weft_stream_t *s;
    struct weft_server *server;
    weft_stream_handler fn;
    void *arg;
};

static int serve_connection(void *p, void **result)
{
    struct conn c = *(struct conn *)p;
    free(p);
    int rc = c.fn(c.s, c.arg);
    weft_stream_free(c.s);
    unref(c.server);
    return rc;
}

static int report_failure(weft_future_t *f, void *arg)
{
    weft_error_info_t e;
    if (weft_future_error(f, 0, &e) == 0 && e.code && e.code != WEFT_EEOF &&
        e.code != WEFT_ECANCELLED) {
        weft_loop_error_t le = {e.code, e.message, NULL, NULL};
        weft_loop_call_exception_handler(arg, &le);
    }
    return 0;
}

static int start_connection(struct weft_server *sv, int fd)
{
    struct conn *c = malloc(sizeof *c);
    if (c == NULL) {
        close(fd);
        return weft_fail(WEFT_ENOMEM, "server: no memory");
    }
    int rc = weft__stream_new(&c->s, fd, sv->loop);
    if (rc) {
        close(fd);
        free(c);
        return rc;
    }
    c->server = sv;
    c->fn = sv->fn;
    c->arg = sv->arg;
    weft_future_t *f;
    atomic_fetch_add(&sv->refs, 1);
    rc = weft_task_create(&f, sv->loop, serve_connection, c);
    if (rc) {
        atomic_fetch_sub(&sv->refs, 1);
        weft_stream_free(c->s);
        free(c);
        return rc;
    }
    weft_future_add_done_callback(f, report_failure, sv->loop);
    weft_future_free(f);
    return 0;
}

static int accept_loop(void *p, void **result)
{
    struct weft_server *sv = p;
    weft_stream_t *l = sv->listener;
    for (;;) {
        uint32_t seq = atomic_load_explicit(&l->rseq, memory_order_acquire);
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            start_connection(sv, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN) /* EMFILE and kin: breathe, then retry */
            weft_sleep(0.01);
        int rc = weft__net_wait(l, 0, seq, WEFT_NEVER);
        if (rc)
            return rc;
    }
}

static int acceptor_done(weft_future_t *f, void *p)
{
    struct weft_server *sv = p;
    weft_stream_free(sv->listener);
    sv->listener = NULL;
    unref(sv);
    return 0;
}

static int listen_on(const char *host, int port, int *fd_out, int *port_out)
{
    struct addrinfo *list;
    int rc = weft__resolve(host, port, 1, &list);
    if (rc)
        return rc;
    rc = WEFT_ESYS;
    for (struct addrinfo *ai = list; ai && rc; ai = ai->ai_next) {
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        int one = 1;
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
            listen(fd, 1024) != 0) {
            rc = weft_fail(WEFT_ESYS, "listen on %s:%d: %s", host, port,
                           strerror(errno));
            close(fd);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &len);
        *port_out = ntohs(ss.ss_family == AF_INET6
                              ? ((struct sockaddr_in6 *)&ss)->sin6_port
                              : ((struct sockaddr_in *)&ss)->sin_port);
        *fd_out = fd;
        rc = 0;
    }
    freeaddrinfo(list);
    return rc;
}

int weft__server_start(weft_server_t **out, weft_loop_t *loop, const char *host,
                       int port, weft_stream_handler fn, void *arg,
                       void (*release)(void *))
{
    if (out == NULL || fn == NULL)
        return weft_fail(WEFT_EINVAL, "start_server: NULL argument");
    if (loop == NULL && (loop = weft_loop_running()) == NULL) {
        int rc = weft_loop_default(&loop);
        if (rc)
            return rc;
    }
    struct weft_server *sv = calloc(1, sizeof *sv);
    if (sv == NULL)
        return weft_fail(WEFT_ENOMEM, "start_server: no memory");
    int fd = -1;
    int rc = listen_on(host, port, &fd, &sv->port);
    if (rc == 0 && (rc = weft__stream_new(&sv->listener, fd, loop)) != 0)
        close(fd);
    if (rc == 0)
        rc = weft_task_create(&sv->acceptor, loop, accept_loop, sv);
    if (rc) {
        weft_stream_free(sv->listener);
        free(sv);
        return rc;
    }
    sv->loop = loop;
    sv->fn = fn;
    sv->arg = arg;
    sv->release = release;
    atomic_init(&sv->refs, 2);
    weft_future_add_done_callback(sv->acceptor, acceptor_done, sv);
    *out = sv;
    return 0;
}

int weft_start_server(weft_server_t **out, weft_loop_t *loop, const char *host,
                      int port, weft_stream_handler fn, void *arg)
{
    return weft__server_start(out, loop, host, port, fn, arg, NULL);
}

int weft_server_port(const weft_server_t *s)
{
    WEFT_REFUSE_NULL_OR(s, 0);
    return s->port;
}

void weft_server_free(weft_server_t *s)
{
    if (s == NULL)
        return;
    if (!weft_future_done(s->acceptor))
        weft_task_cancel(s->acceptor);
    weft_future_free(s->acceptor);
    unref(s);
}
