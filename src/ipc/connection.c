/* SPDX-License-Identifier: MIT */
/* Connection: multiprocessing.connection.Connection over pipes or a stream
 * socket, with framed messages (frame.c).
 *
 * Receiving reads ahead up to READ_CHUNK bytes at a time into the frame
 * reader, so a stream of small messages costs far fewer system calls than
 * messages; a message of LARGE bytes or more is read straight into its
 * destination once its header is in, so it is copied once. Sending copies
 * a small message behind its header and writes both with one call; a
 * larger one goes out with writev(). send_bytes_many packs many messages
 * into each writev(): small ones copied behind their headers into one
 * buffer, larger ones by reference.
 *
 * Locks: send_lock serializes senders, recv_lock receivers; neither is
 * ever taken while the other is held.
 */
#include "base/check.h"
#include "ipc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define LARGE 65536
#define SMALL_SEND 4096

_Static_assert(WEFT__FRAME_AGAIN == WEFT_EAGAIN, "frame codes are weft's");
_Static_assert(WEFT__FRAME_BAD == WEFT_EPROTO, "frame codes are weft's");
_Static_assert(WEFT__FRAME_TOO_BIG == WEFT_EMSGSIZE, "frame codes are weft's");
_Static_assert(WEFT__FRAME_NOMEM == WEFT_ENOMEM, "frame codes are weft's");
_Static_assert(sizeof(weft_share_t) == 128, "a share is 128 bytes");

struct weft_connection {
    int rfd, wfd; /* -1 where the end cannot receive, send */
    int socket;
    _Atomic int closed;
    size_t max;
    weft_lock_t send_lock, recv_lock;
    weft__frame_reader_t reader;
};

void weft__ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
        old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

/* ----- Making and closing ----- */

static int make(weft_connection_t **out, int rfd, int wfd, int socket)
{
    weft_connection_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return weft_fail(WEFT_ENOMEM, "connection: no memory");
    c->rfd = rfd;
    c->wfd = wfd;
    c->socket = socket;
    c->max = WEFT_CONNECTION_MAX_DEFAULT;
    weft_lock_init(&c->send_lock);
    weft_lock_init(&c->recv_lock);
    weft__frame_reader_init(&c->reader, c->max);
    if (wfd >= 0 && !socket)
        weft__ignore_sigpipe();
    *out = c;
    return 0;
}

static void close_fds(int a, int b)
{
    if (a >= 0)
        close(a);
    if (b >= 0 && b != a)
        close(b);
}

int weft_pipe(weft_connection_t **a, weft_connection_t **b, int duplex)
{
    if (a == NULL || b == NULL)
        return weft_fail(WEFT_EINVAL, "weft_pipe: NULL out");
    int p[2], q[2] = {-1, -1};
    if (pipe2(p, O_CLOEXEC) < 0 || (duplex && pipe2(q, O_CLOEXEC) < 0)) {
        int err = errno;
        if (q[0] < 0 && duplex)
            close_fds(p[0], p[1]);
        return weft_fail(WEFT_ESYS, "pipe2: %s", strerror(err));
    }
    /* a receives on p and, when duplex, sends on q; b the other way. */
    int rc = make(a, p[0], duplex ? q[1] : -1, 0);
    if (rc == 0 && (rc = make(b, duplex ? q[0] : -1, p[1], 0)) != 0)
        weft_connection_free(*a);
    if (rc) {
        close_fds(p[0], p[1]);
        close_fds(q[0], q[1]);
    }
    return rc;
}

int weft_connection_new_fd(weft_connection_t **out, int fd)
{
    struct stat st;
    int fl = fcntl(fd, F_GETFL);
    if (out == NULL || fd < 0 || fstat(fd, &st) < 0 || fl < 0 ||
        !(S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))) {
        if (fd >= 0)
            close(fd);
        return weft_fail(WEFT_EINVAL, "a connection needs a socket or pipe");
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    int acc = fl & O_ACCMODE, sock = S_ISSOCK(st.st_mode);
    int r = sock || acc != O_WRONLY ? fd : -1;
    int w = sock || acc != O_RDONLY ? fd : -1;
    int rc = make(out, r, w, sock);
    if (rc)
        close(fd);
    return rc;
}

