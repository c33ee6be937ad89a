/* SPDX-License-Identifier: MIT */
/* Queue, JoinableQueue and SimpleQueue between processes.
 *
 * Layout. A memfd holds a header page and, after it, a ring of cap bytes
 * (a power of two). Each process maps both; the descriptor travels to
 * children in a share. The ring holds records: an 8-byte length, then the
 * item, padded to 8 bytes; positions are multiples of 8, so a length never
 * wraps around the ring's end, though an item may (it is then copied in
 * two pieces).
 *
 * State. head, tail, count, unfinished and cap (struct qstate) say what
 * the ring holds (the bytes in use follow from them). They change only under
 * the header's Lock, a shared one (sync.h), and only through commit(): the new
 * state is written to the journal, the journal is marked active, the state is
 * overwritten, and the journal is marked inactive. A process that dies holding
 * the lock leaves either an inactive journal (the state is the one before its
 * call: bytes it wrote past tail are not part of any record) or an active one
 * (the state to come: recover() finishes the copy). The next process to take
 * the lock gets WEFT_EOWNERDEAD from it, and recovers before anything else.
 * So a put is in the queue from the instant its commit marks the journal
 * active, and a get takes its item at that instant: a consumer killed
 * before it has taken nothing, and the item stays for another; one killed
 * after took it. Nothing is ever half-taken.
 *
 * Growth. When a record does not fit, the ring doubles: the file grows,
 * this process maps the larger ring, copies the part of the data that
 * wrapped around the end to just past the old end (the copy is not yet
 * part of the state), and commits the new cap and tail. Other processes see
 * the new cap the next time they take the lock and map the ring again.
 * maxsize counts items; bytes are limited only by memory.
 *
 * Waiting. A getter that finds the queue empty counts itself among the
 * items waitq's sleepers, reads its seq, releases the lock and sleeps on
 * the kernel's futex of seq while it holds what it read. A putter that adds
 * an item while sleepers is nonzero moves one sleeper to woken and bumps
 * seq (under the lock, so after any sleeper's read), and once it has
 * released the lock wakes one thread with the futex. A waiter that comes
 * back, for whatever reason, takes one from woken if there is one, else
 * from sleepers: so each sleeper costs a putter one wake-up system call,
 * however many items arrive before it runs. A waiter that times out looks
 * once more under the lock before it gives up, and one that is cancelled
 * passes a wake-up on if what it waited for is there: a wake-up never stops
 * at a waiter that is leaving. Putters waiting for room (the space waitq)
 * and joiners waiting for unfinished to reach 0 (done) work the same way.
 * A waiter that dies leaves a count behind: it costs one useless wake-up,
 * which clears it. A waker that dies after its count and before its
 * wake-up call (the call is made with the lock released, so that the woken
 * does not find it held) owes a sleeper a wake-up: sleepers look at seq
 * themselves every 50 ms (sleep_on), so a death there costs at most that.
 */
#include "base/check.h"
#include "ipc_int.h"

#include "base/chaos.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUEUE_MAGIC 0x51465751u /* "QWFQ" */
#define HEADER_BYTES 4096
#define FIRST_CAP 65536
#define MAX_CAP ((uint32_t)1 << 31)
#define MAX_ITEM (MAX_CAP - 16)
#define RECORD_HEADER 8

enum { KIND_QUEUE = 1, KIND_JOINABLE, KIND_SIMPLE };

struct qstate {
    uint32_t head;       /* where the oldest record starts */
    uint32_t tail;       /* where the next record goes */
    uint32_t count;      /* records */
    uint32_t unfinished; /* JoinableQueue: puts not yet task_done'd */
    uint32_t cap;        /* bytes in the ring */
};

/* Threads waiting for one thing (see Waiting above); counts change under
 * the queue's lock. */
struct waitq {
    _Atomic uint32_t seq;
    uint32_t sleepers; /* waiting and not yet woken */
    uint32_t woken;    /* woken and not yet back */
};

