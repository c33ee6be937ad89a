/* SPDX-License-Identifier: MIT */
/* Functions by reference: a function pointer turned into bytes that another
 * process of the same program turns back into the same function, built on
 * the way a spawned child finds its target (target.c).
 *
 * A reference is: a magic number, the kind (offset in an image, or a
 * registered name), the offset, then the image's path and the function's
 * name, each with its length. Both ends are the same program on the same
 * machine, so numbers go in native byte order; the reader still checks
 * every length, since the bytes may come through a descriptor. */
#include "process_int.h"

#include <stdlib.h>
#include <string.h>

#define REF_MAGIC 0x31524657u /* "WFR1" */

struct ref_header {
    uint32_t magic;
    uint32_t kind;
    uint64_t offset;
    uint32_t object_len;
    uint32_t symbol_len;
};

static int encode(const struct weft__target_ref *t, weft_bytes_t *ref)
{
    const char *object = t->object ? t->object : "";
    const char *symbol = t->symbol ? t->symbol : "";
    struct ref_header h = {REF_MAGIC, (uint32_t)t->kind, t->offset,
                           (uint32_t)strlen(object), (uint32_t)strlen(symbol)};
    size_t len = sizeof h + h.object_len + h.symbol_len;
    unsigned char *p = malloc(len);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_fn_locate: no memory");
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, object, h.object_len);
    memcpy(p + sizeof h + h.object_len, symbol, h.symbol_len);
    ref->data = p;
    ref->len = len;
    return 0;
}

int weft_fn_locate(weft_any_fn fn, weft_bytes_t *ref)
{
    if (fn == NULL || ref == NULL)
        return weft_fail(WEFT_EINVAL, "weft_fn_locate: NULL %s",
                         fn ? "ref" : "function");
    struct weft__target_ref t;
    int rc = weft__target_locate((weft_process_fn)fn, &t);
    if (rc == 0)
        rc = encode(&t, ref);
    weft__target_clear(&t);
    return rc;
}

/* Split ref into t (object and symbol newly allocated). */
static int decode(const weft_bytes_t *ref, struct weft__target_ref *t)
{
    struct ref_header h;
    if (ref->data == NULL || ref->len < sizeof h)
        return weft_fail(WEFT_EINVAL, "not a function reference");
    memcpy(&h, ref->data, sizeof h);
    if (h.magic != REF_MAGIC ||
        (h.kind != TARGET_OFFSET && h.kind != TARGET_NAME) ||
        (uint64_t)h.object_len + h.symbol_len != ref->len - sizeof h)
        return weft_fail(WEFT_EINVAL, "not a function reference");
    const char *body = (const char *)ref->data + sizeof h;
    memset(t, 0, sizeof *t);
    t->kind = (int)h.kind;
    t->offset = h.offset;
    t->object = strndup(body, h.object_len);
    t->symbol = strndup(body + h.object_len, h.symbol_len);
    if (t->object == NULL || t->symbol == NULL) {
        weft__target_clear(t);
        return weft_fail(WEFT_ENOMEM, "weft_fn_resolve: no memory");
    }
    return 0;
}

int weft_fn_resolve(const weft_bytes_t *ref, weft_any_fn *fn)
{
    if (ref == NULL || fn == NULL)
        return weft_fail(WEFT_EINVAL, "weft_fn_resolve: NULL argument");
    struct weft__target_ref t;
    int rc = decode(ref, &t);
    if (rc)
        return rc;
    rc = weft__target_resolve(&t);
    if (rc == 0)
        *fn = (weft_any_fn)t.fn;
    weft__target_clear(&t);
    return rc;
}