int weft_connection_close(weft_connection_t *c)
{
    if (c == NULL)
        return weft_fail(WEFT_EINVAL, "weft_connection_close: NULL");
    if (atomic_exchange(&c->closed, 1))
        return 0;
    close_fds(c->rfd, c->wfd);
    return 0;
}

void weft_connection_free(weft_connection_t *c)
{
    if (c == NULL)
        return;
    weft_connection_close(c);
    weft__frame_reader_destroy(&c->reader);
    free(c);
}

/* ----- Checks ----- */

static int usable(const weft_connection_t *c, int receiving)
{
    if (c == NULL)
        return weft_fail(WEFT_EINVAL, "connection: NULL");
    if (atomic_load(&c->closed))
        return weft_fail(WEFT_ECLOSED, "handle is closed");
    if (receiving && c->rfd < 0)
        return weft_fail(WEFT_EINVAL, "connection is write-only");
    if (!receiving && c->wfd < 0)
        return weft_fail(WEFT_EINVAL, "connection is read-only");
    return 0;
}

/* ----- Sending ----- */

static ssize_t put_out(const weft_connection_t *c, struct iovec *iov, int n)
{
    if (!c->socket && n == 1) /* write() costs less than writev() */
        return write(c->wfd, iov->iov_base, iov->iov_len);
    if (!c->socket)
        return writev(c->wfd, iov, n);
    struct msghdr m = {0};
    m.msg_iov = iov;
    m.msg_iovlen = (size_t)n;
    return sendmsg(c->wfd, &m, MSG_NOSIGNAL);
}

/* Write the n buffers at iov, all of them; *written (may be NULL) gets the
 * bytes that went out, all of them or fewer after an error. */
