/* SPDX-License-Identifier: MIT */
/* pipe_roundtrip, pipe_stream, pipe_stream_1mib and process_queue: weft's
 * Connection and process Queue against raw pipes (impl=raw, the limit);
 * Python's multiprocessing.Pipe and Queue are in py_ipc.py.
 *
 * pipe_roundtrip: a 64-byte message to a child process and back, per
 *   round trip (the kernel's wake-up dominates).
 * pipe_stream: 1,000,000 64-byte messages one way, per message, from the
 *   first send until the child has read the last; weft.many sends them
 *   256 at a time with send_bytes_many (each still a message of its own).
 * pipe_stream_1mib: 1 MiB messages one way, per message.
 * process_queue: 2 producer and 2 consumer processes, 64-byte items, per
 *   item, from the moment all four are let go until all have exited.
 * Children are made with the fork start method; starting them is not
 * timed: they wait at a starting line (a pipe the parent closes). */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "weft.h"

#define SMALL 64
#define MIB (1 << 20)

/* ----- A starting line for child processes ----- */

struct line {
    int fd[2];
};

static void line_init(struct line *l)
{
    if (pipe(l->fd) != 0)
        abort();
}

static void line_wait(struct line *l)
{
    char c;
    close(l->fd[1]);
    if (read(l->fd[0], &c, 1) < 0)
        abort();
    close(l->fd[0]);
}

static int64_t line_go(struct line *l)
{
    close(l->fd[0]);
    int64_t t0 = bench_now_ns();
    close(l->fd[1]);
    return t0;
}

static void wait_all(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        waitpid(pids[i], NULL, 0);
}

/* ----- pipe_roundtrip ----- */

static int64_t weft_roundtrip(void *arg, long n)
{
    weft_connection_t *a, *b;
    weft_pipe(&a, &b, 1);
    unsigned char buf[SMALL] = {0};
    size_t len;
    pid_t pid = fork();
    if (pid == 0) {
        for (long i = 0; i < n; i++) {
            weft_connection_recv_bytes_into(b, buf, sizeof buf, &len);
            weft_connection_send_bytes(b, buf, len);
        }
        _exit(0);
    }
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        weft_connection_send_bytes(a, buf, SMALL);
        weft_connection_recv_bytes_into(a, buf, sizeof buf, &len);
    }
    int64_t dt = bench_now_ns() - t0;
    waitpid(pid, NULL, 0);
    weft_connection_free(a);
    weft_connection_free(b);
    return dt;
}

static void read_full(int fd, void *p, size_t len)
{
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r <= 0)
            abort();
        p = (char *)p + r;
        len -= (size_t)r;
    }
}

static int64_t raw_roundtrip(void *arg, long n)
{
    int up[2], down[2];
    if (pipe(up) || pipe(down))
        abort();
    unsigned char buf[SMALL] = {0};
    pid_t pid = fork();
    if (pid == 0) {
        for (long i = 0; i < n; i++) {
            read_full(down[0], buf, SMALL);
            if (write(up[1], buf, SMALL) != SMALL)
                abort();
        }
        _exit(0);
    }
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        if (write(down[1], buf, SMALL) != SMALL)
            abort();
        read_full(up[0], buf, SMALL);
    }
    int64_t dt = bench_now_ns() - t0;
    waitpid(pid, NULL, 0);
    close(up[0]), close(up[1]), close(down[0]), close(down[1]);
    return dt;
}

/* ----- pipe_stream ----- */

struct stream {
    size_t size;
    unsigned char *buf;
    long batch; /* messages per send_bytes_many; 0: send_bytes each */
};

static void send_stream(weft_connection_t *w, const struct stream *s, long n)
{
    if (s->batch == 0) {
        for (long i = 0; i < n; i++)
            weft_connection_send_bytes(w, s->buf, s->size);
        return;
    }
    weft_bytes_t *msgs = malloc((size_t)s->batch * sizeof *msgs);
    for (long i = 0; i < s->batch; i++)
        msgs[i] = (weft_bytes_t){s->buf, s->size};
    for (long i = 0; i < n; i += s->batch)
        weft_connection_send_bytes_many(
            w, msgs, (size_t)(n - i < s->batch ? n - i : s->batch), NULL);
    free(msgs);
}

