/* SPDX-License-Identifier: MIT */
#include "weft/net.h"

#include "check.h"

int main()
{
    weft_loop_t *loop;
    CHECK(weft_loop_new(&loop) == 0);
    weft_server_t *srv;
    CHECK(weft_start_server(&srv, loop, "127.0.0.1", 0,
                            [](weft_stream_t *s, void *) -> int {
                                return weft_stream_write(s, "hi", 2);
                            }, NULL) == 0);
    CHECK(weft_server_port(srv) > 0);
    weft_server_free(srv);
    weft_loop_free(loop);
    return 0;
}