/* The first 64 bytes hold what every put and get writes (the lock, the
 * state, the journal), so that a call moves one cache line between the
 * processes' CPUs; the rest is read far more often than written. */
struct qhdr {
    weft_lock_t lock;
    struct qstate state;
    _Atomic uint32_t journal_active;
    struct qstate journal;
    uint32_t magic;
    uint32_t kind;
    uint64_t maxsize;
    struct waitq items, space, done;
};

_Static_assert(offsetof(struct qhdr, journal) + sizeof(struct qstate) <= 64,
               "what put and get write fits one cache line");
_Static_assert(sizeof(struct qhdr) <= HEADER_BYTES, "header fits its page");

struct weft_proc_queue {
    int fd;
    struct qhdr *hdr;
    unsigned char *ring;
    uint32_t ring_cap;         /* what this process has mapped */
    _Atomic uint32_t last_len; /* the last item got: the next is likely alike */
};

void (*weft__proc_queue_get_hook)(const unsigned char *data, size_t len);
void (*weft__proc_queue_wake_hook)(void);

/* ----- State changes ----- */

static void commit(struct qhdr *h, const struct qstate *next)
{
    h->journal = *next;
    WEFT_CHAOS_POINT();
    /* Release: the journal (and the ring bytes written before it) are in
     * place before it counts. Pairs with the acquire in recover(). */
    atomic_store_explicit(&h->journal_active, 1, memory_order_release);
    WEFT_CHAOS_POINT(); /* a death here leaves an active journal */
    h->state = *next;
    atomic_store_explicit(&h->journal_active, 0, memory_order_release);
}

static void recover(struct qhdr *h)
{
    if (atomic_load_explicit(&h->journal_active, memory_order_acquire)) {
        h->state = h->journal;
        atomic_store_explicit(&h->journal_active, 0, memory_order_release);
    }
}

static uint32_t record_size(uint32_t len)
{
    return RECORD_HEADER + ((len + 7) & ~(uint32_t)7);
}

/* Bytes of records: tail - head around the ring; with records in and tail
 * back at head, the whole ring. */
static uint32_t used_of(const struct qstate *s)
{
    if (s->count == 0)
        return 0;
    uint32_t d = (s->tail - s->head) & (s->cap - 1);
    return d ? d : s->cap;
}

/* ----- Mapping ----- */

static int map_ring(weft_proc_queue_t *q, uint32_t cap)
{
    if (q->ring_cap == cap)
        return 0;
    void *ring = mmap(NULL, (size_t)cap, PROT_READ | PROT_WRITE, MAP_SHARED,
                      q->fd, HEADER_BYTES);
    if (ring == MAP_FAILED)
        return weft_fail(WEFT_ENOMEM, "cannot map the queue's %u bytes", cap);
    if (q->ring)
        munmap(q->ring, (size_t)q->ring_cap);
    q->ring = ring;
    q->ring_cap = cap;
    return 0;
}

static void ring_write(weft_proc_queue_t *q, uint32_t pos, const void *src,
                       uint32_t n)
{
    uint32_t cap = q->hdr->state.cap, first = cap - pos < n ? cap - pos : n;
    if (first)
        memcpy(q->ring + pos, src, (size_t)first);
    if (n > first)
        memcpy(q->ring, (const unsigned char *)src + first,
               (size_t)(n - first));
}

static void ring_read(const weft_proc_queue_t *q, uint32_t pos, void *dst,
                      uint32_t n)
{
    uint32_t cap = q->hdr->state.cap, first = cap - pos < n ? cap - pos : n;
    if (first)
        memcpy(dst, q->ring + pos, (size_t)first);
    if (n > first)
        memcpy((unsigned char *)dst + first, q->ring, (size_t)(n - first));
}

/* ----- The lock ----- */

