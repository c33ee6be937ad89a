/* SPDX-License-Identifier: MIT */
#include "weft/process.h"

#include <cstring>

#include "check.h"

int main()
{
    weft_context_t *ctx;
    CHECK(weft_get_context(&ctx, "fork") == 0);
    weft_process_t *p;
    int status = 7;
    CHECK(weft_context_process_new(ctx, &p, [](const weft_bytes_t *arg) -> int {
              int code;
              std::memcpy(&code, arg->data, sizeof code);
              return code;
          }, &status, sizeof status, NULL) == 0);
    CHECK(weft_process_start(p) == 0);
    CHECK(weft_process_join(p, WEFT_FOREVER) == 0);
    int code = -1;
    CHECK(weft_process_exitcode(p, &code) == 0 && code == 7);
    weft_process_free(p);
    CHECK(weft_cpu_count() >= 1);
    return 0;
}
