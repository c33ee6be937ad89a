/* SPDX-License-Identifier: MIT */
/* Byte chunks: several items of a byte map that travel as one byte task.
 *
 * A byte map's chunk must run on any executor, including a process pool
 * whose workers share no memory with the caller, so a chunk is plain
 * bytes: the task's function is weft__chunk_run, and its argument packs
 * the item function and the items; its result packs each item's outcome
 * (a result, or a code and a message). As Python's map sends
 * partial(_process_chunk, fn) with the chunk's items, and gets back a list.
 *
 * The item function goes by pointer where the executor runs tasks in this
 * process, and otherwise by its place in its loaded image (base/image.h:
 * the image's path, the offset in it, and its name where the dynamic linker
 * knows one, checked on arrival), so that a worker process of the same
 * program finds it wherever ASLR put it.
 *
 * Layouts (native byte order: both ends are the same program on the same
 * machine). Every offset counts from the start of the packed bytes, and
 * every item's bytes start 16-aligned there, so an item is aligned as
 * memory from malloc() is wherever the packed bytes themselves are.
 *   argument: arg_head, the image's path, the name (padded to 8), then
 *             count spans {offset, length}, then the items;
 *   result:   result_head, then count entries {code, offset, length}
 *             (code 0: the item's result; else its message), then the
 *             bytes.
 * Whoever opens packed bytes checks every length and offset first: a
 * malformed chunk is WEFT_EPROTO, never a read out of bounds. */
#include "executor_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/image.h"

#define ARG_MAGIC 0x31414357u    /* "WCA1" */
#define RESULT_MAGIC 0x31524357u /* "WCR1" */
#define ALIGN 16
#define NAME_MAX_LEN 255

enum { FN_POINTER = 1, FN_IMAGE = 2 };

struct arg_head {
    uint32_t magic;
    uint32_t kind;
    uint64_t count;
    uint64_t fn;  /* FN_POINTER: the pointer; FN_IMAGE: the offset */
    uint64_t pid; /* FN_POINTER: the process that may run it */
    uint32_t object_len;
    uint32_t symbol_len;
};

struct span {
    uint64_t offset, len;
};

struct result_head {
    uint32_t magic;
    uint32_t pad_;
    uint64_t count;
};

struct result_entry {
    int32_t code;
    uint32_t pad_;
    uint64_t offset, len;
};

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* len bytes at offset lie within total bytes. */
static int within(uint64_t offset, uint64_t len, size_t total)
{
    return offset <= total && len <= total - offset;
}

/* ----- The item function's reference ----- */

int weft__chunk_fn_ref(weft_bytes_fn fn, int same_process, weft_bytes_t *ref)
{
    struct arg_head h = {ARG_MAGIC, FN_POINTER, 0, (uint64_t)(uintptr_t)fn,
                         (uint64_t)getpid(), 0, 0};
    const char *object = "";
    char symbol[NAME_MAX_LEN + 1] = "";
    if (!same_process) {
        uintptr_t base;
        if (!weft__image_of((const void *)fn, &object, &base))
            return weft_fail(WEFT_EINVAL, "map: the item function %p is in "
                                          "no loaded image",
                             (void *)fn);
        weft_symbol_name((const void *)fn, symbol, sizeof symbol);
        weft_clear_message();
        h.kind = FN_IMAGE;
        h.fn = (uint64_t)((uintptr_t)fn - base);
        h.pid = 0;
        h.object_len = (uint32_t)strlen(object);
        h.symbol_len = (uint32_t)strlen(symbol);
    }
    size_t len = round_up(sizeof h + h.object_len + h.symbol_len, 8);
    unsigned char *p = calloc(1, len);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "map: no memory");
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, object, h.object_len);
    memcpy(p + sizeof h + h.object_len, symbol, h.symbol_len);
    *ref = (weft_bytes_t){p, len};
    return 0;
}

