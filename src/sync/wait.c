/* SPDX-License-Identifier: MIT */
/* Waiting while releasing a lock: the step Condition and Barrier share;
 * and the refusal of a bad timeout, which every waiting call shares. */
#include "sync_int.h"

int weft__timeout_refused(double timeout)
{
    int64_t unused;
    /* weft_deadline() refuses it with the layer-wide message. */
    int rc = weft_deadline(timeout, &unused);
    return rc ? rc : weft_fail(WEFT_EINVAL, "bad timeout %g", timeout);
}

struct releasing {
    weft_lock_t *lock;
    int (*validate)(void *ctx);
    void *ctx;
    int released;
};

static int releasing_validate(void *p)
{
    struct releasing *r = p;
    return r->validate ? r->validate(r->ctx) : 1;
}

/* Queued first, released second: a notifier, who must hold the lock, cannot
 * miss this waiter. */
static void release_lock(void *p)
{
    struct releasing *r = p;
    r->released = 1;
    weft_lock_release(r->lock);
    WEFT_CHAOS_POINT(); /* released, not yet asleep: a notify may come */
}

static const weft_park_ops_t releasing_ops = {releasing_validate,
                                              release_lock, NULL};

int weft__wait_releasing(const void *addr, weft_lock_t *l,
                         int (*validate)(void *ctx), void *ctx,
                         int64_t deadline)
{
    struct releasing r = {l, validate, ctx, 0};
    int rc = weft_park(addr, &releasing_ops, &r, deadline, NULL);
    /* Not queued (validate said no, or the scope was already cancelled):
     * the lock was never released. */
    if (r.released)
        weft_lock_acquire_shielded(l);
    return rc;
}
