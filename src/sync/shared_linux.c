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
 * A process id can be reused once its process is reaped (within a few
 * thousand process creations where pid_max is small, as in containers). So
 * a holder also records its incarnation: its id and its start time (field
 * 22 of /proc/<id>/stat, which no two processes of one id share). A
 * process found at the holder's id with another start time is a newcomer:
 * the holder has ended.
 */
#include "sync_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic uint32_t cached_pid;
static _Atomic uint64_t cached_tag;

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
    atomic_store_explicit(&cached_tag, 0, memory_order_relaxed);
}

/* The start time of process pid, in clock ticks since boot; 0 if unknown.
 * The command name in field 2 may hold spaces and parentheses: the fields
 * are counted from the last ')'. */
static uint64_t start_time(uint32_t pid)
{
    char path[32], buf[1024];
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

#define TAG_TIME_MASK ((UINT64_C(1) << 40) - 1)

static uint64_t tag_of(uint32_t pid, uint64_t start)
{
    return ((uint64_t)pid << 40) | (start & TAG_TIME_MASK);
}

uint64_t weft__sync_incarnation(void)
{
    uint64_t tag = atomic_load_explicit(&cached_tag, memory_order_relaxed);
    if (tag == 0) {
        uint32_t pid = weft__sync_pid();
        tag = tag_of(pid, start_time(pid));
        atomic_store_explicit(&cached_tag, tag, memory_order_relaxed);
    }
    return tag;
}

int weft__sync_holder_gone(uint32_t pid, uint64_t tag)
{
    if (weft__sync_pid_gone(pid))
        return 1;
    /* Alive at that id: the holder itself, unless its recorded
     * incarnation says otherwise. A tag of another id was left by an
     * earlier holder: this one has not recorded its own yet (it is a few
     * instructions past taking the lock), so nothing can be said. */
    if ((tag >> 40) != pid || (tag & TAG_TIME_MASK) == 0)
        return 0;
    uint64_t now = start_time(pid);
    return now != 0 && tag_of(pid, now) != tag;
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
