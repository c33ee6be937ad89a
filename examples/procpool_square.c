/* SPDX-License-Identifier: MIT */
/* multiprocessing: with Pool(4) as p: print(p.map(square, [1, 2, 3, 4, 5])),
 * on worker processes. */
#include <stdio.h>
#include <string.h>

#include "weft.h"

static int square(const weft_bytes_t *arg, weft_bytes_t *result)
{
    long x;
    memcpy(&x, arg->data, sizeof x);
    x *= x;
    return weft_bytes_copy(result, &x, sizeof x);
}

int main(void)
{
    weft_pool_t *p;
    if (weft_process_pool_pool_new(&p, 4, 0) != 0) { /* Pool(4) */
        fprintf(stderr, "Pool: %s\n", weft_last_message());
        return 1;
    }
    long xs[] = {1, 2, 3, 4, 5};
    weft_bytes_t args[5], results[5];
    for (int i = 0; i < 5; i++)
        args[i] = (weft_bytes_t){(unsigned char *)&xs[i], sizeof xs[i]};
    if (weft_pool_map_bytes(p, square, args, 5, 0, results, NULL) != 0) {
        fprintf(stderr, "map: %s\n", weft_last_message());
        return 1;
    }
    printf("[");
    for (int i = 0; i < 5; i++) {
        long r;
        memcpy(&r, results[i].data, sizeof r);
        printf("%s%ld", i ? ", " : "", r);
        weft_bytes_free(&results[i]);
    }
    printf("]\n");
    weft_pool_close(p);
    weft_pool_join(p, WEFT_FOREVER);
    weft_pool_free(p);
    return 0;
}
