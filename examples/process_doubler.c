/* SPDX-License-Identifier: MIT */
/* The doubler over five processes, each saying its name: the seed's first
 * multiprocessing example. Python:
 *
 *     def doubler(nr):
 *         x = 0
 *         for i in range(1000000):       # mock time-consuming processing
 *             x += random.randint(1, 10)
 *         result = nr * 2
 *         proc_name = current_process().name
 *         print('{} doubled to {} by {}'.format(nr, result, proc_name))
 *
 *     numbers = [5, 10, 15, 20, 25]
 *     procs = [Process(target=doubler, args=(n,)) for n in numbers]
 *     for proc in procs: proc.start()
 *     for proc in procs: proc.join()
 *     ...then the same five calls in the main process, one after another.
 *
 * A process's argument is bytes: here the number's own bytes. The children
 * are Process-1 to Process-5; the serial calls run in MainProcess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft.h>

int doubler(const weft_bytes_t *arg)
{
    int nr;
    memcpy(&nr, arg->data, sizeof nr);
    unsigned seed = (unsigned)nr;
    long x = 0;
    for (int i = 0; i < 1000000; i++) /* mock time-consuming processing */
        x += 1 + rand_r(&seed) % 10;
    printf("%d doubled to %d by %s\n", nr, nr * 2,
           weft_process_name(weft_current_process()));
    fflush(stdout);
    return x > 0 ? 0 : 1;
}

int main(void)
{
    int numbers[] = {5, 10, 15, 20, 25};
    weft_process_t *procs[5];
    double t0 = weft_monotonic();
    for (int i = 0; i < 5; i++)
        if (weft_process_new(&procs[i], doubler, &numbers[i], sizeof numbers[i],
                             NULL) != 0 ||
            weft_process_start(procs[i]) != 0)
            return 1;
    for (int i = 0; i < 5; i++) {
        weft_process_join(procs[i], WEFT_FOREVER);
        weft_process_free(procs[i]);
    }
    printf("Total execution time (parallel): %.10f\n", weft_monotonic() - t0);
    t0 = weft_monotonic();
    for (int i = 0; i < 5; i++) {
        weft_bytes_t arg = {(unsigned char *)&numbers[i], sizeof numbers[i]};
        doubler(&arg);
    }
    printf("Total execution time (serial): %.10f\n", weft_monotonic() - t0);
    return 0;
}
