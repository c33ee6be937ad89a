/* SPDX-License-Identifier: MIT */
/* TCP streams: an echo server with 100 clients, IPv6, the reading calls,
 * a peer that vanishes, cancelling and timing out a read, and a plain
 * thread as a client. */
#include "testing.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int echo_lines(weft_stream_t *s, void *arg)
{
    char line[256];
    size_t len;
    int rc;
    while ((rc = weft_stream_readline(s, line, sizeof line, &len)) == 0)
        if ((rc = weft_stream_write(s, line, len)) != 0)
            break;
    return rc == WEFT_EEOF ? 0 : rc;
}

struct client {
    const char *host;
    int port;
    int id;
    int ok;
};

static int echo_client(void *arg, void **result)
{
    struct client *c = arg;
    weft_stream_t *s;
    int rc = weft_open_connection(&s, c->host, c->port, 1.0 * testing_scale());
    if (rc)
        return rc;
    for (int i = 0; i < 5 && rc == 0; i++) {
        char out[64], in[64];
        int n = snprintf(out, sizeof out, "client %d line %d\n", c->id, i);
        rc = weft_stream_write(s, out, (size_t)n);
        size_t len = 0;
        if (rc == 0)
            rc = weft_stream_readline(s, in, sizeof in, &len);
        if (rc == 0 && (len != (size_t)n || memcmp(in, out, len) != 0))
            rc = weft_fail(WEFT_EPROTO, "echo mismatch");
    }
    c->ok = rc == 0;
    weft_stream_free(s);
    return rc;
}

struct echo_run {
    const char *host;
    int clients;
    int ok;
};

static int run_echo(void *arg, void **result)
{
    struct echo_run *e = arg;
    weft_server_t *server;
    int rc = weft_start_server(&server, NULL, e->host, 0, echo_lines, NULL);
    if (rc)
        return rc;
    struct client cs[100];
    weft_future_t *fs[100];
    for (int i = 0; i < e->clients; i++) {
        cs[i] = (struct client){e->host, weft_server_port(server), i, 0};
        weft_task_create(&fs[i], NULL, echo_client, &cs[i]);
    }
    rc = weft_gather(fs, (size_t)e->clients, 0, NULL, NULL);
    for (int i = 0; i < e->clients; i++) {
        e->ok += cs[i].ok;
        weft_future_free(fs[i]);
    }
    weft_server_free(server);
    return rc;
}

static void an_echo_server_serves_a_hundred_clients_at_once(void **state)
{
    struct echo_run e = {"127.0.0.1", 100, 0};
    assert_int_equal(weft_run(run_echo, &e, NULL), 0);
    assert_int_equal(e.ok, 100);
}

static void streams_work_over_ipv6_and_names(void **state)
{
    struct echo_run e = {"::1", 3, 0};
    int rc = weft_run(run_echo, &e, NULL);
    if (rc == WEFT_ESYS || rc == WEFT_EKEY) { /* no IPv6 on this host */
        skip();
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(e.ok, 3);
    struct echo_run byname = {"localhost", 2, 0};
    assert_int_equal(weft_run(run_echo, &byname, NULL), 0);
}

/* ----- Reading calls and peers that vanish ----- */

static int say_and_vanish(weft_stream_t *s, void *arg)
{
    return weft_stream_write(s, "abc|defgh|tail", 14);
}

static int read_calls(void *arg, void **result)
{
    weft_server_t *server;
    weft_start_server(&server, NULL, "127.0.0.1", 0, say_and_vanish, NULL);
    weft_stream_t *s;
    int rc = weft_open_connection(&s, "127.0.0.1", weft_server_port(server),
                                  WEFT_FOREVER);
    assert_int_equal(rc, 0);
    char buf[32];
    size_t len;
    assert_int_equal(weft_stream_read_until(s, "|", 1, buf, sizeof buf, &len),
                     0);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "abc|", 4);
    assert_fails_with(weft_stream_read_until(s, "|", 1, buf, 3, &len),
                      WEFT_EMSGSIZE, "not found within 3 bytes");
    assert_int_equal(weft_stream_read_exactly(s, buf, 6, NULL), 0);
    assert_memory_equal(buf, "defgh|", 6);
    size_t got = 0;
    assert_fails_with(weft_stream_read_exactly(s, buf, 10, &got), WEFT_EEOF,
                      "4 bytes read on 10 expected");
    assert_int_equal(got, 4);
    assert_fails_with(weft_stream_read(s, buf, sizeof buf, &got), WEFT_EEOF,
                      "end of stream");
    /* Writing to a peer that has gone ends in WEFT_EEOF, never SIGPIPE. */
    rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        rc = weft_stream_write(s, buf, sizeof buf);
        weft_sleep(0.001);
    }
    assert_int_equal(rc, WEFT_EEOF);
    weft_stream_free(s);
    weft_server_free(server);
    return 0;
}

static void reading_calls_consume_what_they_say_and_eof_is_clear(void **state)
{
    assert_int_equal(weft_run(read_calls, NULL, NULL), 0);
}

/* ----- Cancel and timeouts ----- */

static int say_nothing(weft_stream_t *s, void *arg)
{
    char c;
    size_t got;
    weft_stream_read(s, &c, 1, &got); /* until the client goes */
    return 0;
}

struct silent {
    int port;
    int rc;
    double took;
    int reading; /* the reader is in its read (the loop's thread only) */
};

