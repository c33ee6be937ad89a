/* SPDX-License-Identifier: MIT */
/* Manager and its proxies: starting and stopping the server, connecting to
 * one, and the calls each proxy turns into a request (see store.c for what
 * the server does with them). */
#include "base/check.h"
#include "manager_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STOP_SECONDS 5.0

struct weft_manager {
    weft__mgr_client_t *client;
    weft_process_t *server; /* NULL unless this process started it */
    char path[WEFT__MGR_PATH_MAX];
    char dir[WEFT__MGR_PATH_MAX]; /* made for the socket; "" if none */
};

struct weft_dict_proxy {
    weft__mgr_client_t *client;
    uint32_t id;
};

struct weft_list_proxy {
    weft__mgr_client_t *client;
    uint32_t id;
};

void weft_bytes_list_free(weft_bytes_t *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        weft_bytes_free(&list[i]);
    free(list);
}

/* ----- Keys and addresses ----- */

static int derive(const void *key, size_t len,
                  unsigned char out[WEFT__MGR_KEY_BYTES])
{
    if (key == NULL)
        key = weft_process_authkey(&len);
    return weft__mgr_derive_key(key, len, out);
}

/* The template of a fresh directory of our own under $TMPDIR, which the
 * server makes (see server.c). */
static int private_template(char *out, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    int n = snprintf(out, size, "%s/weft-manager-XXXXXX", tmp);
    if (n < 0 || (size_t)n + sizeof "/socket" > size)
        return weft_fail(WEFT_EINVAL, "TMPDIR is too long for a socket");
    return 0;
}

/* ----- Starting, connecting, stopping ----- */

static int start_server(weft_manager_t *m, const struct weft__mgr_server_arg *a)
{
    weft_process_opts_t opts = {NULL, 1};
    int rc = weft_process_new(&m->server, weft__mgr_serve, a, sizeof *a, &opts);
    char name[64];
    if (rc == 0) {
        /* Python's name: SyncManager-N, N the counter Process-N took. */
        snprintf(name, sizeof name, "SyncManager-%s",
                 weft_process_name(m->server) + strlen("Process-"));
        weft_process_set_name(m->server, name);
        rc = weft_process_pass_fd(m->server, a->report_fd);
    }
    if (rc == 0)
        rc = weft_process_start(m->server);
    if (rc) {
        weft_process_free(m->server);
        m->server = NULL;
    }
    return rc;
}

/* The server's word: where it listens, or why it cannot. */
static int read_report(weft_manager_t *m, int fd)
{
    struct weft__mgr_server_report r;
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = read(fd, (char *)&r + got, sizeof r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return weft_fail(WEFT_ESYS, "the manager's server ended before "
                                        "it listened");
        got += (size_t)n;
    }
    r.message[sizeof r.message - 1] = '\0';
    if (r.code != 0)
        return weft_fail(r.code, "%s", r.message);
    memcpy(m->path, r.path, sizeof m->path);
    memcpy(m->dir, r.dir, sizeof m->dir);
    m->path[sizeof m->path - 1] = m->dir[sizeof m->dir - 1] = '\0';
    return 0;
}

static void remove_address(weft_manager_t *m)
{
    if (m->server == NULL || m->path[0] == '\0')
        return;
    unlink(m->path);
    if (m->dir[0])
        rmdir(m->dir);
}

/* Start the server and hear from it. The server makes the directory and
 * the socket itself, once it would clean them up if this process died, so
 * that an owner killed at any point of its start leaves nothing behind. */
static int start_and_hear(weft_manager_t *m, struct weft__mgr_server_arg *a)
{
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0)
        return weft_fail(WEFT_ESYS, "pipe2: %s", strerror(errno));
    a->report_fd = report[1];
    int rc = start_server(m, a);
    close(report[1]);
    if (rc == 0 && (rc = read_report(m, report[0])) != 0) {
        weft_process_join(m->server, WEFT_FOREVER); /* it ends at once */
        weft_process_free(m->server);
        m->server = NULL;
    }
    close(report[0]);
    return rc;
}

