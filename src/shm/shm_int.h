/* SPDX-License-Identifier: MIT */
/* Inside the shm layer only. */
#ifndef WEFT_SHM_INT_H
#define WEFT_SHM_INT_H

#include <sys/types.h>

#include "weft/shm.h"

/* Tell this process's tracker that it is about to give inode ino the name
 * /dev/shm/name, or that name is no longer that inode of its (unlinked, or
 * never given). The tracker is started on the first register, which blocks
 * until it runs. name holds no newline. Returns 0, or WEFT_ESYS (no tracker
 * could be started or reached: the caller then creates nothing). */
int weft__tracker_register(const char *name, ino_t ino);
void weft__tracker_unregister(const char *name, ino_t ino);

#endif
