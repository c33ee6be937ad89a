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
 * Around each task it records in the shared page which task runs and since
 * when (see procpool_int.h): with the staged frames, that tells the pool,
 * after any death, exactly what finished and what was running.
 *
 * A worker ignores SIGINT (the pool's parent decides what Ctrl-C does) and
 * ends on EXIT, at the end of its input, or after max_tasks tasks.
 */
#include "procpool_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define FLUSH_AGE_NS 50000 /* 50 us */

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
    struct fn_entry *fns;
    size_t nfns;
    uint32_t max_tasks, done;
};

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

static int flush(struct worker *w)
{
    if (w->staged == 0)
        return 0;
    int rc = send_all(w->sock, w->shm->stage, w->staged);
    w->staged = 0;
    /* Release: pairs with the pool's acquire load after a death; the
     * frames were in the socket before the count went back to 0. */
    atomic_store_explicit(&w->shm->staged, 0, memory_order_release);
    return rc;
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
    if (flush(w) || send_all(w->sock, fr, sizeof *fr) ||
        send_all(w->sock, body, len) || send_all(w->sock, zeros, fr->h.pad))
        return -1;
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
    size_t total = sizeof(struct weft__pp_result_frame) + len;
    size_t pad = padding(total);
    if (total + pad > WEFT__PP_FRAME_MAX)
        return stage(w, FRAME_ERROR, WEFT_EMSGSIZE, id, run_ns,
                     "the result is over 4 GiB", 24);
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

static int learn_fn(struct worker *w, const unsigned char *frame,
                    const struct weft__pp_head *h)
{
    struct weft__pp_fn_frame ff;
    memcpy(&ff, frame, sizeof ff);
    if (ff.fn >= w->nfns) {
        size_t n = (size_t)ff.fn + 16;
        struct fn_entry *fns = realloc(w->fns, n * sizeof *fns);
        if (fns == NULL)
            return -1;
        memset(fns + w->nfns, 0, (n - w->nfns) * sizeof *fns);
        w->fns = fns;
        w->nfns = n;
    }
    weft_bytes_t ref = {(unsigned char *)frame + sizeof ff,
                        weft__pp_body_len(h, sizeof ff)};
    weft_any_fn fn = NULL;
    if (weft_fn_resolve(&ref, &fn) == 0)
        w->fns[ff.fn].fn = (weft_bytes_fn)fn;
    else
        w->fns[ff.fn].error = strdup(weft_last_message());
    return 0;
}

/* ----- Running ----- */

static int run_task(struct worker *w, const unsigned char *frame,
                    const struct weft__pp_head *h)
{
    struct weft__pp_task_frame tf;
    memcpy(&tf, frame, sizeof tf);
    struct fn_entry *e = tf.fn < w->nfns ? &w->fns[tf.fn] : NULL;
    if (e == NULL || e->fn == NULL) {
        const char *why = e && e->error ? e->error : "unknown function";
        return stage(w, FRAME_ERROR, WEFT_EINVAL, tf.id, 0, why,
                     strlen(why) + 1);
    }
    int64_t t0 = weft_monotonic_ns();
    atomic_store_explicit(&w->shm->started_ns, t0, memory_order_relaxed);
    /* Release: the start time is there before the id that it goes with. */
    atomic_store_explicit(&w->shm->running, tf.id, memory_order_release);
    weft_bytes_t arg = {(unsigned char *)frame + sizeof tf,
                        weft__pp_body_len(h, sizeof tf)};
    if (h->type == FRAME_TASK_BULK) {
        struct weft__pp_bulk_task_frame bf;
        memcpy(&bf, frame, sizeof bf);
        if (!weft__pp_bulk_valid(&bf.b))
            return -1; /* a broken stream */
        arg = (weft_bytes_t){weft__pp_arg_ring(w->shm) + bf.b.off, bf.b.len};
    }
    if (arg.len == 0)
        arg.data = NULL;
    weft_bytes_t result = {NULL, 0};
    weft_clear_message();
    int code = e->fn(&arg, &result);
    int64_t run_ns = weft_monotonic_ns() - t0;
    fflush(stdout);
    int rc;
    if (code == 0) {
        rc = stage(w, FRAME_RESULT, 0, tf.id, run_ns, result.data, result.len);
    } else {
        const char *m = weft_last_message();
        if (m[0] == '\0')
            m = weft_strerror(code);
        rc = stage(w, FRAME_ERROR, code, tf.id, run_ns, m, strlen(m) + 1);
    }
    weft_bytes_free(&result);
    /* Release: the result is staged before the task stops counting as
     * running (the pool reads the page in the other order). */
    atomic_store_explicit(&w->shm->running, 0, memory_order_release);
    w->done++;
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
 * (EXIT, or max_tasks done), -1 on a broken stream. */
static int run_frames(struct worker *w)
{
    struct weft__pp_buf *b = &w->in;
    struct weft__pp_head h;
    int got;
    if (b->data == NULL)
        return 1;
    while ((got = weft__pp_next_frame(b->data + b->off, b->len - b->off, &h)) ==
           1) {
        const unsigned char *frame = b->data + b->off;
        int rc = 0;
        if (h.type == FRAME_EXIT)
            return 0;
        if (h.type == FRAME_FN)
            rc = learn_fn(w, frame, &h);
        else if (h.type == FRAME_TASK || h.type == FRAME_TASK_BULK)
            rc = maybe_flush(w) || run_task(w, frame, &h);
        else
            rc = -1;
        if (rc)
            return -1;
        b->off += h.size;
        if (w->max_tasks && w->done >= w->max_tasks)
            return 0;
    }
    return got < 0 ? -1 : 1;
}

/* Read more input: without waiting first; if there is none, write what
 * is staged and wait. Returns the bytes read, 0 at the end. */
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
    if (n > 0)
        b->len += (size_t)n;
    return n;
}

static int serve(struct worker *w)
{
    for (;;) {
        int rc = run_frames(w);
        if (rc <= 0)
            return rc;
        if (w->in.off == w->in.len)
            w->in.off = w->in.len = 0;
        if (read_more(w) <= 0)
            return 0;
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
    stage(w, FRAME_INIT_FAILED, code, 0, 0, m, strlen(m) + 1);
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
    struct worker w = {.sock = a.sock, .max_tasks = a.max_tasks};
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
    flush(&w);
    release(&w);
    return rc == 0 ? 0 : 1;
}
