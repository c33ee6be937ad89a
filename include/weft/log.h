/* SPDX-License-Identifier: MIT */
/** weft/log.h: logging that knows threads and processes, Python's `logging`
 * with its basicConfig, levels and %(name)s format fields.
 *
 * Each record is formatted into one buffer and written with a single
 * write(2), under a lock shared by the process's threads; a file is opened
 * with O_APPEND | O_CLOEXEC. So lines from many threads, and from many
 * processes writing to one file or pipe, never interleave (a pipe keeps
 * lines of up to PIPE_BUF bytes whole; records are cut at
 * WEFT_LOG_LINE_MAX, the newline included).
 *
 * Format fields, as in Python: %(asctime)s %(created)f %(msecs)d
 * %(levelname)s %(levelno)d %(name)s %(message)s %(process)d
 * %(processName)s %(thread)d %(threadName)s, and %% for a percent sign.
 * Python's flags, width and precision work too ("%(levelname)-8s",
 * "%(msecs)03d", "%(created).3f"); text fields take only s. As in Python,
 * a format must name at least one field. %(threadName)s is the name of
 * weft_current_thread() (so a thread weft did not start shows "Dummy-N").
 * The default format is Python's: "%(levelname)s:%(name)s:%(message)s".
 *
 * Defaults for this layer: thread-safe; logging blocks only on the write
 * (and, inside a cancelled scope, still writes).
 *
 * Global state: the configuration (level, format, destination) and the
 * process name shown by %(processName)s ("MainProcess" until the process
 * layer names a child). A child made by fork() keeps both, and may log at
 * once even if another thread was logging as it forked.
 * \file */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include <stdarg.h>

#include "weft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The levels, with Python's values. */
enum weft_log_level {
    WEFT_LOG_NOTSET = 0,
    WEFT_LOG_DEBUG = 10,
    WEFT_LOG_INFO = 20,
    WEFT_LOG_WARNING = 30,
    WEFT_LOG_ERROR = 40,
    WEFT_LOG_CRITICAL = 50
};

/** The longest line a record makes, in bytes (PIPE_BUF, so that one
 * write(2) keeps it whole); a longer record is cut. */
#define WEFT_LOG_LINE_MAX 4096

/** logging.basicConfig: a zeroed field keeps the default. */
typedef struct weft_log_config {
    int level;          /* records below it are dropped; default WARNING */
    const char *format; /* copied; default "%(levelname)s:%(name)s:%(message)s" */
    const char *datefmt; /* strftime format of asctime; default Python's */
    const char *filename; /* append to this file; NULL: stderr */
    int fd;             /* or write to this descriptor, if > 0 (borrowed:
                           never closed by weft) */
} weft_log_config_t;

/** Configure logging; NULL gives every default. Unlike Python's basicConfig,
 * calling it again replaces the configuration (Python's force=True), closing
 * the file the previous one opened. Every format error is found here, so
 * logging itself never fails.
 * Errors: WEFT_EINVAL (unknown format field, a conversion its field does not
 * take, a stray '%', no field at all, both filename and fd, a negative fd),
 * WEFT_ESYS (file cannot be opened), WEFT_ENOMEM; the previous
 * configuration then stays. */
WEFT_API int weft_log_basic_config(const weft_log_config_t *config);

/** Log a record at level for the logger called name (NULL: "root"). */
WEFT_API void weft_log(int level, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
WEFT_API void weft_vlog(int level, const char *name, const char *fmt,
                        va_list ap);

/** logging.debug(), info(), warning(), error(), critical(): a record for the
 * root logger. */
#define weft_log_debug(...) weft_log(WEFT_LOG_DEBUG, NULL, __VA_ARGS__)
#define weft_log_info(...) weft_log(WEFT_LOG_INFO, NULL, __VA_ARGS__)
#define weft_log_warning(...) weft_log(WEFT_LOG_WARNING, NULL, __VA_ARGS__)
#define weft_log_error(...) weft_log(WEFT_LOG_ERROR, NULL, __VA_ARGS__)
#define weft_log_critical(...) weft_log(WEFT_LOG_CRITICAL, NULL, __VA_ARGS__)

/** Whether a record at level would be written (logger.isEnabledFor). */
WEFT_API int weft_log_enabled(int level);

/** The level's name ("DEBUG"), or "Level N" as Python says. Returns
 * borrowed text: static, or for "Level N" the calling thread's, valid until
 * its next call. */
WEFT_API const char *weft_log_level_name(int level);

/** The name %(processName)s shows for this process (copied, cut to 63
 * bytes; NULL: "MainProcess" again). The process layer sets it in each
 * child it starts. */
WEFT_API void weft_log_set_process_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_LOG_H */
