/* SPDX-License-Identifier: MIT */
/* procpool torture: garbage and truncated frames into every socket weft
 * listens on, for a quarter of the torture seconds each:
 *   - a process pool's worker channels, from the worker's side: tasks
 *     that write noise, lying frame heads, forged results and cut-off
 *     frames into their worker's socket, among tasks that check their
 *     results;
 *   - a manager's socket: clients that send noise before the handshake,
 *     and authenticated clients that send requests of noise, then a
 *     malformed or oversized frame;
 *   - the fork server's control socket: datagrams of noise, with and
 *     without a channel attached;
 *   - a Connection: good frames, then noise or a frame cut short.
 * Every receiver must refuse cleanly: every future completes (none past
 * a bound), no task runs twice, results that come back are right, a
 * manager drops a client that sent garbage and serves the others, the
 * fork server goes on starting processes, and a Connection gives back the
 * good frames and then one clean error. Nothing crashes. */
#include "testing_proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/frame.h"
#include "manager/manager_int.h"
#include "process/forkserver_int.h"
#include "procpool/procpool_int.h"

static double phase_seconds(void)
{
    return testing_torture_seconds() / 4;
}

static void fill_noise(testing_rng_t *g, unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)testing_rng_next(g);
}

/* ----- The process pool's worker channels ----- */

#define POOL_TASKS 4096

enum { ECHO, NOISE, LIAR, FORGED, CUT };

struct order {
    int64_t index;
    int what;
    uint64_t seed;
    double linger;
};

static _Atomic uint32_t *starts; /* in a worker: mapped by the initializer */

int map_starts(const weft_bytes_t *arg, weft_bytes_t *result);
int map_starts(const weft_bytes_t *arg, weft_bytes_t *result)
{
    int fd = open((const char *)arg->data, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "cannot open the notes");
    void *p = mmap(NULL, POOL_TASKS * sizeof *starts, PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return weft_fail(WEFT_ESYS, "cannot map the notes");
    starts = p;
    return 0;
}

/* Into every socket of this process: the worker's channel, in a worker. */
static void into_sockets(const void *p, size_t len)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        struct stat st;
        if (e->d_name[0] != '.' && fd != dirfd(d) && fstat(fd, &st) == 0 &&
            S_ISSOCK(st.st_mode)) {
            ssize_t n = write(fd, p, len);
            (void)n;
        }
    }
    if (d)
        closedir(d);
}

static void vandalize(const struct order *o)
{
    testing_rng_t g = {o->seed | 1};
    unsigned char buf[512];
    size_t n = 1 + testing_rng_below(&g, sizeof buf);
    fill_noise(&g, buf, n);
    struct weft__pp_result_frame rf;
    memset(&rf, 0, sizeof rf);
    rf.h.type = FRAME_RESULT;
    switch (o->what) {
    case NOISE:
        into_sockets(buf, n);
        return;
    case LIAR: /* a head claiming more than anyone sends, or a random size */
        rf.h.size = testing_rng_below(&g, 2) ? UINT32_MAX
                                             : (uint32_t)testing_rng_next(&g);
        into_sockets(&rf, sizeof rf.h);
        return;
    case FORGED: /* a well-made result for a task that does not exist */
        rf.h.size = sizeof rf;
        rf.id = testing_rng_next(&g) | (UINT64_C(1) << 62);
        into_sockets(&rf, sizeof rf);
        return;
    case CUT: /* a head promising a little more than comes */
        rf.h.size = (uint32_t)(sizeof rf + 16 * testing_rng_below(&g, 8));
        into_sockets(&rf, sizeof rf - testing_rng_below(&g, sizeof rf));
        return;
    }
}

int vandal(const weft_bytes_t *arg, weft_bytes_t *result);
int vandal(const weft_bytes_t *arg, weft_bytes_t *result)
{
    struct order o;
    memcpy(&o, arg->data, sizeof o);
    atomic_fetch_add(&starts[o.index], 1);
    if (o.what != ECHO)
        vandalize(&o);
    if (o.linger > 0)
        weft_sleep(o.linger);
    return weft_bytes_copy(result, &o, sizeof o);
}

struct sent {
    weft_future_t *f;
    struct order o;
    int timed;
};

