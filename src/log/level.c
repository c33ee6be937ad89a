/* SPDX-License-Identifier: MIT */
/* Level names, as Python's logging.getLevelName() gives them. */
#include "log_int.h"

#include <stdio.h>

const char *weft_log_level_name(int level)
{
    switch (level) {
    case WEFT_LOG_NOTSET:
        return "NOTSET";
    case WEFT_LOG_DEBUG:
        return "DEBUG";
    case WEFT_LOG_INFO:
        return "INFO";
    case WEFT_LOG_WARNING:
        return "WARNING";
    case WEFT_LOG_ERROR:
        return "ERROR";
    case WEFT_LOG_CRITICAL:
        return "CRITICAL";
    }
    static _Thread_local char other[32];
    snprintf(other, sizeof other, "Level %d", level);
    return other;
}
