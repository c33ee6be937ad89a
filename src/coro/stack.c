/* SPDX-License-Identifier: MIT */
/* The stack pool.
 *
 * A stack is one anonymous mapping: usable bytes on top, and below them a
 * guard page with no access, so that an overflow faults at once instead of
 * writing over a neighbour. The stack's descriptor lives at the very top of
 * its own mapping, so a stack costs no allocation besides the mapping.
 *
 * Guard pages have a price: the kernel keeps a separate mapping for each
 * (the guard splits the stack's region from its neighbours), and a process
 * may hold only vm.max_map_count of them (65530 by default). So guarded
 * stacks are made while they take less than a quarter of that limit; past
 * it, a stack comes without a guard page (adjacent ones then merge into one
 * mapping): its lowest page is a tripwire instead, readable and writable
 * but never used by the task, and never touched unless the task overflows.
 * When the stack is given back, mincore(2) asks whether the tripwire page
 * was ever faulted in: an overflow is caught late rather than never, and
 * reported loudly, at no cost in memory (a canary word written there would
 * make every stack a page larger).
 *
 * Each thread keeps up to POOL_MAX free stacks of the default size for
 * reuse; the rest go back to the kernel. A pool's stacks are unmapped when
 * its thread exits.
 *
 * AddressSanitizer. A task ends by switching away from inside its own
 * frames (coro_entry's and those below the final switch), which never
 * return, so the poison ASan put on their redzones stays in the shadow of
 * the stack's memory; and munmap does not clear the shadow either. Left
 * there, it would greet whatever uses the memory next: the next task on a
 * pooled stack, or a new mapping (a stack, or anyone's) that the kernel
 * places at the same addresses. The first write into a new stack is
 * weft__ctx_make's, of the registers the first switch pops, at the top of
 * the stack and with no frame of its own: ASan reports it as a
 * stack-buffer-overflow when a dead frame's redzone lies there. With gcc
 * it does, on the next stack whose top meets an old one's: at -O0 gcc
 * puts coro_entry's instrumented locals right under its saved registers,
 * within the 72 bytes weft__ctx_make writes. clang allocates them in a
 * block below its whole fixed frame, a few hundred bytes down, where the
 * next task's own frames re-poison and unpoison before any use: the same
 * stale poison, unseen. So a stack given back is unpoisoned at once (its
 * frames are all dead), and a new mapping is unpoisoned before use (its
 * shadow may hold another's leftovers).
 *
 * Valgrind. It takes a jump of the stack pointer by more than a few MiB,
 * or into memory it does not know as a stack, for a bug ("client switching
 * stacks?") and then misreads the frames. Each stack is registered with it
 * while mapped (VALGRIND_STACK_REGISTER, built in when the build finds
 * <valgrind/valgrind.h>; outside valgrind the macro costs a few no-op
 * instructions), so that a switch onto a task's stack is a switch it
 * understands.
 */
#include "coro_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef WEFT_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef WEFT_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

#define POOL_MAX 256

static _Atomic size_t guarded_live, unguarded_live;
static size_t guard_budget;
static pthread_once_t budget_once = PTHREAD_ONCE_INIT;

struct pool {
    struct weft__stack *head;
    size_t count;
};

static _Thread_local struct pool pool;
static pthread_key_t pool_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void read_budget(void)
{
    long limit = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
    if (f) {
        if (fscanf(f, "%ld", &limit) != 1)
            limit = 65530;
        fclose(f);
    }
    guard_budget = (size_t)(limit > 0 ? limit : 65530) / 4;
}

static size_t page_size(void)
{
    static size_t page;
    if (page == 0)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* The frames once on [lo, lo + size) are dead: clear what ASan's shadow
 * still says about them (see above). */
static void forget_frames(void *lo, size_t size)
{
#ifdef WEFT_ASAN
    __asan_unpoison_memory_region(lo, size);
#else
    (void)lo;
    (void)size;
#endif
}

static void unmap(struct weft__stack *s)
{
#ifdef WEFT_HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#endif
    atomic_fetch_sub(s->guarded ? &guarded_live : &unguarded_live, 1);
    munmap(s->map, s->map_size);
}

static void drain_pool(void *unused)
{
    while (pool.head) {
        struct weft__stack *next = pool.head->next;
        unmap(pool.head);
        pool.head = next;
    }
    pool.count = 0;
}

static void make_key(void)
{
    pthread_key_create(&pool_key, drain_pool);
}

/* Ask for a guard page only while guarded stacks stay within budget. */
static int want_guard(void)
{
    pthread_once(&budget_once, read_budget);
    return atomic_load_explicit(&guarded_live, memory_order_relaxed) <
           guard_budget;
}

static struct weft__stack *map_stack(size_t size, int guard)
{
    size_t page = page_size();
    size_t usable =
        (size + sizeof(struct weft__stack) + page - 1) & ~(page - 1);
    size_t total = usable + page; /* the guard page, or the tripwire */
    void *map =
        mmap(NULL, total, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    if (guard && mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, total);
        return NULL;
    }
    /* Stacks are touched a page at a time: huge pages would turn a few
     * KiB of use into 2 MiB. */
    madvise(map, total, MADV_NOHUGEPAGE);
    forget_frames((char *)map + page, total - page);
    struct weft__stack *s =
        (struct weft__stack *)((char *)map + total - sizeof *s);
    s->map = map;
    s->map_size = total;
    s->lo = (char *)map + page;
    s->size = (size_t)((char *)s - (char *)s->lo);
    s->guarded = guard;
    s->asked = size;
    s->next = NULL;
#ifdef WEFT_HAVE_VALGRIND
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + s->size);
#endif
    atomic_fetch_add(guard ? &guarded_live : &unguarded_live, 1);
    return s;
}

static struct weft__stack *new_stack(size_t size)
{
    int guard = want_guard();
    struct weft__stack *s = map_stack(size, guard);
    if (s == NULL && guard) /* out of mappings, perhaps: try without */
        s = map_stack(size, 0);
    if (s == NULL) {
        weft_fail(WEFT_ENOMEM, "task: no memory for a %zu-byte stack", size);
        return NULL;
    }
    return s;
}

/* Was the tripwire page below an unguarded stack ever touched? */
static int tripped(const struct weft__stack *s)
{
    unsigned char resident = 0;
    return mincore(s->map, page_size(), &resident) == 0 && (resident & 1);
}

struct weft__stack *weft__stack_get(size_t size)
{
    if (size == WEFT_TASK_STACK_DEFAULT && pool.head) {
        struct weft__stack *s = pool.head;
        pool.head = s->next;
        pool.count--;
        return s;
    }
    return new_stack(size);
}

void weft__stack_put(struct weft__stack *s)
{
    if (!s->guarded && tripped(s)) {
        fprintf(stderr,
                "weft: a task overflowed its %zu-byte stack (give "
                "it a larger one with weft_task_create_opts)\n",
                s->size);
        abort();
    }
    forget_frames(s->lo, s->size);
    if (s->asked != WEFT_TASK_STACK_DEFAULT || pool.count >= POOL_MAX) {
        unmap(s);
        return;
    }
    if (pool.count == 0) {
        pthread_once(&key_once, make_key);
        pthread_setspecific(pool_key, &pool);
    }
    s->next = pool.head;
    pool.head = s;
    pool.count++;
}

void weft__stack_stats(weft_coro_stats_t *out)
{
    out->stacks_pooled = pool.count;
    out->stacks_guarded = atomic_load(&guarded_live);
    out->stacks_unguarded = atomic_load(&unguarded_live);
}
