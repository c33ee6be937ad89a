/* SPDX-License-Identifier: MIT */
/* ipc: Pipe and Connection: framing, ends, errors that never hang, poll,
 * and connections handed to children. */
#include "testing_proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void pipe_pair(weft_connection_t **a, weft_connection_t **b, int duplex)
{
    assert_int_equal(weft_pipe(a, b, duplex), 0);
}

static void expect_message(weft_connection_t *c, const char *text)
{
    weft_bytes_t m = {0};
    assert_int_equal(weft_connection_recv_bytes(c, &m), 0);
    assert_int_equal(m.len, strlen(text));
    assert_memory_equal(m.data, text, m.len);
    weft_bytes_free(&m);
}

static void a_duplex_pipe_carries_messages_both_ways(void **state)
{
    weft_connection_t *a, *b;
    pipe_pair(&a, &b, 1);
    assert_true(weft_connection_readable(a) && weft_connection_writable(a));
    assert_int_equal(weft_connection_send_bytes(a, "ping", 4), 0);
    assert_int_equal(weft_connection_send_bytes(a, "", 0), 0);
    assert_int_equal(weft_connection_send_bytes(b, "pong", 4), 0);
    expect_message(b, "ping");
    weft_bytes_t empty = {0};
    assert_int_equal(weft_connection_recv_bytes(b, &empty), 0);
    assert_int_equal(empty.len, 0);
    assert_null(empty.data);
    expect_message(a, "pong");
    weft_connection_free(a);
    weft_connection_free(b);
}

static void a_simplex_pipe_has_a_receiving_and_a_sending_end(void **state)
{
    weft_connection_t *r, *w;
    pipe_pair(&r, &w, 0);
    assert_true(weft_connection_readable(r));
    assert_false(weft_connection_writable(r));
    assert_false(weft_connection_readable(w));
    assert_fails_with(weft_connection_send_bytes(r, "x", 1), WEFT_EINVAL,
                      "read-only");
    weft_bytes_t m;
    assert_fails_with(weft_connection_recv_bytes(w, &m), WEFT_EINVAL,
                      "write-only");
    assert_int_equal(weft_connection_send_bytes(w, "one way", 7), 0);
    expect_message(r, "one way");
    weft_connection_free(r);
    weft_connection_free(w);
}

struct sizes {
    weft_connection_t *c;
    const size_t *sizes;
    size_t n;
};

static unsigned char byte_at(size_t size, size_t i)
{
    return (unsigned char)(i * 131 + size);
}

