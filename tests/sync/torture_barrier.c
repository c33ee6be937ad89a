/* SPDX-License-Identifier: MIT */
/* Barrier torture: PARTIES threads pass a barrier of PARTIES parties again
 * and again, with random short timeouts and cancels that break it, an
 * action that now and then fails, and a controller that aborts and resets
 * it at random moments (and resets it whenever it finds it broken).
 *
 * Accounting: the action numbers the generations. A thread that passes
 * notes its generation and index: within a generation the indices must
 * all differ and lie below PARTIES.
 *
 * Which event justified a wait's WEFT_EBROKEN: everything that may break
 * the barrier is counted as it begins and as it ends (the controller's
 * aborts and resets, waits with a short timeout or in a cancellable scope,
 * which break it when they end early, and failing actions, begun in the
 * action and ended when its thread's wait has returned). A wait that
 * began with no such thing under way and the barrier whole, and during
 * which none began, had nothing to break it: it must return 0. So a broken
 * generation or a lost release shows at once. A lost wake-up in the middle
 * of the breaks would be rescued by the next one, so the controller
 * alternates storms with calms, in which nothing but the long waits happen
 * (it only mends a barrier left broken): a calm must see generations pass,
 * and a wait with the long timeout must never time out. */
#include "torture.h"

#define PARTIES 4
#define GENS 1024 /* generations remembered at once */
#define LONG_WAIT 10.0

struct barrier_torture {
    weft_barrier_t b;
    _Atomic long gen; /* the last generation whose action ran */
    _Atomic long breaks_begun, breaks_ended;
    _Atomic unsigned indices[GENS];
    _Atomic long passes, broken, timeouts, cancels, action_failures;
    _Atomic long checked; /* waits that nothing could break */
    struct cancellable scopes[PARTIES];
    _Atomic int stop, calm;
    double end;
    testing_rng_t action_rng; /* used by the action, one at a time */
    struct verdict v;
};

static void break_begins(struct barrier_torture *t)
{
    atomic_fetch_add(&t->breaks_begun, 1);
}

static void break_ends(struct barrier_torture *t)
{
    atomic_fetch_add(&t->breaks_ended, 1);
}

static int action(void *arg)
{
    struct barrier_torture *t = arg;
    long g = atomic_load(&t->gen) + 1;
    atomic_store(&t->indices[g % GENS], 0);
    atomic_store(&t->gen, g);
    if (testing_rng_below(&t->action_rng, 64) == 0) {
        break_begins(t); /* ended by this thread once its wait returns */
        atomic_fetch_add(&t->action_failures, 1);
        return WEFT_EUSER;
    }
    return 0;
}

static void passed(struct barrier_torture *t, unsigned index)
{
    long g = atomic_load(&t->gen);
    if (index >= PARTIES) {
        note_failure(&t->v, "index %u of %d parties", index, PARTIES);
        return;
    }
    unsigned was = atomic_fetch_or(&t->indices[g % GENS], 1u << index);
    if (was & (1u << index))
        note_failure(&t->v, "index %u twice in generation %ld", index, g);
    atomic_fetch_add(&t->passes, 1);
}

/* After a failed wait, wait for the barrier to be whole again. */
static void await_reset(struct barrier_torture *t)
{
    double until = weft_monotonic() + LONG_WAIT * testing_scale();
    while (weft_barrier_broken(&t->b) && !atomic_load(&t->stop)) {
        if (weft_monotonic() > until) {
            note_failure(&t->v, "the barrier stayed broken");
            return;
        }
        weft_sleep(0.0002);
    }
}

/* What a failed wait says, checked against what could have caused it. */
static void failed_wait(struct barrier_torture *t, int rc, int shortly,
                        int scoped, int could_break)
{
    if (rc == WEFT_EBROKEN && strstr(weft_last_message(), "timed out")) {
        atomic_fetch_add(&t->timeouts, 1);
        if (!shortly && !atomic_load(&t->stop))
            note_failure(&t->v, "a long wait timed out");
        return;
    }
    if (rc == WEFT_ECANCELLED && scoped) {
        atomic_fetch_add(&t->cancels, 1);
        return;
    }
    if (rc != WEFT_EBROKEN && rc != WEFT_EUSER) {
        note_failure(&t->v, "barrier wait returned %d", rc);
        return;
    }
    atomic_fetch_add(&t->broken, 1);
    if (!could_break)
        note_failure(&t->v, "a wait broke with nothing about to break it");
}

