/* SPDX-License-Identifier: MIT */
/* The list of this process's children: what active_children() shows, what
 * exit terminates and joins, and what keeps a freed handle of a running
 * child until that child is reaped.
 *
 * Lock order: the list's lock, then a process handle's lock (reaping a
 * child under the list's lock takes the handle's). Nothing here blocks
 * under the list's lock: a child is reaped there only once its end is seen.
 *
 * fork(): the child made by any fork() has no children; its copy of the
 * list (and of the references it holds) is dropped without being touched,
 * since the handles are the parent's.
 */
#include "process_int.h"

#include <pthread.h>
#include <stdlib.h>

static weft_lock_t list_lock = WEFT_LOCK_INIT;
static weft_process_t *head, *tail;
static pthread_once_t exit_handler_once = PTHREAD_ONCE_INIT;

void weft__children_add(weft_process_t *p)
{
    weft_process_ref(p);
    weft_lock_acquire(&list_lock, WEFT_FOREVER);
    p->next_child = NULL;
    if (tail)
        tail->next_child = p;
    else
        head = p;
    tail = p;
    weft_lock_release(&list_lock);
}

/* Under the list's lock: unlink the finished children into *done. */
static void unlink_finished(weft_process_t **done)
{
    weft_process_t *prev = NULL, *p = head;
    while (p) {
        weft_process_t *next = p->next_child;
        if (weft__process_try_reap(p)) {
            if (prev)
                prev->next_child = next;
            else
                head = next;
            if (tail == p)
                tail = prev;
            p->next_child = *done;
            *done = p;
        } else {
            prev = p;
        }
        p = next;
    }
}

void weft__children_reap_finished(void)
{
    weft_process_t *done = NULL;
    weft_lock_acquire(&list_lock, WEFT_FOREVER);
    unlink_finished(&done);
    weft_lock_release(&list_lock);
    while (done) {
        weft_process_t *next = done->next_child;
        weft_process_free(done);
        done = next;
    }
}

static size_t count_locked(void)
{
    size_t n = 0;
    for (weft_process_t *p = head; p; p = p->next_child)
        n++;
    return n;
}

int weft_active_children(weft_process_t ***list, size_t *count)
{
    if (list == NULL || count == NULL)
        return weft_fail(WEFT_EINVAL, "weft_active_children: NULL");
    weft__children_reap_finished();
    weft_lock_acquire(&list_lock, WEFT_FOREVER);
    size_t n = count_locked();
    weft_process_t **a = malloc((n ? n : 1) * sizeof *a);
    size_t i = 0;
    for (weft_process_t *p = head; a && p; p = p->next_child)
        a[i++] = weft_process_ref(p);
    weft_lock_release(&list_lock);
    if (a == NULL)
        return weft_fail(WEFT_ENOMEM, "weft_active_children: no memory");
    *list = a;
    *count = n;
    return 0;
}

void weft_process_list_free(weft_process_t **list, size_t count)
{
    for (size_t i = 0; list && i < count; i++)
        weft_process_free(list[i]);
    free(list);
}

/* ----- Exit ----- */

void weft__children_at_exit(void)
{
    weft_process_t **list;
    size_t n;
    if (weft_active_children(&list, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (weft_process_daemon(list[i]))
            weft_process_terminate(list[i]);
    for (size_t i = 0; i < n; i++)
        weft_process_join(list[i], WEFT_FOREVER);
    weft_process_list_free(list, n);
    weft__children_reap_finished();
}

static void at_exit(void)
{
    weft__children_at_exit();
}

static void install_exit_handler(void)
{
    atexit(at_exit);
}

void weft__children_install_exit_handler(void)
{
    pthread_once(&exit_handler_once, install_exit_handler);
}

/* ----- fork() ----- */

/* In any child of fork(): no children, and no connection to the parent's
 * fork server (the child starts its own when it needs one). Plain stores
 * and close(): safe between fork() and exec. */
static void forget_in_child(void)
{
    weft_lock_init(&list_lock);
    head = tail = NULL;
    weft__forkserver_forget();
}

void weft__forget_parent_state(void)
{
    forget_in_child();
    weft__counter_reset();
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_in_child);
}
