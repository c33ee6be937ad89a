/* SPDX-License-Identifier: MIT */
/* threading.excepthook: how a failed target is reported. The default writes
 * one line on stderr with a single write(2), so reports from many threads
 * never interleave. */
#include "thread_int.h"

#include <stdio.h>
#include <unistd.h>

static void default_hook(weft_thread_t *t, const weft_error_info_t *error)
{
    const char *name = weft_errname(error->code);
    char line[WEFT_MESSAGE_MAX + 256];
    int n = snprintf(line, sizeof line, "Exception in thread %s: %s: %s\n",
                     weft_thread_name(t), name, error->message);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    ssize_t written = write(STDERR_FILENO, line, len);
    (void)written; /* nowhere left to report a failure to report */
}

static _Atomic(weft_excepthook_t) hook = default_hook;

weft_excepthook_t weft_thread_set_excepthook(weft_excepthook_t h)
{
    return atomic_exchange_explicit(&hook, h ? h : default_hook,
                                    memory_order_acq_rel);
}

void weft__excepthook_run(weft_thread_t *t, const weft_error_info_t *error)
{
    atomic_load_explicit(&hook, memory_order_acquire)(t, error);
}
