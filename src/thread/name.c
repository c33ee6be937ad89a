/* SPDX-License-Identifier: MIT */
/* Thread names: Python's defaults ("Thread-N (target)", "Dummy-N"), renames
 * that never pull the text from under a reader, and the OS thread name.
 *
 * A rename pushes a new name in front of the old ones with a
 * compare-and-swap; the old texts stay until the entry is freed, so the
 * pointer weft_thread_name() returned (and that the log layer reads while
 * another thread may rename) is valid as long as the entry lives. Renames
 * are rare, so the few bytes kept are of no concern. */
#include "base/check.h"
#include "thread_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The N of the next default name; counts up from 1, never reset. */
static _Atomic unsigned name_counter = 1;

unsigned weft__thread_next_number(void)
{
    return atomic_fetch_add_explicit(&name_counter, 1, memory_order_relaxed);
}

void weft__thread_default_name(char *buf, size_t size, weft_fn target)
{
    unsigned n = weft__thread_next_number();
    char symbol[96];
    if (target &&
        weft_symbol_name((const void *)target, symbol, sizeof symbol) == 0)
        snprintf(buf, size, "Thread-%u (%s)", n, symbol);
    else
        snprintf(buf, size, "Thread-%u", n);
}

int weft__thread_name_set(weft_thread_t *t, const char *name)
{
    size_t len = strlen(name);
    struct thread_name *n = malloc(sizeof *n + len + 1);
    if (n == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for a thread name");
    memcpy(n->text, name, len + 1);
    n->older = atomic_load_explicit(&t->name, memory_order_relaxed);
    /* Release: pairs with the acquire in weft_thread_name(), publishing
     * the text. */
    while (!atomic_compare_exchange_weak_explicit(
        &t->name, &n->older, n, memory_order_release, memory_order_relaxed))
        ;
    return 0;
}

void weft__thread_names_free(weft_thread_t *t)
{
    struct thread_name *n =
        atomic_load_explicit(&t->name, memory_order_relaxed);
    while (n) {
        struct thread_name *older = n->older;
        free(n);
        n = older;
    }
}

void weft__thread_name_os(const weft_thread_t *t)
{
    /* The kernel keeps 15 bytes and a NUL. */
    char os_name[16];
    snprintf(os_name, sizeof os_name, "%s", weft_thread_name(t));
    pthread_setname_np(pthread_self(), os_name);
}

const char *weft_thread_name(const weft_thread_t *t)
{
    WEFT_REFUSE_NULL_OR(t, "");
    return atomic_load_explicit(&t->name, memory_order_acquire)->text;
}

int weft_thread_set_name(weft_thread_t *t, const char *name)
{
    if (t == NULL || name == NULL)
        return weft_fail(WEFT_EINVAL, "weft_thread_set_name: NULL %s",
                         t == NULL ? "thread" : "name");
    int rc = weft__thread_name_set(t, name);
    /* Only the thread itself may rename its OS thread safely: another
     * one's pthread may be gone already. */
    if (rc == 0 && t == weft__thread_self())
        weft__thread_name_os(t);
    return rc;
}
