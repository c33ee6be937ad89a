/* SPDX-License-Identifier: MIT */
/* sync: the _init_shared variants, used across processes made by fork() on
 * a MAP_SHARED mapping, and between threads of one process. */
#include "testing_proc.h"

#include <math.h>

#include "sync/sync_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    weft_lock_t lock;
    weft_rlock_t rlock;
    weft_condition_t cond;
    weft_condition_t cond_over_lock; /* over lock, in the same mapping */
    weft_semaphore_t sem;
    weft_event_t event;
    weft_barrier_t barrier;
    volatile long counter;
    volatile int flag;
    _Atomic unsigned seen[8];
};

static struct shared *map_shared(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(s != MAP_FAILED);
    memset(s, 0, sizeof *s);
    return s;
}

static void unmap(struct shared *s)
{
    munmap(s, sizeof *s);
}

/* Fork a child that runs fn(s) and exits with its return. */
static pid_t child(int (*fn)(struct shared *s, int fd), struct shared *s,
                   int fd)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn(s, fd));
    return pid;
}

static int exit_status(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ----- Lock ----- */

static int add_under_lock(struct shared *s, int fd)
{
    for (int i = 0; i < 20000; i++) {
        if (weft_lock_acquire(&s->lock, WEFT_FOREVER) != 0)
            return 1;
        s->counter = s->counter + 1;
        weft_lock_release(&s->lock);
    }
    return 0;
}

static void a_shared_lock_excludes_across_processes(void **state)
{
    struct shared *s = map_shared();
    assert_int_equal(weft_lock_init_shared(&s->lock), 0);
    assert_false(weft_lock_locked(&s->lock));
    pid_t a = child(add_under_lock, s, -1), b = child(add_under_lock, s, -1);
    assert_int_equal(add_under_lock(s, -1), 0);
    assert_int_equal(exit_status(a), 0);
    assert_int_equal(exit_status(b), 0);
    assert_int_equal(s->counter, 60000);
    assert_int_equal(weft_lock_destroy(&s->lock), 0);
    unmap(s);
}

/* Take the lock, say so on fd, then wait to be killed (or told to go). */
static int hold_lock(struct shared *s, int fd)
{
    if (weft_lock_acquire(&s->lock, WEFT_FOREVER) != 0)
        return 1;
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        return 2;
    while (!s->flag)
        weft_sleep(0.005);
    weft_lock_release(&s->lock);
    return 0;
}

/* Start a child that holds s->lock; returns once it does. */
static pid_t start_holder(struct shared *s, int (*fn)(struct shared *s, int fd))
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = child(fn, s, p[1]);
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

static void a_dead_holders_lock_goes_to_the_next_acquirer(void **state)
{
    struct shared *s = map_shared();
    weft_lock_init_shared(&s->lock);
    pid_t pid = start_holder(s, hold_lock);
    assert_true(weft_lock_locked(&s->lock));
    kill(pid, SIGKILL);
    /* Not reaped yet: a zombie holder counts as dead. */
    double t0 = weft_monotonic();
    assert_fails_with(weft_lock_acquire(&s->lock, WEFT_FOREVER),
                      WEFT_EOWNERDEAD, "died");
    assert_elapsed_between(weft_monotonic() - t0, 0, 1.0);
    assert_true(weft_lock_locked(&s->lock));
    assert_int_equal(weft_lock_release(&s->lock), 0);
    assert_int_equal(exit_status(pid), 128 + SIGKILL);
    assert_int_equal(weft_lock_acquire(&s->lock, 0), 0);
    weft_lock_release(&s->lock);
    unmap(s);
}

static void a_try_finds_a_dead_holder_at_once(void **state)
{
    struct shared *s = map_shared();
    weft_lock_init_shared(&s->lock);
    pid_t pid = start_holder(s, hold_lock);
    kill(pid, SIGKILL);
    exit_status(pid);
    assert_fails_with(weft_lock_acquire(&s->lock, 0), WEFT_EOWNERDEAD, "died");
    weft_lock_release(&s->lock);
    unmap(s);
}

static void a_live_holder_makes_a_timed_acquire_time_out(void **state)
{
    struct shared *s = map_shared();
    weft_lock_init_shared(&s->lock);
    pid_t pid = start_holder(s, hold_lock);
    double t0 = weft_monotonic();
    assert_fails_with(weft_lock_acquire(&s->lock, 0.2), WEFT_ETIMEDOUT,
                      "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_lock_acquire(&s->lock, 0), WEFT_ETIMEDOUT, "held");
    s->flag = 1;
    assert_int_equal(weft_lock_acquire(&s->lock, WEFT_FOREVER), 0);
    assert_int_equal(exit_status(pid), 0);
    weft_lock_release(&s->lock);
    unmap(s);
}

static void a_cancelled_scope_ends_a_shared_wait(void **state)
{
    struct shared *s = map_shared();
    weft_lock_init_shared(&s->lock);
    pid_t pid = start_holder(s, hold_lock);
    weft_cancel_scope_t scope;
    weft_cancel_scope_init(&scope);
    weft_cancel_scope_enter(&scope, 0.1, 0);
    assert_fails_with(weft_lock_acquire(&s->lock, WEFT_FOREVER),
                      WEFT_ECANCELLED, "cancelled");
    assert_int_equal(weft_cancel_scope_exit(&scope), WEFT_ETIMEDOUT);
    s->flag = 1;
    assert_int_equal(exit_status(pid), 0);
    unmap(s);
}

static void releasing_a_free_shared_lock_is_an_error(void **state)
{
    weft_lock_t l;
    assert_int_equal(weft_lock_init_shared(&l), 0);
    assert_fails_with(weft_lock_release(&l), WEFT_ESTATE,
                      "release unlocked lock");
    assert_int_equal(weft_lock_acquire(&l, 0), 0);
    assert_fails_with(weft_lock_destroy(&l), WEFT_ESTATE, "held");
    assert_int_equal(weft_lock_release(&l), 0);
    assert_fails_with(weft_lock_init_shared(NULL), WEFT_EINVAL, "NULL");
}

static void count_between_threads(void *arg, unsigned i)
{
    struct shared *s = arg;
    for (int k = 0; k < 20000; k++) {
        weft_lock_acquire(&s->lock, WEFT_FOREVER);
        s->counter = s->counter + 1;
        weft_lock_release(&s->lock);
    }
}

static void a_shared_lock_also_excludes_threads(void **state)
{
    struct shared *s = map_shared();
    weft_lock_init_shared(&s->lock);
    testing_run_threads(4, count_between_threads, s);
    assert_int_equal(s->counter, 80000);
    unmap(s);
}

/* ----- RLock ----- */

static int hold_rlock_twice(struct shared *s, int fd)
{
    weft_rlock_acquire(&s->rlock, WEFT_FOREVER);
    weft_rlock_acquire(&s->rlock, WEFT_FOREVER);
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        return 2;
    for (;;)
        pause();
}

static void a_shared_rlock_is_taken_over_once_from_a_dead_owner(void **state)
{
    struct shared *s = map_shared();
    assert_int_equal(weft_rlock_init_shared(&s->rlock), 0);
    assert_int_equal(weft_rlock_acquire(&s->rlock, 0), 0);
    assert_int_equal(weft_rlock_acquire(&s->rlock, 0), 0);
    assert_int_equal(weft_rlock_count(&s->rlock), 2);
    weft_rlock_release(&s->rlock);
    weft_rlock_release(&s->rlock);
    pid_t pid = start_holder(s, hold_rlock_twice);
    assert_false(weft_rlock_is_owned(&s->rlock));
    assert_fails_with(weft_rlock_release(&s->rlock), WEFT_EPERM, "un-acquired");
    kill(pid, SIGKILL);
    assert_fails_with(weft_rlock_acquire(&s->rlock, WEFT_FOREVER),
                      WEFT_EOWNERDEAD, "died");
    assert_true(weft_rlock_is_owned(&s->rlock));
    assert_int_equal(weft_rlock_count(&s->rlock), 1);
    assert_int_equal(weft_rlock_release(&s->rlock), 0);
    assert_false(weft_lock_locked(&weft__rlock(&s->rlock)->lock_));
    exit_status(pid);
    unmap(s);
}

/* ----- Semaphore, Event, Condition, Barrier ----- */

static int release_three(struct shared *s, int fd)
{
    for (int i = 0; i < 3; i++) {
        weft_sleep(0.01);
        if (weft_semaphore_release(&s->sem, 1) != 0)
            return 1;
    }
    return 0;
}

static void a_shared_semaphore_counts_across_processes(void **state)
{
    struct shared *s = map_shared();
    assert_int_equal(weft_semaphore_init_shared(&s->sem, 0), 0);
    pid_t pid = child(release_three, s, -1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(weft_semaphore_acquire(&s->sem, 5.0), 0);
    assert_fails_with(weft_semaphore_acquire(&s->sem, 0.05), WEFT_ETIMEDOUT,
                      "timed out");
    assert_int_equal(exit_status(pid), 0);
    assert_int_equal(weft_bounded_semaphore_init_shared(&s->sem, 1), 0);
    assert_fails_with(weft_semaphore_release(&s->sem, 1), WEFT_EINVAL,
                      "too many");
    unmap(s);
}

static int wait_for_event(struct shared *s, int fd)
{
    return weft_event_wait(&s->event, 5.0) == 0 ? 0 : 1;
}

static void a_shared_event_wakes_other_processes(void **state)
{
    struct shared *s = map_shared();
    assert_int_equal(weft_event_init_shared(&s->event), 0);
    pid_t a = child(wait_for_event, s, -1), b = child(wait_for_event, s, -1);
    assert_fails_with(weft_event_wait(&s->event, 0.05), WEFT_ETIMEDOUT,
                      "timed out");
    weft_event_set(&s->event);
    assert_true(weft_event_is_set(&s->event));
    assert_int_equal(exit_status(a), 0);
    assert_int_equal(exit_status(b), 0);
    weft_event_clear(&s->event);
    assert_false(weft_event_is_set(&s->event));
    unmap(s);
}

static int flag_is_set(void *arg)
{
    return ((struct shared *)arg)->flag != 0;
}

static int wait_for_flag(struct shared *s, int fd)
{
    if (weft_condition_acquire(&s->cond, WEFT_FOREVER) != 0)
        return 1;
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        return 3;
    int rc = weft_condition_wait_for(&s->cond, flag_is_set, s, 5.0);
    weft_condition_release(&s->cond);
    return rc == 0 ? 0 : 2;
}

static void a_shared_condition_wakes_a_waiter_in_another_process(void **state)
{
    struct shared *s = map_shared();
    assert_int_equal(weft_condition_init_shared(&s->cond), 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t a = child(wait_for_flag, s, p[1]), b = child(wait_for_flag, s, p[1]);
    char c[2];
    assert_int_equal(read(p[0], &c[0], 1), 1);
    assert_int_equal(read(p[0], &c[1], 1), 1);
    close(p[0]);
    close(p[1]);
    /* Both children took the lock, so once it is ours both are waiting. */
    weft_condition_acquire(&s->cond, WEFT_FOREVER);
    s->flag = 1;
    assert_int_equal(weft_condition_notify_all(&s->cond), 0);
    weft_condition_release(&s->cond);
    assert_int_equal(exit_status(a), 0);
    assert_int_equal(exit_status(b), 0);
    weft_condition_acquire(&s->cond, WEFT_FOREVER);
    assert_fails_with(weft_condition_wait(&s->cond, 0.05), WEFT_ETIMEDOUT,
                      "timed out");
    weft_condition_release(&s->cond);
    unmap(s);
}


static int wait_for_flag_over_lock(struct shared *s, int fd)
{
    if (weft_condition_acquire(&s->cond_over_lock, WEFT_FOREVER) != 0)
        return 1;
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        return 3;
    int rc = weft_condition_wait_for(&s->cond_over_lock, flag_is_set, s, 5.0);
    weft_condition_release(&s->cond_over_lock);
    return rc == 0 ? 0 : 2;
}

/* multiprocessing.Condition(lock): a condition over a shared Lock that lies
 * in the same mapping works across processes. */
static void a_condition_over_a_shared_lock_wakes_another_process(void **state)
{
    struct shared *s = map_shared();
    weft_lock_init_shared(&s->lock);
    assert_int_equal(
        weft_condition_init_with_lock(&s->cond_over_lock, &s->lock), 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t a = child(wait_for_flag_over_lock, s, p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    close(p[1]);
    /* The child took the lock before it wrote, so once the lock is ours it
     * is waiting. */
    assert_int_equal(weft_condition_acquire(&s->cond_over_lock, 5.0), 0);
    assert_true(weft_lock_locked(&s->lock));
    s->flag = 1;
    assert_int_equal(weft_condition_notify(&s->cond_over_lock, 1), 0);
    assert_int_equal(weft_condition_release(&s->cond_over_lock), 0);
    assert_int_equal(exit_status(a), 0);
    assert_false(weft_lock_locked(&s->lock));
    unmap(s);
}

static int meet_at_barrier(struct shared *s, int fd)
{
    unsigned index = 99;
    if (weft_barrier_wait(&s->barrier, &index) != 0 || index >= 4)
        return 1;
    atomic_fetch_add(&s->seen[index], 1);
    return 0;
}

static void a_shared_barrier_releases_parties_across_processes(void **state)
{
    struct shared *s = map_shared();
    assert_int_equal(weft_barrier_init_shared(&s->barrier, 4, NULL, NULL, 5.0),
                     0);
    pid_t p[3];
    for (int i = 0; i < 3; i++)
        p[i] = child(meet_at_barrier, s, -1);
    assert_int_equal(meet_at_barrier(s, -1), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(exit_status(p[i]), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(atomic_load(&s->seen[i]), 1);
    assert_false(weft_barrier_broken(&s->barrier));
    unmap(s);
}


/* ----- A dead holder whose process id comes back -----
 *
 * A holder is killed and reaped, and a new process is made to get its id
 * (testing_fork_at_pid). The holder is still dead: the next acquirer takes
 * the lock over with WEFT_EOWNERDEAD, and the newcomer is never taken for
 * the holder. Holder, reaping and newcomer follow one another within a few
 * milliseconds, mostly within one clock tick of the holder's start. */
#define TRIALS 20

struct newcomer {
    struct shared *s;
    int fd;
};

/* Kill pid and reap it: its id is free for the next process. */
static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    exit_status(pid);
}

static int hold_and_pause(struct shared *s, int fd,
                          int (*take)(struct shared *))
{
    if (take(s) != 0)
        return 1;
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        return 2;
    alarm(60); /* gone in time even if the test fails before it kills */
    for (;;)
        pause();
}

static int take_lock(struct shared *s)
{
    return weft_lock_acquire(&s->lock, WEFT_FOREVER);
}

static int take_rlock_twice(struct shared *s)
{
    int rc = weft_rlock_acquire(&s->rlock, WEFT_FOREVER);
    return rc ? rc : weft_rlock_acquire(&s->rlock, WEFT_FOREVER);
}

static int take_condition(struct shared *s)
{
    return weft_condition_acquire(&s->cond, WEFT_FOREVER);
}

static int hold_lock_and_pause(struct shared *s, int fd)
{
    return hold_and_pause(s, fd, take_lock);
}

static int hold_rlock_and_pause(struct shared *s, int fd)
{
    return hold_and_pause(s, fd, take_rlock_twice);
}

static int hold_condition_and_pause(struct shared *s, int fd)
{
    return hold_and_pause(s, fd, take_condition);
}

/* Start a newcomer at dead's id running fn, and wait for what it writes
 * (len bytes into out). Returns its id, 0 when another process took the id
 * first, -1 when ids cannot be steered (*why says why). */
static pid_t newcomer_at(pid_t dead, struct shared *s, int (*fn)(void *),
                         void *out, size_t len, const char **why)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct newcomer n = {s, p[1]};
    pid_t back = testing_fork_at_pid(dead, fn, &n, why);
    close(p[1]);
    if (back > 0)
        assert_int_equal(read(p[0], out, len), (ssize_t)len);
    close(p[0]);
    return back;
}

static void skip_because(const char *why)
{
    fprintf(stderr, "skipped: %s\n", why);
    skip();
}

/* Field 22 of /proc/<pid>/stat: the start time in clock ticks. */
static unsigned long long start_ticks_of(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    assert_non_null(p);
    return strtoull(p + 1, NULL, 10);
}

/* One trial: a holder started with hold (it takes a lock, says so, and
 * pauses) is killed and reaped, and a newcomer made at its id runs fn and
 * writes len bytes into out. Returns the newcomer's id, or 0 when another
 * process took the id first (the trial does not count); skips the test
 * when ids cannot be steered. *same_tick says whether the newcomer started
 * within the clock tick in which the holder did. */
static pid_t holder_then_newcomer(struct shared *s,
                                  int (*hold)(struct shared *s, int fd),
                                  int (*fn)(void *), void *out, size_t len,
                                  int *same_tick)
{
    pid_t dead = start_holder(s, hold);
    unsigned long long started = start_ticks_of(dead);
    kill_and_reap(dead);
    const char *why = NULL;
    pid_t back = newcomer_at(dead, s, fn, out, len, &why);
    if (back < 0) {
        unmap(s);
        skip_because(why);
    }
    *same_tick = back > 0 && start_ticks_of(back) == started;
    return back;
}

static int say_here_and_pause(void *arg)
{
    struct newcomer *n = arg;
    char c = 'x';
    if (write(n->fd, &c, 1) != 1)
        return 2;
    alarm(60); /* gone in time even if the test fails before it kills */
    for (;;)
        pause();
}

/* The newcomer does not use the lock; the parent's try must take the lock
 * over, also (above all) when the newcomer started within the tick in
 * which the holder did, so that its start time is the holder's. */
static void a_dead_holders_lock_is_taken_over_when_its_id_comes_back(
    void **state)
{
    struct shared *s = map_shared();
    int done = 0, same_tick = 0, taken_over = 0;
    for (int attempt = 0; attempt < 5 * TRIALS && done < TRIALS; attempt++) {
        weft_lock_init_shared(&s->lock);
        int same;
        char c;
        pid_t back = holder_then_newcomer(s, hold_lock_and_pause,
                                          say_here_and_pause, &c, 1, &same);
        if (back == 0)
            continue;
        done++;
        same_tick += same;
        int rc = weft_lock_acquire(&s->lock, 0);
        if (rc == WEFT_EOWNERDEAD)
            taken_over++;
        else
            fprintf(stderr, "trial %d (%s tick): %s, not WEFT_EOWNERDEAD\n",
                    done, same ? "same" : "another", weft_strerror(rc));
        if (rc == 0 || rc == WEFT_EOWNERDEAD)
            weft_lock_release(&s->lock);
        kill_and_reap(back);
    }
    unmap(s);
    fprintf(stderr, "%d trials, %d with the newcomer in the holder's tick\n",
            done, same_tick);
    if (done == 0)
        skip_because("other processes took every id first");
    assert_int_equal(taken_over, done);
}

/* What a newcomer found when it tried the lock of the dead holder whose id
 * it has. */
struct finding {
    int rc;         /* of its acquire */
    unsigned count; /* RLock levels it then held */
    int notify_rc;  /* of a notify tried first (conditions) */
};

#define COUNTED 5000

/* After the parent has looked (flag), give the RLock back and count
 * together with the parent: no update may be lost. */
static int count_with_the_parent(struct shared *s, weft_rlock_t *r)
{
    double until = weft_monotonic() + 10 * testing_scale();
    while (!s->flag)
        if (weft_sleep(0.001) != 0 || weft_monotonic() > until)
            return 4; /* the parent gave up: do not outlive it */
    while (weft_rlock_count(r) > 0)
        weft_rlock_release(r);
    for (int i = 0; i < COUNTED; i++) {
        if (weft_rlock_acquire(r, 10.0) != 0)
            return 3;
        s->counter = s->counter + 1;
        weft_rlock_release(r);
    }
    return 0;
}

static int try_the_dead_owners_rlock(void *arg)
{
    struct newcomer *n = arg;
    struct finding f = {0, 0, 0};
    f.rc = weft_rlock_acquire(&n->s->rlock, 0);
    f.count = weft_rlock_count(&n->s->rlock);
    if (write(n->fd, &f, sizeof f) != sizeof f)
        return 2;
    return count_with_the_parent(n->s, &n->s->rlock);
}

static void count_with_the_child(struct shared *s, weft_rlock_t *r)
{
    s->flag = 1;
    for (int i = 0; i < COUNTED; i++) {
        assert_int_equal(weft_rlock_acquire(r, 10.0), 0);
        s->counter = s->counter + 1;
        weft_rlock_release(r);
    }
}

/* The newcomer's main thread has the dead owner's process id and thread
 * id: it is still not the owner. It takes the RLock over, once. */
static void a_newcomer_with_the_dead_owners_id_does_not_own_its_rlock(
    void **state)
{
    struct shared *s = map_shared();
    int done = 0;
    for (int trial = 0; trial < TRIALS && done < TRIALS / 4; trial++) {
        weft_rlock_init_shared(&s->rlock);
        s->flag = 0;
        s->counter = 0;
        struct finding f;
        int same;
        pid_t back = holder_then_newcomer(s, hold_rlock_and_pause,
                                          try_the_dead_owners_rlock, &f,
                                          sizeof f, &same);
        if (back == 0)
            continue;
        done++;
        if (f.rc != WEFT_EOWNERDEAD || f.count != 1)
            fprintf(stderr, "trial %d: the newcomer got %s holding %u\n",
                    trial, weft_strerror(f.rc), f.count);
        assert_int_equal(f.rc, WEFT_EOWNERDEAD);
        assert_int_equal(f.count, 1);
        /* It holds the RLock now: nobody else does. */
        assert_fails_with(weft_rlock_acquire(&s->rlock, 0), WEFT_ETIMEDOUT,
                          "held");
        count_with_the_child(s, &s->rlock);
        assert_int_equal(exit_status(back), 0);
        assert_int_equal(s->counter, 2 * COUNTED);
        assert_false(weft_lock_locked(&weft__rlock(&s->rlock)->lock_));
    }
    unmap(s);
    if (done == 0)
        skip_because("other processes took every id first");
}

static int try_the_dead_owners_condition(void *arg)
{
    struct newcomer *n = arg;
    struct finding f = {0, 0, 0};
    f.notify_rc = weft_condition_notify(&n->s->cond, 1);
    f.rc = weft_condition_acquire(&n->s->cond, 0);
    f.count = weft_rlock_count(&weft__condition(&n->s->cond)->rlock_);
    if (write(n->fd, &f, sizeof f) != sizeof f)
        return 2;
    return count_with_the_parent(n->s, &weft__condition(&n->s->cond)->rlock_);
}

static void a_newcomer_with_the_dead_owners_id_does_not_own_its_condition(
    void **state)
{
    struct shared *s = map_shared();
    int done = 0;
    for (int trial = 0; trial < TRIALS && done < TRIALS / 4; trial++) {
        weft_condition_init_shared(&s->cond);
        s->flag = 0;
        s->counter = 0;
        struct finding f;
        int same;
        pid_t back = holder_then_newcomer(s, hold_condition_and_pause,
                                          try_the_dead_owners_condition, &f,
                                          sizeof f, &same);
        if (back == 0)
            continue;
        done++;
        assert_int_equal(f.notify_rc, WEFT_EPERM);
        assert_int_equal(f.rc, WEFT_EOWNERDEAD);
        assert_int_equal(f.count, 1);
        assert_fails_with(weft_condition_acquire(&s->cond, 0), WEFT_ETIMEDOUT,
                          "held");
        count_with_the_child(s, &weft__condition(&s->cond)->rlock_);
        assert_int_equal(exit_status(back), 0);
        assert_int_equal(s->counter, 2 * COUNTED);
    }
    unmap(s);
    if (done == 0)
        skip_because("other processes took every id first");
}

/* What the record says, asked directly: this process is alive; another
 * process with this process's id (a discriminator that is not this
 * process's) has ended; a record naming another id says nothing about
 * this one, which then counts as alive; a reaped process has ended. */
static void a_record_names_one_process_and_no_other(void **state)
{
    uint64_t me = weft__sync_record();
    uint32_t pid = (uint32_t)getpid();
    assert_int_equal(weft__sync_record_pid(me), pid);
    assert_false(weft__sync_holder_gone(pid, me));
    assert_true(weft__sync_holder_gone(pid, me ^ 1));
    assert_false(weft__sync_holder_gone(pid, me + (UINT64_C(1) << 42)));
    assert_false(weft__sync_holder_gone(pid, 0));
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    assert_true(weft__sync_holder_gone((uint32_t)child, 0));
    uint64_t its = ((uint64_t)child << 42) | (me & ((UINT64_C(1) << 42) - 1));
    assert_true(weft__sync_holder_gone((uint32_t)child, its));
}


/* The shared variants refuse a bad timeout as the others do, free or not. */
static void a_bad_timeout_is_refused_by_the_shared_variants(void **state)
{
    struct shared *s = map_shared();
    weft_lock_init_shared(&s->lock);
    weft_rlock_init_shared(&s->rlock);
    weft_semaphore_init_shared(&s->sem, 2);
    weft_event_init_shared(&s->event);
    weft_event_set(&s->event);
    const double bad[] = {-3.0, NAN};
    for (size_t i = 0; i < 2; i++) {
        assert_fails_with(weft_lock_acquire(&s->lock, bad[i]), WEFT_EINVAL,
                          "timeout");
        assert_false(weft_lock_locked(&s->lock));
        assert_fails_with(weft_rlock_acquire(&s->rlock, bad[i]), WEFT_EINVAL,
                          "timeout");
        assert_false(weft_rlock_is_owned(&s->rlock));
        assert_fails_with(weft_semaphore_acquire(&s->sem, bad[i]),
                          WEFT_EINVAL, "timeout");
        assert_int_equal(weft_semaphore_value(&s->sem), 2);
        assert_fails_with(weft_event_wait(&s->event, bad[i]), WEFT_EINVAL,
                          "timeout");
    }
    unmap(s);
}


/* A wait on a shared condition returns 0 only for a notify: a signal that
 * interrupts the kernel's futex wait (EINTR) is not one. A helper thread
 * signals the waiter every few milliseconds; with nobody notifying, the
 * wait must run to its timeout. */
struct interrupted {
    struct shared *s;
    _Atomic pid_t tid;
    _Atomic int done;
    int rc;
    double waited;
};

static void on_usr1(int sig)
{
    (void)sig;
}

static void wait_on_shared_condition(void *arg)
{
    struct interrupted *in = arg;
    weft_condition_acquire(&in->s->cond, WEFT_FOREVER);
    atomic_store(&in->tid, gettid());
    double t0 = weft_monotonic();
    in->rc = weft_condition_wait(&in->s->cond, 0.3);
    in->waited = weft_monotonic() - t0;
    weft_condition_release(&in->s->cond);
    atomic_store(&in->done, 1);
}

static void a_signal_does_not_end_a_shared_condition_wait(void **state)
{
    struct shared *s = map_shared();
    weft_condition_init_shared(&s->cond);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, &old);
    struct interrupted in = {.s = s};
    testing_thread_t *t = testing_thread_start(wait_on_shared_condition, &in);
    while (!atomic_load(&in.done)) {
        pid_t tid = atomic_load(&in.tid);
        if (tid > 0)
            syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
        weft_sleep(0.002);
    }
    testing_thread_join(t);
    sigaction(SIGUSR1, &old, NULL);
    assert_int_equal(in.rc, WEFT_ETIMEDOUT);
    assert_true(in.waited >= 0.3);
    unmap(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_shared_lock_excludes_across_processes),
        cmocka_unit_test(a_dead_holders_lock_goes_to_the_next_acquirer),
        cmocka_unit_test(a_try_finds_a_dead_holder_at_once),
        cmocka_unit_test(a_live_holder_makes_a_timed_acquire_time_out),
        cmocka_unit_test(a_cancelled_scope_ends_a_shared_wait),
        cmocka_unit_test(releasing_a_free_shared_lock_is_an_error),
        cmocka_unit_test(a_shared_rlock_is_taken_over_once_from_a_dead_owner),
        cmocka_unit_test(a_shared_semaphore_counts_across_processes),
        cmocka_unit_test(a_shared_event_wakes_other_processes),
        cmocka_unit_test(a_shared_condition_wakes_a_waiter_in_another_process),
        cmocka_unit_test(a_condition_over_a_shared_lock_wakes_another_process),
        cmocka_unit_test(a_shared_barrier_releases_parties_across_processes),
        cmocka_unit_test(
            a_dead_holders_lock_is_taken_over_when_its_id_comes_back),
        cmocka_unit_test(
            a_newcomer_with_the_dead_owners_id_does_not_own_its_rlock),
        cmocka_unit_test(
            a_newcomer_with_the_dead_owners_id_does_not_own_its_condition),
        /* Last: after threads, fork() is not for ThreadSanitizer. */
        cmocka_unit_test(a_shared_lock_also_excludes_threads),
        cmocka_unit_test(a_signal_does_not_end_a_shared_condition_wait),
        cmocka_unit_test(a_record_names_one_process_and_no_other),
        cmocka_unit_test(a_bad_timeout_is_refused_by_the_shared_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
