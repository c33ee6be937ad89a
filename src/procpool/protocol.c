/* SPDX-License-Identifier: MIT */
/* The frames between the pool and its workers, and the byte buffers both
 * sides keep them in. Both ends are the same program on the same machine,
 * so numbers go in native byte order; the reader still checks every head,
 * size and field, since a task's code could write anything to its
 * worker's descriptors: this is the one place where either side refuses
 * a frame (tests/fuzz/fuzz_procpool.c fuzzes it). */
#include "procpool_int.h"

#include <stdlib.h>
#include <string.h>

int weft__pp_buf_reserve(struct weft__pp_buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    weft__pp_buf_compact(b);
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    unsigned char *data = realloc(b->data, cap);
    if (data == NULL)
        return weft_fail(WEFT_ENOMEM, "process pool: no memory");
    b->data = data;
    b->cap = cap;
    return 0;
}

void weft__pp_buf_compact(struct weft__pp_buf *b)
{
    if (b->off == 0)
        return;
    if (b->len > b->off)
        memmove(b->data, b->data + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
}

void weft__pp_buf_free(struct weft__pp_buf *b)
{
    free(b->data);
    *b = (struct weft__pp_buf){0};
}

/* What each type's fixed part is, whether it carries a body, and which
 * way it goes. */
struct kind {
    size_t fixed;
    int body; /* may have a body */
    int dir;
};

static int kind_of(uint32_t type, struct kind *k)
{
    switch (type) {
    case FRAME_FN:
        *k = (struct kind){sizeof(struct weft__pp_fn_frame), 1,
                           WEFT__PP_TO_WORKER};
        return 1;
    case FRAME_TASK:
        *k = (struct kind){sizeof(struct weft__pp_task_frame), 1,
                           WEFT__PP_TO_WORKER};
        return 1;
    case FRAME_EXIT:
        *k = (struct kind){sizeof(struct weft__pp_head), 0, WEFT__PP_TO_WORKER};
        return 1;
    case FRAME_TASK_BULK:
        *k = (struct kind){sizeof(struct weft__pp_bulk_task_frame), 0,
                           WEFT__PP_TO_WORKER};
        return 1;
    case FRAME_RESULT:
    case FRAME_ERROR:
    case FRAME_INIT_FAILED:
        *k = (struct kind){sizeof(struct weft__pp_result_frame), 1,
                           WEFT__PP_TO_POOL};
        return 1;
    case FRAME_RESULT_BULK:
        *k = (struct kind){sizeof(struct weft__pp_bulk_result_frame), 0,
                           WEFT__PP_TO_POOL};
        return 1;
    default:
        return 0;
    }
}

/* The head alone: whether a frame that starts so can be valid. */
static const char *check_head(const struct weft__pp_head *h, int dir,
                              struct kind *k)
{
    if (!kind_of(h->type, k) || k->dir != dir)
        return "a frame of an unknown type";
    if (h->size > WEFT__PP_FRAME_MAX)
        return "a frame longer than any the pool or a worker sends";
    if (h->size % WEFT__PP_ALIGN != 0 || h->pad >= WEFT__PP_ALIGN)
        return "a frame of a size that is not a multiple of 16";
    if (h->size < k->fixed + h->pad)
        return "a frame shorter than its type's fixed part";
    if (!k->body && h->size != k->fixed + h->pad)
        return "a body on a frame of a type that has none";
    return NULL;
}

/* Where a ring payload of len bytes at offset off leaves the ring's head
 * (a position, see weft__pp_ring_take), modulo the ring's size. */
static uint64_t ring_end(uint64_t off, uint64_t len)
{
    return (off + ((len + 63) & ~(uint64_t)63)) % WEFT__PP_BULK;
}

/* The fields the writer always fills the same way: reserved words and
 * padding are zero, a result has code 0 and an error not, an
 * initializer's failure names no task, a task's ring payload leaves no
 * head. */
static const char *check_fields(const struct weft__pp_frame *f)
{
    switch (f->h.type) {
    case FRAME_FN:
        return f->u.fn.pad_ ? "a nonzero reserved field" : NULL;
    case FRAME_TASK:
    case FRAME_TASK_BULK:
        if (f->u.task.pad_)
            return "a nonzero reserved field";
        return f->h.type == FRAME_TASK_BULK && f->u.bulk_task.b.end
                   ? "a task's ring payload that names a head"
                   : NULL;
    case FRAME_EXIT:
        return NULL;
    default:
        break;
    }
    const struct weft__pp_result_frame *r = &f->u.result;
    if (r->pad_)
        return "a nonzero reserved field";
    if ((f->h.type == FRAME_ERROR || f->h.type == FRAME_INIT_FAILED) !=
        (r->code != 0))
        return "a result with an error code, or an error without one";
    if (f->h.type == FRAME_INIT_FAILED && (r->id || r->run_ns))
        return "an initializer's failure that names a task";
    const struct weft__pp_bulk *b = &f->u.bulk_result.b;
    if (f->h.type == FRAME_RESULT_BULK &&
        b->end % WEFT__PP_BULK != ring_end(b->off, b->len))
        return "a result in the ring that does not end where it says";
    return NULL;
}

/* The whole frame: what its fixed part says, and its padding. */
static const char *check_fixed(const struct weft__pp_frame *f)
{
    if (f->h.type == FRAME_TASK_BULK && !weft__pp_bulk_valid(&f->u.bulk_task.b))
        return "a task's argument outside the argument ring";
    if (f->h.type == FRAME_RESULT_BULK &&
        !weft__pp_bulk_valid(&f->u.bulk_result.b))
        return "a result outside the result ring";
    if (f->body_len > WEFT__PP_PAYLOAD_MAX)
        return "a frame longer than any the pool or a worker sends";
    const unsigned char *pad = f->body + f->body_len;
    for (unsigned i = 0; i < f->h.pad; i++)
        if (pad[i] != 0)
            return "nonzero padding";
    return check_fields(f);
}

int weft__pp_read_frame(const unsigned char *data, size_t len, int dir,
                        struct weft__pp_frame *f, const char **why)
{
    if (len < sizeof f->h)
        return 0;
    memcpy(&f->h, data, sizeof f->h); /* frames need not be aligned */
    struct kind k;
    *why = check_head(&f->h, dir, &k);
    if (*why)
        return -1;
    if (len < f->h.size)
        return 0;
    memset(&f->u, 0, sizeof f->u);
    memcpy(&f->u, data, k.fixed);
    f->body = data + k.fixed;
    f->body_len = f->h.size - k.fixed - f->h.pad;
    *why = check_fixed(f);
    return *why ? -1 : 1;
}

int weft__pp_put_frame(struct weft__pp_buf *b, uint32_t type, void *fixed,
                       size_t fixed_len, const void *body, size_t body_len)
{
    size_t pad = (WEFT__PP_ALIGN - (fixed_len + body_len) % WEFT__PP_ALIGN) %
                 WEFT__PP_ALIGN;
    if (body_len > WEFT__PP_PAYLOAD_MAX)
        return weft_fail(WEFT_EMSGSIZE,
                         "a process pool frame holds at most 1 GiB");
    size_t total = fixed_len + body_len + pad;
    int rc = weft__pp_buf_reserve(b, total);
    if (rc)
        return rc;
    struct weft__pp_head h = {(uint32_t)total, (uint16_t)type, (uint16_t)pad};
    memcpy(fixed, &h, sizeof h);
    unsigned char *at = b->data + b->len;
    memcpy(at, fixed, fixed_len);
    if (body_len)
        memcpy(at + fixed_len, body, body_len);
    memset(at + fixed_len + body_len, 0, pad);
    b->len += total;
    return 0;
}

int64_t weft__pp_ring_take(uint64_t *head, uint64_t tail, size_t len)
{
    size_t need = (len + 63) & ~(size_t)63; /* the next one stays aligned */
    uint64_t at = *head;
    size_t off = at % WEFT__PP_BULK;
    if (off + need > WEFT__PP_BULK) {
        at += WEFT__PP_BULK - off;
        off = 0;
    }
    if (need > WEFT__PP_BULK || at + need - tail > WEFT__PP_BULK)
        return -1;
    *head = at + need;
    return (int64_t)off;
}
