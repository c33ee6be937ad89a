/* SPDX-License-Identifier: MIT */
/* What each tests/cxx translation unit uses besides the one weft header it
 * includes: a check that names the line and the last weft message. */
#ifndef WEFT_TESTS_CXX_CHECK_H
#define WEFT_TESTS_CXX_CHECK_H

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            std::fprintf(stderr, "%s:%d: %s failed (%s)\n", __FILE__,         \
                         __LINE__, #cond, weft_last_message());                \
            std::exit(1);                                                      \
        }                                                                      \
    } while (0)

#endif