static int write_all(const weft_connection_t *c, struct iovec *iov, int n,
                     size_t *written)
{
    size_t total = 0;
    if (written == NULL)
        written = &total;
    *written = 0;
    while (n > 0) {
        ssize_t w = put_out(c, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
            return weft_fail(WEFT_EEOF, "the peer closed the connection");
        if (w < 0)
            return weft_fail(WEFT_ESYS, "write: %s", strerror(errno));
        size_t done = (size_t)w;
        *written += done;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

int weft_connection_send_bytes(weft_connection_t *c, const void *data,
                               size_t len)
{
    int rc = usable(c, 0);
    if (rc)
        return rc;
    if (data == NULL && len > 0)
        return weft_fail(WEFT_EINVAL, "send_bytes: NULL data");
    if (len > WEFT__FRAME_MAX)
        return weft_fail(WEFT_EMSGSIZE, "message of %zu bytes: at most %u", len,
                         (unsigned)WEFT__FRAME_MAX);
    unsigned char small[SMALL_SEND];
    weft__frame_header(small, (uint32_t)len);
    struct iovec iov[2] = {{small, WEFT__FRAME_HEADER}, {(void *)data, len}};
    int n = len ? 2 : 1;
    if (len && len <= SMALL_SEND - WEFT__FRAME_HEADER) {
        memcpy(small + WEFT__FRAME_HEADER, data, len);
        iov[0].iov_len += len;
        n = 1;
    }
    weft_lock_acquire(&c->send_lock, WEFT_FOREVER);
    rc = write_all(c, iov, n, NULL);
    weft_lock_release(&c->send_lock);
    return rc;
}

/* ----- Sending many ----- */

#define BATCH_BYTES 4096 /* small messages copied per writev() */
#define BATCH_IOV 32
#define BATCH_MSGS 128
#define BATCH_SMALL 1024 /* copied when no longer */

struct batch {
    unsigned char buf[BATCH_BYTES];
    size_t used;
    struct iovec iov[BATCH_IOV];
    int n;
    size_t ends[BATCH_MSGS]; /* where each message ends, in bytes */
    size_t msgs, bytes;
};

static int check_message(const weft_bytes_t *m)
{
    if (m->data == NULL && m->len > 0)
        return weft_fail(WEFT_EINVAL, "send_bytes_many: NULL data");
    if (m->len > WEFT__FRAME_MAX)
        return weft_fail(WEFT_EMSGSIZE, "message of %zu bytes: at most %u",
                         m->len, (unsigned)WEFT__FRAME_MAX);
    return 0;
}

/* Append len bytes at p by reference, or copy them into the buffer. */
static void batch_add(struct batch *b, const void *p, size_t len, int copy)
{
    if (copy) {
        void *at = b->buf + b->used;
        memcpy(at, p, len);
        b->used += len;
        struct iovec *last = b->n ? &b->iov[b->n - 1] : NULL;
        if (last && (char *)last->iov_base + last->iov_len == (char *)at) {
            last->iov_len += len;
            return;
        }
        p = at;
    }
    b->iov[b->n].iov_base = (void *)p;
    b->iov[b->n++].iov_len = len;
}

/* Does message m fit in b as it stands? */
static int batch_fits(const struct batch *b, const weft_bytes_t *m)
{
    int small = m->len <= BATCH_SMALL;
    size_t copied = WEFT__FRAME_HEADER + (small ? m->len : 0);
    return b->msgs < BATCH_MSGS && b->n + 2 - small <= BATCH_IOV &&
           b->used + copied <= BATCH_BYTES;
}

static void batch_put(struct batch *b, const weft_bytes_t *m)
{
    unsigned char h[WEFT__FRAME_HEADER];
    weft__frame_header(h, (uint32_t)m->len);
    batch_add(b, h, sizeof h, 1);
    if (m->len)
        batch_add(b, m->data, m->len, m->len <= BATCH_SMALL);
    b->bytes += sizeof h + m->len;
    b->ends[b->msgs++] = b->bytes;
}

/* Write the batch out and empty it; *sent counts the messages that went
 * out whole. */
static int batch_flush(const weft_connection_t *c, struct batch *b,
                       size_t *sent)
{
    size_t written;
    int rc = write_all(c, b->iov, b->n, &written);
    size_t whole = 0;
    while (whole < b->msgs && b->ends[whole] <= written)
        whole++;
    *sent += whole;
    b->used = b->bytes = b->msgs = 0;
    b->n = 0;
    return rc;
}

int weft_connection_send_bytes_many(weft_connection_t *c,
                                    const weft_bytes_t *msgs, size_t n,
                                    size_t *sent)
{
    size_t count = 0;
    if (sent == NULL)
        sent = &count;
    *sent = 0;
    int rc = usable(c, 0);
    if (rc)
        return rc;
    if (msgs == NULL && n > 0)
        return weft_fail(WEFT_EINVAL, "send_bytes_many: NULL messages");
    for (size_t i = 0; i < n; i++)
        if ((rc = check_message(&msgs[i])) != 0)
            return rc;
    struct batch *b = malloc(sizeof *b);
    if (b == NULL)
        return weft_fail(WEFT_ENOMEM, "send_bytes_many: no memory");
    b->used = b->bytes = b->msgs = 0;
    b->n = 0;
    weft_lock_acquire(&c->send_lock, WEFT_FOREVER);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!batch_fits(b, &msgs[i]))
            rc = batch_flush(c, b, sent);
        if (rc == 0)
            batch_put(b, &msgs[i]);
    }
    if (rc == 0 && b->n)
        rc = batch_flush(c, b, sent);
    weft_lock_release(&c->send_lock);
    free(b);
    return rc;
}

/* ----- Receiving ----- */

/* The reader's error as a code with a message. */
static int frame_error(weft_connection_t *c, int code)
{
    if (code == WEFT_EMSGSIZE)
        return weft_fail(code,
                         "a message is longer than the maximum of %zu "
                         "bytes: the connection cannot go on",
                         c->max);
    if (code == WEFT_ENOMEM)
        return weft_fail(code, "no memory for a message");
    return weft_fail(WEFT_EPROTO,
                     "malformed or truncated message: the connection cannot "
                     "go on");
}

/* Read what is there (at least 1 byte, blocking) into the reader. */
static int fill(weft_connection_t *c, size_t want)
{
    unsigned char *p;
    size_t n;
    if (weft__frame_reader_space(&c->reader,
                                 want > READ_CHUNK ? want : READ_CHUNK, &p, &n))
        return frame_error(c, WEFT_ENOMEM);
    ssize_t got;
    do
        got = read(c->rfd, p, n);
    while (got < 0 && errno == EINTR);
    if (got < 0 && errno != ECONNRESET)
        return weft_fail(WEFT_ESYS, "read: %s", strerror(errno));
    if (got <= 0) {
        if (weft__frame_reader_eof(&c->reader) == 0)
            return weft_fail(WEFT_EEOF, "the peer closed the connection");
        c->reader.error = WEFT_EPROTO;
        return weft_fail(WEFT_EPROTO, "truncated message: the peer closed "
                                      "in the middle of it");
    }
    weft__frame_reader_commit(&c->reader, (size_t)got);
    return 0;
}

/* Read exactly len bytes into dst, bypassing the reader (which is empty:
 * the payload's start was taken from it). */
static int read_exact(weft_connection_t *c, unsigned char *dst, size_t len)
{
    while (len > 0) {
        ssize_t got = read(c->rfd, dst, len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            c->reader.error = WEFT_EPROTO;
            if (got < 0 && errno != ECONNRESET)
                return weft_fail(WEFT_ESYS, "read: %s", strerror(errno));
            return weft_fail(WEFT_EPROTO, "truncated message: the peer "
                                          "closed in the middle of it");
        }
        dst += got;
        len -= (size_t)got;
    }
    return 0;
}

/* The next frame's length once its header is in (filling as needed). */
static int next_length(weft_connection_t *c, size_t *len)
{
    for (;;) {
        int rc = weft__frame_reader_peek(&c->reader, len);
        if (rc == 1)
            return 0;
        if (rc < 0)
            return frame_error(c, -rc);
        rc = fill(c, WEFT__FRAME_HEADER);
        if (rc)
            return rc;
    }
}

/* With the next frame's header in and len bytes of payload, room at dst:
 * move the payload there, reading the rest of a large one directly. */
static int payload_into(weft_connection_t *c, unsigned char *dst, size_t len)
{
    for (;;) {
        const unsigned char *p;
        size_t n, need;
        if (len >= LARGE) {
            size_t got = weft__frame_reader_take(&c->reader, dst, len);
            return read_exact(c, dst + got, len - got);
        }
        int rc = weft__frame_reader_next(&c->reader, &p, &n, &need);
        if (rc == 0) {
            if (n)
                memcpy(dst, p, n);
            return 0;
        }
        if (rc != WEFT_EAGAIN)
            return frame_error(c, rc);
        if ((rc = fill(c, need)) != 0)
            return rc;
    }
}

static int receive(weft_connection_t *c, weft_bytes_t *out)
{
    size_t len;
    int rc = next_length(c, &len);
    if (rc)
        return rc;
    unsigned char *data = malloc(len ? len : 1);
    if (data == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for a %zu-byte message", len);
    rc = payload_into(c, data, len);
    if (rc || len == 0) {
        free(data);
        data = NULL;
    }
    if (rc == 0) {
        out->data = data;
        out->len = len;
    }
    return rc;
}

int weft_connection_recv_bytes(weft_connection_t *c, weft_bytes_t *out)
{
    int rc = usable(c, 1);
    if (rc)
        return rc;
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "recv_bytes: NULL out");
    weft_lock_acquire(&c->recv_lock, WEFT_FOREVER);
    rc = receive(c, out);
    weft_lock_release(&c->recv_lock);
    return rc;
}

static int receive_into(weft_connection_t *c, void *buf, size_t size,
                        size_t *len)
{
    int rc = next_length(c, len);
    if (rc)
        return rc;
    if (*len > size)
        return weft_fail(WEFT_EMSGSIZE,
                         "the message is %zu bytes, the buffer %zu: it stays "
                         "unread",
                         *len, size);
    return payload_into(c, buf, *len);
}

int weft_connection_recv_bytes_into(weft_connection_t *c, void *buf,
                                    size_t size, size_t *len)
{
    int rc = usable(c, 1);
    if (rc)
        return rc;
    if (len == NULL || (buf == NULL && size > 0))
        return weft_fail(WEFT_EINVAL, "recv_bytes_into: NULL");
    weft_lock_acquire(&c->recv_lock, WEFT_FOREVER);
    rc = receive_into(c, buf, size, len);
    weft_lock_release(&c->recv_lock);
    return rc;
}

/* ----- Poll ----- */

/* A receive would return without blocking: a whole frame is in, or the
 * reader holds an error. */
static int ready_in_buffer(weft_connection_t *c)
{
    size_t len;
    int rc = weft__frame_reader_peek(&c->reader, &len);
    return rc < 0 || (rc == 1 && weft__frame_reader_buffered(&c->reader) >=
                                     WEFT__FRAME_HEADER + len);
}

int weft_connection_poll(weft_connection_t *c, double timeout)
{
    int rc = usable(c, 1);
    if (rc)
        return rc;
    int64_t deadline;
    if ((rc = weft_deadline(timeout, &deadline)) != 0)
        return rc;
    weft_lock_acquire(&c->recv_lock, WEFT_FOREVER);
    int ready = ready_in_buffer(c);
    weft_lock_release(&c->recv_lock);
    if (ready)
        return 0;
    rc = weft_park_wait_fd(c->rfd, POLLIN, deadline);
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "nothing to receive");
    if (rc == WEFT_ECANCELLED)
        return weft_fail(rc, "poll cancelled");
    return 0;
}

