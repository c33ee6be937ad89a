/* SPDX-License-Identifier: MIT */
/* gather and wait_for: waiting on several futures, and on one with a
 * timeout, the way asyncio does, on top of weft_wait and cancel scopes. */
#include "coro_int.h"

#include <stdio.h>
#include <string.h>

/* Wait for f to end whatever happens to the caller: after asking it to
 * stop, wait_for and gather must not leave it running behind their back. */
static void wait_shielded(weft_future_t *f)
{
    weft_cancel_scope_t shield;
    weft_cancel_scope_init(&shield);
    weft_cancel_scope_enter(&shield, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    weft_future_wait(f, WEFT_FOREVER);
    weft_cancel_scope_exit(&shield);
}

int weft_wait_for(weft_future_t *f, double timeout, void **result)
{
    if (f == NULL)
        return weft_fail(WEFT_EINVAL, "wait_for: NULL future");
    int64_t deadline;
    if (weft_deadline(timeout, &deadline))
        return weft_fail(WEFT_EINVAL,
                         "wait_for: timeout must be >= 0 or WEFT_FOREVER, "
                         "got %g",
                         timeout);
    /* A caller already cancelled is told so, whatever the timeout. */
    int rc = weft_cancelled() ? WEFT_ECANCELLED : weft_future_wait(f, timeout);
    if (rc == 0)
        return weft_future_result(f, 0, result);
    if (rc != WEFT_ETIMEDOUT && rc != WEFT_ECANCELLED)
        return rc;
    weft_task_cancel(f);
    wait_shielded(f);
    /* A cancellation of the caller that came during the timeout's clean-up
     * wins over the timeout: it must not be reported as one. */
    if (rc == WEFT_ECANCELLED || weft_cancelled())
        return weft_fail(WEFT_ECANCELLED, "wait_for: cancelled while "
                                          "waiting");
    weft_error_info_t e;
    if (weft_future_error(f, 0, &e) == 0 && e.code == 0)
        return weft_future_result(f, 0, result); /* done in the meantime */
    return weft_fail(WEFT_ETIMEDOUT, "wait_for: no result within %g s",
                     timeout);
}

/* The code and message of a done future: 0 for a result. */
static void outcome(weft_future_t *f, weft_error_info_t *e)
{
    if (weft_future_error(f, 0, e) != 0) { /* cancelled */
        e->code = WEFT_ECANCELLED;
        snprintf(e->message, sizeof e->message, "%s", weft_last_message());
    }
}

static void cancel_pending(weft_future_t *const *fs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!weft_future_done(fs[i]))
            weft_task_cancel(fs[i]);
}

static void collect(weft_future_t *const *fs, size_t n, void **results,
                    weft_error_info_t *errors, weft_error_info_t *first)
{
    first->code = 0;
    for (size_t i = 0; i < n; i++) {
        weft_error_info_t e = {0, ""};
        if (weft_future_done(fs[i]))
            outcome(fs[i], &e);
        if (results)
            results[i] = NULL;
        if (results && e.code == 0 && weft_future_done(fs[i]))
            weft_future_result(fs[i], 0, &results[i]);
        if (errors)
            errors[i] = e;
        if (e.code && first->code == 0)
            *first = e;
    }
}

int weft_gather(weft_future_t *const *fs, size_t n, int return_exceptions,
                void **results, weft_error_info_t *errors)
{
    if (fs == NULL && n > 0)
        return weft_fail(WEFT_EINVAL, "gather: NULL futures");
    int when = return_exceptions ? WEFT_ALL_COMPLETED : WEFT_FIRST_EXCEPTION;
    int rc = weft_wait(fs, n, WEFT_FOREVER, when, NULL, NULL, NULL, NULL);
    if (rc == WEFT_ECANCELLED) {
        cancel_pending(fs, n);
        return weft_fail(WEFT_ECANCELLED, "gather cancelled");
    }
    if (rc)
        return rc;
    weft_error_info_t first;
    collect(fs, n, results, errors, &first);
    if (return_exceptions || first.code == 0)
        return 0;
    return weft_fail(first.code, "%s", first.message);
}
