/* SPDX-License-Identifier: MIT */
/* The inline executor: each task runs at submit, on the caller's thread,
 * so tests can make ordering deterministic. */
#include "executor_int.h"

#include <stdlib.h>

struct inline_impl {
    _Atomic int shut;
};

static int run_now(struct inline_impl *ie, weft__call_t *call,
                   weft_future_t **out)
{
    if (atomic_load(&ie->shut))
        return weft_fail(WEFT_ESHUTDOWN,
                         "cannot schedule new futures after shutdown");
    weft_future_t *f;
    int rc = weft_future_new(&f);
    if (rc)
        return rc;
    weft_future_set_running_or_notify_cancel(f);
    weft__call_run(call, f);
    *out = f;
    return 0;
}

static int inline_submit(void *impl, weft_fn fn, void *arg,
                         weft_future_t **out)
{
    weft__call_t call = {.bytes = 0, .fn.ptr = fn, .arg.ptr = arg};
    return run_now(impl, &call, out);
}

static int inline_submit_bytes(void *impl, weft_bytes_fn fn,
                               weft_bytes_t *arg, weft_future_t **out)
{
    weft__call_t call = {.bytes = 1, .fn.bytes = fn, .arg.bytes = *arg};
    return run_now(impl, &call, out);
}

static int inline_shutdown(void *impl, int wait, int cancel, int64_t dl)
{
    struct inline_impl *ie = impl;
    atomic_store(&ie->shut, 1);
    return 0;
}

static void inline_destroy(void *impl)
{
    free(impl);
}

static const weft_executor_class_t inline_class = {
    "inline", inline_submit, inline_submit_bytes, inline_shutdown,
    inline_destroy, NULL};

int weft_inline_executor_new(weft_executor_t **out)
{
    struct inline_impl *ie = calloc(1, sizeof *ie);
    if (ie == NULL)
        return weft_fail(WEFT_ENOMEM, "inline executor: no memory");
    int rc = weft_executor_new(out, &inline_class, ie);
    if (rc)
        free(ie);
    return rc;
}
