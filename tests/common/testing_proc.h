/* SPDX-License-Identifier: MIT */
/* Helpers for tests that start processes: a snapshot of this process's
 * children and of its entries in /dev/shm, taken before a test and compared
 * after it, so that no test leaves a child, a zombie or a segment behind. */
#ifndef WEFT_TESTING_PROC_H
#define WEFT_TESTING_PROC_H

#include "testing.h"

#include <sys/types.h>

/* cmocka setup and teardown: take the snapshot, then compare (failing the
 * test if a child or a /dev/shm entry named weft-<pid>-... came or went).
 * weft's own helpers (the fork server, the shm tracker) do not count. */
int testing_proc_setup(void **state);
int testing_proc_teardown(void **state);

#define testing_proc_test(f)                                                   \
    cmocka_unit_test_setup_teardown(f, testing_proc_setup,                     \
                                    testing_proc_teardown)

/* The name prefix of this process's shared memory segments in the tests:
 * "weft-<pid>-", written into buf. */
const char *testing_shm_prefix(char *buf, size_t size);

/* This process's children, as "pid pid ... " in increasing order, with or
 * without weft's helpers. */
void testing_list_children(char *out, size_t size, int with_helpers);

/* SIGKILL and reap every child of this process that before (a list made
 * by testing_list_children with helpers) does not name: what a test that
 * made itself a subreaper does before it fails, so that no orphan
 * outlives it. Returns how many there were. */
int testing_kill_children_but(const char *before);

/* A new pipe: fds[0] to read, fds[1] to write; both close-on-exec. */
void testing_pipe(int fds[2]);

/* Read what a child wrote until end of file (NUL-terminated, caller frees). */
char *testing_read_all(int fd);

/* Fork a child that gets process id pid, a dead process's id coming back
 * (through /proc/sys/kernel/ns_last_pid), and runs fn(arg), exiting with
 * what it returns. Returns the child's id; 0 when another process took the
 * id first (try again with another dead process); -1 when ids cannot be
 * steered here (*why then says why: the caller skips). */
pid_t testing_fork_at_pid(pid_t pid, int (*fn)(void *arg), void *arg,
                          const char **why);

#endif
