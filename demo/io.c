/* SPDX-License-Identifier: MIT */
/* The I/O-bound section: the seeds' downloads (urlretrieve of ten images in
 * seed 003, urlopen of seven pages in seed 000, download() in seed 002),
 * against a web server that answers each request after a delay: serially,
 * one thread per request, a thread pool, and one coroutine per request,
 * for 10 to 10,000 requests at once.
 *
 * The server is weft's own (weft_http_serve: a coroutine per connection)
 * in a process of its own, so that the clients' measurements are the
 * clients' alone. Each measurement runs in a fresh child process too, so
 * that what one form leaves behind (cached thread stacks, a grown heap)
 * does not flatter the next: the child notes its resident memory before,
 * its peak after (getrusage), and the most requests it had in flight at
 * once; the difference over that count is the memory each request in
 * flight costs. The same client call serves every form: weft_http_request
 * blocks a thread, or suspends a coroutine.
 *
 * The Python side (examples/python/downloads.py) runs the same forms
 * against the same server, one fresh interpreter per measurement, and
 * measures itself the same way. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "demo.h"

#define IMAGE_SIZE 2048
#define POOL_WORKERS 100 /* the thread pool's size */
#define BUDGET 3.0       /* a form runs when it should end within this */
#define REQUEST_LIMIT 30.0

static const unsigned counts[] = {10, 100, 1000, 10000};
#define NCOUNTS (sizeof counts / sizeof counts[0])

enum form { SERIAL, THREADS, THREAD_POOL, COROUTINES, NFORMS };
static const char *const form_names[NFORMS] = {"serial", "threads",
                                               "thread_pool", "coroutines"};

/* ----- The server (in its own process) ----- */

struct server_arg {
    weft_share_t conn; /* where the port goes */
    double delay;
};

static int answer_slowly(const weft_http_message_t *req, weft_stream_t *s,
                         void *arg)
{
    static unsigned char image[IMAGE_SIZE];
    weft_sleep(*(const double *)arg); /* this connection's task waits */
    return weft_http_write_response(s, 200, "Content-Type: image/jpeg\r\n",
                                    image, sizeof image, 0);
}

/* The server process: serves until it is terminated. */
int demo_io_server(const weft_bytes_t *arg)
{
    struct server_arg a;
    memcpy(&a, arg->data, sizeof a);
    weft_connection_t *c;
    if (weft_connection_from_share(&c, &a.conn) != 0)
        return 1;
    weft_loop_t *loop;
    weft_server_t *server = NULL;
    int32_t port = -1;
    if (weft_loop_new(&loop) == 0 &&
        weft_http_serve(&server, loop, "127.0.0.1", 0, answer_slowly,
                        &a.delay) == 0)
        port = weft_server_port(server);
    weft_connection_send_bytes(c, &port, sizeof port);
    weft_connection_free(c);
    if (port < 0)
        return 1;
    weft_loop_run_forever(loop);
    return 0;
}

/* ----- The clients (each measurement in its own process) ----- */

struct client_arg {
    weft_share_t conn; /* where the result goes */
    uint32_t form, requests, pool_workers;
    int32_t port;
};

struct client_result {
    double seconds, cpu_seconds, base_kib, peak_kib;
    uint32_t ok, failed, in_flight, started;
    char note[160];
};

/* The client's counts. Only counts: no other data passes through them, so
 * relaxed order will do; they are read once every thread is joined (or
 * every task gathered), which orders those reads after every update. */
static struct client {
    int port;
    _Atomic unsigned in_flight, peak, ok, failed;
} client;

static void enter(void)
{
    unsigned now =
        atomic_fetch_add_explicit(&client.in_flight, 1, memory_order_relaxed) +
        1;
    unsigned peak = atomic_load_explicit(&client.peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &client.peak, &peak, now, memory_order_relaxed,
                             memory_order_relaxed))
        ;
}

/* downloadImage(url, fileName), without the file. */
static int download(void *arg, void **result)
{
    char target[32];
    snprintf(target, sizeof target, "/image-%ld.jpg", (long)(intptr_t)arg);
    enter();
    weft_http_message_t resp;
    int rc = weft_http_request("GET", "127.0.0.1", client.port, target, NULL, 0,
                               REQUEST_LIMIT, &resp);
    atomic_fetch_sub_explicit(&client.in_flight, 1, memory_order_relaxed);
    int good = rc == 0 && resp.status == 200 && resp.body_len == IMAGE_SIZE;
    if (rc == 0)
        weft_http_message_clear(&resp);
    atomic_fetch_add_explicit(good ? &client.ok : &client.failed, 1,
                              memory_order_relaxed);
    return rc;
}

