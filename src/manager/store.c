/* SPDX-License-Identifier: MIT */
/* What the manager's server holds: its dicts and lists, by id, and the
 * request interpreter. The server runs one request at a time (under its
 * lock), so nothing here is shared while it runs.
 *
 * A dict is a hash table with chained buckets, hashed with SipHash
 * (libsodium's crypto_shorthash) under a random key, so that no client can
 * pick keys that all collide; its entries are also kept in insertion order,
 * which keys() follows, as Python's dicts do. A list is an array. A request
 * that does not parse (wrong lengths, bytes left over) gets WEFT_EPROTO. */
#include "manager_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    weft_bytes_t key, value;
    uint64_t hash;
    struct entry *chain;       /* the next in its bucket */
    struct entry *prev, *next; /* insertion order */
};

struct dict {
    struct entry **buckets;
    size_t n_buckets, count;
    struct entry *first, *last;
};

struct list {
    weft_bytes_t *items;
    size_t len, cap;
};

struct object {
    int kind;
    struct dict d;
    struct list l;
};

struct weft__store {
    struct object *objs;
    size_t n, cap;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

int weft__store_new(weft__store_t **out)
{
    weft__store_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return weft_fail(WEFT_ENOMEM, "manager store: no memory");
    crypto_shorthash_keygen(s->hash_key);
    *out = s;
    return 0;
}

static void free_dict(struct dict *d)
{
    for (struct entry *e = d->first, *next; e; e = next) {
        next = e->next;
        weft_bytes_free(&e->key);
        weft_bytes_free(&e->value);
        free(e);
    }
    free(d->buckets);
}

static void free_list(struct list *l)
{
    weft_bytes_list_free(l->items, l->len);
}

void weft__store_free(weft__store_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->objs[i].kind == OBJ_DICT)
            free_dict(&s->objs[i].d);
        else
            free_list(&s->objs[i].l);
    }
    free(s->objs);
    free(s);
}

/* ----- Responses ----- */

static void ok(weft__wbuf_t *resp)
{
    weft__w_u32(resp, 0);
}

