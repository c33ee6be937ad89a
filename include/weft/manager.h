/* SPDX-License-Identifier: MIT */
/** weft/manager.h: a server process holding shared dicts and lists, and the
 * proxies that reach them: Python's multiprocessing.Manager(), dict() and
 * list(), and BaseManager.connect().
 *
 * Keys and values are byte strings. The server runs each request whole
 * before the next, so every call is atomic; beyond Python, a dict offers
 * two atomic updates that need no lock: add (a 64-bit counter, the usual
 * d[k] += 1) and compare_and_set (the general one: read, compute, and set
 * only if nobody changed the value meanwhile, else retry). A callback run
 * in the server is not possible across processes, so these are operation
 * codes, not functions.
 *
 * The server listens on a Unix-domain stream socket: by default in a fresh
 * directory of its own (mode 0700, under $TMPDIR or /tmp), the socket mode
 * 0600 either way. The server makes both itself, once its owner's death
 * would make it remove them, so that an owner killed while it starts the
 * server leaves neither behind. A client proves it knows the authentication
 * key, and the server proves it too, by challenge and response: each side sends
 * 32 random bytes and checks the other's HMAC-SHA256 of them, keyed with a
 * BLAKE2b digest of the key (libsodium; the comparison takes constant
 * time). A wrong key gives WEFT_EAUTH on both sides. The default key is
 * the current process's authkey (process.h), which children inherit; an
 * unrelated process that knows the address and the key connects with
 * weft_manager_connect().
 *
 * The server is a daemonic child of the process that started it (its
 * owner), named "SyncManager-N" as Python names it. It stops cleanly
 * (closing its socket and removing the socket and the directory it made)
 * when its owner shuts it down or frees it, exits (daemonic children are
 * terminated then), or dies by any means (it asks for SIGTERM as its
 * parent-death signal and watches for it). Only the owner stops it: the
 * server refuses a shutdown from any other client. Its dicts and lists
 * live as long as it does.
 *
 * Proxies reach a child through shares (process.h): the child connects on
 * its own, through the socket's directory passed as a descriptor.
 *
 * Defaults for this layer: thread-safe (a manager's proxies share one
 * connection, one request at a time); every call blocks for a round trip
 * to the server. A call whose server has gone returns WEFT_EEOF.
 * \file */
#ifndef WEFT_MANAGER_H
#define WEFT_MANAGER_H

#include <stddef.h>
#include <stdint.h>

#include "weft/base.h"
#include "weft/process.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A manager, and proxies of the dicts and lists it holds. */
typedef struct weft_manager weft_manager_t;
typedef struct weft_dict_proxy weft_dict_proxy_t;
typedef struct weft_list_proxy weft_list_proxy_t;

/** Handle kind of this layer. */
#define WEFT_SHARE_MANAGER_PROXY 0x4d475201u

/* ----- Manager ----- */

/** Start a server (Manager()). address: NULL for a fresh private
 * directory, else the socket's path (its directory must exist; at most
 * 107 bytes). key: NULL for the current process's authkey, else keylen
 * bytes. Blocks: until the server has started and this process is
 * connected.
 * Ownership: *out returns new; weft_manager_free() stops the server.
 * Errors: WEFT_EINVAL (NULL out, a path too long), WEFT_EEXIST (the path
 * is taken), WEFT_ESYS, WEFT_ENOMEM, and those of weft_process_start(). */
WEFT_API int weft_manager_start(weft_manager_t **out, const char *address,
                                const void *key, size_t keylen);

/** Connect to a server another process started (BaseManager.connect()).
 * Errors: WEFT_EAUTH (wrong key, either side), WEFT_EKEY (no server at
 * address), WEFT_EINVAL, WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_manager_connect(weft_manager_t **out, const char *address,
                                  const void *key, size_t keylen);

/** The socket's path; borrowed, valid until free. */
WEFT_API const char *weft_manager_address(const weft_manager_t *m);

/** Stop the server and wait for it (its owner only). Proxies then get
 * WEFT_EEOF. Stopping twice is allowed. Blocks: yes. The server itself
 * checks who asks: a shutdown request on a connection that another process
 * made is refused with WEFT_EPERM, whatever the client.
 * Errors: WEFT_EPERM (not the owner: only the process that started the
 * server stops it). */
WEFT_API int weft_manager_shutdown(weft_manager_t *m);

/** Free m, stopping the server first if this process started it. Proxies
 * made from m stay usable until the server stops. NULL: no-op. */
WEFT_API void weft_manager_free(weft_manager_t *m);

/** A new empty dict or list in the server, and a proxy for it.
 * Ownership: *out returns new, freed with weft_dict_proxy_free() /
 * weft_list_proxy_free() (the object itself stays in the server).
 * Errors: WEFT_EEOF, WEFT_ENOMEM. */
