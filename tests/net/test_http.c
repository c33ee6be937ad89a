/* SPDX-License-Identifier: MIT */
/* HTTP/1.1: GET and PUT, Content-Length and chunked bodies, keep-alive on
 * one connection, and bad input. Skipped when weft was built without
 * http-parser. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Echo the request back: the method, target and body, chunked when the
 * client asks for it in the X-Chunk header. */
static int reflect(const weft_http_message_t *req, weft_stream_t *s, void *arg)
{
    char body[4096];
    int n = snprintf(body, sizeof body, "%s %s %zu:", req->method, req->target,
                     req->body_len);
    if (req->body_len && (size_t)n + req->body_len < sizeof body) {
        memcpy(body + n, req->body, req->body_len);
        n += (int)req->body_len;
    }
    const char *chunk = weft_http_header(req, "x-chunk");
    return weft_http_write_response(s, 200, "X-Served-By: weft\r\n", body,
                                    (size_t)n, chunk ? (size_t)atoi(chunk) : 0);
}

static int client(void *arg, void **result)
{
    int port = *(int *)arg;
    weft_http_message_t r;
    assert_int_equal(
        weft_http_request("GET", "127.0.0.1", port, "/a?b=1", NULL, 0, 5.0, &r),
        0);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body, "GET /a?b=1 0:");
    assert_string_equal(weft_http_header(&r, "X-SERVED-BY"), "weft");
    weft_http_message_clear(&r);

    assert_int_equal(weft_http_request("PUT", "127.0.0.1", port, "/up",
                                       "payload", 7, 5.0, &r),
                     0);
    assert_string_equal((char *)r.body, "PUT /up 7:payload");
    weft_http_message_clear(&r);

    /* Keep-alive: two requests on one connection, the second chunked. */
    weft_stream_t *s;
    assert_int_equal(weft_open_connection(&s, "127.0.0.1", port, 5.0), 0);
    for (int i = 0; i < 2; i++) {
        const char *extra = i ? "X-Chunk: 3\r\n" : NULL;
        assert_int_equal(weft_http_write_request(s, "PUT", "/k", "127.0.0.1",
                                                 extra, "0123456789", 10),
                         0);
        assert_int_equal(weft_http_read_message(s, 0, 1 << 20, &r), 0);
        assert_string_equal((char *)r.body, "PUT /k 10:0123456789");
        assert_true(r.keep_alive);
        if (i)
            assert_string_equal(weft_http_header(&r, "Transfer-Encoding"),
                                "chunked");
        weft_http_message_clear(&r);
    }
    /* A body over the limit, then garbage. */
    weft_http_write_request(s, "PUT", "/big", NULL, NULL, "0123456789", 10);
    assert_fails_with(weft_http_read_message(s, 0, 5, &r), WEFT_EMSGSIZE,
                      "over 5 bytes");
    weft_stream_free(s);
    assert_int_equal(weft_open_connection(&s, "127.0.0.1", port, 5.0), 0);
    weft_stream_write(s, "NOT HTTP AT ALL\r\n\r\n", 19);
    assert_int_equal(weft_http_read_message(s, 0, 1 << 20, &r), 0);
    assert_int_equal(r.status, 400);
    assert_false(r.keep_alive);
    weft_http_message_clear(&r);
    weft_stream_free(s);
    return 0;
}

static int main_task(void *arg, void **result)
{
    weft_server_t *server;
    assert_int_equal(
        weft_http_serve(&server, NULL, "127.0.0.1", 0, reflect, NULL), 0);
    int port = weft_server_port(server);
    int rc = client(&port, result);
    weft_server_free(server);
    return rc;
}

static void get_put_chunked_and_keep_alive_round_trip(void **state)
{
#ifndef WEFT_HAVE_HTTP_PARSER
    skip();
#endif
    assert_int_equal(weft_run(main_task, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_put_chunked_and_keep_alive_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
