/* SPDX-License-Identifier: MIT */
/* threading.Timer: one timer fires after its interval, another is cancelled
 * before it fires, and its function never runs. Python:
 *
 *     def hello(what):
 *         print(f"Hello from the {what} timer")
 *
 *     soon = threading.Timer(0.2, hello, args=("first",))
 *     late = threading.Timer(5.0, hello, args=("second",))
 *     soon.start(); late.start()
 *     late.cancel()
 *     soon.join(); late.join()
 */
#include <stdatomic.h>
#include <stdio.h>

#include <weft.h>

static _Atomic int calls;

int hello(void *arg, void **result)
{
    atomic_fetch_add(&calls, 1);
    printf("Hello from the %s timer (%s)\n", (const char *)arg,
           weft_thread_name(weft_current_thread()));
    return 0;
}

int main(void)
{
    weft_thread_t *soon, *late;
    if (weft_timer_new(&soon, 0.2, hello, "first", NULL) != 0 ||
        weft_timer_new(&late, 5.0, hello, "second", NULL) != 0)
        return 1;
    weft_thread_start(soon);
    weft_thread_start(late);
    printf("Started %s (0.2 s) and %s (5 s)\n", weft_thread_name(soon),
           weft_thread_name(late));
    weft_timer_cancel(late);
    printf("Cancelled %s\n", weft_thread_name(late));
    weft_thread_join(soon, WEFT_FOREVER);
    weft_thread_join(late, WEFT_FOREVER);
    printf("Both timers finished; hello ran %d time(s)\n", atomic_load(&calls));
    weft_thread_free(soon);
    weft_thread_free(late);
    return 0;
}
