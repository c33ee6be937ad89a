/* SPDX-License-Identifier: MIT */
/* coro: task stacks (stack.c): pooled, reused, and, under
 * AddressSanitizer, handed back clean.
 *
 * A task ends by switching away from inside its own frames, which
 * therefore never return: ASan's poison on their redzones stays in the
 * shadow of the stack's memory. Left there, it outlives the task: a pooled
 * stack, or a new mapping that the kernel places where a released stack
 * was, starts out with stray poison, and the next task's first write into
 * it (weft__ctx_make's, before any frame exists) is reported as a
 * stack-buffer-overflow. */
#include "testing.h"

#include <string.h>
#include <sys/mman.h>

#include "coro/coro_int.h"

#ifdef WEFT_ASAN
#include <sanitizer/asan_interface.h>
#endif

struct where {
    void *lo, *map;
    size_t size, map_size;
};

/* Keeps a frame with an instrumented local on the task's stack. */
static int note_stack(void *arg, void **result)
{
    struct where *w = arg;
    struct coro *c = coro_of(weft_task_current());
    volatile char local[64];
    memset((char *)local, 1, sizeof local);
    w->lo = c->stack->lo;
    w->size = c->stack->size;
    w->map = c->stack->map;
    w->map_size = c->stack->map_size;
    *result = (void *)(uintptr_t)local[3];
    return 0;
}

static void run_one(size_t stack_size, struct where *w)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    weft_task_opts_t o = {stack_size};
    weft_future_t *f;
    assert_int_equal(weft_task_create_opts(&f, loop, note_stack, w, &o), 0);
    assert_int_equal(weft_loop_run_until_complete(loop, f, NULL), 0);
    weft_future_free(f);
    weft_loop_free(loop);
}

/* Nonzero when some byte of [lo, lo + size) is poisoned for ASan. */
static int poisoned(void *lo, size_t size)
{
#ifdef WEFT_ASAN
    return __asan_region_is_poisoned(lo, size) != NULL;
#else
    (void)lo;
    (void)size;
    return 0;
#endif
}

static void a_stack_goes_back_to_the_pool_clean(void **state)
{
    struct where w = {0};
    run_one(0, &w); /* the default size: pooled on this thread */
    weft_coro_stats_t st;
    weft_coro_stats(&st);
    assert_true(st.stacks_pooled > 0);
    assert_false(poisoned(w.lo, w.size));
    /* The next task gets it back and runs on it. */
    struct where again = {0};
    run_one(0, &again);
    assert_ptr_equal(again.lo, w.lo);
}

static void a_released_stack_leaves_its_addresses_clean(void **state)
{
    struct where w = {0};
    run_one(1024 * 1024, &w); /* not the default size: unmapped */
    /* Whatever the kernel maps there next must not inherit its poison. */
    void *m = mmap(w.map, w.map_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m != w.map) { /* someone else took the place meanwhile */
        if (m != MAP_FAILED)
            munmap(m, w.map_size);
        skip();
    }
    int dirty = poisoned(w.lo, w.size);
    munmap(m, w.map_size);
    assert_false(dirty);
}

/* The whole cycle: tasks with large stacks, each a fresh mapping that may
 * land where an earlier one was released, and each starts and finishes. */
static void many_large_stacks_come_and_go(void **state)
{
    for (int i = 0; i < 64; i++) {
        struct where w = {0};
        run_one(i % 2 ? 256 * 1024 : 0, &w);
        assert_non_null(w.lo);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_stack_goes_back_to_the_pool_clean),
        cmocka_unit_test(a_released_stack_leaves_its_addresses_clean),
        cmocka_unit_test(many_large_stacks_come_and_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
