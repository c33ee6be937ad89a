/* SPDX-License-Identifier: MIT */
/* Inside the net layer only: the stream's layout and the helpers that the
 * server and the HTTP code share with it. */
#ifndef WEFT_NET_INT_H
#define WEFT_NET_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "weft/net.h"
#include "weft/park.h"

struct weft_stream {
    int fd;
    weft_loop_t *loop;     /* NULL: thread mode (poll) */
    _Atomic uint32_t rseq; /* bumped by each readable edge */
    _Atomic uint32_t wseq; /* bumped by each writable edge */
    uint32_t drained_seq;  /* rseq when a short read emptied the socket */
    int drained;
    _Atomic int closed;     /* the peer hung up or the socket failed */
    unsigned char *buf;     /* read-ahead for read_until and HTTP */
    size_t start, len, cap; /* the unread bytes: buf[start, start + len) */
};

/* A stream over a connected socket fd (taken), watched on loop (NULL:
 * thread mode). */
int weft__stream_new(weft_stream_t **out, int fd, weft_loop_t *loop);

/* The loop a stream made by the calling context should wait on. */
weft_loop_t *weft__net_loop(void);

/* Wait until s's read (write) sequence moves past seq, or the socket
 * looks ready (thread mode). 0, WEFT_ETIMEDOUT, WEFT_ECANCELLED. */
int weft__net_wait(weft_stream_t *s, int write, uint32_t seq, int64_t deadline);

/* The buffered bytes of s, reading more first when there are none or when
 * more is nonzero. Returns 0 or the read's error (the bytes stay). */
int weft__stream_peek(weft_stream_t *s, const unsigned char **data, size_t *len,
                      int more);
void weft__stream_consume(weft_stream_t *s, size_t n);

/* Resolve host:port into a list (freeaddrinfo). Numeric addresses skip
 * the resolver. Errors: WEFT_EKEY, WEFT_EINVAL. */
struct addrinfo;
int weft__resolve(const char *host, int port, int passive,
                  struct addrinfo **out);

/* start_server with release(arg) called once the server is gone. */
int weft__server_start(weft_server_t **out, weft_loop_t *loop, const char *host,
                       int port, weft_stream_handler fn, void *arg,
                       void (*release)(void *));

#endif
