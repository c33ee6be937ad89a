/* SPDX-License-Identifier: MIT */
/* Timer: threading.Timer, a thread that waits on its finished event for the
 * interval and then runs its function, unless cancel() set the event first.
 * Cancelling wakes the wait at once, so a cancelled timer ends at once. */
#include "thread_int.h"

#include <math.h>

int weft_timer_new(weft_thread_t **out, double interval, weft_fn fn, void *arg,
                   const weft_thread_opts_t *opts)
{
    if (isnan(interval) || interval < 0)
        return weft_fail(WEFT_EINVAL, "timer interval must be >= 0, got %g",
                         interval);
    int rc = weft__thread_create(out, fn, arg, opts, 1);
    if (rc == 0)
        (*out)->interval = interval;
    return rc;
}

int weft_timer_cancel(weft_thread_t *t)
{
    if (t == NULL || !t->is_timer)
        return weft_fail(WEFT_EINVAL, "weft_timer_cancel: %s",
                         t == NULL ? "NULL thread" : "not a timer");
    weft_event_set(&t->finished);
    return 0;
}

int weft__timer_run(weft_thread_t *t, void **result)
{
    int code = 0;
    /* Timed out or cancelled: the event says which. */
    weft_event_wait(&t->finished, t->interval);
    if (!weft_event_is_set(&t->finished)) {
        weft_clear_message();
        code = t->target(t->arg, result);
    }
    weft_event_set(&t->finished);
    return code;
}
