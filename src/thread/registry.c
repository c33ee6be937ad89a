/* SPDX-License-Identifier: MIT */
/* The registry: the list of live threads behind active_count() and
 * enumerate(), in start order with the main thread first, and what happens
 * to it across fork().
 *
 * One lock guards the list and the main entry. It is a leaf: nothing else
 * is locked under it and no user code runs under it. It is taken shielded
 * from cancellation, since a thread must be able to leave the registry even
 * inside a cancelled scope.
 *
 * fork(): the prepare handler takes the lock so the list is whole when the
 * memory is copied. In the child only the forking thread exists, so the
 * list is cut down to its entry, which becomes the main thread (as Python's
 * _after_fork does); every other entry is marked done, since its thread is
 * not there to finish. The lock is set up afresh rather than released:
 * releasing could unpark through a table that park resets in the child. */
#include "thread_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static weft_lock_t registry_lock = WEFT_LOCK_INIT;
static weft_thread_t *head, *tail; /* the live list */
static size_t live_count;
static weft_thread_t *main_entry;
static weft_thread_t *lost; /* entries of threads left behind by fork() */

static void lock_registry(void)
{
    weft_lock_acquire_shielded(&registry_lock);
}

static void unlock_registry(void)
{
    weft_lock_release(&registry_lock);
}

/* ----- The list (under the lock) ----- */

static void link_last(weft_thread_t *t)
{
    t->prev = tail;
    t->next = NULL;
    if (tail)
        tail->next = t;
    else
        head = t;
    tail = t;
    live_count++;
}

static void link_first(weft_thread_t *t)
{
    t->prev = NULL;
    t->next = head;
    if (head)
        head->prev = t;
    else
        tail = t;
    head = t;
    live_count++;
}

static int is_linked(const weft_thread_t *t)
{
    return t->prev != NULL || head == t;
}

static void unlink_entry(weft_thread_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        tail = t->prev;
    t->prev = t->next = NULL;
    live_count--;
}

void weft__registry_add(weft_thread_t *t)
{
    weft_thread_ref(t);
    lock_registry();
    link_last(t);
    unlock_registry();
}

void weft__registry_remove(weft_thread_t *t)
{
    lock_registry();
    if (is_linked(t))
        unlink_entry(t);
    unlock_registry();
}

/* ----- The main thread ----- */

static weft_thread_t *main_locked(void)
{
    if (main_entry == NULL &&
        weft__thread_alloc(&main_entry, THREAD_KIND_MAIN, "MainThread") == 0) {
        atomic_store_explicit(&main_entry->native_id, (uint64_t)getpid(),
                              memory_order_relaxed);
        link_first(main_entry);
    }
    return main_entry;
}

weft_thread_t *weft__registry_main(void)
{
    lock_registry();
    weft_thread_t *m = main_locked();
    unlock_registry();
    /* Only the main thread itself knows its pthread ident. */
    if (m && weft_get_native_id() == weft_thread_native_id(m))
        atomic_store_explicit(&m->ident, weft_get_ident(),
                              memory_order_relaxed);
    return m;
}

__attribute__((constructor)) static void note_main_ident(void)
{
    /* Libraries are loaded by the main thread, as a rule: learn its ident
     * now, so that main_thread() asked from elsewhere reports it. */
    if (weft_get_native_id() == (uint64_t)getpid())
        weft__registry_main();
}

/* ----- Queries ----- */

size_t weft_active_count(void)
{
    lock_registry();
    main_locked();
    size_t n = live_count;
    unlock_registry();
    return n;
}

int weft_enumerate(weft_thread_t ***list, size_t *count)
{
    if (list == NULL || count == NULL)
        return weft_fail(WEFT_EINVAL, "weft_enumerate: NULL %s",
                         list == NULL ? "list" : "count");
    lock_registry();
    main_locked();
    weft_thread_t **a = malloc((live_count ? live_count : 1) * sizeof *a);
    size_t n = 0;
    for (weft_thread_t *t = head; a && t; t = t->next)
        a[n++] = weft_thread_ref(t);
    unlock_registry();
    if (a == NULL)
        return weft_fail(WEFT_ENOMEM, "no memory for the thread list");
    *list = a;
    *count = n;
    return 0;
}

void weft_thread_list_free(weft_thread_t **list, size_t count)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        weft_thread_free(list[i]);
    free(list);
}

weft_thread_t *weft__registry_next_non_daemon(const weft_thread_t *skip)
{
    weft_thread_t *found = NULL;
    lock_registry();
    for (weft_thread_t *t = head; t && !found; t = t->next)
        if (t->kind == THREAD_KIND_WEFT && t != skip && !weft_thread_daemon(t))
            found = weft_thread_ref(t);
    unlock_registry();
    return found;
}

/* ----- fork() ----- */

static void before_fork(void)
{
    lock_registry();
}

static void after_fork_in_parent(void)
{
    unlock_registry();
}

/* An entry whose thread stayed in the parent: done, as far as the child
 * can tell. Its reference is kept (on the lost list), so that pointers
 * borrowed before fork(), say from weft_main_thread(), stay valid. */
static void forget(weft_thread_t *t)
{
    t->lost_in_fork = 1;
    atomic_store_explicit(&t->state, THREAD_DONE, memory_order_release);
    t->next = lost;
    lost = t;
}

/* The forking thread's entry: bound to it, or (the main thread that never
 * asked who it is) found by its ident, which fork() keeps. */
static weft_thread_t *forking_entry(void)
{
    weft_thread_t *me = weft__thread_self();
    for (weft_thread_t *t = head; t && !me; t = t->next)
        if (weft_thread_ident(t) == weft_get_ident())
            me = t;
    if (me && me->kind == THREAD_KIND_DUMMY) {
        /* Python: a dummy that forks is the child's MainThread. */
        me->kind = THREAD_KIND_MAIN;
        atomic_store_explicit(&me->daemon, 0, memory_order_relaxed);
        weft__thread_name_set(me, "MainThread");
    }
    if (me)
        weft__thread_bind_main(me);
    return me;
}

static void after_fork_in_child(void)
{
    weft_lock_init(&registry_lock);
    weft_thread_t *me = forking_entry(), *t = head;
    head = tail = main_entry = NULL;
    live_count = 0;
    while (t) {
        weft_thread_t *next = t->next;
        t->prev = t->next = NULL;
        if (t != me)
            forget(t);
        t = next;
    }
    if (me) {
        atomic_store_explicit(&me->native_id, weft_get_native_id(),
                              memory_order_relaxed);
        link_first(me);
        main_entry = me;
    }
}

__attribute__((constructor)) static void install_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}
