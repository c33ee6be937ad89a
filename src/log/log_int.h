/* SPDX-License-Identifier: MIT */
/* Inside the log layer only: a format compiled into pieces, the record they
 * are filled from, and the rendering of one record into one line. */
#ifndef WEFT_LOG_INT_H
#define WEFT_LOG_INT_H

#include <stddef.h>
#include <time.h>

#include "weft/log.h"

/* What a piece of a format shows. */
enum log_field {
    LOG_LITERAL,
    LOG_ASCTIME,
    LOG_CREATED,
    LOG_MSECS,
    LOG_LEVELNAME,
    LOG_LEVELNO,
    LOG_NAME,
    LOG_MESSAGE,
    LOG_PROCESS,
    LOG_PROCESSNAME,
    LOG_THREAD,
    LOG_THREADNAME
};

/* A literal run of text, or one %(field)spec. spec is a printf conversion
 * made from Python's: flags, width and precision kept, the length modifier
 * and conversion fitted to the value's C type ("%-8s", "%03lld", "%.3f"). */
struct log_piece {
    enum log_field field;
    const char *text; /* LOG_LITERAL: len bytes, not NUL-terminated */
    size_t len;
    char spec[48];
};

/* A compiled format: its pieces, and the copy of the text they point into
 * (NULL for the built-in default, which is static). */
struct log_format {
    size_t count;
    struct log_piece *pieces;
    char *text;
};

/* Everything a record shows, gathered before the log lock is taken. */
struct log_record {
    int level;
    const char *name;
    const char *message;
    struct timespec when; /* CLOCK_REALTIME */
    long long process;
    long long thread;
    const char *thread_name;
    const char *process_name;
    const char *datefmt; /* NULL: Python's default asctime */
};

/* Python's default format, compiled once, never freed. */
extern const struct log_format weft__log_default_format;

/* Compile fmt (borrowed). Errors: WEFT_EINVAL (unknown field, a conversion
 * the field's type does not take, a format with no field, a stray '%'),
 * WEFT_ENOMEM. */
int weft__log_format_compile(const char *fmt, struct log_format **out);

/* Free a compiled format; the default and NULL are left alone. */
void weft__log_format_free(struct log_format *f);

/* Render r by f into buf (size >= 2): the line, cut to size - 1 bytes, and
 * a newline. Returns the length written. */
size_t weft__log_render(const struct log_format *f, const struct log_record *r,
                        char *buf, size_t size);

#endif
