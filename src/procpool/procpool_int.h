/* SPDX-License-Identifier: MIT */
/* Inside the procpool layer only: the protocol between the pool and its
 * workers, and the pool's own state.
 *
 * Design.
 *
 * Protocol. Each worker has a socket pair of its own with the pool (a
 * stream: frames carry their size) and a small shared page (a memfd). The
 * pool sends FN frames (a function's reference under an id the pool
 * assigns, once per function and worker), TASK frames (id, function id,
 * argument) and EXIT. A worker reads as much as is there, runs every
 * complete TASK in order, and appends a RESULT (or ERROR: code and message)
 * frame per task to a staging area in the shared page; it writes the
 * staged frames to the socket when its input runs dry, or when they are
 * older than a few tens of microseconds or fill half the area (batching
 * under load, one write per task when idle).
 *
 * Large payloads. Behind the shared page the same memfd holds two rings
 * (WEFT__PP_BULK bytes each, pages touched only as used): the pool copies
 * an argument of BULK_MIN bytes or more into the argument ring and sends a
 * TASK_BULK frame naming where it is (the worker reads it in place); a
 * worker copies such a result into the result ring and stages a
 * RESULT_BULK frame (the pool copies it out). One copy each way instead of
 * three through the socket and its buffers, and no wait for the socket's
 * buffer to drain. Both rings free their space in task order, which is the
 * order of results: the pool frees an argument's space when the task's
 * result comes (or a later one's); it publishes in the page how far it
 * has read the result ring. A payload that does not fit goes through the
 * socket, as before; a dead worker's rings go with its memfd.
 *
 * Progress. The worker numbers the tasks it is sent, 1, 2, ... in the
 * order they come (the pool numbers them the same way: a task's seq), and
 * publishes in the shared page how many it has started (with when the last
 * one started) and how many it has finished (its result staged or sent).
 * It publishes a start before it runs the task, and a finish only once the
 * result is safe: staged in the page, or written whole to the socket. So,
 * at any time, the pool knows which task a worker runs (the one numbered
 * started, if started > finished), which ones it will never start (those
 * numbered above started), and that the results of the others exist. A
 * worker that dies loses nothing it finished: its results are in the
 * socket or in the staging area, which the pool reads after the death (a
 * result seen twice is ignored: only a task still in flight takes one).
 *
 * A task is never run twice. After a death, only the tasks numbered above
 * started go back to the queue; the running one fails (WEFT_EWORKERDIED,
 * or why the pool killed it), and so does a finished one whose result
 * cannot be found (WEFT_EPROTO): it ran. A page that contradicts what the
 * pool sent (the task's code can write anywhere in its worker's memory)
 * makes every task the worker was sent fail rather than run again.
 *
 * A hostile or careless task. The task's code runs in the worker, and may
 * close or write the worker's descriptors. The worker moves its socket to
 * a high descriptor number, out of the way of code that closes or reuses
 * the low ones. A worker whose socket fails (closed, or refusing a read or
 * a write) records the fault in its page and exits, its staging area
 * intact: its finished results still come back, and its running task
 * fails. The pool's reader checks every frame (protocol.c): a frame of the
 * wrong type or size, longer than anything a worker sends, or with a field
 * a worker never writes so (reserved words and padding are zero, a result
 * has code 0 and an error not), and a result that is not for the first
 * task in flight (results come in task order), is a protocol error at once
 * (the worker is killed and replaced, its tasks fail with WEFT_EPROTO),
 * never a wait for bytes. Bytes written into the
 * stream can also make a frame look longer than what follows it; the pool
 * sees that as a worker that, by its page, has sent a result (finished
 * covers it and nothing is staged) that the socket, read dry, did not
 * bring: it is killed too. Such a check that cannot conclude yet (results
 * still staged) is made again from the timer, so a stall always ends.
 *
 * A task's states, as the pool sees them (all under the pool's lock):
 *   PENDING    in the pending queue (future PENDING);
 *   IN FLIGHT  on a worker's list, in the order sent: written to its socket
 *              or in the pool's buffer for it (future PENDING, except the
 *              list's head, which is marked RUNNING when it becomes the
 *              head: the task the worker runs or is about to);
 *   DONE       off every list, its outcome in the task, completed (with
 *              the future's callbacks) after the lock is released.
 * A worker's states: LIVE (in the epoll set, taking tasks), DYING (its
 * death is being handled by one pumper: it is joined, its socket and
 * staging area read, its running task failed and the others put back at
 * the front of the pending queue) and GONE (off its slot; freed when the
 * last reference, a direct reader's, goes).
 *
 * Why nothing accepted is lost: a task is always on exactly one list (the
 * pending queue, one worker's in-flight list) or done; a worker leaves
 * LIVE only through death handling, which empties its list; and
 * destroying the pool fails whatever is left with WEFT_ECANCELLED.
 *
 * Pumping. An epoll set holds every worker's socket and sentinel (pidfd),
 * an eventfd for control (stop requests, shutdown, SIGINT) and a timerfd
 * for task deadlines. A manager thread waits on it. A thread that waits on
 * one of the pool's futures (the future class's wait hook) instead polls
 * the socket and sentinel of the worker that runs its task, and reads the
 * results itself, so that it is woken by the worker and not by the
 * manager (one wake-up instead of two). While it does, the epoll set stops
 * watching that socket (one reader a worker; another waiter parks), so
 * the manager never takes the data from under it and leaves it asleep. Any
 * pumper reads and parses under the pool's lock into a list of done tasks, and
 * completes them after releasing it (callbacks run user code).
 *
 * Why no wake-up is lost: a worker with tasks in flight has its socket in
 * the epoll set, level-triggered, and the manager always waits on it,
 * except while one direct reader polls it instead; that reader reads
 * whatever comes, completing other threads' futures too (they park on
 * their futures), and hands the socket back to the epoll set, still
 * level-triggered, before it leaves. Tasks buffered for a worker
 * that has tasks in flight are written when its next results arrive; a
 * worker with nothing in flight is written to at once. Pending tasks exist
 * only while every live worker has its fill in flight, and each result
 * refills the worker that sent it.
 *
 * Lock order: the pool's lock, then a process handle's lock (kill). The
 * future's internal lock is taken under the pool's (weft_future_try_start),
 * never the other way round: the stop hook only sets a flag and writes the
 * eventfd.
 */
