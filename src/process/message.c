/* SPDX-License-Identifier: MIT */
/* Length-prefixed messages on a descriptor: how a spawned child, or a child
 * of the fork server, receives its specification from the parent. */
#include "process_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MESSAGE_MAX ((uint64_t)1 << 40)

static int read_full(int fd, void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return weft_fail(WEFT_ESYS, "read: %s", strerror(errno));
        if (n == 0)
            return weft_fail(WEFT_EEOF, "the parent closed the channel");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* send() with MSG_NOSIGNAL where fd is a socket, so a reader that died
 * gives EPIPE rather than SIGPIPE. */
static ssize_t write_some(int fd, const void *p, size_t len)
{
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK)
        n = write(fd, p, len);
    return n;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = write_some(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return weft_fail(WEFT_ESYS, "write: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int weft__read_message(int fd, weft_bytes_t *out)
{
    uint64_t len;
    int rc = read_full(fd, &len, sizeof len);
    if (rc)
        return rc;
    if (len > MESSAGE_MAX || len > SIZE_MAX - 1)
        return weft_fail(WEFT_EPROTO, "message of %llu bytes",
                         (unsigned long long)len);
    unsigned char *data = malloc((size_t)len + 1);
    if (data == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for a message");
    rc = read_full(fd, data, (size_t)len);
    if (rc) {
        free(data);
        return rc;
    }
    out->data = data;
    out->len = (size_t)len;
    return 0;
}

int weft__write_message(int fd, const weft_bytes_t *msg)
{
    uint64_t len = msg->len;
    int rc = write_full(fd, &len, sizeof len);
    return rc ? rc : write_full(fd, msg->data, msg->len);
}
