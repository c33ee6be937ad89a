/* SPDX-License-Identifier: MIT */
/* The worker process: runs the tasks the pool sends it, in order.
 *
 * It reads as much as its socket holds, runs every complete task frame,
 * and stages each result frame in the shared page, publishing how many
 * bytes are staged after each one. Staged frames go to the socket when the
 * input runs dry, when they fill half the staging area, or when the oldest
 * has waited FLUSH_AGE_NS: under load, one write carries many results;
 * idle, each result goes at once. A result too big for the staging area
 * goes straight to the socket, after what was staged before it, so results
 * always arrive in task order; a large one goes to the result ring when it
 * fits there (see procpool_int.h), staged as a small frame naming it. A
 * task's argument is read in place when it comes in the argument ring.
 *
 * Around each task it records its progress in the shared page (see
 * Progress in procpool_int.h): the task's number once it starts, and once
 * its result is staged or sent. With the staged frames, that tells the
 * pool, after any death, exactly what finished and what was running.
 *
 * The task's code runs here and may close or write the worker's
 * descriptors. The socket is moved to a high number, out of reach of code
 * that closes or reuses the low ones; if it fails all the same (a read or
 * write refused), the worker records the fault in its page and exits at
 * once, leaving what it staged for the pool to read: it never drops a
 * result, and never goes on with a channel it cannot trust. Input that is
 * not the pool's frames (someone else read from or wrote to the socket) is
 * such a fault too. Bytes the task writes into the socket are not seen
 * here (looking would cost a system call per task): they reach the pool,
 * whose reader refuses them (see procpool_int.h).
 *
 * A worker ignores SIGINT (the pool's parent decides what Ctrl-C does) and
 * ends on EXIT, at the end of its input, or after max_tasks tasks.
 */
#include "procpool_int.h"

#include "base/chaos.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define FLUSH_AGE_NS 50000 /* 50 us */
/* The socket goes just below this number (or the descriptor limit): above
 * select()'s 1024 and the ranges code closes by habit, while the table of
 * descriptors stays small. */
#define HIGH_FD 4096

struct fn_entry {
    weft_bytes_fn fn;
    char *error; /* why it could not be resolved */
};

struct worker {
    int sock;
    struct weft__pp_shared *shm;
    struct weft__pp_buf in;
    size_t staged;
    int64_t first_staged;
    uint64_t bulk_head; /* the result ring's */
    uint64_t seq;       /* tasks begun */
    struct fn_entry *fns;
    size_t nfns;
    uint32_t max_tasks, done;
};

/* Record why the worker cannot go on; -1, for the caller to return. */
static int fault(struct worker *w, uint32_t why)
{
    if (atomic_load_explicit(&w->shm->fault, memory_order_relaxed) == 0)
        atomic_store_explicit(&w->shm->fault, why, memory_order_release);
    return -1;
}

/* ----- Writing ----- */

static int send_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write what is staged. If the socket refuses, the staged frames stay
 * where the pool reads them after the worker's death. */
static int flush(struct worker *w)
{
    if (w->staged == 0)
        return 0;
    if (send_all(w->sock, w->shm->stage, w->staged) != 0)
        return fault(w, WEFT__PP_FAULT_CHANNEL);
    w->staged = 0;
    /* Release: pairs with the pool's acquire loads (weft__pp_progress);
     * the frames were in the socket before the count went back to 0. */
    atomic_store_explicit(&w->shm->staged, 0, memory_order_release);
    return 0;
}

static size_t padding(size_t len)
{
    return (WEFT__PP_ALIGN - len % WEFT__PP_ALIGN) % WEFT__PP_ALIGN;
}

/* A result frame too big for the staging area: straight to the socket. */
static int send_direct(struct worker *w, struct weft__pp_result_frame *fr,
                       const void *body, size_t len)
{
    static const unsigned char zeros[WEFT__PP_ALIGN];
    if (flush(w))
        return -1;
    if (send_all(w->sock, fr, sizeof *fr) || send_all(w->sock, body, len) ||
        send_all(w->sock, zeros, fr->h.pad))
        return fault(w, WEFT__PP_FAULT_CHANNEL);
    return 0;
}