#ifndef WEFT_PROCPOOL_INT_H
#define WEFT_PROCPOOL_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "weft/park.h"
#include "weft/process.h"
#include "weft/procpool.h"
#include "weft/sync.h"
#include "weft/thread.h"

/* ----- Buffers ----- */

/* Bytes from off to len are pending (unread or unwritten). */
struct weft__pp_buf {
    unsigned char *data;
    size_t off, len, cap;
};

/* Room for n more bytes at the end; 0 or WEFT_ENOMEM. */
int weft__pp_buf_reserve(struct weft__pp_buf *b, size_t n);
/* Drop the consumed prefix (moving the rest to the front). */
void weft__pp_buf_compact(struct weft__pp_buf *b);
void weft__pp_buf_free(struct weft__pp_buf *b);

/* ----- Frames ----- */

enum {
    FRAME_FN = 1,      /* pool -> worker: u32 fn id, then the reference */
    FRAME_TASK,        /* pool -> worker: u32 fn id, u64 task id, then arg */
    FRAME_EXIT,        /* pool -> worker: finish and exit */
    FRAME_RESULT,      /* worker -> pool: the result bytes follow */
    FRAME_ERROR,       /* worker -> pool: the message follows */
    FRAME_INIT_FAILED, /* worker -> pool: code, then the message */
    FRAME_TASK_BULK,   /* pool -> worker: a task whose argument is in the
                          argument ring */
    FRAME_RESULT_BULK  /* worker -> pool: a result in the result ring */
};

/* Every frame starts with its whole size, its type, and how many bytes
 * of padding end it: frames are padded to 16 bytes, so that in a buffer
 * that starts at a frame, every frame's body (a task's argument) starts
 * aligned for any type, as memory from malloc() does. */
#define WEFT__PP_ALIGN 16

struct weft__pp_head {
    uint32_t size;
    uint16_t type;
    uint16_t pad;
};

struct weft__pp_fn_frame {
    struct weft__pp_head h;
    uint32_t fn;
    uint32_t pad_;
};

struct weft__pp_task_frame {
    struct weft__pp_head h;
    uint32_t fn;
    uint32_t pad_;
    uint64_t id;
};

