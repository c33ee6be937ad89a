# SPDX-License-Identifier: MIT
# Seed 002: an RLock taken again by the thread that holds it.
import threading

class Counter:
    def __init__(self):
        self._lock = threading.RLock()  # Reentrant lock
        self._count = 0

    def increment(self):
        with self._lock:
            self._count += 1

    def increment_many(self, times):
        with self._lock:
            for _ in range(times):
                self.increment()  # Can acquire the same lock again

counter = Counter()
threads = [threading.Thread(target=counter.increment_many, args=(1000,)) for _ in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()

print(f"Count: {counter._count}")  # 5000
