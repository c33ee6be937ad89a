/* SPDX-License-Identifier: MIT */
/* Thread-local storage: threading.local.
 *
 * Design. A local is a slot number and a generation. The global table
 * holds, per slot, a generation (odd while the slot is in use; new and free
 * each bump it) and the destructor. Each thread keeps its own array of
 * (generation, value) pairs, grown on demand: a value counts only while its
 * generation matches the local's, so a slot freed and handed out again
 * never shows the old local's values.
 *
 * Why not a pthread key per local: pthread runs key destructors after the
 * thread's start routine has returned, which is after a weft thread has
 * told its joiners it is done. A joiner could then free what a destructor
 * still uses. Here a weft thread runs its destructors itself, before it
 * reports done, so join() returning means they have run. A thread weft did
 * not start runs them from one pthread key's destructor as it exits.
 *
 * Global state: the slot table. Freeing a local while some thread still
 * holds a value in it is the caller's race, as with pthread_key_delete: the
 * value is dropped without its destructor. */
#include "base/check.h"
#include "thread_int.h"

#include <pthread.h>
#include <stdlib.h>

#define LOCAL_SLOTS 1024
#define DESTRUCTOR_ROUNDS 4

typedef void (*destructor_fn)(void *);

static _Atomic uint32_t slot_gen[LOCAL_SLOTS];
static _Atomic(destructor_fn) slot_destructor[LOCAL_SLOTS];

struct weft_local {
    uint32_t slot;
    uint32_t gen;
};

struct value {
    uint32_t gen;
    void *value;
};

struct values {
    size_t cap;
    struct value v[];
};

static _Thread_local struct values *mine;
static pthread_key_t values_key;
static pthread_once_t values_key_once = PTHREAD_ONCE_INIT;

/* ----- Slots ----- */

static int claim_slot(uint32_t *slot, uint32_t *gen)
{
    for (uint32_t i = 0; i < LOCAL_SLOTS; i++) {
        uint32_t g = atomic_load_explicit(&slot_gen[i], memory_order_relaxed);
        /* acq_rel: pairs with the release in weft_local_free(). */
        if ((g & 1) == 0 && atomic_compare_exchange_strong_explicit(
                                &slot_gen[i], &g, g + 1, memory_order_acq_rel,
                                memory_order_relaxed)) {
            *slot = i;
            *gen = g + 1;
            return 0;
        }
    }
    return weft_fail(WEFT_ENOMEM, "no thread-local slot left (%d in use)",
                     LOCAL_SLOTS);
}

int weft_local_new(weft_local_t **out, void (*destructor)(void *))
{
    if (out == NULL)
        return weft_fail(WEFT_EINVAL, "weft_local_new: NULL out");
    weft_local_t *l = malloc(sizeof *l);
    if (l == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for a thread-local");
    if (claim_slot(&l->slot, &l->gen) != 0) {
        free(l);
        return WEFT_ENOMEM;
    }
    /* Release: pairs with the acquire in run_one_round(). */
    atomic_store_explicit(&slot_destructor[l->slot], destructor,
                          memory_order_release);
    *out = l;
    return 0;
}

void weft_local_free(weft_local_t *l)
{
    if (l == NULL)
        return;
    atomic_store_explicit(&slot_gen[l->slot], l->gen + 1, memory_order_release);
    free(l);
}

/* ----- Values ----- */

void *weft_local_get(const weft_local_t *l)
{
    WEFT_REFUSE_NULL_OR(l, NULL);
    if (l == NULL || mine == NULL || l->slot >= mine->cap)
        return NULL;
    const struct value *v = &mine->v[l->slot];
    return v->gen == l->gen ? v->value : NULL;
}

static void run_foreign_destructors(void *p)
{
    (void)p; /* the same array as mine */
    weft__local_run_destructors();
}

static void make_values_key(void)
{
    pthread_key_create(&values_key, run_foreign_destructors);
}

static int grow(uint32_t slot)
{
    size_t cap = mine ? mine->cap : 0, want = cap ? cap : 8;
    while (want <= slot)
        want *= 2;
    struct values *a = realloc(mine, sizeof *a + want * sizeof a->v[0]);
    if (a == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for thread-local values");
    for (size_t i = cap; i < want; i++)
        a->v[i] = (struct value){0, NULL};
    a->cap = want;
    if (mine == NULL) {
        pthread_once(&values_key_once, make_values_key);
        pthread_setspecific(values_key, a);
    }
    mine = a;
    return 0;
}

int weft_local_set(weft_local_t *l, void *value)
{
    if (l == NULL)
        return weft_fail(WEFT_EINVAL, "weft_local_set: NULL local");
    if ((mine == NULL || l->slot >= mine->cap) && grow(l->slot) != 0)
        return WEFT_ENOMEM;
    mine->v[l->slot] = (struct value){l->gen, value};
    return 0;
}

/* ----- The end of a thread ----- */

/* Take the value of slot i if its local still exists; NULL otherwise. */
static void *take_live(size_t i, destructor_fn *destructor)
{
    struct value *v = &mine->v[i];
    void *value = v->value;
    uint32_t gen = v->gen;
    *v = (struct value){0, NULL};
    if (value == NULL ||
        atomic_load_explicit(&slot_gen[i], memory_order_acquire) != gen)
        return NULL;
    *destructor =
        atomic_load_explicit(&slot_destructor[i], memory_order_acquire);
    return value;
}

/* One pass over the values; nonzero if a destructor ran (it may have set
 * new values, so another pass is due). A destructor may grow the array, so
 * it is looked up again after each call. */
static int run_one_round(void)
{
    int ran = 0;
    for (size_t i = 0; mine && i < mine->cap; i++) {
        destructor_fn destructor = NULL;
        void *value = take_live(i, &destructor);
        if (value && destructor) {
            destructor(value);
            ran = 1;
        }
    }
    return ran;
}

void weft__local_run_destructors(void)
{
    if (mine == NULL)
        return;
    for (int round = 0; round < DESTRUCTOR_ROUNDS; round++)
        if (!run_one_round())
            break;
    pthread_setspecific(values_key, NULL);
    free(mine);
    mine = NULL;
}
