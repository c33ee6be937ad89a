/* SPDX-License-Identifier: MIT */
/* RLock re-entry: the seed's Counter, whose increment_many holds the lock
 * and calls increment, which takes it again. Python:
 *
 *     class Counter:
 *         def __init__(self):
 *             self._lock = threading.RLock()
 *             self._count = 0
 *         def increment(self):
 *             with self._lock:
 *                 self._count += 1
 *         def increment_many(self, times):
 *             with self._lock:
 *                 for _ in range(times):
 *                     self.increment()  # Can acquire the same lock again
 *
 *     threads = [threading.Thread(target=counter.increment_many,
 *                                 args=(1000,)) for _ in range(5)]
 *     ...
 *     print(f"Count: {counter._count}")  # 5000
 */
#include <stdio.h>

#include <weft.h>

struct counter {
    weft_rlock_t lock;
    long count;
};

static struct counter counter;

static void increment(struct counter *c)
{
    weft_rlock_acquire(&c->lock, WEFT_FOREVER);
    c->count++;
    weft_rlock_release(&c->lock);
}

int increment_many(void *arg, void **result)
{
    struct counter *c = &counter;
    weft_rlock_acquire(&c->lock, WEFT_FOREVER);
    for (int i = 0; i < (int)(long)arg; i++)
        increment(c); /* can acquire the same lock again */
    weft_rlock_release(&c->lock);
    return 0;
}

int main(void)
{
    weft_rlock_init(&counter.lock);
    weft_thread_t *threads[5];
    for (int i = 0; i < 5; i++)
        if (weft_thread_new(&threads[i], increment_many, (void *)1000L, NULL) !=
            0)
            return 1;
    for (int i = 0; i < 5; i++)
        weft_thread_start(threads[i]);
    for (int i = 0; i < 5; i++) {
        weft_thread_join(threads[i], WEFT_FOREVER);
        weft_thread_free(threads[i]);
    }
    printf("Count: %ld\n", counter.count);
    return 0;
}
