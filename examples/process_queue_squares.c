/* SPDX-License-Identifier: MIT */
/* Squares through a process Queue. Python:
 *
 *     def square(x, output_queue):
 *         output_queue.put(x * x)
 *
 *     input_data = [1, 2, 3, 4, 5]
 *     output_queue = multiprocessing.Queue()
 *     processes = [multiprocessing.Process(target=square,
 *                                          args=(i, output_queue))
 *                  for i in input_data]
 *     ...start, join...
 *     while not output_queue.empty():
 *         print(f"Squared value: {output_queue.get()}")
 *
 * In Python that last loop can miss values: put() hands the item to a
 * feeder thread, and empty() may be true before it has written it. weft's
 * put() has copied the item into the queue before it returns, so once the
 * children are joined every square is there. The order is the children's.
 */
#include <stdio.h>
#include <string.h>

#include <weft.h>

/* The argument: the queue's share, then x. */
struct square_arg {
    weft_share_t queue;
    int x;
};

int square(const weft_bytes_t *arg)
{
    struct square_arg a;
    memcpy(&a, arg->data, sizeof a);
    weft_proc_queue_t *output_queue;
    if (weft_proc_queue_from_share(&output_queue, &a.queue) != 0)
        return 1;
    int result = a.x * a.x;
    int rc =
        weft_proc_queue_put(output_queue, &result, sizeof result, WEFT_FOREVER);
    weft_proc_queue_free(output_queue);
    return rc;
}

int main(void)
{
    int input_data[] = {1, 2, 3, 4, 5};
    weft_proc_queue_t *output_queue;
    if (weft_proc_queue_new(&output_queue, 0) != 0)
        return 1;
    weft_process_t *processes[5];
    for (int i = 0; i < 5; i++) {
        struct square_arg a = {.x = input_data[i]};
        weft_proc_queue_share(output_queue, &a.queue);
        if (weft_process_new(&processes[i], square, &a, sizeof a, NULL) != 0 ||
            weft_process_pass(processes[i], &a.queue) != 0 ||
            weft_process_start(processes[i]) != 0)
            return 1;
    }
    for (int i = 0; i < 5; i++) {
        weft_process_join(processes[i], WEFT_FOREVER);
        weft_process_free(processes[i]);
    }
    while (!weft_proc_queue_empty(output_queue)) {
        weft_bytes_t item;
        int value;
        if (weft_proc_queue_get(output_queue, &item, 0) != 0)
            return 1;
        memcpy(&value, item.data, sizeof value);
        printf("Squared value: %d\n", value);
        weft_bytes_free(&item);
    }
    weft_proc_queue_free(output_queue);
    return 0;
}
