/* SPDX-License-Identifier: MIT */
/** weft/net.h: TCP streams and servers (asyncio's open_connection,
 * start_server, StreamReader and StreamWriter), and the small HTTP/1.1
 * client and server the examples and the demo use.
 *
 * A stream's calls block the calling context: inside a task they suspend
 * that task alone (the socket waits through park, on the loop's epoll);
 * in a plain thread they block the thread (on poll(2)). So one client
 * serves both asyncio-style tasks and threading-style code. Timeouts are
 * cancel scopes, as asyncio.timeout(): enter a scope with a deadline
 * around any number of calls, and a call still waiting at the deadline
 * returns WEFT_ECANCELLED (the scope's exit then says WEFT_ETIMEDOUT); a
 * cancelled task's calls return WEFT_ECANCELLED too. A plain thread sees a
 * cancellation or a deadline within 50 ms.
 *
 * A peer that goes away is an answer, never a hang or a crash: reads give
 * WEFT_EEOF (end of stream, or "connection reset by peer"), writes give
 * WEFT_EEOF ("connection closed by peer"; no SIGPIPE is raised).
 *
 * Every socket is non-blocking and close-on-exec, with TCP_NODELAY set.
 *
 * Defaults for this layer: a stream belongs to one context at a time (one
 * task or thread reads, one writes; not both at once from two threads);
 * a server is made and freed on its loop's thread.
 * \file */
#ifndef WEFT_NET_H
#define WEFT_NET_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/coro.h"
#include "weft/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A TCP stream (asyncio's reader and writer in one). */
typedef struct weft_stream weft_stream_t;

/* ----- Streams ----- */

/** Connect to host:port over TCP (asyncio.open_connection). host is an IPv4
 * or IPv6 address or a name ("localhost"); the first address that accepts
 * wins. timeout bounds the connecting, in seconds (WEFT_FOREVER: none).
 * Blocks: yes. Ownership: *out returns new, freed with weft_stream_free().
 * Errors: WEFT_EINVAL (bad port or timeout, NULL host), WEFT_EKEY (no
 * such host), WEFT_ESYS ("connection refused", ...), WEFT_ETIMEDOUT,
 * WEFT_ECANCELLED, WEFT_ENOMEM. */
WEFT_API int weft_open_connection(weft_stream_t **out, const char *host,
                                  int port, double timeout);

/** Read up to n bytes into buf (StreamReader.read(n)): as soon as some are
 * there, *got says how many. Blocks: until at least one byte or the end.
 * Errors: WEFT_EEOF (the peer closed: *got is 0), WEFT_ECANCELLED,
 * WEFT_EINVAL. */
WEFT_API int weft_stream_read(weft_stream_t *s, void *buf, size_t n,
                              size_t *got);

/** Read exactly n bytes (readexactly). Errors: WEFT_EEOF when the stream
 * ends first (IncompleteReadError; *got, if not NULL, says how many came),
 * WEFT_ECANCELLED (the bytes read so far stay consumed), WEFT_EINVAL. */
WEFT_API int weft_stream_read_exactly(weft_stream_t *s, void *buf, size_t n,
                                      size_t *got);

/** Read up to and including the separator sep (seplen bytes) into buf, of
 * cap bytes (readuntil); *len receives the length. readline is
 * read_until "\n". Errors: WEFT_EMSGSIZE (no separator within cap bytes:
 * LimitOverrunError; nothing is consumed), WEFT_EEOF (the stream ended
 * first; what came stays buffered for a plain read), WEFT_ECANCELLED,
 * WEFT_EINVAL. */
WEFT_API int weft_stream_read_until(weft_stream_t *s, const void *sep,
                                    size_t seplen, void *buf, size_t cap,
                                    size_t *len);
WEFT_API int weft_stream_readline(weft_stream_t *s, char *buf, size_t cap,
                                  size_t *len);

/** Write all n bytes (StreamWriter.write + drain): returns once the kernel
 * has taken them. Blocks: while the socket's buffer is full.
 * Errors: WEFT_EEOF, WEFT_ESYS, WEFT_ECANCELLED (some bytes may have gone
 * out), WEFT_EINVAL. */
WEFT_API int weft_stream_write(weft_stream_t *s, const void *data, size_t n);

/** StreamWriter.drain(): writes never buffer in weft, so this only reports
 * whether the stream can still be written (0), or WEFT_EEOF. */
WEFT_API int weft_stream_drain(weft_stream_t *s);

/** Half-close: no more writes; the peer reads the end (write_eof). */
WEFT_API int weft_stream_write_eof(weft_stream_t *s);

/** The socket, for options; it stays the stream's. */
WEFT_API int weft_stream_fd(const weft_stream_t *s);

/** Close the connection and free s (StreamWriter.close). NULL: no-op. */
WEFT_API void weft_stream_free(weft_stream_t *s);

/* ----- Servers ----- */