static int start(weft_manager_t *m, const char *address,
                 const unsigned char key[WEFT__MGR_KEY_BYTES])
{
    struct weft__mgr_server_arg a;
    memset(&a, 0, sizeof a);
    a.owner = (int32_t)getpid();
    a.private_dir = address == NULL;
    memcpy(a.key, key, sizeof a.key);
    int rc = 0;
    if (address)
        snprintf(a.path, sizeof a.path, "%s", address);
    else
        rc = private_template(a.path, sizeof a.path);
    if (rc == 0)
        rc = start_and_hear(m, &a);
    if (rc)
        return rc;
    rc = weft__mgr_client_new(&m->client, m->path, key);
    if (rc) {
        weft_process_terminate(m->server);
        weft_process_join(m->server, WEFT_FOREVER);
        remove_address(m);
    }
    return rc;
}

int weft_manager_start(weft_manager_t **out, const char *address,
                       const void *key, size_t keylen)
{
    if (out == NULL || (address && strlen(address) >= WEFT__MGR_PATH_MAX))
        return weft_fail(WEFT_EINVAL, "manager_start: %s",
                         out ? "the address is too long" : "NULL out");
    unsigned char k[WEFT__MGR_KEY_BYTES];
    int rc = derive(key, keylen, k);
    weft_manager_t *m = rc ? NULL : calloc(1, sizeof *m);
    if (rc == 0 && m == NULL)
        rc = weft_fail(WEFT_ENOMEM, "manager_start: no memory");
    if (rc == 0 && (rc = start(m, address, k)) != 0) {
        weft_process_free(m->server);
        free(m);
    }
    if (rc == 0)
        *out = m;
    return rc;
}

int weft_manager_connect(weft_manager_t **out, const char *address,
                         const void *key, size_t keylen)
{
    if (out == NULL || address == NULL || strlen(address) >= WEFT__MGR_PATH_MAX)
        return weft_fail(WEFT_EINVAL, "manager_connect: %s",
                         out && address ? "the address is too long" : "NULL");
    unsigned char k[WEFT__MGR_KEY_BYTES];
    int rc = derive(key, keylen, k);
    weft_manager_t *m = rc ? NULL : calloc(1, sizeof *m);
    if (rc == 0 && m == NULL)
        rc = weft_fail(WEFT_ENOMEM, "manager_connect: no memory");
    if (rc == 0) {
        snprintf(m->path, sizeof m->path, "%s", address);
        rc = weft__mgr_client_new(&m->client, address, k);
        if (rc)
            free(m);
    }
    if (rc == 0)
        *out = m;
    return rc;
}

const char *weft_manager_address(const weft_manager_t *m)
{
    WEFT_REFUSE_NULL_OR(m, NULL);
    return m ? m->path : NULL;
}

int weft_manager_shutdown(weft_manager_t *m)
{
    if (m == NULL || m->server == NULL)
        return weft_fail(m ? WEFT_EPERM : WEFT_EINVAL,
                         "only the process that started the manager stops "
                         "it");
    if (m->client) {
        weft__wbuf_t req = {0};
        weft__w_u8(&req, OP_SHUTDOWN);
        weft__w_raw(&req, "\0\0\0\0\0\0\0", 7);
        weft_bytes_t reply = {0};
        weft__mgr_call(m->client, &req, &reply); /* a stopped one says EOF */
        weft_bytes_free(&reply);
        weft__w_free(&req);
    }
    if (weft_process_join(m->server, STOP_SECONDS) != 0) {
        weft_process_kill(m->server);
        weft_process_join(m->server, WEFT_FOREVER);
    }
    remove_address(m);
    return 0;
}

void weft_manager_free(weft_manager_t *m)
{
    if (m == NULL)
        return;
    if (m->server) {
        weft_manager_shutdown(m);
        weft_process_free(m->server);
    }
    weft__mgr_client_unref(m->client);
    free(m);
}

/* ----- Requests ----- */

static void header(weft__wbuf_t *w, int op, uint32_t id)
{
    weft__w_u8(w, (uint8_t)op);
    weft__w_raw(w, "\0\0\0", 3);
    weft__w_u32(w, id);
}

