/* SPDX-License-Identifier: MIT */
/* The fork start method: the child is a fork() of the caller's process
 * and runs the target directly; its memory is a copy, so the target and
 * its argument are where they were. The fork runs on the launcher (see
 * launcher.c), so that the child's lifeline does not end with the calling
 * thread. Standard streams are flushed first, so that output buffered in
 * the parent is not written twice. */
#include "process_int.h"

#include <stdio.h>
#include <unistd.h>

struct fork_child {
    struct weft__child_spec *spec;
    pid_t parent;
};

static void become_child(void *arg)
{
    struct fork_child *c = arg;
    weft__child_main(c->spec, c->parent);
}

int weft__start_fork(weft_process_t *p, struct weft__child_spec *spec)
{
    fflush(NULL);
    struct fork_child c = {spec, getpid()};
    pid_t pid;
    int rc = weft__launch(become_child, &c, &pid);
    if (rc)
        return rc;
    p->pid = pid;
    p->pidfd = weft__pidfd_open(pid);
    p->status_fd = -1;
    return 0;
}
