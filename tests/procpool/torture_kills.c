/* SPDX-License-Identifier: MIT */
/* procpool torture: a process pool maps 2,000 checked tasks per torture
 * second (20,000 in a 10 s run; fewer where three torture seconds do not
 * suffice for them) while a killer SIGKILLs one of its workers,
 * at random, every 50 to 200 ms; beside it a second pool runs tasks with
 * random timeouts and stops under the same killer, and is freed with
 * tasks still in flight.
 *
 * Each task notes in a file mapped by every worker (its initializer maps
 * it) that it started, and in which process. The map must give every
 * index exactly once; a task must never start twice (Python's "at most
 * once"); a success must carry the right result; and a failure must be
 * WEFT_EWORKERDIED naming a worker the killer killed and the task that
 * was running there: its own id, in the worker that notes say ran it.
 * The second pool's tasks may also time out (only those with a timeout)
 * or be stopped (only those asked), and never start twice either. */
#include "testing_proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_KILLED 4096
#define SIDE_TASKS 4096

struct note {
    _Atomic uint32_t starts;
    _Atomic int32_t pid;
};

/* In a worker: the notes, mapped by the initializer. */
static struct note *notes;

int map_notes(const weft_bytes_t *arg, weft_bytes_t *result);
int map_notes(const weft_bytes_t *arg, weft_bytes_t *result)
{
    size_t len;
    char path[128];
    memcpy(&len, arg->data, sizeof len);
    memcpy(path, arg->data + sizeof len, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "cannot open %s", path);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return weft_fail(WEFT_ESYS, "cannot map %s", path);
    notes = p;
    return 0;
}

struct job {
    int64_t index;
    double seconds; /* how long it works */
};

/* The pid first: a kill between the two leaves a start not counted, never
 * a start counted without its process. */
static void note_start(int64_t index)
{
    atomic_store(&notes[index].pid, (int32_t)getpid());
    atomic_fetch_add(&notes[index].starts, 1);
}

/* Not static: the pool's messages name it. */
int checked(const weft_bytes_t *arg, weft_bytes_t *result);
int checked(const weft_bytes_t *arg, weft_bytes_t *result)
{
    struct job j;
    memcpy(&j, arg->data, sizeof j);
    note_start(j.index);
    double end = weft_monotonic() + j.seconds;
    while (weft_monotonic() < end)
        ;
    int64_t r = j.index * 3 + 7;
    return weft_bytes_copy(result, &r, sizeof r);
}

int dozing(const weft_bytes_t *arg, weft_bytes_t *result);
int dozing(const weft_bytes_t *arg, weft_bytes_t *result)
{
    struct job j;
    memcpy(&j, arg->data, sizeof j);
    note_start(j.index);
    weft_sleep(j.seconds);
    int64_t r = j.index * 3 + 7;
    return weft_bytes_copy(result, &r, sizeof r);
}

struct side_task {
    weft_future_t *f;
    int timed;
};

struct run {
    weft_executor_t *mapped, *side;
    struct note *notes;
    size_t n;
    _Atomic int stop;
    int killed[MAX_KILLED];
    _Atomic int nkilled;
    testing_rng_t kill_rng, side_rng;
    struct side_task *tasks;
    size_t nside;
};

static int was_killed(struct run *r, long pid)
{
    int n = atomic_load(&r->nkilled);
    for (int i = 0; i < n; i++)
        if (r->killed[i] == pid)
            return 1;
    return 0;
}

/* Kill a random worker of either pool every 50 to 200 ms. */
static void killer(void *arg)
{
    struct run *r = arg;
    while (!atomic_load(&r->stop) && atomic_load(&r->nkilled) < MAX_KILLED) {
        weft_sleep((double)(50 + testing_rng_below(&r->kill_rng, 151)) * 1e-3);
        weft_executor_t *ex =
            testing_rng_below(&r->kill_rng, 4) ? r->mapped : r->side;
        int pids[64];
        size_t n = weft_process_pool_pids(ex, pids, 64);
        if (n == 0 || atomic_load(&r->stop))
            continue;
        int pid = pids[testing_rng_below(&r->kill_rng, n < 64 ? n : 64)];
        /* Noted before the kill: a failure may be seen at once. */
        int k = atomic_load(&r->nkilled);
        r->killed[k] = pid;
        atomic_store(&r->nkilled, k + 1);
        kill(pid, SIGKILL);
    }
}

