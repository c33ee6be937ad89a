/* SPDX-License-Identifier: MIT */
/* shm: Value and Array, their locks, and children that share them. */
#include "testing_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

static void every_typecode_has_its_c_size(void **state)
{
    const struct {
        char code;
        size_t size;
    } types[] = {{'c', 1},
                 {'b', 1},
                 {'B', 1},
                 {'h', sizeof(short)},
                 {'H', sizeof(short)},
                 {'i', sizeof(int)},
                 {'I', sizeof(int)},
                 {'l', sizeof(long)},
                 {'L', sizeof(long)},
                 {'q', sizeof(long long)},
                 {'Q', sizeof(long long)},
                 {'f', sizeof(float)},
                 {'d', sizeof(double)},
                 {'u', sizeof(wchar_t)}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        weft_array_t *a;
        assert_int_equal(weft_array_new(&a, types[i].code, 3, 0), 0);
        assert_int_equal(weft_array_itemsize(a), types[i].size);
        assert_int_equal(weft_array_len(a), 3);
        assert_int_equal(weft_array_typecode(a), types[i].code);
        assert_null(weft_array_get_lock(a));
        weft_array_free(a);
    }
    weft_value_t *v;
    assert_fails_with(weft_value_new(&v, 'z', 1), WEFT_EINVAL, "typecode 'z'");
    weft_array_t *a;
    assert_fails_with(weft_array_new(&a, 'i', 0, 1), WEFT_EINVAL, "0 items");
}

static void a_value_starts_at_zero_with_its_lock(void **state)
{
    weft_value_t *v;
    assert_int_equal(weft_value_new(&v, 'd', 1), 0);
    assert_int_equal(weft_value_typecode(v), 'd');
    double *d = weft_value_ptr(v);
    assert_true(*d == 0.0);
    weft_rlock_t *lock = weft_value_get_lock(v);
    assert_non_null(lock);
    assert_int_equal(weft_rlock_acquire(lock, 0), 0);
    assert_int_equal(weft_rlock_acquire(lock, 0), 0); /* an RLock */
    *d = 2.5;
    weft_rlock_release(lock);
    weft_rlock_release(lock);
    weft_value_free(v);
    assert_int_equal(weft_value_new(&v, 'i', 0), 0);
    assert_null(weft_value_get_lock(v));
    weft_value_free(v);
}

#define PROCS 8
#define INCREMENTS 1000

/* counter.value += 1, under counter.get_lock(), a thousand times. */
static int add_under_lock(const weft_bytes_t *arg)
{
    weft_value_t *v;
    if (weft_value_from_share(&v, weft_arg_share(arg, 0)) != 0)
        return 1;
    weft_rlock_t *lock = weft_value_get_lock(v);
    int *n = weft_value_ptr(v);
    for (int i = 0; i < INCREMENTS; i++) {
        weft_rlock_acquire(lock, WEFT_FOREVER);
        *n += 1;
        weft_rlock_release(lock);
    }
    weft_value_free(v);
    return 0;
}

static void processes_counting_under_the_values_lock_count_exactly(void **state)
{
    weft_value_t *v;
    weft_value_new(&v, 'i', 1);
    weft_share_t h;
    assert_int_equal(weft_value_share(v, &h), 0);
    weft_process_t *p[PROCS];
    for (int i = 0; i < PROCS; i++) {
        weft_context_t *ctx;
        weft_get_context(&ctx, i % 2 ? "fork" : "forkserver");
        weft_context_process_new(ctx, &p[i], add_under_lock, &h, sizeof h,
                                 NULL);
        weft_process_pass(p[i], &h);
        assert_int_equal(weft_process_start(p[i]), 0);
    }
    for (int i = 0; i < PROCS; i++) {
        assert_int_equal(weft_process_join(p[i], 20 * testing_scale()), 0);
        int code = -1;
        weft_process_exitcode(p[i], &code);
        assert_int_equal(code, 0);
        weft_process_free(p[i]);
    }
    assert_int_equal(*(int *)weft_value_ptr(v), PROCS * INCREMENTS);
    weft_value_free(v);
}

