/* SPDX-License-Identifier: MIT */
/* open_connection: resolve, then try each address in turn with a
 * non-blocking connect that waits for writability like any write. */
#include "net_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int weft__resolve(const char *host, int port, int passive,
                  struct addrinfo **out)
{
    if (host == NULL || port < 0 || port > 65535)
        return weft_fail(WEFT_EINVAL, "bad address %s:%d",
                         host ? host : "(null)", port);
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags =
        AI_NUMERICSERV | AI_NUMERICHOST | (passive ? AI_PASSIVE : 0);
    int rc = getaddrinfo(host, service, &hints, out);
    if (rc == EAI_NONAME) { /* a name, not an address: ask the resolver */
        hints.ai_flags &= ~AI_NUMERICHOST;
        rc = getaddrinfo(host, service, &hints, out);
    }
    if (rc)
        return weft_fail(WEFT_EKEY, "cannot resolve %s: %s", host,
                         gai_strerror(rc));
    return 0;
}

/* Connect one socket to ai, waiting up to deadline. */
static int connect_one(const struct addrinfo *ai, int64_t deadline,
                       weft_stream_t **out)
{
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
               ai->ai_protocol);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "socket: %s", strerror(errno));
    weft_stream_t *s;
    int rc = weft__stream_new(&s, fd, weft__net_loop());
    if (rc) {
        close(fd);
        return rc;
    }
    uint32_t seq = atomic_load(&s->wseq);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        rc = weft_fail(WEFT_ESYS, "connect: %s", strerror(errno));
        weft_stream_free(s);
        return rc;
    }
    for (;;) {
        int err = 0;
        socklen_t len = sizeof err;
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
            break; /* connected */
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err && err != EINPROGRESS) {
            rc = weft_fail(WEFT_ESYS, "connect: %s", strerror(err));
            break;
        }
        rc = weft__net_wait(s, 1, seq, deadline);
        if (rc)
            break;
        seq = atomic_load(&s->wseq);
    }
    if (rc) {
        weft_stream_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int weft_open_connection(weft_stream_t **out, const char *host, int port,
                         double timeout)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "open_connection: NULL out");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    struct addrinfo *list;
    rc = weft__resolve(host, port, 0, &list);
    if (rc)
        return rc;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        rc = connect_one(ai, deadline, out);
        if (rc == 0 || rc == WEFT_ECANCELLED || rc == WEFT_ETIMEDOUT)
            break;
    }
    freeaddrinfo(list);
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "connecting to %s:%d timed out", host, port);
    return rc;
}
