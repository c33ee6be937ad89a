/* SPDX-License-Identifier: MIT */
#include "weft/ipc.h"

#include <cstring>

#include "check.h"

int main()
{
    weft_connection_t *a, *b;
    CHECK(weft_pipe(&a, &b, 1) == 0);
    CHECK(weft_connection_send_bytes(b, "hello", 5) == 0);
    weft_bytes_t got;
    CHECK(weft_connection_recv_bytes(a, &got) == 0);
    CHECK(got.len == 5 && std::memcmp(got.data, "hello", 5) == 0);
    weft_bytes_free(&got);
    weft_connection_free(a);
    weft_connection_free(b);
    return 0;
}
