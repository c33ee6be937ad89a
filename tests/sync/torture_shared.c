/* SPDX-License-Identifier: MIT */
/* Torture of the primitives shared between processes, each phase from
 * several processes made by fork() over one MAP_SHARED mapping.
 *
 * Locks and deaths. Workers take a shared Lock or RLock with random
 * timeouts and count under it. Now and then a worker kills itself
 * (SIGKILL) while it holds one, leaving a note in the mapping first, and
 * the parent kills workers at random moments too (inside a hold or not, in
 * the middle of weft's own code), starting new ones in their place.
 * Accounting: a holder finds nobody inside (a death taken over twice would
 * make two holders); a death never taken over leaves the lock held, and
 * the bounded waits then say so; each note is found by exactly one
 * take-over (the next acquirer gets WEFT_EOWNERDEAD and clears it), and
 * take-overs number no more than deaths; a holder's update is marked
 * pending while it runs, and the taker of a dead holder's lock completes a
 * pending one, so the count of updates and the updates agree exactly.
 *
 * Semaphore: workers take and give units with random timeouts; no more
 * than the initial value is ever out, and all of it comes back.
 *
 * Events: a ring of processes passes one turn round with shared Events and
 * random timeouts; every wait that returns 0 finds its own process's turn.
 *
 * Condition: producers and consumers of a shared bounded buffer, over a
 * shared condition; every item is consumed exactly once, and a wait that
 * returns 0 comes after a notify made since it began.
 *
 * Barrier: processes pass a shared barrier whose action numbers the
 * generations; each generation releases every index exactly once. */
#include "torture.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 4
#define RING 3
#define UNITS 2
#define ROOM 4
#define GENS 64
#define LONG_WAIT 10.0

struct guarded {
    long updates, count; /* plain: only a holder touches them */
    int pending;
};

struct shared_torture {
    weft_lock_t lock;
    weft_rlock_t rlock;
    _Atomic int inside[2];
    struct guarded g[2];
    _Atomic int dying[2];  /* a note: I die holding lock i */
    _Atomic int holder[2]; /* the process inside lock i, when known */
    _Atomic long holds[2], takeovers[2], notes_found[2];
    long kills, self_deaths; /* the parent's counts */

    weft_semaphore_t sem;
    _Atomic int units_out;
    _Atomic long units_taken;

    weft_event_t ring[RING];
    _Atomic long turn;

    weft_condition_t cond;
    long buffer[ROOM];
    int head, count, producers_left;
    long notifies, produced_sum, consumed, consumed_sum;

    weft_barrier_t barrier;
    _Atomic int want_stop;
    _Atomic long gen;
    _Atomic unsigned indices[GENS];
    _Atomic int passed[GENS];

    _Atomic int stop;
    _Atomic long progress_ns;
    _Atomic int64_t end_ns;
    _Atomic int started; /* workers of the phase that have begun */
    struct verdict v;
};

static int64_t now_ns(void)
{
    return weft_monotonic_ns(); /* CLOCK_MONOTONIC: one clock for all */
}

static int time_up(struct shared_torture *s)
{
    return atomic_load(&s->stop) || failed(&s->v) || now_ns() >= s->end_ns;
}

/* ----- Locks and deaths ----- */

static int take(struct shared_torture *s, int which, double timeout)
{
    return which ? weft_rlock_acquire(&s->rlock, timeout)
                 : weft_lock_acquire(&s->lock, timeout);
}

static void give(struct shared_torture *s, int which)
{
    int rc =
        which ? weft_rlock_release(&s->rlock) : weft_lock_release(&s->lock);
    if (rc != 0)
        note_failure(&s->v, "release of a held lock failed: %d", rc);
}

/* The previous holder died holding the lock: account for the death and
 * repair what it left half done. */
/* Nonzero when process pid has ended (a zombie has). */
static int ended(pid_t pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH;
    struct pollfd p = {fd, POLLIN, 0};
    int gone = poll(&p, 1, 0) == 1;
    close(fd);
    return gone;
}

