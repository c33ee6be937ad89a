/* SPDX-License-Identifier: MIT */
/* A recording observer for the rx tests: what it heard as text ("1 2 3 |",
 * "1 #WEFT_ETASK"), counts, and the contract checks (no overlapping calls,
 * nothing after the end). Values print as integers. */
#ifndef RX_RECORD_H
#define RX_RECORD_H

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

typedef struct rec {
    char text[8192];
    size_t len;
    _Atomic int nexts, errors, completes;
    weft_error_info_t err;
    _Atomic int in_call;
    _Atomic int overlaps, after_end;
    const weft_rx_value_ops_t *ops;
} rec_t;

static inline void rec_put(rec_t *r, const char *s)
{
    int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%s%s",
                     r->len ? " " : "", s);
    if (n > 0 && r->len + (size_t)n < sizeof r->text)
        r->len += (size_t)n;
}

static inline void rec_enter(rec_t *r)
{
    if (atomic_fetch_add(&r->in_call, 1) != 0)
        atomic_fetch_add(&r->overlaps, 1);
    if (r->errors || r->completes)
        atomic_fetch_add(&r->after_end, 1);
}

static inline void rec_leave(rec_t *r) { atomic_fetch_sub(&r->in_call, 1); }

static inline void rec_next(void *ctx, void *v)
{
    rec_t *r = ctx;
    rec_enter(r);
    char buf[256];
    if (r->ops && r->ops->format)
        r->ops->format(v, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%ld", (long)(intptr_t)v);
    rec_put(r, buf);
    r->nexts++;
    rec_leave(r);
}

static inline void rec_error(void *ctx, const weft_error_info_t *e)
{
    rec_t *r = ctx;
    rec_enter(r);
    char buf[64];
    if (e->code >= WEFT_EUSER)
        snprintf(buf, sizeof buf, "#WEFT_EUSER");
    else
        snprintf(buf, sizeof buf, "#%s", weft_errname(e->code) ? weft_errname(e->code) : "?");
    rec_put(r, buf);
    r->err = *e;
    r->errors++;
    rec_leave(r);
}

static inline void rec_completed(void *ctx)
{
    rec_t *r = ctx;
    rec_enter(r);
    rec_put(r, "|");
    r->completes++;
    rec_leave(r);
}

static inline weft_rx_observer_t rec_observer(rec_t *r)
{
    memset(r, 0, sizeof *r);
    weft_rx_observer_t o = {rec_next, rec_error, rec_completed, r, NULL};
    return o;
}

/* Subscribe a fresh recorder to o and return the subscription. */
static inline weft_rx_subscription_t *rec_subscribe(rec_t *r,
                                                    weft_rx_observable_t *o)
{
    weft_rx_observer_t obs = rec_observer(r);
    weft_rx_subscription_t *s = NULL;
    assert_int_equal(weft_rx_observable_subscribe(o, &obs, &s), 0);
    return s;
}

/* Subscribe, run to the end (synchronous sources), free everything, and
 * check the contract. */
static inline void rec_run(rec_t *r, weft_rx_observable_t *o)
{
    weft_rx_subscription_t *s = rec_subscribe(r, o);
    weft_rx_subscription_free(s);
    weft_rx_observable_free(o);
    assert_int_equal(atomic_load(&r->overlaps), 0);
    assert_int_equal(atomic_load(&r->after_end), 0);
}

/* The test scheduler's start() against an expectation in marbles that
 * start at 200 (the subscription). */
static inline void expect_marbles(weft_rx_scheduler_t *ts,
                                  weft_rx_observable_t *o,
                                  const char *marbles)
{
    char got[4096], want[4096];
    assert_true(weft_rx_test_start(ts, o, got, sizeof got) >= 0);
    assert_true(weft_rx_test_marbles(marbles, 200, want, sizeof want) >= 0);
    assert_string_equal(got, want);
}

static inline void expect_text(weft_rx_scheduler_t *ts, weft_rx_observable_t *o,
                               const char *want)
{
    char got[4096];
    assert_true(weft_rx_test_start(ts, o, got, sizeof got) >= 0);
    assert_string_equal(got, want);
}

static inline void expect_subs(const weft_rx_observable_t *o, const char *want)
{
    char got[256];
    assert_true(weft_rx_test_subscriptions(o, got, sizeof got) >= 0);
    assert_string_equal(got, want);
}

/* Functions the tests map and filter with. */
static inline int times10(void *ctx, void *v, void **out)
{
    *out = (void *)((intptr_t)v * 10);
    return 0;
}

static inline int is_even(void *ctx, void *v, int *keep)
{
    *keep = (intptr_t)v % 2 == 0;
    return 0;
}

static inline int add(void *ctx, void *acc, void *v, void **out)
{
    *out = (void *)((intptr_t)acc + (intptr_t)v);
    return 0;
}

static inline int fail_on_3(void *ctx, void *v, void **out)
{
    if ((intptr_t)v == 3)
        return weft_fail(WEFT_EUSER, "three is bad");
    *out = v;
    return 0;
}

#endif
