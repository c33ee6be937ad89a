/* SPDX-License-Identifier: MIT */
/* A process that starts five threads: the seed's hybrid of processes and
 * threads. Python:
 *
 *     def thread_task():
 *         print("Running in thread")
 *
 *     def process_task():
 *         threads = [threading.Thread(target=thread_task) for _ in range(5)]
 *         for t in threads: t.start()
 *         for t in threads: t.join()
 *
 *     p = Process(target=process_task)
 *     p.start()
 *     p.join()
 *
 * The default start method (forkserver) gives the child a fresh process,
 * so it may start threads of its own safely; the threads run in parallel.
 */
#include <stdio.h>

#include <weft.h>

int thread_task(void *arg, void **result)
{
    printf("Running in thread\n");
    return 0;
}

int process_task(const weft_bytes_t *arg)
{
    weft_thread_t *threads[5];
    for (int i = 0; i < 5; i++)
        if (weft_thread_new(&threads[i], thread_task, NULL, NULL) != 0 ||
            weft_thread_start(threads[i]) != 0)
            return 1;
    for (int i = 0; i < 5; i++) {
        weft_thread_join(threads[i], WEFT_FOREVER);
        weft_thread_free(threads[i]);
    }
    return 0;
}

int main(void)
{
    weft_process_t *p;
    if (weft_process_new(&p, process_task, NULL, 0, NULL) != 0 ||
        weft_process_start(p) != 0)
        return 1;
    weft_process_join(p, WEFT_FOREVER);
    int code = 1;
    weft_process_exitcode(p, &code);
    weft_process_free(p);
    return code;
}
