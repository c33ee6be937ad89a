/* SPDX-License-Identifier: MIT */
/* Inside the manager layer only: the wire format, authentication, the
 * client's connection, the server's store and the server itself. */
#ifndef WEFT_MANAGER_INT_H
#define WEFT_MANAGER_INT_H

#include <stdint.h>
#include <sys/un.h>

#include "weft/ipc.h"
#include "weft/manager.h"
#include "weft/sync.h"

#define WEFT__MGR_KEY_BYTES 32
#define WEFT__MGR_MAX_MESSAGE ((size_t)64 << 20)
#define WEFT__MGR_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

/* Request codes. A request is: op (1 byte), 3 zero bytes, the object id
 * (4 bytes), then the op's arguments; a response: the code (4 bytes,
 * signed), then the results, or a message (blob) when the code is not 0. */
enum {
    OP_NEW_DICT = 1,
    OP_NEW_LIST = 2,
    OP_DICT_GET = 10,
    OP_DICT_SET,
    OP_DICT_DELETE,
    OP_DICT_POP,
    OP_DICT_LEN,
    OP_DICT_KEYS,
    OP_DICT_ADD,
    OP_DICT_CAS,
    OP_LIST_APPEND = 20,
    OP_LIST_GET,
    OP_LIST_SET,
    OP_LIST_DELETE,
    OP_LIST_POP,
    OP_LIST_LEN,
    OP_LIST_ITEMS,
    OP_SHUTDOWN = 30
};

enum { OBJ_DICT = 1, OBJ_LIST = 2 };

/* ----- Wire (wire.c): building and reading messages ----- */

typedef struct weft__wbuf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} weft__wbuf_t;

void weft__w_u8(weft__wbuf_t *w, uint8_t v);
void weft__w_u32(weft__wbuf_t *w, uint32_t v);
void weft__w_i64(weft__wbuf_t *w, int64_t v);
void weft__w_blob(weft__wbuf_t *w, const void *data, size_t len);
void weft__w_raw(weft__wbuf_t *w, const void *data, size_t len);
void weft__w_free(weft__wbuf_t *w);

/* A reader over borrowed bytes; any read past the end sets failed. */
typedef struct weft__rbuf {
    const unsigned char *p;
    size_t len, off;
    int failed;
} weft__rbuf_t;

uint8_t weft__r_u8(weft__rbuf_t *r);
uint32_t weft__r_u32(weft__rbuf_t *r);
int64_t weft__r_i64(weft__rbuf_t *r);
/* A blob: borrowed pointer (or NULL for an empty one) and its length. */
const unsigned char *weft__r_blob(weft__rbuf_t *r, size_t *len);
/* Nonzero when every byte was read and none was missing. */
int weft__r_done(const weft__rbuf_t *r);

/* ----- Authentication (auth.c) ----- */

/* The key both sides use: BLAKE2b-256 of the authentication key.
 * Errors: WEFT_ESYS (libsodium cannot start). */
int weft__mgr_derive_key(const void *key, size_t len,
                         unsigned char out[WEFT__MGR_KEY_BYTES]);

/* The client's side of the handshake on c; the server's. Both return 0,
 * WEFT_EAUTH, or the connection's error. */
int weft__mgr_auth_client(weft_connection_t *c,
                          const unsigned char key[WEFT__MGR_KEY_BYTES]);
int weft__mgr_auth_server(weft_connection_t *c,
                          const unsigned char key[WEFT__MGR_KEY_BYTES]);

/* ----- The client (client.c) ----- */

typedef struct weft__mgr_client weft__mgr_client_t;

/* Connect to the socket at path and authenticate. */
int weft__mgr_client_new(weft__mgr_client_t **out, const char *path,
                         const unsigned char key[WEFT__MGR_KEY_BYTES]);
weft__mgr_client_t *weft__mgr_client_ref(weft__mgr_client_t *c);
void weft__mgr_client_unref(weft__mgr_client_t *c);

/* Send the request req, receive the response: on code 0, *reply returns
 * new (the results); otherwise the server's code and message. */
int weft__mgr_call(weft__mgr_client_t *c, const weft__wbuf_t *req,
                   weft_bytes_t *reply);

/* The client's socket directory and name, and its key (for shares). */
const char *weft__mgr_client_path(const weft__mgr_client_t *c);
const unsigned char *weft__mgr_client_key(const weft__mgr_client_t *c);

/* ----- The store (store.c): what the server holds ----- */

typedef struct weft__store weft__store_t;

int weft__store_new(weft__store_t **out);
void weft__store_free(weft__store_t *s);

/* Run one request (not OP_SHUTDOWN) and write the response into resp. */
void weft__store_run(weft__store_t *s, weft__rbuf_t *req, weft__wbuf_t *resp);

/* ----- The server (server.c) ----- */

/* What the owner gives its server process (the argument of its target). */
struct weft__mgr_server_arg {
    int32_t report_fd;   /* where the server says whether it listens */
    int32_t owner;       /* the pid of the process that starts the server */
    int32_t private_dir; /* path is a mkdtemp() template for a directory,
                            and the socket is "socket" in it */
    char path[WEFT__MGR_PATH_MAX]; /* the socket's path, or the template */
    unsigned char key[WEFT__MGR_KEY_BYTES];
};

/* What the server writes on report_fd, in one write (under PIPE_BUF). */
struct weft__mgr_server_report {
    int32_t code;                  /* 0: it listens; else a WEFT_E* code */
    char path[WEFT__MGR_PATH_MAX]; /* the socket's path */
    char dir[WEFT__MGR_PATH_MAX];  /* the directory it made; "" if none */
    char message[256];             /* why not, when code is not 0 */
};

int weft__mgr_serve(const weft_bytes_t *arg);

#endif
