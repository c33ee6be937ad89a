/* SPDX-License-Identifier: MIT */
/* cpu_count() and process_cpu_count(). */
#include "process_int.h"

#include <sched.h>
#include <unistd.h>

unsigned weft_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

unsigned weft_process_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return weft_cpu_count();
    int n = CPU_COUNT(&set);
    return n > 0 ? (unsigned)n : 1;
}