static void serially(unsigned n, struct client_result *r)
{
    for (unsigned i = 0; i < n; i++)
        download((void *)(intptr_t)i, NULL);
    r->started = n;
}

/* One thread per download, as seed 003's executeThread. Threads that
 * cannot be made are counted, not hidden: the note says where the machine
 * ran out. */
static void with_threads(unsigned n, struct client_result *r)
{
    weft_thread_t **t = calloc(n, sizeof *t);
    unsigned started = 0;
    for (; t && started < n; started++)
        if (weft_thread_new(&t[started], download, (void *)(intptr_t)started,
                            NULL) != 0 ||
            weft_thread_start(t[started]) != 0) {
            demo_note(r->note, sizeof r->note, "ran out at %u threads: %s",
                      started, weft_last_message());
            weft_thread_free(t[started]);
            break;
        }
    for (unsigned i = 0; i < started; i++) {
        weft_thread_join(t[i], WEFT_FOREVER);
        weft_thread_free(t[i]);
    }
    free(t);
    r->started = started;
}

static void with_thread_pool(unsigned n, unsigned workers,
                             struct client_result *r)
{
    weft_executor_t *ex;
    weft_future_t **f = calloc(n, sizeof *f);
    if (f == NULL ||
        weft_thread_pool_new(
            &ex, &(weft_thread_pool_opts_t){.max_workers = workers}) != 0) {
        demo_note(r->note, sizeof r->note, "no pool: %s", weft_last_message());
        free(f);
        return;
    }
    unsigned submitted = 0;
    for (; submitted < n; submitted++)
        if (weft_executor_submit(ex, download, (void *)(intptr_t)submitted,
                                 &f[submitted]) != 0)
            break;
    for (unsigned i = 0; i < submitted; i++) {
        weft_future_wait(f[i], WEFT_FOREVER);
        weft_future_free(f[i]);
    }
    weft_executor_free(ex);
    free(f);
    r->started = submitted;
}

struct gather_job {
    unsigned n, started;
};

static int all_tasks(void *arg, void **result)
{
    struct gather_job *g = arg;
    weft_future_t **f = calloc(g->n, sizeof *f);
    if (f == NULL)
        return WEFT_ENOMEM;
    for (; g->started < g->n; g->started++)
        if (weft_task_create(&f[g->started], NULL, download,
                             (void *)(intptr_t)g->started) != 0)
            break;
    int rc = weft_gather(f, g->started, 1, NULL, NULL);
    for (unsigned i = 0; i < g->started; i++)
        weft_future_free(f[i]);
    free(f);
    return rc;
}

/* One coroutine per download, gathered (asyncio.gather). */
static void with_coroutines(unsigned n, struct client_result *r)
{
    struct gather_job g = {n, 0};
    if (weft_run(all_tasks, &g, NULL) != 0)
        demo_note(r->note, sizeof r->note, "%s", weft_last_message());
    r->started = g.started;
}

static double peak_kib(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? (double)u.ru_maxrss : 0;
}

