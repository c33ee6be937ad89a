/* SPDX-License-Identifier: MIT */
/* Building and reading the manager's messages: numbers in little-endian
 * order, byte strings as a 4-byte length and the bytes. A reader never
 * trusts a length: reading past the end marks it failed, and the request
 * or response is then refused as malformed. */
#include "manager_int.h"

#include <stdlib.h>
#include <string.h>

static void grow(weft__wbuf_t *w, size_t more)
{
    if (w->failed || w->cap - w->len >= more)
        return;
    size_t cap = w->cap ? w->cap : 64;
    while (cap - w->len < more) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            return;
        }
        cap *= 2;
    }
    unsigned char *p = realloc(w->p, cap);
    if (p == NULL) {
        w->failed = 1;
        return;
    }
    w->p = p;
    w->cap = cap;
}

void weft__w_raw(weft__wbuf_t *w, const void *data, size_t len)
{
    grow(w, len);
    if (w->failed)
        return;
    if (len)
        memcpy(w->p + w->len, data, len);
    w->len += len;
}

static void put_le(weft__wbuf_t *w, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    weft__w_raw(w, b, (size_t)bytes);
}

void weft__w_u8(weft__wbuf_t *w, uint8_t v)
{
    put_le(w, v, 1);
}

void weft__w_u32(weft__wbuf_t *w, uint32_t v)
{
    put_le(w, v, 4);
}

void weft__w_i64(weft__wbuf_t *w, int64_t v)
{
    put_le(w, (uint64_t)v, 8);
}

void weft__w_blob(weft__wbuf_t *w, const void *data, size_t len)
{
    if (len > UINT32_MAX) {
        w->failed = 1;
        return;
    }
    weft__w_u32(w, (uint32_t)len);
    weft__w_raw(w, data, len);
}

void weft__w_free(weft__wbuf_t *w)
{
    free(w->p);
    memset(w, 0, sizeof *w);
}

static const unsigned char *take(weft__rbuf_t *r, size_t len)
{
    if (r->failed || r->len - r->off < len) {
        r->failed = 1;
        return NULL;
    }
    const unsigned char *at = r->p + r->off;
    r->off += len;
    return at;
}

static uint64_t get_le(weft__rbuf_t *r, int bytes)
{
    const unsigned char *b = take(r, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; b && i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

uint8_t weft__r_u8(weft__rbuf_t *r)
{
    return (uint8_t)get_le(r, 1);
}

uint32_t weft__r_u32(weft__rbuf_t *r)
{
    return (uint32_t)get_le(r, 4);
}

int64_t weft__r_i64(weft__rbuf_t *r)
{
    return (int64_t)get_le(r, 8);
}

const unsigned char *weft__r_blob(weft__rbuf_t *r, size_t *len)
{
    size_t n = weft__r_u32(r);
    const unsigned char *at = take(r, n);
    *len = at ? n : 0;
    return n ? at : NULL;
}

int weft__r_done(const weft__rbuf_t *r)
{
    return !r->failed && r->off == r->len;
}
