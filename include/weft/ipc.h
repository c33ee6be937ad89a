/* SPDX-License-Identifier: MIT */
/** weft/ipc.h: Pipe and Connection, and the Queue, JoinableQueue and
 * SimpleQueue that cross processes: Python's multiprocessing.Pipe,
 * multiprocessing.connection.Connection and multiprocessing.Queue.
 *
 * Everything that crosses a process boundary here is a byte string (Python
 * pickles; C callers serialize as they like). Objects reach a child through
 * shares (process.h): weft_connection_share(), weft_proc_queue_share().
 *
 * Connection. Messages are framed (8 bytes of header before each), so a
 * receiver gets exactly what one send_bytes sent. A peer that closes its end
 * gives WEFT_EEOF to the reader once every message it sent has been read. A
 * stream that does not hold frames (another program writing, a message cut
 * short by a peer that died mid-send) gives WEFT_EPROTO, and a frame longer
 * than the connection's maximum WEFT_EMSGSIZE, at once and without reading
 * its payload: never a crash, never a wait for bytes that will not come.
 * After either, the connection cannot find its next frame and refuses every
 * later receive with the same code. A Connection reads ahead what its peer
 * has already sent; a copy passed to a child does not see what the parent
 * read ahead.
 *
 * Pipe() is made of pipes (one each way when duplex): they wake a blocked
 * reader faster than sockets do. Writing to a pipe whose reader has gone
 * raises SIGPIPE, which would kill the process: so, as Python does at
 * startup, making a pipe sets SIGPIPE to be ignored if it has its default
 * disposition (a handler you installed is left alone). A socket-based
 * connection (weft_connection_new_fd() on a socket) needs no such thing.
 *
 * Queue. A process queue lives in memory shared by the processes (a memfd
 * they map): a ring of byte strings under a shared Lock, with futex words
 * for waiting. There is no feeder thread: put copies the item into the
 * shared ring before it returns, so a producer can exit, or be joined, at
 * any time, whatever is still unread (Python's Queue deadlocks a join before
 * get once more than a pipe's buffer was put). The ring grows as needed
 * (maxsize counts items, not bytes). Every change to the ring is made
 * through a redo record: a process that dies in the middle of put or get,
 * even holding the lock, leaves the queue as before the call or as after
 * it, never in between, and the next caller finishes the job. An item is
 * taken at one instant, under the lock: a consumer killed before that
 * instant took nothing, and another consumer gets the item.
 *
 * Defaults for this layer: thread-safe (a Connection serializes its
 * senders and its receivers, so messages never mix, but each of its ends
 * belongs to one process at a time; a Queue serves any number of threads
 * and processes); blocking only where marked. Timeouts are double seconds
 * (WEFT_FOREVER, 0 polls).
 *
 * Global state: the SIGPIPE disposition, as above.
 * \file */
#ifndef WEFT_IPC_H
#define WEFT_IPC_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----- Connection ----- */

/** One end of a Pipe: see weft_pipe(). */
typedef struct weft_connection weft_connection_t;

/** The default longest message a connection accepts (256 MiB). */
#define WEFT_CONNECTION_MAX_DEFAULT ((size_t)1 << 28)

/** Handle kinds of this layer. */
#define WEFT_SHARE_CONNECTION 0x49504301u
#define WEFT_SHARE_PROC_QUEUE 0x49505101u

/** Two connected ends (Pipe(duplex)): with duplex each can send and
 * receive; without, *a only receives and *b only sends.
 * Ownership: *a and *b return new, freed with weft_connection_free().
 * Errors: WEFT_EINVAL (NULL), WEFT_ESYS (out of descriptors), WEFT_ENOMEM. */
WEFT_API int weft_pipe(weft_connection_t **a, weft_connection_t **b,
                       int duplex);

/** A connection over fd: a connected stream socket (both ways), or one end
 * of a pipe (the way its access mode allows). Takes fd (closed by close()
 * or free(), and on failure too).
 * Errors: WEFT_EINVAL (not a socket or pipe), WEFT_ENOMEM. */