WEFT_API int weft_manager_dict(weft_manager_t *m, weft_dict_proxy_t **out);
WEFT_API int weft_manager_list(weft_manager_t *m, weft_list_proxy_t **out);

/** Free an array of n byte strings that a proxy returned (and each one). */
WEFT_API void weft_bytes_list_free(weft_bytes_t *list, size_t n);

/* ----- DictProxy ----- */

/** Free the proxy d (the dict stays in the manager). NULL: no-op. */
WEFT_API void weft_dict_proxy_free(weft_dict_proxy_t *d);

/** d[key]: *value returns new (weft_bytes_free). Errors: WEFT_EKEY. */
WEFT_API int weft_dict_proxy_get(weft_dict_proxy_t *d, const void *key,
                                 size_t klen, weft_bytes_t *value);

/** d[key] = value. */
WEFT_API int weft_dict_proxy_set(weft_dict_proxy_t *d, const void *key,
                                 size_t klen, const void *value, size_t vlen);

/** del d[key]; d.pop(key) (*value returns new). Errors: WEFT_EKEY. */
WEFT_API int weft_dict_proxy_delete(weft_dict_proxy_t *d, const void *key,
                                    size_t klen);
WEFT_API int weft_dict_proxy_pop(weft_dict_proxy_t *d, const void *key,
                                 size_t klen, weft_bytes_t *value);

/** len(d); d.keys() in insertion order (*keys returns new: free with
 * weft_bytes_list_free). */
WEFT_API int weft_dict_proxy_len(weft_dict_proxy_t *d, size_t *len);
WEFT_API int weft_dict_proxy_keys(weft_dict_proxy_t *d, weft_bytes_t **keys,
                                  size_t *n);

/** Atomic d[key] += delta on a 64-bit counter (8 bytes, little-endian; a
 * missing key counts as 0); *result (if not NULL) gets the new value.
 * Errors: WEFT_EINVAL (the value is not 8 bytes: "not a counter"). */
WEFT_API int weft_dict_proxy_add(weft_dict_proxy_t *d, const void *key,
                                 size_t klen, int64_t delta, int64_t *result);

/** Atomically set d[key] = value if d[key] is expected now (expected NULL:
 * if key is absent). Returns 0 when set.
 * Errors: WEFT_ESTATE ("the value changed": nothing was set). */
WEFT_API int weft_dict_proxy_compare_and_set(weft_dict_proxy_t *d,
                                             const void *key, size_t klen,
                                             const weft_bytes_t *expected,
                                             const void *value, size_t vlen);

/* ----- ListProxy ----- */

/** Free the proxy l (the list stays in the manager). NULL: no-op. */
WEFT_API void weft_list_proxy_free(weft_list_proxy_t *l);

/** l.append(value). */
WEFT_API int weft_list_proxy_append(weft_list_proxy_t *l, const void *value,
                                    size_t vlen);

/** l[index], l[index] = value, del l[index], l.pop(index): a negative index
 * counts from the end, as in Python (pop's usual -1 is the last).
 * Errors: WEFT_EKEY ("list index out of range"). */
WEFT_API int weft_list_proxy_get(weft_list_proxy_t *l, int64_t index,
                                 weft_bytes_t *value);
WEFT_API int weft_list_proxy_set(weft_list_proxy_t *l, int64_t index,
                                 const void *value, size_t vlen);
WEFT_API int weft_list_proxy_delete(weft_list_proxy_t *l, int64_t index);
WEFT_API int weft_list_proxy_pop(weft_list_proxy_t *l, int64_t index,
                                 weft_bytes_t *value);

/** len(l); list(l), a snapshot (*items returns new: free with
 * weft_bytes_list_free). */
WEFT_API int weft_list_proxy_len(weft_list_proxy_t *l, size_t *len);
WEFT_API int weft_list_proxy_items(weft_list_proxy_t *l, weft_bytes_t **items,
                                   size_t *n);

/* ----- Proxies in children ----- */

/** A share of a proxy, and the child's proxy made from it (which opens a
 * connection of its own). Errors: WEFT_EINVAL (not such a proxy's share),
 * WEFT_EAUTH, WEFT_EEOF, WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_dict_proxy_share(const weft_dict_proxy_t *d, weft_share_t *h);
WEFT_API int weft_dict_proxy_from_share(weft_dict_proxy_t **out,
                                        const weft_share_t *h);
WEFT_API int weft_list_proxy_share(const weft_list_proxy_t *l, weft_share_t *h);
WEFT_API int weft_list_proxy_from_share(weft_list_proxy_t **out,
                                        const weft_share_t *h);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_MANAGER_H */