static double cpu_seconds(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return 0;
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
           (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/* The client process: one form, n downloads, the result sent back. */
int demo_io_client(const weft_bytes_t *arg)
{
    struct client_arg a;
    memcpy(&a, arg->data, sizeof a);
    weft_connection_t *c;
    if (weft_connection_from_share(&c, &a.conn) != 0)
        return 1;
    client.port = a.port;
    struct client_result r = {.base_kib = demo_rss_kib()};
    double c0 = cpu_seconds(), t0 = weft_monotonic();
    switch (a.form) {
    case SERIAL:
        serially(a.requests, &r);
        break;
    case THREADS:
        with_threads(a.requests, &r);
        break;
    case THREAD_POOL:
        with_thread_pool(a.requests, a.pool_workers, &r);
        break;
    default:
        with_coroutines(a.requests, &r);
        break;
    }
    r.seconds = weft_monotonic() - t0;
    r.cpu_seconds = cpu_seconds() - c0;
    r.peak_kib = peak_kib();
    r.ok = atomic_load_explicit(&client.ok, memory_order_relaxed);
    r.failed = atomic_load_explicit(&client.failed, memory_order_relaxed);
    r.in_flight = atomic_load_explicit(&client.peak, memory_order_relaxed);
    int rc = weft_connection_send_bytes(c, &r, sizeof r);
    weft_connection_free(c);
    return rc != 0;
}

/* ----- The parent: starting the processes, reading their answers ----- */

/* Start target in a child process with arg (a struct whose first member
 * is the share of a new pipe's sending end); *rx receives the parent's
 * receiving end. */
static int start_child(weft_process_fn target, void *arg, size_t len,
                       weft_process_t **p, weft_connection_t **rx)
{
    weft_connection_t *tx;
    if (weft_pipe(rx, &tx, 0) != 0)
        return -1;
    weft_share_t *h = arg;
    int rc = weft_connection_share(tx, h);
    if (rc == 0)
        rc = weft_process_new(p, target, arg, len, NULL);
    if (rc == 0 &&
        (weft_process_pass(*p, h) != 0 || weft_process_start(*p) != 0)) {
        weft_process_free(*p);
        rc = -1;
    }
    weft_connection_free(tx); /* the child's copy is its own */
    if (rc != 0)
        weft_connection_free(*rx);
    return rc == 0 ? 0 : -1;
}

/* Receive one message of exactly len bytes within limit seconds. */
static int receive(weft_connection_t *rx, void *buf, size_t len, double limit)
{
    size_t got;
    if (weft_connection_poll(rx, limit) != 0 ||
        weft_connection_recv_bytes_into(rx, buf, len, &got) != 0)
        return -1;
    if (got != len) {
        weft_fail(WEFT_EPROTO, "an answer of %zu bytes, not %zu", got, len);
        return -1;
    }
    return 0;
}

static void stop_child(weft_process_t *p, double grace)
{
    if (weft_process_join(p, grace) != 0) {
        weft_process_kill(p);
        weft_process_join(p, WEFT_FOREVER);
    }
    weft_process_free(p);
}

typedef struct site {
    weft_process_t *proc;
    int port;
} site_t;

static int open_site(site_t *s, double delay)
{
    struct server_arg a = {.delay = delay};
    weft_connection_t *rx;
    if (start_child(demo_io_server, &a, sizeof a, &s->proc, &rx) != 0)
        return -1;
    int32_t port = -1;
    int rc = receive(rx, &port, sizeof port, 30);
    weft_connection_free(rx);
    if (rc != 0 || port <= 0) {
        weft_process_kill(s->proc);
        stop_child(s->proc, WEFT_FOREVER);
        return -1;
    }
    s->port = port;
    return 0;
}

static void close_site(site_t *s)
{
    weft_process_terminate(s->proc);
    stop_child(s->proc, 5);
}

/* ----- Recording ----- */

static io_run_t *add_io(demo_t *d, const char *impl, enum form form,
                        unsigned requests)
{
    if (d->nio == DEMO_MAX_IO)
        return NULL;
    io_run_t *r = &d->io[d->nio++];
    *r = (io_run_t){.requests = requests,
                    .seconds = -1,
                    .kib_per_request = -1,
                    .cpu_ms_per_request = -1};
    demo_copy(r->impl, sizeof r->impl, impl);
    demo_copy(r->form, sizeof r->form, form_names[form]);
    return r;
}

static void fill_costs(io_run_t *r, double base, double peak, double cpu)
{
    if (r->in_flight > 0 && peak > 0 && peak >= base)
        r->kib_per_request = (peak - base) / r->in_flight;
    if (r->requests > 0 && cpu >= 0)
        r->cpu_ms_per_request = cpu * 1000 / r->requests;
}

/* How long a form should take, if every request took the delay alone. */
static double estimate(const demo_t *d, enum form form, unsigned n)
{
    if (form == SERIAL)
        return n * d->io_delay;
    if (form == THREAD_POOL)
        return (n + d->io_pool_workers - 1) / d->io_pool_workers * d->io_delay;
    return d->io_delay;
}

static int skip(const demo_t *d, io_run_t *r, enum form form, unsigned n)
{
    double t = estimate(d, form, n);
    if (t <= BUDGET)
        return 0;
    if (form == SERIAL)
        demo_note(r->note, sizeof r->note,
                  "not run: %u x %.2f s would take %.0f s", n, d->io_delay, t);
    else
        demo_note(r->note, sizeof r->note,
                  "not run: %u requests on %u threads would take %.0f s", n,
                  d->io_pool_workers, t);
    return 1;
}

static void weft_measure(demo_t *d, const site_t *s, enum form form, unsigned n)
{
    io_run_t *r = add_io(d, DEMO_WEFT, form, n);
    if (r == NULL || skip(d, r, form, n))
        return;
    struct client_arg a = {.form = form,
                           .requests = n,
                           .pool_workers = d->io_pool_workers,
                           .port = s->port};
    weft_process_t *p;
    weft_connection_t *rx;
    double before = demo_probe(d, 2);
    if (start_child(demo_io_client, &a, sizeof a, &p, &rx) != 0) {
        demo_note(r->note, sizeof r->note, "no client process: %s",
                  weft_last_message());
        return;
    }
    struct client_result res;
    double limit = estimate(d, form, n) + REQUEST_LIMIT + 30;
    int got = receive(rx, &res, sizeof res, limit);
    double after = demo_probe(d, 2);
    r->available = before < after ? before : after;
    if (got == 0) {
        r->seconds = res.seconds;
        r->ok = res.ok;
        r->failed = res.failed + (n - res.started);
        r->in_flight = res.in_flight;
        fill_costs(r, res.base_kib, res.peak_kib, res.cpu_seconds);
        demo_copy(r->note, sizeof r->note, res.note);
    } else {
        demo_note(r->note, sizeof r->note, "the client process failed");
        weft_process_kill(p);
    }
    weft_connection_free(rx);
    stop_child(p, 10);
}

static void python_measure(demo_t *d, const site_t *s, enum form form,
                           unsigned n)
{
    io_run_t *r = add_io(d, DEMO_PYTHON, form, n);
    if (r == NULL || skip(d, r, form, n))
        return;
    char url[64], count[16], workers[16];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", s->port);
    snprintf(count, sizeof count, "%u", n);
    snprintf(workers, sizeof workers, "%u", d->io_pool_workers);
    const char *args[] = {url, form_names[form], count, workers, NULL};
    char *out, line[512], v[64];
    double limit = estimate(d, form, n) + REQUEST_LIMIT + 60;
    int rc = python_run(d, "downloads.py", args, limit, &out, r->note,
                        sizeof r->note);
    const char *pos = out;
    if (rc == 0 && result_next(&pos, line, sizeof line)) {
        r->seconds = result_field(line, "seconds", v, sizeof v) ? atof(v) : -1;
        r->ok = result_field(line, "ok", v, sizeof v) ? atoi(v) : 0;
        r->failed = result_field(line, "failed", v, sizeof v) ? atoi(v) : 0;
        r->in_flight =
            result_field(line, "in_flight", v, sizeof v) ? atoi(v) : 0;
        double base = result_field(line, "base_kib", v, sizeof v) ? atof(v) : 0;
        double peak = result_field(line, "peak_kib", v, sizeof v) ? atof(v) : 0;
        double cpu =
            result_field(line, "cpu_seconds", v, sizeof v) ? atof(v) : -1;
        fill_costs(r, base, peak, cpu);
        if (result_field(line, "note", v, sizeof v))
            demo_copy(r->note, sizeof r->note, v);
    } else if (r->note[0] == '\0') {
        demo_note(r->note, sizeof r->note, "Python failed (status %d)", rc);
    }
    free(out);
}

/* Each request needs a descriptor in the client and one in the server. */
static unsigned fd_room(void)
{
    struct rlimit l;
    if (getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur == RLIM_INFINITY)
        return 1u << 30;
    return l.rlim_cur > 64 ? (unsigned)(l.rlim_cur - 64) : 0;
}

void demo_io(demo_t *d)
{
    double s = d->opts.scale < 0.2 ? 0.2
               : d->opts.scale > 1 ? 1
                                   : d->opts.scale;
    d->io_delay = 0.25 * s;
    d->io_pool_workers = POOL_WORKERS;
    unsigned most = d->opts.requests               ? d->opts.requests
                    : d->opts.scale * 10000 > 1000 ? d->opts.scale * 10000
                                                   : 1000;
    demo_say(d,
             "io: downloads from a server that answers after %.2f s, "
             "up to %u at once",
             d->io_delay, most < 10000 ? most : 10000);
    site_t site;
    if (open_site(&site, d->io_delay) != 0) {
        io_run_t *r = add_io(d, DEMO_WEFT, SERIAL, counts[0]);
        if (r)
            demo_note(r->note, sizeof r->note, "no server: %s",
                      weft_last_message());
        return;
    }
    for (size_t c = 0; c < NCOUNTS && counts[c] <= most; c++) {
        unsigned n = counts[c];
        if (n > fd_room()) {
            demo_say(d,
                     "  %u requests need %u descriptors: the limit is "
                     "lower; skipped",
                     n, n + 64);
            break;
        }
        demo_say(d, "  %u requests", n);
        for (int f = 0; f < NFORMS; f++)
            weft_measure(d, &site, (enum form)f, n);
        if (d->python.found)
            for (int f = 0; f < NFORMS; f++)
                python_measure(d, &site, (enum form)f, n);
    }
    close_site(&site);
}