static void party(struct barrier_torture *t, unsigned i, testing_rng_t *rng)
{
    while (!atomic_load(&t->stop) && !failed(&t->v)) {
        int calm = atomic_load(&t->calm);
        int shortly = !calm && testing_rng_below(rng, 16) == 0;
        int scoped = !calm && testing_rng_below(rng, 16) == 0;
        double timeout = shortly ? testing_rng_below(rng, 2000) * 1e-6
                                 : LONG_WAIT * testing_scale();
        if (shortly || scoped) /* it may break the barrier */
            break_begins(t);
        if (scoped)
            scope_open(&t->scopes[i]);
        long begun = atomic_load(&t->breaks_begun);
        int quiet = begun == atomic_load(&t->breaks_ended) &&
                    !weft_barrier_broken(&t->b);
        unsigned index = PARTIES;
        int rc = weft_barrier_wait_timeout(&t->b, timeout, &index);
        int could_break = !quiet || atomic_load(&t->breaks_begun) != begun;
        if (scoped)
            scope_close(&t->scopes[i]);
        if (shortly || scoped)
            break_ends(t);
        if (rc == WEFT_EUSER) /* its action failed, and broke the barrier */
            break_ends(t);
        if (!could_break)
            atomic_fetch_add(&t->checked, 1);
        if (rc == 0)
            passed(t, index);
        else
            failed_wait(t, rc, shortly, scoped, could_break);
        if (weft_monotonic() >= t->end)
            break;
        if (rc != 0)
            await_reset(t);
    }
}

static void mend(struct barrier_torture *t)
{
    break_begins(t);
    weft_barrier_reset(&t->b);
    break_ends(t);
}

/* Random aborts, resets and cancels for a while. */
static void storm(struct barrier_torture *t, testing_rng_t *rng)
{
    for (int k = 0; k < 10 && !atomic_load(&t->stop); k++) {
        weft_sleep(testing_rng_below(rng, 2000) * 1e-6);
        scope_cancel(&t->scopes[testing_rng_below(rng, PARTIES)]);
        unsigned what = (unsigned)testing_rng_below(rng, 16);
        if (what == 0 || weft_barrier_broken(&t->b)) {
            mend(t);
        } else if (what == 1) {
            break_begins(t);
            weft_barrier_abort(&t->b);
            break_ends(t);
        }
    }
}

/* Nothing but long waits until 20 generations have passed. */
static void calm(struct barrier_torture *t)
{
    atomic_store(&t->calm, 1);
    long from = atomic_load(&t->gen);
    double until = weft_monotonic() + LONG_WAIT * testing_scale();
    while (atomic_load(&t->gen) < from + 20 && !atomic_load(&t->stop) &&
           !failed(&t->v)) {
        if (weft_monotonic() > until) {
            note_failure(&t->v, "no generation passed in a calm: a lost "
                                "wake-up");
            break;
        }
        if (weft_barrier_broken(&t->b)) /* by a wait from the storm */
            mend(t);
        weft_sleep(0.0005);
    }
    atomic_store(&t->calm, 0);
}

static void controller(struct barrier_torture *t, testing_rng_t *rng)
{
    while (!atomic_load(&t->stop) && !failed(&t->v)) {
        storm(t, rng);
        calm(t);
    }
}

static void member(void *arg, unsigned i)
{
    struct barrier_torture *t = arg;
    testing_rng_t rng;
    testing_rng_init(&rng, i);
    if (i == PARTIES) {
        controller(t, &rng);
        return;
    }
    party(t, i, &rng);
    /* The first to finish stops the others: they may be waiting for it. */
    if (!atomic_exchange(&t->stop, 1)) {
        break_begins(t);
        weft_barrier_abort(&t->b);
        break_ends(t);
    }
}

static void every_broken_wait_has_its_break(void **state)
{
    static struct barrier_torture t;
    memset(&t, 0, sizeof t);
    testing_rng_init(&t.action_rng, 999);
    for (int i = 0; i < PARTIES; i++)
        pthread_mutex_init(&t.scopes[i].m, NULL);
    assert_int_equal(weft_barrier_init(&t.b, PARTIES, action, &t, WEFT_FOREVER),
                     0);
    t.end = weft_monotonic() + testing_torture_seconds();
    testing_run_threads(PARTIES + 1, member, &t);
    fprintf(stderr,
            "%ld generations, %ld passes (%ld waits nothing could break), "
            "%ld broken waits, %ld timeouts, %ld cancels, %ld failed "
            "actions\n",
            atomic_load(&t.gen), atomic_load(&t.passes),
            atomic_load(&t.checked), atomic_load(&t.broken),
            atomic_load(&t.timeouts), atomic_load(&t.cancels),
            atomic_load(&t.action_failures));
    check_verdict(&t.v);
    assert_true(atomic_load(&t.checked) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_broken_wait_has_its_break),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