/* ----- Attributes and shares ----- */

int weft_connection_set_max_message(weft_connection_t *c, size_t max)
{
    if (c == NULL || max == 0)
        return weft_fail(WEFT_EINVAL, "set_max_message: %s",
                         c ? "the maximum must be at least 1" : "NULL");
    weft_lock_acquire(&c->recv_lock, WEFT_FOREVER);
    c->max = max > WEFT__FRAME_MAX ? WEFT__FRAME_MAX : max;
    c->reader.max = c->max;
    weft_lock_release(&c->recv_lock);
    return 0;
}

size_t weft_connection_max_message(const weft_connection_t *c)
{
    WEFT_REFUSE_NULL_OR(c, 0);
    return c ? c->max : 0;
}

int weft_connection_fileno(const weft_connection_t *c)
{
    WEFT_REFUSE_NULL_OR(c, -1);
    if (c == NULL || atomic_load(&c->closed))
        return -1;
    return c->rfd >= 0 ? c->rfd : c->wfd;
}

int weft_connection_readable(const weft_connection_t *c)
{
    WEFT_REFUSE_NULL_OR(c, 0);
    return c && c->rfd >= 0;
}

int weft_connection_writable(const weft_connection_t *c)
{
    WEFT_REFUSE_NULL_OR(c, 0);
    return c && c->wfd >= 0;
}