/* Send w, free it; on success the reply's bytes in *reply (new). */
static int call(weft__mgr_client_t *c, weft__wbuf_t *w, weft_bytes_t *reply)
{
    weft_bytes_t ignored = {0};
    int rc = weft__mgr_call(c, w, reply ? reply : &ignored);
    weft_bytes_free(&ignored);
    weft__w_free(w);
    return rc;
}

static int make_object(weft_manager_t *m, int op, uint32_t *id)
{
    if (m == NULL || m->client == NULL)
        return weft_fail(WEFT_EINVAL, "manager: NULL");
    weft__wbuf_t w = {0};
    header(&w, op, 0);
    weft_bytes_t reply = {0};
    int rc = call(m->client, &w, &reply);
    weft__rbuf_t r = {reply.data, reply.len, 0, 0};
    if (rc == 0 && ((*id = weft__r_u32(&r)) == 0 || !weft__r_done(&r)))
        rc = weft_fail(WEFT_EPROTO, "a malformed reply from the manager");
    weft_bytes_free(&reply);
    return rc;
}

int weft_manager_dict(weft_manager_t *m, weft_dict_proxy_t **out)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "manager_dict: NULL out");
    uint32_t id;
    int rc = make_object(m, OP_NEW_DICT, &id);
    weft_dict_proxy_t *d = rc ? NULL : calloc(1, sizeof *d);
    if (rc == 0 && d == NULL)
        rc = weft_fail(WEFT_ENOMEM, "manager_dict: no memory");
    if (rc)
        return rc;
    d->client = weft__mgr_client_ref(m->client);
    d->id = id;
    *out = d;
    return 0;
}

int weft_manager_list(weft_manager_t *m, weft_list_proxy_t **out)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "manager_list: NULL out");
    uint32_t id;
    int rc = make_object(m, OP_NEW_LIST, &id);
    weft_list_proxy_t *l = rc ? NULL : calloc(1, sizeof *l);
    if (rc == 0 && l == NULL)
        rc = weft_fail(WEFT_ENOMEM, "manager_list: no memory");
    if (rc)
        return rc;
    l->client = weft__mgr_client_ref(m->client);
    l->id = id;
    *out = l;
    return 0;
}

/* A reply that is one blob: copy it to *value. */
static int blob_reply(weft_bytes_t *reply, weft_bytes_t *value)
{
    weft__rbuf_t r = {reply->data, reply->len, 0, 0};
    size_t len;
    const unsigned char *p = weft__r_blob(&r, &len);
    int rc = weft__r_done(&r)
                 ? weft_bytes_copy(value, p, len)
                 : weft_fail(WEFT_EPROTO, "a malformed reply from the manager");
    weft_bytes_free(reply);
    return rc;
}

