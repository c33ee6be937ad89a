/* SPDX-License-Identifier: MIT */
/* libFuzzer target for reading HTTP messages (src/net/http.c, over
 * http-parser), what an HTTP server built on weft runs on the bytes a
 * client sends: the ctest entry fuzz.http (tests/fuzz/CMakeLists.txt).
 *
 * The first byte of the input chooses requests or responses and the
 * largest body taken; the rest is what the peer wrote before it closed
 * its end of a socket. Messages are read until one fails. Whatever the
 * bytes, reading must: never crash, read out of bounds or leak (ASan);
 * never block, since the peer is gone (libFuzzer's -timeout catches a
 * hang); hand back messages whose fields are whole strings and whose body
 * is within the limit; and fail with WEFT_EEOF (the stream ended),
 * WEFT_EPROTO (not HTTP) or WEFT_EMSGSIZE (a body over the limit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_int.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

static void check_message(const weft_http_message_t *m, int request,
                          size_t max_body)
{
    CHECK(memchr(m->method, '\0', sizeof m->method) != NULL);
    CHECK(!request || m->target == NULL || strlen(m->target) < 8192);
    CHECK(m->body_len <= max_body);
    CHECK(m->body_len == 0 || m->body != NULL);
    for (size_t i = 0; i < m->nheaders; i++)
        CHECK(m->headers[i].name == NULL || strlen(m->headers[i].name) < 8192);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_bodies[] = {0, 10, 1000, SIZE_MAX};
    if (size < 1)
        return 0;
    int request = data[0] & 1;
    size_t max_body = max_bodies[(data[0] >> 1) % 4];
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    /* At most a few KiB: the socket's buffer takes it all at once. */
    CHECK(size == 1 || write(sv[1], data + 1, size - 1) == (ssize_t)size - 1);
    close(sv[1]);
    weft_stream_t *s;
    CHECK(weft__stream_new(&s, sv[0], NULL) == 0);
    int rc;
    for (;;) {
        weft_http_message_t m;
        rc = weft_http_read_message(s, request, max_body, &m);
        if (rc)
            break;
        check_message(&m, request, max_body);
        weft_http_message_clear(&m);
    }
    CHECK(rc == WEFT_EEOF || rc == WEFT_EPROTO || rc == WEFT_EMSGSIZE);
    weft_stream_free(s);
    return 0;
}
