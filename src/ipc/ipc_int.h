/* Inside the ipc layer only. */
#ifndef WEFT_IPC_INT_H
#define WEFT_IPC_INT_H

#include "frame.h"
#include "weft/ipc.h"
#include "weft/park.h"
#include "weft/sync.h"

/* Set SIGPIPE to be ignored if it has its default disposition. */
void weft__ignore_sigpipe(void);

/* Wait until fd polls for events, by the deadline, seeing the caller's
 * cancel scopes within 20 ms. Returns 0 (ready, or the descriptor is in
 * error: the next call on it says which), WEFT_ETIMEDOUT or
 * WEFT_ECANCELLED, without recording a message. */
int weft__wait_fd(int fd, short events, int64_t deadline);

/* Test hook: called by a process queue's get after it has copied the item
 * out and before it takes it (the instant the item leaves the queue), with
 * the queue's lock held. NULL in normal runs. */
extern void (*weft__proc_queue_get_hook)(void);

#endif
