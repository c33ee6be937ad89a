/* SPDX-License-Identifier: MIT */
/* What the process-shared primitives need from Linux: the process id
 * (cached, since glibc no longer caches getpid()), who this process is in a
 * way no other process ever is, whether a recorded holder has ended, and
 * futex wake-ups of a shared word.
 *
 * Who a holder is. A process id names a process only while it lives: once
 * the process is reaped, the kernel hands the id to the next process that
 * asks (at once, where pid_max is small or ns_last_pid is steered). So a
 * holder is recorded as its id together with a discriminator that differs
 * between any two processes that ever have that id, and that any other
 * process can read back from the live process at that id:
 *
 *   - where the kernel has pidfs (Linux 6.9 and later), the inode number of
 *     the process's pidfd: one 64-bit counter numbers every process the
 *     kernel makes, so two processes never share one (41 of its bits are
 *     kept: they would repeat only after 2^41 processes);
 *   - elsewhere, the process's start time in clock ticks (field 22 of
 *     /proc/<id>/stat), which tells two processes apart unless both
 *     started within one tick (10 ms): a holder that started, died and had
 *     its id taken within one tick of its start is then taken for alive,
 *     and its lock waits for the newcomer to end instead of being taken
 *     over. Never the other way round: a live holder is never taken for
 *     dead.
 *
 * The record: id << 42 | discriminator (bit 41 says which kind, 0 bits
 * none known). lock_shared.c says how a lock keeps it so that a record
 * that names the holder's id is the holder's own.
 *
 * A process has ended when its pidfd polls readable: that holds for a
 * zombie too, which kill(pid, 0) would still call alive (a parent that
 * SIGKILLs a child holding a lock, and acquires it before joining the
 * child, must see the owner as dead). Where pidfd_open() is missing,
 * kill(pid, 0) answers, zombies counting as alive.
 *
 * An RLock shared between processes must also know which context of which
 * process owns it; the context ids (thread ids) repeat across processes as
 * process ids do. A 64-bit random number drawn once per process (again in a
 * child after fork()) tells processes apart there: see
 * weft__shared_context_id().
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
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PIDFS_MAGIC 0x50494446u /* "PIDF": pidfd inodes live in pidfs */
#define RECORD_ID_SHIFT 42
#define RECORD_PIDFS (UINT64_C(1) << 41)
#define RECORD_VALUE_MASK (RECORD_PIDFS - 1)

static _Atomic uint32_t cached_pid;
static _Atomic uint64_t cached_record;
static _Atomic uint64_t cached_nonce;

uint32_t weft__sync_pid(void)
{
    uint32_t pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);
    if (pid == 0) {
        pid = (uint32_t)getpid();
        atomic_store_explicit(&cached_pid, pid, memory_order_relaxed);
    }
    return pid;
}

/* A child is another process: its id, record and nonce are its own. */
static void forget_identity_in_child(void)
{
    atomic_store_explicit(&cached_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&cached_record, 0, memory_order_relaxed);
    atomic_store_explicit(&cached_nonce, 0, memory_order_relaxed);
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_identity_in_child);
}

static int open_pidfd(uint32_t pid)
{
    return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
}

/* The pidfs discriminator of the process behind pidfd fd; 0 when the
 * kernel has no pidfs (pidfds then share one anonymous inode). */
static uint64_t pidfs_value(int fd)
{
    struct statfs sfs;
    struct stat st;
    if (fstatfs(fd, &sfs) != 0 || (uint32_t)sfs.f_type != PIDFS_MAGIC ||
        fstat(fd, &st) != 0)
        return 0;
    return RECORD_PIDFS | ((uint64_t)st.st_ino & RECORD_VALUE_MASK);
}

/* The start time of process pid, in clock ticks since boot; 0 if unknown.
 * The command name in field 2 may hold spaces and parentheses: the fields
 * are counted from the last ')'. */
static uint64_t start_ticks(uint32_t pid)
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
    return p ? strtoull(p + 1, NULL, 10) & RECORD_VALUE_MASK : 0;
}