/* Taking the queue's lock from a holder that died. The shared lock finds a
 * dead holder on its own, but only after each 50 ms slice of sleep (see
 * src/sync/lock_shared.c): where consumers die often, that is most of the
 * time. The queue's lock is held for a copy, microseconds, so a holder
 * that keeps it for HOLDER_CHECK_FIRST was preempted or is dead: a waiter
 * then asks (a try-acquire asks whether the holder's process has ended,
 * and takes the lock over if so), and asks again after waits that double
 * up to HOLDER_CHECK_MAX, so that a live holder that is slow costs the
 * waiters little. Nothing else changes: the lock itself decides who gets
 * it, and every wait still ends on a release (it is a wait on the lock). */
#define HOLDER_CHECK_FIRST 0.001
#define HOLDER_CHECK_MAX 0.016

/* Acquire the lock: 0, WEFT_EOWNERDEAD (taken over from a dead holder),
 * or WEFT_ECANCELLED. */
static int acquire(weft_lock_t *l)
{
    double wait = HOLDER_CHECK_FIRST;
    for (;;) {
        int rc = weft_lock_acquire(l, wait);
        if (rc != WEFT_ETIMEDOUT)
            return rc;
        WEFT_CHAOS_POINT();
        rc = weft_lock_acquire(l, 0); /* is the holder dead? */
        if (rc != WEFT_ETIMEDOUT)
            return rc;
        wait = wait * 2 < HOLDER_CHECK_MAX ? wait * 2 : HOLDER_CHECK_MAX;
    }
}

/* Take the queue's lock, finishing a dead holder's change, and map the ring
 * as it now is. Returns 0, or an error with the lock not held. */
static int lock_queue(weft_proc_queue_t *q)
{
    int rc = acquire(&q->hdr->lock);
    if (rc == WEFT_EOWNERDEAD) {
        recover(q->hdr);
        rc = 0;
    }
    if (rc == 0 && (rc = map_ring(q, q->hdr->state.cap)) != 0)
        weft_lock_release(&q->hdr->lock);
    return rc;
}

static void unlock_queue(weft_proc_queue_t *q)
{
    weft_lock_release(&q->hdr->lock);
}

/* Take the lock back after a wait, shielded from cancellation: the caller
 * must hold it again, whatever happened. Returns 0, or (with the lock held)
 * the error of mapping a ring that grew meanwhile. */
