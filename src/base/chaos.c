/* SPDX-License-Identifier: MIT */
/* The chaos build's perturbation points (chaos.h). */
#include "base/chaos.h"

#if defined(WEFT_CHAOS) && WEFT_CHAOS

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* The chaos build acts by default; a build that only carries the points
 * (ThreadSanitizer's) acts when WEFT_CHAOS_RATE asks it to. */
#ifndef WEFT_CHAOS_DEFAULT_RATE
#define WEFT_CHAOS_DEFAULT_RATE 8
#endif

static _Atomic uint64_t threads_seen;
static _Thread_local uint64_t state;

/* splitmix64: a good generator from any seed, including 0. */
static uint64_t next(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t env_number(const char *name, uint64_t fallback)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return fallback;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    return errno || *end ? fallback : (uint64_t)v;
}

static uint64_t rate(void)
{
    static _Atomic int64_t cached = -1;
    int64_t r = atomic_load_explicit(&cached, memory_order_relaxed);
    if (r < 0) {
        r = (int64_t)env_number("WEFT_CHAOS_RATE", WEFT_CHAOS_DEFAULT_RATE);
        atomic_store_explicit(&cached, r, memory_order_relaxed);
    }
    return (uint64_t)r;
}

static void pause_ns(long ns)
{
    struct timespec ts = {0, ns};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void weft__chaos_point(void)
{
    uint64_t r = rate();
    if (r == 0)
        return;
    int saved_errno = errno; /* a point may sit between a call and its check */
    if (state == 0) {
        uint64_t order = atomic_fetch_add(&threads_seen, 1) + 1;
        state = env_number("WEFT_CHAOS_SEED", 1) * 0x100000001B3ull ^ order;
        state = state ? state : 1;
    }
    uint64_t x = next();
    if (x % (256 * r) == 0)
        pause_ns((long)(x >> 32) % 1000000);
    else if (x % (8 * r) == 0)
        pause_ns((long)(x >> 32) % 50000);
    else if (x % r == 0)
        sched_yield();
    errno = saved_errno;
}

#endif
