/* SPDX-License-Identifier: MIT */
/* Frames and the frame reader (see frame.h).
 *
 * The reader keeps the bytes it was given in one buffer and hands out
 * frames from it in place. It checks every header before trusting its
 * length: a bad magic, version or flags, or a length over the maximum, is
 * an error at once, before any byte of the payload is awaited, so a peer
 * cannot make a reader wait for, or allocate, what it will never accept.
 * The buffer grows only to hold one whole frame (at most the maximum plus a
 * header) and is compacted before it grows.
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC_0 'w'
#define MAGIC_1 'f'
#define VERSION 1
#define FIRST_CAP 65536

void weft__frame_header(unsigned char h[WEFT__FRAME_HEADER], uint32_t len)
{
    h[0] = MAGIC_0;
    h[1] = MAGIC_1;
    h[2] = VERSION;
    h[3] = 0;
    for (int i = 0; i < 4; i++)
        h[4 + i] = (unsigned char)(len >> (8 * i));
}

int weft__frame_parse(const unsigned char h[WEFT__FRAME_HEADER], size_t max,
                      size_t *len)
{
    if (h[0] != MAGIC_0 || h[1] != MAGIC_1 || h[2] != VERSION || h[3] != 0)
        return WEFT__FRAME_BAD;
    uint32_t n = 0;
    for (int i = 0; i < 4; i++)
        n |= (uint32_t)h[4 + i] << (8 * i);
    if (n > max)
        return WEFT__FRAME_TOO_BIG;
    *len = n;
    return 0;
}

void weft__frame_reader_init(weft__frame_reader_t *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max > WEFT__FRAME_MAX ? WEFT__FRAME_MAX : max;
}

void weft__frame_reader_destroy(weft__frame_reader_t *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

static void compact(weft__frame_reader_t *r)
{
    if (r->start == 0)
        return;
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
}

int weft__frame_reader_space(weft__frame_reader_t *r, size_t want,
                             unsigned char **p, size_t *n)
{
    if (r->cap - r->end < want)
        compact(r);
    if (r->cap - r->end < want || r->buf == NULL) {
        size_t cap = r->cap ? r->cap : FIRST_CAP;
        while (cap - r->end < want)
            cap *= 2;
        unsigned char *buf = realloc(r->buf, cap);
        if (buf == NULL)
            return WEFT__FRAME_NOMEM;
        r->buf = buf;
        r->cap = cap;
    }
    *p = r->buf + r->end;
    *n = r->cap - r->end;
    return 0;
}

void weft__frame_reader_commit(weft__frame_reader_t *r, size_t n)
{
    r->end += n;
}

int weft__frame_reader_peek(weft__frame_reader_t *r, size_t *len)
{
    if (r->error)
        return -r->error;
    if (r->end - r->start < WEFT__FRAME_HEADER)
        return 0;
    int rc = weft__frame_parse(r->buf + r->start, r->max, len);
    if (rc) {
        r->error = rc;
        return -rc;
    }
    return 1;
}

int weft__frame_reader_next(weft__frame_reader_t *r,
                            const unsigned char **payload, size_t *len,
                            size_t *need)
{
    size_t n = 0;
    int rc = weft__frame_reader_peek(r, &n);
    if (rc < 0)
        return -rc;
    size_t have = r->end - r->start;
    if (rc == 0) {
        *need = WEFT__FRAME_HEADER - have;
        return WEFT__FRAME_AGAIN;
    }
    if (have - WEFT__FRAME_HEADER < n) {
        *need = n - (have - WEFT__FRAME_HEADER);
        return WEFT__FRAME_AGAIN;
    }
    *payload = r->buf + r->start + WEFT__FRAME_HEADER;
    *len = n;
    r->start += WEFT__FRAME_HEADER + n;
    if (r->start == r->end)
        r->start = r->end = 0;
    return 0;
}

size_t weft__frame_reader_take(weft__frame_reader_t *r, unsigned char *dst,
                               size_t room)
{
    size_t len = 0;
    if (weft__frame_reader_peek(r, &len) != 1 || room < len)
        return 0;
    size_t have = r->end - r->start - WEFT__FRAME_HEADER;
    size_t n = have < len ? have : len;
    memcpy(dst, r->buf + r->start + WEFT__FRAME_HEADER, n);
    r->start += WEFT__FRAME_HEADER + n;
    if (r->start == r->end)
        r->start = r->end = 0;
    return n;
}

int weft__frame_reader_eof(const weft__frame_reader_t *r)
{
    return r->end == r->start ? 0 : WEFT__FRAME_BAD;
}

size_t weft__frame_reader_buffered(const weft__frame_reader_t *r)
{
    return r->end - r->start;
}
