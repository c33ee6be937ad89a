/* SPDX-License-Identifier: MIT */
/* Frames on a byte stream, and a reader that cuts a stream into frames:
 * shared by Connection (blocking) and the manager's server (which feeds
 * bytes as they come). Plain C with no other weft code, so that a fuzzer
 * can build it alone (tests/fuzz/fuzz_frame.c). */
#ifndef WEFT_IPC_FRAME_H
#define WEFT_IPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* A frame: 8 bytes of header, then the payload. The header is 'w', 'f', the
 * version (1), flags (0), and the payload's length as 4 bytes, least
 * significant first. */
#define WEFT__FRAME_HEADER 8
#define WEFT__FRAME_MAX UINT32_MAX

void weft__frame_header(unsigned char h[WEFT__FRAME_HEADER], uint32_t len);

/* What a reader reports (besides 0). Values are weft's error codes. */
#define WEFT__FRAME_AGAIN 15   /* WEFT_EAGAIN: need more bytes */
#define WEFT__FRAME_BAD 17     /* WEFT_EPROTO: not a frame, or truncated */
#define WEFT__FRAME_TOO_BIG 18 /* WEFT_EMSGSIZE: longer than the maximum */
#define WEFT__FRAME_NOMEM 2    /* WEFT_ENOMEM */

/* Read a header: 0 and *len; BAD (wrong magic, version or flags); TOO_BIG
 * (len > max). */
int weft__frame_parse(const unsigned char h[WEFT__FRAME_HEADER], size_t max,
                      size_t *len);

/* Buffered bytes [start, end) of buf; an error, once seen, sticks: after a
 * bad frame the stream cannot be trusted to find the next one. */
typedef struct weft__frame_reader {
    unsigned char *buf;
    size_t cap, start, end;
    size_t max;
    int error;
} weft__frame_reader_t;

void weft__frame_reader_init(weft__frame_reader_t *r, size_t max);
void weft__frame_reader_destroy(weft__frame_reader_t *r);

/* Room for at least want more bytes, at *p (*n bytes): the caller reads
 * into it, then commits what it read. Returns 0 or NOMEM. */
int weft__frame_reader_space(weft__frame_reader_t *r, size_t want,
                             unsigned char **p, size_t *n);
void weft__frame_reader_commit(weft__frame_reader_t *r, size_t n);

/* The next whole frame: 0 with *payload (borrowed until the reader's next
 * call) and *len; AGAIN with *need, the bytes still missing (at least 1);
 * BAD or TOO_BIG (sticky). */
int weft__frame_reader_next(weft__frame_reader_t *r,
                            const unsigned char **payload, size_t *len,
                            size_t *need);

/* The length of the next frame if its header is in: 1 and *len, else 0
 * (or the sticky error, negated). */
int weft__frame_reader_peek(weft__frame_reader_t *r, size_t *len);

/* Take the next frame's header and what is in of its payload, for a caller
 * that reads the rest straight into its own buffer: copies it to dst and
 * returns how many bytes that was; the rest of the payload (up to the
 * length peek gave) is then the stream's next bytes. Takes nothing and
 * returns 0 unless peek says 1 and room holds the whole payload. */
size_t weft__frame_reader_take(weft__frame_reader_t *r, unsigned char *dst,
                               size_t room);

/* At the end of the stream: 0 if no byte is left (a clean end), BAD if part
 * of a frame is (truncated). */
int weft__frame_reader_eof(const weft__frame_reader_t *r);

/* Bytes buffered and not yet returned. */
size_t weft__frame_reader_buffered(const weft__frame_reader_t *r);

#endif
