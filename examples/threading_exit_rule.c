/* SPDX-License-Identifier: MIT */
/* Python's exit rule: returning from main does not cut short a thread that
 * is not a daemon. weft joins every such thread as the process exits, as
 * Python's interpreter does, so the worker's last lines come after main's.
 * Python:
 *
 *     def worker():
 *         main_done.wait()
 *         time.sleep(0.2)
 *         print("... done")
 *
 *     threading.Thread(target=worker).start()
 *     print("Main: returning")
 *     main_done.set()
 *     # the interpreter joins the worker before it exits
 */
#include <stdio.h>

#include <weft.h>

static weft_event_t main_done;

int worker(void *arg, void **result)
{
    const char *me = weft_thread_name(weft_current_thread());
    weft_event_wait(&main_done, WEFT_FOREVER);
    printf("%s: still working after main returned\n", me);
    weft_sleep(0.2); /* the rest of the work */
    printf("%s: done; now the process may exit\n", me);
    return 0;
}

int main(void)
{
    weft_event_init(&main_done);
    weft_thread_t *t;
    if (weft_thread_new(&t, worker, NULL, NULL) != 0 ||
        weft_thread_start(t) != 0)
        return 1;
    printf("Main: started %s (daemon: %s), returning from main\n",
           weft_thread_name(t), weft_thread_daemon(t) ? "True" : "False");
    weft_thread_free(t);
    weft_event_set(&main_done);
    return 0;
}