int weft_connection_closed(const weft_connection_t *c)
{
    WEFT_REFUSE_NULL_OR(c, 1);
    return atomic_load(&c->closed);
}

#define H_READ 1u
#define H_WRITE 2u
#define H_SOCKET 4u

int weft_connection_share(const weft_connection_t *c, weft_share_t *h)
{
    if (c == NULL || h == NULL)
        return weft_fail(WEFT_EINVAL, "weft_connection_share: NULL");
    if (atomic_load(&c->closed))
        return weft_fail(WEFT_ECLOSED, "handle is closed");
    memset(h, 0, sizeof *h);
    h->kind = WEFT_SHARE_CONNECTION;
    if (c->rfd >= 0)
        h->fds[h->nfds++] = c->rfd;
    if (c->wfd >= 0 && c->wfd != c->rfd)
        h->fds[h->nfds++] = c->wfd;
    h->words[0] = (c->rfd >= 0 ? H_READ : 0) | (c->wfd >= 0 ? H_WRITE : 0) |
                  (c->socket ? H_SOCKET : 0);
    h->words[1] = c->max;
    return 0;
}

int weft_connection_from_share(weft_connection_t **out, const weft_share_t *h)
{
    if (out == NULL || h == NULL || h->kind != WEFT_SHARE_CONNECTION ||
        h->nfds < 1 || h->nfds > 2)
        return weft_fail(WEFT_EINVAL, "not a connection's share");
    uint64_t f = h->words[0];
    int r = (f & H_READ) ? h->fds[0] : -1;
    int w = (f & H_WRITE) ? h->fds[h->nfds - 1] : -1;
    int rc = make(out, r, w, (f & H_SOCKET) != 0);
    if (rc == 0 && h->words[1])
        weft_connection_set_max_message(*out, (size_t)h->words[1]);
    return rc;
}
