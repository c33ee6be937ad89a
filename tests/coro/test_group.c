/* SPDX-License-Identifier: MIT */
/* Task groups: all members waited for; a failing member cancels its
 * siblings and the body, and the group reports it; an outside cancel
 * reaches every member. */
#include "testing.h"

#include <string.h>

struct member_log {
    int finished, cancelled;
};

static int member_sleep(void *arg, void **result)
{
    struct member_log *m = arg;
    int rc = weft_sleep(0.02);
    if (rc == WEFT_ECANCELLED)
        m->cancelled++;
    else
        m->finished++;
    return rc;
}

static int member_long(void *arg, void **result)
{
    struct member_log *m = arg;
    int rc = weft_sleep(10);
    if (rc == WEFT_ECANCELLED)
        m->cancelled++;
    return rc;
}

static int member_fails(void *arg, void **result)
{
    weft_sleep(0.01);
    return weft_fail(WEFT_EUSER + 4, "member broke");
}

static int group_all_fine(void *arg, void **result)
{
    struct member_log *m = arg;
    weft_task_group_t *g;
    weft_task_group_new(&g, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(weft_task_group_spawn(g, member_sleep, m, NULL), 0);
    int rc = weft_task_group_wait(g);
    assert_int_equal(weft_task_group_size(g), 5);
    assert_fails_with(weft_task_group_spawn(g, member_sleep, m, NULL),
                      WEFT_ESTATE, "finished");
    weft_task_group_free(g);
    return rc;
}

static void a_group_waits_for_all_of_its_members(void **state)
{
    struct member_log m = {0};
    assert_int_equal(weft_run(group_all_fine, &m, NULL), 0);
    assert_int_equal(m.finished, 5);
}

struct failing {
    struct member_log m;
    int body;
    size_t failed;
};

static int group_with_a_failure(void *arg, void **result)
{
    struct failing *f = arg;
    weft_task_group_t *g;
    weft_task_group_new(&g, NULL);
    for (int i = 0; i < 3; i++)
        weft_task_group_spawn(g, member_long, &f->m, NULL);
    weft_task_group_spawn(g, member_fails, NULL, NULL);
    f->body = weft_sleep(10); /* the body is cancelled too */
    int rc = weft_task_group_wait(g);
    f->failed = weft_task_group_failed(g);
    weft_task_group_free(g);
    return rc;
}

static void
a_failing_member_cancels_its_siblings_and_the_group_reports_it(void **state)
{
    struct failing f;
    memset(&f, 0, sizeof f);
    double t0 = weft_monotonic();
    assert_fails_with(weft_run(group_with_a_failure, &f, NULL), WEFT_EUSER + 4,
                      "1 of 4 tasks failed; first: member");
    assert_elapsed_between(weft_monotonic() - t0, 0.01, 1.0);
    assert_int_equal(f.m.cancelled, 3);
    assert_int_equal(f.body, WEFT_ECANCELLED);
    assert_int_equal(f.failed, 1);
}

static int group_long(void *arg, void **result)
{
    struct member_log *m = arg;
    weft_task_group_t *g;
    weft_task_group_new(&g, NULL);
    for (int i = 0; i < 4; i++)
        weft_task_group_spawn(g, member_long, m, NULL);
    int rc = weft_task_group_wait(g);
    weft_task_group_free(g);
    return rc;
}

static int cancel_after(void *arg, void **result)
{
    weft_sleep(0.02);
    return weft_task_cancel(arg);
}

static void cancelling_the_owner_cancels_every_member(void **state)
{
    weft_loop_t *loop;
    assert_int_equal(weft_loop_new(&loop), 0);
    struct member_log m = {0};
    weft_future_t *f, *c;
    weft_task_create(&f, loop, group_long, &m);
    weft_task_create(&c, loop, cancel_after, f);
    weft_loop_run_until_complete(loop, f, NULL);
    assert_true(weft_future_cancelled(f));
    assert_int_equal(m.cancelled, 4);
    weft_loop_run_until_complete(loop, c, NULL);
    weft_future_free(f);
    weft_future_free(c);
    weft_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_group_waits_for_all_of_its_members),
        cmocka_unit_test(
            a_failing_member_cancels_its_siblings_and_the_group_reports_it),
        cmocka_unit_test(cancelling_the_owner_cancels_every_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
