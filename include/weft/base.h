/* SPDX-License-Identifier: MIT */
/** weft/base.h: error codes and messages, timeouts and clocks, byte strings,
 * symbol names and the version.
 *
 * Python raises exceptions; weft returns codes. Every function that can fail
 * returns 0 or a WEFT_E* code, and records for the calling thread a message
 * that says what exactly went wrong (weft_last_message()). A failed call
 * changes nothing. Where Python raises, say, queue.Empty or TimeoutError, the
 * weft call returns WEFT_EEMPTY or WEFT_ETIMEDOUT.
 *
 * NULL where a function needs an object (a handle, an out-pointer it fills)
 * is refused as Python refuses None there, never dereferenced: a function
 * that returns a code returns WEFT_EINVAL, one that returns a value or a
 * pointer returns 0 or NULL, a void one returns, and each records a
 * message naming the argument as the header does ("weft_lock_acquire: l
 * is NULL"). Each header says where NULL is a value instead (user data,
 * options, a result not wanted, an empty array).
 *
 * Timeouts are double seconds, relative, as in Python: WEFT_FOREVER waits
 * without limit, 0 polls, and any other negative value or NaN is WEFT_EINVAL.
 * Every blocking call turns its timeout into a deadline on the monotonic
 * clock once, on entry.
 *
 * Defaults for this layer: every function is thread-safe and non-blocking.
 *
 * Global state: each thread's last message (thread-local, empty in a new
 * thread, and copied as is into a child made by fork()), and the names
 * weft_errname() makes up for codes it does not list (thread-local too).
 * \file */
#ifndef WEFT_BASE_H
#define WEFT_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function that libweft exports (the rest of its symbols are
 * hidden); empty for the programs that use it. */
#if defined(WEFT_BUILDING)
#define WEFT_API __attribute__((visibility("default")))
#else
#define WEFT_API
#endif

/** The version of these headers, MAJOR.MINOR.PATCH, as semantic versioning
 * means it (README.md: compatibility): the same as the project's version in
 * CMakeLists.txt, which CMake checks when it configures. A program compiled
 * with one major version runs with any library of that major version and
 * the same or a later minor version (the soname is libweft.so.MAJOR). */
#define WEFT_VERSION_MAJOR 0
#define WEFT_VERSION_MINOR 1
#define WEFT_VERSION_PATCH 0
/** The version of these headers as text, "0.1.0". */
#define WEFT_VERSION_STRING "0.1.0"

/** The version of the library running, as "MAJOR.MINOR.PATCH": it may be
 * later than WEFT_VERSION_STRING, the headers the program was compiled with.
 * Returns borrowed static text. */
WEFT_API const char *weft_version(void);

/** The one list of error codes: name, value, text, and the Python exception
 * each one stands for. The enum and weft_strerror() are both made from it. */
#define WEFT_ERRORS(X)                                                         \
    X(WEFT_EINVAL, 1, "invalid argument")          /* ValueError, TypeError */ \
    X(WEFT_ENOMEM, 2, "out of memory")             /* MemoryError */           \
    X(WEFT_ETIMEDOUT, 3, "timed out")              /* TimeoutError */          \
    X(WEFT_ECANCELLED, 4, "cancelled")             /* CancelledError */        \
    X(WEFT_ESTATE, 5, "invalid state")             /* InvalidStateError */     \
    X(WEFT_ESHUTDOWN, 6, "shut down")              /* queue.ShutDown */        \
    X(WEFT_EBROKEN, 7, "broken")                   /* BrokenBarrierError */    \
    X(WEFT_EWORKERDIED, 8, "worker died")          /* BrokenProcessPool */     \
    X(WEFT_EEMPTY, 9, "empty")                     /* queue.Empty */           \
    X(WEFT_EFULL, 10, "full")                      /* queue.Full */            \
    X(WEFT_EEOF, 11, "end of file")                /* EOFError */              \
    X(WEFT_EOWNERDEAD, 12, "previous owner died")  /* (none: Python hangs) */  \
    X(WEFT_EPERM, 13, "not the owner")             /* RuntimeError */          \
    X(WEFT_EDEADLK, 14, "would deadlock")          /* RuntimeError */          \
    X(WEFT_EAGAIN, 15, "try again")                /* BlockingIOError */       \
    X(WEFT_ESYS, 16, "system call failed")         /* OSError */               \
    X(WEFT_EPROTO, 17, "protocol error")           /* malformed data */        \
    X(WEFT_EMSGSIZE, 18, "message too long")       /* ValueError */            \
    X(WEFT_EAUTH, 19, "authentication failed")     /* AuthenticationError */   \
    X(WEFT_ECLOSED, 20, "closed")                  /* OSError: closed */       \
    X(WEFT_EKEY, 21, "no such key")                /* KeyError */              \
    X(WEFT_EEXIST, 22, "already exists")           /* FileExistsError */       \
    X(WEFT_ENOTSUP, 23, "not supported")           /* NotImplementedError */   \
    X(WEFT_ETASK, 24, "task failed")               /* Exception */

