/* SPDX-License-Identifier: MIT */
#include "weft/park.h"

#include "check.h"

namespace {

/* A waiter kind written in C++: it never sleeps, it looks at its state. */
void spin_wait(weft_waiter_t *w, int64_t) { (void)weft_waiter_state(w); }
void spin_wake(weft_waiter_t *w, uint32_t bits) { weft_waiter_set_state(w, bits); }
const weft_waiter_ops_t spin_ops = {spin_wait, spin_wake, NULL, NULL};

} // namespace

int main()
{
    weft_cancel_scope_t scope;
    weft_cancel_scope_init(&scope);
    CHECK(weft_cancel_scope_enter(&scope, WEFT_FOREVER, 0) == 0);
    weft_cancel_scope_cancel(&scope);
    CHECK(weft_cancelled() == WEFT_ECANCELLED);
    CHECK(weft_sleep(10.0) == WEFT_ECANCELLED);
    CHECK(weft_cancel_scope_exit(&scope) == WEFT_ECANCELLED);

    uint32_t word = 1; /* changed by no one: the wait times out */
    int64_t deadline;
    CHECK(weft_deadline(0.01, &deadline) == 0);
    CHECK(weft_park_wait(&word, 1, deadline) == WEFT_ETIMEDOUT);

    weft_waiter_t w;
    weft_waiter_init(&w, &spin_ops, NULL);
    CHECK(w.ops == &spin_ops && weft_waiter_state(&w) == 0);
    spin_wake(&w, WEFT_WAITER_POKED);
    CHECK(weft_waiter_state(&w) == WEFT_WAITER_POKED);
    return 0;
}
