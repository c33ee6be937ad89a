/* SPDX-License-Identifier: MIT */
/* executor: the work-stealing deque under torture.
 *
 * One owner pushes (in bursts that make the array grow), pops, and takes
 * back the item it just pushed (pop_if); several thieves steal and guess
 * at the oldest item (steal_if). Items are numbered per epoch; every take
 * is counted per item, and at the end of each epoch (the owner drains its
 * deque and every thief has stopped) each item pushed must have been taken
 * exactly once. Then the deque is made anew and the next epoch starts,
 * until the torture time is up. */
#include "testing.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/deque.h"

enum { THIEVES = 3, EPOCH_ITEMS = 1 << 18 };

struct torture {
    struct weft__deque deque;
    _Atomic uint8_t *taken;  /* per item of the epoch */
    _Atomic uint32_t epoch;  /* odd: thieves may take; even: paused */
    _Atomic uint32_t seen[THIEVES]; /* the last pause each thief saw */
    _Atomic int over;
    _Atomic long errors;
    _Atomic long steals, guesses, owner_takes, epochs;
    _Atomic int error_claimed;
    char first_error[256];
};

static void report(struct torture *t, const char *what, uintptr_t item)
{
    if (atomic_fetch_add(&t->errors, 1) == 0 &&
        atomic_exchange(&t->error_claimed, 1) == 0)
        snprintf(t->first_error, sizeof t->first_error, "%s (item %lu)",
                 what, (unsigned long)item);
}

/* Items are 2 + their number, so that no item is NULL or the abort mark. */
static void *item_of(size_t i)
{
    return (void *)(uintptr_t)(i + 2);
}

static void count_take(struct torture *t, void *x)
{
    uintptr_t i = (uintptr_t)x - 2;
    if ((uintptr_t)x < 2 || i >= EPOCH_ITEMS) {
        report(t, "took an item that was never pushed", (uintptr_t)x);
        return;
    }
    if (atomic_fetch_add(&t->taken[i], 1) != 0)
        report(t, "took an item twice", i);
}

/* One try: steal the oldest, or (one try in four) guess that the oldest
 * is the item after the last one stolen and take it with steal_if. */
static void steal_once(struct torture *t, uintptr_t *last, unsigned *tries)
{
    if (*last && (++*tries & 3) == 0 &&
        weft__deque_steal_if(&t->deque, (void *)(*last + 1))) {
        count_take(t, (void *)(*last + 1));
        (*last)++;
        atomic_fetch_add_explicit(&t->guesses, 1, memory_order_relaxed);
        return;
    }
    void *x = weft__deque_steal(&t->deque);
    if (x == NULL) {
        sched_yield();
    } else if (x != WEFT__DEQUE_ABORT) {
        count_take(t, x);
        *last = (uintptr_t)x;
        atomic_fetch_add_explicit(&t->steals, 1, memory_order_relaxed);
    }
}

static void thief(struct torture *t, unsigned index)
{
    uintptr_t last = 0;
    unsigned tries = 0;
    while (!atomic_load(&t->over)) {
        uint32_t e = atomic_load(&t->epoch);
        if ((e & 1) == 0) {
            /* Paused: say which pause was seen, wait for the next epoch. */
            atomic_store(&t->seen[index], e);
            while (atomic_load(&t->epoch) == e && !atomic_load(&t->over))
                sched_yield();
            last = 0;
            continue;
        }
        steal_once(t, &last, &tries);
    }
}

/* Pause the thieves: every one has seen this pause, so none is taking. */
static void pause_thieves(struct torture *t)
{
    uint32_t e = atomic_fetch_add(&t->epoch, 1) + 1; /* now even */
    for (unsigned i = 0; i < THIEVES; i++)
        while (atomic_load(&t->seen[i]) != e)
            sched_yield();
}

