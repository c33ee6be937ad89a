/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the frame reader (src/ipc/frame.c): the ctest entry
 * fuzz.frame (tests/fuzz/CMakeLists.txt).
 *
 * The input is a byte stream, fed to a reader in chunks whose sizes come
 * from the input itself, with frames taken out after each chunk (some
 * through take(), as Connection does for large payloads). Whatever the
 * bytes, the reader must: never crash or read out of bounds (ASan); give
 * back exactly the stream's frames, in order, so that re-encoding them
 * rebuilds the input; never return a payload over the maximum; keep an
 * error once it has one; and call a stream clean at its end only when no
 * byte is left over. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/frame.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

struct run {
    const uint8_t *in;
    size_t in_len;
    size_t decoded; /* bytes of input accounted for by frames taken */
    int error;
};

/* A frame came out: it must be the next frame of the input, byte for byte. */
static void check_frame(struct run *run, const unsigned char *payload,
                        size_t len)
{
    unsigned char h[WEFT__FRAME_HEADER];
    weft__frame_header(h, (uint32_t)len);
    CHECK(run->decoded + WEFT__FRAME_HEADER + len <= run->in_len);
    CHECK(memcmp(run->in + run->decoded, h, WEFT__FRAME_HEADER) == 0);
    CHECK(len == 0 || memcmp(run->in + run->decoded + WEFT__FRAME_HEADER,
                             payload, len) == 0);
    run->decoded += WEFT__FRAME_HEADER + len;
}

/* Take the next frame through take(), when its payload is all in. */
static int take_one(weft__frame_reader_t *r, struct run *run)
{
    size_t len;
    if (weft__frame_reader_peek(r, &len) != 1 ||
        weft__frame_reader_buffered(r) < WEFT__FRAME_HEADER + len)
        return 0;
    unsigned char *dst = malloc(len ? len : 1);
    CHECK(dst != NULL);
    CHECK(weft__frame_reader_take(r, dst, len) == len);
    check_frame(run, dst, len);
    free(dst);
    return 1;
}

static void drain(weft__frame_reader_t *r, struct run *run, int use_take)
{
    for (;;) {
        if (use_take && take_one(r, run))
            continue;
        const unsigned char *p;
        size_t len, need = 0;
        int rc = weft__frame_reader_next(r, &p, &len, &need);
        if (rc == 0) {
            CHECK(len <= r->max);
            check_frame(run, p, len);
            continue;
        }
        if (rc == WEFT__FRAME_AGAIN) {
            CHECK(need >= 1);
            return;
        }
        CHECK(rc == WEFT__FRAME_BAD || rc == WEFT__FRAME_TOO_BIG);
        CHECK(run->error == 0 || run->error == rc);
        run->error = rc;
        CHECK(weft__frame_reader_next(r, &p, &len, &need) == rc);
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t max = (size_t)data[0] * 64; /* 0 to 16 KiB */
    unsigned chunk_seed = data[1];
    int use_take = data[2] & 1;
    struct run run = {data + 3, size - 3, 0, 0};
    weft__frame_reader_t r;
    weft__frame_reader_init(&r, max);
    size_t fed = 0;
    while (fed < run.in_len && !run.error) {
        size_t chunk = 1 + (chunk_seed = chunk_seed * 73 + 41) % 97;
        if (chunk > run.in_len - fed)
            chunk = run.in_len - fed;
        unsigned char *p;
        size_t room;
        CHECK(weft__frame_reader_space(&r, chunk, &p, &room) == 0);
        CHECK(room >= chunk);
        memcpy(p, run.in + fed, chunk);
        weft__frame_reader_commit(&r, chunk);
        fed += chunk;
        drain(&r, &run, use_take);
        CHECK(run.error ||
              run.decoded + weft__frame_reader_buffered(&r) == fed);
    }
    if (!run.error)
        CHECK((weft__frame_reader_eof(&r) == 0) == (run.decoded == fed));
    weft__frame_reader_destroy(&r);
    return 0;
}
