/* SPDX-License-Identifier: MIT */
/* The spawn start method: a fresh run of the same executable, which reads
 * its specification (name, target, argument) from a socket the parent
 * writes once the child exists. The child gets descriptors 0 to 2, the
 * passed ones at their numbers, and the socket; nothing else. */
#include "process_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The passed descriptors, each to its own number. */
static struct weft__fd_move *moves_of(const weft_process_t *p)
{
    struct weft__fd_move *m = calloc(p->n_fds ? p->n_fds : 1, sizeof *m);
    for (size_t i = 0; m && i < p->n_fds; i++)
        m[i] = (struct weft__fd_move){p->fds[i], p->fds[i], 0};
    return m;
}

int weft__start_spawn(weft_process_t *p, const struct weft__child_spec *spec)
{
    weft_bytes_t msg;
    int rc = weft__spec_encode(spec, &msg);
    if (rc)
        return rc;
    struct weft__fd_move *moves = moves_of(p);
    int chan[2] = {-1, -1};
    if (moves == NULL)
        rc = weft_fail(WEFT_ENOMEM, "process start: no memory");
    else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0)
        rc = weft_fail(WEFT_ESYS, "socketpair: %s", strerror(errno));
    else
        rc = weft__exec_self("WEFT_SPAWN", chan[1], moves, p->n_fds, 1, &p->pid,
                             &p->pidfd);
    if (chan[1] >= 0)
        close(chan[1]);
    /* A child that died before reading gives EPIPE: its exit code says
     * more than this write could, so the start still counts. */
    if (rc == 0)
        weft__write_message(chan[0], &msg);
    if (chan[0] >= 0)
        close(chan[0]);
    p->status_fd = -1;
    free(moves);
    weft_bytes_free(&msg);
    return rc;
}
