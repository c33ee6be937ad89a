/* SPDX-License-Identifier: MIT */
#include "weft/log.h"

#include "check.h"

int main()
{
    CHECK(weft_log_basic_config(NULL) == 0);
    CHECK(weft_log_level_name(WEFT_LOG_WARNING) != NULL);
    weft_log(WEFT_LOG_DEBUG, "cxx", "not shown: %d", 1);
    CHECK(!weft_log_enabled(WEFT_LOG_DEBUG));
    return 0;
}