struct weft__pp_result_frame {
    struct weft__pp_head h;
    int32_t code;
    uint32_t pad_;
    uint64_t id;
    uint64_t run_ns; /* how long the task ran */
};

/* Where a payload lies in a ring, and (results) the ring's head after it,
 * which is how far the pool has read once it has copied it. */
struct weft__pp_bulk {
    uint64_t off, len, end;
};

struct weft__pp_bulk_task_frame {
    struct weft__pp_task_frame t;
    struct weft__pp_bulk b;
};

struct weft__pp_bulk_result_frame {
    struct weft__pp_result_frame r;
    struct weft__pp_bulk b;
};

/* The largest argument or result of a task (1 GiB): the pool refuses a
 * larger argument, and a worker a larger result, with WEFT_EMSGSIZE; so a
 * frame that claims more was not written by either, and a reader refuses
 * it at once rather than wait for bytes that no honest peer sends. */
#define WEFT__PP_PAYLOAD_MAX ((size_t)1 << 30)

/* The largest frame: a payload, the largest fixed part, and padding. */
#define WEFT__PP_FRAME_MAX (WEFT__PP_PAYLOAD_MAX + 128)

/* Which way a frame goes: each side accepts only the other's types. */
enum { WEFT__PP_TO_WORKER, WEFT__PP_TO_POOL };

/* A frame, checked: its head, its fixed part (copied out, since frames
 * need not be aligned) and its body (borrowed from the bytes read). */
struct weft__pp_frame {
    struct weft__pp_head h;
    union {
        struct weft__pp_fn_frame fn;
        struct weft__pp_task_frame task;
        struct weft__pp_bulk_task_frame bulk_task;
        struct weft__pp_result_frame result;
        struct weft__pp_bulk_result_frame bulk_result;
    } u;
    const unsigned char *body;
    size_t body_len;
};

/* Read the frame at the start of data (len bytes), going the way dir
 * says: 1 (a complete frame, in *f; it is f->h.size bytes), 0 (not
 * complete yet: more bytes may complete it), -1 (malformed: *why says
 * how, in static text). The head is checked as soon as it is in (type,
 * size, padding, the cap), so a frame that cannot be valid is refused
 * before its body is awaited. Never reads past data + len. */
int weft__pp_read_frame(const unsigned char *data, size_t len, int dir,
                        struct weft__pp_frame *f, const char **why);

/* Append a frame of type with fixed part fixed (fixed_len bytes, head
 * included, filled in here), body and padding to b. Errors: WEFT_ENOMEM,
 * WEFT_EMSGSIZE (a body over WEFT__PP_PAYLOAD_MAX). */
int weft__pp_put_frame(struct weft__pp_buf *b, uint32_t type, void *fixed,
                       size_t fixed_len, const void *body, size_t body_len);

/* ----- The shared page ----- */

#define WEFT__PP_SHM_SIZE (128 * 1024)
#define WEFT__PP_BULK (8 * 1024 * 1024) /* each ring */
#define WEFT__PP_BULK_MIN (64 * 1024)   /* smaller payloads: the socket */
#define WEFT__PP_MAP_SIZE (WEFT__PP_SHM_SIZE + 2 * WEFT__PP_BULK)

/* The rings behind the page at p. */
static inline unsigned char *weft__pp_arg_ring(void *p)
{
    return (unsigned char *)p + WEFT__PP_SHM_SIZE;
}

static inline unsigned char *weft__pp_result_ring(void *p)
{
    return (unsigned char *)p + WEFT__PP_SHM_SIZE + WEFT__PP_BULK;
}

/* Room for len bytes in a ring whose live bytes run from position tail to
 * *head (positions only grow; the offset is position % WEFT__PP_BULK): the
 * offset of the room, *head moved past it, or -1 when it does not fit now.
 * A payload never wraps: it skips the ring's end when it must. */
int64_t weft__pp_ring_take(uint64_t *head, uint64_t tail, size_t len);

/* Whether b names bytes inside a ring. */
static inline int weft__pp_bulk_valid(const struct weft__pp_bulk *b)
{
    return b->off <= WEFT__PP_BULK && b->len <= WEFT__PP_BULK - b->off;
}

