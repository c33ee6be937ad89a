/* SPDX-License-Identifier: MIT */
/** weft/process.h: Process, the start methods, and who is who among
 * processes: Python's multiprocessing.Process, set_start_method(),
 * get_context(), current_process(), parent_process(), active_children() and
 * cpu_count().
 *
 * A process runs a target, int target(const weft_bytes_t *arg), in a child
 * process; what the target returns is the child's exit status (0 to 255),
 * and the argument is a copy of the bytes given to weft_process_new(). The
 * exit code reads as Python's: the status, or minus the signal that ended
 * the child (-9 for SIGKILL).
 *
 * Start methods, and what a child inherits:
 *   "fork"        the child is a fork() of the caller: a copy of all its
 *                 memory (so pointers stay valid), every file descriptor,
 *                 signal handlers, and the caller's signal mask. None of
 *                 its threads goes on in the child: the target runs on the
 *                 copy of weft's launcher thread (below), as the child's
 *                 main thread, so thread-local variables read as a new
 *                 thread's, and locks the caller held stay held, as those
 *                 of every other thread. Fast, but unsafe when other
 *                 threads hold locks (malloc's, stdio's, the program's):
 *                 the child may deadlock.
 *   "spawn"       the child is a fresh run of the same executable
 *                 (/proc/self/exe): its constructors run, main() does not;
 *                 the target is found by its offset in the executable or
 *                 shared object that holds it, else by a registered name.
 *                 It inherits the environment, current directory, limits and
 *                 ignored signals, descriptors 0, 1 and 2, and the
 *                 descriptors passed with weft_process_pass(), at the same
 *                 numbers; nothing else.
 *   "forkserver"  the default (as from Python 3.14): the child is a fork()
 *                 of a server process started by spawn the first time it is
 *                 needed, which has one thread and has run nothing but the
 *                 program's constructors, so forking it is safe whatever the
 *                 caller's threads do. The child inherits what the server
 *                 inherited when it started (environment, directory,
 *                 descriptors 0 to 2), and the passed descriptors at the
 *                 same numbers. The server shows as "weft-forkserver"; it
 *                 is a child of the process that started it and ends with it.
 * With spawn and forkserver, the objects a child needs (connections,
 * queues, shared memory) reach it through shares (weft_share_t): a few
 * pointer-free bytes, copied into the argument, whose descriptors the child
 * receives at the same numbers. With fork they work as well.
 *
 * Every child knows its name ("Process-N", or "Process-N:M" for a child of
 * a child, as Python names them), its parent, its daemon flag and the
 * authentication key (Python's authkey, 32 random bytes made in the first
 * process and inherited). %(processName)s in the log layer shows the name.
 *
 * Beyond Python, children never outlive their parent. Each child asks the
 * kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG), checking
 * just after that the parent is still the one that started it, so it ends
 * with the parent however the parent ends (SIGKILL included) and whatever
 * its own code does: SIGKILL cannot be blocked, caught or ignored, and it
 * is kept across exec(). The kernel sends it when the *thread* that made
 * the child ends, so weft makes every child (its fork(), under fork and
 * spawn) on one thread of its own, "weft-launcher", started by the first
 * start and ending only with the process; a fork server's children are
 * made by the server, which has one thread and ends when its parent does.
 * This covers every child weft starts, the process pool's workers and the
 * manager's server included, and a child's own children in turn.
 *   What it costs: a child gets no chance to clean up when its parent dies
 *   (no atexit handlers, no flush of stdio buffers); a named segment it
 *   created is removed by its tracker (shm.h). A child that must clean up
 *   asks for a signal it can watch instead, with
 *   weft_set_parent_death_signal() (the manager's server does).
 *   What it does not cover: processes a target makes itself (fork(),
 *   posix_spawn(), system()) unless they ask for a lifeline of their own; a
 *   child that execs a set-user-ID or set-group-ID program or one with file
 *   capabilities, or that changes its credentials (setuid()...), since the
 *   kernel then clears the parent-death signal; a child that clears it
 *   itself with prctl(); and the fork server, which ends when its control
 *   socket closes rather than by a signal. A parent that exec()s ends its
 *   children, since its launcher thread ends then. Under ThreadSanitizer
 *   (WEFT_TSAN builds) the calling thread makes the child, since a child of
 *   a process with several threads may not start threads there: a child
 *   then also ends with the thread that started it.
 * As in Python, at normal exit a parent terminates its daemonic children
 * and joins the others; a child's own children are handled the same way
 * when its target returns. No child is left a zombie: join(), is_alive(),
 * active_children() and every start reap the children that have finished.
 *
 * Handles are reference counted: weft_process_new() returns one reference
 * and weft_process_free() drops it; the list of children keeps its own
 * while the child runs. Freeing the handle of a running child does not stop
 * it (it is reaped later, as above).
 *
 * Waiting (join) polls the child's sentinel, a pidfd: the calling thread
 * blocks in the kernel, in slices of 20 ms when it is inside a cancel scope
 * so that a cancel is seen. An event loop waits on the sentinel itself.
 * Where pidfd_open is missing (kernels before 5.3; valgrind up to 3.19),
 * or WEFT_NO_PIDFD=1 is in the environment, the sentinel is a pipe that a
 * watcher thread closes when the child ends: it polls readable at the same
 * moment, and every wait behaves the same.
 *
 * Defaults for this layer: thread-safe; non-blocking unless marked.
 *
 * Global state: the list of this process's children, the counter behind
 * default names, the current process's identity (name, parent, authkey,
 * lifeline), the default start method, the fork server's connection, the
 * launcher thread, and the registered targets. A child made by fork() (by
 * weft or not) starts with no children, a fresh counter, no fork server
 * connection and no launcher (its first start makes one).
 * \file */