static void send_sizes(void *arg)
{
    struct sizes *s = arg;
    for (size_t k = 0; k < s->n; k++) {
        size_t len = s->sizes[k];
        unsigned char *buf = malloc(len + 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = byte_at(len, i);
        assert_int_equal(weft_connection_send_bytes(s->c, buf, len), 0);
        free(buf);
    }
}

static void messages_of_every_size_arrive_whole(void **state)
{
    static const size_t sizes[] = {0,     1,     100,   4087,  4088,     4089,
                                   65535, 65536, 65537, 70000, 1u << 20, 3};
    weft_connection_t *r, *w;
    pipe_pair(&r, &w, 0);
    struct sizes s = {w, sizes, sizeof sizes / sizeof sizes[0]};
    testing_thread_t *t = testing_thread_start(send_sizes, &s);
    for (size_t k = 0; k < s.n; k++) {
        weft_bytes_t m = {0};
        assert_int_equal(weft_connection_recv_bytes(r, &m), 0);
        assert_int_equal(m.len, sizes[k]);
        for (size_t i = 0; i < m.len; i++)
            if (m.data[i] != byte_at(m.len, i))
                fail_msg("byte %zu of a %zu-byte message", i, m.len);
        weft_bytes_free(&m);
    }
    testing_thread_join(t);
    weft_connection_free(r);
    weft_connection_free(w);
}

/* send_bytes_many: sizes that cross every limit of a batch (messages,
 * buffers, copied bytes), over a pipe and over a socket. */
struct many {
    weft_connection_t *c;
    weft_bytes_t *msgs;
    size_t n;
};

static void send_many(void *arg)
{
    struct many *m = arg;
    size_t sent = 0;
    assert_int_equal(
        weft_connection_send_bytes_many(m->c, m->msgs, m->n, &sent), 0);
    assert_int_equal(sent, m->n);
}

static void many_arrive_whole_and_in_order(int duplex)
{
    static const size_t sizes[] = {0, 1, 64, 1000, 1024, 1025, 4087, 3, 70000};
    enum { N = 600, KINDS = sizeof sizes / sizeof sizes[0] };
    weft_connection_t *r, *w;
    pipe_pair(&r, &w, duplex);
    struct many m = {w, calloc(N, sizeof(weft_bytes_t)), N};
    for (size_t k = 0; k < N; k++) {
        size_t len = sizes[(k * 7 + k / KINDS) % KINDS];
        m.msgs[k].len = len;
        m.msgs[k].data = len ? malloc(len) : NULL;
        for (size_t i = 0; i < len; i++)
            m.msgs[k].data[i] = byte_at(len + k, i);
    }
    testing_thread_t *t = testing_thread_start(send_many, &m);
    for (size_t k = 0; k < N; k++) {
        weft_bytes_t got = {0};
        assert_int_equal(weft_connection_recv_bytes(r, &got), 0);
        assert_int_equal(got.len, m.msgs[k].len);
        for (size_t i = 0; i < got.len; i++)
            if (got.data[i] != byte_at(got.len + k, i))
                fail_msg("byte %zu of message %zu", i, k);
        weft_bytes_free(&got);
    }
    testing_thread_join(t);
    assert_int_equal(weft_connection_poll(r, 0), WEFT_ETIMEDOUT);
    for (size_t k = 0; k < N; k++)
        weft_bytes_free(&m.msgs[k]);
    free(m.msgs);
    weft_connection_free(r);
    weft_connection_free(w);
}

static void many_messages_sent_at_once_arrive_whole_and_in_order(void **state)
{
    many_arrive_whole_and_in_order(0);
    many_arrive_whole_and_in_order(1);
}

static void sending_many_checks_every_message_before_sending_any(void **state)
{
    weft_connection_t *r, *w;
    pipe_pair(&r, &w, 0);
    unsigned char x = 'x';
    weft_bytes_t bad[3] = {{&x, 1}, {NULL, 5}, {&x, 1}};
    size_t sent = 99;
    assert_fails_with(weft_connection_send_bytes_many(w, bad, 3, &sent),
                      WEFT_EINVAL, "NULL data");
    assert_int_equal(sent, 0);
    weft_bytes_t huge[2] = {{&x, 1}, {&x, (size_t)1 << 32}};
    assert_fails_with(weft_connection_send_bytes_many(w, huge, 2, NULL),
                      WEFT_EMSGSIZE, "at most");
    assert_fails_with(weft_connection_send_bytes_many(w, NULL, 1, NULL),
                      WEFT_EINVAL, "NULL messages");
    assert_fails_with(weft_connection_send_bytes_many(r, bad, 1, NULL),
                      WEFT_EINVAL, "read-only");
    assert_int_equal(weft_connection_poll(r, 0), WEFT_ETIMEDOUT);
    assert_int_equal(weft_connection_send_bytes_many(w, NULL, 0, &sent), 0);
    assert_int_equal(sent, 0);
    weft_connection_free(r);
    assert_fails_with(weft_connection_send_bytes_many(w, bad, 1, &sent),
                      WEFT_EEOF, "closed");
    assert_int_equal(sent, 0);
    weft_connection_close(w);
    assert_fails_with(weft_connection_send_bytes_many(w, bad, 1, NULL),
                      WEFT_ECLOSED, "closed");
    weft_connection_free(w);
}

static void a_message_too_long_for_the_buffer_stays_unread(void **state)
{
    weft_connection_t *r, *w;
    pipe_pair(&r, &w, 0);
    weft_connection_send_bytes(w, "0123456789", 10);
    char buf[16];
    size_t len = 0;
    assert_fails_with(weft_connection_recv_bytes_into(r, buf, 4, &len),
                      WEFT_EMSGSIZE, "stays unread");
    assert_int_equal(len, 10);
    assert_int_equal(weft_connection_recv_bytes_into(r, buf, sizeof buf, &len),
                     0);
    assert_int_equal(len, 10);
    assert_memory_equal(buf, "0123456789", 10);
    weft_connection_free(r);
    weft_connection_free(w);
}

static void
a_closed_peer_reads_as_end_of_file_after_the_last_message(void **state)
{
    weft_connection_t *a, *b;
    pipe_pair(&a, &b, 1);
    weft_connection_send_bytes(a, "last", 4);
    weft_connection_free(a);
    expect_message(b, "last");
    weft_bytes_t m;
    assert_fails_with(weft_connection_recv_bytes(b, &m), WEFT_EEOF, "closed");
    assert_fails_with(weft_connection_send_bytes(b, "x", 1), WEFT_EEOF,
                      "closed");
    /* The write to a pipe nobody reads did not kill us: SIGPIPE is
     * ignored now. */
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    assert_ptr_equal(sa.sa_handler, SIG_IGN);
    weft_connection_free(b);
}

/* A raw pipe: its write end as a descriptor, its read end as a connection. */
static weft_connection_t *raw_reader(int *wfd)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    weft_connection_t *c;
    assert_int_equal(weft_connection_new_fd(&c, p[0]), 0);
    assert_true(weft_connection_readable(c));
    assert_false(weft_connection_writable(c));
    *wfd = p[1];
    return c;
}

