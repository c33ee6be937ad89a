/* SPDX-License-Identifier: MIT */
/* Clocks and deadlines. Deadlines are nanoseconds on CLOCK_MONOTONIC, the
 * clock futex waits and timerfds measure against, so a deadline computed once
 * can be handed to the kernel as is. */
#include "base/check.h"
#include "weft/base.h"

#include <math.h>
#include <time.h>

int64_t weft_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double weft_monotonic(void)
{
    return (double)weft_monotonic_ns() / 1e9;
}

double weft_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int weft_deadline(double timeout, int64_t *deadline)
{
    WEFT_REFUSE_NULL(deadline);
    if (timeout == WEFT_FOREVER) {
        *deadline = WEFT_NEVER;
        return 0;
    }
    if (isnan(timeout) || timeout < 0)
        return weft_fail(WEFT_EINVAL,
                         "timeout must be >= 0 or WEFT_FOREVER, got %g",
                         timeout);
    /* Anything past about 292 years is as good as forever. */
    if (timeout >= 9.2e9) {
        *deadline = WEFT_NEVER;
        return 0;
    }
    int64_t now = weft_monotonic_ns();
    int64_t span = (int64_t)(timeout * 1e9);
    *deadline = span > WEFT_NEVER - now ? WEFT_NEVER : now + span;
    return 0;
}

double weft_deadline_remaining(int64_t deadline)
{
    if (deadline == WEFT_NEVER)
        return WEFT_FOREVER;
    int64_t left = deadline - weft_monotonic_ns();
    return left > 0 ? (double)left / 1e9 : 0.0;
}