#ifndef WEFT_PROCESS_H
#define WEFT_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "weft/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A process (multiprocessing.Process), and a context (a start method). */
typedef struct weft_process weft_process_t;
typedef struct weft_context weft_context_t;

/** A process's target: runs in the child; its return is the exit status
 * (0 to 255; other values are cut to their low 8 bits). arg is borrowed
 * for the call. */
typedef int (*weft_process_fn)(const weft_bytes_t *arg);

/* ----- Shares: how objects reach a child ----- */

/** The most descriptors one share carries. */
#define WEFT_SHARE_MAX_FDS 4

/** What a child needs to reach an object its parent made (a Connection, a
 * process Queue, a SharedMemory, a Value, a manager proxy): made by the
 * object's layer (weft_connection_share(), ...), copied as is into the
 * child's argument, and turned back into an object there (..._from_share).
 * The descriptors in fds are given to the child at the same numbers, once
 * weft_process_pass() has been called with the share, so the share means
 * the same on both sides. Pointer-free, 128 bytes. */
typedef struct weft_share {
    uint32_t kind; /* which layer's object: set by that layer */
    /** How many of fds are used. */
    uint32_t nfds;
    /** The descriptors the child gets, at the same numbers. */
    int32_t fds[WEFT_SHARE_MAX_FDS];
    uint64_t words[13]; /* the layer's own */
} weft_share_t;

/** The index-th share in arg, read as an array of shares (how the examples
 * pass objects to a child: the shares themselves are the argument).
 * Returns borrowed (valid while arg is), or NULL when arg holds fewer. */
WEFT_API const weft_share_t *weft_arg_share(const weft_bytes_t *arg,
                                            size_t index);

/* ----- Start methods and contexts ----- */

/* A context: the start method that its processes use (get_context()).
 * Contexts are static: never freed. */

/** The context of method ("fork", "spawn", "forkserver"), or with NULL the
 * default one, which uses the default start method at each start.
 * Ownership: *out returns borrowed (static).
 * Errors: WEFT_EINVAL (NULL out, unknown method). */
WEFT_API int weft_get_context(weft_context_t **out, const char *method);

/** The context's start method; for the default context, the default method
 * now. Returns borrowed static text. */
WEFT_API const char *weft_context_start_method(const weft_context_t *ctx);

/** Set the default start method (set_start_method). As in Python it may be
 * set once, unless force is nonzero. A child inherits its parent's.
 * Errors: WEFT_EINVAL (NULL or unknown method), WEFT_ESTATE (already set
 * and force is 0: "context has already been set"). */
WEFT_API int weft_set_start_method(const char *method, int force);

/** The default start method ("forkserver" unless set). Returns static text. */
WEFT_API const char *weft_get_start_method(void);

/** The methods this system supports, NULL-terminated: "forkserver",
 * "spawn", "fork". Returns static. */
WEFT_API const char *const *weft_get_all_start_methods(void);

/* ----- Process ----- */

/** Options for a new process; NULL or a zeroed struct gives Python's
 * defaults. */
typedef struct weft_process_opts {
    const char *name; /* NULL: "Process-N" (copied) */
    int daemon;       /* nonzero: daemonic (terminated at the parent's exit,
                         and may not start children of its own) */
} weft_process_opts_t;

/** Create a process that will run target with a copy of the len bytes at
 * arg once started, with the default context (_new) or ctx (the start
 * method of ctx.Process()).
 * Ownership: arg is copied; *out returns a new reference.
 * Errors: WEFT_EINVAL (NULL out, target or ctx; NULL arg with len > 0),
 * WEFT_ENOMEM. */
