/* Waiting on a descriptor, the way every wait in ipc does: the thread
 * blocks in poll(); inside a cancel scope it wakes every 20 ms to look at
 * its scopes (park's field is read, never written). */
#include "ipc_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>

#define CANCEL_SLICE_NS 20000000 /* 20 ms */

static int poll_ms(int64_t now, int64_t until)
{
    if (until == WEFT_NEVER)
        return -1;
    if (until <= now)
        return 0;
    double ms = ceil((double)(until - now) / 1e6);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int weft__wait_fd(int fd, short events, int64_t deadline)
{
    int in_scope = weft_park_current()->scope_ != NULL;
    for (;;) {
        int64_t now = weft_monotonic_ns(), until = deadline;
        if (in_scope && (until == WEFT_NEVER || until - now > CANCEL_SLICE_NS))
            until = now + CANCEL_SLICE_NS;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, poll_ms(now, until));
        if (r > 0 || (r < 0 && errno != EINTR))
            return 0;
        if (weft_cancelled())
            return WEFT_ECANCELLED;
        if (deadline != WEFT_NEVER && weft_monotonic_ns() >= deadline)
            return WEFT_ETIMEDOUT;
    }
}
