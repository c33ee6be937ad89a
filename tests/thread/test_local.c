/* SPDX-License-Identifier: MIT */
/* thread: thread-local storage (threading.local). */
#include "testing.h"

#include <stdlib.h>

static _Atomic int destroyed;

static void count_destroyed(void *value)
{
    atomic_fetch_add(&destroyed, 1);
    free(value);
}

struct probe {
    weft_local_t *local;
    void *seen_first, *seen_after_set;
};

static int set_my_own(void *arg, void **result)
{
    struct probe *p = arg;
    p->seen_first = weft_local_get(p->local);
    int *mine = malloc(sizeof *mine);
    *mine = 2;
    weft_local_set(p->local, mine);
    p->seen_after_set = weft_local_get(p->local);
    return 0;
}

static void run_thread(weft_fn fn, void *arg)
{
    weft_thread_t *t;
    assert_int_equal(weft_thread_new(&t, fn, arg, NULL), 0);
    assert_int_equal(weft_thread_start(t), 0);
    assert_int_equal(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_free(t);
}

static void each_thread_sees_its_own_value(void **state)
{
    struct probe p = {NULL, NULL, NULL};
    assert_int_equal(weft_local_new(&p.local, count_destroyed), 0);
    int main_value = 1;
    assert_null(weft_local_get(p.local));
    assert_int_equal(weft_local_set(p.local, &main_value), 0);
    atomic_store(&destroyed, 0);
    run_thread(set_my_own, &p);
    assert_null(p.seen_first);
    assert_non_null(p.seen_after_set);
    assert_ptr_equal(weft_local_get(p.local), &main_value);
    weft_local_set(p.local, NULL);
    weft_local_free(p.local);
}

static void destructors_have_run_once_join_returns(void **state)
{
    struct probe p = {NULL, NULL, NULL};
    assert_int_equal(weft_local_new(&p.local, count_destroyed), 0);
    atomic_store(&destroyed, 0);
    for (int i = 0; i < 10; i++) {
        run_thread(set_my_own, &p);
        assert_int_equal(atomic_load(&destroyed), i + 1);
    }
    weft_local_free(p.local);
}

static void set_in_a_foreign_thread(void *arg)
{
    set_my_own(arg, NULL);
}

static void a_foreign_thread_destroys_its_values_as_it_exits(void **state)
{
    struct probe p = {NULL, NULL, NULL};
    assert_int_equal(weft_local_new(&p.local, count_destroyed), 0);
    atomic_store(&destroyed, 0);
    testing_thread_join(testing_thread_start(set_in_a_foreign_thread, &p));
    assert_int_equal(atomic_load(&destroyed), 1);
    weft_local_free(p.local);
}

/* A destructor that sets a value again gets it destroyed in turn. */
static weft_local_t *again_local;
static _Atomic int again_rounds;

static void set_again(void *value)
{
    if (atomic_fetch_add(&again_rounds, 1) < 2)
        weft_local_set(again_local, value);
}

static int set_once(void *arg, void **result)
{
    return weft_local_set(again_local, arg);
}

static void values_set_by_destructors_are_destroyed_too(void **state)
{
    assert_int_equal(weft_local_new(&again_local, set_again), 0);
    atomic_store(&again_rounds, 0);
    int v;
    run_thread(set_once, &v);
    assert_int_equal(atomic_load(&again_rounds), 3);
    weft_local_free(again_local);
}

static void a_reused_slot_does_not_show_old_values(void **state)
{
    weft_local_t *a, *b;
    int v = 5;
    assert_int_equal(weft_local_new(&a, NULL), 0);
    assert_int_equal(weft_local_set(a, &v), 0);
    weft_local_free(a);
    assert_int_equal(weft_local_new(&b, NULL), 0);
    assert_null(weft_local_get(b));
    weft_local_free(b);
    weft_local_free(NULL);
}

static void bad_arguments_and_exhaustion_are_errors(void **state)
{
    assert_fails_with(weft_local_new(NULL, NULL), WEFT_EINVAL, "NULL out");
    assert_fails_with(weft_local_set(NULL, NULL), WEFT_EINVAL, "NULL local");
    assert_null(weft_local_get(NULL));
    enum { MANY = 1100 };
    weft_local_t **all = calloc(MANY, sizeof *all);
    int made = 0, rc = 0;
    while (made < MANY && (rc = weft_local_new(&all[made], NULL)) == 0)
        made++;
    assert_int_equal(rc, WEFT_ENOMEM);
    assert_true(testing_message_has("no thread-local slot left"));
    assert_true(made >= 1000 && made < MANY);
    for (int i = 0; i < made; i++)
        weft_local_free(all[i]);
    free(all);
    weft_local_t *l;
    assert_int_equal(weft_local_new(&l, NULL), 0);
    weft_local_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_thread_sees_its_own_value),
        cmocka_unit_test(destructors_have_run_once_join_returns),
        cmocka_unit_test(a_foreign_thread_destroys_its_values_as_it_exits),
        cmocka_unit_test(values_set_by_destructors_are_destroyed_too),
        cmocka_unit_test(a_reused_slot_does_not_show_old_values),
        cmocka_unit_test(bad_arguments_and_exhaustion_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