static int stage(struct worker *w, int type, int code, uint64_t id,
                 int64_t run_ns, const void *body, size_t len);

/* A large result into the result ring, if it fits now: 1 when staged
 * there (or 0 and nothing done). */
static int stage_bulk(struct worker *w, uint64_t id, int64_t run_ns,
                      const void *body, size_t len, int *rc)
{
    uint64_t read =
        atomic_load_explicit(&w->shm->bulk_read, memory_order_acquire);
    int64_t off = weft__pp_ring_take(&w->bulk_head, read, len);
    if (off < 0)
        return 0;
    memcpy(weft__pp_result_ring(w->shm) + off, body, len);
    struct weft__pp_bulk b = {(uint64_t)off, len, w->bulk_head};
    *rc = stage(w, FRAME_RESULT_BULK, 0, id, run_ns, &b, sizeof b);
    return 1;
}

static int stage(struct worker *w, int type, int code, uint64_t id,
                 int64_t run_ns, const void *body, size_t len)
{
    int rc;
    if (type == FRAME_RESULT && len >= WEFT__PP_BULK_MIN &&
        stage_bulk(w, id, run_ns, body, len, &rc))
        return rc;
    if (len > WEFT__PP_PAYLOAD_MAX) {
        static const char too_big[] = "the result is over 1 GiB";
        return stage(w, FRAME_ERROR, WEFT_EMSGSIZE, id, run_ns, too_big,
                     sizeof too_big);
    }
    size_t total = sizeof(struct weft__pp_result_frame) + len;
    size_t pad = padding(total);
    total += pad;
    struct weft__pp_result_frame fr = {
        {(uint32_t)total, (uint16_t)type, (uint16_t)pad},
        code,
        0,
        id,
        (uint64_t)run_ns};
    if (total > WEFT__PP_STAGE_CAP / 2)
        return send_direct(w, &fr, body, len);
    if (w->staged + total > WEFT__PP_STAGE_CAP && flush(w))
        return -1;
    unsigned char *at = w->shm->stage + w->staged;
    memcpy(at, &fr, sizeof fr);
    if (len)
        memcpy(at + sizeof fr, body, len);
    memset(at + sizeof fr + len, 0, pad);
    if (w->staged == 0)
        w->first_staged = weft_monotonic_ns();
    w->staged += total;
    /* Release: the frame is in place before the count says so. */
    atomic_store_explicit(&w->shm->staged, w->staged, memory_order_release);
    return 0;
}

/* ----- Functions ----- */

static int learn_fn(struct worker *w, const struct weft__pp_frame *f)
{
    uint32_t id = f->u.fn.fn;
    if (id >= w->nfns) {
        size_t n = (size_t)id + 16;
        struct fn_entry *fns = realloc(w->fns, n * sizeof *fns);
        if (fns == NULL)
            return -1;
        memset(fns + w->nfns, 0, (n - w->nfns) * sizeof *fns);
        w->fns = fns;
        w->nfns = n;
    }
    weft_bytes_t ref = {(unsigned char *)f->body, f->body_len};
    weft_any_fn fn = NULL;
    free(w->fns[id].error);
    w->fns[id].error = NULL;
    if (weft_fn_resolve(&ref, &fn) == 0)
        w->fns[id].fn = (weft_bytes_fn)fn;
    else
        w->fns[id].error = strdup(weft_last_message());
    return 0;
}

/* ----- Running ----- */

/* Publish that task number seq has started (see Progress). */
static void begin(struct worker *w, uint64_t seq, int64_t t0)
{
    atomic_store_explicit(&w->shm->started_ns, t0, memory_order_relaxed);
    /* Release: the start time is there before the number it goes with. */
    atomic_store_explicit(&w->shm->started, seq, memory_order_release);
    WEFT_CHAOS_POINT();
}

/* Publish that task number seq's result is staged or sent. */
static void end(struct worker *w, uint64_t seq)
{
    WEFT_CHAOS_POINT();
    /* Release: the result is staged (with the staged count that says so)
     * or written before the number says so; pairs with the pool's acquire
     * load of finished (weft__pp_progress). */
    atomic_store_explicit(&w->shm->finished, seq, memory_order_release);
}

