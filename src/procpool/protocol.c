/* The frames between the pool and its workers, and the byte buffers both
 * sides keep them in. Both ends are the same program on the same machine,
 * so numbers go in native byte order; the reader still checks every size,
 * since a task's code could write anything to its descriptors. */
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

static size_t fixed_size(uint32_t type)
{
    switch (type) {
    case FRAME_FN:
        return sizeof(struct weft__pp_fn_frame);
    case FRAME_TASK:
        return sizeof(struct weft__pp_task_frame);
    case FRAME_EXIT:
        return sizeof(struct weft__pp_head);
    case FRAME_RESULT:
    case FRAME_ERROR:
    case FRAME_INIT_FAILED:
        return sizeof(struct weft__pp_result_frame);
    case FRAME_TASK_BULK:
        return sizeof(struct weft__pp_bulk_task_frame);
    case FRAME_RESULT_BULK:
        return sizeof(struct weft__pp_bulk_result_frame);
    default:
        return 0;
    }
}

int weft__pp_next_frame(const unsigned char *data, size_t len,
                        struct weft__pp_head *h)
{
    if (len < sizeof *h)
        return 0;
    memcpy(h, data, sizeof *h); /* frames need not be aligned */
    size_t fixed = fixed_size(h->type);
    if (fixed == 0 || h->size < fixed + h->pad)
        return -1;
    return len >= h->size ? 1 : 0;
}

int weft__pp_put_frame(struct weft__pp_buf *b, uint32_t type, void *fixed,
                       size_t fixed_len, const void *body, size_t body_len)
{
    size_t pad = (WEFT__PP_ALIGN - (fixed_len + body_len) % WEFT__PP_ALIGN) %
                 WEFT__PP_ALIGN;
    if (body_len > WEFT__PP_FRAME_MAX - fixed_len - WEFT__PP_ALIGN)
        return weft_fail(WEFT_EMSGSIZE,
                         "a process pool frame holds at most 4 GiB");
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
