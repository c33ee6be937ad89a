/* SPDX-License-Identifier: MIT */
/* Tasks and threads: creating a task on a loop that runs on another thread
 * is refused with WEFT_ESTATE and a message naming
 * weft_loop_call_soon_threadsafe; handing the creation to the loop through
 * that call works; a loop that is not running takes tasks from any
 * thread. */
#include "testing.h"

#include <pthread.h>
#include <string.h>

struct probe {
    weft_loop_t *loop;
    weft_future_t *task;  /* made on the loop's thread, through the handover */
    int create_rc, named; /* the refused creation */
    int group_rc, group_named;
    int handover_rc;
    int ran;
};

static int add_one(void *arg, void **result)
{
    struct probe *p = arg;
    p->ran++;
    *result = (void *)(intptr_t)p->ran;
    return 0;
}

static int named_threadsafe(void)
{
    return strstr(weft_last_message(), "weft_loop_call_soon_threadsafe") !=
               NULL &&
           strstr(weft_last_message(), "weft_task_create") != NULL;
}

/* Runs on the loop's thread: the creation handed over. */
static int create_here(void *arg)
{
    struct probe *p = arg;
    return weft_task_create(&p->task, p->loop, add_one, p);
}

static void misuse(void *arg)
{
    struct probe *p = arg;
    weft_future_t *f = NULL;
    p->create_rc = weft_task_create(&f, p->loop, add_one, p);
    p->named = named_threadsafe() && f == NULL;
    weft_task_group_t *g;
    if (weft_task_group_new(&g, p->loop) == 0) {
        p->group_rc = weft_task_group_spawn(g, add_one, p, NULL);
        p->group_named = named_threadsafe();
        weft_task_group_free(g);
    }
    p->handover_rc = weft_loop_call_soon_threadsafe(p->loop, create_here, p);
}

/* The loop's first task starts the other thread and waits for it in a
 * plain thread join: the loop stays running (and blocked) meanwhile. */
static int start_misuse(void *arg, void **result)
{
    testing_thread_join(testing_thread_start(misuse, arg));
    return 0;
}

static int wait_for_handover(void *arg, void **result)
{
    struct probe *p = arg;
    weft_future_t *first;
    int rc = weft_task_create(&first, p->loop, start_misuse, p);
    if (rc)
        return rc;
    rc = weft_future_result(first, WEFT_FOREVER, NULL);
    weft_future_free(first);
    while (rc == 0 && p->task == NULL && p->handover_rc == 0)
        rc = weft_sleep(0.001);
    if (rc == 0 && p->task)
        rc = weft_future_result(p->task, WEFT_FOREVER, result);
    return rc;
}

static void
creating_a_task_from_another_thread_while_the_loop_runs_is_refused(void **state)
{
    struct probe p = {0};
    assert_int_equal(weft_loop_new(&p.loop), 0);
    weft_future_t *main_task;
    assert_int_equal(
        weft_task_create(&main_task, p.loop, wait_for_handover, &p), 0);
    void *r = NULL;
    assert_int_equal(weft_loop_run_until_complete(p.loop, main_task, &r), 0);
    assert_int_equal(p.create_rc, WEFT_ESTATE);
    assert_true(p.named);
    assert_int_equal(p.group_rc, WEFT_ESTATE);
    assert_true(p.group_named);
    assert_int_equal(p.handover_rc, 0);
    /* Only the task made through the handover ran. */
    assert_int_equal(p.ran, 1);
    assert_ptr_equal(r, (void *)1);
    weft_future_free(p.task);
    weft_future_free(main_task);
    weft_loop_free(p.loop);
}

static void create_before_run(void *arg)
{
    struct probe *p = arg;
    p->create_rc = weft_task_create(&p->task, p->loop, add_one, p);
}

static void a_loop_that_is_not_running_takes_tasks_from_any_thread(void **st)
{
    struct probe p = {0};
    assert_int_equal(weft_loop_new(&p.loop), 0);
    testing_thread_join(testing_thread_start(create_before_run, &p));
    assert_int_equal(p.create_rc, 0);
    void *r = NULL;
    assert_int_equal(weft_loop_run_until_complete(p.loop, p.task, &r), 0);
    assert_ptr_equal(r, (void *)1);
    weft_future_free(p.task);
    weft_loop_free(p.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            creating_a_task_from_another_thread_while_the_loop_runs_is_refused),
        cmocka_unit_test(
            a_loop_that_is_not_running_takes_tasks_from_any_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
