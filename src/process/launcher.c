/* SPDX-License-Identifier: MIT */
/* The launcher: the one thread that makes this process's children.
 *
 * Why. A child's lifeline is its parent-death signal, SIGKILL (see
 * child.c), and the kernel sends it when the *thread* that created the
 * child exits, not only when the whole process does. A child made by a
 * thread that ends before the process would die with that thread. So the
 * fork() behind every child of the fork and spawn start methods runs on
 * the launcher: a thread started by the first start, which blocks every
 * signal, runs nothing but those forks, and never returns, so that it ends
 * only with its process.
 *
 * How. A caller fills a job on its stack (the function the child runs and
 * the caller's signal mask), queues it and waits until it is answered; the
 * launcher takes the jobs one at a time, forks, and answers with the pid or
 * the errno. In the child, the launcher's copy (the only thread there)
 * puts the caller's signal mask back and runs the job's function, which
 * never returns: the child's memory is a copy of the whole process, the
 * caller's stack included, so the job is there to read.
 *
 * Why no job is lost and no caller waits forever: the queue, each job's
 * done flag and the started flag change only under the mutex. The launcher
 * waits for work only while it finds the queue empty under the mutex, and a
 * caller signals the launcher's condition after queueing under the mutex,
 * so a job queued before the launcher's check is seen by the check, and one
 * queued after it wakes the waiting launcher. A caller waits for its done
 * flag the same way, and the launcher sets it and broadcasts under the
 * mutex once the fork has returned. The launcher takes a job off the queue
 * before forking, so each job is forked exactly once.
 *
 * fork(): only the forking thread exists in a child, so the launcher is not
 * there (nor are the callers of queued jobs). The child handler forgets it
 * and the queue and sets up the mutex and conditions afresh (another thread
 * may have held the mutex at fork()); the child's own first start makes a
 * launcher of its own.
 *
 * ThreadSanitizer does not support a child of a process with several
 * threads that then starts a thread: under it, the calling thread forks
 * itself, and a child ends with the thread that started it (process.h).
 * LeakSanitizer looks for pointers on the stacks of the threads that run:
 * in a child, the caller's stack is no thread's, so under it (WEFT_ASAN
 * builds) the child registers the caller's stack as a region to scan, or a
 * target that calls exit() would see what only the caller's frames point
 * to as leaked.
 */
#include "process_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/chaos.h"

#if defined(WEFT_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

struct job {
    void (*child)(void *arg); /* runs in the child; never returns */
    void *arg;
    sigset_t mask;                 /* the caller's, for the child */
    const char *stack, *stack_end; /* the caller's live stack (WEFT_ASAN) */
    pid_t pid;                     /* the answer: the child, or -1 and err */
    int err;
    int done;
    struct job *next;
};

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;     /* to the launcher */
static pthread_cond_t answered = PTHREAD_COND_INITIALIZER; /* to callers */
static struct job *head, *tail;
static int started; /* the launcher runs in this process */

/* The caller's stack, from j (in its frame) up, for LeakSanitizer. */
static void note_caller_stack(struct job *j)
{
#if defined(WEFT_ASAN)
    pthread_attr_t attr;
    void *base;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &base, &size) == 0) {
        j->stack = (const char *)j;
        j->stack_end = (const char *)base + size;
    }
    pthread_attr_destroy(&attr);
#else
    (void)j;
#endif
}

static void scan_caller_stack(const struct job *j)
{
#if defined(WEFT_ASAN)
    if (j->stack && j->stack < j->stack_end)
        __lsan_register_root_region(j->stack,
                                    (size_t)(j->stack_end - j->stack));
#else
    (void)j;
#endif
}

/* Fork for j, on the launcher. */
static void fork_for(struct job *j)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_sigmask(SIG_SETMASK, &j->mask, NULL);
        scan_caller_stack(j);
        j->child(j->arg);
        _exit(127); /* child() never returns */
    }
    j->err = pid < 0 ? errno : 0;
    j->pid = pid;
}

static struct job *take_locked(void)
{
    while (head == NULL)
        pthread_cond_wait(&work, &mutex);
    struct job *j = head;
    head = j->next;
    if (head == NULL)
        tail = NULL;
    return j;
}

static void *launcher_main(void *unused)
{
    (void)unused;
    prctl(PR_SET_NAME, "weft-launcher");
    pthread_mutex_lock(&mutex);
    for (;;) {
        struct job *j = take_locked();
        pthread_mutex_unlock(&mutex);
        WEFT_CHAOS_POINT(); /* between taking a job and forking for it */
        fork_for(j);
        WEFT_CHAOS_POINT(); /* between the fork and the answer */
        pthread_mutex_lock(&mutex);
        j->done = 1;
        pthread_cond_broadcast(&answered);
    }
    return NULL;
}

/* Start the launcher with every signal blocked (it inherits the mask), so
 * that no handler of the program ever runs on it. */
static int start_locked(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, launcher_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return weft_fail(WEFT_ESYS,
                         "cannot start the thread that makes children: %s",
                         strerror(rc));
    started = 1;
    return 0;
}

#if defined(WEFT_TSAN)
#define FORK_ON_CALLER 1 /* see the top */
#else
#define FORK_ON_CALLER 0
#endif

/* Queue j for the launcher (starting it if need be) and wait until it is
 * answered. */
static int hand_over(struct job *j)
{
    pthread_mutex_lock(&mutex);
    int rc = started ? 0 : start_locked();
    if (rc == 0) {
        if (tail)
            tail->next = j;
        else
            head = j;
        tail = j;
        WEFT_CHAOS_POINT(); /* between queueing and the wake-up */
        pthread_cond_signal(&work);
        while (!j->done)
            pthread_cond_wait(&answered, &mutex);
    }
    pthread_mutex_unlock(&mutex);
    return rc;
}

int weft__launch(void (*child)(void *arg), void *arg, pid_t *pid)
{
    struct job j = {.child = child, .arg = arg};
    pthread_sigmask(SIG_SETMASK, NULL, &j.mask);
    note_caller_stack(&j);
    if (FORK_ON_CALLER) {
        fork_for(&j);
    } else {
        int rc = hand_over(&j);
        if (rc)
            return rc;
    }
    *pid = j.pid;
    return j.pid < 0 ? weft_fail(WEFT_ESYS, "fork: %s", strerror(j.err)) : 0;
}

/* In any child of fork(): no launcher, no jobs (see the top). */
static void forget_in_child(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    mutex = m;
    work = c;
    answered = c;
    head = tail = NULL;
    started = 0;
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_in_child);
}
