/* SPDX-License-Identifier: MIT */
/* The event emitter: handlers matched by name, run on the loop in order,
 * removed, and emits from other threads. */
#include "testing.h"

#include <stdio.h>
#include <string.h>

struct seen {
    weft_loop_t *loop;
    char log[256];
    int count;
    int stop_after;
};

static int handler_a(void *arg, const char *event, void *data)
{
    struct seen *s = arg;
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "a:%s:%s ", event,
             data ? (const char *)data : "-");
    if (++s->count == s->stop_after)
        weft_loop_stop(s->loop);
    return 0;
}

static int handler_b(void *arg, const char *event, void *data)
{
    struct seen *s = arg;
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "b:%s ", event);
    if (++s->count == s->stop_after)
        weft_loop_stop(s->loop);
    return 0;
}

static void
emit_runs_the_handlers_of_that_name_on_the_loop_in_order(void **state)
{
    struct seen s = {.stop_after = 3};
    assert_int_equal(weft_loop_new(&s.loop), 0);
    weft_emitter_t *e;
    assert_int_equal(weft_emitter_new(&e, s.loop), 0);
    assert_int_equal(weft_emitter_on(e, "Up", handler_a, &s), 0);
    assert_int_equal(weft_emitter_on(e, "Left", handler_b, &s), 0);
    assert_int_equal(weft_emitter_on(e, "Up", handler_b, &s), 0);
    assert_int_equal(weft_emitter_emit(e, "Up", "1"), 0);
    assert_int_equal(weft_emitter_emit(e, "Left", NULL), 0);
    assert_string_equal(s.log, ""); /* nothing runs before the loop */
    assert_fails_with(weft_emitter_emit(e, "Down", NULL), WEFT_EKEY,
                      "no handler for event 'Down'");
    assert_int_equal(weft_loop_run_forever(s.loop), 0);
    assert_string_equal(s.log, "a:Up:1 b:Up b:Left ");
    weft_emitter_free(e);
    weft_loop_free(s.loop);
}

static void a_removed_handler_no_longer_runs(void **state)
{
    struct seen s = {.stop_after = 1};
    assert_int_equal(weft_loop_new(&s.loop), 0);
    weft_emitter_t *e;
    assert_int_equal(weft_emitter_new(&e, s.loop), 0);
    weft_emitter_on(e, "Up", handler_a, &s);
    weft_emitter_on(e, "Up", handler_b, &s);
    assert_int_equal(weft_emitter_off(e, "Up", handler_a, &s), 0);
    assert_fails_with(weft_emitter_off(e, "Up", handler_a, &s), WEFT_EKEY,
                      "no such handler");
    weft_emitter_emit(e, "Up", NULL);
    assert_int_equal(weft_loop_run_forever(s.loop), 0);
    assert_string_equal(s.log, "b:Up ");
    weft_emitter_free(e);
    weft_loop_free(s.loop);
}

static void emit_from(void *arg, unsigned i)
{
    weft_emitter_t *e = arg;
    for (int k = 0; k < 25; k++)
        assert_int_equal(weft_emitter_emit(e, "Right", NULL), 0);
}

static void emit_threads(void *arg)
{
    testing_run_threads(4, emit_from, arg);
}

static void emits_from_other_threads_all_reach_the_loop(void **state)
{
    struct seen s = {.stop_after = 100};
    assert_int_equal(weft_loop_new(&s.loop), 0);
    weft_emitter_t *e;
    assert_int_equal(weft_emitter_new(&e, s.loop), 0);
    weft_emitter_on(e, "Right", handler_b, &s);
    testing_thread_t *t = testing_thread_start(emit_threads, e);
    assert_int_equal(weft_loop_run_forever(s.loop), 0);
    testing_thread_join(t);
    assert_int_equal(s.count, 100);
    weft_emitter_free(e);
    weft_loop_free(s.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            emit_runs_the_handlers_of_that_name_on_the_loop_in_order),
        cmocka_unit_test(a_removed_handler_no_longer_runs),
        cmocka_unit_test(emits_from_other_threads_all_reach_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
