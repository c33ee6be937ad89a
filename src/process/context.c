/* SPDX-License-Identifier: MIT */
/* Start methods and contexts: set_start_method(), get_start_method(),
 * get_context(). The default method is forkserver (Python 3.14's choice):
 * safe whatever threads the parent runs. */
#include "base/check.h"
#include "process_int.h"

#include <pthread.h>
#include <string.h>

static const char *const method_names[] = {"fork", "spawn", "forkserver"};

static const char *const all_methods[] = {"forkserver", "spawn", "fork", NULL};

static weft_context_t contexts[] = {
    {METHOD_FORK}, {METHOD_SPAWN}, {METHOD_FORKSERVER}, {METHOD_DEFAULT}};

/* Written under set_lock; read without it (an int, read whole). */
static _Atomic int default_method = METHOD_FORKSERVER;
static _Atomic int method_was_set;
static weft_lock_t set_lock = WEFT_LOCK_INIT;

/* In a child of fork(): another thread may have held the lock. */
static void reset_lock_in_child(void)
{
    weft_lock_init(&set_lock);
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, reset_lock_in_child);
}

static int method_of(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, method_names[i]) == 0)
            return i;
    return -1;
}

int weft__default_method(void)
{
    return atomic_load_explicit(&default_method, memory_order_relaxed);
}

const char *weft__method_name(int method)
{
    if (method == METHOD_DEFAULT)
        method = weft__default_method();
    return method_names[method];
}

/* A child inherits its parent's default (Python passes it in the spawn
 * preparation data). */
void weft__set_inherited_method(int method)
{
    if (method >= METHOD_FORK && method <= METHOD_FORKSERVER)
        atomic_store_explicit(&default_method, method, memory_order_relaxed);
}

int weft_get_context(weft_context_t **out, const char *method)
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "weft_get_context: NULL out");
    if (method == NULL) {
        *out = &contexts[METHOD_DEFAULT];
        return 0;
    }
    int m = method_of(method);
    if (m < 0)
        return weft_fail(WEFT_EINVAL, "cannot find context for '%s'", method);
    *out = &contexts[m];
    return 0;
}

const char *weft_context_start_method(const weft_context_t *ctx)
{
    WEFT_REFUSE_NULL_OR(ctx, weft__method_name(METHOD_DEFAULT));
    return weft__method_name(ctx->method);
}

int weft_set_start_method(const char *method, int force)
{
    if (method == NULL)
        return weft_fail(WEFT_EINVAL, "set_start_method: NULL method");
    int m = method_of(method);
    if (m < 0)
        return weft_fail(WEFT_EINVAL, "cannot find context for '%s'", method);
    weft_lock_acquire(&set_lock, WEFT_FOREVER);
    int rc = 0;
    if (atomic_load(&method_was_set) && !force) {
        rc = weft_fail(WEFT_ESTATE, "context has already been set");
    } else {
        atomic_store(&default_method, m);
        atomic_store(&method_was_set, 1);
    }
    weft_lock_release(&set_lock);
    return rc;
}

const char *weft_get_start_method(void)
{
    return method_names[weft__default_method()];
}

const char *const *weft_get_all_start_methods(void)
{
    return all_methods;
}
