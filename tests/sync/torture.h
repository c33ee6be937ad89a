/* SPDX-License-Identifier: MIT */
/* What the sync torture tests share: a verdict that worker threads (and
 * processes, when it lies in shared memory) record their first failure in,
 * for the main thread to check; a cancel scope that another thread may
 * cancel at any moment; and random timeouts. */
#ifndef WEFT_TESTS_SYNC_TORTURE_H
#define WEFT_TESTS_SYNC_TORTURE_H

#include "testing.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The first failure, in words. Workers never assert (cmocka's asserts are
 * for the main thread): they record and stop. */
struct verdict {
    _Atomic int failed;
    _Atomic int writing;
    char why[256];
};

static inline void note_failure(struct verdict *v, const char *fmt, ...)
{
    if (atomic_exchange(&v->writing, 1))
        return; /* another failure came first */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    atomic_store(&v->failed, 1);
}

static inline int failed(struct verdict *v)
{
    return atomic_load(&v->writing);
}

static inline void check_verdict(struct verdict *v)
{
    if (atomic_load(&v->failed))
        fprintf(stderr, "failed: %s\n", v->why);
    assert_false(atomic_load(&v->writing));
}

/* A scope that another thread may cancel: set up and cancelled under a
 * mutex, so that the canceller never meets one half set up. */
struct cancellable {
    pthread_mutex_t m;
    weft_cancel_scope_t scope;
    int active;
};

static inline void scope_open(struct cancellable *c)
{
    pthread_mutex_lock(&c->m);
    weft_cancel_scope_init(&c->scope);
    c->active = 1;
    pthread_mutex_unlock(&c->m);
    weft_cancel_scope_enter(&c->scope, WEFT_FOREVER, 0);
}

static inline void scope_close(struct cancellable *c)
{
    weft_cancel_scope_exit(&c->scope);
    pthread_mutex_lock(&c->m);
    c->active = 0;
    pthread_mutex_unlock(&c->m);
}

static inline void scope_cancel(struct cancellable *c)
{
    pthread_mutex_lock(&c->m);
    if (c->active)
        weft_cancel_scope_cancel(&c->scope);
    pthread_mutex_unlock(&c->m);
}

/* A random timeout: 0 (a poll), up to 2 ms, or none (WEFT_FOREVER). */
static inline double random_timeout(testing_rng_t *rng)
{
    switch (testing_rng_below(rng, 4)) {
    case 0:
        return 0;
    case 1:
    case 2:
        return (double)testing_rng_below(rng, 2000) * 1e-6;
    default:
        return WEFT_FOREVER;
    }
}

/* Whether a failed wait's code fits what the caller set up: a timeout only
 * with one, a cancel only inside a scope. */
static inline int fits(int rc, double timeout, int scoped)
{
    if (rc == WEFT_ETIMEDOUT)
        return timeout != WEFT_FOREVER;
    if (rc == WEFT_ECANCELLED)
        return scoped;
    return 0;
}

#endif