static void submit_order(weft_executor_t *ex, testing_rng_t *g, struct sent *s,
                         int64_t index)
{
    memset(&s->o, 0, sizeof s->o);
    s->o.index = index;
    s->o.what =
        testing_rng_below(g, 3) ? ECHO : 1 + (int)testing_rng_below(g, 4);
    s->o.seed = testing_rng_next(g);
    s->o.linger = testing_rng_below(g, 4) == 0
                      ? (double)testing_rng_below(g, 20) * 1e-3
                      : 0;
    s->timed = testing_rng_below(g, 4) == 0;
    double timeout = s->timed ? 0.005 + (double)testing_rng_below(g, 50) * 1e-3
                              : WEFT_FOREVER;
    int rc = weft_process_pool_submit_timeout(ex, vandal, &s->o, sizeof s->o,
                                              timeout, &s->f);
    if (rc)
        fail_msg("submit: %s", weft_last_message());
}

/* An echo that succeeded must carry its own order back; any failure must
 * be one of the pool's clean codes. */
static void check_sent(struct sent *s, _Atomic uint32_t *notes, size_t *bad)
{
    if (weft_future_wait(s->f, 30 * testing_scale()) != 0)
        fail_msg("task %lld never completed", (long long)s->o.index);
    const weft_bytes_t *r;
    int rc = weft_future_result_bytes(s->f, 0, &r);
    uint32_t n = atomic_load(&notes[s->o.index]);
    if (n > 1)
        fail_msg("task %lld ran %u times", (long long)s->o.index, n);
    if (rc == 0) {
        if (r->len != sizeof s->o || memcmp(r->data, &s->o, sizeof s->o))
            fail_msg("task %lld (%d) came back with %zu wrong bytes",
                     (long long)s->o.index, s->o.what, r->len);
    } else if (rc == WEFT_EPROTO || rc == WEFT_EWORKERDIED ||
               (rc == WEFT_ETIMEDOUT && s->timed)) {
        (*bad)++;
    } else {
        fail_msg("task %lld: %s (%s)", (long long)s->o.index, weft_errname(rc),
                 weft_last_message());
    }
    weft_future_free(s->f);
}

static void worker_channels(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/weft-torture-garbage-%ld",
             (long)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, POOL_TASKS * sizeof *starts), 0);
    _Atomic uint32_t *notes = mmap(NULL, POOL_TASKS * sizeof *starts,
                                   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(notes != MAP_FAILED);
    weft_process_pool_opts_t o = {0};
    o.max_workers = 2;
    o.initializer = map_starts;
    o.initarg = path;
    o.initarg_len = strlen(path) + 1;
    weft_executor_t *ex;
    assert_int_equal(weft_process_pool_new(&ex, &o), 0);
    testing_rng_t g;
    testing_rng_init(&g, 11);
    struct sent *sent = calloc(POOL_TASKS, sizeof *sent);
    size_t n = 0, done = 0, bad = 0;
    double end = weft_monotonic() + phase_seconds();
    while (weft_monotonic() < end && n < POOL_TASKS) {
        size_t batch = 1 + testing_rng_below(&g, 16);
        for (size_t i = 0; i < batch && n < POOL_TASKS; i++, n++)
            submit_order(ex, &g, &sent[n], (int64_t)n);
        if (testing_rng_below(&g, 2)) /* now and then, wait for them all */
            for (; done < n; done++)
                check_sent(&sent[done], notes, &bad);
    }
    for (; done < n; done++)
        check_sent(&sent[done], notes, &bad);
    weft_executor_free(ex);
    fprintf(stderr, "torture_garbage: pool: %zu tasks, %zu failed cleanly\n", n,
            bad);
    free(sent);
    munmap((void *)notes, POOL_TASKS * sizeof *starts);
    unlink(path);
}

/* ----- The manager's socket ----- */

static weft_connection_t *raw_client(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    weft_connection_t *c;
    assert_int_equal(weft_connection_new_fd(&c, fd), 0);
    return c;
}

