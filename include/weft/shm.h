/* SPDX-License-Identifier: MIT */
/** weft/shm.h: SharedMemory, Value and Array: Python's
 * multiprocessing.shared_memory.SharedMemory and multiprocessing.Value and
 * Array. The sync primitives that live in such memory are sync.h's, set up
 * with their _init_shared variants.
 *
 * SharedMemory. A segment is anonymous (a memfd: no name anywhere, so
 * nothing to clean up; it reaches other processes only through shares) or
 * named (a file in /dev/shm, mode 0600, that any process of the same user
 * may attach by name). Ownership is clear, unlike Python's: the process that
 * created a named segment is the only one that may unlink it; the others
 * only close. Unlinking removes the name at once (processes that have the
 * segment mapped keep it until they close). A creator that ends without
 * unlinking (it forgot, crashed, or was killed) is covered by its tracker:
 * a small process, "weft-tracker", started with the first named segment a
 * process creates, that outlives it and, once it has ended, unlinks each
 * name it left behind as soon as no process has that segment mapped any
 * more. The tracker knows each name before the name exists (a segment is
 * made nameless, the tracker is told, and only then is the name given), so
 * a creator killed at any point, even during its first create, leaves
 * nothing behind. The tracker never acts on a segment that was unlinked
 * (and perhaps created again by someone else) meanwhile, and it never
 * warns: nothing it cleans was used wrongly.
 *
 * Value and Array. A Value is one C scalar, an Array a fixed number of
 * them, in an anonymous segment, with an RLock beside them unless made
 * without one (Python's lock=False). Types are Python's typecodes: 'c'
 * char, 'b'/'B' signed/unsigned char, 'h'/'H' short, 'i'/'I' int, 'l'/'L'
 * long, 'q'/'Q' long long, 'f' float, 'd' double, 'u' wchar_t. As in
 * Python, the lock is the caller's to take around a read-modify-write
 * (counter.value += 1 is not atomic in Python either); weft hands out a
 * pointer to the data rather than a .value property.
 *
 * Handles (process.h) carry a segment, Value or Array to a child: its
 * descriptor arrives at the same number, and the child maps it (a child
 * never counts as a segment's creator).
 *
 * Defaults for this layer: thread-safe; non-blocking.
 *
 * Global state: the connection to this process's tracker, started at the
 * first named create (a child made by fork() starts its own when it
 * creates one), and the counter behind generated names.
 * \file */
#ifndef WEFT_SHM_H
#define WEFT_SHM_H

#include <stddef.h>

#include "weft/base.h"
#include "weft/process.h"
#include "weft/sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Handle kinds of this layer. */
#define WEFT_SHARE_SHM 0x53484d01u
#define WEFT_SHARE_SHM_BLOCK 0x53484d02u

/* ----- SharedMemory ----- */

/** A block of shared memory (SharedMemory). */
typedef struct weft_shm weft_shm_t;

/** Create a segment of size bytes, zero-filled, and map it. name: NULL for
 * an anonymous segment; "" for a named one with a fresh name that weft
 * chooses ("weft-<pid>-<n>"); otherwise that name, with or without a
 * leading '/', as in Python (at most 255 bytes, no other '/', no newline:
 * the tracker reads one name a line). The first named create of a process
 * starts its tracker (a few milliseconds) before the name exists.
 * Ownership: *out returns new: close and free with weft_shm_free().
 * Errors: WEFT_EINVAL (NULL out, size 0, bad name: "bad shared memory
 * name", or "may not hold a newline"), WEFT_EEXIST (the name is taken),
 * WEFT_ESYS (also: no tracker could be started, so nothing is created),
 * WEFT_ENOMEM. */
WEFT_API int weft_shm_create(weft_shm_t **out, const char *name, size_t size);

/** Map the named segment another process created (SharedMemory(name)).
 * Errors: WEFT_EINVAL, WEFT_EKEY (no segment of that name), WEFT_ESYS,
 * WEFT_ENOMEM. */