static void garbage_is_refused_at_once_and_for_good(void **state)
{
    int w;
    weft_connection_t *c = raw_reader(&w);
    assert_int_equal(write(w, "GET / HTTP/1.0\r\n", 16), 16);
    weft_bytes_t m;
    assert_fails_with(weft_connection_recv_bytes(c, &m), WEFT_EPROTO,
                      "malformed");
    assert_fails_with(weft_connection_recv_bytes(c, &m), WEFT_EPROTO,
                      "cannot go on");
    assert_int_equal(weft_connection_poll(c, 0), 0);
    close(w);
    weft_connection_free(c);
}

static void an_oversized_frame_is_refused_before_its_payload(void **state)
{
    int w;
    weft_connection_t *c = raw_reader(&w);
    assert_int_equal(weft_connection_set_max_message(c, 100), 0);
    assert_int_equal(weft_connection_max_message(c), 100);
    /* A header announcing 4 GiB - 1 bytes, and nothing after it: the
     * reader must not wait for (or allocate) the payload. */
    unsigned char h[8] = {'w', 'f', 1, 0, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(write(w, h, 8), 8);
    weft_bytes_t m;
    double t0 = weft_monotonic();
    assert_fails_with(weft_connection_recv_bytes(c, &m), WEFT_EMSGSIZE,
                      "maximum of 100");
    assert_elapsed_between(weft_monotonic() - t0, 0, 1.0);
    assert_fails_with(weft_connection_recv_bytes(c, &m), WEFT_EMSGSIZE,
                      "cannot go on");
    assert_fails_with(weft_connection_set_max_message(c, 0), WEFT_EINVAL,
                      "at least 1");
    close(w);
    weft_connection_free(c);
}

static void a_truncated_frame_is_a_protocol_error(void **state)
{
    int w;
    weft_connection_t *c = raw_reader(&w);
    unsigned char h[8] = {'w', 'f', 1, 0, 100, 0, 0, 0};
    assert_int_equal(write(w, h, 8), 8);
    assert_int_equal(write(w, "only ten..", 10), 10);
    close(w);
    weft_bytes_t m;
    assert_fails_with(weft_connection_recv_bytes(c, &m), WEFT_EPROTO,
                      "truncated");
    weft_connection_free(c);
    /* And cut inside the header. */
    c = raw_reader(&w);
    assert_int_equal(write(w, h, 5), 5);
    close(w);
    assert_fails_with(weft_connection_recv_bytes(c, &m), WEFT_EPROTO,
                      "truncated");
    weft_connection_free(c);
}

static void a_large_truncated_frame_is_a_protocol_error(void **state)
{
    int w;
    weft_connection_t *c = raw_reader(&w);
    unsigned char h[8] = {'w', 'f', 1, 0, 0, 0, 2, 0}; /* 128 KiB */
    assert_int_equal(write(w, h, 8), 8);
    assert_int_equal(write(w, "short", 5), 5);
    close(w);
    weft_bytes_t m;
    assert_fails_with(weft_connection_recv_bytes(c, &m), WEFT_EPROTO,
                      "truncated");
    weft_connection_free(c);
}

static void poll_waits_for_a_message(void **state)
{
    weft_connection_t *a, *b;
    pipe_pair(&a, &b, 1);
    double t0 = weft_monotonic();
    assert_fails_with(weft_connection_poll(b, 0.2), WEFT_ETIMEDOUT,
                      "nothing to receive");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_connection_poll(b, 0), WEFT_ETIMEDOUT, "nothing");
    weft_connection_send_bytes(a, "x", 1);
    assert_int_equal(weft_connection_poll(b, WEFT_FOREVER), 0);
    assert_int_equal(weft_connection_poll(b, 0), 0); /* still unread */
    expect_message(b, "x");
    weft_cancel_scope_t scope;
    weft_cancel_scope_init(&scope);
    weft_cancel_scope_enter(&scope, 0.05, 0);
    assert_fails_with(weft_connection_poll(b, WEFT_FOREVER), WEFT_ECANCELLED,
                      "cancelled");
    weft_cancel_scope_exit(&scope);
    weft_connection_close(a);
    assert_int_equal(weft_connection_poll(b, 1), 0); /* the end is in */
    weft_connection_free(a);
    weft_connection_free(b);
}