static void after_death(struct shared_torture *s, int which)
{
    atomic_fetch_add(&s->takeovers[which], 1);
    /* The holder that was inside must really have died. (Its id could in
     * principle be another process's by now, if the parent reaped it and
     * the kernel's ids wrapped round in the meantime: far rarer than any
     * run of this test.) */
    pid_t was_inside = atomic_exchange(&s->holder[which], 0);
    if (was_inside != 0 && !ended(was_inside))
        note_failure(&s->v, "the %s was taken over from live process %d",
                     which ? "RLock" : "Lock", (int)was_inside);
    if (atomic_exchange(&s->dying[which], 0) != 0)
        atomic_fetch_add(&s->notes_found[which], 1);
    int was = atomic_exchange(&s->inside[which], 0);
    if (was != 0 && was != 1)
        note_failure(&s->v, "%d inside a lock its dead holder left", was);
    struct guarded *g = &s->g[which];
    if (g->pending) {
        g->updates = g->count; /* the dead holder's update, completed */
        g->pending = 0;
    }
    if (which && weft_rlock_count(&s->rlock) != 1)
        note_failure(&s->v, "a taken-over RLock held %u times",
                     weft_rlock_count(&s->rlock));
}

/* A random timeout, with the long wait for none: a lock whose dead holder
 * is never taken over makes it time out. */
static double bounded_timeout(testing_rng_t *rng)
{
    double timeout = random_timeout(rng);
    return timeout == WEFT_FOREVER ? LONG_WAIT * testing_scale() : timeout;
}

static void hold(struct shared_torture *s, int which, testing_rng_t *rng)
{
    double timeout = bounded_timeout(rng);
    int rc = take(s, which, timeout);
    if (rc == WEFT_EOWNERDEAD) {
        after_death(s, which);
    } else if (rc != 0) {
        if (rc != WEFT_ETIMEDOUT || timeout >= LONG_WAIT)
            note_failure(&s->v, "acquire returned %d (timeout %g)", rc,
                         timeout);
        return;
    }
    if (atomic_fetch_add(&s->inside[which], 1) != 0)
        note_failure(&s->v, "two holders of the %s at once",
                     which ? "RLock" : "Lock");
    atomic_store(&s->holder[which], (int)getpid());
    struct guarded *g = &s->g[which];
    g->pending = 1;
    g->count++;
    g->updates++;
    g->pending = 0;
    atomic_fetch_add(&s->holds[which], 1);
    /* Hold on a while now and then, so that others try a held lock, and
     * now and then past a waiter's 50 ms look at the holder, which must
     * find it alive. */
    unsigned linger = (unsigned)testing_rng_below(rng, 512);
    if (linger == 0)
        weft_sleep(0.06);
    else if (linger < 128)
        weft_sleep(0);
    int again = which && testing_rng_below(rng, 2);
    if (again && weft_rlock_acquire(&s->rlock, 0) != 0)
        note_failure(&s->v, "the owner could not take its RLock again");
    if (testing_rng_below(rng, 300) == 0) {
        atomic_store(&s->dying[which], (int)getpid());
        raise(SIGKILL);
    }
    atomic_store(&s->holder[which], 0);
    atomic_fetch_sub(&s->inside[which], 1);
    if (again)
        give(s, which);
    give(s, which);
}

static int lock_worker(struct shared_torture *s, int i)
{
    testing_rng_t rng;
    testing_rng_init(&rng, (uint64_t)i);
    while (!time_up(s))
        hold(s, (int)testing_rng_below(&rng, 2), &rng);
    return 0;
}

/* ----- Semaphore ----- */

static int sem_worker(struct shared_torture *s, int i)
{
    testing_rng_t rng;
    testing_rng_init(&rng, 1000 + (uint64_t)i);
    while (!time_up(s)) {
        double timeout = random_timeout(&rng);
        int rc = weft_semaphore_acquire(&s->sem, timeout);
        if (rc != 0) {
            if (!fits(rc, timeout, 0))
                note_failure(&s->v, "semaphore acquire returned %d", rc);
            continue;
        }
        if (atomic_fetch_add(&s->units_out, 1) + 1 > UNITS)
            note_failure(&s->v, "more than %d units out", UNITS);
        atomic_fetch_add(&s->units_taken, 1);
        if (testing_rng_below(&rng, 4) == 0)
            weft_sleep(0);
        atomic_fetch_sub(&s->units_out, 1);
        if (weft_semaphore_release(&s->sem, 1) != 0)
            note_failure(&s->v, "semaphore release failed");
    }
    return 0;
}

