/* SPDX-License-Identifier: MIT */
#include "weft/manager.h"

#include <cstring>

#include "check.h"

int main()
{
    weft_manager_t *m;
    CHECK(weft_manager_start(&m, NULL, NULL, 0) == 0);
    weft_dict_proxy_t *d;
    CHECK(weft_manager_dict(m, &d) == 0);
    CHECK(weft_dict_proxy_set(d, "k", 1, "v1", 2) == 0);
    weft_bytes_t value;
    CHECK(weft_dict_proxy_get(d, "k", 1, &value) == 0);
    CHECK(value.len == 2 && std::memcmp(value.data, "v1", 2) == 0);
    weft_bytes_free(&value);
    size_t len = 0;
    CHECK(weft_dict_proxy_len(d, &len) == 0 && len == 1);
    weft_dict_proxy_free(d);
    CHECK(weft_manager_shutdown(m) == 0);
    weft_manager_free(m);
    return 0;
}