/* Written by the worker, read by the pool (see Progress above). started
 * and started_ns form a pair: the worker writes started_ns then started;
 * the pool reads started, started_ns, started again and trusts the pair
 * when both reads agree. */
struct weft__pp_shared {
    _Atomic uint64_t started;   /* tasks begun (the last one's number) */
    _Atomic int64_t started_ns; /* when the last one began (monotonic) */
    _Atomic uint64_t finished;  /* tasks whose result is staged or sent */
    _Atomic uint64_t staged;    /* bytes of frames in stage, not written */
    _Atomic uint64_t bulk_read; /* the pool has read the result ring to */
    _Atomic uint32_t fault;     /* why the worker quit on its own */
    uint32_t pad0;
    uint64_t pad[2];
    unsigned char stage[];
};

/* Faults a worker records before it quits. */
enum {
    WEFT__PP_FAULT_CHANNEL = 1, /* its socket failed: closed, or refused */
    WEFT__PP_FAULT_INPUT        /* what it read was not the pool's frames */
};

#define WEFT__PP_STAGE_CAP (WEFT__PP_SHM_SIZE - sizeof(struct weft__pp_shared))

/* ----- The worker's side (worker.c) ----- */

/* What a worker process is given (its process argument), followed by the
 * initializer's reference and argument. */
struct weft__pp_worker_arg {
    uint32_t magic;
    int32_t sock;
    int32_t shm;
    uint32_t max_tasks; /* 0: none */
    uint32_t init_ref_len;
    uint32_t initarg_len;
};

#define WEFT__PP_WORKER_MAGIC 0x31575057u /* "WPW1" */

/* The worker process's target. */
int weft__pp_worker_main(const weft_bytes_t *arg);

/* ----- The pool's side ----- */

struct pp;
struct pp_worker;

/* A task: the executor's part of a future of the pool's class. */
struct pp_task {
    struct pp_task *next; /* in the pending queue, an in-flight list, or a
                             list of done tasks */
    struct pp *pool;
    uint64_t id;
    uint32_t fn;
    weft_bytes_t arg;
    uint64_t arg_end;         /* the argument ring's head once it was sent */
    uint64_t seq;             /* its number on its worker (see Progress) */
    int64_t timeout_ns;       /* WEFT_NEVER: none */
    struct pp_worker *worker; /* while in flight */
    _Atomic int stop;         /* weft_future_stop() asked while running */
    int code;                 /* once done: 0, or the error */
    int stopped;              /* the pool ends it: the future is cancelled */
    weft_bytes_t out;         /* once done: the result, or the message */
};

static inline struct pp_task *weft__pp_task(weft_future_t *f)
{
    return (struct pp_task *)weft_future_extra(f);
}

static inline weft_future_t *weft__pp_future(struct pp_task *t)
{
    return (weft_future_t *)((unsigned char *)t - WEFT_FUTURE_SIZE);
}

extern const weft_future_class_t weft__pp_task_class;

enum { W_LIVE, W_DYING, W_GONE };

struct pp_worker {
    struct pp *pool;
    unsigned slot;
    uint32_t gen;
    unsigned refs; /* the slot's, the death handler's, direct readers' */
    weft_process_t *proc;
    int pid;
    int sock; /* the pool's end, non-blocking */
    int sentinel;
    struct weft__pp_shared *shm;
    int state;
    struct pp_task *head, *tail; /* in flight, in the order sent */
    size_t inflight;
    size_t sent;    /* tasks sent over its life (max_tasks_per_child) */
    unsigned timed; /* tasks in flight with a timeout */
    uint64_t arg_head, arg_tail; /* its argument ring (see Design) */
    struct weft__pp_buf out;     /* to write to it */
    struct weft__pp_buf in;      /* read from it, not parsed */
    unsigned char *known; /* known[id]: it has the function's reference */
    size_t known_cap;
    int want_out;       /* it has bytes to write that its socket did not take */
    int in_epoll;       /* its socket is in the epoll set */
    uint32_t events;    /* what the epoll set watches its socket for */
    int reader;         /* a waiting thread reads it: the epoll set does not */
    int exiting;        /* sent EXIT, or retiring after max_tasks_per_child */
    size_t results;     /* results it has sent */
    int kill_code;      /* why the pool killed it: ETIMEDOUT, ECANCELLED,
                           EPROTO (what it sent), EBROKEN */
    uint64_t kill_task; /* the task it was killed for (0: all) */
    char kill_why[96];  /* EPROTO: what was wrong with what it sent */
    int recheck;        /* a result is due that has not come (see pump) */
};

