/* SPDX-License-Identifier: MIT */
/* Linux futexes: the kernel half of park, and the small bucket lock. */
#include "park_int.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int weft__futex_wait(const _Atomic uint32_t *word, uint32_t expected,
                     int64_t deadline, int shared)
{
    struct timespec ts, *tsp = NULL;
    if (deadline != WEFT_NEVER) {
        if (deadline <= weft_monotonic_ns())
            return WEFT_ETIMEDOUT;
        ts.tv_sec = deadline / 1000000000;
        ts.tv_nsec = deadline % 1000000000;
        tsp = &ts;
    }
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so retries
     * never stretch the wait. */
    int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
    long rc = syscall(SYS_futex, word, op, expected, tsp, NULL,
                      FUTEX_BITSET_MATCH_ANY);
    if (rc == -1 && errno == ETIMEDOUT)
        return WEFT_ETIMEDOUT;
    return 0;
}

void weft__futex_wake(const _Atomic uint32_t *word, int n, int shared)
{
    int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
    syscall(SYS_futex, word, op, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void weft__wordlock_lock_slow(_Atomic uint32_t *l)
{
    /* Critical sections are a few dozen instructions: spin briefly first. */
    for (int i = 0; i < 64; i++) {
        uint32_t expected = 0;
        if (atomic_load_explicit(l, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(l, &expected, 1,
                                                  memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        cpu_relax();
    }
    /* Drepper's mutex: announce a sleeper with 2, sleep while it holds. */
    while (atomic_exchange_explicit(l, 2, memory_order_acquire) != 0)
        weft__futex_wait(l, 2, WEFT_NEVER, 0);
}