/* The server must hang up on c: what it still sends, then the end. */
static void assert_dropped(weft_connection_t *c)
{
    for (;;) {
        if (weft_connection_poll(c, 10 * testing_scale()) != 0)
            fail_msg("the manager kept a client that sent garbage");
        weft_bytes_t b = {0};
        int rc = weft_connection_recv_bytes(c, &b);
        weft_bytes_free(&b);
        if (rc == WEFT_EEOF || rc == WEFT_EPROTO || rc == WEFT_ESYS)
            return;
        assert_int_equal(rc, 0);
    }
}

/* Send what is not a frame (or a frame cut short) and close the sending
 * side, so the server reads to the end of it. */
static void send_garbage(weft_connection_t *c, testing_rng_t *g)
{
    unsigned char noise[256];
    size_t n = 1 + testing_rng_below(g, sizeof noise);
    fill_noise(g, noise, n);
    if (testing_rng_below(g, 2)) { /* a frame's head, cut short */
        weft__frame_header(noise, (uint32_t)(n + testing_rng_below(g, 1000)));
        n = n < WEFT__FRAME_HEADER ? WEFT__FRAME_HEADER : n;
    }
    ssize_t w = write(weft_connection_fileno(c), noise, n);
    (void)w;
    shutdown(weft_connection_fileno(c), SHUT_WR);
}

static void after_handshake(weft_connection_t *c, const unsigned char *key,
                            testing_rng_t *g)
{
    assert_int_equal(weft__mgr_auth_client(c, key), 0);
    size_t requests = testing_rng_below(g, 8);
    for (size_t i = 0; i < requests; i++) {
        unsigned char req[64];
        size_t n = testing_rng_below(g, sizeof req);
        fill_noise(g, req, n);
        if (n > 0 && req[0] == OP_SHUTDOWN)
            req[0] = 0;
        assert_int_equal(weft_connection_send_bytes(c, req, n), 0);
        weft_bytes_t resp = {0};
        assert_int_equal(weft_connection_recv_bytes(c, &resp), 0);
        assert_true(resp.len >= 4);
        weft_bytes_free(&resp);
    }
    if (testing_rng_below(g, 2)) {
        unsigned char h[WEFT__FRAME_HEADER];
        weft__frame_header(h, (uint32_t)WEFT__MGR_MAX_MESSAGE + 1);
        ssize_t w = write(weft_connection_fileno(c), h, sizeof h);
        (void)w;
    } else {
        send_garbage(c, g);
    }
}

static void manager_socket(void)
{
    static const char key[] = "torture";
    weft_manager_t *m;
    assert_int_equal(weft_manager_start(&m, NULL, key, sizeof key - 1), 0);
    unsigned char k[WEFT__MGR_KEY_BYTES];
    assert_int_equal(weft__mgr_derive_key(key, sizeof key - 1, k), 0);
    weft_dict_proxy_t *d;
    assert_int_equal(weft_manager_dict(m, &d), 0);
    testing_rng_t g;
    testing_rng_init(&g, 12);
    size_t clients = 0;
    double end = weft_monotonic() + phase_seconds();
    do {
        weft_connection_t *c = raw_client(weft_manager_address(m));
        if (testing_rng_below(&g, 2))
            send_garbage(c, &g);
        else
            after_handshake(c, k, &g);
        assert_dropped(c);
        weft_connection_free(c);
        /* And the manager serves its honest clients meanwhile. */
        int64_t v = 0;
        assert_int_equal(weft_dict_proxy_add(d, "n", 1, 1, &v), 0);
        assert_int_equal(v, (int64_t)++clients);
    } while (weft_monotonic() < end);
    fprintf(stderr, "torture_garbage: manager: %zu clients dropped\n", clients);
    weft_dict_proxy_free(d);
    weft_manager_free(m);
}

/* ----- The fork server's control socket ----- */

static int child_exits_3(const weft_bytes_t *arg)
{
    return 3;
}

static void assert_forkserver_works(void)
{
    weft_context_t *ctx;
    weft_get_context(&ctx, "forkserver");
    weft_process_t *p;
    assert_int_equal(
        weft_context_process_new(ctx, &p, child_exits_3, NULL, 0, NULL), 0);
    if (weft_process_start(p) != 0)
        fail_msg("the fork server failed: %s", weft_last_message());
    assert_int_equal(weft_process_join(p, 20 * testing_scale()), 0);
    int code = 0;
    weft_process_exitcode(p, &code);
    assert_int_equal(code, 3);
    weft_process_free(p);
}

