/* SPDX-License-Identifier: MIT */
/* Inside the thread layer only: the thread entry itself, and what its files
 * share (the registry, the current thread, names, thread-local clean-up, the
 * excepthook and the timer's run). */
#ifndef WEFT_THREAD_INT_H
#define WEFT_THREAD_INT_H

#include <stdatomic.h>

#include "weft/park.h"
#include "weft/sync.h"
#include "weft/thread.h"

/* Values of weft_thread_t.state, the word join parks on. */
#define THREAD_NEW 0u     /* made, not started */
#define THREAD_RUNNING 1u /* started (or adopted) and not finished */
#define THREAD_DONE 2u    /* finished: result and error are final */

/* What an entry stands for. */
enum thread_kind {
    THREAD_KIND_WEFT, /* started by weft_thread_start() */
    THREAD_KIND_MAIN, /* the process's main thread ("MainThread") */
    THREAD_KIND_DUMMY /* a thread weft did not start ("Dummy-N") */
};

/* A name, kept until the entry is freed even after a rename, so that the
 * text weft_thread_name() returned stays valid while the entry lives. */
struct thread_name {
    struct thread_name *older;
    char text[];
};

struct weft_thread {
    _Atomic uint32_t refs;
    _Atomic uint32_t state;   /* THREAD_*; join parks on it */
    _Atomic uint32_t booted;  /* start() parks on it until ids are known */
    _Atomic uint32_t started; /* set by the one start that counts */
    enum thread_kind kind;
    _Atomic int daemon;
    size_t stack_size;
    weft_fn target;
    void *arg;
    _Atomic(struct thread_name *) name;
    _Atomic uint64_t ident;
    _Atomic uint64_t native_id;
    /* Written by the thread before it publishes THREAD_DONE (release), read
     * by others only after they see it (acquire). */
    int code;
    void *result;
    weft_error_info_t error;
    int lost_in_fork; /* the thread did not exist in this process */
    /* Timer only: wait interval on finished, then run target unless set. */
    int is_timer;
    double interval;
    weft_event_t finished;
    /* The registry's list of live entries; under the registry lock. */
    weft_thread_t *prev;
    weft_thread_t *next;
};

/* ----- thread.c ----- */

/* Make an entry with one reference, the given kind and name (copied), state
 * THREAD_NEW for a weft thread and THREAD_RUNNING otherwise.
 * Errors: WEFT_ENOMEM. */
int weft__thread_alloc(weft_thread_t **out, enum thread_kind kind,
                       const char *name);

/* Common part of weft_thread_new() and weft_timer_new(): checks opts, names
 * the thread as Python does, inherits the daemon flag. */
int weft__thread_create(weft_thread_t **out, weft_fn target, void *arg,
                        const weft_thread_opts_t *opts, int is_timer);

/* The end of a thread's life, on that thread: leave the registry, publish
 * THREAD_DONE, wake the joiners, and drop the registry's reference. The
 * entry stays the thread's current one until the binding lets go. */
void weft__thread_finish(weft_thread_t *t);

/* ----- name.c ----- */

/* The next N of "Thread-N" and "Dummy-N" (one counter, as in Python). */
unsigned weft__thread_next_number(void);

/* Python's default name for a thread running target (NULL for a timer):
 * "Thread-N (target)", or "Thread-N" when target has no known name. */
void weft__thread_default_name(char *buf, size_t size, weft_fn target);

/* Replace the entry's name (copied). Errors: WEFT_ENOMEM. */
int weft__thread_name_set(weft_thread_t *t, const char *name);

/* Free every name the entry ever had. */
void weft__thread_names_free(weft_thread_t *t);

/* Give the calling OS thread t's name (cut to 15 bytes) for debuggers. */
void weft__thread_name_os(const weft_thread_t *t);

/* ----- current.c ----- */

/* The calling thread's entry if it has one yet (NULL otherwise); never
 * makes one. */
weft_thread_t *weft__thread_self(void);

/* Make t the calling thread's entry for the rest of its life: the binding
 * takes a reference, dropped in the last round of the thread's exit
 * destructors (where a dummy entry is also finished, in the first). If
 * that cannot be arranged (no pthread key left), the binding holds no
 * reference and weft__thread_finish() ends it. */
void weft__thread_bind(weft_thread_t *t);

/* End the calling thread's binding to t if it holds no reference. */
void weft__thread_unbind_if_unheld(const weft_thread_t *t);

/* In a child made by fork(): t, the forking thread's entry, is the
 * calling thread's for good, as the child's main thread. */
void weft__thread_bind_main(weft_thread_t *t);

/* ----- registry.c ----- */

/* Add t at the end of the live list, taking a reference for the registry. */
void weft__registry_add(weft_thread_t *t);

/* Take t out of the live list (if it is there); its reference stays. */
void weft__registry_remove(weft_thread_t *t);

/* The main thread's entry, made on first use. NULL when out of memory. */
weft_thread_t *weft__registry_main(void);

/* A new reference to the oldest live weft thread that is not a daemon and
 * not skip, or NULL when there is none: what the exit rule waits for. */
weft_thread_t *weft__registry_next_non_daemon(const weft_thread_t *skip);

/* ----- exit.c ----- */

/* Make sure the exit rule runs at exit: called by every start. */
void weft__exit_rule_arm(void);

/* ----- local.c ----- */

/* Run the destructors of the calling thread's thread-local values and free
 * their storage; called by a weft thread before it reports itself done. */
void weft__local_run_destructors(void);

/* ----- excepthook.c ----- */

/* Report a failed target through the current excepthook, on t's thread. */
void weft__excepthook_run(weft_thread_t *t, const weft_error_info_t *error);

/* ----- timer.c ----- */

/* A timer's body: wait for its interval unless cancelled, then run. */
int weft__timer_run(weft_thread_t *t, void **result);

#endif
