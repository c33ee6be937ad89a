/* SPDX-License-Identifier: MIT */
/** weft: Python's concurrency toolkit, in C. This header includes every
 * layer's header, in layer order; each also compiles alone.
 * \file */
#ifndef WEFT_H
#define WEFT_H

#include "weft/base.h"
#include "weft/park.h"
#include "weft/sync.h"
#include "weft/thread.h"
#include "weft/queue.h"
#include "weft/log.h"
#include "weft/future.h"
#include "weft/executor.h"
#include "weft/pool.h"
#include "weft/process.h"
#include "weft/ipc.h"
#include "weft/shm.h"
#include "weft/manager.h"
#include "weft/procpool.h"
#include "weft/loop.h"
#include "weft/coro.h"
#include "weft/net.h"
#include "weft/rx.h"
#include "weft/mpi.h" /* the functions are in libweft_mpi, when built */

#endif
