/* SPDX-License-Identifier: MIT */
/* A Manager list appended to by three processes. Python:
 *
 *     def process_shared_list(shared_list):
 *         for i in range(5):
 *             shared_list.append(os.getpid())
 *
 *     with Manager() as manager:
 *         shared_list = manager.list()
 *         processes = [Process(target=process_shared_list,
 *                              args=(shared_list,)) for _ in range(3)]
 *         ...start, join...
 *         print(f"Shared list: {list(shared_list)}")   # 15 pids
 *
 * Items are bytes: here each is a pid's decimal digits. The children reach
 * the list through a proxy's share and connect to the manager themselves.
 */
#include <stdio.h>
#include <unistd.h>

#include <weft.h>

int process_shared_list(const weft_bytes_t *arg)
{
    weft_list_proxy_t *shared_list;
    if (weft_list_proxy_from_share(&shared_list, weft_arg_share(arg, 0)))
        return 1;
    for (int i = 0; i < 5; i++) {
        char pid[16];
        int len = snprintf(pid, sizeof pid, "%d", (int)getpid());
        if (weft_list_proxy_append(shared_list, pid, (size_t)len) != 0)
            return 1;
    }
    weft_list_proxy_free(shared_list);
    return 0;
}

int main(void)
{
    weft_manager_t *manager;
    weft_list_proxy_t *shared_list;
    if (weft_manager_start(&manager, NULL, NULL, 0) != 0 ||
        weft_manager_list(manager, &shared_list) != 0)
        return 1;
    weft_process_t *processes[3];
    for (int i = 0; i < 3; i++) {
        weft_share_t h;
        if (weft_list_proxy_share(shared_list, &h) != 0 ||
            weft_process_new(&processes[i], process_shared_list, &h, sizeof h,
                             NULL) != 0 ||
            weft_process_pass(processes[i], &h) != 0 ||
            weft_process_start(processes[i]) != 0)
            return 1;
        close(h.fds[0]); /* the share's descriptor: the child has its own */
    }
    for (int i = 0; i < 3; i++) {
        weft_process_join(processes[i], WEFT_FOREVER);
        weft_process_free(processes[i]);
    }
    weft_bytes_t *items;
    size_t n;
    if (weft_list_proxy_items(shared_list, &items, &n) != 0)
        return 1;
    printf("Shared list: [");
    for (size_t i = 0; i < n; i++)
        printf("%s%.*s", i ? ", " : "", (int)items[i].len,
               (const char *)items[i].data);
    printf("]\n");
    weft_bytes_list_free(items, n);
    weft_list_proxy_free(shared_list);
    weft_manager_free(manager); /* leaving "with Manager()" */
    return 0;
}
