/* SPDX-License-Identifier: MIT */
/* Helpers shared by the log tests: a scratch file to log into and read
 * back. Header-only, since each test file is its own program. */
#ifndef WEFT_LOGTEST_H
#define WEFT_LOGTEST_H

#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A new empty file under /tmp; its path goes into path (64 bytes). */
static inline void logtest_scratch(char *path)
{
    snprintf(path, 64, "/tmp/weft-log-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

/* Everything the file holds, NUL-terminated; the caller frees it. */
static inline char *logtest_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    size_t n = fread(text, 1, (size_t)size, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Send logging into the file at path with the given format and level. */
static inline void logtest_to_file(const char *path, const char *format,
                                   int level)
{
    weft_log_config_t c = {.level = level, .format = format, .filename = path};
    assert_int_equal(weft_log_basic_config(&c), 0);
}

#endif
