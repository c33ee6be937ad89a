/* SPDX-License-Identifier: MIT */
/* Robustness, live: a process pool of two workers runs eight tasks, of
 * which one crashes its worker (SIGSEGV) and one never returns. In weft
 * the crash fails that task alone (WEFT_EWORKERDIED, naming the worker and
 * the signal), the hang is stopped by its timeout (WEFT_ETIMEDOUT), every
 * other task gives its result, and the pool takes new work afterwards.
 * Python's ProcessPoolExecutor, on the same tasks
 * (examples/python/broken_pool.py), breaks as a whole at the crash: every
 * task not finished by then, and every later one, fails with
 * BrokenProcessPool. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

#define TASKS 8
#define CRASH 2 /* the task that crashes its worker */
#define HANG 5  /* the task that never returns */
#define WORKERS 2

/* Exported, so that weft names it in its messages. */
int demo_square(const weft_bytes_t *arg, weft_bytes_t *result);
int demo_square(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    memcpy(&x, arg->data, sizeof x);
    x *= x;
    return weft_bytes_copy(result, &x, sizeof x);
}

/* Exported, so that weft names it in its messages. */
int demo_crash(const weft_bytes_t *arg, weft_bytes_t *result);
int demo_crash(const weft_bytes_t *arg, weft_bytes_t *result)
{
    raise(SIGSEGV);
    return 0;
}

/* Exported, so that weft names it in its messages. */
int demo_hang(const weft_bytes_t *arg, weft_bytes_t *result);
int demo_hang(const weft_bytes_t *arg, weft_bytes_t *result)
{
    for (;;)
        pause();
    return 0;
}

static const char *kind_of(long i)
{
    return i == CRASH ? "crash" : i == HANG ? "hang" : "square";
}

static int submit(weft_executor_t *ex, long i, double timeout,
                  weft_future_t **f)
{
    if (i == CRASH)
        return weft_executor_submit_bytes(ex, demo_crash, &i, sizeof i, f);
    if (i == HANG) /* a positive timeout: stopped with its worker then */
        return weft_process_pool_submit_timeout(ex, demo_hang, &i, sizeof i,
                                                timeout, f);
    return weft_executor_submit_bytes(ex, demo_square, &i, sizeof i, f);
}

static void outcome(robust_task_t *t, weft_future_t *f, long i)
{
    const weft_bytes_t *r;
    int rc = weft_future_result_bytes(f, WEFT_FOREVER, &r);
    long x;
    if (rc == 0 && r && r->len == sizeof x) {
        memcpy(&x, r->data, sizeof x);
        t->ok = x == i * i;
        demo_note(t->outcome, sizeof t->outcome, "%ld", x);
    } else {
        demo_note(t->outcome, sizeof t->outcome, "%s: %s", weft_errname(rc),
                  weft_last_message());
    }
}

static void weft_side(demo_t *d, robust_run_t *run)
{
    demo_copy(run->impl, sizeof run->impl, DEMO_WEFT);
    weft_executor_t *ex;
    if (weft_process_pool_new(
            &ex, &(weft_process_pool_opts_t){.max_workers = WORKERS}) != 0) {
        demo_note(run->note, sizeof run->note, "no process pool: %s",
                  weft_last_message());
        return;
    }
    double t0 = weft_monotonic();
    weft_future_t *f[TASKS + 1] = {0};
    for (long i = 0; i < TASKS; i++) {
        robust_task_t *t = &run->tasks[i];
        demo_copy(t->kind, sizeof t->kind, kind_of(i));
        if (submit(ex, i, d->robust_timeout, &f[i]) != 0)
            demo_note(t->outcome, sizeof t->outcome, "not submitted: %s",
                      weft_last_message());
    }
    for (long i = 0; i < TASKS; i++)
        if (f[i]) {
            outcome(&run->tasks[i], f[i], i);
            /* The crash and the hang fail as they should, alone. (Under a
             * sanitizer the crash is an exit, not a signal: died is all.) */
            run->tasks[i].ok |=
                (i == CRASH || i == HANG) &&
                strstr(run->tasks[i].outcome,
                       i == CRASH ? "WEFT_EWORKERDIED" : "WEFT_ETIMEDOUT");
        }
    /* Afterwards: is the pool still usable? */
    robust_task_t *after = &run->tasks[TASKS];
    demo_copy(after->kind, sizeof after->kind, "after");
    long last = TASKS;
    if (submit(ex, last, d->robust_timeout, &f[TASKS]) == 0)
        outcome(after, f[TASKS], last);
    else
        demo_note(after->outcome, sizeof after->outcome, "%s",
                  weft_last_message());
    run->seconds = weft_monotonic() - t0;
    run->ntasks = TASKS + 1;
    run->ran = 1;
    for (size_t i = 0; i <= TASKS; i++)
        weft_future_free(f[i]);
    weft_executor_free(ex);
}

static void python_side(demo_t *d, robust_run_t *run)
{
    demo_copy(run->impl, sizeof run->impl, DEMO_PYTHON);
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%g", d->robust_timeout);
    const char *args[] = {timeout, NULL};
    char *out, line[512], v[256];
    int rc = python_run(d, "broken_pool.py", args, 60, &out, run->note,
                        sizeof run->note);
    const char *pos = out;
    while (result_next(&pos, line, sizeof line)) {
        if (result_field(line, "seconds", v, sizeof v))
            run->seconds = atof(v);
        if (!result_field(line, "task", v, sizeof v))
            continue;
        size_t i = (size_t)atoi(v);
        if (i > TASKS)
            continue;
        robust_task_t *t = &run->tasks[i];
        if (result_field(line, "kind", v, sizeof v))
            demo_copy(t->kind, sizeof t->kind, v);
        t->ok = result_field(line, "ok", v, sizeof v) && atoi(v) == 1;
        if (result_field(line, "outcome", v, sizeof v))
            demo_copy(t->outcome, sizeof t->outcome, v);
        if (i + 1 > run->ntasks)
            run->ntasks = i + 1;
    }
    run->ran = rc == 0 && run->ntasks == TASKS + 1;
    if (rc != 0 && run->note[0] == '\0')
        demo_note(run->note, sizeof run->note, "Python failed (status %d)", rc);
    free(out);
}

void demo_robust(demo_t *d)
{
    d->robust_timeout = d->opts.scale < 0.5 ? 0.5 : 1.0;
    demo_say(d,
             "robust: a process pool of %d, %d tasks; task %d crashes, "
             "task %d hangs (timeout %.1f s)",
             WORKERS, TASKS, CRASH, HANG, d->robust_timeout);
    weft_side(d, &d->robust[0]);
    if (d->python.found) {
        demo_say(d,
                 "  Python: ProcessPoolExecutor(max_workers=%d), the same "
                 "tasks",
                 WORKERS);
        python_side(d, &d->robust[1]);
    } else {
        demo_copy(d->robust[1].impl, sizeof d->robust[1].impl, DEMO_PYTHON);
        demo_copy(d->robust[1].note, sizeof d->robust[1].note,
                  d->python.reason);
    }
}