static void a_closed_connection_refuses_everything(void **state)
{
    weft_connection_t *a, *b;
    pipe_pair(&a, &b, 1);
    assert_true(weft_connection_fileno(a) >= 0);
    assert_int_equal(weft_connection_close(a), 0);
    assert_int_equal(weft_connection_close(a), 0);
    assert_true(weft_connection_closed(a));
    assert_int_equal(weft_connection_fileno(a), -1);
    weft_bytes_t m;
    assert_fails_with(weft_connection_send_bytes(a, "x", 1), WEFT_ECLOSED,
                      "closed");
    assert_fails_with(weft_connection_recv_bytes(a, &m), WEFT_ECLOSED,
                      "closed");
    assert_fails_with(weft_connection_poll(a, 0), WEFT_ECLOSED, "closed");
    weft_share_t h;
    assert_fails_with(weft_connection_share(a, &h), WEFT_ECLOSED, "closed");
    weft_connection_free(a);
    weft_connection_free(b);
}

static void a_socket_connection_works_both_ways(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    weft_connection_t *a, *b;
    assert_int_equal(weft_connection_new_fd(&a, sv[0]), 0);
    assert_int_equal(weft_connection_new_fd(&b, sv[1]), 0);
    weft_connection_send_bytes(a, "over a socket", 13);
    expect_message(b, "over a socket");
    weft_connection_free(b);
    assert_fails_with(weft_connection_send_bytes(a, "x", 1), WEFT_EEOF,
                      "closed");
    weft_connection_free(a);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_fails_with(weft_connection_new_fd(&a, fd), WEFT_EINVAL,
                      "socket or pipe");
}

/* ----- Across processes ----- */

/* The seeds' child: send "Data from child", wait for an answer. */
static int child_talks(const weft_bytes_t *arg)
{
    weft_connection_t *c;
    if (weft_connection_from_share(&c, weft_arg_share(arg, 0)) != 0)
        return 1;
    if (weft_connection_send_bytes(c, "Data from child", 15) != 0)
        return 2;
    weft_bytes_t m = {0};
    if (weft_connection_recv_bytes(c, &m) != 0 || m.len != 6 ||
        memcmp(m.data, "thanks", 6) != 0)
        return 3;
    weft_bytes_free(&m);
    weft_connection_free(c);
    return 0;
}

static void a_connection_handed_to_a_child_talks_both_ways(void **state)
{
    static const char *const methods[] = {"fork", "spawn", "forkserver"};
    for (int k = 0; k < 3; k++) {
        weft_connection_t *parent, *child;
        pipe_pair(&parent, &child, 1);
        weft_share_t h;
        assert_int_equal(weft_connection_share(child, &h), 0);
        weft_context_t *ctx;
        weft_get_context(&ctx, methods[k]);
        weft_process_t *p;
        weft_context_process_new(ctx, &p, child_talks, &h, sizeof h, NULL);
        assert_int_equal(weft_process_pass(p, &h), 0);
        assert_int_equal(weft_process_start(p), 0);
        weft_connection_free(child);
        expect_message(parent, "Data from child");
        weft_connection_send_bytes(parent, "thanks", 6);
        assert_int_equal(weft_process_join(p, 10), 0);
        int code = -1;
        weft_process_exitcode(p, &code);
        assert_int_equal(code, 0);
        /* The child is gone and held the only other ends. */
        weft_bytes_t m;
        assert_fails_with(weft_connection_recv_bytes(parent, &m), WEFT_EEOF,
                          "closed");
        weft_process_free(p);
        weft_connection_free(parent);
    }
    weft_share_t bad = {0};
    weft_connection_t *c;
    assert_fails_with(weft_connection_from_share(&c, &bad), WEFT_EINVAL,
                      "not a connection");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_duplex_pipe_carries_messages_both_ways),
        cmocka_unit_test(a_simplex_pipe_has_a_receiving_and_a_sending_end),
        cmocka_unit_test(a_message_too_long_for_the_buffer_stays_unread),
        cmocka_unit_test(
            a_closed_peer_reads_as_end_of_file_after_the_last_message),
        cmocka_unit_test(garbage_is_refused_at_once_and_for_good),
        cmocka_unit_test(an_oversized_frame_is_refused_before_its_payload),
        cmocka_unit_test(a_truncated_frame_is_a_protocol_error),
        cmocka_unit_test(a_large_truncated_frame_is_a_protocol_error),
        cmocka_unit_test(poll_waits_for_a_message),
        cmocka_unit_test(a_closed_connection_refuses_everything),
        cmocka_unit_test(a_socket_connection_works_both_ways),
        testing_proc_test(a_connection_handed_to_a_child_talks_both_ways),
        /* Last: it starts a thread, after which fork() is not for
         * ThreadSanitizer. */
        cmocka_unit_test(messages_of_every_size_arrive_whole),
        cmocka_unit_test(many_messages_sent_at_once_arrive_whole_and_in_order),
        cmocka_unit_test(sending_many_checks_every_message_before_sending_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
