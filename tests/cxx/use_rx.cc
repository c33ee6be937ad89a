/* SPDX-License-Identifier: MIT */
#include "weft/rx.h"

#include <stdint.h>

#include "check.h"

int main()
{
    weft_rx_observable_t *range, *squares;
    CHECK(weft_rx_range(&range, 1, 4) == 0);
    /* map takes range: freeing squares frees both. */
    CHECK(weft_rx_map(&squares, range, [](void *, void *value, void **out) -> int {
              intptr_t i = reinterpret_cast<intptr_t>(value);
              *out = reinterpret_cast<void *>(i * i);
              return 0;
          }, NULL) == 0);
    weft_future_t *f;
    CHECK(weft_rx_to_future(squares, WEFT_RX_LIST, &f) == 0);
    void *result = NULL;
    CHECK(weft_future_result(f, WEFT_FOREVER, &result) == 0);
    weft_rx_list_t *list = static_cast<weft_rx_list_t *>(result);
    CHECK(list->n == 4);
    CHECK(reinterpret_cast<intptr_t>(list->items[3]) == 16);
    weft_rx_list_free(list);
    weft_future_free(f);
    weft_rx_observable_free(squares);
    return 0;
}
