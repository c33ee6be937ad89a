/* SPDX-License-Identifier: MIT */
/* Sources that produce later: interval and timer on a scheduler, a weft
 * future, a file descriptor on a loop.
 *
 * Each holds its pending work as a scheduled action (or a future's done
 * callback, or a loop's reader) that holds a reference to the source's
 * sink, and its stop hook cancels that work; the lock of a timer sink
 * makes "schedule the next tick" and "stop" exclusive, so a stopped timer
 * never schedules again.
 */
#include "rx_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ----- interval, timer ----- */

struct timer_obs {
    weft_rx_observable_t o;
    double due, period;
    weft_rx_scheduler_t *sched;
};

struct timer_sink {
    rx_sink_t s;
    pthread_mutex_t lock;
    rx_action_t *pending;
    double period;
    long count;
    weft_rx_scheduler_t *sched;
};

static void tick(rx_action_t *a);

/* Set the next tick for time `at` on the scheduler's clock. */
static void arm(struct timer_sink *t, double at)
{
    rx_action_t *a = weft__rx_action_new(tick, &t->s, 0);
    if (!a) {
        weft__rx_emit_fail(&t->s, WEFT_ENOMEM);
        return;
    }
    pthread_mutex_lock(&t->lock);
    int rc = 0;
    if (!rx_stopped(&t->s)) {
        rc = weft__rx_schedule(t->sched, a, at - weft_rx_scheduler_now(t->sched));
        if (rc == 0) {
            t->pending = a;
            a = NULL;
        }
    }
    pthread_mutex_unlock(&t->lock);
    weft__rx_action_release(a);
    if (rc)
        weft__rx_emit_fail(&t->s, rc);
}

static void tick(rx_action_t *a)
{
    struct timer_sink *t = (struct timer_sink *)a->sink;
    pthread_mutex_lock(&t->lock);
    rx_action_t *mine = t->pending == a ? a : NULL;
    t->pending = NULL;
    pthread_mutex_unlock(&t->lock);
    if (!mine)
        return;
    rx_emit_next(&t->s, (void *)(intptr_t)t->count++);
    if (t->period > 0)
        arm(t, a->due + t->period);
    else
        weft__rx_emit_completed(&t->s);
    weft__rx_action_release(mine); /* the sink's reference */
}

static void timer_stop(rx_sink_t *s)
{
    struct timer_sink *t = (struct timer_sink *)s;
    pthread_mutex_lock(&t->lock);
    rx_action_t *a = t->pending;
    t->pending = NULL;
    pthread_mutex_unlock(&t->lock);
    weft__rx_action_cancel(a);
}

static void timer_destroy(rx_sink_t *s)
{
    struct timer_sink *t = (struct timer_sink *)s;
    pthread_mutex_destroy(&t->lock);
    weft_rx_scheduler_free(t->sched);
}

static const rx_sink_class_t timer_sink_class = {
    sizeof(struct timer_sink), NULL, NULL, NULL, timer_stop, timer_destroy,
    NULL};

static rx_sink_t *timer_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct timer_obs *to = (struct timer_obs *)o;
    struct timer_sink *t = weft__rx_sink_new(&timer_sink_class, down, NULL);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->period = to->period;
    t->sched = weft_rx_scheduler_ref(to->sched);
    arm(t, weft_rx_scheduler_now(to->sched) + to->due);
    return &t->s;
}

static void timer_obs_destroy(weft_rx_observable_t *o)
{
    weft_rx_scheduler_free(((struct timer_obs *)o)->sched);
}

static const rx_class_t timer_class = {"timer", sizeof(struct timer_obs),
                                       timer_subscribe, timer_obs_destroy};

