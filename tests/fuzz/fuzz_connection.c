/* SPDX-License-Identifier: MIT */
/* libFuzzer target for Connection's receiving (src/ipc/connection.c): the
 * ctest entry fuzz.connection (tests/fuzz/CMakeLists.txt).
 *
 * The first two bytes of the input choose the connection's maximum message
 * and how it receives (recv_bytes, or recv_bytes_into a buffer of a chosen
 * size); the rest is what the peer wrote before it closed its end of a
 * socket. Whatever the bytes, receiving must: never crash, read out of
 * bounds or leak (ASan); never block, since the peer is gone (libFuzzer's
 * -timeout catches a hang); give back exactly the stream's frames, in
 * order, so that re-encoding them rebuilds the input; leave a message too
 * long for the caller's buffer unread, for the next receive; and end with
 * WEFT_EEOF only when the stream ended between two frames, else with
 * WEFT_EPROTO or WEFT_EMSGSIZE (over the maximum), which then sticks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/frame.h"
#include "weft.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

struct run {
    const uint8_t *in;
    size_t len, decoded;
};

static void check_message(struct run *run, const void *payload, size_t len)
{
    unsigned char h[WEFT__FRAME_HEADER];
    weft__frame_header(h, (uint32_t)len);
    CHECK(run->decoded + WEFT__FRAME_HEADER + len <= run->len);
    CHECK(memcmp(run->in + run->decoded, h, WEFT__FRAME_HEADER) == 0);
    CHECK(len == 0 || memcmp(run->in + run->decoded + WEFT__FRAME_HEADER,
                             payload, len) == 0);
    run->decoded += WEFT__FRAME_HEADER + len;
}

#define TOO_LONG_FOR_BUF (-1)

/* One receive: 0 (a message, checked), TOO_LONG_FOR_BUF, or the code it
 * ended with. */
static int receive(weft_connection_t *c, struct run *run, size_t room, int into,
                   size_t max)
{
    CHECK(weft_connection_poll(c, 0) == 0); /* the peer is gone: ready */
    if (!into) {
        weft_bytes_t m = {NULL, 0};
        int rc = weft_connection_recv_bytes(c, &m);
        if (rc == 0) {
            CHECK(m.len <= max);
            check_message(run, m.data, m.len);
        }
        weft_bytes_free(&m);
        return rc;
    }
    unsigned char *buf = malloc(room ? room : 1);
    CHECK(buf != NULL);
    size_t n = 0;
    int rc = weft_connection_recv_bytes_into(c, buf, room, &n);
    if (rc == 0) {
        CHECK(n <= room && n <= max);
        check_message(run, buf, n);
    } else if (rc == WEFT_EMSGSIZE && n > room && n <= max) {
        rc = TOO_LONG_FOR_BUF; /* it stays, for recv_bytes */
    }
    free(buf);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t maxes[] = {1, 16, 4096, 70000,
                                   WEFT_CONNECTION_MAX_DEFAULT};
    if (size < 2)
        return 0;
    size_t max = maxes[data[0] % 5];
    int into = data[0] / 5 % 2;
    size_t room = (size_t)data[1] * 16;
    struct run run = {data + 2, size - 2, 0};
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    /* At most a few KiB: the socket's buffer takes it all at once. */
    CHECK(run.len == 0 || write(sv[1], run.in, run.len) == (ssize_t)run.len);
    close(sv[1]);
    weft_connection_t *c;
    CHECK(weft_connection_new_fd(&c, sv[0]) == 0);
    CHECK(weft_connection_set_max_message(c, max) == 0);
    int rc;
    while ((rc = receive(c, &run, room, into, max)) == 0 ||
           rc == TOO_LONG_FOR_BUF)
        if (rc == TOO_LONG_FOR_BUF) /* take the long one whole */
            into = 0;
    if (rc == WEFT_EEOF) {
        CHECK(run.decoded == run.len);
    } else {
        CHECK(rc == WEFT_EPROTO || rc == WEFT_EMSGSIZE);
        CHECK(run.decoded < run.len);
        weft_bytes_t m = {NULL, 0};
        CHECK(weft_connection_recv_bytes(c, &m) == rc); /* it sticks */
    }
    weft_connection_free(c);
    return 0;
}