/* The function a packed argument names, in this process. */
static int resolve_fn(const weft_bytes_t *arg, const struct arg_head *h,
                      weft_bytes_fn *fn)
{
    if (h->kind == FN_POINTER) {
        if (h->pid != (uint64_t)getpid())
            return weft_fail(WEFT_EPROTO,
                             "a byte chunk packed for another process");
        *fn = (weft_bytes_fn)(uintptr_t)h->fn;
        return 0;
    }
    char object[4096], symbol[NAME_MAX_LEN + 1], found[NAME_MAX_LEN + 1];
    if (h->object_len >= sizeof object || h->symbol_len >= sizeof symbol)
        return weft_fail(WEFT_EPROTO, "a byte chunk's function is malformed");
    memcpy(object, arg->data + sizeof *h, h->object_len);
    object[h->object_len] = '\0';
    memcpy(symbol, arg->data + sizeof *h + h->object_len, h->symbol_len);
    symbol[h->symbol_len] = '\0';
    uintptr_t base;
    const char *where;
    if (!weft__image_base(object, &base))
        return weft_fail(WEFT_EINVAL, "map: no image '%s' holds the item "
                                      "function here",
                         object[0] ? object : "(the program)");
    const void *p = (const void *)(base + (uintptr_t)h->fn);
    weft_symbol_name(p, found, sizeof found);
    if (!weft__image_of(p, &where, &base) || strcmp(found, symbol) != 0)
        return weft_fail(WEFT_EINVAL,
                         "map: the item function '%s' is not where the "
                         "caller had it: is this the same program?",
                         symbol);
    *fn = (weft_bytes_fn)p;
    return 0;
}

/* ----- Packing and opening the argument ----- */

int weft__chunk_pack(weft_bytes_t *out, const weft_bytes_t *fn_ref,
                     const weft_bytes_t *items, size_t n)
{
    size_t spans = fn_ref->len, data = round_up(spans + n * sizeof(struct span),
                                                ALIGN);
    size_t total = data;
    for (size_t i = 0; i < n; i++) {
        if (items[i].data == NULL && items[i].len > 0)
            return weft_fail(WEFT_EINVAL, "map: item %zu is NULL", i);
        total = round_up(total + items[i].len, ALIGN);
    }
    unsigned char *p = calloc(1, total ? total : 1);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "map: no memory for a chunk");
    struct arg_head h;
    memcpy(&h, fn_ref->data, sizeof h);
    h.count = n;
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, fn_ref->data + sizeof h, fn_ref->len - sizeof h);
    for (size_t i = 0; i < n; i++) {
        struct span s = {data, items[i].len};
        memcpy(p + spans + i * sizeof s, &s, sizeof s);
        if (items[i].len)
            memcpy(p + data, items[i].data, items[i].len);
        data = round_up(data + items[i].len, ALIGN);
    }
    *out = (weft_bytes_t){p, total};
    return 0;
}

/* Check a packed argument: its header, name and spans all within bounds.
 * *spans receives where the spans start. */
static int open_arg(const weft_bytes_t *arg, struct arg_head *h,
                    size_t *spans)
{
    if (arg->len < sizeof *h)
        return weft_fail(WEFT_EPROTO, "a byte chunk is malformed");
    memcpy(h, arg->data, sizeof *h);
    size_t names = sizeof *h + (size_t)h->object_len + h->symbol_len;
    if (h->magic != ARG_MAGIC || names > arg->len ||
        (h->kind != FN_POINTER && h->kind != FN_IMAGE))
        return weft_fail(WEFT_EPROTO, "a byte chunk is malformed");
    *spans = round_up(names, 8);
    if (*spans > arg->len ||
        h->count > (arg->len - *spans) / sizeof(struct span))
        return weft_fail(WEFT_EPROTO, "a byte chunk is malformed");
    for (uint64_t i = 0; i < h->count; i++) {
        struct span s;
        memcpy(&s, arg->data + *spans + i * sizeof s, sizeof s);
        if (!within(s.offset, s.len, arg->len))
            return weft_fail(WEFT_EPROTO, "a byte chunk is malformed");
    }
    return 0;
}

/* ----- Running ----- */

/* One item's outcome, before packing: its result, or its message. */
struct outcome {
    int code;
    weft_bytes_t bytes;
};

