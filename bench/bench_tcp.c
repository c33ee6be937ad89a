/* SPDX-License-Identifier: MIT */
/* tcp_echo and tcp_echo_100: 64-byte ping-pong over loopback TCP, weft
 * against libuv (Python's asyncio protocol and streams are in
 * py_asyncio.py).
 *
 * tcp_echo: one connection; the client writes 64 bytes, the server echoes
 * them, the client reads all 64, again n times: ns per round trip. Server
 * and client run on one loop in one thread, in both implementations.
 * tcp_echo_100: 100 connections at once, each doing its own ping-pong:
 * wall time over all round trips (so, below tcp_echo when they overlap).
 * weft uses tasks and blocking-style stream calls; libuv uses callbacks.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "weft.h"

#ifdef HAVE_LIBUV
#include <uv.h>
#endif

#define MSG 64

/* ----- weft ----- */

static int w_echo(weft_stream_t *s, void *arg)
{
    char buf[MSG];
    size_t got;
    while (weft_stream_read(s, buf, sizeof buf, &got) == 0)
        if (weft_stream_write(s, buf, got) != 0)
            break;
    return 0;
}

struct w_client {
    int port;
    long rounds;
};

static int w_ping(void *arg, void **result)
{
    struct w_client *c = arg;
    weft_stream_t *s;
    int rc = weft_open_connection(&s, "127.0.0.1", c->port, WEFT_FOREVER);
    if (rc)
        return rc;
    char out[MSG], in[MSG];
    memset(out, 'x', sizeof out);
    for (long i = 0; i < c->rounds && rc == 0; i++) {
        rc = weft_stream_write(s, out, sizeof out);
        if (rc == 0)
            rc = weft_stream_read_exactly(s, in, sizeof in, NULL);
    }
    weft_stream_free(s);
    return rc;
}

struct w_run {
    long n;
    int conns;
    int64_t ns;
};

static int w_main(void *arg, void **result)
{
    struct w_run *r = arg;
    weft_server_t *server;
    weft_start_server(&server, NULL, "127.0.0.1", 0, w_echo, NULL);
    struct w_client c = {weft_server_port(server), r->n / r->conns};
    weft_future_t *fs[100];
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < r->conns; i++)
        weft_task_create(&fs[i], NULL, w_ping, &c);
    weft_gather(fs, (size_t)r->conns, 0, NULL, NULL);
    r->ns = bench_now_ns() - t0;
    for (int i = 0; i < r->conns; i++)
        weft_future_free(fs[i]);
    weft_server_free(server);
    return 0;
}

static int64_t weft_echo(void *arg, long n)
{
    struct w_run r = {n, *(int *)arg, 0};
    weft_run(w_main, &r, NULL);
    return r.ns;
}

/* ----- libuv ----- */

#ifdef HAVE_LIBUV
struct u_conn {
    uv_tcp_t tcp;
    uv_write_t req;
    char buf[MSG];
    char in[65536];
    size_t got;
    long left;
    int client;
};

static uv_loop_t uloop;
static uv_tcp_t ulisten;
static int uclients_left;

static void u_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
    struct u_conn *c = h->data;
    *b = uv_buf_init(c->in, sizeof c->in);
}

static void u_closed(uv_handle_t *h)
{
    free(h->data);
}

static void u_written(uv_write_t *req, int status)
{
}

static void u_send(struct u_conn *c, const char *data, size_t len)
{
    memcpy(c->buf, data, len);
    uv_buf_t b = uv_buf_init(c->buf, (unsigned)len);
    uv_write(&c->req, (uv_stream_t *)&c->tcp, &b, 1, u_written);
}

static void u_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct u_conn *c = s->data;
    if (n < 0) {
        uv_close((uv_handle_t *)s, u_closed);
        return;
    }
    if (!c->client) {
        u_send(c, b->base, (size_t)n);
        return;
    }
    c->got += (size_t)n;
    if (c->got < MSG)
        return;
    c->got = 0;
    if (--c->left > 0) {
        u_send(c, c->in, MSG);
        return;
    }
    uv_close((uv_handle_t *)s, u_closed);
    if (--uclients_left == 0)
        uv_close((uv_handle_t *)&ulisten, NULL);
}

static struct u_conn *u_conn_new(int client, long rounds)
{
    struct u_conn *c = calloc(1, sizeof *c);
    uv_tcp_init(&uloop, &c->tcp);
    uv_tcp_nodelay(&c->tcp, 1);
    c->tcp.data = c;
    c->client = client;
    c->left = rounds;
    return c;
}

static void u_accept(uv_stream_t *server, int status)
{
    struct u_conn *c = u_conn_new(0, 0);
    uv_accept(server, (uv_stream_t *)&c->tcp);
    uv_read_start((uv_stream_t *)&c->tcp, u_alloc, u_read);
}

static void u_connected(uv_connect_t *req, int status)
{
    struct u_conn *c = req->handle->data;
    free(req);
    uv_read_start((uv_stream_t *)&c->tcp, u_alloc, u_read);
    char out[MSG];
    memset(out, 'x', sizeof out);
    u_send(c, out, MSG);
}

static int64_t libuv_echo(void *arg, long n)
{
    int conns = *(int *)arg;
    uv_loop_init(&uloop);
    uv_tcp_init(&uloop, &ulisten);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&ulisten, (const struct sockaddr *)&addr, 0);
    uv_listen((uv_stream_t *)&ulisten, 1024, u_accept);
    int len = sizeof addr;
    uv_tcp_getsockname(&ulisten, (struct sockaddr *)&addr, &len);
    uclients_left = conns;
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < conns; i++) {
        struct u_conn *c = u_conn_new(1, n / conns);
        uv_connect_t *req = malloc(sizeof *req);
        uv_tcp_connect(req, &c->tcp, (const struct sockaddr *)&addr,
                       u_connected);
    }
    uv_run(&uloop, UV_RUN_DEFAULT);
    int64_t dt = bench_now_ns() - t0;
    uv_loop_close(&uloop);
    return dt;
}
#endif

static void echo(const char *name, int conns, long n, int reps)
{
    bench_report(name, "weft", n, bench_median(weft_echo, &conns, n, reps));
#ifdef HAVE_LIBUV
    bench_report(name, "libuv", n, bench_median(libuv_echo, &conns, n, reps));
#endif
}

int main(void)
{
    int reps = bench_reps();
    echo("tcp_echo", 1, bench_scaled(100000), reps);
    echo("tcp_echo_100", 100, bench_scaled(200000), reps);
    return 0;
}