static weft_executor_t *pool(const char *path, size_t len, unsigned workers)
{
    unsigned char arg[sizeof len + 128] = {0};
    memcpy(arg, &len, sizeof len);
    memcpy(arg + sizeof len, path, strlen(path) + 1);
    weft_process_pool_opts_t o = {0};
    o.max_workers = workers;
    o.initializer = map_notes;
    o.initarg = arg;
    o.initarg_len = sizeof arg;
    weft_executor_t *ex;
    int rc = weft_process_pool_new(&ex, &o);
    if (rc)
        fail_msg("process_pool_new: %s", weft_last_message());
    return ex;
}

/* ----- The side pool: timeouts and stops ----- */

static void submit_side(struct run *r, struct side_task *s, int64_t index)
{
    testing_rng_t *g = &r->side_rng;
    s->timed = testing_rng_below(g, 3) == 0;
    double timeout =
        s->timed ? (double)(1 + testing_rng_below(g, 30)) * 1e-3 : WEFT_FOREVER;
    struct job j = {index, (double)testing_rng_below(g, 20) * 1e-3};
    int rc = weft_process_pool_submit_timeout(r->side, dozing, &j, sizeof j,
                                              timeout, &s->f);
    if (rc)
        fail_msg("side submit: %s", weft_last_message());
}

/* Submit to the side pool, stopping some tasks after a while, until the
 * map is done. */
static void side(void *arg)
{
    struct run *r = arg;
    testing_rng_t *g = &r->side_rng;
    while (!atomic_load(&r->stop) && r->nside < SIDE_TASKS) {
        struct side_task *s = &r->tasks[r->nside];
        submit_side(r, s, (int64_t)(r->n + r->nside));
        r->nside++;
        if (testing_rng_below(g, 8) == 0) {
            weft_sleep((double)testing_rng_below(g, 5) * 1e-3);
            weft_future_stop(s->f);
        }
        weft_sleep((double)testing_rng_below(g, 3) * 1e-3);
    }
}

/* Free the side pool with tasks in flight (what has not finished ends
 * CANCELLED), then check every outcome. */
static void check_side(struct run *r)
{
    weft_executor_free(r->side);
    size_t outcomes[4] = {0};
    for (size_t i = 0; i < r->nside; i++) {
        struct side_task *s = &r->tasks[i];
        int64_t index = (int64_t)(r->n + i);
        assert_true(weft_future_done(s->f));
        const weft_bytes_t *res;
        int rc = weft_future_result_bytes(s->f, 0, &res);
        uint32_t starts = atomic_load(&r->notes[index].starts);
        if (starts > 1)
            fail_msg("side task %lld started %u times", (long long)index,
                     starts);
        outcomes[rc == 0                 ? 0
                 : rc == WEFT_ETIMEDOUT  ? 1
                 : rc == WEFT_ECANCELLED ? 2
                                         : 3]++;
        if (rc == 0) {
            int64_t v;
            memcpy(&v, res->data, sizeof v);
            assert_int_equal(v, index * 3 + 7);
        } else if (rc == WEFT_ETIMEDOUT) {
            assert_true(s->timed);
        } else if (rc == WEFT_EWORKERDIED) {
            long pid = atol(strstr(weft_last_message(), "worker ") + 7);
            if (!was_killed(r, pid))
                fail_msg("side task %lld: %s", (long long)index,
                         weft_last_message());
        } else if (rc != WEFT_ECANCELLED) {
            fail_msg("side task %lld: %s (%s)", (long long)index,
                     weft_errname(rc), weft_last_message());
        }
        weft_future_free(s->f);
    }
    fprintf(stderr,
            "torture_kills: side pool: %zu done, %zu timed out, %zu "
            "cancelled, %zu failed with their worker\n",
            outcomes[0], outcomes[1], outcomes[2], outcomes[3]);
}

/* ----- The map ----- */

/* A failure of item index: the worker it names was killed, was running
 * this very task, and the task had started there (or had not yet noted
 * it). */
