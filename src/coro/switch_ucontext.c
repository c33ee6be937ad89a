/* SPDX-License-Identifier: MIT */
/* The portable context switch: ucontext, for the architectures without a
 * hand-written one (or when WEFT_CORO_UCONTEXT asks for it). swapcontext
 * also saves and restores the signal mask, a system call each time, so it
 * is some hundred times slower than the assembly; it is correct anywhere
 * glibc runs. makecontext passes int arguments only: the pointer travels in
 * two halves.
 */
#include "coro_int.h"

#if !defined(WEFT_CORO_ASM)

#include <stdint.h>

static void start_task(unsigned hi, unsigned lo)
{
    uintptr_t p = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
    void **pair = (void **)p;
    void (*entry)(void *) = (void (*)(void *))pair[0];
    entry(pair[1]);
}

void weft__ctx_switch(weft__ctx_t *from, weft__ctx_t *to)
{
    swapcontext(&from->uc, &to->uc);
}

void weft__ctx_make(weft__ctx_t *ctx, void *lo, size_t size,
                    void (*entry)(void *), void *arg)
{
    /* The pair (entry, arg) lives at the top of the task's own stack. */
    uintptr_t top =
        ((uintptr_t)lo + size - 2 * sizeof(void *)) & ~(uintptr_t)15;
    void **pair = (void **)top;
    pair[0] = (void *)entry;
    pair[1] = arg;
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = top - (uintptr_t)lo;
    ctx->uc.uc_link = NULL;
    uintptr_t p = (uintptr_t)pair;
    makecontext(&ctx->uc, (void (*)(void))start_task, 2,
                (unsigned)(p >> 16 >> 16), (unsigned)p);
}

#endif
