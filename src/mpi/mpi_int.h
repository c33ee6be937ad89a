/* SPDX-License-Identifier: MIT */
/* Inside the mpi layer only: the transport interface, the frames the root
 * and its workers exchange, and the state of each side.
 *
 * Design.
 *
 * The executor's core (root.c, serve.c, start.c) makes no MPI call: it is
 * written against a small transport, a set of ranks that send each other
 * messages (byte strings of any size, delivered whole and, between two
 * ranks, in order). transport_mpi.c is that transport over an MPI
 * communicator; transport_local.c is one inside a process, whose "ranks"
 * are threads, so that the core is tested, sanitizers included, with no
 * MPI at all.
 *
 * A message holds one or more frames, each a fixed head and a body, padded
 * to 16 bytes so that in a received message (from malloc) every body, a
 * task's argument, is aligned for any type.
 *
 * Start-up (start.c). Each worker sends HELLO with its sorted list of task
 * names; the root compares each with its own and answers every worker with
 * START, carrying the verdict (an error code and message, or the settings
 * and the initializer); a worker that got a good START runs the
 * initializer and answers READY with its outcome. The root waits for every
 * READY before it returns, so a failed initializer has broken the executor
 * by then.
 *
 * Running (root.c, serve.c). On each rank one progress thread makes every
 * transport call. The root's sends FN (a function's reference, once per
 * function and worker), TASK and, at the end, EXIT; a worker's answers
 * RESULT or ERROR per task (in the order sent), BEAT when it has sent
 * nothing for a heartbeat period, and BYE after EXIT. Tasks run on the
 * worker's serving thread, fed by a queue from its progress thread.
 */
#ifndef WEFT_MPI_INT_H
#define WEFT_MPI_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/chaos.h"
#include "weft/mpi.h"
#include "weft/park.h"
#include "weft/process.h"
#include "weft/queue.h"
#include "weft/sync.h"
#include "weft/thread.h"

/* ----- Transport ----- */

typedef struct weft__mpi_transport weft__mpi_transport_t;

struct weft__mpi_transport_ops {
    /* Start sending msg to peer; takes msg on success (freed once sent).
     * Never blocks. Errors: WEFT_ESYS, WEFT_ENOMEM. */
    int (*send)(weft__mpi_transport_t *t, int peer, weft_bytes_t *msg);
    /* Move sends along; then, if a whole message has come, *got = 1 with
     * its sender and bytes (the caller frees them). Never blocks for long.
     * Errors: WEFT_ESYS, WEFT_ENOMEM, WEFT_ECLOSED (this rank is cut off:
     * the local transport's stand-in for death). */
    int (*poll)(weft__mpi_transport_t *t, int *peer, weft_bytes_t *msg,
                int *got);
    /* Sends not complete yet (those to abandoned peers not counted). */
    size_t (*sends_pending)(weft__mpi_transport_t *t);
    /* Give up on peer (presumed dead): its sends no longer count. */
    void (*abandon)(weft__mpi_transport_t *t, int peer);
    void (*destroy)(weft__mpi_transport_t *t);
};

struct weft__mpi_transport {
    const struct weft__mpi_transport_ops *ops;
    int rank, size;
};

/* The MPI transport over a duplicate of comm (an MPI_Comm, passed as a
 * pointer to it so that this header needs no <mpi.h>). Collective. */
int weft__mpi_transport_mpi_new(weft__mpi_transport_t **out,
                                const void *comm);

/* The largest piece one MPI message carries (tests lower it through
 * WEFT_MPI_PIECE_BYTES to exercise the splitting). */
size_t weft__mpi_piece_max(void);

/* An in-process hub of size ranks, and the transport of one of them. */
typedef struct weft__mpi_hub weft__mpi_hub_t;
int weft__mpi_hub_new(weft__mpi_hub_t **out, int size);
void weft__mpi_hub_free(weft__mpi_hub_t *hub);
int weft__mpi_transport_local_new(weft__mpi_transport_t **out,
                                  weft__mpi_hub_t *hub, int rank);
/* Cut rank off, as if it died: what it sends and what is sent to it is
 * dropped, and its own poll fails with WEFT_ECLOSED. */
void weft__mpi_hub_kill(weft__mpi_hub_t *hub, int rank);

/* ----- Frames ----- */