static void check_failure(struct run *r, size_t index, int rc, const char *why)
{
    if (rc != WEFT_EWORKERDIED || strstr(why, "killed by signal 9") == NULL)
        fail_msg("item %zu: %s (%s)", index, weft_errname(rc), why);
    long pid = atol(strstr(why, "worker ") + 7);
    assert_true(was_killed(r, pid));
    char task[64];
    snprintf(task, sizeof task, "while running task %zu (checked)", index + 1);
    if (strstr(why, task) == NULL)
        fail_msg("item %zu: %s", index, why);
    uint32_t starts = atomic_load(&r->notes[index].starts);
    assert_true(starts <= 1);
    if (starts == 1)
        assert_int_equal(atomic_load(&r->notes[index].pid), pid);
}

/* One map over tasks [lo, hi): every index comes back once, right or
 * failed with its worker. Returns the failures. */
static size_t map_round(struct run *r, weft_bytes_t *args, uint8_t *seen,
                        size_t lo, size_t hi)
{
    weft_map_t *m;
    assert_int_equal(weft_executor_map_bytes(&m, r->mapped, checked, args + lo,
                                             hi - lo, NULL),
                     0);
    size_t index, failures = 0;
    const weft_bytes_t *res;
    int rc;
    while ((rc = weft_map_next_bytes(m, &res, &index)) != WEFT_EEOF) {
        index += lo;
        assert_true(index < hi && !seen[index]);
        seen[index] = 1;
        if (rc == 0) {
            int64_t v;
            memcpy(&v, res->data, sizeof v);
            assert_int_equal(v, (int64_t)index * 3 + 7);
            assert_int_equal(atomic_load(&r->notes[index].starts), 1);
        } else {
            check_failure(r, index, rc, weft_last_message());
            failures++;
        }
    }
    weft_map_free(m);
    return failures;
}

/* Maps of ROUND tasks, one after another, up to r->n tasks or as many as
 * three torture seconds allow (under ThreadSanitizer with the chaos points
 * on, a worker's restart costs seconds). */
static void map_under_kills(struct run *r)
{
    enum { ROUND = 250 };
    struct job *jobs = calloc(r->n, sizeof *jobs);
    weft_bytes_t *args = calloc(r->n, sizeof *args);
    for (size_t i = 0; i < r->n; i++) {
        jobs[i] = (struct job){(int64_t)i, 200e-6};
        args[i] = (weft_bytes_t){(unsigned char *)&jobs[i], sizeof jobs[i]};
    }
    uint8_t *seen = calloc(r->n, 1);
    size_t done = 0, failures = 0;
    double end = weft_monotonic() + 3 * testing_torture_seconds();
    while (done < r->n && (done == 0 || weft_monotonic() < end)) {
        size_t hi = done + ROUND < r->n ? done + ROUND : r->n;
        failures += map_round(r, args, seen, done, hi);
        done = hi;
    }
    for (size_t i = 0; i < done; i++)
        if (!seen[i])
            fail_msg("item %zu never came back", i);
    fprintf(stderr,
            "torture_kills: %zu tasks, %d kills, %zu failed with their "
            "worker\n",
            done, atomic_load(&r->nkilled), failures);
    free(seen);
    free(args);
    free(jobs);
}

static void a_map_under_random_kills_loses_and_repeats_nothing(void **state)
{
    struct run *r = calloc(1, sizeof *r);
    r->n = (size_t)(2000 * testing_torture_seconds());
    testing_rng_init(&r->kill_rng, 7);
    testing_rng_init(&r->side_rng, 8);
    r->tasks = calloc(SIDE_TASKS, sizeof *r->tasks);
    char path[128];
    snprintf(path, sizeof path, "/tmp/weft-torture-kills-%ld", (long)getpid());
    size_t len = (r->n + SIDE_TASKS) * sizeof(struct note);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)len), 0);
    r->notes = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(r->notes != MAP_FAILED);
    r->mapped = pool(path, len, 2);
    r->side = pool(path, len, 2);
    testing_thread_t *k = testing_thread_start(killer, r);
    testing_thread_t *s = testing_thread_start(side, r);
    map_under_kills(r);
    atomic_store(&r->stop, 1);
    testing_thread_join(k);
    testing_thread_join(s);
    check_side(r);
    weft_executor_free(r->mapped);
    munmap(r->notes, len);
    unlink(path);
    free(r->tasks);
    free(r);
}

int main(void)
{
    testing_seed();
    const struct CMUnitTest tests[] = {
        testing_proc_test(a_map_under_random_kills_loses_and_repeats_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
