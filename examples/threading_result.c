/* SPDX-License-Identifier: MIT */
/* Threads that return a value: the seed's ResultThread, which subclasses
 * Thread to keep what its target returned. In weft every thread keeps it:
 * weft_thread_result(). Python:
 *
 *     def compute(n):
 *         time.sleep(1)
 *         return n * n
 *
 *     threads = [ResultThread(target=compute, args=(i,)) for i in range(5)]
 *     for t in threads: t.start()
 *     for t in threads: t.join()
 *     print([t.result for t in threads])  # [0, 1, 4, 9, 16]
 */
#include <stdint.h>
#include <stdio.h>

#include <weft.h>

int compute(void *arg, void **result)
{
    intptr_t n = (intptr_t)arg;
    weft_sleep(0.1); /* simulate work; the seed sleeps 1 s */
    *result = (void *)(n * n);
    return 0;
}

int main(void)
{
    weft_thread_t *threads[5];
    for (intptr_t i = 0; i < 5; i++)
        if (weft_thread_new(&threads[i], compute, (void *)i, NULL) != 0)
            return 1;
    for (int i = 0; i < 5; i++)
        weft_thread_start(threads[i]);
    for (int i = 0; i < 5; i++)
        weft_thread_join(threads[i], WEFT_FOREVER);
    printf("[");
    for (int i = 0; i < 5; i++) {
        void *result = NULL;
        weft_thread_result(threads[i], &result);
        printf("%s%ld", i ? ", " : "", (long)(intptr_t)result);
        weft_thread_free(threads[i]);
    }
    printf("]\n");
    return 0;
}
