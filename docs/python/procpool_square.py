# SPDX-License-Identifier: MIT
# Seed 004: Pool(4).map on worker processes.
from multiprocessing import Pool

def square(x):
    return x * x

with Pool(4) as p:
    results = p.map(square, [1, 2, 3, 4, 5])
    print(results)
