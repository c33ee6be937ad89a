/* SPDX-License-Identifier: MIT */
/* A daemon thread does not hold up exit: the seed's background printer.
 * Python:
 *
 *     def background():
 *         while True:
 *             print("Running in background...")
 *             time.sleep(1)
 *
 *     daemon_thread = threading.Thread(target=background)
 *     daemon_thread.daemon = True
 *     daemon_thread.start()
 *     time.sleep(3)
 *     print("Main program exits")
 *
 * Both print under one lock, which main keeps once it has said it exits:
 * so "Main program exits" is the last line, however the two are scheduled,
 * and the daemon, stopped at the lock, goes down with the process.
 */
#include <stdio.h>

#include <weft.h>

static weft_lock_t print_lock = WEFT_LOCK_INIT;

int background(void *arg, void **result)
{
    for (;;) {
        weft_lock_acquire(&print_lock, WEFT_FOREVER);
        printf("Running in background...\n");
        weft_lock_release(&print_lock);
        weft_sleep(0.1); /* the seed sleeps 1 s */
    }
}

int main(void)
{
    weft_thread_t *daemon_thread;
    if (weft_thread_new(&daemon_thread, background, NULL, NULL) != 0)
        return 1;
    weft_thread_set_daemon(daemon_thread, 1);
    weft_thread_start(daemon_thread);
    weft_thread_free(daemon_thread);
    weft_sleep(0.35); /* the seed sleeps 3 s */
    weft_lock_acquire(&print_lock, WEFT_FOREVER);
    printf("Main program exits\n");
    return 0;
}
