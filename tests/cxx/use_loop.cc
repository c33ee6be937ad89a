/* SPDX-License-Identifier: MIT */
#include "weft/loop.h"

#include "check.h"

namespace {
struct state {
    weft_loop_t *loop;
    int calls;
};
} // namespace

int main()
{
    state s = {NULL, 0};
    CHECK(weft_loop_new(&s.loop) == 0);
    CHECK(weft_loop_call_soon(s.loop, [](void *arg) -> int {
              state *st = static_cast<state *>(arg);
              st->calls++;
              weft_loop_stop(st->loop);
              return 0;
          }, &s, NULL) == 0);
    CHECK(weft_loop_run_forever(s.loop) == 0);
    CHECK(s.calls == 1 && !weft_loop_is_running(s.loop));
    weft_loop_free(s.loop);
    return 0;
}