/* Stage the outcome of a task: its result, or its error's message. */
static int stage_outcome(struct worker *w, uint64_t id, int code,
                         int64_t run_ns, const weft_bytes_t *result)
{
    if (code == 0)
        return stage(w, FRAME_RESULT, 0, id, run_ns, result->data, result->len);
    const char *m = weft_last_message();
    if (m[0] == '\0')
        m = weft_strerror(code);
    return stage(w, FRAME_ERROR, code, id, run_ns, m, strlen(m) + 1);
}

/* The task's argument: in the frame, or in the argument ring. */
static weft_bytes_t argument(struct worker *w, const struct weft__pp_frame *f)
{
    weft_bytes_t arg = {(unsigned char *)f->body, f->body_len};
    if (f->h.type == FRAME_TASK_BULK) {
        const struct weft__pp_bulk *b = &f->u.bulk_task.b;
        arg = (weft_bytes_t){weft__pp_arg_ring(w->shm) + b->off, b->len};
    }
    if (arg.len == 0)
        arg.data = NULL;
    return arg;
}

/* Run one task and stage its outcome. Its number is published as started
 * before its code runs, and as finished only once its outcome is safe:
 * a worker that cannot stage or send it quits with the task still
 * counted as running, so the pool fails it rather than run it again. */
static int run_task(struct worker *w, const struct weft__pp_frame *f)
{
    const struct weft__pp_task_frame *tf = &f->u.task;
    uint64_t seq = ++w->seq;
    int64_t t0 = weft_monotonic_ns();
    begin(w, seq, t0);
    struct fn_entry *e = tf->fn < w->nfns ? &w->fns[tf->fn] : NULL;
    int rc;
    if (e == NULL || e->fn == NULL) {
        const char *why = e && e->error ? e->error : "unknown function";
        rc =
            stage(w, FRAME_ERROR, WEFT_EINVAL, tf->id, 0, why, strlen(why) + 1);
    } else {
        weft_bytes_t arg = argument(w, f);
        weft_bytes_t result = {NULL, 0};
        weft_clear_message();
        int code = e->fn(&arg, &result);
        int64_t run_ns = weft_monotonic_ns() - t0;
        fflush(stdout);
        rc = stage_outcome(w, tf->id, code, run_ns, &result);
        weft_bytes_free(&result);
        w->done++;
    }
    if (rc == 0)
        end(w, seq);
    return rc;
}

/* Before a task: write what is staged if it is big or old enough. */
static int maybe_flush(struct worker *w)
{
    if (w->staged == 0)
        return 0;
    if (w->staged >= WEFT__PP_STAGE_CAP / 2 ||
        weft_monotonic_ns() - w->first_staged >= FLUSH_AGE_NS)
        return flush(w);
    return 0;
}

/* Run the complete frames in the input. Returns 1 to go on, 0 to exit
 * (EXIT, or max_tasks done), -1 when the worker cannot go on. */
static int run_frames(struct worker *w)
{
    struct weft__pp_buf *b = &w->in;
    struct weft__pp_frame f;
    const char *why;
    int got;
    if (b->data == NULL)
        return 1;
    while ((got = weft__pp_read_frame(b->data + b->off, b->len - b->off,
                                      WEFT__PP_TO_WORKER, &f, &why)) == 1) {
        int rc = 0;
        if (f.h.type == FRAME_EXIT)
            return 0;
        if (f.h.type == FRAME_FN)
            rc = learn_fn(w, &f);
        else
            rc = maybe_flush(w) || run_task(w, &f);
        if (rc)
            return -1;
        b->off += f.h.size;
        if (w->max_tasks && w->done >= w->max_tasks)
            return 0;
    }
    return got < 0 ? fault(w, WEFT__PP_FAULT_INPUT) : 1;
}

/* Read more input: without waiting first; if there is none, write what
 * is staged and wait. Returns the bytes read, 0 at the end of the input,
 * -1 when the socket fails (a fault: the worker cannot go on). */