WEFT_API int weft_process_new(weft_process_t **out, weft_process_fn target,
                              const void *arg, size_t len,
                              const weft_process_opts_t *opts);
WEFT_API int weft_context_process_new(weft_context_t *ctx, weft_process_t **out,
                                      weft_process_fn target, const void *arg,
                                      size_t len,
                                      const weft_process_opts_t *opts);

/** Take another reference; drop one (NULL: no-op). A process freed while its
 * child runs stays in the list of children until it is reaped. */
WEFT_API weft_process_t *weft_process_ref(weft_process_t *p);
WEFT_API void weft_process_free(weft_process_t *p);

/** Give p's child the descriptors of h (or fd) at the same numbers, under
 * spawn and forkserver (under fork the child has them all anyway). The
 * descriptors must stay open until start. Call before start.
 * Errors: WEFT_EINVAL (NULL, or a descriptor below 3 or not open),
 * WEFT_ESTATE (already started), WEFT_ENOMEM. */
WEFT_API int weft_process_pass(weft_process_t *p, const weft_share_t *h);
WEFT_API int weft_process_pass_fd(weft_process_t *p, int fd);

/** Start the child. Blocks: briefly (until the child exists; the first
 * start of a process also starts its launcher thread, and under fork and
 * spawn the fork() runs there while the caller waits, so the caller must
 * not hold a lock that a pthread_atfork() handler of the program takes).
 * Errors: WEFT_ESTATE (started before: "processes can only be started
 * once"; closed; or the caller is daemonic: "daemonic processes are not
 * allowed to have children"), WEFT_EINVAL (spawn and forkserver: the target
 * is in no loaded image and was not registered), WEFT_ESYS (the system
 * refused: the message names the call, or the launcher thread could not
 * start), WEFT_ENOMEM. */
WEFT_API int weft_process_start(weft_process_t *p);

/** Wait until the child has ended, up to timeout seconds, and reap it.
 * Blocks: yes.
 * Errors: WEFT_ETIMEDOUT (still running), WEFT_ECANCELLED, WEFT_EINVAL (bad
 * timeout), WEFT_ESTATE (not started: "can only join a started process";
 * closed; or p is the current or parent process: "can only join a child
 * process"). */
WEFT_API int weft_process_join(weft_process_t *p, double timeout);

/** Nonzero from start until the child has ended (reaping it then). For the
 * current process 1; for the parent, whether it still runs. */
WEFT_API int weft_process_is_alive(weft_process_t *p);

/** The exit code once the child has ended (reaping it if it just has): 0,
 * the status the target returned or passed to exit(), or minus the signal
 * that ended it. Returns 0 and sets *code, or WEFT_ESTATE while the child
 * runs or was never started (Python's None). */
WEFT_API int weft_process_exitcode(weft_process_t *p, int *code);

/** Send SIGTERM (terminate) or SIGKILL (kill) to the child; nothing if it
 * has ended. Errors: WEFT_ESTATE (not started, closed, or not a child). */
WEFT_API int weft_process_terminate(weft_process_t *p);
WEFT_API int weft_process_kill(weft_process_t *p);

/** Release the child's resources (its sentinel). The handle stays valid
 * until freed; most calls then return WEFT_ESTATE ("process object is
 * closed"). Errors: WEFT_ESTATE while the child runs ("Cannot close a
 * process while it is still running"). */
WEFT_API int weft_process_close(weft_process_t *p);

/** The name (borrowed, valid while p lives; a rename keeps old names until
 * p is freed) and a new one (copied). Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API const char *weft_process_name(const weft_process_t *p);
WEFT_API int weft_process_set_name(weft_process_t *p, const char *name);

/** The daemon flag; changed only before start (WEFT_ESTATE after). */
WEFT_API int weft_process_daemon(const weft_process_t *p);
WEFT_API int weft_process_set_daemon(weft_process_t *p, int daemon);

/** The child's process id (0 before start), and its sentinel: a pidfd that
 * polls readable once the child has ended (without pidfd_open, a pipe that
 * does the same: see above; -1 before start and after close). Borrowed:
 * weft closes it at close() or free(). */
WEFT_API int weft_process_pid(const weft_process_t *p);
WEFT_API int weft_process_sentinel(const weft_process_t *p);

/** The start method p uses (its context's), as static text. */
WEFT_API const char *weft_process_start_method(const weft_process_t *p);

/* ----- Who is who ----- */

/** The calling process (current_process()): "MainProcess" in a process weft
 * did not start, the child's own entry in a child. Returns borrowed: valid
 * for the life of the process. */
WEFT_API weft_process_t *weft_current_process(void);