static int fill_squares(const weft_bytes_t *arg)
{
    weft_array_t *a;
    if (weft_array_from_share(&a, weft_arg_share(arg, 0)) != 0)
        return 1;
    double *x = weft_array_ptr(a);
    for (size_t i = 0; i < weft_array_len(a); i++)
        x[i] = (double)(i * i);
    weft_array_free(a);
    return 0;
}

static void a_child_fills_an_array(void **state)
{
    weft_array_t *a;
    assert_int_equal(weft_array_new(&a, 'd', 10, 1), 0);
    weft_share_t h;
    weft_array_share(a, &h);
    weft_context_t *ctx;
    weft_get_context(&ctx, "spawn");
    weft_process_t *p;
    weft_context_process_new(ctx, &p, fill_squares, &h, sizeof h, NULL);
    weft_process_pass(p, &h);
    weft_process_start(p);
    assert_int_equal(weft_process_join(p, 20 * testing_scale()), 0);
    weft_process_free(p);
    double *x = weft_array_ptr(a);
    for (int i = 0; i < 10; i++)
        assert_true(x[i] == (double)(i * i));
    weft_array_free(a);
}

/* Take the Value's lock, say so on the passed descriptor, wait to die. */
static int hold_the_lock(const weft_bytes_t *arg)
{
    weft_value_t *v;
    int fd;
    memcpy(&fd, arg->data + sizeof(weft_share_t), sizeof fd);
    if (weft_value_from_share(&v, weft_arg_share(arg, 0)) != 0 ||
        weft_rlock_acquire(weft_value_get_lock(v), WEFT_FOREVER) != 0)
        return 1;
    *(int *)weft_value_ptr(v) = 13; /* half-way through an update */
    if (write(fd, "x", 1) != 1)
        return 2;
    for (;;)
        pause();
}

static void a_child_killed_holding_the_lock_hands_it_on(void **state)
{
    weft_value_t *v;
    weft_value_new(&v, 'i', 1);
    int fds[2];
    testing_pipe(fds);
    unsigned char arg[sizeof(weft_share_t) + sizeof(int)];
    weft_share_t h;
    weft_value_share(v, &h);
    memcpy(arg, &h, sizeof h);
    memcpy(arg + sizeof h, &fds[1], sizeof fds[1]);
    weft_process_t *p;
    weft_process_new(&p, hold_the_lock, arg, sizeof arg, NULL);
    weft_process_pass(p, &h);
    weft_process_pass_fd(p, fds[1]);
    assert_int_equal(weft_process_start(p), 0);
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    weft_process_kill(p);
    /* Python would wait here forever. */
    assert_fails_with(weft_rlock_acquire(weft_value_get_lock(v), 5.0),
                      WEFT_EOWNERDEAD, "died");
    assert_int_equal(*(int *)weft_value_ptr(v), 13);
    assert_int_equal(weft_rlock_release(weft_value_get_lock(v)), 0);
    assert_int_equal(weft_process_join(p, 5.0), 0);
    weft_process_free(p);
    weft_value_free(v);
}


/* ----- A dead holder whose process id comes back -----
 *
 * The lock of a Value or an Array is a shared RLock. A holder is killed and
 * reaped, and a newcomer (a plain fork, so that its main thread has the
 * holder's thread id too) is made to get the holder's process id: it is
 * still not the owner, takes the lock over once with WEFT_EOWNERDEAD, and
 * while it holds the lock nobody else does. */
struct dead_and_back {
    weft_rlock_t *lock;
    int fd;
};

struct found {
    int rc;
    unsigned count;
};

static int hold_twice_and_pause(void *arg)
{
    struct dead_and_back *d = arg;
    if (weft_rlock_acquire(d->lock, WEFT_FOREVER) != 0 ||
        weft_rlock_acquire(d->lock, WEFT_FOREVER) != 0)
        return 1;
    struct found f = {0, weft_rlock_count(d->lock)};
    if (write(d->fd, &f, sizeof f) != sizeof f)
        return 2;
    alarm(60); /* gone in time even if the test fails before it kills */
    for (;;)
        pause();
}

static int try_and_pause(void *arg)
{
    struct dead_and_back *d = arg;
    struct found f;
    f.rc = weft_rlock_acquire(d->lock, 0);
    f.count = weft_rlock_count(d->lock);
    if (write(d->fd, &f, sizeof f) != sizeof f)
        return 2;
    alarm(60); /* gone in time even if the test fails before it kills */
    for (;;)
        pause();
}

