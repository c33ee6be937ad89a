/* SPDX-License-Identifier: MIT */
/* Owned values for the rx tests: reference-counted boxes around an
 * integer, with a process-wide count of live ones, so that a test can
 * check that a stream of owned objects leaves none behind. */
#ifndef RX_OWNED_H
#define RX_OWNED_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "weft.h"

typedef struct box {
    _Atomic int refs;
    long v;
} box_t;

static _Atomic long boxes_live;

static inline box_t *box_new(long v)
{
    box_t *b = malloc(sizeof *b);
    atomic_init(&b->refs, 1);
    b->v = v;
    atomic_fetch_add(&boxes_live, 1);
    return b;
}

static inline void *box_retain(void *p)
{
    atomic_fetch_add(&((box_t *)p)->refs, 1);
    return p;
}

static inline void box_release(void *p)
{
    box_t *b = p;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        atomic_fetch_sub(&boxes_live, 1);
        free(b);
    }
}

static inline int box_format(void *p, char *buf, size_t size)
{
    return snprintf(buf, size, "<%ld>", ((box_t *)p)->v);
}

static const weft_rx_value_ops_t box_ops = {box_retain, box_release,
                                            box_format};

/* An iterator of n new boxes 1..n. */
static inline int boxes(void *ctx, size_t i, void **v)
{
    if ((long)i >= (long)(intptr_t)ctx)
        return WEFT_EEOF;
    *v = box_new((long)i + 1);
    return 0;
}

/* map: a new box of ten times the value. */
static inline int box_times10(void *ctx, void *v, void **out)
{
    *out = box_new(((box_t *)v)->v * 10);
    return 0;
}

static inline int box_is_even(void *ctx, void *v, int *keep)
{
    *keep = ((box_t *)v)->v % 2 == 0;
    return 0;
}

#endif
