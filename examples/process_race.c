/* SPDX-License-Identifier: MIT */
/* Five processes, a thousand increments each, of a shared Value: without a
 * lock, and with one. Python:
 *
 *     def increment(shared_val):
 *         for _ in range(1000):
 *             shared_val.value += 1           # not atomic across processes
 *
 *     def safe_increment(val, lock):
 *         for _ in range(1000):
 *             with lock:
 *                 val.value += 1
 *
 *     val = Value('i', 0)
 *     processes = [Process(target=increment, args=(val,)) for _ in range(5)]
 *     ...start, join...
 *     print(val.value)     # can be less than 5000
 *     ...the same with safe_increment and a Lock: exactly 5000
 *
 * The processes wait for one another at a shared Barrier first, so that
 * they do overlap. The unprotected read and write are each a relaxed atomic
 * access (so the race is real, without undefined behaviour): another
 * process's increment can fall between them and be lost.
 */
#include <stdatomic.h>
#include <stdio.h>

#include <weft.h>

#define PROCS 5
#define INCREMENTS 1000

/* What the processes share: the counter, and the starting line. */
struct shared {
    _Atomic int value;
    weft_barrier_t start_line;
};

static struct shared *open_shared(const weft_bytes_t *arg, weft_shm_t **s)
{
    if (weft_shm_from_share(s, weft_arg_share(arg, 0)) != 0)
        return NULL;
    return weft_shm_buf(*s);
}

int increment(const weft_bytes_t *arg)
{
    weft_shm_t *s;
    struct shared *val = open_shared(arg, &s);
    if (val == NULL)
        return 1;
    weft_barrier_wait(&val->start_line, NULL);
    for (int i = 0; i < INCREMENTS; i++) {
        int v = atomic_load_explicit(&val->value, memory_order_relaxed);
        atomic_store_explicit(&val->value, v + 1,
                              memory_order_relaxed); /* not atomic! */
    }
    weft_shm_free(s);
    return 0;
}

int safe_increment(const weft_bytes_t *arg)
{
    weft_shm_t *s;
    struct shared *val = open_shared(arg, &s);
    if (val == NULL)
        return 1;
    weft_lock_t *lock = (weft_lock_t *)((char *)val + sizeof *val);
    weft_barrier_wait(&val->start_line, NULL);
    for (int i = 0; i < INCREMENTS; i++) {
        weft_lock_acquire(lock, WEFT_FOREVER); /* with lock: */
        atomic_store_explicit(
            &val->value,
            atomic_load_explicit(&val->value, memory_order_relaxed) + 1,
            memory_order_relaxed);
        weft_lock_release(lock);
    }
    weft_shm_free(s);
    return 0;
}

/* A fresh shared counter (and a Lock after it), five processes running
 * target on it; returns the count. */
static int run(weft_process_fn target)
{
    weft_shm_t *s;
    if (weft_shm_create(&s, NULL,
                        sizeof(struct shared) + sizeof(weft_lock_t)) != 0)
        return -1;
    struct shared *val = weft_shm_buf(s);
    weft_barrier_init_shared(&val->start_line, PROCS, NULL, NULL, WEFT_FOREVER);
    weft_lock_init_shared((weft_lock_t *)((char *)val + sizeof *val));
    weft_share_t h;
    weft_shm_share(s, &h);
    weft_process_t *p[PROCS];
    for (int i = 0; i < PROCS; i++)
        if (weft_process_new(&p[i], target, &h, sizeof h, NULL) != 0 ||
            weft_process_pass(p[i], &h) != 0 || weft_process_start(p[i]) != 0)
            return -1;
    for (int i = 0; i < PROCS; i++) {
        weft_process_join(p[i], WEFT_FOREVER);
        weft_process_free(p[i]);
    }
    int count = atomic_load(&val->value);
    weft_shm_free(s);
    return count;
}

int main(void)
{
    printf("Without a lock: Expected: %d, Got: %d\n", PROCS * INCREMENTS,
           run(increment));
    printf("With a lock:    Expected: %d, Got: %d\n", PROCS * INCREMENTS,
           run(safe_increment));
    return 0;
}
