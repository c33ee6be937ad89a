/* SPDX-License-Identifier: MIT */
/* Names of functions, from the dynamic linker's tables. */
#include "weft/base.h"

#include <dlfcn.h>
#include <stdio.h>

int weft_symbol_name(const void *fn, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return weft_fail(WEFT_EINVAL, "weft_symbol_name: no buffer");
    buf[0] = '\0';
    Dl_info info;
    if (fn == NULL || dladdr(fn, &info) == 0 || info.dli_sname == NULL ||
        info.dli_saddr != fn)
        return weft_fail(WEFT_EKEY, "no symbol is known at %p", fn);
    snprintf(buf, size, "%s", info.dli_sname);
    return 0;
}
