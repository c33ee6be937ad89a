# SPDX-License-Identifier: MIT
# Seed 000: a ProcessPoolExecutor of 3 computing factorials.
import concurrent.futures

def cpu_bound_task(number):
    print(f"Computing factorial of {number}...")
    result = 1
    for i in range(2, number + 1):
        result *= i
    return result

# Create a ProcessPoolExecutor with a pool of 3 processes
with concurrent.futures.ProcessPoolExecutor(max_workers=3) as executor:
    # List of tasks to be run concurrently
    tasks = [10, 20, 30, 40, 50]

    # Submit tasks to the executor
    futures = [executor.submit(cpu_bound_task, t) for t in tasks]

    # Process results as they complete
    for future in concurrent.futures.as_completed(futures):
        print(f"Factorial computed: {future.result()}")