/** The parent of a child weft started (parent_process()), with its name,
 * pid, is_alive, join and sentinel; NULL in the main process. Returns
 * borrowed: valid for the life of the process. */
WEFT_API weft_process_t *weft_parent_process(void);

/** The children that are still running (active_children()), in start
 * order; finished ones are reaped and dropped from the list. Ownership:
 * *list returns a new array of new references; free both with
 * weft_process_list_free(). Errors: WEFT_EINVAL, WEFT_ENOMEM. */
WEFT_API int weft_active_children(weft_process_t ***list, size_t *count);
WEFT_API void weft_process_list_free(weft_process_t **list, size_t count);

/** The current process's authentication key (current_process().authkey):
 * borrowed, valid for the life of the process; *len receives its length. */
WEFT_API const unsigned char *weft_process_authkey(size_t *len);

/** The CPUs of the system (os.cpu_count()) and those this process may run
 * on (os.process_cpu_count(): its affinity mask). Never 0. */
WEFT_API unsigned weft_cpu_count(void);
WEFT_API unsigned weft_process_cpu_count(void);

/** The signal this process gets when its parent dies: SIGKILL in a child
 * weft started (unless changed below), 0 in a process weft did not start
 * (it has no lifeline), a fork() of a child included. */
WEFT_API int weft_parent_death_signal(void);

/** In a child weft started: get sig rather than SIGKILL when the parent
 * dies, for a child that must clean up before it goes (the manager's
 * server: it blocks SIGTERM, reads it from a signalfd and asks for it
 * here). Block or handle sig first: its default action may not end the
 * process, and a child that blocks it without watching for it outlives its
 * parent. The signal comes when the parent process ends, not when the
 * thread that called this one does.
 * Errors: WEFT_EINVAL (not a signal, or 0), WEFT_ESTATE (weft did not start
 * this process: "no lifeline"; or the parent is gone already: "the parent
 * is gone", when the signal may never come: clean up and exit now),
 * WEFT_ESYS. */
WEFT_API int weft_set_parent_death_signal(int sig);

/* ----- Targets for spawn and forkserver ----- */

/** Register fn under name, so that a child started by spawn or forkserver
 * finds it by name: for targets that are in no loaded image (JIT code) or
 * in an object the child cannot load by its path. The child must register
 * it too before it looks: register in a constructor (WEFT_PROCESS_TARGET
 * does), which runs before weft's own when weft is linked statically; with
 * a shared libweft, a name not registered yet is looked up with dlsym()
 * (functions exported with -rdynamic). A registered target is always sent
 * by name. Errors: WEFT_EINVAL (NULL, empty or over-long name),
 * WEFT_EEXIST (name taken by another function), WEFT_ENOMEM. */
WEFT_API int weft_process_register(const char *name, weft_process_fn fn);

/** Register fn under its own name from a constructor. */
#define WEFT_PROCESS_TARGET(fn)                                                \
    __attribute__((constructor)) static void weft_register_target_##fn(void)   \
    {                                                                          \
        weft_process_register(#fn, fn);                                        \
    }

/* ----- Functions by reference ----- */

/** Any function, as a pointer type that every function pointer converts to
 * and back without a warning: what weft_fn_locate() takes and
 * weft_fn_resolve() gives. Convert back to the function's own type before
 * calling it. */
typedef void (*weft_any_fn)(void);

/** How another process of the same program finds fn, even one that shares
 * no memory with the caller (a child of spawn or forkserver): fn is found
 * the way a target is (by its offset in the loaded image that holds it,
 * checked by name where the dynamic linker knows one, or by its registered
 * name), and written into *ref as a few bytes the other process gives to
 * weft_fn_resolve(). What executors of byte tasks send to their workers.
 * Ownership: *ref returns new, freed with weft_bytes_free().
 * A function in no loaded image is registered by name in both processes,
 * as a target is: weft_process_register(name, (weft_process_fn)fn), with
 * fn first converted to weft_any_fn if it has another type.
 * Errors: WEFT_EINVAL (NULL fn or ref; fn in no loaded image and not
 * registered: register it with weft_process_register()), WEFT_ENOMEM. */
WEFT_API int weft_fn_locate(weft_any_fn fn, weft_bytes_t *ref);

/** The function that ref (made by weft_fn_locate() in this program, in this
 * process or another) stands for, in the calling process: *fn receives it.
 * Loads the shared object that holds it if it is not loaded yet.
 * Ownership: ref is borrowed. Errors: WEFT_EINVAL (NULL, a malformed ref,
 * or no such function here: "is this the same program?"), WEFT_ENOMEM. */
WEFT_API int weft_fn_resolve(const weft_bytes_t *ref, weft_any_fn *fn);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_PROCESS_H */
