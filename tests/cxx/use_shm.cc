/* SPDX-License-Identifier: MIT */
#include "weft/shm.h"

#include "check.h"

int main()
{
    weft_value_t *v;
    CHECK(weft_value_new(&v, 'i', 1) == 0);
    weft_rlock_t *lock = weft_value_get_lock(v);
    CHECK(lock != NULL);
    CHECK(weft_rlock_acquire(lock, WEFT_FOREVER) == 0);
    *static_cast<int *>(weft_value_ptr(v)) += 3;
    CHECK(weft_rlock_release(lock) == 0);
    CHECK(*static_cast<int *>(weft_value_ptr(v)) == 3);
    CHECK(weft_value_typecode(v) == 'i');
    weft_value_free(v);
    return 0;
}