uint64_t weft__sync_record_pid(uint64_t record)
{
    return record >> RECORD_ID_SHIFT;
}

uint64_t weft__sync_record(void)
{
    uint64_t r = atomic_load_explicit(&cached_record, memory_order_relaxed);
    if (r != 0)
        return r;
    uint32_t pid = weft__sync_pid();
    uint64_t value = 0;
    int fd = open_pidfd(pid);
    if (fd >= 0) {
        value = pidfs_value(fd);
        close(fd);
    }
    if (value == 0)
        value = start_ticks(pid);
    r = ((uint64_t)pid << RECORD_ID_SHIFT) | value;
    atomic_store_explicit(&cached_record, r, memory_order_relaxed);
    return r;
}

/* What the process now at pid says to a record of kind pidfs: 1 when it is
 * not the recorded one or has ended, 0 when it is and lives. */
static int pidfs_gone(uint32_t pid, uint64_t value)
{
    int fd = open_pidfd(pid);
    if (fd < 0)
        return errno == ESRCH;
    int gone = pidfs_value(fd) != value;
    if (!gone) {
        struct pollfd p = {fd, POLLIN, 0};
        gone = poll(&p, 1, 0) == 1; /* it ended: a zombie */
    }
    close(fd);
    return gone;
}

/* The same for a record of start ticks. */
static int ticks_gone(uint32_t pid, uint64_t value)
{
    if (weft__sync_pid_gone(pid))
        return 1;
    uint64_t now = start_ticks(pid);
    return now != 0 && now != value;
}

int weft__sync_holder_gone(uint32_t pid, uint64_t record)
{
    uint64_t value = record & (RECORD_PIDFS | RECORD_VALUE_MASK);
    if (record == 0 || weft__sync_record_pid(record) != pid || value == 0) {
        /* No record of this holder (it died between taking the word and
         * writing its record, or one of the rare interleavings that leave
         * another's there): only the id can be asked, and an id that is
         * in use again passes for the holder. */
        return pid != weft__sync_pid() && weft__sync_pid_gone(pid);
    }
    if (record == weft__sync_record())
        return 0; /* this process */
    if (pid == weft__sync_pid())
        return 1; /* an earlier process with this process's id */
    return (value & RECORD_PIDFS) ? pidfs_gone(pid, value)
                                  : ticks_gone(pid, value);
}

int weft__sync_pid_gone(uint32_t pid)
{
    if (pid == 0 || pid > INT_MAX)
        return 0;
    int fd = open_pidfd(pid);
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

/* A 64-bit random number of this process, top bit set (so that it is
 * never 0, whatever it is combined with below). */
static uint64_t nonce(void)
{
    uint64_t n = atomic_load_explicit(&cached_nonce, memory_order_relaxed);
    if (n != 0)
        return n;
    if (getrandom(&n, sizeof n, GRND_NONBLOCK) != (ssize_t)sizeof n) {
        /* No entropy yet (early boot): the clock, the id and an address
         * still differ between processes. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        n = ((uint64_t)ts.tv_nsec * UINT64_C(0x9E3779B97F4A7C15)) ^
            ((uint64_t)ts.tv_sec << 32) ^ weft__sync_pid() ^
            (uint64_t)(uintptr_t)&n;
    }
    n |= UINT64_C(1) << 63;
    atomic_store_explicit(&cached_nonce, n, memory_order_relaxed);
    return n;
}

uint64_t weft__shared_context_id(void)
{
    /* One number per context of this process (the context ids differ
     * within it), and another process's numbers differ from all of them
     * unless two random 64-bit numbers happen to differ by exactly the
     * XOR of two context ids. Context ids stay below 2^63: never 0. */
    return nonce() ^ weft_park_context_id();
}

void weft__wake_shared(const _Atomic uint32_t *word, uint64_t n)
{
    weft_park_wake_shared(word, n > INT_MAX ? INT_MAX : (int)n);
}