/* A reply that is a count and that many blobs: copy them out. */
static int blobs_reply(weft_bytes_t *reply, weft_bytes_t **out, size_t *n)
{
    weft__rbuf_t r = {reply->data, reply->len, 0, 0};
    size_t count = weft__r_u32(&r);
    weft_bytes_t *list =
        count <= reply->len ? calloc(count ? count : 1, sizeof *list) : NULL;
    int rc = list ? 0 : weft_fail(WEFT_EPROTO, "a malformed reply");
    for (size_t i = 0; rc == 0 && i < count; i++) {
        size_t len;
        const unsigned char *p = weft__r_blob(&r, &len);
        rc = r.failed ? weft_fail(WEFT_EPROTO, "a malformed reply")
                      : weft_bytes_copy(&list[i], p, len);
    }
    if (rc == 0 && !weft__r_done(&r))
        rc = weft_fail(WEFT_EPROTO, "a malformed reply");
    weft_bytes_free(reply);
    if (rc) {
        weft_bytes_list_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return 0;
}

static int number_reply(weft_bytes_t *reply, int64_t *value)
{
    weft__rbuf_t r = {reply->data, reply->len, 0, 0};
    int64_t v = weft__r_i64(&r);
    int rc = weft__r_done(&r)
                 ? 0
                 : weft_fail(WEFT_EPROTO, "a malformed reply from the manager");
    weft_bytes_free(reply);
    if (rc == 0 && value)
        *value = v;
    return rc;
}

#define CHECK_PROXY(p, what)                                                   \
    do {                                                                       \
        if ((p) == NULL)                                                       \
            return weft_fail(WEFT_EINVAL, what ": NULL proxy");                \
    } while (0)

/* ----- DictProxy ----- */

void weft_dict_proxy_free(weft_dict_proxy_t *d)
{
    if (d == NULL)
        return;
    weft__mgr_client_unref(d->client);
    free(d);
}

static int dict_fetch(weft_dict_proxy_t *d, int op, const void *key,
                      size_t klen, weft_bytes_t *value)
{
    CHECK_PROXY(d, "dict");
    if (value == NULL || (key == NULL && klen))
        return weft_fail(WEFT_EINVAL, "dict: NULL key or value");
    weft__wbuf_t w = {0};
    header(&w, op, d->id);
    weft__w_blob(&w, key, klen);
    weft_bytes_t reply = {0};
    int rc = call(d->client, &w, &reply);
    return rc ? rc : blob_reply(&reply, value);
}

int weft_dict_proxy_get(weft_dict_proxy_t *d, const void *key, size_t klen,
                        weft_bytes_t *value)
{
    return dict_fetch(d, OP_DICT_GET, key, klen, value);
}

int weft_dict_proxy_pop(weft_dict_proxy_t *d, const void *key, size_t klen,
                        weft_bytes_t *value)
{
    return dict_fetch(d, OP_DICT_POP, key, klen, value);
}

int weft_dict_proxy_set(weft_dict_proxy_t *d, const void *key, size_t klen,
                        const void *value, size_t vlen)
{
    CHECK_PROXY(d, "dict_set");
    if ((key == NULL && klen) || (value == NULL && vlen))
        return weft_fail(WEFT_EINVAL, "dict_set: NULL key or value");
    weft__wbuf_t w = {0};
    header(&w, OP_DICT_SET, d->id);
    weft__w_blob(&w, key, klen);
    weft__w_blob(&w, value, vlen);
    return call(d->client, &w, NULL);
}

int weft_dict_proxy_delete(weft_dict_proxy_t *d, const void *key, size_t klen)
{
    CHECK_PROXY(d, "dict_delete");
    if (key == NULL && klen)
        return weft_fail(WEFT_EINVAL, "dict_delete: NULL key");
    weft__wbuf_t w = {0};
    header(&w, OP_DICT_DELETE, d->id);
    weft__w_blob(&w, key, klen);
    return call(d->client, &w, NULL);
}

int weft_dict_proxy_len(weft_dict_proxy_t *d, size_t *len)
{
    WEFT_REFUSE_NULL(len);
    CHECK_PROXY(d, "dict_len");
    weft__wbuf_t w = {0};
    header(&w, OP_DICT_LEN, d->id);
    weft_bytes_t reply = {0};
    int64_t n = 0;
    int rc = call(d->client, &w, &reply);
    if (rc == 0 && (rc = number_reply(&reply, &n)) == 0 && len)
        *len = (size_t)n;
    return rc;
}

int weft_dict_proxy_keys(weft_dict_proxy_t *d, weft_bytes_t **keys, size_t *n)
{
    CHECK_PROXY(d, "dict_keys");
    if (keys == NULL || n == NULL)
        return weft_fail(WEFT_EINVAL, "dict_keys: NULL out");
    weft__wbuf_t w = {0};
    header(&w, OP_DICT_KEYS, d->id);
    weft_bytes_t reply = {0};
    int rc = call(d->client, &w, &reply);
    return rc ? rc : blobs_reply(&reply, keys, n);
}

int weft_dict_proxy_add(weft_dict_proxy_t *d, const void *key, size_t klen,
                        int64_t delta, int64_t *result)
{
    CHECK_PROXY(d, "dict_add");
    if (key == NULL && klen)
        return weft_fail(WEFT_EINVAL, "dict_add: NULL key");
    weft__wbuf_t w = {0};
    header(&w, OP_DICT_ADD, d->id);
    weft__w_blob(&w, key, klen);
    weft__w_i64(&w, delta);
    weft_bytes_t reply = {0};
    int rc = call(d->client, &w, &reply);
    return rc ? rc : number_reply(&reply, result);
}

int weft_dict_proxy_compare_and_set(weft_dict_proxy_t *d, const void *key,
                                    size_t klen, const weft_bytes_t *expected,
                                    const void *value, size_t vlen)
{
    CHECK_PROXY(d, "compare_and_set");
    if ((key == NULL && klen) || (value == NULL && vlen))
        return weft_fail(WEFT_EINVAL, "compare_and_set: NULL key or value");
    weft__wbuf_t w = {0};
    header(&w, OP_DICT_CAS, d->id);
    weft__w_blob(&w, key, klen);
    weft__w_u8(&w, expected != NULL);
    weft__w_blob(&w, expected ? expected->data : NULL,
                 expected ? expected->len : 0);
    weft__w_blob(&w, value, vlen);
    return call(d->client, &w, NULL);
}

/* ----- ListProxy ----- */

void weft_list_proxy_free(weft_list_proxy_t *l)
{
    if (l == NULL)
        return;
    weft__mgr_client_unref(l->client);
    free(l);
}

int weft_list_proxy_append(weft_list_proxy_t *l, const void *value, size_t vlen)
{
    CHECK_PROXY(l, "list_append");
    if (value == NULL && vlen)
        return weft_fail(WEFT_EINVAL, "list_append: NULL value");
    weft__wbuf_t w = {0};
    header(&w, OP_LIST_APPEND, l->id);
    weft__w_blob(&w, value, vlen);
    return call(l->client, &w, NULL);
}

static int list_fetch(weft_list_proxy_t *l, int op, int64_t index,
                      weft_bytes_t *value)
{
    CHECK_PROXY(l, "list");
    if (value == NULL)
        return weft_fail(WEFT_EINVAL, "list: NULL value");
    weft__wbuf_t w = {0};
    header(&w, op, l->id);
    weft__w_i64(&w, index);
    weft_bytes_t reply = {0};
    int rc = call(l->client, &w, &reply);
    return rc ? rc : blob_reply(&reply, value);
}

int weft_list_proxy_get(weft_list_proxy_t *l, int64_t index,
                        weft_bytes_t *value)
{
    return list_fetch(l, OP_LIST_GET, index, value);
}

int weft_list_proxy_pop(weft_list_proxy_t *l, int64_t index,
                        weft_bytes_t *value)
{
    return list_fetch(l, OP_LIST_POP, index, value);
}

int weft_list_proxy_set(weft_list_proxy_t *l, int64_t index, const void *value,
                        size_t vlen)
{
    CHECK_PROXY(l, "list_set");
    if (value == NULL && vlen)
        return weft_fail(WEFT_EINVAL, "list_set: NULL value");
    weft__wbuf_t w = {0};
    header(&w, OP_LIST_SET, l->id);
    weft__w_i64(&w, index);
    weft__w_blob(&w, value, vlen);
    return call(l->client, &w, NULL);
}

int weft_list_proxy_delete(weft_list_proxy_t *l, int64_t index)
{
    CHECK_PROXY(l, "list_delete");
    weft__wbuf_t w = {0};
    header(&w, OP_LIST_DELETE, l->id);
    weft__w_i64(&w, index);
    return call(l->client, &w, NULL);
}

int weft_list_proxy_len(weft_list_proxy_t *l, size_t *len)
{
    WEFT_REFUSE_NULL(len);
    CHECK_PROXY(l, "list_len");
    weft__wbuf_t w = {0};
    header(&w, OP_LIST_LEN, l->id);
    weft_bytes_t reply = {0};
    int64_t n = 0;
    int rc = call(l->client, &w, &reply);
    if (rc == 0 && (rc = number_reply(&reply, &n)) == 0 && len)
        *len = (size_t)n;
    return rc;
}

int weft_list_proxy_items(weft_list_proxy_t *l, weft_bytes_t **items, size_t *n)
{
    CHECK_PROXY(l, "list_items");
    if (items == NULL || n == NULL)
        return weft_fail(WEFT_EINVAL, "list_items: NULL out");
    weft__wbuf_t w = {0};
    header(&w, OP_LIST_ITEMS, l->id);
    weft_bytes_t reply = {0};
    int rc = call(l->client, &w, &reply);
    return rc ? rc : blobs_reply(&reply, items, n);
}

/* ----- Handles ----- */

/* words: [0] the object's id, [1] its kind, [2..5] the key, [6..12] the
 * socket's file name; fds[0]: the socket's directory (O_PATH). */
#define W_NAME 6
#define NAME_BYTES (7 * 8)

static int proxy_share(weft__mgr_client_t *c, uint32_t id, int kind,
                       weft_share_t *h)
{
    if (h == NULL)
        return weft_fail(WEFT_EINVAL, "proxy share: NULL");
    const char *path = weft__mgr_client_path(c);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strlen(base) >= NAME_BYTES)
        return weft_fail(WEFT_EINVAL, "the socket's name is too long for a "
                                      "handle");
    char dir[WEFT__MGR_PATH_MAX];
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "open %s: %s", dir, strerror(errno));
    memset(h, 0, sizeof *h);
    h->kind = WEFT_SHARE_MANAGER_PROXY;
    h->nfds = 1;
    h->fds[0] = fd;
    h->words[0] = id;
    h->words[1] = (uint64_t)kind;
    memcpy(&h->words[2], weft__mgr_client_key(c), WEFT__MGR_KEY_BYTES);
    memcpy(&h->words[W_NAME], base, strlen(base));
    return 0;
}

