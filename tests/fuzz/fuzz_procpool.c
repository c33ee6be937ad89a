/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the process pool's frames (src/procpool/protocol.c,
 * the one place where the pool and its workers check what they read): the
 * ctest entry fuzz.procpool (tests/fuzz/CMakeLists.txt).
 *
 * The first byte of the input says which side reads (the pool, or a
 * worker) and how the rest arrives: in chunks whose sizes come from it,
 * with the complete frames taken after each chunk, as both sides do.
 * Whatever the bytes, the reader must: never crash or read past what it
 * was given (ASan); take only frames the other side could have written
 * (a type it sends, a size that is a multiple of 16 and at most the cap, a
 * body inside the frame, a ring payload inside the ring, the fields the
 * writer always fills alike filled so), such that writing the frame again
 * gives back the same bytes, padding included; call
 * "incomplete" only what more bytes could complete (fewer bytes than the
 * head, or than the size the head gives, which it has checked already);
 * and, once it calls a frame malformed, keep doing so whatever follows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procpool/procpool_int.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

static size_t fixed_of(uint32_t type)
{
    switch (type) {
    case FRAME_FN:
        return sizeof(struct weft__pp_fn_frame);
    case FRAME_TASK:
        return sizeof(struct weft__pp_task_frame);
    case FRAME_EXIT:
        return sizeof(struct weft__pp_head);
    case FRAME_TASK_BULK:
        return sizeof(struct weft__pp_bulk_task_frame);
    case FRAME_RESULT_BULK:
        return sizeof(struct weft__pp_bulk_result_frame);
    default:
        return sizeof(struct weft__pp_result_frame);
    }
}

static int goes(uint32_t type, int dir)
{
    int to_worker = type == FRAME_FN || type == FRAME_TASK ||
                    type == FRAME_EXIT || type == FRAME_TASK_BULK;
    int to_pool = type == FRAME_RESULT || type == FRAME_ERROR ||
                  type == FRAME_INIT_FAILED || type == FRAME_RESULT_BULK;
    return dir == WEFT__PP_TO_WORKER ? to_worker : to_pool;
}

/* A frame taken: check it, and that writing it again rebuilds it. */
static void check_frame(const unsigned char *at, size_t have, int dir,
                        const struct weft__pp_frame *f)
{
    size_t fixed = fixed_of(f->h.type);
    CHECK(goes(f->h.type, dir));
    CHECK(f->h.size <= have && f->h.size % WEFT__PP_ALIGN == 0);
    CHECK(f->h.size <= WEFT__PP_FRAME_MAX && f->h.pad < WEFT__PP_ALIGN);
    CHECK(f->body == at + fixed && f->body_len <= WEFT__PP_PAYLOAD_MAX);
    CHECK(fixed + f->body_len + f->h.pad == f->h.size);
    if (f->h.type == FRAME_TASK_BULK)
        CHECK(weft__pp_bulk_valid(&f->u.bulk_task.b));
    if (f->h.type == FRAME_RESULT_BULK)
        CHECK(weft__pp_bulk_valid(&f->u.bulk_result.b));
    struct weft__pp_buf b = {0};
    unsigned char head[sizeof f->u];
    memcpy(head, &f->u, sizeof head);
    CHECK(weft__pp_put_frame(&b, f->h.type, head, fixed, f->body,
                             f->body_len) == 0);
    CHECK(b.len == f->h.size);
    CHECK(memcmp(b.data, at, f->h.size) == 0);
    weft__pp_buf_free(&b);
}

/* Take the complete frames at data[*off, len): 1 to go on, 0 when the
 * stream was found malformed. */
static int drain(const unsigned char *data, size_t len, size_t *off, int dir)
{
    for (;;) {
        struct weft__pp_frame f;
        const char *why = NULL;
        int got = weft__pp_read_frame(data + *off, len - *off, dir, &f, &why);
        if (got == 1) {
            check_frame(data + *off, len - *off, dir, &f);
            *off += f.h.size;
            continue;
        }
        if (got == 0) {
            CHECK(len - *off < sizeof f.h || len - *off < f.h.size);
            return 1;
        }
        CHECK(got == -1 && why != NULL && why[0] != '\0');
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int dir = data[0] & 1 ? WEFT__PP_TO_POOL : WEFT__PP_TO_WORKER;
    unsigned seed = data[0] >> 1;
    const unsigned char *in = data + 1;
    size_t len = size - 1, fed = 0, off = 0;
    int fine = 1;
    while (fed < len && fine) {
        size_t chunk = 1 + (seed = seed * 73 + 41) % 97;
        fed += chunk < len - fed ? chunk : len - fed;
        fine = drain(in, fed, &off, dir);
    }
    if (!fine) { /* malformed stays malformed, whatever follows */
        struct weft__pp_frame f;
        const char *why;
        CHECK(weft__pp_read_frame(in + off, len - off, dir, &f, &why) == -1);
    }
    return 0;
}
