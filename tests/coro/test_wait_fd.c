/* SPDX-License-Identifier: MIT */
/* Coroutines waiting on descriptors through park: a pipe, a Connection and
 * a child process's end each suspend only the waiting task, while the other
 * tasks of its loop run on. */
#include "testing.h"

#include <poll.h>
#include <unistd.h>

struct pipe_pair {
    int fds[2];
    int order[3];
    int n;
};

static int reader(void *arg, void **result)
{
    struct pipe_pair *p = arg;
    p->order[p->n++] = 1; /* starts waiting */
    int rc = weft_park_wait_fd(p->fds[0], POLLIN, WEFT_NEVER);
    char c = 0;
    if (rc == 0 && read(p->fds[0], &c, 1) == 1)
        p->order[p->n++] = c;
    return rc;
}

static int writer(void *arg, void **result)
{
    struct pipe_pair *p = arg;
    weft_sleep(0.02); /* the reader is parked on the pipe by now */
    p->order[p->n++] = 2;
    return write(p->fds[1], "\x03", 1) == 1 ? 0 : weft_fail(WEFT_ESYS, "w");
}

static void a_task_waiting_on_a_pipe_lets_the_others_run(void **state)
{
    struct pipe_pair p = {{-1, -1}, {0}, 0};
    assert_int_equal(pipe(p.fds), 0);
    weft_loop_t *loop;
    weft_loop_new(&loop);
    weft_future_t *r, *w;
    weft_task_create(&r, loop, reader, &p);
    weft_task_create(&w, loop, writer, &p);
    assert_int_equal(weft_loop_run_until_complete(loop, r, NULL), 0);
    assert_int_equal(weft_loop_run_until_complete(loop, w, NULL), 0);
    /* Had the reader blocked its thread, the writer could not have run. */
    assert_int_equal(p.n, 3);
    assert_int_equal(p.order[0], 1);
    assert_int_equal(p.order[1], 2);
    assert_int_equal(p.order[2], 3);
    weft_future_free(r);
    weft_future_free(w);
    weft_loop_free(loop);
    close(p.fds[0]);
    close(p.fds[1]);
}

static int poll_briefly(void *arg, void **result)
{
    return weft_connection_poll(arg, 0.1);
}

static int count_ticks(void *arg, void **result)
{
    int *ticks = arg;
    for (int i = 0; i < 5; i++) {
        weft_sleep(0.01);
        (*ticks)++;
    }
    return 0;
}

static void a_connection_poll_times_out_without_stopping_the_loop(void **state)
{
    weft_connection_t *a, *b;
    assert_int_equal(weft_pipe(&a, &b, 1), 0);
    weft_loop_t *loop;
    weft_loop_new(&loop);
    int ticks = 0;
    weft_future_t *p, *t;
    weft_task_create(&p, loop, poll_briefly, b);
    weft_task_create(&t, loop, count_ticks, &ticks);
    double t0 = weft_monotonic();
    assert_int_equal(weft_loop_run_until_complete(loop, p, NULL),
                     WEFT_ETIMEDOUT);
    assert_elapsed_between(weft_monotonic() - t0, 0.1, 1.0);
    assert_int_equal(weft_loop_run_until_complete(loop, t, NULL), 0);
    assert_int_equal(ticks, 5);
    weft_future_free(p);
    weft_future_free(t);
    weft_loop_free(loop);
    weft_connection_free(a);
    weft_connection_free(b);
}

static int cancel_me(void *arg, void **result)
{
    int fds[2];
    if (pipe(fds))
        return weft_fail(WEFT_ESYS, "pipe");
    int rc = weft_park_wait_fd(fds[0], POLLIN, WEFT_NEVER);
    close(fds[0]);
    close(fds[1]);
    return rc;
}

static int cancel_later(void *arg)
{
    return weft_task_cancel(arg);
}

static void cancelling_a_task_waiting_on_a_descriptor_wakes_it(void **state)
{
    weft_loop_t *loop;
    weft_loop_new(&loop);
    weft_future_t *f;
    weft_task_create(&f, loop, cancel_me, NULL);
    weft_loop_call_later(loop, 0.02, cancel_later, f, NULL);
    assert_int_equal(weft_loop_run_until_complete(loop, f, NULL),
                     WEFT_ECANCELLED);
    assert_true(weft_future_cancelled(f));
    weft_future_free(f);
    weft_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_task_waiting_on_a_pipe_lets_the_others_run),
        cmocka_unit_test(a_connection_poll_times_out_without_stopping_the_loop),
        cmocka_unit_test(cancelling_a_task_waiting_on_a_descriptor_wakes_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