/* Run fn in a child (at id pid if pid > 0) and read what it found. Returns
 * the child's id; 0 when another process took pid first; skips when ids
 * cannot be steered. */
static pid_t run_child(weft_rlock_t *lock, pid_t pid, int (*fn)(void *),
                       struct found *f)
{
    int fds[2];
    testing_pipe(fds);
    struct dead_and_back d = {lock, fds[1]};
    const char *why = NULL;
    pid_t child;
    if (pid > 0) {
        child = testing_fork_at_pid(pid, fn, &d, &why);
    } else {
        child = fork();
        assert_true(child >= 0);
        if (child == 0)
            _exit(fn(&d));
    }
    close(fds[1]);
    if (child > 0)
        assert_int_equal(read(fds[0], f, sizeof *f), (ssize_t)sizeof *f);
    close(fds[0]);
    if (child < 0) {
        fprintf(stderr, "skipped: %s\n", why);
        skip();
    }
    return child;
}

static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void a_dead_holders_id_coming_back_is_not_the_owner(weft_rlock_t *lock)
{
    int done = 0;
    for (int attempt = 0; attempt < 20 && done < 3; attempt++) {
        struct found f;
        pid_t dead = run_child(lock, 0, hold_twice_and_pause, &f);
        assert_int_equal(f.count, 2);
        kill_and_reap(dead);
        pid_t back = run_child(lock, dead, try_and_pause, &f);
        if (back == 0) {
            assert_int_equal(weft_rlock_acquire(lock, 5.0), WEFT_EOWNERDEAD);
            weft_rlock_release(lock);
            continue; /* another process took the id first */
        }
        done++;
        assert_int_equal(f.rc, WEFT_EOWNERDEAD);
        assert_int_equal(f.count, 1);
        assert_fails_with(weft_rlock_acquire(lock, 0), WEFT_ETIMEDOUT, "held");
        kill_and_reap(back); /* it dies holding the lock, in turn */
        assert_fails_with(weft_rlock_acquire(lock, 0), WEFT_EOWNERDEAD,
                          "died");
        assert_int_equal(weft_rlock_count(lock), 1);
        assert_int_equal(weft_rlock_release(lock), 0);
    }
    if (done == 0) {
        fprintf(stderr, "skipped: other processes took every id first\n");
        skip();
    }
}

static void a_values_lock_is_not_owned_by_a_dead_holders_namesake(void **state)
{
    weft_value_t *v;
    assert_int_equal(weft_value_new(&v, 'i', 1), 0);
    a_dead_holders_id_coming_back_is_not_the_owner(weft_value_get_lock(v));
    weft_value_free(v);
}

static void an_arrays_lock_is_not_owned_by_a_dead_holders_namesake(void **state)
{
    weft_array_t *a;
    assert_int_equal(weft_array_new(&a, 'd', 4, 1), 0);
    a_dead_holders_id_coming_back_is_not_the_owner(weft_array_get_lock(a));
    weft_array_free(a);
}

static void shares_of_the_wrong_kind_are_refused(void **state)
{
    weft_value_t *v;
    weft_array_t *a;
    weft_value_new(&v, 'i', 0);
    weft_share_t h;
    weft_value_share(v, &h);
    assert_fails_with(weft_array_from_share(&a, &h), WEFT_EINVAL,
                      "not an Array");
    weft_shm_t *s;
    weft_shm_create(&s, NULL, 4096);
    weft_shm_share(s, &h);
    assert_fails_with(weft_value_from_share(&v, &h), WEFT_EINVAL,
                      "not a Value");
    weft_shm_free(s);
    weft_value_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_typecode_has_its_c_size),
        cmocka_unit_test(a_value_starts_at_zero_with_its_lock),
        testing_proc_test(
            processes_counting_under_the_values_lock_count_exactly),
        testing_proc_test(a_child_fills_an_array),
        testing_proc_test(a_child_killed_holding_the_lock_hands_it_on),
        testing_proc_test(
            a_values_lock_is_not_owned_by_a_dead_holders_namesake),
        testing_proc_test(
            an_arrays_lock_is_not_owned_by_a_dead_holders_namesake),
        cmocka_unit_test(shares_of_the_wrong_kind_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
