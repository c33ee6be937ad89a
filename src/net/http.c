/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 over weft streams, parsed by http-parser (Debian's
 * libhttp-parser-dev, the parser Node.js used for years) rather than by a
 * parser of our own.
 *
 * Reading a message feeds the stream's buffered bytes to the parser until
 * it reports the message complete; on_message_complete pauses the parser,
 * so it stops exactly at the message's end and the bytes of a next
 * (pipelined, kept-alive) message stay in the stream's buffer. Header names
 * and values may arrive in pieces across reads: they are appended to until
 * the other kind starts.
 *
 * Built only when the build found http-parser (WEFT_HAVE_HTTP_PARSER);
 * without it the functions that parse or serve return WEFT_ENOTSUP.
 */
#include "base/check.h"
#include "net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *weft_http_header(const weft_http_message_t *m, const char *name)
{
    WEFT_REFUSE_NULL_OR(m, NULL);
    WEFT_REFUSE_NULL_OR(name, NULL);
    for (size_t i = 0; m && i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

void weft_http_message_clear(weft_http_message_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nheaders; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    free(m->headers);
    free(m->target);
    free(m->body);
    memset(m, 0, sizeof *m);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 500:
        return "Internal Server Error";
    default:
        return "Status";
    }
}

int weft_http_write_request(weft_stream_t *s, const char *method,
                            const char *target, const char *host,
                            const char *headers, const void *body, size_t len)
{
    if (s == NULL || method == NULL || target == NULL)
        return weft_fail(WEFT_EINVAL, "http request: NULL argument");
    char head[1024];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s\r\n",
                     method, target, host ? host : "localhost");
    if (body || strcmp(method, "GET") != 0)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Content-Length: %zu\r\n", len);
    n += snprintf(head + n, sizeof head - (size_t)n, "%s\r\n",
                  headers ? headers : "");
    if ((size_t)n >= sizeof head)
        return weft_fail(WEFT_EMSGSIZE, "http request: head too long");
    int rc = weft_stream_write(s, head, (size_t)n);
    return rc || len == 0 ? rc : weft_stream_write(s, body, len);
}

static int write_chunks(weft_stream_t *s, const unsigned char *body, size_t len,
                        size_t chunk)
{
    for (size_t off = 0; off < len; off += chunk) {
        size_t k = len - off < chunk ? len - off : chunk;
        char size[32];
        int n = snprintf(size, sizeof size, "%zx\r\n", k);
        int rc = weft_stream_write(s, size, (size_t)n);
        if (rc == 0)
            rc = weft_stream_write(s, body + off, k);
        if (rc == 0)
            rc = weft_stream_write(s, "\r\n", 2);
        if (rc)
            return rc;
    }
    return weft_stream_write(s, "0\r\n\r\n", 5);
}

int weft_http_write_response(weft_stream_t *s, int status, const char *headers,
                             const void *body, size_t len, size_t chunk)
{
    if (s == NULL || (body == NULL && len))
        return weft_fail(WEFT_EINVAL, "http response: NULL argument");
    char head[1024];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", status,
                     reason(status));
    if (chunk)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Transfer-Encoding: chunked\r\n");
    else
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Content-Length: %zu\r\n", len);
    n += snprintf(head + n, sizeof head - (size_t)n, "%s\r\n",
                  headers ? headers : "");
    if ((size_t)n >= sizeof head)
        return weft_fail(WEFT_EMSGSIZE, "http response: head too long");
    int rc = weft_stream_write(s, head, (size_t)n);
    if (rc || len == 0)
        return rc || !chunk ? rc : weft_stream_write(s, "0\r\n\r\n", 5);
    return chunk ? write_chunks(s, body, len, chunk)
                 : weft_stream_write(s, body, len);
}

#ifdef WEFT_HAVE_HTTP_PARSER

#include <http_parser.h>

struct reading {
    weft_http_message_t *m;
    size_t max_body, body_cap;
    int in_value; /* the last piece was a header value */
    int complete;
    int error; /* a weft code set by a callback */
};

static int append(char **dst, const char *at, size_t len)
{
    size_t old = *dst ? strlen(*dst) : 0;
    char *p = realloc(*dst, old + len + 1);
    if (p == NULL)
        return -1;
    memcpy(p + old, at, len);
    p[old + len] = '\0';
    *dst = p;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct reading *r = p->data;
    return append(&r->m->target, at, len);
}

static int on_field(http_parser *p, const char *at, size_t len)
{
    struct reading *r = p->data;
    weft_http_message_t *m = r->m;
    if (m->nheaders == 0 || r->in_value) {
        weft_http_header_t *h =
            realloc(m->headers, (m->nheaders + 1) * sizeof *h);
        if (h == NULL)
            return -1;
        m->headers = h;
        m->headers[m->nheaders++] = (weft_http_header_t){NULL, NULL};
        r->in_value = 0;
    }
    return append(&m->headers[m->nheaders - 1].name, at, len);
}