static int64_t weft_stream(void *arg, long n)
{
    struct stream *s = arg;
    weft_connection_t *r, *w;
    weft_pipe(&r, &w, 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (long i = 0; i < n; i++) {
            weft_bytes_t m;
            if (weft_connection_recv_bytes(r, &m) != 0 || m.len != s->size)
                _exit(1);
            weft_bytes_free(&m);
        }
        _exit(0);
    }
    int64_t t0 = bench_now_ns();
    send_stream(w, s, n);
    waitpid(pid, NULL, 0);
    int64_t dt = bench_now_ns() - t0;
    weft_connection_free(r);
    weft_connection_free(w);
    return dt;
}

static int64_t raw_stream(void *arg, long n)
{
    struct stream *s = arg;
    int p[2];
    if (pipe(p))
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        size_t chunk = s->size > 65536 ? s->size : 65536;
        unsigned char *buf = malloc(chunk);
        size_t left = s->size * (size_t)n;
        while (left > 0) {
            ssize_t got = read(p[0], buf, chunk < left ? chunk : left);
            if (got <= 0)
                _exit(1);
            left -= (size_t)got;
        }
        _exit(0);
    }
    close(p[0]);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        size_t off = 0;
        while (off < s->size) {
            ssize_t w = write(p[1], s->buf + off, s->size - off);
            if (w <= 0)
                abort();
            off += (size_t)w;
        }
    }
    waitpid(pid, NULL, 0);
    int64_t dt = bench_now_ns() - t0;
    close(p[1]);
    return dt;
}

/* ----- process_queue ----- */

static int64_t weft_queue(void *arg, long n)
{
    weft_proc_queue_t *q;
    weft_proc_queue_new(&q, 0);
    struct line l;
    line_init(&l);
    pid_t pids[4];
    unsigned char item[SMALL] = {0};
    for (int k = 0; k < 4; k++) {
        pids[k] = fork();
        if (pids[k] != 0)
            continue;
        line_wait(&l);
        for (long i = 0; i < n / 2; i++) {
            if (k < 2) {
                weft_proc_queue_put(q, item, sizeof item, WEFT_FOREVER);
            } else {
                weft_bytes_t b;
                weft_proc_queue_get(q, &b, WEFT_FOREVER);
                weft_bytes_free(&b);
            }
        }
        _exit(0);
    }
    int64_t t0 = line_go(&l);
    wait_all(pids, 4);
    int64_t dt = bench_now_ns() - t0;
    weft_proc_queue_free(q);
    return dt;
}

int main(void)
{
    int reps = bench_reps();
    long rt = bench_scaled(50000);
    bench_report("pipe_roundtrip", "weft", rt,
                 bench_median(weft_roundtrip, NULL, rt, reps));
    bench_report("pipe_roundtrip", "raw", rt,
                 bench_median(raw_roundtrip, NULL, rt, reps));

    unsigned char *buf = calloc(1, MIB);
    struct stream small = {SMALL, buf, 0}, big = {MIB, buf, 0};
    struct stream batched = {SMALL, buf, 256};
    long sn = bench_scaled(1000000);
    bench_report("pipe_stream", "weft", sn,
                 bench_median(weft_stream, &small, sn, reps));
    bench_report("pipe_stream", "weft.many", sn,
                 bench_median(weft_stream, &batched, sn, reps));
    bench_report("pipe_stream", "raw", sn,
                 bench_median(raw_stream, &small, sn, reps));
    long bn = bench_scaled(1000);
    bench_report("pipe_stream_1mib", "weft", bn,
                 bench_median(weft_stream, &big, bn, reps));
    bench_report("pipe_stream_1mib", "raw", bn,
                 bench_median(raw_stream, &big, bn, reps));
    free(buf);

    long qn = bench_scaled(1000000);
    bench_report("process_queue", "weft", qn,
                 bench_median(weft_queue, NULL, qn, reps));
    return 0;
}