enum {
    F_HELLO = 1, /* worker -> root: the sorted task names, NUL-ended */
    F_START,     /* root -> worker: code (0: go on), aux heartbeat ns,
                    id the length of the initializer's reference; body the
                    reference then the initarg, or the error's message */
    F_READY,     /* worker -> root: the initializer's code and message */
    F_FN,        /* root -> worker: fn id, code FN_NAME or FN_REF, body
                    the task's name or its reference (weft_fn_locate) */
    F_TASK,      /* root -> worker: fn id, task id, body the argument */
    F_EXIT,      /* root -> worker: end once the tasks sent are done */
    F_RESULT,    /* worker -> root: task id, aux run ns, body the result */
    F_ERROR,     /* worker -> root: task id, code, body the message */
    F_BEAT,      /* worker -> root: alive */
    F_BYE        /* worker -> root: ending, nothing more comes */
};

enum { FN_NAME = 1, FN_REF = 2 };

#define WEFT__MPI_ALIGN 16

struct weft__mpi_head {
    uint64_t size; /* the whole frame: head, body and padding */
    uint64_t id;
    uint64_t aux;
    uint32_t type;
    uint32_t fn;
    int32_t code;
    uint32_t pad; /* padding bytes at the end */
    uint64_t reserved;
};

_Static_assert(sizeof(struct weft__mpi_head) % WEFT__MPI_ALIGN == 0,
               "bodies start aligned");

/* A growing buffer of frames to send. */
struct weft__mpi_out {
    weft_bytes_t b;
    size_t cap;
};

/* Append a frame (head filled in but for size and pad) with body.
 * Errors: WEFT_ENOMEM. */
int weft__mpi_put(struct weft__mpi_out *o, struct weft__mpi_head h,
                  const void *body, size_t len);
/* Hand the frames over as a message (o is left empty). */
weft_bytes_t weft__mpi_take(struct weft__mpi_out *o);
void weft__mpi_out_free(struct weft__mpi_out *o);

/* The frame at *off in msg: 1 with its head (and *body, *len), advancing
 * *off; 0 at the end; -1 when malformed. */
int weft__mpi_next(const weft_bytes_t *msg, size_t *off,
                   struct weft__mpi_head *h, const unsigned char **body,
                   size_t *len);

/* Send one frame as a message of its own. */
int weft__mpi_send_frame(weft__mpi_transport_t *t, int peer,
                         struct weft__mpi_head h, const void *body,
                         size_t len);

/* ----- Waiting without spinning (idle.c) ----- */

/* A progress thread's sleep: an eventfd that other threads write to wake
 * it, and a back-off that grows while nothing happens. */
struct weft__mpi_idle {
    int efd;
    unsigned step;
};

int weft__mpi_idle_init(struct weft__mpi_idle *w);
void weft__mpi_idle_destroy(struct weft__mpi_idle *w);
/* Wake the thread (any thread). */
void weft__mpi_idle_wake(struct weft__mpi_idle *w);
/* Something happened: the next wait starts short again. */
static inline void weft__mpi_idle_reset(struct weft__mpi_idle *w)
{
    w->step = 0;
}
/* Nothing happened: wait for the back-off's next step (at most max_ns;
 * block = wait max_ns outright), or until woken. */
void weft__mpi_idle_wait(struct weft__mpi_idle *w, int64_t max_ns, int block);
/* Let the calling thread sleep with 1 us precision. */
void weft__mpi_idle_thread_setup(void);

/* ----- Names (registry.c) ----- */

/* The registered names, sorted, each NUL-ended, in a new byte string. */
int weft__mpi_names(weft_bytes_t *out);
/* The function registered under name, or NULL. */
weft_bytes_fn weft__mpi_lookup(const char *name);
/* Whether fn is registered: 1 with its (first) name in buf. */
int weft__mpi_name_of(weft_bytes_fn fn, char *buf, size_t size);
/* Compare a worker's names with ours: 0, or WEFT_EINVAL with a message
 * naming the first difference. */
int weft__mpi_names_check(const weft_bytes_t *ours, const weft_bytes_t *theirs,
                          int root, int rank);

/* ----- Settings sent to the workers ----- */

struct weft__mpi_settings {
    int64_t heartbeat_ns;
    int64_t timeout_ns; /* WEFT_NEVER: never presumed dead */
    weft_bytes_t init_ref, initarg;
};

/* Read opts into settings (defaults for what is 0). */
int weft__mpi_settings_read(struct weft__mpi_settings *s,
                            const weft_mpi_opts_t *opts);
void weft__mpi_settings_clear(struct weft__mpi_settings *s);

/* ----- The root (root.c) ----- */

/* Called by the root's destroy once everything is done (the local mode
 * joins its worker threads; the MPI mode finalizes MPI if it began it). */
typedef void (*weft__mpi_on_destroy)(void *arg);

/* Run the start-up as root over t (taken: destroyed with the executor, or
 * here on failure) and return the executor. */
