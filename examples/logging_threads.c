/* SPDX-License-Identifier: MIT */
/* Logging with thread names: the seed's last threading example. Python:
 *
 *     logging.basicConfig(level=logging.DEBUG,
 *                         format='%(threadName)s: %(message)s')
 *
 *     def task():
 *         logging.debug('Running task')
 *
 *     t = threading.Thread(target=task)
 *     t.start()
 *     t.join()
 *
 * prints "Thread-1 (task): Running task" on stderr.
 */
#include <weft.h>

int task(void *arg, void **result)
{
    weft_log_debug("Running task");
    return 0;
}

int main(void)
{
    weft_log_config_t config = {.level = WEFT_LOG_DEBUG,
                                .format = "%(threadName)s: %(message)s"};
    if (weft_log_basic_config(&config) != 0)
        return 1;
    weft_thread_t *t;
    if (weft_thread_new(&t, task, NULL, NULL) != 0)
        return 1;
    weft_thread_start(t);
    weft_thread_join(t, WEFT_FOREVER);
    weft_thread_free(t);
    return 0;
}
