/* SPDX-License-Identifier: MIT */
/* A race, and the Lock that fixes it: the seed's unprotected counter next to
 * the protected one, 5 threads x 100,000 increments each. Python:
 *
 *     def unsafe_increment():
 *         global counter
 *         for _ in range(100000):
 *             temp = counter
 *             counter = temp + 1  # Not atomic!
 *
 *     def safe_increment():
 *         global counter
 *         for _ in range(100000):
 *             with lock:
 *                 counter += 1
 *
 * weft threads run in parallel (there is no GIL), so the unprotected count
 * loses updates far more often than Python's does; a barrier lets the
 * threads loose together, so that they do overlap. The race is real but
 * kept free of undefined behaviour: the read and the write are each a
 * relaxed atomic access, and another thread's increment can still fall
 * between them and be overwritten.
 */
#include <stdatomic.h>
#include <stdio.h>

#include <weft.h>

#define THREADS 5
#define INCREMENTS 100000

static volatile _Atomic long unsafe_counter;
static long counter;
static weft_lock_t lock = WEFT_LOCK_INIT;
static weft_barrier_t start_line;

int unsafe_increment(void *arg, void **result)
{
    weft_barrier_wait(&start_line, NULL);
    for (int i = 0; i < INCREMENTS; i++) {
        long temp = atomic_load_explicit(&unsafe_counter, memory_order_relaxed);
        atomic_store_explicit(&unsafe_counter, temp + 1,
                              memory_order_relaxed); /* not atomic! */
    }
    return 0;
}

int safe_increment(void *arg, void **result)
{
    weft_barrier_wait(&start_line, NULL);
    for (int i = 0; i < INCREMENTS; i++) {
        weft_lock_acquire(&lock, WEFT_FOREVER); /* with lock: */
        counter++;
        weft_lock_release(&lock);
    }
    return 0;
}

static int run_threads(weft_fn target)
{
    weft_thread_t *threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (weft_thread_new(&threads[i], target, NULL, NULL) != 0 ||
            weft_thread_start(threads[i]) != 0)
            return 1;
    for (int i = 0; i < THREADS; i++) {
        weft_thread_join(threads[i], WEFT_FOREVER);
        weft_thread_free(threads[i]);
    }
    return 0;
}

int main(void)
{
    weft_barrier_init(&start_line, THREADS, NULL, NULL, WEFT_FOREVER);
    if (run_threads(unsafe_increment) != 0)
        return 1;
    printf("Without a lock: Expected: %d, Got: %ld\n", THREADS * INCREMENTS,
           atomic_load(&unsafe_counter));
    if (run_threads(safe_increment) != 0)
        return 1;
    printf("With a lock:    Expected: %d, Got: %ld\n", THREADS * INCREMENTS,
           counter);
    return 0;
}
