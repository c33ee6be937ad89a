/* SPDX-License-Identifier: MIT */
/* as_completed and wait over futures from any mix of backends.
 *
 * Design. The iterator registers one callback node per distinct future
 * (O(n) once). A completing future's callback appends its entry to the
 * iterator's done list under the iterator's lock and bumps seq_; the
 * iterating thread takes entries off the list, or parks on seq_ while it is
 * unchanged. So each completion costs O(1), however many futures are
 * waited on, and futures can be added while iterating.
 *
 * Freeing the iterator takes each node back from its future; a node that
 * the future has already detached is about to fire or firing, and the free
 * waits for its fired flag, after which the callback touches nothing of the
 * iterator but the address of seq_ (to unpark), which is safe. Only once
 * every node is back or fired are the entries freed: a firing callback
 * writes into the entry done before it (the list's link).
 *
 * The nodes are waiter nodes (future_int.h): they fire when their future
 * counts as done for wait (finished, or cancelled and notified), not at a
 * bare cancel, as Python's _Waiter hears add_cancelled only from
 * set_running_or_notify_cancel.
 *
 * No wake is lost: the iterating thread reads seq_, then looks at the
 * done list, then parks validating (under park's lock) that seq_ still
 * holds what it read. A callback appends under the iterator's lock, then
 * bumps seq_, then unparks. If the append came after the look, the bump
 * came after the read too, so the validation fails or the unpark finds the
 * thread parked.
 */
#include "future_int.h"

#include <sched.h>
#include <stdlib.h>

#include "base/chaos.h"
#include "weft/sync.h"

struct entry {
    struct weft__callback node;
    weft_future_t *f;
    struct entry *next_done;
    struct weft_as_completed *it;
    _Atomic int fired;
};

struct weft_as_completed {
    weft_lock_t lock; /* guards the done list and the counters */
    _Atomic uint32_t seq;
    struct entry *done_head, *done_tail;
    struct entry **entries;
    size_t n, cap;
    size_t completed, yielded;
    void **set; /* open-addressed set of the futures, for duplicates */
    size_t set_cap;
    int64_t deadline;
};

/* ----- A set of pointers ----- */

static size_t slot_of(const void *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

static int set_grow(struct weft_as_completed *it)
{
    size_t cap = it->set_cap ? it->set_cap * 2 : 16;
    void **set = calloc(cap, sizeof *set);
    if (set == NULL)
        return weft_fail(WEFT_ENOMEM, "as_completed: no memory");
    for (size_t i = 0; i < it->set_cap; i++) {
        if (it->set[i] == NULL)
            continue;
        size_t s = slot_of(it->set[i], cap);
        while (set[s])
            s = (s + 1) & (cap - 1);
        set[s] = it->set[i];
    }
    free(it->set);
    it->set = set;
    it->set_cap = cap;
    return 0;
}

/* 1 if f was new (and is now in the set), 0 if already there. */
static int set_insert(struct weft_as_completed *it, weft_future_t *f)
{
    size_t s = slot_of(f, it->set_cap);
    while (it->set[s]) {
        if (it->set[s] == f)
            return 0;
        s = (s + 1) & (it->set_cap - 1);
    }
    it->set[s] = f;
    return 1;
}

/* ----- Completion side ----- */

static int on_done(weft_future_t *f, void *arg)
{
    struct entry *e = arg;
    struct weft_as_completed *it = e->it;
    weft_lock_acquire_shielded(&it->lock);
    if (it->done_tail)
        it->done_tail->next_done = e;
    else
        it->done_head = e;
    it->done_tail = e;
    it->completed++;
    atomic_fetch_add_explicit(&it->seq, 1, memory_order_release);
    weft_lock_release(&it->lock);
    WEFT_CHAOS_POINT(); /* appended and counted, the iterator not woken */
    const void *addr = &it->seq;
    /* Release: after this, the iterator may be freed. */
    atomic_store_explicit(&e->fired, 1, memory_order_release);
    WEFT_CHAOS_POINT(); /* the iterator may be gone: only addr is used */
    weft_unpark_all(addr, 0);
    return 0;
}

/* ----- Iterator ----- */

static int add_entry(struct weft_as_completed *it, weft_future_t *f)
{
    if ((it->n + 1) * 2 > it->set_cap && set_grow(it))
        return WEFT_ENOMEM;
    if (!set_insert(it, f))
        return 0;
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 16;
        struct entry **e = realloc(it->entries, cap * sizeof *e);
        if (e == NULL)
            return weft_fail(WEFT_ENOMEM, "as_completed: no memory");
        it->entries = e;
        it->cap = cap;
    }
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return weft_fail(WEFT_ENOMEM, "as_completed: no memory");
    e->node = (struct weft__callback){on_done, e, NULL, 1, 1};
    e->f = weft_future_ref(f);
    e->it = it;
    it->entries[it->n++] = e;
    weft__future_add_node(f, &e->node);
    return 0;
}

int weft_as_completed_add(weft_as_completed_t *it, weft_future_t *f)
{
    if (it == NULL || f == NULL)
        return weft_fail(WEFT_EINVAL, "as_completed_add: NULL %s",
                         it ? "future" : "iterator");
    return add_entry(it, f);
}

int weft_as_completed_new(weft_as_completed_t **out, weft_future_t *const *fs,
                          size_t n, double timeout)
{
    if (out == NULL || (fs == NULL && n > 0))
        return weft_fail(WEFT_EINVAL, "as_completed: NULL %s",
                         out ? "futures" : "out");
    for (size_t i = 0; i < n; i++)
        if (fs[i] == NULL)
            return weft_fail(WEFT_EINVAL, "as_completed: future %zu is NULL",
                             i);
    struct weft_as_completed *it = calloc(1, sizeof *it);
    if (it == NULL)
        return weft_fail(WEFT_ENOMEM, "as_completed: no memory");
    weft_lock_init(&it->lock);
    int rc = weft_deadline(timeout, &it->deadline);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = add_entry(it, fs[i]);
    if (rc) {
        weft_as_completed_free(it);
        return rc;
    }
    *out = it;
    return 0;
}