__attribute__((format(printf, 3, 4))) static void
refuse(weft__wbuf_t *resp, int code, const char *fmt, ...)
{
    char msg[WEFT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp->len = 0;
    weft__w_u32(resp, (uint32_t)code);
    weft__w_blob(resp, msg, strlen(msg));
}

/* ----- Dicts ----- */

static uint64_t hash_of(const weft__store_t *s, const unsigned char *key,
                        size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, len, s->hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

static struct entry *find(const struct dict *d, const unsigned char *key,
                          size_t len, uint64_t hash)
{
    if (d->n_buckets == 0)
        return NULL;
    for (struct entry *e = d->buckets[hash % d->n_buckets]; e; e = e->chain)
        if (e->hash == hash && e->key.len == len &&
            (len == 0 || memcmp(e->key.data, key, len) == 0))
            return e;
    return NULL;
}

static int rehash(struct dict *d)
{
    size_t n = d->n_buckets ? 2 * d->n_buckets : 16;
    struct entry **b = calloc(n, sizeof *b);
    if (b == NULL)
        return WEFT_ENOMEM;
    for (struct entry *e = d->first; e; e = e->next) {
        e->chain = b[e->hash % n];
        b[e->hash % n] = e;
    }
    free(d->buckets);
    d->buckets = b;
    d->n_buckets = n;
    return 0;
}

static int insert(struct dict *d, const unsigned char *key, size_t klen,
                  uint64_t hash, weft_bytes_t value)
{
    if (d->count + 1 > d->n_buckets * 3 / 4 && rehash(d) != 0)
        return WEFT_ENOMEM;
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL || weft_bytes_copy(&e->key, key, klen) != 0) {
        free(e);
        return WEFT_ENOMEM;
    }
    e->value = value;
    e->hash = hash;
    e->chain = d->buckets[hash % d->n_buckets];
    d->buckets[hash % d->n_buckets] = e;
    e->prev = d->last;
    if (d->last)
        d->last->next = e;
    else
        d->first = e;
    d->last = e;
    d->count++;
    return 0;
}

/* Unlink e, handing its value to *value (or freeing it). */
static void erase(struct dict *d, struct entry *e, weft_bytes_t *value)
{
    struct entry **at = &d->buckets[e->hash % d->n_buckets];
    while (*at != e)
        at = &(*at)->chain;
    *at = e->chain;
    if (e->prev)
        e->prev->next = e->next;
    else
        d->first = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        d->last = e->prev;
    d->count--;
    if (value)
        *value = e->value;
    else
        weft_bytes_free(&e->value);
    weft_bytes_free(&e->key);
    free(e);
}

/* Replace (or add) key's value with a copy of data. */
static int put(weft__store_t *s, struct dict *d, const unsigned char *key,
               size_t klen, const unsigned char *data, size_t len)
{
    weft_bytes_t v;
    if (weft_bytes_copy(&v, data, len) != 0)
        return WEFT_ENOMEM;
    uint64_t hash = hash_of(s, key, klen);
    struct entry *e = find(d, key, klen, hash);
    if (e) {
        weft_bytes_free(&e->value);
        e->value = v;
        return 0;
    }
    int rc = insert(d, key, klen, hash, v);
    if (rc)
        weft_bytes_free(&v);
    return rc;
}

/* ----- Requests ----- */

struct request {
    weft__store_t *s;
    weft__rbuf_t *r;
    weft__wbuf_t *resp;
    struct object *obj;
};

static int parsed(struct request *q)
{
    if (weft__r_done(q->r))
        return 1;
    refuse(q->resp, WEFT_EPROTO, "malformed request");
    return 0;
}

static void no_key(struct request *q)
{
    refuse(q->resp, WEFT_EKEY, "no such key");
}

static void dict_get(struct request *q, int pop)
{
    size_t klen;
    const unsigned char *key = weft__r_blob(q->r, &klen);
    if (!parsed(q))
        return;
    struct entry *e = find(&q->obj->d, key, klen, hash_of(q->s, key, klen));
    if (e == NULL)
        return no_key(q);
    ok(q->resp);
    weft__w_blob(q->resp, e->value.data, e->value.len);
    if (pop)
        erase(&q->obj->d, e, NULL);
}

static void dict_set(struct request *q)
{
    size_t klen, vlen;
    const unsigned char *key = weft__r_blob(q->r, &klen);
    const unsigned char *value = weft__r_blob(q->r, &vlen);
    if (!parsed(q))
        return;
    if (put(q->s, &q->obj->d, key, klen, value, vlen) != 0)
        return refuse(q->resp, WEFT_ENOMEM, "the manager is out of memory");
    ok(q->resp);
}

static void dict_delete(struct request *q)
{
    size_t klen;
    const unsigned char *key = weft__r_blob(q->r, &klen);
    if (!parsed(q))
        return;
    struct entry *e = find(&q->obj->d, key, klen, hash_of(q->s, key, klen));
    if (e == NULL)
        return no_key(q);
    erase(&q->obj->d, e, NULL);
    ok(q->resp);
}

static void dict_keys(struct request *q)
{
    if (!parsed(q))
        return;
    ok(q->resp);
    weft__w_u32(q->resp, (uint32_t)q->obj->d.count);
    for (struct entry *e = q->obj->d.first; e; e = e->next)
        weft__w_blob(q->resp, e->key.data, e->key.len);
}

static void dict_add(struct request *q)
{
    size_t klen;
    const unsigned char *key = weft__r_blob(q->r, &klen);
    int64_t delta = weft__r_i64(q->r);
    if (!parsed(q))
        return;
    struct entry *e = find(&q->obj->d, key, klen, hash_of(q->s, key, klen));
    if (e && e->value.len != 8)
        return refuse(q->resp, WEFT_EINVAL,
                      "not a counter: the value is %zu bytes, not 8",
                      e->value.len);
    weft__rbuf_t old = {e ? e->value.data : NULL, e ? 8 : 0, 0, 0};
    int64_t now =
        (int64_t)((uint64_t)(e ? weft__r_i64(&old) : 0) + (uint64_t)delta);
    weft__wbuf_t v = {0};
    weft__w_i64(&v, now);
    int rc = v.failed ? WEFT_ENOMEM : put(q->s, &q->obj->d, key, klen, v.p, 8);
    weft__w_free(&v);
    if (rc)
        return refuse(q->resp, rc, "the manager is out of memory");
    ok(q->resp);
    weft__w_i64(q->resp, now);
}

static void dict_cas(struct request *q)
{
    size_t klen, elen, vlen;
    const unsigned char *key = weft__r_blob(q->r, &klen);
    int has_expected = weft__r_u8(q->r);
    const unsigned char *expected = weft__r_blob(q->r, &elen);
    const unsigned char *value = weft__r_blob(q->r, &vlen);
    if (!parsed(q))
        return;
    struct entry *e = find(&q->obj->d, key, klen, hash_of(q->s, key, klen));
    int same = has_expected ? e && e->value.len == elen &&
                                  (elen == 0 ||
                                   memcmp(e->value.data, expected, elen) == 0)
                            : e == NULL;
    if (!same)
        return refuse(q->resp, WEFT_ESTATE, "the value changed");
    if (put(q->s, &q->obj->d, key, klen, value, vlen) != 0)
        return refuse(q->resp, WEFT_ENOMEM, "the manager is out of memory");
    ok(q->resp);
}

static void run_dict(struct request *q, int op)
{
    switch (op) {
    case OP_DICT_GET:
        return dict_get(q, 0);
    case OP_DICT_POP:
        return dict_get(q, 1);
    case OP_DICT_SET:
        return dict_set(q);
    case OP_DICT_DELETE:
        return dict_delete(q);
    case OP_DICT_LEN:
        if (parsed(q)) {
            ok(q->resp);
            weft__w_i64(q->resp, (int64_t)q->obj->d.count);
        }
        return;
    case OP_DICT_KEYS:
        return dict_keys(q);
    case OP_DICT_ADD:
        return dict_add(q);
    default:
        return dict_cas(q);
    }
}

/* ----- Lists ----- */

/* Python's index: negative counts from the end. 0 and *at, or -1. */
static int index_of(const struct list *l, int64_t i, size_t *at)
{
    if (i < 0)
        i += (int64_t)l->len;
    if (i < 0 || (uint64_t)i >= l->len)
        return -1;
    *at = (size_t)i;
    return 0;
}

static void list_append(struct request *q)
{
    size_t vlen;
    const unsigned char *value = weft__r_blob(q->r, &vlen);
    if (!parsed(q))
        return;
    struct list *l = &q->obj->l;
    if (l->len == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        weft_bytes_t *items = realloc(l->items, cap * sizeof *items);
        if (items == NULL)
            return refuse(q->resp, WEFT_ENOMEM, "the manager is out of memory");
        l->items = items;
        l->cap = cap;
    }
    if (weft_bytes_copy(&l->items[l->len], value, vlen) != 0)
        return refuse(q->resp, WEFT_ENOMEM, "the manager is out of memory");
    l->len++;
    ok(q->resp);
}

static void list_at(struct request *q, int op)
{
    int64_t i = weft__r_i64(q->r);
    size_t vlen = 0;
    const unsigned char *value =
        op == OP_LIST_SET ? weft__r_blob(q->r, &vlen) : NULL;
    if (!parsed(q))
        return;
    struct list *l = &q->obj->l;
    size_t at;
    if (index_of(l, i, &at) != 0)
        return refuse(q->resp, WEFT_EKEY, "list index out of range");
    weft_bytes_t *item = &l->items[at];
    if (op == OP_LIST_SET) {
        weft_bytes_t v;
        if (weft_bytes_copy(&v, value, vlen) != 0)
            return refuse(q->resp, WEFT_ENOMEM, "the manager is out of memory");
        weft_bytes_free(item);
        *item = v;
        return ok(q->resp);
    }
    ok(q->resp);
    if (op != OP_LIST_DELETE)
        weft__w_blob(q->resp, item->data, item->len);
    if (op == OP_LIST_GET)
        return;
    weft_bytes_free(item);
    memmove(item, item + 1, (l->len - at - 1) * sizeof *item);
    l->len--;
}

static void list_items(struct request *q)
{
    if (!parsed(q))
        return;
    ok(q->resp);
    weft__w_u32(q->resp, (uint32_t)q->obj->l.len);
    for (size_t i = 0; i < q->obj->l.len; i++)
        weft__w_blob(q->resp, q->obj->l.items[i].data, q->obj->l.items[i].len);
}

static void run_list(struct request *q, int op)
{
    switch (op) {
    case OP_LIST_APPEND:
        return list_append(q);
    case OP_LIST_LEN:
        if (parsed(q)) {
            ok(q->resp);
            weft__w_i64(q->resp, (int64_t)q->obj->l.len);
        }
        return;
    case OP_LIST_ITEMS:
        return list_items(q);
    default:
        return list_at(q, op);
    }
}

/* ----- Objects ----- */

static void new_object(struct request *q, int kind)
{
    if (!parsed(q))
        return;
    weft__store_t *s = q->s;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct object *o = realloc(s->objs, cap * sizeof *o);
        if (o == NULL)
            return refuse(q->resp, WEFT_ENOMEM, "the manager is out of memory");
        s->objs = o;
        s->cap = cap;
    }
    memset(&s->objs[s->n], 0, sizeof s->objs[0]);
    s->objs[s->n].kind = kind;
    ok(q->resp);
    weft__w_u32(q->resp, (uint32_t)++s->n); /* ids start at 1 */
}