static void owner_take(struct torture *t, void *x)
{
    count_take(t, x);
    atomic_fetch_add_explicit(&t->owner_takes, 1, memory_order_relaxed);
}

/* The owner's side of one epoch; returns how many items it pushed. */
static size_t run_epoch(struct torture *t, testing_rng_t *rng, double until)
{
    size_t pushed = 0;
    while (pushed < EPOCH_ITEMS && weft_monotonic() < until) {
        uint64_t op = testing_rng_below(rng, 100);
        if (op < 50) {
            /* A burst now and then, past the array's size: it grows. */
            size_t n = op < 2 ? 300 : 1 + testing_rng_below(rng, 3);
            for (size_t k = 0; k < n && pushed < EPOCH_ITEMS; k++)
                if (weft__deque_push(&t->deque, item_of(pushed++)) != 0)
                    report(t, "push failed", pushed - 1);
        } else if (op < 80) {
            void *x = weft__deque_pop(&t->deque);
            if (x)
                owner_take(t, x);
        } else {
            /* Push one and take it back at once, unless a thief won it. */
            void *x = item_of(pushed++);
            weft__deque_push(&t->deque, x);
            if (weft__deque_pop_if(&t->deque, x))
                owner_take(t, x);
        }
    }
    void *x;
    while ((x = weft__deque_pop(&t->deque)) != NULL)
        owner_take(t, x);
    return pushed;
}

static void check_epoch(struct torture *t, size_t pushed)
{
    /* The owner's pop found it empty; no thief is taking now. */
    if (weft__deque_steal(&t->deque) != NULL)
        report(t, "an item was left in the deque", 0);
    for (size_t i = 0; i < pushed; i++) {
        unsigned n = atomic_load(&t->taken[i]);
        if (n != 1)
            report(t, n ? "an item was taken twice" : "an item was lost", i);
    }
    for (size_t i = pushed; i < EPOCH_ITEMS; i++)
        if (atomic_load(&t->taken[i]) != 0)
            report(t, "an item never pushed was taken", i);
}

static void owner(struct torture *t)
{
    testing_rng_t rng;
    testing_rng_init(&rng, 0);
    double until = weft_monotonic() + testing_torture_seconds();
    do {
        if (weft__deque_init(&t->deque, 64) != 0) {
            report(t, "deque_init failed", 0);
            break;
        }
        for (size_t i = 0; i < EPOCH_ITEMS; i++)
            atomic_store_explicit(&t->taken[i], 0, memory_order_relaxed);
        atomic_fetch_add(&t->epoch, 1); /* odd: the thieves go */
        size_t pushed = run_epoch(t, &rng, until);
        pause_thieves(t);
        check_epoch(t, pushed);
        weft__deque_destroy(&t->deque);
        atomic_fetch_add(&t->epochs, 1);
    } while (weft_monotonic() < until && atomic_load(&t->errors) == 0);
    atomic_store(&t->over, 1);
}

static void run_one(void *arg, unsigned index)
{
    struct torture *t = arg;
    if (index == THIEVES)
        owner(t);
    else
        thief(t, index);
}

static void deque_items_are_taken_exactly_once(void **state)
{
    struct torture *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->taken = calloc(EPOCH_ITEMS, sizeof *t->taken);
    assert_non_null(t->taken);
    for (unsigned i = 0; i < THIEVES; i++)
        atomic_init(&t->seen[i], UINT32_MAX);
    testing_run_threads(THIEVES + 1, run_one, t);
    fprintf(stderr,
            "deque torture: %ld epochs, %ld taken by the owner, %ld stolen, "
            "%ld by steal_if\n",
            atomic_load(&t->epochs), atomic_load(&t->owner_takes),
            atomic_load(&t->steals), atomic_load(&t->guesses));
    if (atomic_load(&t->errors))
        fail_msg("%ld errors; the first: %s", atomic_load(&t->errors),
                 t->first_error);
    free(t->taken);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deque_items_are_taken_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
