/* SPDX-License-Identifier: MIT */
/* 100 processes incrementing a shared Value under a Lock. Python:
 *
 *     counter = multiprocessing.Value('i', 0)
 *     counter_lock = multiprocessing.Lock()
 *
 *     def increment_counter(counter, counter_lock):
 *         with counter_lock:
 *             counter.value += 1
 *
 *     processes = [multiprocessing.Process(target=increment_counter,
 *                                          args=(counter, counter_lock))
 *                  for _ in range(100)]
 *     ...start them all, join them all...
 *     print(f"Counter value: {counter.value}")   # Counter value: 100
 *
 * The Value comes without a lock of its own (Value('i', 0, lock=False));
 * the Lock is multiprocessing.Lock(): a weft_lock_t set up with
 * weft_lock_init_shared() in a small anonymous SharedMemory. Both reach the
 * children as shares, the children's argument.
 */
#include <stdio.h>

#include <weft.h>

int increment_counter(const weft_bytes_t *arg)
{
    weft_value_t *counter;
    weft_shm_t *lock_memory;
    if (weft_value_from_share(&counter, weft_arg_share(arg, 0)) != 0 ||
        weft_shm_from_share(&lock_memory, weft_arg_share(arg, 1)) != 0)
        return 1;
    weft_lock_t *counter_lock = weft_shm_buf(lock_memory);
    weft_lock_acquire(counter_lock, WEFT_FOREVER); /* with counter_lock: */
    *(int *)weft_value_ptr(counter) += 1;
    weft_lock_release(counter_lock);
    weft_shm_free(lock_memory);
    weft_value_free(counter);
    return 0;
}

int main(void)
{
    weft_value_t *counter;
    weft_shm_t *lock_memory;
    if (weft_value_new(&counter, 'i', 0) != 0 ||
        weft_shm_create(&lock_memory, NULL, sizeof(weft_lock_t)) != 0 ||
        weft_lock_init_shared(weft_shm_buf(lock_memory)) != 0)
        return 1;
    weft_share_t args[2];
    weft_value_share(counter, &args[0]);
    weft_shm_share(lock_memory, &args[1]);
    weft_process_t *processes[100];
    for (int i = 0; i < 100; i++) {
        if (weft_process_new(&processes[i], increment_counter, args,
                             sizeof args, NULL) != 0 ||
            weft_process_pass(processes[i], &args[0]) != 0 ||
            weft_process_pass(processes[i], &args[1]) != 0 ||
            weft_process_start(processes[i]) != 0)
            return 1;
    }
    for (int i = 0; i < 100; i++) {
        weft_process_join(processes[i], WEFT_FOREVER);
        weft_process_free(processes[i]);
    }
    printf("Counter value: %d\n", *(int *)weft_value_ptr(counter));
    weft_shm_free(lock_memory);
    weft_value_free(counter);
    return 0;
}
