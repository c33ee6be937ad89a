/* The fork start method: the child is a fork() of the caller and runs the
 * target directly; its memory is a copy, so the target and its argument
 * are where they were. Standard streams are flushed first, so that output
 * buffered in the parent is not written twice. */
#include "process_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int weft__start_fork(weft_process_t *p, struct weft__child_spec *spec)
{
    fflush(NULL);
    pid_t me = getpid();
    pid_t pid = fork();
    if (pid == 0)
        weft__child_main(spec, me);
    if (pid < 0)
        return weft_fail(WEFT_ESYS, "fork: %s", strerror(errno));
    p->pid = pid;
    p->pidfd = weft__pidfd_open(pid);
    p->status_fd = -1;
    return 0;
}
