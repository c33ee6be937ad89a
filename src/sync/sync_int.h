/* Inside the sync layer only. */
#ifndef WEFT_SYNC_INT_H
#define WEFT_SYNC_INT_H

#include <stdlib.h>

#include "weft/park.h"
#include "weft/sync.h"

/* Lock word bits. */
#define LOCK_LOCKED 1u
#define LOCK_PARKED 2u

/* Park on addr, releasing l once queued and taking it back before returning
 * (Condition.wait's dance). validate, if not NULL, runs under park's lock
 * first. Returns what weft_park returns. */
int weft__wait_releasing(const void *addr, weft_lock_t *l,
                         int (*validate)(void *ctx), void *ctx,
                         int64_t deadline);

/* _new and _free for a primitive of the given size, set up by init. */
#define WEFT_HEAP_PRIMITIVE(type, name)                                        \
    int weft_##name##_new(type **out)                                          \
    {                                                                          \
        if (out == NULL)                                                       \
            return weft_fail(WEFT_EINVAL, "weft_" #name "_new: NULL out");    \
        type *p = malloc(sizeof *p);                                           \
        if (p == NULL)                                                         \
            return weft_fail(WEFT_ENOMEM, "weft_" #name "_new: no memory");   \
        weft_##name##_init(p);                                                 \
        *out = p;                                                              \
        return 0;                                                              \
    }                                                                          \
    void weft_##name##_free(type *p)                                           \
    {                                                                          \
        if (p == NULL)                                                         \
            return;                                                            \
        weft_##name##_destroy(p);                                              \
        free(p);                                                               \
    }

#endif
