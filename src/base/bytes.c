/* SPDX-License-Identifier: MIT */
/* Byte strings. */
#include "weft/base.h"

#include <stdlib.h>
#include <string.h>

int weft_bytes_copy(weft_bytes_t *out, const void *data, size_t len)
{
    if (out == NULL || (data == NULL && len > 0))
        return weft_fail(WEFT_EINVAL, "weft_bytes_copy: NULL %s",
                         out == NULL ? "out" : "data with len > 0");
    if (len == 0) {
        out->data = NULL;
        out->len = 0;
        return 0;
    }
    unsigned char *copy = malloc(len);
    if (copy == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_bytes_copy: %zu bytes", len);
    memcpy(copy, data, len);
    out->data = copy;
    out->len = len;
    return 0;
}

void weft_bytes_free(weft_bytes_t *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}
