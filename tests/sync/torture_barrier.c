/* Barrier torture: PARTIES threads pass a barrier of PARTIES parties again
 * and again, with random short timeouts and cancels that break it, an
 * action that now and then fails, and a controller that aborts and resets
 * it at random moments (and resets it whenever it finds it broken).
 *
 * Accounting: the action numbers the generations. A thread that passes
 * notes its generation and index: within a generation the indices must
 * all differ and lie below PARTIES. Every break is counted before it is
 * made (aborts, resets, failing actions; a timeout or cancel needs a reset
 * before the next generation, which is counted), so a generation with no
 * break between its action and the next generation's action must have
 * released all PARTIES threads with 0: none lost to a missed wake-up. A
 * wait with the long timeout must never time out: with every party
 * looping, only a lost wake-up would keep one waiting that long. */
#include "torture.h"

#define PARTIES 4
#define GENS 1024 /* generations remembered at once */
#define LONG_WAIT 10.0

struct barrier_torture {
    weft_barrier_t b;
    _Atomic long gen;    /* the last generation whose action ran */
    _Atomic long breaks; /* breaks made so far */
    _Atomic long breaks_at[GENS];
    _Atomic unsigned indices[GENS];
    _Atomic int passed[GENS];
    _Atomic long passes, broken, timeouts, cancels, action_failures;
    _Atomic long quiet_checked;
    struct cancellable scopes[PARTIES];
    _Atomic int stop;
    double end;
    testing_rng_t action_rng; /* used by the action, one at a time */
    struct verdict v;
};

static int action(void *arg)
{
    struct barrier_torture *t = arg;
    long g = atomic_load(&t->gen) + 1;
    long breaks = atomic_load(&t->breaks);
    long prev = g - 1;
    /* All parties of the previous generation have left it, or this one
     * could not have filled: its count is final. */
    if (prev > 0 && atomic_load(&t->breaks_at[prev % GENS]) == breaks) {
        atomic_fetch_add(&t->quiet_checked, 1);
        if (atomic_load(&t->passed[prev % GENS]) != PARTIES)
            note_failure(&t->v,
                         "generation %ld had no break but released %d of "
                         "%d",
                         prev, atomic_load(&t->passed[prev % GENS]), PARTIES);
    }
    atomic_store(&t->breaks_at[g % GENS], breaks);
    atomic_store(&t->indices[g % GENS], 0);
    atomic_store(&t->passed[g % GENS], 0);
    atomic_store(&t->gen, g);
    if (testing_rng_below(&t->action_rng, 64) == 0) {
        atomic_fetch_add(&t->breaks, 1);
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
    if (was & (1u << index)) {
        note_failure(&t->v, "index %u twice in generation %ld", index, g);
        return;
    }
    atomic_fetch_add(&t->passed[g % GENS], 1);
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

static void party(struct barrier_torture *t, unsigned i, testing_rng_t *rng)
{
    while (!atomic_load(&t->stop) && !failed(&t->v)) {
        int shortly = testing_rng_below(rng, 16) == 0;
        int scoped = testing_rng_below(rng, 16) == 0;
        double timeout = shortly ? testing_rng_below(rng, 2000) * 1e-6
                                 : LONG_WAIT * testing_scale();
        if (scoped)
            scope_open(&t->scopes[i]);
        unsigned index = PARTIES;
        int rc = weft_barrier_wait_timeout(&t->b, timeout, &index);
        if (scoped)
            scope_close(&t->scopes[i]);
        if (rc == 0) {
            passed(t, index);
            if (weft_monotonic() >= t->end)
                break;
            continue;
        }
        if (rc == WEFT_EBROKEN && strstr(weft_last_message(), "timed out")) {
            atomic_fetch_add(&t->timeouts, 1);
            atomic_fetch_add(&t->breaks, 1);
            if (!shortly) {
                note_failure(&t->v, "a long wait timed out");
                return;
            }
        } else if (rc == WEFT_ECANCELLED && scoped) {
            atomic_fetch_add(&t->cancels, 1);
            atomic_fetch_add(&t->breaks, 1);
        } else if (rc == WEFT_EBROKEN || rc == WEFT_EUSER) {
            atomic_fetch_add(&t->broken, 1);
        } else {
            {
                note_failure(&t->v, "barrier wait returned %d", rc);
                return;
            }
        }
        if (weft_monotonic() >= t->end)
            break;
        await_reset(t);
    }
}

static void controller(struct barrier_torture *t, testing_rng_t *rng)
{
    while (!atomic_load(&t->stop) && !failed(&t->v)) {
        weft_sleep(testing_rng_below(rng, 2000) * 1e-6);
        scope_cancel(&t->scopes[testing_rng_below(rng, PARTIES)]);
        unsigned what = (unsigned)testing_rng_below(rng, 16);
        if (what == 0 || weft_barrier_broken(&t->b)) {
            atomic_fetch_add(&t->breaks, 1);
            weft_barrier_reset(&t->b);
        } else if (what == 1) {
            atomic_fetch_add(&t->breaks, 1);
            weft_barrier_abort(&t->b);
        }
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
        atomic_fetch_add(&t->breaks, 1);
        weft_barrier_abort(&t->b);
    }
}

static void generations_release_every_party_once(void **state)
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
            "%ld generations (%ld checked whole), %ld passes, %ld broken "
            "waits, %ld timeouts, %ld cancels, %ld failed actions\n",
            atomic_load(&t.gen), atomic_load(&t.quiet_checked),
            atomic_load(&t.passes), atomic_load(&t.broken),
            atomic_load(&t.timeouts), atomic_load(&t.cancels),
            atomic_load(&t.action_failures));
    check_verdict(&t.v);
    assert_true(atomic_load(&t.quiet_checked) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generations_release_every_party_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