/** A listening server: see weft_start_server(). */
typedef struct weft_server weft_server_t;

/** What a server runs for each connection, as a task of its own: the stream
 * is freed when the handler returns. A handler that fails is reported
 * through the loop's exception handler. */
typedef int (*weft_stream_handler)(weft_stream_t *s, void *arg);

/** Listen on host:port (port 0: any free port; host "127.0.0.1", "::1",
 * "0.0.0.0"...) and start accepting on loop (NULL: the running loop, else
 * the thread's default), each connection a task running fn(stream, arg)
 * (asyncio.start_server). Ownership: *out returns new, freed with
 * weft_server_free(). Errors: WEFT_EINVAL, WEFT_EKEY (no such host),
 * WEFT_ESYS ("address already in use", ...), WEFT_ENOMEM. */
WEFT_API int weft_start_server(weft_server_t **out, weft_loop_t *loop,
                               const char *host, int port,
                               weft_stream_handler fn, void *arg);

/** The port the server listens on. */
WEFT_API int weft_server_port(const weft_server_t *s);

/** Stop listening and free s (Server.close()); connections already
 * accepted go on until their handlers return. NULL: no-op. */
WEFT_API void weft_server_free(weft_server_t *s);

/* ----- HTTP/1.1 (http-parser underneath) ----- */

/** A request or a response as the HTTP helpers hand it over. Header names
 * and values, the target and the body are NUL-terminated copies. The
 * struct's tag is not the name of the function weft_http_header(), which
 * C++ would take for a constructor hidden by the function (g++ -Wshadow). */
typedef struct weft_http_header_s {
    /** The header's name. */
    char *name;
    /** Its value. */
    char *value;
} weft_http_header_t;

/** A request or a response. */
typedef struct weft_http_message {
    char method[16]; /* requests: "GET", "PUT", ... */
    char *target;    /* requests: "/path?query" */
    int status;      /* responses: 200, 404, ... */
    /** The headers, nheaders of them. */
    weft_http_header_t *headers;
    /** How many headers. */
    size_t nheaders;
    /** The body, body_len bytes long. */
    unsigned char *body;
    /** The body's length, in bytes. */
    size_t body_len;
    int keep_alive; /* the connection may carry another message */
} weft_http_message_t;

/** The value of header name (case-insensitive), or NULL. Returns borrowed. */
WEFT_API const char *weft_http_header(const weft_http_message_t *m,
                                      const char *name);

/** Release what m holds (not m itself). */
WEFT_API void weft_http_message_clear(weft_http_message_t *m);

/** Read one message (a request when request is nonzero, else a response)
 * from s, with a Content-Length or chunked body, at most max_body bytes.
 * Blocks: yes. Errors: WEFT_EEOF (the stream ended before a message
 * began, or in the middle of one), WEFT_EPROTO (malformed),
 * WEFT_EMSGSIZE (body too large), WEFT_ECANCELLED, WEFT_ENOMEM. */
WEFT_API int weft_http_read_message(weft_stream_t *s, int request,
                                    size_t max_body, weft_http_message_t *out);

/** Send a request (method, target, host (NULL: "localhost"), optional extra
 * header lines ending in CRLF or NULL for none, body with Content-Length),
 * keeping the connection alive. */
WEFT_API int weft_http_write_request(weft_stream_t *s, const char *method,
                                     const char *target, const char *host,
                                     const char *headers, const void *body,
                                     size_t len);

/** Send a response (headers as for write_request); chunked: send the body
 * as chunks of at most chunk bytes (0: one Content-Length body). */
WEFT_API int weft_http_write_response(weft_stream_t *s, int status,
                                      const char *headers, const void *body,
                                      size_t len, size_t chunk);

/** GET (or PUT, with a body) http://host:port/target on a new connection
 * and read the response into *out (urllib.request.urlopen). Blocks: yes.
 * Errors: those of open_connection and read_message. */
WEFT_API int weft_http_request(const char *method, const char *host, int port,
                               const char *target, const void *body, size_t len,
                               double timeout, weft_http_message_t *out);

/** An HTTP server: fn(request, stream, arg) must answer each request with
 * weft_http_write_response; connections are kept alive while the client
 * asks for it. */
typedef int (*weft_http_handler)(const weft_http_message_t *req,
                                 weft_stream_t *s, void *arg);

/** Serve HTTP on host:port on loop, calling fn for each request
 * (weft_start_server with an HTTP handler); loop as for weft_start_server
 * (NULL: the running loop). Ownership: *out returns new, freed with
 * weft_server_free(). Errors: WEFT_EINVAL (NULL fn), WEFT_ENOMEM, those of
 * weft_start_server(); WEFT_ENOTSUP in a build without http-parser. */
WEFT_API int weft_http_serve(weft_server_t **out, weft_loop_t *loop,
                             const char *host, int port, weft_http_handler fn,
                             void *arg);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_NET_H */