WEFT_API int weft_shm_attach(weft_shm_t **out, const char *name);

/** The mapped memory (NULL once closed), its size, its name as Python shows
 * it (no leading '/'; NULL for an anonymous segment). Borrowed: valid until
 * close (the pointer) or free (the name). */
WEFT_API void *weft_shm_buf(const weft_shm_t *s);
WEFT_API size_t weft_shm_size(const weft_shm_t *s);
WEFT_API const char *weft_shm_name(const weft_shm_t *s);

/** Nonzero for the handle of the process that created the segment. */
WEFT_API int weft_shm_is_creator(const weft_shm_t *s);

/** Unmap the segment (close()); closing twice is allowed. */
WEFT_API int weft_shm_close(weft_shm_t *s);

/** Remove the segment's name (unlink()), for the creator only; processes
 * that have it mapped keep it. Errors: WEFT_EPERM (not the creator: "only
 * the creator unlinks"), WEFT_EINVAL (anonymous), WEFT_ESTATE (unlinked
 * already), WEFT_ESYS. */
WEFT_API int weft_shm_unlink(weft_shm_t *s);

/** Close s and free it. A creator's named segment that was not unlinked
 * stays until this process has ended and nobody maps it (the tracker then
 * removes it). NULL: no-op. */
WEFT_API void weft_shm_free(weft_shm_t *s);

/** A share of s, to pass to a child, and the child's mapping made from it
 * (from_share takes the share's descriptor). Errors: WEFT_EINVAL (not a
 * segment's share), WEFT_ESTATE (s is closed), WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_shm_share(const weft_shm_t *s, weft_share_t *h);
WEFT_API int weft_shm_from_share(weft_shm_t **out, const weft_share_t *h);

/* ----- Value and Array ----- */

/** A shared Value and Array. */
typedef struct weft_value weft_value_t;
typedef struct weft_array weft_array_t;

/** A shared scalar of type typecode, zero, with an RLock if lock is nonzero
 * (Value(typecode, 0, lock=lock)); an array of length such scalars
 * (Array(typecode, length, lock=lock)).
 * Ownership: *out returns new, freed with weft_value_free() /
 * weft_array_free(); the memory lives while any process maps it.
 * Errors: WEFT_EINVAL (NULL out, unknown typecode, length 0 or too large),
 * WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_value_new(weft_value_t **out, char typecode, int lock);
WEFT_API int weft_array_new(weft_array_t **out, char typecode, size_t length,
                            int lock);
WEFT_API void weft_value_free(weft_value_t *v);
WEFT_API void weft_array_free(weft_array_t *a);

/** The data (aligned for any scalar type); borrowed, valid until free. */
WEFT_API void *weft_value_ptr(const weft_value_t *v);
WEFT_API void *weft_array_ptr(const weft_array_t *a);

/** The lock (get_lock()), or NULL for one made without; borrowed. */
WEFT_API weft_rlock_t *weft_value_get_lock(const weft_value_t *v);
WEFT_API weft_rlock_t *weft_array_get_lock(const weft_array_t *a);

/** The typecode, the size of one scalar, and an array's length. */
WEFT_API char weft_value_typecode(const weft_value_t *v);
WEFT_API char weft_array_typecode(const weft_array_t *a);
WEFT_API size_t weft_array_itemsize(const weft_array_t *a);
WEFT_API size_t weft_array_len(const weft_array_t *a);

/** Handles, and the child's Value or Array made from one (takes the
 * share's descriptor). Errors: WEFT_EINVAL (not a Value's or Array's
 * share), WEFT_ESYS, WEFT_ENOMEM. */
WEFT_API int weft_value_share(const weft_value_t *v, weft_share_t *h);
WEFT_API int weft_value_from_share(weft_value_t **out, const weft_share_t *h);
WEFT_API int weft_array_share(const weft_array_t *a, weft_share_t *h);
WEFT_API int weft_array_from_share(weft_array_t **out, const weft_share_t *h);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_SHM_H */
