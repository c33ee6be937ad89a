/* SPDX-License-Identifier: MIT */
/* A producer and a consumer over a Queue, with a stop sentinel and
 * task_done: the seed's producer-consumer example. Python:
 *
 *     task_queue = queue.Queue()
 *
 *     def producer():
 *         for i in range(10):
 *             task_queue.put(f"task_{i}")
 *             print(f"Produced: task_{i}")
 *             time.sleep(0.1)
 *         task_queue.put(None)  # Signal to stop
 *
 *     def consumer():
 *         while True:
 *             task = task_queue.get()
 *             if task is None:
 *                 break
 *             print(f"Consumed: {task}")
 *             task_queue.task_done()
 *
 *     producer_thread = threading.Thread(target=producer)
 *     consumer_thread = threading.Thread(target=consumer)
 *     producer_thread.start()
 *     consumer_thread.start()
 *     producer_thread.join()
 *     consumer_thread.join()
 *
 * Items are pointers that weft passes on as they are: the producer
 * allocates each task's text and the consumer frees it. The pause is
 * 0.02 s instead of 0.1 s.
 */
#include <stdio.h>
#include <stdlib.h>

#include <weft.h>

int producer(void *arg, void **result)
{
    weft_queue_t *task_queue = arg;
    for (int i = 0; i < 10; i++) {
        char *task = malloc(16);
        if (task == NULL)
            return weft_fail(WEFT_ENOMEM, "no memory for a task");
        snprintf(task, 16, "task_%d", i);
        int rc = weft_queue_put(task_queue, task, WEFT_FOREVER);
        if (rc != 0) {
            free(task);
            return rc;
        }
        printf("Produced: task_%d\n", i);
        weft_sleep(0.02);
    }
    return weft_queue_put(task_queue, NULL, WEFT_FOREVER); /* stop */
}

int consumer(void *arg, void **result)
{
    weft_queue_t *task_queue = arg;
    for (;;) {
        void *task;
        int rc = weft_queue_get(task_queue, &task, WEFT_FOREVER);
        if (rc != 0)
            return rc;
        if (task == NULL)
            break;
        printf("Consumed: %s\n", (char *)task);
        free(task);
        weft_queue_task_done(task_queue);
    }
    return 0;
}

int main(void)
{
    weft_queue_t *task_queue;
    weft_thread_t *producer_thread, *consumer_thread;
    if (weft_queue_new(&task_queue, 0) != 0 ||
        weft_thread_new(&producer_thread, producer, task_queue, NULL) != 0 ||
        weft_thread_new(&consumer_thread, consumer, task_queue, NULL) != 0)
        return 1;
    weft_thread_start(producer_thread);
    weft_thread_start(consumer_thread);
    weft_thread_join(producer_thread, WEFT_FOREVER);
    weft_thread_join(consumer_thread, WEFT_FOREVER);
    weft_thread_free(producer_thread);
    weft_thread_free(consumer_thread);
    weft_queue_free(task_queue);
    return 0;
}