int weft_rx_timer(weft_rx_observable_t **out, double due, double period,
                  weft_rx_scheduler_t *sched)
{
    if (!out)
        return weft_fail(WEFT_EINVAL, "weft_rx_timer: NULL out");
    int rc = weft__rx_check_sched(sched, "timer");
    if (rc == 0)
        rc = weft__rx_check_time(due, "timer", 1);
    if (rc == 0)
        rc = weft__rx_check_time(period, "timer", 1);
    if (rc)
        return rc;
    struct timer_obs *t = weft__rx_observable_new(&timer_class, NULL);
    if (!t)
        return WEFT_ENOMEM;
    t->due = due;
    t->period = period;
    t->sched = weft_rx_scheduler_ref(sched);
    *out = &t->o;
    return 0;
}

int weft_rx_interval(weft_rx_observable_t **out, double period,
                     weft_rx_scheduler_t *sched)
{
    if (period == 0)
        return weft_fail(WEFT_EINVAL, "weft_rx_interval: bad time 0 (must "
                                      "be > 0)");
    return weft_rx_timer(out, period, period, sched);
}

/* ----- from_future ----- */

struct future_obs {
    weft_rx_observable_t o;
    weft_future_t *f;
};

static int future_done(weft_future_t *f, void *arg)
{
    rx_sink_t *s = arg;
    void *r = NULL;
    int rc = weft_future_result(f, 0, &r);
    if (rc == 0) {
        rx_emit_next(s, r);
        weft__rx_emit_completed(s);
    } else {
        weft__rx_emit_fail(s, rc);
    }
    weft__rx_sink_release(s);
    return 0;
}

static const rx_sink_class_t future_sink_class = {
    sizeof(rx_sink_t), NULL, NULL, NULL, NULL, NULL, NULL};

static rx_sink_t *future_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct future_obs *fo = (struct future_obs *)o;
    rx_sink_t *s = weft__rx_sink_new(&future_sink_class, down, o->values);
    if (!s)
        return NULL;
    int rc = weft_future_add_done_callback(fo->f, future_done, rx_ref(s));
    if (rc) {
        weft__rx_sink_release(s);
        weft__rx_emit_fail(s, rc);
    }
    return s;
}

static void future_obs_destroy(weft_rx_observable_t *o)
{
    weft_future_free(((struct future_obs *)o)->f);
}

static const rx_class_t future_class = {"from_future", sizeof(struct future_obs),
                                        future_subscribe, future_obs_destroy};

int weft_rx_from_future(weft_rx_observable_t **out, weft_future_t *f)
{
    if (!out || !f)
        return weft_fail(WEFT_EINVAL, "weft_rx_from_future: NULL %s",
                         out ? "future" : "out");
    struct future_obs *fo = weft__rx_observable_new(&future_class, NULL);
    if (!fo)
        return WEFT_ENOMEM;
    fo->f = weft_future_ref(f);
    *out = &fo->o;
    return 0;
}

/* ----- from_fd ----- */