static int on_value(http_parser *p, const char *at, size_t len)
{
    struct reading *r = p->data;
    r->in_value = 1;
    return append(&r->m->headers[r->m->nheaders - 1].value, at, len);
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct reading *r = p->data;
    weft_http_message_t *m = r->m;
    if (m->body_len + len > r->max_body) {
        r->error = WEFT_EMSGSIZE;
        return -1;
    }
    if (m->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        while (cap < m->body_len + len + 1)
            cap *= 2;
        unsigned char *b = realloc(m->body, cap);
        if (b == NULL)
            return -1;
        m->body = b;
        r->body_cap = cap;
    }
    memcpy(m->body + m->body_len, at, len);
    m->body_len += len;
    m->body[m->body_len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    struct reading *r = p->data;
    r->complete = 1;
    r->m->status = (int)p->status_code;
    snprintf(r->m->method, sizeof r->m->method, "%s",
             http_method_str((enum http_method)p->method));
    r->m->keep_alive = http_should_keep_alive(p);
    http_parser_pause(p, 1); /* stop at the end of this message */
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

/* Feed what the stream holds; 1 once the message is complete. */
static int feed(http_parser *p, weft_stream_t *s, const unsigned char *data,
                size_t len, struct reading *r)
{
    size_t n = http_parser_execute(p, &settings, (const char *)data, len);
    weft__stream_consume(s, n);
    if (r->complete)
        return 1;
    if (HTTP_PARSER_ERRNO(p) != HPE_OK) {
        if (r->error == WEFT_EMSGSIZE)
            return weft_fail(WEFT_EMSGSIZE, "http: body over %zu bytes",
                             r->max_body);
        return weft_fail(WEFT_EPROTO, "http: %s",
                         http_errno_description(HTTP_PARSER_ERRNO(p)));
    }
    return 0;
}

static int read_loop(http_parser *p, weft_stream_t *s, struct reading *r)
{
    int started = 0;
    for (;;) {
        const unsigned char *data;
        size_t len;
        int rc = weft__stream_peek(s, &data, &len, 0);
        if (rc == WEFT_EEOF && len == 0) {
            /* The end may complete a body that runs until close. */
            if (started && feed(p, s, NULL, 0, r) == 1)
                return 0;
            return weft_fail(WEFT_EEOF, started ? "http: connection closed "
                                                  "in the middle of a message"
                                                : "http: connection closed");
        }
        if (rc && len == 0)
            return rc;
        started = 1;
        rc = feed(p, s, data, len, r);
        if (rc == 1)
            return 0;
        if (rc)
            return rc;
    }
}

int weft_http_read_message(weft_stream_t *s, int request, size_t max_body,
                           weft_http_message_t *out)
{
    if (s == NULL || out == NULL)
        return weft_fail(WEFT_EINVAL, "http read: NULL argument");
    memset(out, 0, sizeof *out);
    struct reading r = {out, max_body, 0, 0, 0, 0};
    http_parser p;
    http_parser_init(&p, request ? HTTP_REQUEST : HTTP_RESPONSE);
    p.data = &r;
    int rc = read_loop(&p, s, &r);
    if (rc)
        weft_http_message_clear(out);
    return rc;
}

#else

int weft_http_read_message(weft_stream_t *s, int request, size_t max_body,
                           weft_http_message_t *out)
{
    return weft_fail(WEFT_ENOTSUP, "http: weft was built without "
                                   "http-parser");
}

#endif

int weft_http_request(const char *method, const char *host, int port,
                      const char *target, const void *body, size_t len,
                      double timeout, weft_http_message_t *out)
{
    WEFT_REFUSE_NULL(method);
    WEFT_REFUSE_NULL(target);
    WEFT_REFUSE_NULL(out);
    weft_stream_t *s;
    int rc = weft_open_connection(&s, host, port, timeout);
    if (rc)
        return rc;
    rc = weft_http_write_request(s, method, target, host,
                                 "Connection: close\r\n", body, len);
    if (rc == 0)
        rc = weft_http_read_message(s, 0, SIZE_MAX, out);
    weft_stream_free(s);
    return rc;
}

/* ----- The server ----- */

struct http_server {
    weft_http_handler fn;
    void *arg;
};

static int serve_http(weft_stream_t *s, void *arg)
{
    struct http_server *h = arg;
    for (;;) {
        weft_http_message_t req;
        int rc = weft_http_read_message(s, 1, 64 << 20, &req);
        if (rc == WEFT_EEOF)
            return 0; /* the client is done */
        if (rc == WEFT_EPROTO || rc == WEFT_EMSGSIZE)
            return weft_http_write_response(s, rc == WEFT_EPROTO ? 400 : 413,
                                            "Connection: close\r\n", NULL, 0,
                                            0);
        if (rc)
            return rc;
        rc = h->fn(&req, s, h->arg);
        int again = req.keep_alive;
        weft_http_message_clear(&req);
        if (rc || !again)
            return rc;
    }
}

int weft_http_serve(weft_server_t **out, weft_loop_t *loop, const char *host,
                    int port, weft_http_handler fn, void *arg)
{
    if (fn == NULL)
        return weft_fail(WEFT_EINVAL, "http_serve: NULL handler");
    struct http_server *h = malloc(sizeof *h);
    if (h == NULL)
        return weft_fail(WEFT_ENOMEM, "http_serve: no memory");
    h->fn = fn;
    h->arg = arg;
    int rc = weft__server_start(out, loop, host, port, serve_http, h, free);
    if (rc)
        free(h);
    return rc;
}
