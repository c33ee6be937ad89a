/* SPDX-License-Identifier: MIT */
/* The context switch on x86-64 (System V ABI).
 *
 * A switch pushes the six callee-saved registers (rbp, rbx, r12-r15) on the
 * running stack, stores the stack pointer in *from, loads the one in *to,
 * pops the same six registers and jumps to the other context's return
 * address. It jumps rather than returns: a ret would be predicted from the
 * return stack of the context left behind, mispredicted every time, and
 * cost about 8 ns more per switch on the machines we measure. Every
 * other register is caller-saved, so the C code around the call already
 * expects it clobbered. The x87 control word and MXCSR are not switched:
 * tasks share the thread's floating-point modes (what the few coroutine
 * libraries that switch them pay for, about 10 ns, nobody here uses).
 *
 * A new context is a stack whose top holds the six registers (r12 = entry,
 * r13 = arg) and, as the return address, start_task, which calls
 * entry(arg) with the stack aligned as the ABI wants (rsp % 16 == 0 before
 * the call). entry never returns; ud2 catches it if it did.
 */
#include "coro_int.h"

#if defined(__x86_64__) && defined(WEFT_CORO_ASM)

__asm__(".text\n"
        ".globl weft__ctx_switch\n"
        ".hidden weft__ctx_switch\n"
        ".type weft__ctx_switch,@function\n"
        "weft__ctx_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq (%rsi), %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    popq %rcx\n"
        "    jmpq *%rcx\n"
        ".size weft__ctx_switch, .-weft__ctx_switch\n"
        "\n"
        ".globl weft__ctx_start\n"
        ".hidden weft__ctx_start\n"
        ".type weft__ctx_start,@function\n"
        "weft__ctx_start:\n"
        "    movq %r13, %rdi\n"
        "    callq *%r12\n"
        "    ud2\n"
        ".size weft__ctx_start, .-weft__ctx_start\n");

/* Global (and hidden) so that a link-time-optimized build, which may put
 * this asm and the C below in different partitions, still finds it. */
void weft__ctx_start(void);

void weft__ctx_make(weft__ctx_t *ctx, void *lo, size_t size,
                    void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    /* 9 words down: the 7 the switch pops and returns through, so that
     * rsp % 16 == 0 when start_task runs. */
    void **sp = (void **)(top - 9 * sizeof(void *));
    sp[0] = NULL;          /* r15 */
    sp[1] = NULL;          /* r14 */
    sp[2] = arg;           /* r13 */
    sp[3] = (void *)entry; /* r12 */
    sp[4] = NULL;          /* rbx */
    sp[5] = NULL;          /* rbp: the end of the frame chain */
    sp[6] = (void *)weft__ctx_start;
    sp[7] = NULL;
    sp[8] = NULL;
    ctx->sp = sp;
}

#endif
