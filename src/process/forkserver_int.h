/* SPDX-License-Identifier: MIT */
/* The fork server's protocol, shared by its two sides (forkserver.c in the
 * parent, forkserver_main.c in the server). */
#ifndef WEFT_FORKSERVER_INT_H
#define WEFT_FORKSERVER_INT_H

#include <stdint.h>

#define WEFT__FS_MAGIC 0x53464657u /* "WFFS" */
#define WEFT__FS_MAX_FDS 250       /* SCM_RIGHTS carries at most 253 */

/* On the control socket: start a child. The message carries the child's
 * channel and then the passed descriptors (SCM_RIGHTS); targets says at
 * which number each passed descriptor goes. */
struct weft__fs_request {
    uint32_t magic;
    uint32_t nfds;
    int32_t targets[WEFT__FS_MAX_FDS];
};

/* On a child's channel, from the server: the pid (with a pidfd attached),
 * or why it could not fork (errno), then the wait status. */
enum { WEFT__FS_PID = 1, WEFT__FS_FAILED = 2, WEFT__FS_EXIT = 3 };

struct weft__fs_record {
    uint32_t tag;
    int32_t value;
};

/* sendmsg() data with the n descriptors fds attached. Returns 0 or
 * -errno. */
int weft__fs_send(int sock, const void *data, size_t len, const int *fds,
                  size_t n);

/* Receive one record, and the descriptor attached to it if any (*fd, else
 * -1). Returns 0, or -1 on end of file or error. */
int weft__fs_recv(int sock, struct weft__fs_record *rec, int *fd);

#endif