/* ----- Events ----- */

static int ring_worker(struct shared_torture *s, int i)
{
    testing_rng_t rng;
    testing_rng_init(&rng, 2000 + (uint64_t)i);
    for (;;) {
        if (failed(&s->v) || atomic_load(&s->stop))
            return 0;
        if (now_ns() - atomic_load(&s->progress_ns) >
            (int64_t)(LONG_WAIT * 1e9 * testing_scale())) {
            note_failure(&s->v, "turn %ld stopped", atomic_load(&s->turn));
            return 0;
        }
        int rc = weft_event_wait(&s->ring[i], bounded_timeout(&rng));
        if (rc == WEFT_ETIMEDOUT)
            continue;
        if (rc != 0 || atomic_load(&s->stop))
            return rc ? 1 : 0;
        long t = atomic_load(&s->turn);
        if (t % RING != i) {
            note_failure(&s->v, "process %d woke on turn %ld", i, t);
            return 0;
        }
        weft_event_clear(&s->ring[i]);
        if (now_ns() >= s->end_ns) {
            atomic_store(&s->stop, 1);
            for (int k = 0; k < RING; k++)
                weft_event_set(&s->ring[k]);
            return 0;
        }
        atomic_store(&s->turn, t + 1);
        atomic_store(&s->progress_ns, now_ns());
        weft_event_set(&s->ring[(i + 1) % RING]);
    }
}

/* ----- Condition ----- */

static int room_left(void *arg)
{
    return ((struct shared_torture *)arg)->count < ROOM;
}

static int item_or_end(void *arg)
{
    struct shared_torture *s = arg;
    return s->count > 0 || s->producers_left == 0;
}

/* One wait, checked: a 0 must come after a notify made since it began. */
static int checked_wait(struct shared_torture *s, int (*ready)(void *))
{
    while (!ready(s)) {
        long before = s->notifies;
        int rc = weft_condition_wait(&s->cond, LONG_WAIT * testing_scale());
        if (rc != 0) {
            note_failure(&s->v, "condition wait returned %d", rc);
            return rc;
        }
        if (s->notifies == before) {
            note_failure(&s->v, "a condition wait returned 0 unnotified");
            return 1;
        }
    }
    return 0;
}

static void notify(struct shared_torture *s, unsigned n)
{
    s->notifies++;
    weft_condition_notify(&s->cond, n);
}

static int producer(struct shared_torture *s, int i)
{
    long k = 0;
    while (now_ns() < s->end_ns && !failed(&s->v)) {
        weft_condition_acquire(&s->cond, WEFT_FOREVER);
        if (checked_wait(s, room_left) == 0) {
            s->buffer[(s->head + s->count++) % ROOM] = ++k;
            s->produced_sum += k;
            notify(s, 1);
        }
        weft_condition_release(&s->cond);
    }
    weft_condition_acquire(&s->cond, WEFT_FOREVER);
    if (--s->producers_left == 0) {
        s->notifies++;
        weft_condition_notify_all(&s->cond);
    }
    weft_condition_release(&s->cond);
    return 0;
}

static int consumer(struct shared_torture *s, int i)
{
    weft_condition_acquire(&s->cond, WEFT_FOREVER);
    while (checked_wait(s, item_or_end) == 0 && s->count > 0) {
        s->consumed_sum += s->buffer[s->head];
        s->head = (s->head + 1) % ROOM;
        s->count--;
        s->consumed++;
        notify(s, 1);
    }
    weft_condition_release(&s->cond);
    return 0;
}

static int cond_worker(struct shared_torture *s, int i)
{
    return i < WORKERS / 2 ? producer(s, i) : consumer(s, i);
}

/* ----- Barrier ----- */