static int relock(weft_proc_queue_t *q)
{
    weft_cancel_scope_t shield;
    weft_cancel_scope_init(&shield);
    weft_cancel_scope_enter(&shield, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    if (acquire(&q->hdr->lock) == WEFT_EOWNERDEAD)
        recover(q->hdr);
    weft_cancel_scope_exit(&shield);
    return map_ring(q, q->hdr->state.cap);
}

/* A waker bumps seq under the lock and makes its wake-up call after
 * releasing it; one killed in between leaves a sleeper counted woken and
 * asleep. So no sleep lasts longer than WAKE_CHECK_NS at a time: at the
 * end of each slice the sleeper looks at seq itself and sleeps on only if
 * it has not moved. A wait still ends only on a bump (a wake-up owed to
 * it or to the others), its deadline or a cancel: never on the slice. */
#define WAKE_CHECK_NS ((int64_t)50 * 1000 * 1000)

static int sleep_on(struct waitq *w, uint32_t seen, int64_t deadline)
{
    for (;;) {
        int64_t now = weft_monotonic_ns();
        int64_t slice =
            deadline - now > WAKE_CHECK_NS ? now + WAKE_CHECK_NS : deadline;
        int rc = weft_park_wait_shared(&w->seq, seen, slice);
        if (rc != WEFT_ETIMEDOUT || slice >= deadline)
            return rc;
    }
}

/* Sleep until w's seq moves (or the deadline, or a cancel), the lock
 * released meanwhile and held again on return, whatever the outcome.
 * Returns 0, WEFT_ETIMEDOUT, WEFT_ECANCELLED, or a mapping error. */
static int wait_on(weft_proc_queue_t *q, struct waitq *w, int64_t deadline)
{
    w->sleepers++;
    uint32_t seen = atomic_load_explicit(&w->seq, memory_order_relaxed);
    unlock_queue(q);
    /* A putter may bump seq and wake here, before the sleep: the sleep
     * then sees seq moved and returns at once. */
    WEFT_CHAOS_POINT();
    int rc = sleep_on(w, seen, deadline);
    int mapped = relock(q);
    if (w->woken > 0)
        w->woken--;
    else if (w->sleepers > 0)
        w->sleepers--;
    return mapped ? mapped : rc;
}

/* A wait ended with something other than a wake-up, a timeout or a
 * cancel: give the lock up and pass the error on. */
static int failed_wait(weft_proc_queue_t *q, int rc)
{
    unlock_queue(q);
    return rc;
}

/* Under the lock: mark one sleeper of w (or all of them) woken and bump
 * seq; returns how many the caller must wake once it has released the
 * lock. */
static int wake_one(struct waitq *w)
{
    if (w->sleepers == 0)
        return 0;
    w->sleepers--;
    w->woken++;
    atomic_fetch_add_explicit(&w->seq, 1, memory_order_relaxed);
    return 1;
}

static int wake_all(struct waitq *w)
{
    if (w->sleepers == 0)
        return 0;
    w->woken += w->sleepers;
    w->sleepers = 0;
    atomic_fetch_add_explicit(&w->seq, 1, memory_order_relaxed);
    return INT32_MAX;
}

static void wake(struct waitq *w, int n)
{
    WEFT_CHAOS_POINT(); /* the sleeper was counted woken: it looks anyway */
    if (n && weft__proc_queue_wake_hook)
        weft__proc_queue_wake_hook();
    if (n)
        weft_park_wake_shared(&w->seq, n);
}

/* ----- Making and attaching ----- */

static int attach(weft_proc_queue_t **out, int fd)
{
    weft_proc_queue_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return weft_fail(WEFT_ENOMEM, "process queue: no memory");
    q->fd = fd;
    struct stat st;
    void *h = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size >= HEADER_BYTES + FIRST_CAP)
        h = mmap(NULL, HEADER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (h == MAP_FAILED || ((struct qhdr *)h)->magic != QUEUE_MAGIC) {
        if (h != MAP_FAILED)
            munmap(h, HEADER_BYTES);
        free(q);
        return weft_fail(WEFT_EINVAL, "no process queue behind descriptor %d",
                         fd);
    }
    q->hdr = h;
    *out = q;
    return 0;
}

static void init_header(struct qhdr *h, int kind, size_t maxsize)
{
    memset(h, 0, sizeof *h);
    h->kind = (uint32_t)kind;
    h->maxsize = kind == KIND_SIMPLE ? 0 : maxsize;
    weft_lock_init_shared(&h->lock);
    h->state.cap = FIRST_CAP;
    h->magic = QUEUE_MAGIC;
}

static int create(weft_proc_queue_t **out, int kind, size_t maxsize)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "process queue: NULL out");
    int fd = memfd_create("weft-queue", MFD_CLOEXEC);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "memfd_create: %s", strerror(errno));
    if (ftruncate(fd, HEADER_BYTES + FIRST_CAP) < 0) {
        close(fd);
        return weft_fail(WEFT_ENOMEM, "cannot size the queue");
    }
    struct qhdr *h =
        mmap(NULL, HEADER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (h == MAP_FAILED) {
        close(fd);
        return weft_fail(WEFT_ENOMEM, "cannot map the queue");
    }
    init_header(h, kind, maxsize);
    munmap(h, HEADER_BYTES);
    int rc = attach(out, fd);
    if (rc)
        close(fd);
    return rc;
}

int weft_proc_queue_new(weft_proc_queue_t **out, size_t maxsize)
{
    return create(out, KIND_QUEUE, maxsize);
}

