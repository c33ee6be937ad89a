/* SPDX-License-Identifier: MIT */
/* A progress bar over tasks: the seeds' ProgressTracker.
 *
 * On a terminal it redraws one line in place ("\r... "); elsewhere (a pipe,
 * a log file) it prints a plain line at most every interval seconds, so a
 * log never fills with carriage returns. The bar is shared by the threads
 * that complete the tracked futures: a lock guards the count and the
 * drawing, and a reference count keeps it alive while futures it tracks
 * are still pending. */
#include "base/check.h"
#include "future_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/sync.h"

struct weft_progress {
    weft_lock_t lock;
    _Atomic uint32_t refs;
    size_t total, completed;
    char label[64];
    int fd, terminal;
    double interval, start, last_line;
};

int weft_progress_new(weft_progress_t **out, size_t total,
                      const weft_progress_opts_t *opts)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "progress_new: NULL out");
    struct weft_progress *p = calloc(1, sizeof *p);
    if (p == NULL)
        return weft_fail(WEFT_ENOMEM, "progress_new: no memory");
    weft_progress_opts_t o = opts ? *opts : (weft_progress_opts_t){0};
    weft_lock_init(&p->lock);
    atomic_init(&p->refs, 1);
    p->total = total;
    snprintf(p->label, sizeof p->label, "%s", o.label ? o.label : "Progress");
    p->fd = o.fd > 0 ? o.fd : STDERR_FILENO;
    p->terminal = o.force_terminal ? o.force_terminal > 0 : isatty(p->fd);
    p->interval = o.interval > 0 ? o.interval : 1.0;
    p->start = weft_monotonic();
    p->last_line = -1e9;
    *out = p;
    return 0;
}

static void release(weft_progress_t *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        free(p);
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* With the lock held: the line as the seeds print it, percent, count,
 * rate and estimated time left. */
static void draw(weft_progress_t *p, double now, int final)
{
    double elapsed = now - p->start;
    double pct = p->total ? 100.0 * (double)p->completed / (double)p->total
                          : 100.0;
    double rate = elapsed > 0 ? (double)p->completed / elapsed : 0;
    double eta = rate > 0 ? (double)(p->total - p->completed) / rate : 0;
    char line[256];
    int len = snprintf(line, sizeof line,
                       "%s%s: %.1f%% (%zu/%zu) %.1f/s ETA: %.1fs%s",
                       p->terminal ? "\r" : "", p->label, pct, p->completed,
                       p->total, rate, eta,
                       p->terminal && !final ? "" : "\n");
    if (len > 0)
        write_all(p->fd, line, (size_t)len < sizeof line ? (size_t)len
                                                         : sizeof line - 1);
    p->last_line = now;
}

void weft_progress_update(weft_progress_t *p, size_t n)
{
    WEFT_REFUSE_NULL_OR(p, );
    weft_lock_acquire_shielded(&p->lock);
    p->completed += n;
    if (p->completed > p->total)
        p->total = p->completed;
    double now = weft_monotonic();
    if (p->terminal || now - p->last_line >= p->interval)
        draw(p, now, 0);
    weft_lock_release(&p->lock);
}

static int count_done(weft_future_t *f, void *arg)
{
    weft_progress_t *p = arg;
    weft_progress_update(p, 1);
    release(p);
    return 0;
}

int weft_progress_track(weft_progress_t *p, weft_future_t *f)
{
    if (p == NULL || f == NULL)
        return weft_fail(WEFT_EINVAL, "progress_track: NULL argument");
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    int rc = weft_future_add_done_callback(f, count_done, p);
    if (rc)
        release(p);
    return rc;
}

size_t weft_progress_completed(weft_progress_t *p)
{
    WEFT_REFUSE_NULL_OR(p, 0);
    weft_lock_acquire_shielded(&p->lock);
    size_t n = p->completed;
    weft_lock_release(&p->lock);
    return n;
}

void weft_progress_finish(weft_progress_t *p)
{
    WEFT_REFUSE_NULL_OR(p, );
    weft_lock_acquire_shielded(&p->lock);
    double now = weft_monotonic();
    draw(p, now, 1);
    char line[96];
    int len = snprintf(line, sizeof line, "Completed in %.2fs\n",
                       now - p->start);
    if (len > 0)
        write_all(p->fd, line, (size_t)len);
    weft_lock_release(&p->lock);
}

void weft_progress_free(weft_progress_t *p)
{
    if (p)
        release(p);
}