static int number_generation(void *arg)
{
    struct shared_torture *s = arg;
    long g = atomic_load(&s->gen) + 1;
    long prev = g - 1;
    if (prev > 0 && atomic_load(&s->passed[prev % GENS]) != WORKERS)
        note_failure(&s->v, "generation %ld released %d of %d", prev,
                     atomic_load(&s->passed[prev % GENS]), WORKERS);
    atomic_store(&s->indices[g % GENS], 0);
    atomic_store(&s->passed[g % GENS], 0);
    atomic_store(&s->gen, g);
    return 0;
}

/* One pass of the barrier, noted in its generation. */
static int pass(struct shared_torture *s)
{
    unsigned index = WORKERS;
    int rc = weft_barrier_wait(&s->barrier, &index);
    if (rc != 0 || index >= WORKERS) {
        note_failure(&s->v, "barrier wait returned %d, index %u", rc, index);
        return 1;
    }
    long g = atomic_load(&s->gen);
    unsigned was = atomic_fetch_or(&s->indices[g % GENS], 1u << index);
    if (was & (1u << index))
        note_failure(&s->v, "index %u twice in generation %ld", index, g);
    atomic_fetch_add(&s->passed[g % GENS], 1);
    return 0;
}

static int barrier_worker(struct shared_torture *s, int i)
{
    for (;;) {
        /* All stop after the same generation: whoever sees the time up
         * says so between two passes, and all look after the second. */
        int mine = now_ns() >= s->end_ns || failed(&s->v);
        if (pass(s))
            return 1;
        if (mine)
            atomic_store(&s->want_stop, 1);
        if (pass(s))
            return 1;
        if (atomic_load(&s->want_stop))
            return 0;
    }
}

/* ----- Running processes ----- */

static struct shared_torture *map_torture(void)
{
    struct shared_torture *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(s != MAP_FAILED);
    memset(s, 0, sizeof *s);
    return s;
}

static pid_t spawn(int (*fn)(struct shared_torture *, int),
                   struct shared_torture *s, int i)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm((unsigned)(testing_torture_seconds() * 4 + 60));
        atomic_fetch_add(&s->started, 1);
        _exit(fn(s, i));
    }
    return pid;
}

/* Run n workers of fn for seconds, and wait for them all. The phase's time
 * counts from when the last of them has begun, so that a loaded machine,
 * slow to start processes, still gives every phase its time to work. */
static void run_phase(struct shared_torture *s, double seconds, int n,
                      int (*fn)(struct shared_torture *, int))
{
    atomic_store(&s->end_ns, INT64_MAX);
    atomic_store(&s->started, 0);
    atomic_store(&s->progress_ns, now_ns());
    pid_t pids[WORKERS];
    for (int i = 0; i < n; i++)
        pids[i] = spawn(fn, s, i);
    double give_up = weft_monotonic() + 60 * testing_scale();
    while (atomic_load(&s->started) < n && weft_monotonic() < give_up)
        weft_sleep(0.001);
    if (atomic_load(&s->started) < n)
        note_failure(&s->v, "only %d of %d workers began within a minute",
                     atomic_load(&s->started), n);
    atomic_store(&s->end_ns, now_ns() + (int64_t)(seconds * 1e9));
    for (int i = 0; i < n; i++) {
        int st = 0;
        waitpid(pids[i], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            note_failure(&s->v, "worker %d ended with status %#x", i, st);
    }
}

/* Count how worker k ended (st from waitpid): by the parent's kill, by
 * its own, or otherwise (a failure). */
static void count_end(struct shared_torture *s, int st, int killed_by_parent)
{
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
        if (killed_by_parent)
            s->kills++;
        else
            s->self_deaths++;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        note_failure(&s->v, "a lock worker ended with status %#x", st);
    }
}

/* Keep WORKERS lock workers running until the time is up, killing one
 * now and then and starting another in its place. */