void weft__store_run(weft__store_t *s, weft__rbuf_t *r, weft__wbuf_t *resp)
{
    int op = weft__r_u8(r);
    int pad = weft__r_u8(r) | weft__r_u8(r) | weft__r_u8(r);
    uint32_t id = weft__r_u32(r);
    struct request q = {s, r, resp, NULL};
    if (r->failed || pad)
        return refuse(resp, WEFT_EPROTO, "malformed request");
    if (op == OP_NEW_DICT || op == OP_NEW_LIST)
        return new_object(&q, op == OP_NEW_DICT ? OBJ_DICT : OBJ_LIST);
    int kind = op >= OP_DICT_GET && op <= OP_DICT_CAS        ? OBJ_DICT
               : op >= OP_LIST_APPEND && op <= OP_LIST_ITEMS ? OBJ_LIST
                                                             : 0;
    if (kind == 0)
        return refuse(resp, WEFT_EPROTO, "unknown request %d", op);
    if (id == 0 || id > s->n || s->objs[id - 1].kind != kind)
        return refuse(resp, WEFT_EKEY, "no such %s in the manager",
                      kind == OBJ_DICT ? "dict" : "list");
    q.obj = &s->objs[id - 1];
    if (kind == OBJ_DICT)
        run_dict(&q, op);
    else
        run_list(&q, op);
}
