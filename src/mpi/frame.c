/* SPDX-License-Identifier: MIT */
/* Frames: how the root and its workers pack heads and bodies into the
 * messages a transport carries, and how a receiver walks them. A received
 * message is checked frame by frame: a size that is too small, not a
 * multiple of the alignment, or past the end stops the walk. */
#include "mpi_int.h"

#include <stdlib.h>
#include <string.h>

static size_t padded(size_t n)
{
    return (n + WEFT__MPI_ALIGN - 1) & ~(size_t)(WEFT__MPI_ALIGN - 1);
}

static int reserve(struct weft__mpi_out *o, size_t more)
{
    if (o->cap - o->b.len >= more)
        return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->b.len < more)
        cap *= 2;
    unsigned char *p = realloc(o->b.data, cap);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI executor: no memory for %zu "
                                      "bytes of frames", cap);
    o->b.data = p;
    o->cap = cap;
    return 0;
}

int weft__mpi_put(struct weft__mpi_out *o, struct weft__mpi_head h,
                  const void *body, size_t len)
{
    size_t size = padded(sizeof h + len);
    int rc = reserve(o, size);
    if (rc)
        return rc;
    h.size = size;
    h.pad = (uint32_t)(size - sizeof h - len);
    unsigned char *at = o->b.data + o->b.len;
    memcpy(at, &h, sizeof h);
    if (len)
        memcpy(at + sizeof h, body, len);
    memset(at + sizeof h + len, 0, h.pad);
    o->b.len += size;
    return 0;
}

weft_bytes_t weft__mpi_take(struct weft__mpi_out *o)
{
    weft_bytes_t b = o->b;
    o->b = (weft_bytes_t){NULL, 0};
    o->cap = 0;
    return b;
}

void weft__mpi_out_free(struct weft__mpi_out *o)
{
    free(o->b.data);
    o->b = (weft_bytes_t){NULL, 0};
    o->cap = 0;
}

int weft__mpi_next(const weft_bytes_t *msg, size_t *off,
                   struct weft__mpi_head *h, const unsigned char **body,
                   size_t *len)
{
    if (*off >= msg->len)
        return 0;
    size_t left = msg->len - *off;
    if (left < sizeof *h)
        return -1;
    memcpy(h, msg->data + *off, sizeof *h);
    if (h->size < sizeof *h || h->size > left ||
        h->size % WEFT__MPI_ALIGN != 0 || h->pad >= WEFT__MPI_ALIGN ||
        h->pad > h->size - sizeof *h)
        return -1;
    *body = msg->data + *off + sizeof *h;
    *len = h->size - sizeof *h - h->pad;
    *off += h->size;
    return 1;
}

int weft__mpi_send_frame(weft__mpi_transport_t *t, int peer,
                         struct weft__mpi_head h, const void *body,
                         size_t len)
{
    struct weft__mpi_out o = {{NULL, 0}, 0};
    int rc = weft__mpi_put(&o, h, body, len);
    if (rc)
        return rc;
    weft_bytes_t msg = weft__mpi_take(&o);
    rc = t->ops->send(t, peer, &msg);
    weft_bytes_free(&msg);
    return rc;
}

int weft__mpi_recv_blocking(weft__mpi_transport_t *t, int *peer,
                            weft_bytes_t *msg)
{
    struct weft__mpi_idle idle = {-1, 0};
    for (;;) {
        int got = 0;
        int rc = t->ops->poll(t, peer, msg, &got);
        if (rc || got)
            return rc;
        weft__mpi_idle_wait(&idle, 1000000, 0);
    }
}

void weft__mpi_drain_sends(weft__mpi_transport_t *t, int64_t max_ns)
{
    struct weft__mpi_idle idle = {-1, 0};
    int64_t deadline = weft_monotonic_ns() + max_ns;
    while (t->ops->sends_pending(t) > 0 && weft_monotonic_ns() < deadline) {
        int peer, got = 0;
        weft_bytes_t msg = {NULL, 0};
        if (t->ops->poll(t, &peer, &msg, &got) != 0)
            return;
        weft_bytes_free(&msg);
        if (!got)
            weft__mpi_idle_wait(&idle, 1000000, 0);
    }
}
