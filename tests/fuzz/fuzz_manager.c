/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the manager's request decoder and interpreter
 * (src/manager/wire.c and store.c, what a manager's server runs on each
 * request a client sends): the ctest entry fuzz.manager
 * (tests/fuzz/CMakeLists.txt).
 *
 * The input is a sequence of requests, each a 2-byte length and its bytes,
 * run in order on one store (so that dicts and lists made by early
 * requests are used by later ones). Whatever the bytes, each request must
 * get a well-formed response, never a crash, an out-of-bounds read or a
 * leak (ASan): a code, and for an error a message and nothing after it,
 * the code one of weft's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/manager_int.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

static void check_response(const weft__wbuf_t *resp)
{
    CHECK(!resp->failed);
    weft__rbuf_t r = {resp->p, resp->len, 0, 0};
    int32_t code = (int32_t)weft__r_u32(&r);
    CHECK(!r.failed);
    if (code == 0)
        return;
    CHECK(weft_errname(code) != NULL);
    size_t len;
    weft__r_blob(&r, &len);
    CHECK(weft__r_done(&r) && len > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weft__store_t *s;
    CHECK(weft__store_new(&s) == 0);
    size_t off = 0;
    while (size - off >= 2) {
        size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;
        off += 2;
        if (n > size - off)
            n = size - off;
        /* The server answers a shutdown itself; the store never sees it. */
        if (n == 0 || data[off] != OP_SHUTDOWN) {
            weft__rbuf_t r = {data + off, n, 0, 0};
            weft__wbuf_t resp = {0};
            weft__store_run(s, &r, &resp);
            check_response(&resp);
            weft__w_free(&resp);
        }
        off += n;
    }
    weft__store_free(s);
    return 0;
}
