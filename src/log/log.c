/* SPDX-License-Identifier: MIT */
/* Logging: the configuration, and emitting a record as one write(2).
 *
 * A record is gathered (time, ids, thread name, the message) before the
 * lock is taken, then rendered and written under the lock, which guards the
 * configuration: its format, date format, destination and the process name.
 * The level is an atomic of its own, so that a record below it costs one
 * load. The lock is a leaf: the thread registry is consulted before it is
 * taken, never under it, and no user code runs under it.
 *
 * Why lines never interleave: each record is one buffer of at most
 * WEFT_LOG_LINE_MAX (= PIPE_BUF) bytes handed to a single write(2). Inside
 * the process the lock orders the writes; across processes, a file opened
 * with O_APPEND places each write at the end atomically, and a pipe keeps
 * writes of up to PIPE_BUF bytes whole.
 *
 * fork(): the prepare handler takes the lock, so no write is cut short in
 * the child; the child sets the lock up afresh (releasing it could unpark
 * through park's table, which park resets in the child). */
#include "log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/park.h"
#include "weft/sync.h"
#include "weft/thread.h"

#define DEFAULT_LEVEL WEFT_LOG_WARNING

/* What basic_config sets; under the lock but for level. */
struct config {
    struct log_format *format;
    char *datefmt; /* NULL: Python's default asctime */
    int fd;        /* -1: stderr */
    int owns_fd;
};

static weft_lock_t log_lock = WEFT_LOCK_INIT;
static _Atomic int level = DEFAULT_LEVEL;
static struct config config = {(struct log_format *)&weft__log_default_format,
                               NULL, -1, 0};
static char process_name[64] = "MainProcess";

/* Taken shielded: a record must be written even in a cancelled scope. */
static void lock_log(void)
{
    weft_lock_acquire_shielded(&log_lock);
}

static void unlock_log(void)
{
    weft_lock_release(&log_lock);
}

/* ----- Configuration ----- */

static void config_free(struct config *c)
{
    weft__log_format_free(c->format);
    free(c->datefmt);
    if (c->owns_fd)
        close(c->fd);
}

static int check(const weft_log_config_t *in)
{
    if (in->filename && in->fd > 0)
        return weft_fail(WEFT_EINVAL, "log config: filename and fd should "
                                      "not be specified together");
    if (in->fd < 0)
        return weft_fail(WEFT_EINVAL, "log config: bad fd %d", in->fd);
    return 0;
}

static int open_destination(const weft_log_config_t *in, struct config *c)
{
    c->fd = in->fd > 0 ? in->fd : -1;
    if (in->filename == NULL)
        return 0;
    c->fd = open(in->filename, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (c->fd < 0)
        return weft_fail(WEFT_ESYS, "log config: cannot open %s: %s",
                         in->filename, strerror(errno));
    c->owns_fd = 1;
    return 0;
}

/* Build a configuration from in; nothing is left allocated on failure. */
static int build(const weft_log_config_t *in, struct config *c)
{
    *c = (struct config){(struct log_format *)&weft__log_default_format, NULL,
                         -1, 0};
    int rc = check(in);
    if (rc == 0 && in->format)
        rc = weft__log_format_compile(in->format, &c->format);
    if (rc == 0 && in->datefmt && (c->datefmt = strdup(in->datefmt)) == NULL)
        rc = weft_fail(WEFT_ENOMEM, "no memory for the log date format");
    if (rc == 0)
        rc = open_destination(in, c);
    if (rc)
        config_free(c);
    return rc;
}

int weft_log_basic_config(const weft_log_config_t *in)
{
    static const weft_log_config_t defaults = {0, NULL, NULL, NULL, 0};
    if (in == NULL)
        in = &defaults;
    struct config fresh, old;
    int rc = build(in, &fresh);
    if (rc)
        return rc;
    lock_log();
    old = config;
    config = fresh;
    atomic_store_explicit(&level, in->level ? in->level : DEFAULT_LEVEL,
                          memory_order_relaxed);
    unlock_log();
    config_free(&old);
    return 0;
}

void weft_log_set_process_name(const char *name)
{
    lock_log();
    snprintf(process_name, sizeof process_name, "%s",
             name ? name : "MainProcess");
    unlock_log();
}

int weft_log_enabled(int lvl)
{
    return lvl >= atomic_load_explicit(&level, memory_order_relaxed);
}

/* ----- Emitting ----- */

/* write(2) the whole line: one call, unless a signal or a full disk cuts
 * it short. */
static void write_line(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* logging has nowhere to report its own failure */
        buf += n;
        len -= (size_t)n;
    }
}

static void gather(struct log_record *r, int lvl, const char *name,
                   const char *message)
{
    weft_thread_t *me = weft_current_thread();
    r->level = lvl;
    r->name = name ? name : "root";
    r->message = message;
    clock_gettime(CLOCK_REALTIME, &r->when);
    r->process = (long long)getpid();
    r->thread = (long long)weft_get_ident();
    r->thread_name = me ? weft_thread_name(me) : "?";
}

static void emit(struct log_record *r)
{
    char line[WEFT_LOG_LINE_MAX];
    lock_log();
    r->process_name = process_name;
    r->datefmt = config.datefmt;
    size_t len = weft__log_render(config.format, r, line, sizeof line);
    write_line(config.fd >= 0 ? config.fd : STDERR_FILENO, line, len);
    unlock_log();
}

void weft_vlog(int lvl, const char *name, const char *fmt, va_list ap)
{
    if (!weft_log_enabled(lvl) || fmt == NULL)
        return;
    char message[WEFT_LOG_LINE_MAX];
    vsnprintf(message, sizeof message, fmt, ap);
    struct log_record r;
    gather(&r, lvl, name, message);
    emit(&r);
}

void weft_log(int lvl, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weft_vlog(lvl, name, fmt, ap);
    va_end(ap);
}

/* ----- fork() ----- */

static void after_fork_in_child(void)
{
    weft_lock_init(&log_lock);
}

__attribute__((constructor)) static void install_fork_handlers(void)
{
    pthread_atfork(lock_log, unlock_log, after_fork_in_child);
}
