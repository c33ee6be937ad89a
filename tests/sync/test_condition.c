/* sync: Condition. */
#include "testing.h"

#include <math.h>

#include <string.h>

static void waiting_or_notifying_without_the_lock_is_an_error(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    assert_fails_with(weft_condition_wait(&c, 0.01), WEFT_EPERM,
                      "un-acquired");
    assert_fails_with(weft_condition_notify(&c, 1), WEFT_EPERM, "un-acquired");
    assert_fails_with(weft_condition_notify_all(&c), WEFT_EPERM,
                      "un-acquired");
}

static void wait_times_out_and_still_holds_the_lock(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    weft_condition_acquire(&c, WEFT_FOREVER);
    weft_condition_acquire(&c, WEFT_FOREVER); /* two levels */
    double t0 = weft_monotonic();
    assert_fails_with(weft_condition_wait(&c, 0.2), WEFT_ETIMEDOUT,
                      "timed out");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_int_equal(weft_rlock_count(&c.rlock_), 2);
    weft_condition_release(&c);
    weft_condition_release(&c);
    assert_fails_with(weft_condition_release(&c), WEFT_EPERM, NULL);
}

/* Producer/consumer over a condition: every item is seen exactly once. */
struct box {
    weft_condition_t c;
    int items, taken, produced_all;
    long sum;
};

static int has_items(void *arg)
{
    struct box *b = arg;
    return b->items > 0 || b->produced_all;
}

static void box_member(void *arg, unsigned i)
{
    struct box *b = arg;
    if (i == 0) {
        for (int k = 1; k <= 10000; k++) {
            weft_condition_acquire(&b->c, WEFT_FOREVER);
            b->items++;
            weft_condition_notify(&b->c, 1);
            weft_condition_release(&b->c);
        }
        weft_condition_acquire(&b->c, WEFT_FOREVER);
        b->produced_all = 1;
        weft_condition_notify_all(&b->c);
        weft_condition_release(&b->c);
        return;
    }
    weft_condition_acquire(&b->c, WEFT_FOREVER);
    for (;;) {
        assert_int_equal(
            weft_condition_wait_for(&b->c, has_items, b, WEFT_FOREVER), 0);
        if (b->items == 0)
            break;
        b->items--;
        b->taken++;
    }
    weft_condition_release(&b->c);
}

static void notify_hands_every_item_to_one_consumer(void **state)
{
    struct box b;
    memset(&b, 0, sizeof b);
    weft_condition_init(&b.c);
    testing_run_threads(4, box_member, &b);
    assert_int_equal(b.taken, 10000);
    assert_int_equal(b.items, 0);
}

struct sleepers {
    weft_condition_t c;
    int waiting, woken, go;
};

static void sleeper(void *arg, unsigned i)
{
    struct sleepers *s = arg;
    weft_condition_acquire(&s->c, WEFT_FOREVER);
    if (i == 0) {
        while (s->waiting < 5) {
            weft_condition_release(&s->c);
            weft_sleep(0.001);
            weft_condition_acquire(&s->c, WEFT_FOREVER);
        }
        weft_condition_notify(&s->c, 2);
        weft_condition_release(&s->c);
        weft_sleep(0.1);
        weft_condition_acquire(&s->c, WEFT_FOREVER);
        assert_int_equal(s->woken, 2); /* notify(2) woke exactly two */
        weft_condition_notify_all(&s->c);
        weft_condition_release(&s->c);
        return;
    }
    s->waiting++;
    assert_int_equal(weft_condition_wait(&s->c, WEFT_FOREVER), 0);
    s->woken++;
    weft_condition_release(&s->c);
}

static void notify_n_wakes_n_and_notify_all_the_rest(void **state)
{
    struct sleepers s;
    memset(&s, 0, sizeof s);
    weft_condition_init(&s.c);
    testing_run_threads(6, sleeper, &s);
    assert_int_equal(s.woken, 5);
}

static int never(void *arg)
{
    (void)arg;
    return 0;
}

static void wait_for_times_out_when_the_predicate_stays_false(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    weft_condition_acquire(&c, WEFT_FOREVER);
    double t0 = weft_monotonic();
    assert_fails_with(weft_condition_wait_for(&c, never, NULL, 0.2),
                      WEFT_ETIMEDOUT, "predicate");
    assert_elapsed_between(weft_monotonic() - t0, 0.2, 1.0);
    assert_fails_with(weft_condition_wait_for(&c, NULL, NULL, 0.2),
                      WEFT_EINVAL, "predicate");
    assert_true(weft_rlock_is_owned(&c.rlock_));
    weft_condition_release(&c);
}

static const double bad_timeouts[] = {-2.0, -0.5, -1e300, -INFINITY, NAN};
#define N_BAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

static int always(void *arg)
{
    return 1;
}

/* Refused before the predicate runs, though it holds at once, and before a
 * wait would release the lock; the lock stays held, at its count. */
static void a_bad_timeout_is_refused_before_anything_happens(void **state)
{
    weft_condition_t c;
    weft_condition_init(&c);
    for (size_t i = 0; i < N_BAD; i++)
        assert_fails_with(weft_condition_acquire(&c, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
    assert_int_equal(weft_condition_acquire(&c, 0), 0);
    assert_int_equal(weft_condition_acquire(&c, 0), 0);
    for (size_t i = 0; i < N_BAD; i++) {
        assert_fails_with(weft_condition_acquire(&c, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_fails_with(weft_condition_wait(&c, bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_fails_with(weft_condition_wait_for(&c, always, NULL,
                                                  bad_timeouts[i]),
                          WEFT_EINVAL, "timeout");
        assert_int_equal(weft_rlock_count(&c.rlock_), 2);
    }
    weft_condition_release(&c);
    weft_condition_release(&c);
    assert_false(weft_lock_locked(&c.rlock_.lock_));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waiting_or_notifying_without_the_lock_is_an_error),
        cmocka_unit_test(wait_times_out_and_still_holds_the_lock),
        cmocka_unit_test(notify_hands_every_item_to_one_consumer),
        cmocka_unit_test(notify_n_wakes_n_and_notify_all_the_rest),
        cmocka_unit_test(wait_for_times_out_when_the_predicate_stays_false),
        cmocka_unit_test(a_bad_timeout_is_refused_before_anything_happens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
