/* SPDX-License-Identifier: MIT */
/* Valid arguments for the NULL test: one live object of each handle type,
 * made fresh in the child process that makes the call. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Called through every function-pointer type: on the ABIs weft supports a
 * function that takes nothing and returns 0 serves as any of them. */
static long api_noop(void)
{
    return 0;
}

static void *scratch(void)
{
    void *p = aligned_alloc(64, 65536);
    if (p == NULL)
        abort();
    memset(p, 0, 65536);
    return p;
}

static void need(int rc, const char *what)
{
    if (rc == 0)
        return;
    fprintf(stderr, "fixture %s: %s: %s\n", what, weft_strerror(rc),
            weft_last_message());
    abort();
}

static int noop_fn(void *arg, void **result)
{
    return 0;
}

static int noop_target(const weft_bytes_t *arg)
{
    return 0;
}

static int noop_handler(weft_stream_t *s, void *arg)
{
    return 0;
}

static weft_rx_emitter_t *kept_emitter;

static int keep_emitter(void *ctx, weft_rx_emitter_t *e)
{
    kept_emitter = weft_rx_emitter_ref(e);
    return 0;
}

/* An emitter whose subscriber listens: the one weft_rx_create hands on. */
static weft_rx_emitter_t *rx_emitter(void)
{
    weft_rx_observable_t *o;
    need(weft_rx_create(&o, keep_emitter, NULL), "rx create");
    weft_rx_observer_t quiet = {0};
    weft_rx_subscription_t *sub;
    need(weft_rx_observable_subscribe(o, &quiet, &sub), "rx subscribe");
    if (kept_emitter == NULL)
        abort();
    return kept_emitter;
}

static void *make_rx(const char *type)
{
    if (!strcmp(type, "weft_rx_observable_t *")) {
        weft_rx_observable_t *o;
        need(weft_rx_empty(&o), "rx observable");
        return o;
    }
    if (!strcmp(type, "weft_rx_scheduler_t *")) {
        weft_rx_scheduler_t *s;
        need(weft_rx_test_scheduler_new(&s), "rx scheduler");
        return s;
    }
    if (!strcmp(type, "weft_rx_subject_t *")) {
        weft_rx_subject_t *s;
        need(weft_rx_subject_new(&s), "rx subject");
        return s;
    }
    if (!strcmp(type, "weft_rx_subscription_t *")) {
        weft_rx_observable_t *o;
        need(weft_rx_never(&o), "rx never");
        weft_rx_observer_t quiet = {0};
        weft_rx_subscription_t *sub;
        need(weft_rx_observable_subscribe(o, &quiet, &sub), "rx subscribe");
        return sub;
    }
    if (!strcmp(type, "weft_rx_emitter_t *"))
        return rx_emitter();
    return NULL;
}

static weft_loop_t *loop(void)
{
    weft_loop_t *l;
    need(weft_loop_new(&l), "loop");
    return l;
}

static weft_executor_t *inline_executor(void)
{
    weft_executor_t *ex;
    need(weft_inline_executor_new(&ex), "executor");
    return ex;
}

/* A future that is done, so that nothing waiting on it blocks. */
static weft_future_t *done_future(void)
{
    weft_future_t *f;
    need(weft_future_new(&f), "future");
    need(weft_future_set_result(f, NULL), "future result");
    return f;
}

static weft_manager_t *manager(void)
{
    static weft_manager_t *m;
    if (m == NULL)
        need(weft_manager_start(&m, NULL, "key", 3), "manager");
    return m;
}

static weft_pool_t *pool(void)
{
    weft_pool_t *p;
    need(weft_thread_pool_pool_new(&p, 1), "pool");
    return p;
}

static weft_stream_t *stream(void)
{
    weft_server_t *server;
    need(weft_start_server(&server, loop(), "127.0.0.1", 0, noop_handler,
                           NULL),
         "server");
    weft_stream_t *s;
    need(weft_open_connection(&s, "127.0.0.1", weft_server_port(server), 5.0),
         "connection");
    return s;
}

