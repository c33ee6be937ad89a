/* SPDX-License-Identifier: MIT */
/* Value and Array: C scalars in an anonymous segment, after a 64-byte
 * header that says what they are and holds their RLock (a shared one).
 * A Value is an array of one; the two types differ only in what their
 * functions offer. */
#include "base/check.h"
#include "shm_int.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define BLOCK_MAGIC 0x4b4c4257u /* "WBLK" */
#define DATA_OFFSET 64
#define KIND_VALUE 1u
#define KIND_ARRAY 2u

struct block_header {
    uint32_t magic;
    uint32_t kind;
    uint64_t itemsize;
    uint64_t length;
    char typecode;
    unsigned char has_lock;
    unsigned char pad[6];
    weft_rlock_t lock;
};

_Static_assert(sizeof(struct block_header) == DATA_OFFSET,
               "the data starts 64 bytes in, aligned for any scalar");

struct block {
    weft_shm_t *shm;
    struct block_header *hdr;
};

struct weft_value {
    struct block b;
};

struct weft_array {
    struct block b;
};

static size_t size_of(char typecode)
{
    switch (typecode) {
    case 'c':
    case 'b':
    case 'B':
        return 1;
    case 'h':
    case 'H':
        return sizeof(short);
    case 'i':
    case 'I':
        return sizeof(int);
    case 'l':
    case 'L':
        return sizeof(long);
    case 'q':
    case 'Q':
        return sizeof(long long);
    case 'f':
        return sizeof(float);
    case 'd':
        return sizeof(double);
    case 'u':
        return sizeof(wchar_t);
    default:
        return 0;
    }
}

static int make_block(struct block *b, uint32_t kind, char typecode,
                      size_t length, int lock)
{
    size_t itemsize = size_of(typecode);
    if (itemsize == 0)
        return weft_fail(WEFT_EINVAL, "unknown typecode '%c'", typecode);
    if (length == 0 || length > (SIZE_MAX - DATA_OFFSET) / itemsize)
        return weft_fail(WEFT_EINVAL, "an array of %zu items", length);
    int rc = weft_shm_create(&b->shm, NULL, DATA_OFFSET + itemsize * length);
    if (rc)
        return rc;
    struct block_header *h = weft_shm_buf(b->shm);
    h->kind = kind;
    h->itemsize = itemsize;
    h->length = length;
    h->typecode = typecode;
    h->has_lock = lock != 0;
    weft_rlock_init_shared(&h->lock);
    h->magic = BLOCK_MAGIC;
    b->hdr = h;
    return 0;
}

static int block_from_share(struct block *b, const weft_share_t *h,
                            uint32_t kind)
{
    if (h == NULL || h->kind != WEFT_SHARE_SHM_BLOCK || h->words[2] != kind)
        return weft_fail(WEFT_EINVAL, "not %s's share",
                         kind == KIND_VALUE ? "a Value" : "an Array");
    weft_share_t seg = *h;
    seg.kind = WEFT_SHARE_SHM;
    int rc = weft_shm_from_share(&b->shm, &seg);
    if (rc)
        return rc;
    struct block_header *hdr = weft_shm_buf(b->shm);
    if (weft_shm_size(b->shm) < DATA_OFFSET || hdr->magic != BLOCK_MAGIC ||
        hdr->kind != kind ||
        DATA_OFFSET + hdr->itemsize * hdr->length > weft_shm_size(b->shm)) {
        weft_shm_free(b->shm);
        return weft_fail(WEFT_EINVAL, "no %s behind the share",
                         kind == KIND_VALUE ? "Value" : "Array");
    }
    b->hdr = hdr;
    return 0;
}

static int block_share(const struct block *b, weft_share_t *h)
{
    int rc = weft_shm_share(b->shm, h);
    if (rc == 0) {
        h->kind = WEFT_SHARE_SHM_BLOCK;
        h->words[2] = b->hdr->kind;
    }
    return rc;
}

static void *data_of(const struct block *b)
{
    return (unsigned char *)b->hdr + DATA_OFFSET;
}

static weft_rlock_t *lock_of(const struct block *b)
{
    return b->hdr->has_lock ? &b->hdr->lock : NULL;
}

/* ----- Value ----- */

int weft_value_new(weft_value_t **out, char typecode, int lock)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "weft_value_new: NULL out");
    weft_value_t *v = calloc(1, sizeof *v);
    if (v == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_value_new: no memory");
    int rc = make_block(&v->b, KIND_VALUE, typecode, 1, lock);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

void weft_value_free(weft_value_t *v)
{
    if (v == NULL)
        return;
    weft_shm_free(v->b.shm);
    free(v);
}

void *weft_value_ptr(const weft_value_t *v)
{
    WEFT_REFUSE_NULL_OR(v, NULL);
    return v ? data_of(&v->b) : NULL;
}

weft_rlock_t *weft_value_get_lock(const weft_value_t *v)
{
    WEFT_REFUSE_NULL_OR(v, NULL);
    return v ? lock_of(&v->b) : NULL;
}

char weft_value_typecode(const weft_value_t *v)
{
    WEFT_REFUSE_NULL_OR(v, 0);
    return v ? v->b.hdr->typecode : '\0';
}

int weft_value_share(const weft_value_t *v, weft_share_t *h)
{
    if (v == NULL || h == NULL)
        return weft_fail(WEFT_EINVAL, "weft_value_share: NULL");
    return block_share(&v->b, h);
}

int weft_value_from_share(weft_value_t **out, const weft_share_t *h)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "weft_value_from_share: NULL out");
    weft_value_t *v = calloc(1, sizeof *v);
    if (v == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_value_from_share: no memory");
    int rc = block_from_share(&v->b, h, KIND_VALUE);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* ----- Array ----- */

int weft_array_new(weft_array_t **out, char typecode, size_t length, int lock)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "weft_array_new: NULL out");
    weft_array_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_array_new: no memory");
    int rc = make_block(&a->b, KIND_ARRAY, typecode, length, lock);
    if (rc) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void weft_array_free(weft_array_t *a)
{
    if (a == NULL)
        return;
    weft_shm_free(a->b.shm);
    free(a);
}

void *weft_array_ptr(const weft_array_t *a)
{
    WEFT_REFUSE_NULL_OR(a, NULL);
    return a ? data_of(&a->b) : NULL;
}

weft_rlock_t *weft_array_get_lock(const weft_array_t *a)
{
    WEFT_REFUSE_NULL_OR(a, NULL);
    return a ? lock_of(&a->b) : NULL;
}

char weft_array_typecode(const weft_array_t *a)
{
    WEFT_REFUSE_NULL_OR(a, 0);
    return a ? a->b.hdr->typecode : '\0';
}

size_t weft_array_itemsize(const weft_array_t *a)
{
    WEFT_REFUSE_NULL_OR(a, 0);
    return a ? (size_t)a->b.hdr->itemsize : 0;
}

size_t weft_array_len(const weft_array_t *a)
{
    WEFT_REFUSE_NULL_OR(a, 0);
    return a ? (size_t)a->b.hdr->length : 0;
}

int weft_array_share(const weft_array_t *a, weft_share_t *h)
{
    if (a == NULL || h == NULL)
        return weft_fail(WEFT_EINVAL, "weft_array_share: NULL");
    return block_share(&a->b, h);
}

int weft_array_from_share(weft_array_t **out, const weft_share_t *h)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "weft_array_from_share: NULL out");
    weft_array_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_array_from_share: no memory");
    int rc = block_from_share(&a->b, h, KIND_ARRAY);
    if (rc) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}