static ssize_t read_more(struct worker *w)
{
    struct weft__pp_buf *b = &w->in;
    if (weft__pp_buf_reserve(b, READ_CHUNK))
        return -1;
    ssize_t n = recv(w->sock, b->data + b->len, b->cap - b->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (flush(w))
            return -1;
        do
            n = recv(w->sock, b->data + b->len, b->cap - b->len, 0);
        while (n < 0 && errno == EINTR);
    }
    if (n < 0)
        return fault(w, WEFT__PP_FAULT_CHANNEL);
    b->len += (size_t)n;
    return n;
}

/* 0 at a normal end, -1 when the worker cannot go on. */
static int serve(struct worker *w)
{
    for (;;) {
        int rc = run_frames(w);
        if (rc <= 0)
            return rc;
        if (w->in.off == w->in.len)
            w->in.off = w->in.len = 0;
        ssize_t n = read_more(w);
        if (n <= 0)
            return n < 0 ? -1 : 0;
    }
}

/* ----- Start ----- */

static int initialize(struct worker *w, const weft_bytes_t *ref,
                      const weft_bytes_t *initarg)
{
    weft_any_fn fn;
    int code = weft_fn_resolve(ref, &fn);
    weft_bytes_t result = {NULL, 0};
    if (code == 0) {
        weft_clear_message();
        code = ((weft_bytes_fn)fn)(initarg, &result);
        weft_bytes_free(&result);
    }
    fflush(stdout);
    if (code == 0)
        return 0;
    const char *m = weft_last_message();
    if (m[0] == '\0')
        m = weft_strerror(code);
    if (stage(w, FRAME_INIT_FAILED, code, 0, 0, m, strlen(m) + 1) == 0)
        flush(w);
    return -1;
}

static int parse_arg(const weft_bytes_t *arg, struct weft__pp_worker_arg *a,
                     weft_bytes_t *ref, weft_bytes_t *initarg)
{
    if (arg->len < sizeof *a)
        return -1;
    memcpy(a, arg->data, sizeof *a);
    if (a->magic != WEFT__PP_WORKER_MAGIC ||
        (uint64_t)a->init_ref_len + a->initarg_len != arg->len - sizeof *a)
        return -1;
    *ref = (weft_bytes_t){arg->data + sizeof *a, a->init_ref_len};
    *initarg =
        (weft_bytes_t){arg->data + sizeof *a + a->init_ref_len, a->initarg_len};
    if (initarg->len == 0)
        initarg->data = NULL;
    return 0;
}

/* Move fd to a high number, close-on-exec (see HIGH_FD); where that
 * fails, it stays where it is. */
static int move_high(int fd)
{
    struct rlimit rl;
    long top = HIGH_FD;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur < top)
        top = (long)rl.rlim_cur;
    if (top - 16 <= fd)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, (int)(top - 16));
    if (high < 0)
        return fd;
    close(fd);
    return high;
}

static void release(struct worker *w)
{
    for (size_t i = 0; i < w->nfns; i++)
        free(w->fns[i].error);
    free(w->fns);
    weft__pp_buf_free(&w->in);
    munmap(w->shm, WEFT__PP_MAP_SIZE);
    close(w->sock);
}

int weft__pp_worker_main(const weft_bytes_t *arg)
{
    struct weft__pp_worker_arg a;
    weft_bytes_t ref, initarg;
    if (parse_arg(arg, &a, &ref, &initarg) != 0) {
        fprintf(stderr, "weft: a process pool worker got a bad argument\n");
        return 2;
    }
    signal(SIGINT, SIG_IGN);
    fcntl(a.sock, F_SETFD, FD_CLOEXEC);
    struct worker w = {.sock = move_high(a.sock), .max_tasks = a.max_tasks};
    w.shm = mmap(NULL, WEFT__PP_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                 a.shm, 0);
    close(a.shm);
    if (w.shm == MAP_FAILED) {
        fprintf(stderr, "weft: a process pool worker cannot map its page\n");
        return 2;
    }
    int rc = ref.len ? initialize(&w, &ref, &initarg) : 0;
    if (rc == 0)
        rc = serve(&w);
    if (flush(&w) != 0)
        rc = -1;
    release(&w);
    return rc == 0 ? 0 : 1;
}
