/* SPDX-License-Identifier: MIT */
/* Inside the ipc layer only. */
#ifndef WEFT_IPC_INT_H
#define WEFT_IPC_INT_H

#include "frame.h"
#include "weft/ipc.h"
#include "weft/park.h"
#include "weft/sync.h"

/* Set SIGPIPE to be ignored if it has its default disposition. */
void weft__ignore_sigpipe(void);

/* Test hook: called by a process queue's get after it has copied the item
 * out (the len bytes at data) and before it takes it (the instant the item
 * leaves the queue), with the queue's lock held. NULL in normal runs. */
extern void (*weft__proc_queue_get_hook)(const unsigned char *data, size_t len);

/* Test hook: called by a process queue's put, get or task_done after it has
 * marked a sleeper woken and released the queue's lock, before its futex
 * wake-up call. NULL in normal runs. */
extern void (*weft__proc_queue_wake_hook)(void);

#endif
