# SPDX-License-Identifier: MIT
# Seed 004: a child sends data back through a Pipe.
from multiprocessing import Pipe, Process

def child(conn):
    conn.send("Data from child")
    conn.close()

parent_conn, child_conn = Pipe()
p = Process(target=child, args=(child_conn,))
p.start()
print(parent_conn.recv())
p.join()