/* Connect through the directory descriptor in h (which this takes). */
static int proxy_client(const weft_share_t *h, int kind,
                        weft__mgr_client_t **out)
{
    if (h == NULL || h->kind != WEFT_SHARE_MANAGER_PROXY || h->nfds != 1 ||
        h->words[1] != (uint64_t)kind)
        return weft_fail(WEFT_EINVAL, "not a %s proxy's share",
                         kind == OBJ_DICT ? "dict" : "list");
    char name[NAME_BYTES + 1] = {0}, path[WEFT__MGR_PATH_MAX];
    memcpy(name, &h->words[W_NAME], NAME_BYTES);
    snprintf(path, sizeof path, "/proc/self/fd/%d/%s", h->fds[0], name);
    unsigned char key[WEFT__MGR_KEY_BYTES];
    memcpy(key, &h->words[2], sizeof key);
    int rc = weft__mgr_client_new(out, path, key);
    close(h->fds[0]);
    return rc;
}

int weft_dict_proxy_share(const weft_dict_proxy_t *d, weft_share_t *h)
{
    CHECK_PROXY(d, "dict_proxy_share");
    return proxy_share(d->client, d->id, OBJ_DICT, h);
}

int weft_list_proxy_share(const weft_list_proxy_t *l, weft_share_t *h)
{
    CHECK_PROXY(l, "list_proxy_share");
    return proxy_share(l->client, l->id, OBJ_LIST, h);
}