WEFT_API int weft_connection_new_fd(weft_connection_t **out, int fd);

/** Close c (if open) and free it. NULL: no-op. */
WEFT_API void weft_connection_free(weft_connection_t *c);

/** Close c's descriptors; later calls give WEFT_ECLOSED ("handle is
 * closed"). Closing twice is allowed. */
WEFT_API int weft_connection_close(weft_connection_t *c);

/** Send len bytes at data as one message.
 * Blocks: until the message is in the pipe (a full pipe waits for the
 * reader).
 * Errors: WEFT_EEOF (the peer has closed), WEFT_EMSGSIZE (len over 4 GiB -
 * 1), WEFT_EINVAL (NULL data with len > 0, or a receive-only end),
 * WEFT_ECLOSED, WEFT_ESYS. */
WEFT_API int weft_connection_send_bytes(weft_connection_t *c, const void *data,
                                        size_t len);

/** Send msgs[0..n) as n messages, in order and with no other sender's
 * between them, in as few system calls as fit (a few KiB of small
 * messages per call): a stream of small messages costs a fraction of a
 * send_bytes each. The reader sees n ordinary messages.
 * *sent (may be NULL) gets how many went out whole: n on success, fewer
 * after an error (then the next may have gone in part, as with a
 * send_bytes that fails). Every message is checked before any is sent.
 * Blocks: as send_bytes.
 * Errors: as send_bytes, and WEFT_EINVAL (NULL msgs with n > 0). */
WEFT_API int weft_connection_send_bytes_many(weft_connection_t *c,
                                             const weft_bytes_t *msgs, size_t n,
                                             size_t *sent);

/** Receive the next message into *out.
 * Blocks: until a whole message is in.
 * Ownership: *out returns new, freed with weft_bytes_free().
 * Errors: WEFT_EEOF (the peer closed and every message was read),
 * WEFT_EPROTO (not a frame, or cut short), WEFT_EMSGSIZE (longer than the
 * maximum), WEFT_EINVAL (a send-only end), WEFT_ECLOSED, WEFT_ESYS,
 * WEFT_ENOMEM. */
WEFT_API int weft_connection_recv_bytes(weft_connection_t *c,
                                        weft_bytes_t *out);

/** Receive the next message into buf, which holds size bytes; *len gets its
 * length. A message longer than size stays unread: WEFT_EMSGSIZE, with its
 * length in *len (Python's BufferTooShort). Blocks: as recv_bytes.
 * Errors: as recv_bytes. */
WEFT_API int weft_connection_recv_bytes_into(weft_connection_t *c, void *buf,
                                             size_t size, size_t *len);

/** Wait up to timeout seconds until a receive would not block (a message,
 * the start of one, or the peer's end). Returns 0 when so.
 * Blocks: yes, unless timeout is 0.
 * Errors: WEFT_ETIMEDOUT, WEFT_ECANCELLED, WEFT_EINVAL, WEFT_ECLOSED. */
WEFT_API int weft_connection_poll(weft_connection_t *c, double timeout);

/** The longest message c accepts (WEFT_CONNECTION_MAX_DEFAULT at first; at
 * most 4 GiB - 1). Errors: WEFT_EINVAL (0). */
WEFT_API int weft_connection_set_max_message(weft_connection_t *c, size_t max);
WEFT_API size_t weft_connection_max_message(const weft_connection_t *c);

/** The descriptor poll() waits on (the receiving one), -1 once closed. */
WEFT_API int weft_connection_fileno(const weft_connection_t *c);

/** Whether c can receive, send, and whether it is closed. */
WEFT_API int weft_connection_readable(const weft_connection_t *c);
WEFT_API int weft_connection_writable(const weft_connection_t *c);
WEFT_API int weft_connection_closed(const weft_connection_t *c);

/** A share of c, to pass to a child (weft_process_pass), and the child's
 * connection made from it. from_share takes the share's descriptors.
 * Errors: WEFT_EINVAL (not a connection's share), WEFT_ECLOSED,
 * WEFT_ENOMEM. */