/* The fork server's control socket: this process's one SOCK_SEQPACKET. */
static int control_socket(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;
    while (d && (e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name), type = 0;
        socklen_t len = sizeof type;
        if (e->d_name[0] != '.' && fd != dirfd(d) &&
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
            type == SOCK_SEQPACKET)
            found = fd;
    }
    if (d)
        closedir(d);
    return found;
}

static void forkserver_socket(void)
{
    assert_forkserver_works(); /* the server is running */
    int ctl = control_socket();
    assert_true(ctl >= 0);
    testing_rng_t g;
    testing_rng_init(&g, 13);
    size_t sent = 0;
    double end = weft_monotonic() + phase_seconds();
    do {
        for (int i = 0; i < 8; i++, sent++) {
            struct weft__fs_request req;
            fill_noise(&g, (unsigned char *)&req, sizeof req);
            if (testing_rng_below(&g, 2))
                req.magic = WEFT__FS_MAGIC;
            req.nfds = (uint32_t)testing_rng_below(&g, 4);
            /* Not 0 bytes: the fork server reads an empty datagram as
             * the end of its control socket (recvmsg() returns 0 for
             * both) and exits, losing a request queued behind it; its
             * next start then fails with "the fork server did not
             * answer". Left to the process layer; not sent here. */
            size_t len = 1 + testing_rng_below(&g, sizeof req);
            int chan[2] = {-1, -1};
            int attach = testing_rng_below(&g, 2);
            if (attach)
                assert_int_equal(
                    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan),
                    0);
            weft__fs_send(ctl, &req, len, &chan[1], attach ? 1 : 0);
            if (attach) {
                /* A child that may have started reads noise as its
                 * specification, and then the end. */
                unsigned char noise[64];
                fill_noise(&g, noise, sizeof noise);
                ssize_t w = write(chan[0], noise, sizeof noise);
                (void)w;
                close(chan[0]);
                close(chan[1]);
            }
        }
        assert_forkserver_works();
    } while (weft_monotonic() < end);
    fprintf(stderr, "torture_garbage: fork server: %zu requests of noise\n",
            sent);
}

/* ----- A Connection ----- */

static void connection(void)
{
    testing_rng_t g;
    testing_rng_init(&g, 14);
    size_t runs = 0;
    double end = weft_monotonic() + phase_seconds();
    do {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                         0);
        weft_connection_t *rx, *tx;
        assert_int_equal(weft_connection_new_fd(&rx, sv[0]), 0);
        assert_int_equal(weft_connection_new_fd(&tx, sv[1]), 0);
        size_t good = testing_rng_below(&g, 8);
        for (size_t i = 0; i < good; i++)
            assert_int_equal(weft_connection_send_bytes(tx, &i, sizeof i), 0);
        int clean = testing_rng_below(&g, 4) == 0;
        if (!clean)
            send_garbage(tx, &g);
        weft_connection_free(tx);
        for (size_t i = 0; i < good; i++) {
            size_t v = 99, n = 0;
            assert_int_equal(weft_connection_poll(rx, 10 * testing_scale()), 0);
            assert_int_equal(
                weft_connection_recv_bytes_into(rx, &v, sizeof v, &n), 0);
            assert_int_equal(v, i);
        }
        assert_int_equal(weft_connection_poll(rx, 10 * testing_scale()), 0);
        weft_bytes_t b = {0};
        int rc = weft_connection_recv_bytes(rx, &b);
        weft_bytes_free(&b);
        if (clean)
            assert_int_equal(rc, WEFT_EEOF);
        else if (rc != WEFT_EPROTO && rc != WEFT_EMSGSIZE)
            fail_msg("garbage gave %s (%s)", weft_errname(rc),
                     weft_last_message());
        weft_connection_free(rx);
        runs++;
    } while (weft_monotonic() < end);
    fprintf(stderr, "torture_garbage: connection: %zu streams\n", runs);
}

static void every_socket_refuses_garbage_cleanly(void **state)
{
    worker_channels();
    manager_socket();
    forkserver_socket();
    connection();
}

int main(void)
{
    testing_seed();
    const struct CMUnitTest tests[] = {
        testing_proc_test(every_socket_refuses_garbage_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