/* A worker's progress as its page says: finished is read before staged,
 * so that staged == 0 means that every result up to finished is in the
 * socket, or was read from it. */
struct weft__pp_progress {
    uint64_t started, finished, staged;
    int64_t started_ns;
};

struct pp_fn {
    weft_bytes_fn fn;
    weft_bytes_t ref;
    char name[64];
};

struct pp {
    /* The executor's reference and one per task not yet destroyed: the
     * struct outlives every future of the pool (a waiter's hook reads it),
     * though its workers, thread and descriptors go at destroy. */
    _Atomic uint32_t refs;
    weft_lock_t lock;
    /* Options. */
    unsigned max_workers;
    weft_context_t *ctx;
    unsigned max_tasks;
    int64_t timeout_ns; /* each task's default; WEFT_NEVER: none */
    weft_bytes_t init_ref, initarg;
    /* Workers. */
    struct pp_worker **slots;
    uint32_t *gens;
    unsigned live;
    _Atomic uint32_t live_word; /* live, for shutdown's waiter to park on */
    /* Tasks. */
    struct pp_task *pend_head, *pend_tail;
    uint64_t next_id;
    _Atomic uint32_t outstanding; /* tasks not done */
    struct pp_fn *fns;
    size_t nfns, fncap;
    double avg_ns; /* running average of task run times; 0: none yet */
    /* State. */
    int shutdown, closing, interrupted, terminated, torn, sigint_registered;
    int broken;
    char broken_msg[WEFT_MESSAGE_MAX];
    unsigned startup_deaths; /* workers in a row that died before working */
    /* Pumping. */
    int ep, ctl, timer;
    int64_t timer_at;
    _Atomic int quit;
    weft_thread_t *manager;
};

/* epoll data: what an event is about. */
enum { EV_SOCK = 1, EV_SENTINEL, EV_CTL, EV_TIMER, EV_SIGINT };

static inline uint64_t weft__pp_ev(unsigned kind, unsigned slot, uint32_t gen)
{
    return (uint64_t)kind << 56 | (uint64_t)slot << 32 | gen;
}

/* ----- Dispatch (dispatch.c): all under the pool's lock ----- */

/* Put t where it goes: straight to an idle worker, behind the tasks of a
 * worker below its fill, or on the pending queue. */
void weft__pp_dispatch(struct pp *pp, struct pp_task *t);

/* Fill w from the pending queue up to its share, and write what is
 * buffered for it. */
void weft__pp_refill(struct pp *pp, struct pp_worker *w);

/* Refill every live worker (after tasks went back to the queue). */
void weft__pp_refill_all(struct pp *pp);

/* Make the epoll set watch w's socket for what it needs now: nothing
 * while a direct reader has it, else input, and output while bytes wait. */
void weft__pp_watch_events(struct pp *pp, struct pp_worker *w);

/* Write what is buffered for w, as far as its socket takes it. */
void weft__pp_flush(struct pp *pp, struct pp_worker *w);

/* Read what w has sent and parse it; done tasks are pushed on *done. */
void weft__pp_pump(struct pp *pp, struct pp_worker *w, struct pp_task **done);

/* Read every byte w's socket holds (EOF or not). */
void weft__pp_read_all(struct pp *pp, struct pp_worker *w);

/* Parse the frames in data (results from w): complete frames are taken,
 * *used gets how many bytes they were. */
void weft__pp_parse(struct pp *pp, struct pp_worker *w,
                    const unsigned char *data, size_t len, size_t *used,
                    struct pp_task **done);

/* Take t off w's in-flight list (wherever it is). */
void weft__pp_unlink(struct pp_worker *w, struct pp_task *t);