static int read_forever(void *arg, void **result)
{
    struct silent *q = arg;
    weft_stream_t *s;
    int rc = weft_open_connection(&s, "127.0.0.1", q->port, WEFT_FOREVER);
    if (rc)
        return rc;
    char c;
    size_t got;
    double t0 = weft_monotonic();
    q->reading = 1;
    q->rc = weft_stream_read(s, &c, 1, &got);
    q->took = weft_monotonic() - t0;
    weft_stream_free(s);
    return q->rc;
}

static int cancel_a_read(void *arg, void **result)
{
    weft_server_t *server;
    weft_start_server(&server, NULL, "127.0.0.1", 0, say_nothing, NULL);
    struct silent *q = arg;
    q->port = weft_server_port(server);
    weft_future_t *f;
    weft_task_create(&f, NULL, read_forever, q);
    /* Cancel only once the read has waited 0.05 s (the connect before it
     * may take longer than that on a loaded machine). */
    while (!q->reading && !weft_future_done(f))
        weft_sleep(0.001);
    weft_sleep(0.05);
    weft_task_cancel(f);
    weft_future_wait(f, WEFT_FOREVER);
    assert_true(weft_future_cancelled(f));
    weft_future_free(f);
    weft_server_free(server);
    return 0;
}

static void a_task_cancelled_during_a_socket_read_returns_at_once(void **state)
{
    struct silent q = {0};
    assert_int_equal(weft_run(cancel_a_read, &q, NULL), 0);
    assert_int_equal(q.rc, WEFT_ECANCELLED);
    assert_elapsed_between(q.took, 0.04, 1.0);
}

static int time_out_a_read(void *arg, void **result)
{
    weft_server_t *server;
    weft_start_server(&server, NULL, "127.0.0.1", 0, say_nothing, NULL);
    weft_stream_t *s;
    weft_open_connection(&s, "127.0.0.1", weft_server_port(server),
                         WEFT_FOREVER);
    weft_cancel_scope_t scope;
    weft_cancel_scope_init(&scope);
    weft_cancel_scope_enter(&scope, 0.05, 0);
    char c;
    size_t got;
    double t0 = weft_monotonic();
    int rc = weft_stream_read(s, &c, 1, &got);
    double took = weft_monotonic() - t0;
    assert_int_equal(rc, WEFT_ECANCELLED);
    assert_int_equal(weft_cancel_scope_exit(&scope), WEFT_ETIMEDOUT);
    assert_elapsed_between(took, 0.05, 1.0);
    weft_stream_free(s);
    weft_server_free(server);
    return 0;
}

static void a_deadline_scope_times_out_a_read(void **state)
{
    assert_int_equal(weft_run(time_out_a_read, NULL, NULL), 0);
}

static void connecting_to_a_closed_port_says_refused(void **state)
{
    weft_stream_t *s;
    /* Bind a port, then close it: nobody listens there now. */
    weft_server_t *server;
    weft_loop_t *loop;
    weft_loop_new(&loop);
    weft_start_server(&server, loop, "127.0.0.1", 0, say_nothing, NULL);
    int port = weft_server_port(server);
    weft_server_free(server);
    weft_loop_free(loop);
    assert_fails_with(weft_open_connection(&s, "127.0.0.1", port, 1.0),
                      WEFT_ESYS, "refused");
    assert_fails_with(weft_open_connection(&s, "127.0.0.1", 70000, 1.0),
                      WEFT_EINVAL, "bad address");
    assert_fails_with(weft_open_connection(&s, "no.such.host.invalid", 80, 1.0),
                      WEFT_EKEY, "cannot resolve");
}

/* ----- A plain thread as a client ----- */

struct served {
    weft_loop_t *loop;
    int port;
    weft_event_t ready;
    weft_server_t *server;
};

static int stop_serving(void *arg)
{
    struct served *sv = arg;
    weft_server_free(sv->server);
    weft_loop_stop(sv->loop);
    return 0;
}

static void serve_in_thread(void *arg)
{
    struct served *sv = arg;
    weft_loop_new(&sv->loop);
    weft_start_server(&sv->server, sv->loop, "127.0.0.1", 0, echo_lines, NULL);
    sv->port = weft_server_port(sv->server);
    weft_event_set(&sv->ready);
    weft_loop_run_forever(sv->loop);
    weft_loop_free(sv->loop);
}

static void a_plain_thread_uses_the_same_stream_calls(void **state)
{
    struct served sv;
    memset(&sv, 0, sizeof sv);
    weft_event_init(&sv.ready);
    testing_thread_t *t = testing_thread_start(serve_in_thread, &sv);
    weft_event_wait(&sv.ready, WEFT_FOREVER);
    struct client c = {"127.0.0.1", sv.port, 7, 0};
    void *unused;
    assert_int_equal(echo_client(&c, &unused), 0);
    assert_true(c.ok);
    weft_loop_call_soon_threadsafe(sv.loop, stop_serving, &sv);
    testing_thread_join(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_echo_server_serves_a_hundred_clients_at_once),
        cmocka_unit_test(streams_work_over_ipv6_and_names),
        cmocka_unit_test(reading_calls_consume_what_they_say_and_eof_is_clear),
        cmocka_unit_test(a_task_cancelled_during_a_socket_read_returns_at_once),
        cmocka_unit_test(a_deadline_scope_times_out_a_read),
        cmocka_unit_test(connecting_to_a_closed_port_says_refused),
        cmocka_unit_test(a_plain_thread_uses_the_same_stream_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
