# SPDX-License-Identifier: MIT
# Seed 002: a producer and a consumer, a stop sentinel and task_done.
import queue
import threading
import time

# Queue is thread-safe by default
task_queue = queue.Queue()

def producer():
    for i in range(10):
        task_queue.put(f"task_{i}")
        print(f"Produced: task_{i}")
        time.sleep(0.1)
    task_queue.put(None)  # Signal to stop

def consumer():
    while True:
        task = task_queue.get()
        if task is None:
            break
        print(f"Consumed: {task}")
        task_queue.task_done()

producer_thread = threading.Thread(target=producer)
consumer_thread = threading.Thread(target=consumer)

producer_thread.start()
consumer_thread.start()

producer_thread.join()
consumer_thread.join()