static void run_deaths(struct shared_torture *s, double seconds)
{
    testing_rng_t rng;
    testing_rng_init(&rng, 77);
    s->end_ns = now_ns() + (int64_t)(seconds * 1e9);
    pid_t pids[WORKERS];
    int killed[WORKERS] = {0}, spawned = 0;
    for (int i = 0; i < WORKERS; i++)
        pids[i] = spawn(lock_worker, s, spawned++);
    while (now_ns() < s->end_ns && !failed(&s->v)) {
        weft_sleep(testing_rng_below(&rng, 20000) * 1e-6);
        int i = (int)testing_rng_below(&rng, WORKERS);
        siginfo_t info = {0};
        if (testing_rng_below(&rng, 2) == 0 &&
            waitid(P_PID, (id_t)pids[i], &info, WEXITED | WNOHANG | WNOWAIT) ==
                0 &&
            info.si_pid == 0) { /* not ended yet */
            kill(pids[i], SIGKILL);
            killed[i] = 1;
        }
        for (int k = 0; k < WORKERS; k++) {
            int st = 0;
            if (waitpid(pids[k], &st, WNOHANG) == pids[k]) {
                count_end(s, st, killed[k]);
                killed[k] = 0;
                pids[k] = spawn(lock_worker, s, spawned++);
            }
        }
    }
    atomic_store(&s->stop, 1);
    for (int k = 0; k < WORKERS; k++) {
        int st = 0;
        waitpid(pids[k], &st, 0);
        count_end(s, st, killed[k]);
    }
    atomic_store(&s->stop, 0);
}

static void check_deaths(struct shared_torture *s)
{
    long notes = 0, pending = 0, takeovers = 0;
    for (int w = 0; w < 2; w++) {
        fprintf(stderr, "%s: %ld holds, %ld taken over\n", w ? "RLock" : "Lock",
                atomic_load(&s->holds[w]), atomic_load(&s->takeovers[w]));
        notes += atomic_load(&s->notes_found[w]);
        pending += atomic_load(&s->dying[w]) != 0;
        takeovers += atomic_load(&s->takeovers[w]);
        if (s->g[w].pending) /* the last holder died mid-update */
            s->g[w].updates = s->g[w].count;
        assert_int_equal(s->g[w].updates, s->g[w].count);
    }
    fprintf(stderr,
            "%ld deaths of their own and %ld by the parent; %ld "
            "notes found, %ld left\n",
            s->self_deaths, s->kills, notes, pending);
    /* Every death of its own left a note, found by the one take-over of
     * that death (the last may wait still); the parent may have killed a
     * worker between its note and its own kill. */
    assert_true(notes + pending >= s->self_deaths);
    assert_true(notes + pending <= s->self_deaths + s->kills);
    assert_true(takeovers >= notes);
    assert_true(takeovers <= s->self_deaths + s->kills);
}

static void shared_primitives_hold_across_processes_and_deaths(void **state)
{
    struct shared_torture *s = map_torture();
    weft_lock_init_shared(&s->lock);
    weft_rlock_init_shared(&s->rlock);
    weft_semaphore_init_shared(&s->sem, UNITS);
    for (int i = 0; i < RING; i++)
        weft_event_init_shared(&s->ring[i]);
    weft_condition_init_shared(&s->cond);
    s->producers_left = WORKERS / 2;
    weft_barrier_init_shared(&s->barrier, WORKERS, number_generation, s,
                             LONG_WAIT * testing_scale());
    double seconds = testing_torture_seconds();

    run_deaths(s, seconds * 0.4);
    check_verdict(&s->v);
    check_deaths(s);

    run_phase(s, seconds * 0.15, WORKERS, sem_worker);
    check_verdict(&s->v);
    assert_int_equal(weft_semaphore_value(&s->sem), UNITS);
    assert_int_equal(atomic_load(&s->units_out), 0);

    weft_event_set(&s->ring[0]);
    run_phase(s, seconds * 0.15, RING, ring_worker);
    check_verdict(&s->v);

    run_phase(s, seconds * 0.15, WORKERS, cond_worker);
    check_verdict(&s->v);
    assert_int_equal(s->count, 0);
    assert_int_equal(s->consumed_sum, s->produced_sum);

    run_phase(s, seconds * 0.15, WORKERS, barrier_worker);
    check_verdict(&s->v);
    fprintf(stderr,
            "%ld units taken; %ld turns; %ld items; %ld barrier "
            "generations\n",
            atomic_load(&s->units_taken), atomic_load(&s->turn), s->consumed,
            atomic_load(&s->gen));
    assert_true(atomic_load(&s->gen) > 0 && s->consumed > 0);
    munmap(s, sizeof *s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_primitives_hold_across_processes_and_deaths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