int weft_joinable_queue_new(weft_proc_queue_t **out, size_t maxsize)
{
    return create(out, KIND_JOINABLE, maxsize);
}

int weft_proc_simple_queue_new(weft_proc_queue_t **out)
{
    return create(out, KIND_SIMPLE, 0);
}

void weft_proc_queue_free(weft_proc_queue_t *q)
{
    if (q == NULL)
        return;
    if (q->ring)
        munmap(q->ring, (size_t)q->ring_cap);
    munmap(q->hdr, HEADER_BYTES);
    close(q->fd);
    free(q);
}

/* ----- Put ----- */

static int grow(weft_proc_queue_t *q, uint32_t need)
{
    struct qhdr *h = q->hdr;
    struct qstate next = h->state;
    uint32_t used = used_of(&next);
    while (next.cap - used < need) {
        if (next.cap >= MAX_CAP)
            return weft_fail(WEFT_ENOMEM, "the queue holds 2 GiB: it cannot "
                                          "grow further");
        next.cap *= 2;
    }
    if (ftruncate(q->fd, (off_t)(HEADER_BYTES + next.cap)) < 0)
        return weft_fail(WEFT_ENOMEM, "cannot grow the queue: %s",
                         strerror(errno));
    uint32_t old = h->state.cap;
    int rc = map_ring(q, next.cap);
    if (rc)
        return rc;
    if (used == 0) {
        next.head = next.tail = 0;
    } else if (next.tail <= next.head) { /* the data wraps: unwrap it */
        memcpy(q->ring + old, q->ring, (size_t)next.tail);
        next.tail += old;
    }
    commit(h, &next);
    return 0;
}

static int put_locked(weft_proc_queue_t *q, const void *item, uint32_t len)
{
    struct qhdr *h = q->hdr;
    uint32_t need = record_size(len);
    if (h->state.cap - used_of(&h->state) < need) {
        int rc = grow(q, need);
        if (rc)
            return rc;
    }
    struct qstate next = h->state;
    uint64_t n = len;
    ring_write(q, next.tail, &n, RECORD_HEADER);
    ring_write(q, (next.tail + RECORD_HEADER) & (next.cap - 1), item, len);
    next.tail = (next.tail + need) & (next.cap - 1);
    next.count++;
    if (h->kind == KIND_JOINABLE)
        next.unfinished++;
    commit(h, &next);
    return 0;
}

static int is_full(const struct qhdr *h)
{
    return h->maxsize && h->state.count >= h->maxsize;
}

/* Under the lock: wait for room. Returns 0 with room, else an error with
 * the lock released. */
static int wait_room(weft_proc_queue_t *q, double timeout, int64_t deadline)
{
    struct qhdr *h = q->hdr;
    while (is_full(h)) {
        int rc =
            timeout == 0 ? WEFT_ETIMEDOUT : wait_on(q, &h->space, deadline);
        if (rc && rc != WEFT_ETIMEDOUT && rc != WEFT_ECANCELLED)
            return failed_wait(q, rc);
        if (rc == WEFT_ECANCELLED) {
            int n = is_full(h) ? 0 : wake_one(&h->space);
            unlock_queue(q);
            wake(&h->space, n);
            return weft_fail(rc, "put cancelled");
        }
        if (rc == WEFT_ETIMEDOUT && is_full(h)) {
            unlock_queue(q);
            return weft_fail(WEFT_EFULL, "queue is full");
        }
    }
    return 0;
}

