/* SPDX-License-Identifier: MIT */
/* The child's specification: built in the parent, serialized for a spawned
 * or fork-server child (which shares no memory with the parent), read back
 * there. Both ends are the same program on the same machine, so numbers go
 * in native byte order; the reader still checks every length, since the
 * bytes come through a descriptor a stray process could write to. */
#include "process_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPEC_MAGIC 0x31534657u /* "WFS1" */

/* ----- Building ----- */

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int weft__spec_for(struct weft__child_spec *spec, const weft_process_t *p,
                   int method)
{
    memset(spec, 0, sizeof *spec);
    spec->name = dup_or_empty(p->name);
    spec->identity = dup_or_empty(p->identity);
    spec->parent_name = dup_or_empty(weft__current_name());
    spec->parent_pid = (uint32_t)getpid();
    spec->daemon = p->daemon;
    spec->default_method = weft__default_method();
    weft__current_authkey(spec->authkey);
    spec->arg = p->arg; /* borrowed: spec_clear leaves it */
    if (!spec->name || !spec->identity || !spec->parent_name) {
        weft__spec_clear(spec);
        return weft_fail(WEFT_ENOMEM, "process start: no memory");
    }
    if (method == METHOD_FORK) {
        spec->target.kind = TARGET_POINTER;
        spec->target.fn = p->target;
        return 0;
    }
    int rc = weft__target_locate(p->target, &spec->target);
    if (rc)
        weft__spec_clear(spec);
    return rc;
}

void weft__spec_clear(struct weft__child_spec *spec)
{
    free(spec->name);
    free(spec->identity);
    free(spec->parent_name);
    weft__target_clear(&spec->target);
    spec->name = spec->identity = spec->parent_name = NULL;
}

/* ----- Writing ----- */

struct writer {
    unsigned char *p;
    size_t len, cap;
    int failed;
};

static void put(struct writer *w, const void *data, size_t len)
{
    if (w->failed)
        return;
    if (w->cap - w->len < len) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < len)
            cap *= 2;
        unsigned char *p = realloc(w->p, cap);
        if (p == NULL) {
            w->failed = 1;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    if (len)
        memcpy(w->p + w->len, data, len);
    w->len += len;
}

static void put_u32(struct writer *w, uint32_t v)
{
    put(w, &v, sizeof v);
}

static void put_u64(struct writer *w, uint64_t v)
{
    put(w, &v, sizeof v);
}

static void put_blob(struct writer *w, const void *data, size_t len)
{
    put_u64(w, len);
    put(w, data, len);
}

static void put_str(struct writer *w, const char *s)
{
    put_blob(w, s, strlen(s));
}

int weft__spec_encode(const struct weft__child_spec *spec, weft_bytes_t *out)
{
    struct writer w = {0};
    put_u32(&w, SPEC_MAGIC);
    put_str(&w, spec->name);
    put_str(&w, spec->identity);
    put_str(&w, spec->parent_name);
    put_u32(&w, spec->parent_pid);
    put_u32(&w, (uint32_t)spec->daemon);
    put_u32(&w, (uint32_t)spec->default_method);
    put(&w, spec->authkey, sizeof spec->authkey);
    put_u32(&w, (uint32_t)spec->target.kind);
    put_str(&w, spec->target.object ? spec->target.object : "");
    put_u64(&w, spec->target.offset);
    put_str(&w, spec->target.symbol ? spec->target.symbol : "");
    put_blob(&w, spec->arg.data, spec->arg.len);
    if (w.failed) {
        free(w.p);
        return weft_fail(WEFT_ENOMEM, "process start: no memory");
    }
    out->data = w.p;
    out->len = w.len;
    return 0;
}

/* ----- Reading ----- */

struct reader {
    const unsigned char *p;
    size_t len, off;
    int failed;
};

static const unsigned char *take(struct reader *r, size_t len)
{
    if (r->failed || r->len - r->off < len) {
        r->failed = 1;
        return NULL;
    }
    const unsigned char *at = r->p + r->off;
    r->off += len;
    return at;
}

static uint32_t get_u32(struct reader *r)
{
    uint32_t v = 0;
    const unsigned char *at = take(r, sizeof v);
    if (at)
        memcpy(&v, at, sizeof v);
    return v;
}

static uint64_t get_u64(struct reader *r)
{
    uint64_t v = 0;
    const unsigned char *at = take(r, sizeof v);
    if (at)
        memcpy(&v, at, sizeof v);
    return v;
}

/* A copy of the next blob, NUL-terminated (so strings come out whole). */
static unsigned char *get_blob(struct reader *r, size_t *len)
{
    uint64_t n = get_u64(r);
    const unsigned char *at = n <= r->len ? take(r, (size_t)n) : NULL;
    if (at == NULL) {
        r->failed = 1;
        return NULL;
    }
    unsigned char *copy = malloc((size_t)n + 1);
    if (copy == NULL) {
        r->failed = 1;
        return NULL;
    }
    memcpy(copy, at, (size_t)n);
    copy[n] = '\0';
    if (len)
        *len = (size_t)n;
    return copy;
}

static char *get_str(struct reader *r)
{
    return (char *)get_blob(r, NULL);
}

int weft__spec_decode(struct weft__child_spec *spec, const unsigned char *data,
                      size_t len)
{
    memset(spec, 0, sizeof *spec);
    struct reader r = {data, len, 0, 0};
    if (get_u32(&r) != SPEC_MAGIC)
        return weft_fail(WEFT_EPROTO, "not a weft child specification");
    spec->name = get_str(&r);
    spec->identity = get_str(&r);
    spec->parent_name = get_str(&r);
    spec->parent_pid = get_u32(&r);
    spec->daemon = (int)get_u32(&r);
    spec->default_method = (int)get_u32(&r);
    const unsigned char *key = take(&r, sizeof spec->authkey);
    if (key)
        memcpy(spec->authkey, key, sizeof spec->authkey);
    spec->target.kind = (int)get_u32(&r);
    spec->target.object = get_str(&r);
    spec->target.offset = get_u64(&r);
    spec->target.symbol = get_str(&r);
    spec->arg.data = get_blob(&r, &spec->arg.len);
    if (r.failed || r.off != r.len || spec->target.kind == TARGET_POINTER) {
        weft__spec_clear(spec);
        weft_bytes_free(&spec->arg);
        return weft_fail(WEFT_EPROTO, "malformed child specification");
    }
    if (spec->arg.len == 0) {
        free(spec->arg.data);
        spec->arg.data = NULL;
    }
    return 0;
}
