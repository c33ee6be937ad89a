/* SPDX-License-Identifier: MIT */
/* Two threads, one printing numbers and one letters, then both joined: the
 * seed's "Creating Threads" example. Python:
 *
 *     thread1 = threading.Thread(target=print_numbers)
 *     thread2 = threading.Thread(target=print_letters)
 *     thread1.start(); thread2.start()
 *     thread1.join(); thread2.join()
 *     print("All threads are done.")
 */
#include <stdio.h>

#include <weft.h>

int print_numbers(void *arg, void **result)
{
    for (int i = 1; i < 6; i++)
        printf("Number: %d\n", i);
    return 0;
}

int print_letters(void *arg, void **result)
{
    for (const char *letter = "abcde"; *letter; letter++)
        printf("Letter: %c\n", *letter);
    return 0;
}

int main(void)
{
    weft_thread_t *thread1, *thread2;
    if (weft_thread_new(&thread1, print_numbers, NULL, NULL) != 0 ||
        weft_thread_new(&thread2, print_letters, NULL, NULL) != 0)
        return 1;
    weft_thread_start(thread1);
    weft_thread_start(thread2);
    weft_thread_join(thread1, WEFT_FOREVER);
    weft_thread_join(thread2, WEFT_FOREVER);
    printf("All threads are done.\n");
    weft_thread_free(thread1);
    weft_thread_free(thread2);
    return 0;
}