static void run_item(weft_bytes_fn fn, const unsigned char *data, size_t len,
                     struct outcome *o)
{
    /* The item's bytes as the function may expect them: aligned for any
     * type, as a task's argument is. */
    weft_bytes_t item = {(unsigned char *)data, len};
    weft_bytes_t copy = {NULL, 0};
    if (((uintptr_t)data % ALIGN) != 0) {
        if (weft_bytes_copy(&copy, data, len) != 0) {
            o->code = WEFT_ENOMEM;
            weft_bytes_copy(&o->bytes, "no memory", 9);
            return;
        }
        item = copy;
    }
    weft_clear_message();
    weft_bytes_t result = {NULL, 0};
    o->code = weft_task_cancelled() ? WEFT_ECANCELLED : fn(&item, &result);
    if (o->code == 0) {
        o->bytes = result;
    } else {
        weft_bytes_free(&result);
        const char *m = weft_last_message();
        m = m[0] ? m : weft_strerror(o->code);
        weft_bytes_copy(&o->bytes, m, strlen(m));
    }
    weft_bytes_free(&copy);
}

static int pack_results(const struct outcome *os, size_t n,
                        weft_bytes_t *result)
{
    size_t data = round_up(sizeof(struct result_head) +
                               n * sizeof(struct result_entry),
                           ALIGN);
    size_t total = data;
    for (size_t i = 0; i < n; i++)
        total = round_up(total + os[i].bytes.len, ALIGN);
    unsigned char *p = calloc(1, total);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "map: no memory for a chunk's results");
    struct result_head h = {RESULT_MAGIC, 0, n};
    memcpy(p, &h, sizeof h);
    for (size_t i = 0; i < n; i++) {
        struct result_entry e = {os[i].code, 0, data, os[i].bytes.len};
        memcpy(p + sizeof h + i * sizeof e, &e, sizeof e);
        if (os[i].bytes.len)
            memcpy(p + data, os[i].bytes.data, os[i].bytes.len);
        data = round_up(data + os[i].bytes.len, ALIGN);
    }
    *result = (weft_bytes_t){p, total};
    return 0;
}

int weft__chunk_run(const weft_bytes_t *arg, weft_bytes_t *result)
{
    struct arg_head h;
    size_t spans = 0;
    weft_bytes_fn fn = NULL;
    int rc = open_arg(arg, &h, &spans);
    if (rc == 0)
        rc = resolve_fn(arg, &h, &fn);
    if (rc)
        return rc;
    struct outcome *os = calloc(h.count ? h.count : 1, sizeof *os);
    if (os == NULL)
        return weft_fail(WEFT_ENOMEM, "map: no memory for a chunk");
    for (size_t i = 0; i < h.count; i++) {
        struct span s;
        memcpy(&s, arg->data + spans + i * sizeof s, sizeof s);
        run_item(fn, arg->data + s.offset, s.len, &os[i]);
    }
    rc = pack_results(os, h.count, result);
    for (size_t i = 0; i < h.count; i++)
        weft_bytes_free(&os[i].bytes);
    free(os);
    return rc;
}

/* ----- Opening the result ----- */

int weft__chunk_open(const weft_bytes_t *packed, size_t n)
{
    struct result_head h;
    if (packed == NULL || packed->len < sizeof h)
        return weft_fail(WEFT_EPROTO, "a byte chunk's result is malformed");
    memcpy(&h, packed->data, sizeof h);
    if (h.magic != RESULT_MAGIC || h.count != n ||
        n > (packed->len - sizeof h) / sizeof(struct result_entry))
        return weft_fail(WEFT_EPROTO, "a byte chunk's result is malformed");
    for (size_t i = 0; i < n; i++) {
        struct result_entry e;
        memcpy(&e, packed->data + sizeof h + i * sizeof e, sizeof e);
        if (!within(e.offset, e.len, packed->len))
            return weft_fail(WEFT_EPROTO,
                             "a byte chunk's result is malformed");
    }
    return 0;
}

int weft__chunk_item(const weft_bytes_t *packed, size_t i, weft_bytes_t *item)
{
    struct result_entry e;
    memcpy(&e, packed->data + sizeof(struct result_head) + i * sizeof e,
           sizeof e);
    if (e.code != 0)
        return weft_fail(e.code, "%.*s", (int)e.len,
                         (const char *)packed->data + e.offset);
    *item = (weft_bytes_t){packed->data + e.offset, e.len};
    return 0;
}
