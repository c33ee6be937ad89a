/* SPDX-License-Identifier: MIT */
/* Functions by their place in the loaded images (the executable and the
 * shared objects), so that another process of the same program finds the
 * same function wherever ASLR put its image there: the image's path and
 * the offset from its load address. What the process layer's targets and
 * function references and the executor's byte chunks are built on.
 *
 * Inside weft only; any layer may include it. */
#ifndef WEFT_BASE_IMAGE_H
#define WEFT_BASE_IMAGE_H

#include <stdint.h>

/* The image whose executable segment holds addr: *object receives its path
 * ("" for the program itself; borrowed from the dynamic linker, valid while
 * the image stays loaded) and *base its load address. Returns 1 when found,
 * 0 when addr is in no loaded image (generated code). */
int weft__image_of(const void *addr, const char **object, uintptr_t *base);

/* The load address of the image at path object ("" for the program) in
 * this process, loading it with dlopen() if it is not loaded yet. Returns
 * 1 when found, 0 otherwise. */
int weft__image_base(const char *object, uintptr_t *base);

/* The path to execve() to run this program again: "/proc/self/exe", or,
 * under valgrind, the program's own path (valgrind's /proc/self/exe is
 * valgrind itself, which cannot be run that way; by its path, valgrind
 * follows the new process with --trace-children=yes). Call it before
 * fork(): the answer is then stable and may be read in the child. */
const char *weft__self_exe(void);

#endif
