/* SPDX-License-Identifier: MIT */
#include "weft/base.h"

#include <cstring>

#include "check.h"

int main()
{
    CHECK(weft_version() != NULL);
    CHECK(std::strcmp(weft_errname(WEFT_EINVAL), "WEFT_EINVAL") == 0);
    CHECK(weft_fail(WEFT_EINVAL, "bad %s", "input") == WEFT_EINVAL);
    CHECK(std::strstr(weft_last_message(), "bad input") != NULL);
    weft_bytes_t b;
    CHECK(weft_bytes_copy(&b, "abc", 3) == 0);
    CHECK(b.len == 3);
    weft_bytes_free(&b);
    int64_t deadline;
    CHECK(weft_deadline(0.5, &deadline) == 0);
    CHECK(weft_deadline_remaining(deadline) > 0);
    return 0;
}
