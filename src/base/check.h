/* SPDX-License-Identifier: MIT */
/* src/base/check.h: refusing a NULL argument the same way in every layer.
 *
 * A public function that needs an object refuses NULL as Python refuses
 * None where it wants one: it records "weft_lock_acquire: l is NULL"
 * for the calling thread and returns, never dereferences it. Name the
 * argument as the header does.
 *
 *     WEFT_REFUSE_NULL(l);               returns WEFT_EINVAL
 *     WEFT_REFUSE_NULL_OR(q, 0);         returns 0 (a flag, a count, NULL)
 *     WEFT_REFUSE_NULL_OR(e, );          returns from a void function
 *
 * The check is one predictable branch before the fast path; the message is
 * written only on the cold path. Use it in the public function itself, so
 * that __func__ names what the caller called. */
#ifndef WEFT_BASE_CHECK_H
#define WEFT_BASE_CHECK_H

#include "weft/base.h"

#define WEFT_REFUSE_NULL_OR(arg, value)                                        \
    do {                                                                       \
        if (__builtin_expect((arg) == NULL, 0)) {                              \
            weft_fail(WEFT_EINVAL, "%s: %s is NULL", __func__, #arg);          \
            return value;                                                      \
        }                                                                      \
    } while (0)

#define WEFT_REFUSE_NULL(arg) WEFT_REFUSE_NULL_OR(arg, WEFT_EINVAL)

#endif /* WEFT_BASE_CHECK_H */
