/* SPDX-License-Identifier: MIT */
/* The context switch on AArch64 (AAPCS64).
 *
 * A switch saves the callee-saved registers (x19-x28, the frame pointer
 * x29, the link register x30, and the low halves d8-d15 of v8-v15) in a
 * 176-byte frame on the running stack, stores sp in *from, loads the one in
 * *to, restores the same registers from there and returns through x30.
 *
 * A new context is a stack whose top holds such a frame with x19 = entry,
 * x20 = arg and x30 = start_task, which calls entry(arg); entry never
 * returns (brk catches it if it did).
 */
#include "coro_int.h"

#if defined(__aarch64__) && defined(WEFT_CORO_ASM)

__asm__(".text\n"
        ".globl weft__ctx_switch\n"
        ".hidden weft__ctx_switch\n"
        ".type weft__ctx_switch,%function\n"
        "weft__ctx_switch:\n"
        "    sub sp, sp, #176\n"
        "    stp x19, x20, [sp, #0]\n"
        "    stp x21, x22, [sp, #16]\n"
        "    stp x23, x24, [sp, #32]\n"
        "    stp x25, x26, [sp, #48]\n"
        "    stp x27, x28, [sp, #64]\n"
        "    stp x29, x30, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    mov x2, sp\n"
        "    str x2, [x0]\n"
        "    ldr x2, [x1]\n"
        "    mov sp, x2\n"
        "    ldp x19, x20, [sp, #0]\n"
        "    ldp x21, x22, [sp, #16]\n"
        "    ldp x23, x24, [sp, #32]\n"
        "    ldp x25, x26, [sp, #48]\n"
        "    ldp x27, x28, [sp, #64]\n"
        "    ldp x29, x30, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    add sp, sp, #176\n"
        "    ret\n"
        ".size weft__ctx_switch, .-weft__ctx_switch\n"
        "\n"
        ".globl weft__ctx_start\n"
        ".hidden weft__ctx_start\n"
        ".type weft__ctx_start,%function\n"
        "weft__ctx_start:\n"
        "    mov x0, x20\n"
        "    blr x19\n"
        "    brk #0\n"
        ".size weft__ctx_start, .-weft__ctx_start\n");

/* Global (and hidden) so that a link-time-optimized build, which may put
 * this asm and the C below in different partitions, still finds it. */
void weft__ctx_start(void);

void weft__ctx_make(weft__ctx_t *ctx, void *lo, size_t size,
                    void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    void **frame = (void **)(top - 176);
    for (int i = 0; i < 22; i++)
        frame[i] = NULL;
    frame[0] = (void *)entry;            /* x19 */
    frame[1] = arg;                      /* x20 */
    frame[11] = (void *)weft__ctx_start; /* x30 */
    ctx->sp = frame;
}

#endif
