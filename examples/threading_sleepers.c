/* SPDX-License-Identifier: MIT */
/* Five threads that each sleep, then report: the seed's first threading
 * example. They sleep together, so the whole run takes about one sleep, not
 * five. Python:
 *
 *     def func(nr):
 *         time.sleep(3)
 *         print(f"Finished execution from thread {nr}")
 *
 *     for i in range(1, 6):
 *         t = threading.Thread(target=func, args=(i, ))
 *         threads.append(t)
 *         t.start()
 *         print(f'Thread {t.name} alive status: {t.is_alive()}')
 *         print(f"Total no of threads: {threading.active_count()}")
 *     for thread in threads:
 *         thread.join()
 */
#include <stdint.h>
#include <stdio.h>

#include <weft.h>

#define SLEEP 0.3 /* seconds; the seed sleeps 3 */

int func(void *arg, void **result)
{
    weft_sleep(SLEEP);
    printf("Finished execution from thread %d\n", (int)(intptr_t)arg);
    return 0;
}

int main(void)
{
    weft_thread_t *threads[5];
    double start = weft_monotonic();
    for (int i = 1; i <= 5; i++) {
        weft_thread_t *t;
        if (weft_thread_new(&t, func, (void *)(intptr_t)i, NULL) != 0 ||
            weft_thread_start(t) != 0) {
            fprintf(stderr, "thread %d: %s\n", i, weft_last_message());
            return 1;
        }
        threads[i - 1] = t;
        printf("Thread %s alive status: %s\n", weft_thread_name(t),
               weft_thread_is_alive(t) ? "True" : "False");
        printf("Total no of threads: %zu\n", weft_active_count());
    }
    for (int i = 0; i < 5; i++) {
        weft_thread_join(threads[i], WEFT_FOREVER);
        weft_thread_free(threads[i]);
    }
    printf("Total time: %.10f\n", weft_monotonic() - start);
    return 0;
}