static void *bytes_retain(void *v)
{
    const weft_bytes_t *b = v;
    weft_bytes_t *c = malloc(sizeof *c);
    if (c && weft_bytes_copy(c, b->data, b->len) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

static void bytes_release(void *v)
{
    if (v) {
        weft_bytes_free(v);
        free(v);
    }
}

static int bytes_format(void *v, char *buf, size_t size)
{
    const weft_bytes_t *b = v;
    return snprintf(buf, size, "%.*s", (int)b->len, (const char *)b->data);
}

const weft_rx_value_ops_t weft_rx_bytes_ops = {bytes_retain, bytes_release,
                                               bytes_format};

struct fd_obs {
    weft_rx_observable_t o;
    weft_loop_t *loop;
    int fd;
    weft_rx_scheduler_t *sched;
};

struct fd_sink {
    rx_sink_t s;
    struct fd_obs *fo;
    int watching; /* the loop thread's: the reader holds a reference */
};

/* On the loop's thread. */
static void unwatch(struct fd_sink *x)
{
    if (!x->watching)
        return;
    x->watching = 0;
    weft_loop_remove_reader(x->fo->loop, x->fo->fd);
    weft__rx_sink_release(&x->s);
}

static int readable(void *arg)
{
    struct fd_sink *x = arg;
    rx_ref(&x->s);
    if (rx_stopped(&x->s)) {
        unwatch(x);
        weft__rx_sink_release(&x->s);
        return 0;
    }
    unsigned char buf[4096];
    ssize_t n = read(x->fo->fd, buf, sizeof buf);
    if (n > 0) {
        weft_bytes_t chunk = {buf, (size_t)n};
        weft_bytes_t *v = bytes_retain(&chunk);
        if (v) {
            rx_emit_next(&x->s, v);
            bytes_release(v);
        } else {
            weft__rx_emit_fail(&x->s, weft_fail(WEFT_ENOMEM, "rx: no memory "
                                                             "for a chunk"));
        }
    } else if (n == 0) {
        unwatch(x);
        weft__rx_emit_completed(&x->s);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        unwatch(x);
        weft__rx_emit_fail(&x->s, weft_fail(WEFT_ESYS, "rx: read from fd %d: "
                                                       "%s",
                                            x->fo->fd, strerror(errno)));
    }
    weft__rx_sink_release(&x->s);
    return 0;
}

static void watch_run(rx_action_t *a)
{
    struct fd_sink *x = (struct fd_sink *)a->sink;
    if (a->tag == 0) {
        if (rx_stopped(&x->s) || x->watching)
            return;
        int rc = weft_loop_add_reader(x->fo->loop, x->fo->fd, readable, x);
        if (rc) {
            weft__rx_emit_fail(&x->s, rc);
            return;
        }
        x->watching = 1;
        rx_ref(&x->s);
    } else {
        unwatch(x);
    }
}

/* Run watch_run with tag on the loop; 0 or the scheduler's code. */
static int on_loop(struct fd_sink *x, uintptr_t tag)
{
    rx_action_t *a = weft__rx_action_new(watch_run, &x->s, tag);
    if (!a)
        return WEFT_ENOMEM;
    int rc = weft__rx_schedule(x->fo->sched, a, 0);
    weft__rx_action_release(a);
    return rc;
}

static void fd_stop(rx_sink_t *s)
{
    on_loop((struct fd_sink *)s, 1);
}

static void fd_destroy(rx_sink_t *s)
{
    weft_rx_observable_free(&((struct fd_sink *)s)->fo->o);
}

static const rx_sink_class_t fd_sink_class = {
    sizeof(struct fd_sink), NULL, NULL, NULL, fd_stop, fd_destroy, NULL};

static rx_sink_t *fd_subscribe(weft_rx_observable_t *o, rx_sink_t *down)
{
    struct fd_sink *x = weft__rx_sink_new(&fd_sink_class, down, o->values);
    if (!x)
        return NULL;
    x->fo = (struct fd_obs *)weft_rx_observable_ref(o);
    int rc = on_loop(x, 0);
    if (rc)
        weft__rx_emit_fail(&x->s, rc);
    return &x->s;
}

static void fd_obs_destroy(weft_rx_observable_t *o)
{
    weft_rx_scheduler_free(((struct fd_obs *)o)->sched);
}

static const rx_class_t fd_class = {"from_fd", sizeof(struct fd_obs),
                                    fd_subscribe, fd_obs_destroy};

int weft_rx_from_fd(weft_rx_observable_t **out, weft_loop_t *loop, int fd)
{
    if (!out || !loop || fd < 0)
        return weft_fail(WEFT_EINVAL, "weft_rx_from_fd: %s",
                         !out ? "NULL out" : !loop ? "NULL loop" : "bad fd");
    weft_rx_scheduler_t *sched;
    int rc = weft_rx_loop_scheduler_new(&sched, loop);
    if (rc)
        return rc;
    struct fd_obs *fo = weft__rx_observable_new(&fd_class, &weft_rx_bytes_ops);
    if (!fo) {
        weft_rx_scheduler_free(sched);
        return WEFT_ENOMEM;
    }
    fo->loop = loop;
    fo->fd = fd;
    fo->sched = sched;
    *out = &fo->o;
    return 0;
}
