/* SPDX-License-Identifier: MIT */
/* TCP streams.
 *
 * Two ways to wait for a socket, chosen when the stream is made:
 *   loop mode   (made in a task, or accepted by a server) the socket is
 *               watched edge-triggered on the loop's epoll; each edge bumps
 *               the stream's read or write sequence word and unparks
 *               whoever parks on it. A reader notes the word before trying
 *               recv() and, on EAGAIN, parks "if the word still holds that
 *               value": an edge that came in between changed it, so no
 *               readiness is lost. So waiting is park, and cancellation
 *               and deadlines come from the caller's scopes for free.
 *   thread mode (made in a plain thread) poll(2) on the one socket, in
 *               slices of at most 50 ms between looks at the caller's
 *               scopes.
 * After a short read the stream remembers the read word: until it
 * changes, the socket is known to be empty and the next read parks at once
 * instead of paying for a recv() that would say EAGAIN. The end of the
 * stream (or an error) is signalled by one edge only, so once it came the
 * stream always tries recv().
 */
#include "base/check.h"
#include "net_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLICE_MS 50
#define BUF_CAP 65536
#define SMALL_READ 4096

/* ----- Readiness ----- */

static void on_edge(void *arg, unsigned events)
{
    weft_stream_t *s = arg;
    if (events & WEFT_IO_CLOSED) /* the end comes once: never skip it */
        atomic_store_explicit(&s->closed, 1, memory_order_relaxed);
    if (events & (WEFT_IO_READ | WEFT_IO_CLOSED)) {
        atomic_fetch_add_explicit(&s->rseq, 1, memory_order_release);
        weft_park_wake(&s->rseq, SIZE_MAX);
    }
    if (events & (WEFT_IO_WRITE | WEFT_IO_CLOSED)) {
        atomic_fetch_add_explicit(&s->wseq, 1, memory_order_release);
        weft_park_wake(&s->wseq, SIZE_MAX);
    }
}

static int poll_slice(int fd, short events, int64_t deadline)
{
    int ms = SLICE_MS;
    if (deadline != WEFT_NEVER) {
        int64_t left = deadline - weft_monotonic_ns();
        if (left <= 0)
            return WEFT_ETIMEDOUT;
        if (left / 1000000 < ms)
            ms = (int)((left + 999999) / 1000000);
    }
    struct pollfd p = {fd, events, 0};
    poll(&p, 1, ms);
    return 0;
}

int weft__net_wait(weft_stream_t *s, int write, uint32_t seq, int64_t deadline)
{
    if (s->loop) {
        int rc = weft_park_wait(write ? &s->wseq : &s->rseq, seq, deadline);
        if (rc == WEFT_ECANCELLED)
            return weft_fail(rc, "socket %s cancelled",
                             write ? "write" : "read");
        return rc == WEFT_ETIMEDOUT ? weft_fail(rc, "socket wait timed out")
                                    : rc;
    }
    if (weft_cancelled())
        return weft_fail(WEFT_ECANCELLED, "socket %s cancelled",
                         write ? "write" : "read");
    if (poll_slice(s->fd, write ? POLLOUT : POLLIN, deadline))
        return weft_fail(WEFT_ETIMEDOUT, "socket wait timed out");
    return 0;
}

/* ----- Life ----- */

int weft__stream_new(weft_stream_t **out, int fd, weft_loop_t *loop)
{
    weft_stream_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return weft_fail(WEFT_ENOMEM, "stream: no memory");
    s->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (loop) {
        int rc = weft_loop_watch_fd(loop, fd, on_edge, s);
        if (rc) {
            free(s);
            return rc;
        }
        s->loop = loop;
    }
    *out = s;
    return 0;
}

/* The loop a stream made now should wait on: the task's, or none. */
weft_loop_t *weft__net_loop(void)
{
    return weft_task_current() ? weft_loop_running() : NULL;
}

