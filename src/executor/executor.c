/* SPDX-License-Identifier: MIT */
/* The Executor interface: one wrapper over each backend's class, so that
 * submit, map and shutdown read the same for threads, processes and MPI. */
#include "base/check.h"
#include "executor_int.h"

#include <stdlib.h>

struct weft_executor {
    const weft_executor_class_t *cls;
    void *impl;
    _Atomic int shut; /* shutdown has been called */
};

int weft_executor_new(weft_executor_t **out, const weft_executor_class_t *cls,
                      void *impl)
{
    if (out == NULL || cls == NULL || cls->shutdown == NULL ||
        cls->destroy == NULL)
        return weft_fail(WEFT_EINVAL, "executor_new: incomplete class");
    weft_executor_t *ex = malloc(sizeof *ex);
    if (ex == NULL)
        return weft_fail(WEFT_ENOMEM, "executor_new: no memory");
    ex->cls = cls;
    ex->impl = impl;
    atomic_init(&ex->shut, 0);
    *out = ex;
    return 0;
}

int weft_executor_submit(weft_executor_t *ex, weft_fn fn, void *arg,
                         weft_future_t **out)
{
    if (ex == NULL || fn == NULL || out == NULL)
        return weft_fail(WEFT_EINVAL, "submit: NULL %s",
                         ex ? (fn ? "out" : "function") : "executor");
    if (ex->cls->submit == NULL)
        return weft_fail(WEFT_ENOTSUP,
                         "a %s executor cannot share pointers with its "
                         "workers: use weft_executor_submit_bytes",
                         ex->cls->kind);
    return ex->cls->submit(ex->impl, fn, arg, out);
}

int weft_executor_submit_bytes(weft_executor_t *ex, weft_bytes_fn fn,
                               const void *arg, size_t len,
                               weft_future_t **out)
{
    if (ex == NULL || fn == NULL || out == NULL || (arg == NULL && len > 0))
        return weft_fail(WEFT_EINVAL, "submit_bytes: NULL argument");
    if (ex->cls->submit_bytes == NULL)
        return weft_fail(WEFT_ENOTSUP, "a %s executor takes no byte tasks",
                         ex->cls->kind);
    weft_bytes_t b;
    int rc = weft_bytes_copy(&b, arg, len);
    if (rc)
        return rc;
    rc = ex->cls->submit_bytes(ex->impl, fn, &b, out);
    weft_bytes_free(&b); /* a class that keeps it takes it (b emptied) */
    return rc;
}

int weft__executor_in_process(const weft_executor_t *ex)
{
    return ex->cls->submit != NULL;
}

int weft__executor_submit_taking(weft_executor_t *ex, weft_bytes_fn fn,
                                 weft_bytes_t *arg, weft_future_t **out)
{
    if (ex->cls->submit_bytes == NULL)
        return weft_fail(WEFT_ENOTSUP, "a %s executor takes no byte tasks",
                         ex->cls->kind);
    return ex->cls->submit_bytes(ex->impl, fn, arg, out);
}

int weft_executor_shutdown(weft_executor_t *ex, int wait, int cancel_futures,
                           double timeout)
{
    if (ex == NULL)
        return weft_fail(WEFT_EINVAL, "shutdown: NULL executor");
    int64_t deadline;
    int rc = weft_deadline(timeout, &deadline);
    if (rc)
        return rc;
    atomic_store(&ex->shut, 1);
    return ex->cls->shutdown(ex->impl, wait, cancel_futures,
                             wait ? deadline : WEFT_NEVER);
}

void weft_executor_free(weft_executor_t *ex)
{
    if (ex == NULL)
        return;
    if (!atomic_load(&ex->shut))
        ex->cls->shutdown(ex->impl, 1, 0, WEFT_NEVER);
    ex->cls->destroy(ex->impl);
    free(ex);
}

void *weft_executor_impl(const weft_executor_t *ex,
                         const weft_executor_class_t *cls)
{
    return ex && ex->cls == cls ? ex->impl : NULL;
}

const char *weft_executor_kind(const weft_executor_t *ex)
{
    WEFT_REFUSE_NULL_OR(ex, NULL);
    return ex->cls->kind;
}

unsigned weft_executor_max_workers(const weft_executor_t *ex)
{
    WEFT_REFUSE_NULL_OR(ex, 0);
    return ex->cls->max_workers ? ex->cls->max_workers(ex->impl) : 1;
}

void weft__call_invoke(const weft__call_t *c, weft__outcome_t *o)
{
    weft_clear_message();
    o->result = NULL;
    o->bytes = (weft_bytes_t){NULL, 0};
    if (c->bytes)
        o->code = c->fn.bytes(&c->arg.bytes, &o->bytes);
    else
        o->code = c->fn.ptr(c->arg.ptr, &o->result);
}

void weft__call_complete(const weft__call_t *c, weft_future_t *f,
                         weft__outcome_t *o)
{
    if (c->bytes && o->code == 0)
        weft_future_set_result_bytes(f, &o->bytes);
    else
        weft_future_finish(f, o->code, o->result);
    weft_bytes_free(&o->bytes);
}

void weft__call_run(const weft__call_t *c, weft_future_t *f)
{
    weft__outcome_t o;
    weft__call_invoke(c, &o);
    weft__call_complete(c, f, &o);
}

void weft__call_release(weft__call_t *c)
{
    if (c->bytes)
        weft_bytes_free(&c->arg.bytes);
}