int weft_dict_proxy_from_share(weft_dict_proxy_t **out, const weft_share_t *h)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "dict_proxy_from_share: NULL out");
    weft__mgr_client_t *c;
    int rc = proxy_client(h, OBJ_DICT, &c);
    weft_dict_proxy_t *d = rc ? NULL : calloc(1, sizeof *d);
    if (rc == 0 && d == NULL) {
        weft__mgr_client_unref(c);
        rc = weft_fail(WEFT_ENOMEM, "dict_proxy_from_share: no memory");
    }
    if (rc)
        return rc;
    d->client = c;
    d->id = (uint32_t)h->words[0];
    *out = d;
    return 0;
}

int weft_list_proxy_from_share(weft_list_proxy_t **out, const weft_share_t *h)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "list_proxy_from_share: NULL out");
    weft__mgr_client_t *c;
    int rc = proxy_client(h, OBJ_LIST, &c);
    weft_list_proxy_t *l = rc ? NULL : calloc(1, sizeof *l);
    if (rc == 0 && l == NULL) {
        weft__mgr_client_unref(c);
        rc = weft_fail(WEFT_ENOMEM, "list_proxy_from_share: no memory");
    }
    if (rc)
        return rc;
    l->client = c;
    l->id = (uint32_t)h->words[0];
    *out = l;
    return 0;
}
