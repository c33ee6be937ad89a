/* Inside the shm layer only. */
#ifndef WEFT_SHM_INT_H
#define WEFT_SHM_INT_H

#include <sys/types.h>

#include "weft/shm.h"

/* Tell this process's tracker that it created /dev/shm/name (inode ino), or
 * that it unlinked it. The tracker is started on the first register.
 * Returns 0, or an error (the segment then has no tracker: it is still
 * created, and the caller says so in no way; see tracker.c). */
int weft__tracker_register(const char *name, ino_t ino);
void weft__tracker_unregister(const char *name);

#endif
