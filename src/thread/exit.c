/* SPDX-License-Identifier: MIT */
/* Python's exit rule: when the program exits (return from main, or exit()),
 * every started thread that is not a daemon is joined first; daemon threads
 * are not waited for and stop with the process.
 *
 * An atexit handler, registered when the first thread starts, does the
 * joining, one thread at a time and oldest first, until none is left; a
 * thread started meanwhile is joined too. The thread that called exit() is
 * never waited for by itself. When that thread is the main thread, its
 * entry is finished first, as in Python. The waits are shielded from
 * cancellation, as the process is leaving anyway. */
#include "thread_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_once_t armed = PTHREAD_ONCE_INIT;

/* Python's _shutdown first marks the main thread finished, so a thread that
 * joins it is released rather than holding up the exit for ever. */
static void main_thread_ends(void)
{
    weft_thread_t *m = weft_main_thread();
    if (m == NULL)
        return;
    weft__registry_remove(m);
    atomic_store_explicit(&m->state, THREAD_DONE, memory_order_release);
    weft_park_wake(&m->state, SIZE_MAX);
}

static void join_non_daemons(void)
{
    weft_cancel_scope_t shield;
    weft_cancel_scope_init(&shield);
    weft_cancel_scope_enter(&shield, WEFT_FOREVER, WEFT_SCOPE_SHIELD);
    const weft_thread_t *me = weft__thread_self();
    if (weft_get_native_id() == (uint64_t)getpid())
        main_thread_ends();
    weft_thread_t *t;
    while ((t = weft__registry_next_non_daemon(me)) != NULL) {
        weft_thread_join(t, WEFT_FOREVER);
        weft_thread_free(t);
    }
    weft_cancel_scope_exit(&shield);
}

static void arm(void)
{
    atexit(join_non_daemons);
}

void weft__exit_rule_arm(void)
{
    pthread_once(&armed, arm);
}