static void *make_handle(const char *type)
{
    if (!strcmp(type, "weft_loop_t *"))
        return loop();
    if (!strcmp(type, "weft_executor_t *"))
        return inline_executor();
    if (!strcmp(type, "weft_future_t *"))
        return done_future();
    if (!strcmp(type, "weft_queue_t *")) {
        weft_queue_t *q;
        need(weft_queue_new(&q, 0), "queue");
        return q;
    }
    if (!strcmp(type, "weft_proc_queue_t *")) {
        weft_proc_queue_t *q;
        need(weft_joinable_queue_new(&q, 0), "process queue");
        return q;
    }
    if (!strcmp(type, "weft_connection_t *")) {
        /* A message waits, so that a receive does not block. */
        weft_connection_t *a, *b;
        need(weft_pipe(&a, &b, 1), "pipe");
        need(weft_connection_send_bytes(b, "", 0), "message");
        return a;
    }
    if (!strcmp(type, "weft_thread_t *")) {
        weft_thread_t *t;
        need(weft_thread_new(&t, noop_fn, NULL, NULL), "thread");
        return t;
    }
    if (!strcmp(type, "weft_process_t *")) {
        weft_process_t *p;
        need(weft_process_new(&p, noop_target, NULL, 0, NULL), "process");
        return p;
    }
    if (!strcmp(type, "weft_context_t *")) {
        weft_context_t *c;
        need(weft_get_context(&c, "fork"), "context");
        return c;
    }
    if (!strcmp(type, "weft_pool_t *"))
        return pool();
    if (!strcmp(type, "weft_async_result_t *")) {
        weft_async_result_t *r;
        need(weft_pool_apply_async(&r, pool(), noop_fn, NULL, NULL, NULL, NULL),
             "async result");
        return r;
    }
    if (!strcmp(type, "weft_map_t *")) {
        weft_map_t *m;
        need(weft_executor_map(&m, inline_executor(), noop_fn, NULL, 0, NULL),
             "map");
        return m;
    }
    if (!strcmp(type, "weft_as_completed_t *")) {
        weft_as_completed_t *it;
        weft_future_t *f = done_future();
        need(weft_as_completed_new(&it, &f, 1, WEFT_FOREVER), "as_completed");
        return it;
    }
    if (!strcmp(type, "weft_progress_t *")) {
        weft_progress_t *p;
        need(weft_progress_new(&p, 1, NULL), "progress");
        return p;
    }
    if (!strcmp(type, "weft_emitter_t *")) {
        weft_emitter_t *e;
        need(weft_emitter_new(&e, loop()), "emitter");
        return e;
    }
    if (!strcmp(type, "weft_task_group_t *")) {
        weft_task_group_t *g;
        need(weft_task_group_new(&g, loop()), "task group");
        return g;
    }
    if (!strcmp(type, "weft_manager_t *"))
        return manager();
    if (!strcmp(type, "weft_dict_proxy_t *")) {
        weft_dict_proxy_t *d;
        need(weft_manager_dict(manager(), &d), "dict");
        return d;
    }
    if (!strcmp(type, "weft_list_proxy_t *")) {
        weft_list_proxy_t *l;
        need(weft_manager_list(manager(), &l), "list");
        return l;
    }
    if (!strcmp(type, "weft_stream_t *"))
        return stream();
    if (!strcmp(type, "weft_server_t *")) {
        weft_server_t *s;
        need(weft_start_server(&s, loop(), "127.0.0.1", 0, noop_handler, NULL),
             "server");
        return s;
    }
    if (!strcmp(type, "weft_shm_t *")) {
        char name[64];
        static unsigned n;
        snprintf(name, sizeof name, "/weft-api-%d-%u", (int)getpid(), n++);
        weft_shm_t *s;
        need(weft_shm_create(&s, name, 4096), "shared memory");
        return s;
    }
    if (!strcmp(type, "weft_value_t *")) {
        weft_value_t *v;
        need(weft_value_new(&v, 'i', 1), "value");
        return v;
    }
    if (!strcmp(type, "weft_array_t *")) {
        weft_array_t *a;
        need(weft_array_new(&a, 'i', 4, 1), "array");
        return a;
    }
    if (!strcmp(type, "weft_lock_t *")) {
        weft_lock_t *l;
        need(weft_lock_new(&l), "lock");
        return l;
    }
    if (!strcmp(type, "weft_rlock_t *")) {
        weft_rlock_t *r;
        need(weft_rlock_new(&r), "rlock");
        return r;
    }
    if (!strcmp(type, "weft_condition_t *")) {
        weft_condition_t *c;
        need(weft_condition_new(&c), "condition");
        return c;
    }
    if (!strcmp(type, "weft_semaphore_t *")) {
        weft_semaphore_t *s;
        need(weft_semaphore_new(&s, 1), "semaphore");
        return s;
    }
    if (!strcmp(type, "weft_event_t *")) {
        weft_event_t *e;
        need(weft_event_new(&e), "event");
        return e;
    }
    if (!strcmp(type, "weft_barrier_t *")) {
        weft_barrier_t *b;
        need(weft_barrier_new(&b, 1, NULL, NULL, WEFT_FOREVER), "barrier");
        return b;
    }
    if (!strcmp(type, "weft_local_t *")) {
        weft_local_t *l;
        need(weft_local_new(&l, NULL), "local");
        return l;
    }
    if (!strcmp(type, "weft_cancel_scope_t *")) {
        weft_cancel_scope_t *s = scratch();
        weft_cancel_scope_init(s);
        return s;
    }
    if (!strcmp(type, "weft_waiter_t *"))
        return weft_park_current();
    return make_rx(type);
}

void *api_fixture(const char *type)
{
    if (!strcmp(type, "fn"))
        return (void *)api_noop;
    void *h = make_handle(type);
    return h ? h : scratch();
}
