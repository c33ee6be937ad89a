/* SPDX-License-Identifier: MIT */
/* A producer fills a Queue, then a consumer empties it while it is not
 * empty: the seed's "Thread-safe Queues" example. Python:
 *
 *     q = queue.Queue()
 *
 *     def producer():
 *         for i in range(5):
 *             q.put(i)
 *
 *     def consumer():
 *         while not q.empty():
 *             print(f"Consumed {q.get()}")
 *
 *     t1 = threading.Thread(target=producer)
 *     t2 = threading.Thread(target=consumer)
 *     t1.start(); t1.join()
 *     t2.start(); t2.join()
 *
 * Items are pointers; the numbers ride in them as they are, 0 included:
 * NULL is an item like any other.
 */
#include <stdint.h>
#include <stdio.h>

#include <weft.h>

int producer(void *arg, void **result)
{
    weft_queue_t *q = arg;
    for (intptr_t i = 0; i < 5; i++) {
        int rc = weft_queue_put(q, (void *)i, WEFT_FOREVER);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int consumer(void *arg, void **result)
{
    weft_queue_t *q = arg;
    while (!weft_queue_empty(q)) {
        void *item;
        int rc = weft_queue_get(q, &item, WEFT_FOREVER);
        if (rc != 0)
            return rc;
        printf("Consumed %ld\n", (long)(intptr_t)item);
    }
    return 0;
}

int main(void)
{
    weft_queue_t *q;
    weft_thread_t *t1, *t2;
    if (weft_queue_new(&q, 0) != 0 ||
        weft_thread_new(&t1, producer, q, NULL) != 0 ||
        weft_thread_new(&t2, consumer, q, NULL) != 0)
        return 1;
    weft_thread_start(t1);
    weft_thread_join(t1, WEFT_FOREVER);
    weft_thread_start(t2);
    weft_thread_join(t2, WEFT_FOREVER);
    weft_thread_free(t1);
    weft_thread_free(t2);
    weft_queue_free(q);
    return 0;
}
