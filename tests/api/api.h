/* SPDX-License-Identifier: MIT */
/* The public functions called with NULL pointers: shared by the generated
 * calls (gen_calls.awk), the fixtures and the test. */
#ifndef WEFT_TESTS_API_H
#define WEFT_TESTS_API_H

#include <string.h>

#include "weft.h"

#define API_MAX_PARAMS 12

struct api_outcome {
    int rc;          /* for functions returning int */
    const void *ptr; /* for functions returning a pointer */
};

struct api_function {
    const char *name;
    char returns; /* 'i' int, 'p' pointer, 'v' void, 'o' other */
    unsigned nparams;
    void (*call)(unsigned null_at, struct api_outcome *o);
    /* Each parameter's type without name or const ("weft_queue_t *", "fn"
     * for any function pointer), or NULL for a scalar. */
    const char *types[API_MAX_PARAMS];
};

/* Generated: every public function, then one with name NULL. */
extern const struct api_function api_functions[];
/* Generated: the names of the functions left out (they take a va_list or
 * an MPI_Comm). */
extern const char *const api_skipped;

/* A valid argument of the given type: a live object for a handle type
 * (a new one each call), a function that does nothing for "fn", and zeroed
 * memory (64 KiB) for anything else: an out-pointer, a buffer, "" for a
 * string, the defaults for an options struct. */
void *api_fixture(const char *type);

#endif
