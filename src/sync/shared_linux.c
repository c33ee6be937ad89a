/* What the process-shared primitives need from Linux: the process id (cached,
 * since glibc no longer caches getpid()), whether another process has ended,
 * and futex wake-ups of a shared word.
 *
 * A process has ended when its pidfd polls readable: that holds for a zombie
 * too, which kill(pid, 0) would still call alive (a parent that SIGKILLs a
 * child holding a lock, and acquires it before joining the child, must see
 * the owner as dead). Where pidfd_open() is missing, kill(pid, 0) answers,
 * zombies counting as alive.
 *
 * A process id can be reused once its process is reaped. An owner that died
 * and whose id was handed to a new process before anyone noticed reads as
 * alive, and its lock as held: the waiter then waits as Python's would. It
 * takes some 4 million process creations in between on a default system.
 */
#include "sync_int.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic uint32_t cached_pid;

uint32_t weft__sync_pid(void)
{
    uint32_t pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
    if (pid == 0) {
        pid = (uint32_t)getpid();
        atomic_store_explicit(&cached_pid, pid, memory_order_relaxed);
    }
    return pid;
}

static void forget_pid_in_child(void)
{
    atomic_store_explicit(&cached_pid, 0, memory_order_relaxed);
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_pid_in_child);
}

int weft__sync_pid_gone(uint32_t pid)
{
    if (pid == 0 || pid > INT_MAX)
        return 0;
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (fd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        int ended = poll(&p, 1, 0) == 1;
        close(fd);
        return ended;
    }
    if (errno == ESRCH)
        return 1;
    return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

uint64_t weft__shared_context_id(void)
{
    return ((uint64_t)weft__sync_pid() << 32) |
           (weft_park_context_id() & 0xffffffffu);
}

void weft__wake_shared(const _Atomic uint32_t *word, uint64_t n)
{
    weft_park_wake_shared(word, n > INT_MAX ? INT_MAX : (int)n);
}