WEFT_API int weft_connection_share(const weft_connection_t *c, weft_share_t *h);
WEFT_API int weft_connection_from_share(weft_connection_t **out,
                                        const weft_share_t *h);

/* ----- Queue, JoinableQueue, SimpleQueue ----- */

/** A queue between processes: see weft_proc_queue_new(). */
typedef struct weft_proc_queue weft_proc_queue_t;

/** A queue between processes (multiprocessing.Queue(maxsize)), one that also
 * counts unfinished tasks (JoinableQueue(maxsize)), or an unbounded one
 * (SimpleQueue()). maxsize 0: unbounded.
 * Ownership: *out returns new: this process's view of the queue, freed
 * with weft_proc_queue_free(); the queue itself lives while any process
 * holds a view (or a share's descriptor).
 * Errors: WEFT_EINVAL (NULL out), WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_proc_queue_new(weft_proc_queue_t **out, size_t maxsize);
WEFT_API int weft_joinable_queue_new(weft_proc_queue_t **out, size_t maxsize);
WEFT_API int weft_proc_simple_queue_new(weft_proc_queue_t **out);

/** Drop this process's view. NULL: no-op. */
WEFT_API void weft_proc_queue_free(weft_proc_queue_t *q);

/** Put a copy of len bytes at item at the back, waiting up to timeout
 * seconds for room (_nowait: timeout 0). Once it returns 0 the item is in
 * the queue, whatever happens to the caller.
 * Blocks: while the queue holds maxsize items.
 * Errors: WEFT_EFULL, WEFT_ECANCELLED, WEFT_EINVAL (NULL, or a bad
 * timeout), WEFT_ENOMEM (the ring cannot grow). Nothing was put then. */
WEFT_API int weft_proc_queue_put(weft_proc_queue_t *q, const void *item,
                                 size_t len, double timeout);
WEFT_API int weft_proc_queue_put_nowait(weft_proc_queue_t *q, const void *item,
                                        size_t len);

/** Take the item at the front into *out, waiting up to timeout seconds for
 * one (_nowait: timeout 0).
 * Blocks: while the queue is empty.
 * Ownership: *out returns new, freed with weft_bytes_free().
 * Errors: WEFT_EEMPTY, WEFT_ECANCELLED, WEFT_EINVAL, WEFT_ENOMEM. Nothing
 * was taken then. */
WEFT_API int weft_proc_queue_get(weft_proc_queue_t *q, weft_bytes_t *out,
                                 double timeout);
WEFT_API int weft_proc_queue_get_nowait(weft_proc_queue_t *q,
                                        weft_bytes_t *out);

/** How many items are in q now, whether none, whether maxsize are. */
WEFT_API size_t weft_proc_queue_qsize(weft_proc_queue_t *q);
WEFT_API int weft_proc_queue_empty(weft_proc_queue_t *q);
WEFT_API int weft_proc_queue_full(weft_proc_queue_t *q);

/** JoinableQueue: say an item got has been dealt with; wait until every item
 * put has been (up to timeout seconds).
 * Blocks: join, yes.
 * Errors: WEFT_EINVAL (task_done called more times than items were put:
 * "task_done() called too many times"), WEFT_ENOTSUP (not a
 * JoinableQueue), join: WEFT_ETIMEDOUT, WEFT_ECANCELLED. */
WEFT_API int weft_proc_queue_task_done(weft_proc_queue_t *q);
WEFT_API int weft_proc_queue_join(weft_proc_queue_t *q, double timeout);

/** A share of q, to pass to a child, and the child's view made from it
 * (from_share takes the share's descriptor).
 * Errors: WEFT_EINVAL (not a queue's share, or not a queue behind it),
 * WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_proc_queue_share(const weft_proc_queue_t *q, weft_share_t *h);
WEFT_API int weft_proc_queue_from_share(weft_proc_queue_t **out,
                                        const weft_share_t *h);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_IPC_H */
