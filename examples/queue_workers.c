/* SPDX-License-Identifier: MIT */
/* A worker thread processes the items of a Queue until it takes the None
 * sentinel: the seed's "Thread Communication" example. Python:
 *
 *     def worker(q):
 *         while True:
 *             item = q.get()
 *             if item is None:
 *                 break
 *             print(f"Processing: {item}")
 *
 *     work_queue = queue.Queue()
 *     for i in range(10):
 *         work_queue.put(i)
 *     worker_thread = threading.Thread(target=worker, args=(work_queue,))
 *     worker_thread.start()
 *     work_queue.put(None)
 *     worker_thread.join()
 *
 * Items are pointers, so the sentinel is NULL and each number is passed by
 * its address.
 */
#include <stdio.h>

#include <weft.h>

int worker(void *arg, void **result)
{
    weft_queue_t *q = arg;
    for (;;) {
        void *item;
        int rc = weft_queue_get(q, &item, WEFT_FOREVER);
        if (rc != 0)
            return rc;
        if (item == NULL)
            break;
        printf("Processing: %d\n", *(const int *)item);
    }
    return 0;
}

int main(void)
{
    static int numbers[10];
    weft_queue_t *work_queue;
    if (weft_queue_new(&work_queue, 0) != 0)
        return 1;
    for (int i = 0; i < 10; i++) {
        numbers[i] = i;
        weft_queue_put(work_queue, &numbers[i], WEFT_FOREVER);
    }
    weft_thread_t *worker_thread;
    if (weft_thread_new(&worker_thread, worker, work_queue, NULL) != 0)
        return 1;
    weft_thread_start(worker_thread);
    weft_queue_put(work_queue, NULL, WEFT_FOREVER);
    weft_thread_join(worker_thread, WEFT_FOREVER);
    weft_thread_free(worker_thread);
    weft_queue_free(work_queue);
    return 0;
}
