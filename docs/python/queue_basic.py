# SPDX-License-Identifier: MIT
# Seed 004: a producer fills a Queue, then a consumer empties it.
import threading
import queue

q = queue.Queue()

def producer():
    for i in range(5):
        q.put(i)

def consumer():
    while not q.empty():
        print(f"Consumed {q.get()}")

t1 = threading.Thread(target=producer)
t2 = threading.Thread(target=consumer)
t1.start()
t1.join()
t2.start()
t2.join()
