/* SPDX-License-Identifier: MIT */
/* A client's connection to the manager's server: one Connection over the
 * Unix socket, authenticated, shared by a manager and its proxies (counted
 * references), one request and its response at a time under a lock. */
#include "manager_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct weft__mgr_client {
    _Atomic unsigned refs;
    weft_lock_t lock;
    weft_connection_t *conn;
    char path[WEFT__MGR_PATH_MAX];
    unsigned char key[WEFT__MGR_KEY_BYTES];
};

static int dial(const char *path, int *out)
{
    struct sockaddr_un sa = {0};
    if (strlen(path) >= sizeof sa.sun_path)
        return weft_fail(WEFT_EINVAL, "socket path too long: %s", path);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "socket: %s", strerror(errno));
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int err = errno;
        close(fd);
        if (err == ENOENT || err == ECONNREFUSED)
            return weft_fail(WEFT_EKEY, "no manager at %s", path);
        return weft_fail(WEFT_ESYS, "connect %s: %s", path, strerror(err));
    }
    *out = fd;
    return 0;
}

int weft__mgr_client_new(weft__mgr_client_t **out, const char *path,
                         const unsigned char key[WEFT__MGR_KEY_BYTES])
{
    weft__mgr_client_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return weft_fail(WEFT_ENOMEM, "manager client: no memory");
    atomic_init(&c->refs, 1);
    weft_lock_init(&c->lock);
    snprintf(c->path, sizeof c->path, "%s", path);
    memcpy(c->key, key, sizeof c->key);
    int fd = -1;
    int rc = dial(path, &fd);
    if (rc == 0)
        rc = weft_connection_new_fd(&c->conn, fd);
    if (rc == 0)
        rc = weft_connection_set_max_message(c->conn, WEFT__MGR_MAX_MESSAGE);
    if (rc == 0)
        rc = weft__mgr_auth_client(c->conn, key);
    if (rc) {
        weft_connection_free(c->conn);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

weft__mgr_client_t *weft__mgr_client_ref(weft__mgr_client_t *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void weft__mgr_client_unref(weft__mgr_client_t *c)
{
    if (c == NULL)
        return;
    /* Acq_rel: the last one sees every use made through the others. */
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    weft_connection_free(c->conn);
    free(c);
}

const char *weft__mgr_client_path(const weft__mgr_client_t *c)
{
    return c->path;
}

const unsigned char *weft__mgr_client_key(const weft__mgr_client_t *c)
{
    return c->key;
}

/* The server's answer: code 0 and the results, or its code and message. */
static int read_reply(weft_bytes_t *resp, weft_bytes_t *reply)
{
    weft__rbuf_t r = {resp->data, resp->len, 0, 0};
    int32_t code = (int32_t)weft__r_u32(&r);
    if (r.failed)
        return weft_fail(WEFT_EPROTO, "a malformed reply from the manager");
    if (code != 0) {
        size_t len;
        const unsigned char *msg = weft__r_blob(&r, &len);
        return weft_fail(code, "%.*s", (int)len, msg ? (const char *)msg : "");
    }
    return weft_bytes_copy(reply, resp->data + r.off, resp->len - r.off);
}

int weft__mgr_call(weft__mgr_client_t *c, const weft__wbuf_t *req,
                   weft_bytes_t *reply)
{
    if (req->failed)
        return weft_fail(WEFT_ENOMEM, "manager request: no memory");
    weft_bytes_t resp = {0};
    int rc = weft_lock_acquire(&c->lock, WEFT_FOREVER);
    if (rc)
        return rc;
    rc = weft_connection_send_bytes(c->conn, req->p, req->len);
    if (rc == 0)
        rc = weft_connection_recv_bytes(c->conn, &resp);
    weft_lock_release(&c->lock);
    if (rc == WEFT_EEOF)
        return weft_fail(rc, "the manager has stopped");
    if (rc == 0)
        rc = read_reply(&resp, reply);
    weft_bytes_free(&resp);
    return rc;
}