/* Record t's outcome and push it on *done. */
void weft__pp_finish(struct pp_task *t, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Give the EXIT frame to the idle workers of a shut-down pool. */
void weft__pp_retire_idle(struct pp *pp);

/* Complete the done tasks, outside the lock. */
void weft__pp_complete(struct pp *pp, struct pp_task *done);

/* The pending queue: push at the back or the front, pop the front. */
void weft__pp_pend_push(struct pp *pp, struct pp_task *t);
void weft__pp_pend_push_front(struct pp *pp, struct pp_task *t);
struct pp_task *weft__pp_pend_pop(struct pp *pp);

/* Break the pool: record why, fail what is pending (onto *done) and stop
 * the workers. */
void weft__pp_break(struct pp *pp, const char *why, struct pp_task **done);

/* ----- Workers (workers.c) ----- */

/* Start a worker for slot (no lock held); then install it (taking the
 * lock). Errors: those of the process layer, WEFT_ESYS, WEFT_ENOMEM. */
int weft__pp_start_worker(struct pp *pp, unsigned slot);

/* The worker of slot if it still is gen's and LIVE (under the lock). */
struct pp_worker *weft__pp_worker_at(struct pp *pp, unsigned slot,
                                     uint32_t gen);

/* Kill w (SIGKILL) because of task (0: no task), to end code. */
void weft__pp_kill(struct pp_worker *w, int code, uint64_t task);

/* Kill w for what it sent (under the lock): its tasks fail with
 * WEFT_EPROTO, the message saying why. */
void weft__pp_protocol_error(struct pp_worker *w, const char *why);

/* Drop a reference to w (under the lock); the last closes and frees it. */
void weft__pp_worker_unref(struct pp_worker *w);

/* Handle the death of slot's worker gen (no lock held): join it, read
 * what it left, fail its running task, requeue the rest, replace it. */
void weft__pp_on_death(struct pp *pp, unsigned slot, uint32_t gen);

/* Look again at workers whose due result had not come, check the running
 * tasks against their deadlines, kill the late ones and arm the timer for
 * the next (under the lock); done tasks are pushed on *done. */
void weft__pp_check_deadlines(struct pp *pp, struct pp_task **done);

/* Arm the timer for a deadline at ns, if sooner than the one armed. */
void weft__pp_arm_timer(struct pp *pp, int64_t ns);

/* Stop the running tasks whose stop was asked (under the lock). */
void weft__pp_check_stops(struct pp *pp);

/* The task with this id on w's list, or NULL. */
struct pp_task *weft__pp_find(struct pp_worker *w, uint64_t id);

/* Read w's progress from its page. */
void weft__pp_progress(struct pp_worker *w, struct weft__pp_progress *p);

/* The task w runs now per p (NULL: none). */
struct pp_task *weft__pp_running(struct pp_worker *w,
                                 const struct weft__pp_progress *p);

/* Whether t has a timeout. */
static inline int weft__pp_timed(const struct pp_task *t)
{
    return t->timeout_ns != WEFT_NEVER;
}

/* Drop a reference to the pool's struct; the last frees it. */
void weft__pp_release(struct pp *pp);

/* Whether the pool stops rather than requeues what a dead worker had not
 * started (freed, interrupted, or its workers terminated). */
static inline int weft__pp_stopping(const struct pp *pp)
{
    return pp->closing || pp->interrupted || pp->terminated;
}

/* Cancel the pending queue (onto *done) and collect references to the
 * in-flight tasks not running (to cancel after the lock). */
void weft__pp_cancel_queued(struct pp *pp, struct pp_task **done,
                            weft_future_t ***waiting, size_t *n);

/* ----- Pumping (pump.c) ----- */

/* Start and stop the manager thread. */
int weft__pp_manager_start(struct pp *pp);
void weft__pp_manager_stop(struct pp *pp);

/* Wake the manager to look at the control state. */
void weft__pp_poke(struct pp *pp);

/* Handle one epoll event (no lock held). */
void weft__pp_event(struct pp *pp, uint64_t data, uint32_t events);

/* The wait hook of the task class. */
int weft__pp_wait(weft_future_t *f, int64_t deadline);

/* ----- SIGINT (sigint.c) ----- */

/* Register pp (its epoll set gets the SIGINT eventfd); unregister. */
int weft__pp_sigint_register(struct pp *pp);
void weft__pp_sigint_unregister(struct pp *pp);

/* Whether SIGINT came; and that pp has stopped because of it (the last
 * pool to do so lets SIGINT take its usual effect). */
int weft__pp_sigint_seen(void);
void weft__pp_sigint_done(struct pp *pp);

#endif