int weft__mpi_root_new(weft_executor_t **out, weft__mpi_transport_t *t,
                       const weft_mpi_opts_t *opts,
                       weft__mpi_on_destroy on_destroy, void *arg);

/* ----- A worker (serve.c) ----- */

/* Run the start-up as a worker of root over t, then serve tasks until the
 * root says EXIT (or the transport fails). t stays the caller's. */
int weft__mpi_serve(weft__mpi_transport_t *t, int root);

/* ----- In-process mode, for tests (local.c) ----- */

/* An MPI executor whose workers are nworkers threads of this process,
 * over the local transport; *hub (if not NULL) gets the hub, to kill a
 * worker (rank 1 to nworkers). Freed with weft_executor_free(). */
int weft__mpi_local_executor_new(weft_executor_t **out, unsigned nworkers,
                                 const weft_mpi_opts_t *opts,
                                 weft__mpi_hub_t **hub);

/* A wait until some transport poll gives a message (start-up only):
 * returns 0 with the message, or the transport's error. */
int weft__mpi_recv_blocking(weft__mpi_transport_t *t, int *peer,
                            weft_bytes_t *msg);

/* Poll until every send has completed, for max_ns at most (what comes
 * meanwhile is dropped): before a transport whose peers are alive is
 * destroyed, since destroy leaves the bytes of sends not complete (MPI may
 * still read them) rather than free them. */
void weft__mpi_drain_sends(weft__mpi_transport_t *t, int64_t max_ns);

/* ----- The root's state (root.c, progress.c) ----- */

struct root;
struct rworker;

/* A task: the executor's part of a future of the root's class. */
struct rtask {
    struct rtask *next; /* in the queue, a worker's list, or a done list */
    struct root *root;
    uint64_t id;
    uint32_t fn;
    weft_bytes_t arg;      /* kept until done, to resend if need be */
    struct rworker *worker; /* while in flight */
    int code;               /* once done: 0 or the error */
    int stopped;            /* ended by the executor: the future cancels */
    weft_bytes_t out;       /* once done: the result, or the message */
};

static inline struct rtask *weft__mpi_task(weft_future_t *f)
{
    return (struct rtask *)weft_future_extra(f);
}

static inline weft_future_t *weft__mpi_future(struct rtask *t)
{
    return (weft_future_t *)((unsigned char *)t - WEFT_FUTURE_SIZE);
}

enum { W_LIVE, W_DEAD };

struct rworker {
    int rank;
    int state;
    int exit_sent, bye;
    struct rtask *head, *tail; /* in flight, in the order sent */
    size_t inflight;
    unsigned char *known; /* known[fn]: it has the function's reference */
    size_t known_cap;
    int64_t last_heard;
    struct weft__mpi_out out; /* frames for it, not sent yet */
};

struct rfn {
    weft_bytes_fn fn;
    int kind;         /* FN_NAME: sent by name; FN_REF: by reference */
    weft_bytes_t ref; /* what is sent: the name (NUL-ended) or reference */
    char name[256];   /* the registered name, or the symbol's, for messages */
};

/* Lock order: the root's lock alone; no user code runs under it (futures
 * complete after it is released). The progress thread owns the transport
 * and each worker's out buffer; the lock guards the rest. */
struct root {
    _Atomic uint32_t refs; /* the executor's, and one per task */
    weft_lock_t lock;
    weft__mpi_transport_t *t;
    struct weft__mpi_settings set;
    unsigned nworkers, live;
    struct rworker *workers;
    struct rtask *pend_head, *pend_tail;
    uint64_t next_id;
    _Atomic uint32_t outstanding; /* tasks not done */
    struct rfn *fns;
    size_t nfns, fncap;
    double avg_ns; /* running average of the tasks' run times */
    int shutdown, quit, broken;
    char broken_msg[WEFT_MESSAGE_MAX];
    struct weft__mpi_idle idle;
    weft_thread_t *thread;
    weft__mpi_on_destroy on_destroy;
    void *on_destroy_arg;
};

/* The progress thread's body (progress.c). */
int weft__mpi_progress_main(void *arg, void **result);

/* Complete the done tasks, outside the lock. */
void weft__mpi_complete(struct root *r, struct rtask *done);

/* Record t's outcome (a message) and push it on *done. */
void weft__mpi_finish(struct rtask *t, int code, struct rtask **done,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The queue of tasks not sent (under the lock). */
void weft__mpi_pend_push(struct root *r, struct rtask *t);
void weft__mpi_pend_push_front(struct root *r, struct rtask *t);
struct rtask *weft__mpi_pend_pop(struct root *r);

/* Drop a reference to the root's struct; the last frees it. */
void weft__mpi_release(struct root *r);

#endif