int weft_proc_queue_put(weft_proc_queue_t *q, const void *item, size_t len,
                        double timeout)
{
    if (q == NULL || (item == NULL && len > 0))
        return weft_fail(WEFT_EINVAL, "proc_queue_put: NULL");
    if (len > MAX_ITEM)
        return weft_fail(WEFT_EMSGSIZE, "an item of %zu bytes: at most %u", len,
                         (unsigned)MAX_ITEM);
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc || (rc = lock_queue(q)) != 0)
        return rc;
    if ((rc = wait_room(q, timeout, deadline)) != 0)
        return rc;
    struct qhdr *h = q->hdr;
    rc = put_locked(q, item, (uint32_t)len);
    int n = rc == 0 ? wake_one(&h->items) : 0;
    unlock_queue(q);
    wake(&h->items, n);
    return rc;
}

int weft_proc_queue_put_nowait(weft_proc_queue_t *q, const void *item,
                               size_t len)
{
    return weft_proc_queue_put(q, item, len, 0);
}

/* ----- Get ----- */

/* Take the front item into out. spare, if not NULL, is a buffer of spare_len
 * bytes allocated before the lock was taken (so that malloc's cost stays
 * outside it): used if the item fits, and then set to NULL. */
static int get_locked(weft_proc_queue_t *q, weft_bytes_t *out,
                      unsigned char **spare, uint32_t spare_len)
{
    struct qhdr *h = q->hdr;
    struct qstate next = h->state;
    uint64_t len64;
    ring_read(q, next.head, &len64, RECORD_HEADER);
    uint32_t len = (uint32_t)len64;
    if (len64 > MAX_ITEM || record_size(len) > used_of(&next))
        return weft_fail(WEFT_EPROTO, "the queue's memory is corrupt");
    unsigned char *data = NULL;
    if (len && len <= spare_len && *spare) {
        data = *spare;
        *spare = NULL;
    } else if (len) {
        data = malloc(len);
    }
    if (len && data == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for a %u-byte item", len);
    ring_read(q, (next.head + RECORD_HEADER) & (next.cap - 1), data, len);
    if (weft__proc_queue_get_hook)
        weft__proc_queue_get_hook(data, len);
    next.count--;
    next.head =
        next.count ? (next.head + record_size(len)) & (next.cap - 1) : 0;
    if (next.count == 0)
        next.tail = 0;
    commit(h, &next);
    out->data = data;
    out->len = (size_t)len;
    return 0;
}

/* Under the lock: wait for an item. Returns 0 with one there, else an
 * error with the lock released. */
static int wait_item(weft_proc_queue_t *q, double timeout, int64_t deadline)
{
    struct qhdr *h = q->hdr;
    while (h->state.count == 0) {
        int rc =
            timeout == 0 ? WEFT_ETIMEDOUT : wait_on(q, &h->items, deadline);
        if (rc && rc != WEFT_ETIMEDOUT && rc != WEFT_ECANCELLED)
            return failed_wait(q, rc);
        if (rc == WEFT_ECANCELLED) {
            int n = h->state.count ? wake_one(&h->items) : 0;
            unlock_queue(q);
            wake(&h->items, n);
            return weft_fail(rc, "get cancelled");
        }
        if (rc == WEFT_ETIMEDOUT && h->state.count == 0) {
            unlock_queue(q);
            return weft_fail(WEFT_EEMPTY, "queue is empty");
        }
    }
    return 0;
}

int weft_proc_queue_get(weft_proc_queue_t *q, weft_bytes_t *out, double timeout)
{
    if (q == NULL || out == NULL)
        return weft_fail(WEFT_EINVAL, "proc_queue_get: NULL");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    uint32_t guess = atomic_load_explicit(&q->last_len, memory_order_relaxed);
    unsigned char *spare = guess ? malloc(guess) : NULL;
    if ((rc = lock_queue(q)) == 0 &&
        (rc = wait_item(q, timeout, deadline)) == 0) {
        struct qhdr *h = q->hdr;
        rc = get_locked(q, out, &spare, guess);
        int n = rc == 0 && h->maxsize ? wake_one(&h->space) : 0;
        unlock_queue(q);
        wake(&h->space, n);
    }
    free(spare);
    if (rc == 0)
        atomic_store_explicit(&q->last_len, (uint32_t)out->len,
                              memory_order_relaxed);
    return rc;
}

int weft_proc_queue_get_nowait(weft_proc_queue_t *q, weft_bytes_t *out)
{
    return weft_proc_queue_get(q, out, 0);
}

/* ----- Sizes ----- */

size_t weft_proc_queue_qsize(weft_proc_queue_t *q)
{
    WEFT_REFUSE_NULL_OR(q, 0);
    if (q == NULL || lock_queue(q) != 0)
        return 0;
    size_t n = (size_t)q->hdr->state.count;
    unlock_queue(q);
    return n;
}

int weft_proc_queue_empty(weft_proc_queue_t *q)
{
    WEFT_REFUSE_NULL_OR(q, 1);
    return weft_proc_queue_qsize(q) == 0;
}

int weft_proc_queue_full(weft_proc_queue_t *q)
{
    WEFT_REFUSE_NULL_OR(q, 0);
    return q && q->hdr->maxsize && weft_proc_queue_qsize(q) >= q->hdr->maxsize;
}

/* ----- JoinableQueue ----- */

static int joinable(const weft_proc_queue_t *q, const char *what)
{
    if (q == NULL)
        return weft_fail(WEFT_EINVAL, "%s: NULL queue", what);
    if (q->hdr->kind != KIND_JOINABLE)
        return weft_fail(WEFT_ENOTSUP, "%s needs a JoinableQueue", what);
    return 0;
}

int weft_proc_queue_task_done(weft_proc_queue_t *q)
{
    int rc = joinable(q, "task_done");
    if (rc || (rc = lock_queue(q)) != 0)
        return rc;
    struct qhdr *h = q->hdr;
    if (h->state.unfinished == 0) {
        unlock_queue(q);
        return weft_fail(WEFT_EINVAL, "task_done() called too many times");
    }
    struct qstate next = h->state;
    next.unfinished--;
    commit(h, &next);
    int n = next.unfinished == 0 ? wake_all(&h->done) : 0;
    unlock_queue(q);
    wake(&h->done, n);
    return 0;
}

int weft_proc_queue_join(weft_proc_queue_t *q, double timeout)
{
    int64_t deadline;
    int rc = joinable(q, "join");
    if (rc || (rc = weft_deadline(timeout, &deadline)) != 0 ||
        (rc = lock_queue(q)) != 0)
        return rc;
    struct qhdr *h = q->hdr;
    while (h->state.unfinished > 0 && rc == 0) {
        rc = timeout == 0 ? WEFT_ETIMEDOUT : wait_on(q, &h->done, deadline);
        if (rc == WEFT_ETIMEDOUT && h->state.unfinished == 0)
            rc = 0;
    }
    unlock_queue(q);
    if (rc && rc != WEFT_ETIMEDOUT && rc != WEFT_ECANCELLED)
        return rc;
    if (rc == WEFT_ETIMEDOUT)
        return weft_fail(rc, "join timed out: tasks are unfinished");
    if (rc == WEFT_ECANCELLED)
        return weft_fail(rc, "join cancelled");
    return 0;
}

/* ----- Handles ----- */

int weft_proc_queue_share(const weft_proc_queue_t *q, weft_share_t *h)
{
    if (q == NULL || h == NULL)
        return weft_fail(WEFT_EINVAL, "weft_proc_queue_share: NULL");
    memset(h, 0, sizeof *h);
    h->kind = WEFT_SHARE_PROC_QUEUE;
    h->nfds = 1;
    h->fds[0] = q->fd;
    return 0;
}

int weft_proc_queue_from_share(weft_proc_queue_t **out, const weft_share_t *h)
{
    if (out == NULL || h == NULL || h->kind != WEFT_SHARE_PROC_QUEUE ||
        h->nfds != 1)
        return weft_fail(WEFT_EINVAL, "not a process queue's share");
    return attach(out, h->fds[0]);
}