/** The error codes: 0 for success, the list above, and the program's own from
 * WEFT_EUSER up. */
enum weft_error {
    WEFT_OK = 0,
#define WEFT_ENUM_(name, value, text) name = value,
    WEFT_ERRORS(WEFT_ENUM_)
#undef WEFT_ENUM_
    /** Codes from WEFT_EUSER up are the application's own: a task may fail
     * with any of them, and weft carries it through futures untouched. */
    WEFT_EUSER = 1000
};

/** A short fixed text naming code ("timed out"), or "unknown error" for a code
 * weft does not know ("application error" from WEFT_EUSER up). Returns
 * borrowed static text. */
WEFT_API const char *weft_strerror(int code);

/** The code's name, never NULL: "WEFT_ETIMEDOUT" for a code of the list
 * above (static text); for the program's own codes "WEFT_EUSER" and
 * "WEFT_EUSER+5", and "error 42" for any other code weft does not know.
 * Those made-up names are written in buffers of the calling thread: each
 * stays valid on that thread until it has asked for four more of them, so
 * two in one printf are both right and other threads never touch them. */
WEFT_API const char *weft_errname(int code);

/** The message recorded by the calling thread's last failed weft call (or by
 * its last weft_fail()), "" if none. Returns borrowed text, valid until the
 * thread's next weft call. */
WEFT_API const char *weft_last_message(void);

/** Record a message for the calling thread and return code, so that a task or
 * callback fails the way Python raises: `return weft_fail(WEFT_EINVAL, "bad
 * input %d", x);`. The message is cut at WEFT_MESSAGE_MAX - 1 bytes. */
#define WEFT_MESSAGE_MAX 256
WEFT_API int weft_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
WEFT_API int weft_vfail(int code, const char *fmt, va_list ap);

/** Clear the calling thread's message. */
WEFT_API void weft_clear_message(void);

/** An error as a value: what a failed task leaves in its future. */
typedef struct weft_error_info {
    /** The code: WEFT_E* or the program's own, 0 for none. */
    int code;
    /** The message, NUL-terminated. */
    char message[WEFT_MESSAGE_MAX];
} weft_error_info_t;

/** Fill *out with code and the calling thread's last message. */
WEFT_API void weft_error_capture(weft_error_info_t *out, int code);

/* ----- Work ----- */

/** A unit of work: a thread's target, a task, a callback that computes.
 * It returns 0 and stores its result in *result (left NULL if it has none),
 * or fails the way Python raises: `return weft_fail(code, "...")`. */
typedef int (*weft_fn)(void *arg, void **result);

/* ----- Time ----- */

/** Wait without limit. Compare timeouts with this name, never its value. */
#define WEFT_FOREVER (-1.0)

/** A deadline is a point on the monotonic clock, in nanoseconds;
 * WEFT_NEVER is none at all. */
#define WEFT_NEVER INT64_MAX

/** Seconds on the monotonic clock (time.monotonic()) and since the epoch
 * (time.time()). */
WEFT_API double weft_monotonic(void);
WEFT_API int64_t weft_monotonic_ns(void);
WEFT_API double weft_time(void);

/** Turn a relative timeout into a deadline: WEFT_FOREVER gives WEFT_NEVER.
 * Errors: WEFT_EINVAL for NaN or a negative timeout other than WEFT_FOREVER;
 *         *deadline is then unchanged. */
WEFT_API int weft_deadline(double timeout, int64_t *deadline);

/** Seconds left until deadline, never negative; WEFT_FOREVER for WEFT_NEVER. */
WEFT_API double weft_deadline_remaining(int64_t deadline);

/* ----- Bytes ----- */

/** A byte string: what crosses a process boundary, and what the executors
 * that do not share memory take and return. data is NULL when len is 0. */
typedef struct weft_bytes {
    /** The bytes, NULL when len is 0. */
    unsigned char *data;
    /** How many bytes data holds. */
    size_t len;
} weft_bytes_t;

/** Copy len bytes from data into a new byte string in *out.
 * Ownership: data is borrowed; *out returns new, freed with
 * weft_bytes_free(). Errors: WEFT_ENOMEM, WEFT_EINVAL (NULL data, len > 0). */
WEFT_API int weft_bytes_copy(weft_bytes_t *out, const void *data, size_t len);

/** Free what b holds and empty it; an empty b is left as is. */
WEFT_API void weft_bytes_free(weft_bytes_t *b);

/* ----- Symbol names ----- */

/** Write the name of the function at fn into buf (cut to size - 1 bytes), as
 * the dynamic linker knows it. Programs linked with -rdynamic (CMake's
 * ENABLE_EXPORTS) name their own functions too. Returns 0, or WEFT_EKEY when
 * no name is known; buf then holds "". */
WEFT_API int weft_symbol_name(const void *fn, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_BASE_H */