void weft_stream_free(weft_stream_t *s)
{
    if (s == NULL)
        return;
    if (s->loop)
        weft_loop_unwatch_fd(s->loop, s->fd);
    close(s->fd);
    free(s->buf);
    free(s);
}

int weft_stream_fd(const weft_stream_t *s)
{
    WEFT_REFUSE_NULL_OR(s, -1);
    return s->fd;
}

/* ----- Reading ----- */

/* One recv() into dst, waiting for data as needed: 0 and *got > 0, or
 * WEFT_EEOF, WEFT_ECANCELLED, WEFT_ETIMEDOUT. */
static int recv_some(weft_stream_t *s, void *dst, size_t n, size_t *got,
                     int64_t deadline)
{
    for (;;) {
        uint32_t seq = atomic_load_explicit(&s->rseq, memory_order_acquire);
        if (!(s->loop && s->drained && seq == s->drained_seq &&
              !atomic_load_explicit(&s->closed, memory_order_relaxed))) {
            ssize_t r = recv(s->fd, dst, n, 0);
            if (r > 0) {
                *got = (size_t)r;
                s->drained = (size_t)r < n;
                s->drained_seq = seq;
                return 0;
            }
            if (r == 0)
                return weft_fail(WEFT_EEOF, "end of stream");
            if (errno == ECONNRESET || errno == EPIPE)
                return weft_fail(WEFT_EEOF, "connection reset by peer");
            if (errno != EAGAIN && errno != EINTR)
                return weft_fail(WEFT_EEOF, "recv: %s", strerror(errno));
            s->drained = 0;
        }
        int rc = weft__net_wait(s, 0, seq, deadline);
        if (rc)
            return rc;
    }
}

static size_t take_buffered(weft_stream_t *s, void *dst, size_t n)
{
    size_t k = n < s->len ? n : s->len;
    memcpy(dst, s->buf + s->start, k);
    s->start += k;
    s->len -= k;
    return k;
}

static int ensure_buffer(weft_stream_t *s);
static int buffer_more(weft_stream_t *s);

/* Read into dst: small reads go through the stream's buffer, so that one
 * recv() asks for up to 64 KiB and a short answer tells that the socket is
 * empty (the next read then parks without a recv() that would fail); large
 * ones go straight to the caller's memory. */
static int read_some(weft_stream_t *s, void *dst, size_t n, size_t *got)
{
    if (s->len) {
        *got = take_buffered(s, dst, n);
        return 0;
    }
    if (n >= SMALL_READ || ensure_buffer(s) != 0)
        return recv_some(s, dst, n, got, WEFT_NEVER);
    int rc = buffer_more(s);
    *got = s->len ? take_buffered(s, dst, n) : 0;
    return *got ? 0 : rc;
}

int weft_stream_read(weft_stream_t *s, void *buf, size_t n, size_t *got)
{
    if (s == NULL || (buf == NULL && n) || got == NULL)
        return weft_fail(WEFT_EINVAL, "stream_read: NULL argument");
    *got = 0;
    if (n == 0)
        return 0;
    return read_some(s, buf, n, got);
}

int weft_stream_read_exactly(weft_stream_t *s, void *buf, size_t n, size_t *got)
{
    if (s == NULL || (buf == NULL && n))
        return weft_fail(WEFT_EINVAL, "read_exactly: NULL argument");
    size_t have = 0;
    int rc = 0;
    while (have < n && rc == 0) {
        size_t k = 0;
        rc = read_some(s, (char *)buf + have, n - have, &k);
        have += k;
    }
    if (got)
        *got = have;
    if (rc == WEFT_EEOF)
        return weft_fail(WEFT_EEOF, "%zu bytes read on %zu expected", have, n);
    return rc;
}

static int ensure_buffer(weft_stream_t *s)
{
    if (s->buf)
        return 0;
    s->buf = malloc(BUF_CAP);
    if (s->buf == NULL)
        return weft_fail(WEFT_ENOMEM, "stream: no memory for a buffer");
    s->cap = BUF_CAP;
    return 0;
}

