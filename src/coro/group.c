/* SPDX-License-Identifier: MIT */
/* Task groups: asyncio.TaskGroup on a cancel scope.
 *
 * Opening a group enters a cancel scope in the caller's context; waiting
 * leaves it. A member that fails cancels the group's scope, which cancels
 * the caller's body at its next blocking call, and asks every other member
 * to stop. The wait then waits, shielded, for the members that are left, so
 * that no member outlives its group, and reports the first failure.
 *
 * A group lives on its loop's thread: members complete there, and their
 * done callbacks touch the group without a lock. The pending count is a
 * word that the wait parks on, so it waits like any other weft call.
 */
#include "base/check.h"
#include "coro_int.h"

#include <stdlib.h>
#include <string.h>

struct member {
    weft_future_t *f;
    weft_task_group_t *g;
};

struct weft_task_group {
    weft_loop_t *loop;
    weft_cancel_scope_t scope;
    _Atomic uint32_t pending;
    struct member **members;
    size_t n, cap;
    size_t failed;
    weft_error_info_t first;
    int closing, waited;
};

int weft_task_group_new(weft_task_group_t **out, weft_loop_t *loop)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "task_group_new: NULL out");
    weft_task_group_t *g = calloc(1, sizeof *g);
    if (g == NULL)
        return weft_fail(WEFT_ENOMEM, "task_group_new: no memory");
    g->loop = loop;
    weft_cancel_scope_init(&g->scope);
    weft_cancel_scope_enter(&g->scope, WEFT_FOREVER, 0);
    *out = g;
    return 0;
}

/* Stop everything: the members still running and the caller's body. */
static void abort_group(weft_task_group_t *g)
{
    g->closing = 1;
    for (size_t i = 0; i < g->n; i++)
        if (!weft_future_done(g->members[i]->f))
            weft_task_cancel(g->members[i]->f);
    weft_cancel_scope_cancel(&g->scope);
}

static int member_done(weft_future_t *f, void *arg)
{
    struct member *m = arg;
    weft_task_group_t *g = m->g;
    weft_error_info_t e = {0, ""};
    /* A member cancelled (by the group, or itself) is not a failure. */
    if (!weft_future_cancelled(f) && weft_future_error(f, 0, &e) == 0 &&
        e.code != 0 && e.code != WEFT_ECANCELLED) {
        if (g->failed++ == 0)
            g->first = e;
        abort_group(g);
    }
    if (atomic_fetch_sub(&g->pending, 1) == 1)
        weft_park_wake(&g->pending, SIZE_MAX);
    return 0;
}

static int add_member(weft_task_group_t *g, struct member *m)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        struct member **ms = realloc(g->members, cap * sizeof *ms);
        if (ms == NULL)
            return weft_fail(WEFT_ENOMEM, "task group: no memory");
        g->members = ms;
        g->cap = cap;
    }
    g->members[g->n++] = m;
    return 0;
}

int weft_task_group_spawn(weft_task_group_t *g, weft_fn fn, void *arg,
                          weft_future_t **out)
{
    if (g == NULL)
        return weft_fail(WEFT_EINVAL, "task_group_spawn: NULL group");
    if (g->closing || g->waited)
        return weft_fail(WEFT_ESTATE, "task group is %s",
                         g->waited ? "finished" : "shutting down");
    struct member *m = calloc(1, sizeof *m);
    if (m == NULL)
        return weft_fail(WEFT_ENOMEM, "task group: no memory");
    m->g = g;
    int rc = add_member(g, m);
    if (rc == 0)
        rc = weft_task_create(&m->f, g->loop, fn, arg);
    if (rc) {
        if (g->n && g->members[g->n - 1] == m)
            g->n--;
        free(m);
        return rc;
    }
    atomic_fetch_add(&g->pending, 1);
    weft_future_add_done_callback(m->f, member_done, m);
    if (out)
        *out = weft_future_ref(m->f);
    return 0;
}

/* Park until no member is left; 0, or WEFT_ECANCELLED from a scope. */
static int wait_members(weft_task_group_t *g)
{
    for (;;) {
        uint32_t p = atomic_load(&g->pending);
        if (p == 0)
            return 0;
        int rc = weft_park_wait(&g->pending, p, WEFT_NEVER);
        if (rc)
            return rc;
    }
}

static void wait_members_shielded(weft_task_group_t *g)
{
    weft_cancel_scope_t shield;
    weft_cancel_scope_init(&shield);
    weft_cancel_scope_enter(&shield, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    wait_members(g);
    weft_cancel_scope_exit(&shield);
}

int weft_task_group_wait(weft_task_group_t *g)
{
    if (g == NULL)
        return weft_fail(WEFT_EINVAL, "task_group_wait: NULL group");
    if (g->waited)
        return weft_fail(WEFT_ESTATE, "task group already waited for");
    if (wait_members(g) == WEFT_ECANCELLED) {
        abort_group(g);
        wait_members_shielded(g);
    }
    g->waited = 1;
    if (weft_cancel_scope_exit(&g->scope) == WEFT_EINVAL)
        return weft_fail(WEFT_ESTATE, "task group: wait from another "
                                      "context than the one that opened it, "
                                      "or with a scope inside still open");
    if (g->failed)
        return weft_fail(g->first.code, "%zu of %zu tasks failed; first: %s",
                         g->failed, g->n, g->first.message);
    if (weft_cancelled())
        return weft_fail(WEFT_ECANCELLED, "task group cancelled");
    return 0;
}

size_t weft_task_group_size(const weft_task_group_t *g)
{
    WEFT_REFUSE_NULL_OR(g, 0);
    return g->n;
}

size_t weft_task_group_failed(const weft_task_group_t *g)
{
    WEFT_REFUSE_NULL_OR(g, 0);
    return g->failed;
}

void weft_task_group_free(weft_task_group_t *g)
{
    if (g == NULL)
        return;
    if (!g->waited)
        weft_cancel_scope_exit(&g->scope);
    for (size_t i = 0; i < g->n; i++) {
        weft_future_free(g->members[i]->f);
        free(g->members[i]);
    }
    free(g->members);
    free(g);
}