static int take_done(struct weft_as_completed *it, weft_future_t **f)
{
    weft_lock_acquire_shielded(&it->lock);
    struct entry *e = it->done_head;
    if (e) {
        it->done_head = e->next_done;
        if (it->done_head == NULL)
            it->done_tail = NULL;
        it->yielded++;
        *f = e->f;
    }
    weft_lock_release(&it->lock);
    return e != NULL;
}

struct seq_check {
    _Atomic uint32_t *seq;
    uint32_t seen;
};

static int seq_unchanged(void *ctx)
{
    struct seq_check *c = ctx;
    return atomic_load(c->seq) == c->seen;
}

static const weft_park_ops_t seq_ops = {seq_unchanged, NULL, NULL};

static int timed_out(struct weft_as_completed *it)
{
    weft_lock_acquire_shielded(&it->lock);
    size_t unfinished = it->n - it->completed;
    weft_lock_release(&it->lock);
    return weft_fail(WEFT_ETIMEDOUT, "%zu (of %zu) futures unfinished",
                     unfinished, it->n);
}

int weft_as_completed_next(weft_as_completed_t *it, weft_future_t **f)
{
    if (it == NULL || f == NULL)
        return weft_fail(WEFT_EINVAL, "as_completed_next: NULL argument");
    for (;;) {
        if (it->yielded == it->n)
            return weft_fail(WEFT_EEOF, "every future has been yielded");
        struct seq_check c = {&it->seq, atomic_load(&it->seq)};
        WEFT_CHAOS_POINT(); /* seq read, the list not yet looked at */
        if (take_done(it, f))
            return 0;
        WEFT_CHAOS_POINT(); /* found nothing, not yet parked */
        int rc = weft_park(&it->seq, &seq_ops, &c, it->deadline, NULL);
        if (rc == WEFT_ETIMEDOUT)
            return timed_out(it);
        if (rc == WEFT_ECANCELLED)
            return weft_fail(rc, "as_completed cancelled");
    }
}

void weft_as_completed_free(weft_as_completed_t *it)
{
    if (it == NULL)
        return;
    /* First every node back, or fired: a firing callback links its entry
     * behind the last one done, which must not be freed under it. */
    for (size_t i = 0; i < it->n; i++) {
        struct entry *e = it->entries[i];
        WEFT_CHAOS_POINT(); /* a completion may detach the node now */
        if (!weft__future_remove_node(e->f, &e->node))
            while (!atomic_load_explicit(&e->fired, memory_order_acquire))
                sched_yield();
    }
    /* Then nothing touches the entries any more. */
    for (size_t i = 0; i < it->n; i++) {
        weft_future_free(it->entries[i]->f);
        free(it->entries[i]);
    }
    free(it->entries);
    free(it->set);
    free(it);
}

/* ----- wait ----- */

/* FIRST_EXCEPTION stops at a future that finished with an error; a
 * cancellation is not one (Python's _AllCompletedWaiter.add_cancelled). */
static int failed(weft_future_t *f)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);
    return (s & ST_MASK) == WEFT_FUTURE_FINISHED && (s & ST_FAILED);
}

/* Done for wait()'s sets: finished, or cancelled and notified. */
static int counts(weft_future_t *f)
{
    return weft__state_counts(
        atomic_load_explicit(&f->state, memory_order_acquire));
}

/* Iterate until return_when holds; 0, or WEFT_ECANCELLED. A timeout just
 * ends the waiting. */
static int wait_until(weft_as_completed_t *it, int return_when)
{
    weft_future_t *f;
    for (;;) {
        int rc = weft_as_completed_next(it, &f);
        if (rc == WEFT_EEOF || rc == WEFT_ETIMEDOUT)
            return 0;
        if (rc)
            return rc;
        if (return_when == WEFT_FIRST_COMPLETED)
            return 0;
        if (return_when == WEFT_FIRST_EXCEPTION && failed(f))
            return 0;
    }
}

/* Sort the distinct futures of fs, in order, by whether they are done. */
static void partition(weft_as_completed_t *it, weft_future_t **done,
                      size_t *n_done, weft_future_t **not_done,
                      size_t *n_not_done)
{
    size_t d = 0, nd = 0;
    for (size_t i = 0; i < it->n; i++) {
        weft_future_t *f = it->entries[i]->f;
        if (counts(f)) {
            if (done)
                done[d] = f;
            d++;
        } else {
            if (not_done)
                not_done[nd] = f;
            nd++;
        }
    }
    if (n_done)
        *n_done = d;
    if (n_not_done)
        *n_not_done = nd;
}

int weft_wait(weft_future_t *const *fs, size_t n, double timeout,
              int return_when, weft_future_t **done, size_t *n_done,
              weft_future_t **not_done, size_t *n_not_done)
{
    if (return_when < WEFT_FIRST_COMPLETED || return_when > WEFT_ALL_COMPLETED)
        return weft_fail(WEFT_EINVAL, "wait: bad return_when %d", return_when);
    weft_as_completed_t *it;
    int rc = weft_as_completed_new(&it, fs, n, timeout);
    if (rc)
        return rc;
    rc = wait_until(it, return_when);
    if (rc == 0)
        partition(it, done, n_done, not_done, n_not_done);
    weft_as_completed_free(it);
    return rc;
}
