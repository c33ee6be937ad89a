/* SPDX-License-Identifier: MIT */
/* asyncio.gather over tasks that sleep: they sleep at the same time, so
 * the whole takes as long as the longest, and the results come back in the
 * order the tasks were given, whatever order they finish in.
 *
 *     async def sleeper(name, delay):
 *         print(f"{name}: sleeping {delay} s")
 *         await asyncio.sleep(delay)
 *         print(f"{name}: awake")
 *         return delay
 *     results = await asyncio.gather(sleeper("A", .3), sleeper("B", .1),
 *                                    sleeper("C", .2))
 */
#include <stdio.h>

#include "weft.h"

struct sleeper {
    const char *name;
    double delay;
};

static int sleeper(void *arg, void **result)
{
    struct sleeper *s = arg;
    printf("%s: sleeping %.1f s\n", s->name, s->delay);
    int rc = weft_sleep(s->delay); /* suspends this task alone */
    printf("%s: awake\n", s->name);
    *result = s;
    return rc;
}

static int main_task(void *arg, void **result)
{
    struct sleeper s[3] = {{"A", 0.3}, {"B", 0.1}, {"C", 0.2}};
    weft_future_t *tasks[3];
    for (int i = 0; i < 3; i++)
        weft_task_create(&tasks[i], NULL, sleeper, &s[i]);
    double t0 = weft_monotonic();
    void *results[3];
    int rc = weft_gather(tasks, 3, 0, results, NULL);
    printf("results, in the order given:");
    for (int i = 0; i < 3; i++)
        printf(" %s=%.1f", ((struct sleeper *)results[i])->name,
               ((struct sleeper *)results[i])->delay);
    printf("\ntotal time: %.2f s (one after another: 0.6 s)\n",
           weft_monotonic() - t0);
    for (int i = 0; i < 3; i++)
        weft_future_free(tasks[i]);
    return rc;
}

int main(void)
{
    return weft_run(main_task, NULL, NULL) == 0 ? 0 : 1; /* asyncio.run */
}
