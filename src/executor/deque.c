/* SPDX-License-Identifier: MIT */
/* The work-stealing deque.
 *
 * Invariants: items live in array[top..bottom); only the owner moves
 * bottom; top only grows, by compare-and-swap, so each item is taken once:
 * by a thief whose CAS on top wins, or by the owner's pop, which takes the
 * last item only through the same CAS. The seq_cst fences in pop and steal
 * order "bottom moved" against "top read" (and vice versa), the race the
 * algorithm is about.
 *
 * Publication: push stores the item and then bottom with release order;
 * a thief reads bottom with acquire order before reading the item, so it
 * sees everything the pusher wrote before pushing (the task's fields).
 *
 * Growth copies the live range into a twice larger array. Thieves may still
 * be reading the old one, so it is kept (on the retired list) until the
 * deque is destroyed: growth is rare and at most doubles memory. */
#include "deque.h"

#include <stdlib.h>

#include "base/chaos.h"
#include "weft/base.h"

struct weft__deque_array {
    int64_t size; /* a power of two */
    struct weft__deque_array *next_retired;
    _Atomic(void *) items[];
};

static struct weft__deque_array *array_new(int64_t size)
{
    struct weft__deque_array *a =
        malloc(sizeof *a + (size_t)size * sizeof(a->items[0]));
    if (a == NULL)
        return NULL;
    a->size = size;
    a->next_retired = NULL;
    return a;
}

static void *item_at(struct weft__deque_array *a, int64_t i)
{
    return atomic_load_explicit(&a->items[i & (a->size - 1)],
                                memory_order_acquire);
}

static void item_put(struct weft__deque_array *a, int64_t i, void *x)
{
    atomic_store_explicit(&a->items[i & (a->size - 1)], x,
                          memory_order_release);
}

int weft__deque_init(struct weft__deque *d, size_t capacity)
{
    int64_t size = 64;
    while ((size_t)size < capacity)
        size *= 2;
    struct weft__deque_array *a = array_new(size);
    if (a == NULL)
        return weft_fail(WEFT_ENOMEM, "deque: no memory");
    atomic_init(&d->top, 0);
    atomic_init(&d->bottom, 0);
    atomic_init(&d->array, a);
    d->retired = NULL;
    return 0;
}

void weft__deque_destroy(struct weft__deque *d)
{
    free(atomic_load_explicit(&d->array, memory_order_relaxed));
    while (d->retired) {
        struct weft__deque_array *next = d->retired->next_retired;
        free(d->retired);
        d->retired = next;
    }
}

static struct weft__deque_array *grow(struct weft__deque *d,
                                      struct weft__deque_array *a, int64_t t,
                                      int64_t b)
{
    struct weft__deque_array *bigger = array_new(a->size * 2);
    if (bigger == NULL)
        return NULL;
    for (int64_t i = t; i < b; i++)
        item_put(bigger, i, item_at(a, i));
    a->next_retired = d->retired;
    d->retired = a;
    WEFT_CHAOS_POINT(); /* copied, not yet published */
    atomic_store_explicit(&d->array, bigger, memory_order_release);
    return bigger;
}

int weft__deque_push(struct weft__deque *d, void *item)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    struct weft__deque_array *a =
        atomic_load_explicit(&d->array, memory_order_relaxed);
    if (b - t > a->size - 1) {
        a = grow(d, a, t, b);
        if (a == NULL)
            return weft_fail(WEFT_ENOMEM, "deque: cannot grow");
    }
    item_put(a, b, item);
    WEFT_CHAOS_POINT(); /* stored, not yet published */
    /* Release: pairs with the acquire load of bottom in steal. */
    atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
    return 0;
}

void *weft__deque_pop(struct weft__deque *d)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
    struct weft__deque_array *a =
        atomic_load_explicit(&d->array, memory_order_relaxed);
    atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
    WEFT_CHAOS_POINT(); /* bottom claimed, top not yet read */
    atomic_thread_fence(memory_order_seq_cst);
    int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
    if (t > b) { /* empty */
        atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
        return NULL;
    }
    void *x = item_at(a, b);
    if (t == b) { /* the last one: race the thieves for it */
        WEFT_CHAOS_POINT();
        if (!atomic_compare_exchange_strong_explicit(
                &d->top, &t, t + 1, memory_order_seq_cst,
                memory_order_relaxed))
            x = NULL;
        atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    }
    return x;
}

void *weft__deque_steal(struct weft__deque *d)
{
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    WEFT_CHAOS_POINT(); /* top read, bottom not yet */
    atomic_thread_fence(memory_order_seq_cst);
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
    if (t >= b)
        return NULL;
    struct weft__deque_array *a =
        atomic_load_explicit(&d->array, memory_order_acquire);
    void *x = item_at(a, t);
    WEFT_CHAOS_POINT(); /* item read, not yet claimed */
    if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1,
                                                 memory_order_seq_cst,
                                                 memory_order_relaxed))
        return WEFT__DEQUE_ABORT;
    return x;
}

int weft__deque_steal_if(struct weft__deque *d, void *item)
{
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    atomic_thread_fence(memory_order_seq_cst);
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
    if (t >= b)
        return 0;
    struct weft__deque_array *a =
        atomic_load_explicit(&d->array, memory_order_acquire);
    if (item_at(a, t) != item)
        return 0;
    WEFT_CHAOS_POINT();
    /* Winning index t means taking what it held: item. */
    return atomic_compare_exchange_strong_explicit(
        &d->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed);
}

int weft__deque_pop_if(struct weft__deque *d, void *item)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    if (b <= t)
        return 0;
    struct weft__deque_array *a =
        atomic_load_explicit(&d->array, memory_order_relaxed);
    if (item_at(a, b - 1) != item)
        return 0;
    return weft__deque_pop(d) == item;
}

int64_t weft__deque_size(struct weft__deque *d)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
    return b > t ? b - t : 0;
}