/* Move the buffered bytes to the front and read more behind them. */
static int buffer_more(weft_stream_t *s)
{
    memmove(s->buf, s->buf + s->start, s->len);
    s->start = 0;
    size_t k = 0;
    int rc = recv_some(s, s->buf + s->len, s->cap - s->len, &k, WEFT_NEVER);
    s->len += k;
    return rc;
}

int weft__stream_peek(weft_stream_t *s, const unsigned char **data, size_t *len,
                      int more)
{
    int rc = ensure_buffer(s);
    if (rc == 0 && (more || s->len == 0)) {
        if (s->len == s->cap)
            return weft_fail(WEFT_EMSGSIZE, "stream buffer full");
        rc = buffer_more(s);
    }
    *data = s->buf ? s->buf + s->start : NULL;
    *len = s->len;
    return rc;
}

void weft__stream_consume(weft_stream_t *s, size_t n)
{
    s->start += n;
    s->len -= n;
}

static const unsigned char *find(const unsigned char *hay, size_t n,
                                 const void *sep, size_t seplen)
{
    return memmem(hay, n, sep, seplen);
}

int weft_stream_read_until(weft_stream_t *s, const void *sep, size_t seplen,
                           void *buf, size_t cap, size_t *len)
{
    if (s == NULL || sep == NULL || seplen == 0 || buf == NULL || !len)
        return weft_fail(WEFT_EINVAL, "read_until: bad argument");
    int rc = ensure_buffer(s);
    while (rc == 0) {
        const unsigned char *hit = find(s->buf + s->start, s->len, sep, seplen);
        if (hit) {
            size_t n = (size_t)(hit - (s->buf + s->start)) + seplen;
            if (n > cap)
                break;
            *len = take_buffered(s, buf, n);
            return 0;
        }
        if (s->len >= cap || s->len == s->cap)
            break;
        rc = buffer_more(s);
    }
    if (rc)
        return rc;
    return weft_fail(WEFT_EMSGSIZE, "separator not found within %zu bytes",
                     cap);
}

int weft_stream_readline(weft_stream_t *s, char *buf, size_t cap, size_t *len)
{
    return weft_stream_read_until(s, "\n", 1, buf, cap, len);
}

/* ----- Writing ----- */

int weft_stream_write(weft_stream_t *s, const void *data, size_t n)
{
    if (s == NULL || (data == NULL && n))
        return weft_fail(WEFT_EINVAL, "stream_write: NULL argument");
    size_t sent = 0;
    while (sent < n) {
        uint32_t seq = atomic_load_explicit(&s->wseq, memory_order_acquire);
        ssize_t r =
            send(s->fd, (const char *)data + sent, n - sent, MSG_NOSIGNAL);
        if (r >= 0) {
            sent += (size_t)r;
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET)
            return weft_fail(WEFT_EEOF, "connection closed by peer");
        if (errno != EAGAIN && errno != EINTR)
            return weft_fail(WEFT_ESYS, "send: %s", strerror(errno));
        int rc = errno == EINTR ? 0 : weft__net_wait(s, 1, seq, WEFT_NEVER);
        if (rc)
            return rc;
    }
    return 0;
}

int weft_stream_drain(weft_stream_t *s)
{
    if (s == NULL)
        return weft_fail(WEFT_EINVAL, "drain: NULL stream");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err)
        return weft_fail(WEFT_EEOF, "connection lost: %s", strerror(err));
    return 0;
}

int weft_stream_write_eof(weft_stream_t *s)
{
    if (s == NULL)
        return weft_fail(WEFT_EINVAL, "write_eof: NULL stream");
    if (shutdown(s->fd, SHUT_WR) != 0)
        return weft_fail(WEFT_ESYS, "shutdown: %s", strerror(errno));
    return 0;
}
