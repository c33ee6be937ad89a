/* SPDX-License-Identifier: MIT */
/* Inside the process layer only: the process object, the child's
 * specification that crosses into a spawned child, and the pieces each
 * start method is made of. */
#ifndef WEFT_PROCESS_INT_H
#define WEFT_PROCESS_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "weft/park.h"
#include "weft/process.h"
#include "weft/sync.h"

#define WEFT__AUTHKEY_LEN 32

/* Start methods. METHOD_DEFAULT is the default context's: resolved at each
 * start to the default method of that moment. */
enum { METHOD_FORK, METHOD_SPAWN, METHOD_FORKSERVER, METHOD_DEFAULT };

/* What a weft_process_t stands for. */
enum { KIND_CHILD, KIND_CURRENT, KIND_PARENT };

/* A child's life, as its handle sees it. Changes happen under p->lock;
 * state is atomic so that queries need not take it. */
enum { ST_NEW, ST_STARTED, ST_DONE, ST_CLOSED };

struct weft_context {
    int method;
};

struct weft_process {
    _Atomic unsigned refs;
    weft_lock_t lock;
    int kind;
    int method;
    int daemon;
    char *name;
    char **old_names; /* kept so that a borrowed name outlives a rename */
    size_t n_old_names;
    char *identity; /* "1", "1:2": the counters behind the name */
    weft_process_fn target;
    weft_bytes_t arg;
    int *fds; /* passed to the child at the same numbers */
    size_t n_fds;
    _Atomic int state;
    pid_t pid;
    int pidfd;     /* the sentinel */
    int watched;   /* pidfd is a watcher's pipe, not a pidfd (watch_linux.c) */
    int status_fd; /* forkserver: where the server reports the exit */
    int exitcode;
    weft_process_t *next_child; /* in the list of children */
};

/* ----- The child's specification ----- */

enum { TARGET_POINTER, TARGET_OFFSET, TARGET_NAME };

/* How a child finds its target: by pointer (fork), by offset in a loaded
 * image, or by a registered name. */
struct weft__target_ref {
    int kind;
    weft_process_fn fn; /* TARGET_POINTER, and once resolved */
    char *object;       /* TARGET_OFFSET: the image's path, "" the program */
    uint64_t offset;
    char *symbol; /* OFFSET: the name to check ("" if none); NAME: the name */
};

/* Everything a child needs to become itself. */
struct weft__child_spec {
    char *name;
    char *identity;
    char *parent_name;
    uint32_t parent_pid;
    int daemon;
    int default_method;
    unsigned char authkey[WEFT__AUTHKEY_LEN];
    struct weft__target_ref target;
    weft_bytes_t arg;
};

/* Fill spec for p's child (target located for method). Frees with
 * weft__spec_clear. Errors: WEFT_EINVAL (target not found), WEFT_ENOMEM. */
int weft__spec_for(struct weft__child_spec *spec, const weft_process_t *p,
                   int method);
void weft__spec_clear(struct weft__child_spec *spec);

/* Serialize spec into *out (a new byte string), and back. decode borrows
 * nothing from data. Errors: WEFT_ENOMEM; decode: WEFT_EPROTO. */
int weft__spec_encode(const struct weft__child_spec *spec, weft_bytes_t *out);
int weft__spec_decode(struct weft__child_spec *spec, const unsigned char *data,
                      size_t len);

/* ----- Targets ----- */

int weft__target_locate(weft_process_fn fn, struct weft__target_ref *ref);
int weft__target_resolve(struct weft__target_ref *ref);
void weft__target_clear(struct weft__target_ref *ref);

/* ----- Start methods (each fills p->pid, p->pidfd, p->status_fd) ----- */

int weft__start_fork(weft_process_t *p, struct weft__child_spec *spec);
int weft__start_spawn(weft_process_t *p, const struct weft__child_spec *spec);
int weft__start_forkserver(weft_process_t *p,
                           const struct weft__child_spec *spec);

/* Reap a forkserver child: read its status from p->status_fd (blocking). */
int weft__forkserver_reap(weft_process_t *p, int *exitcode);

/* ----- Launching (launch_linux.c) ----- */

/* One descriptor to place in a new process: src becomes number dst; keep
 * cloexec set on it if cloexec (for a descriptor that must close at
 * exec). */
struct weft__fd_move {
    int src;
    int dst;
    int cloexec;
};

/* In a child, between fork() and exec or the target: put each move's src
 * at its dst and close every other descriptor from 3 up. moves must be
 * sorted by dst. Async-signal-safe. Returns 0 or -1 (errno set). */
int weft__place_fds(struct weft__fd_move *moves, size_t n);

/* fork() (on the launcher) and exec /proc/self/exe with env_name=N in its
 * environment, where N is the number at which the child finds chan; the
 * child gets exactly moves and chan, and with lifeline, SIGKILL as its
 * parent-death signal from before exec. *pid and *pidfd receive the
 * child's. Reports a failed exec as WEFT_ESYS (the child is then
 * reaped). */
int weft__exec_self(const char *env_name, int chan,
                    const struct weft__fd_move *moves, size_t n, int lifeline,
                    pid_t *pid, int *pidfd);

/* fork() on the launcher (launcher.c), the thread that makes this
 * process's children and lives as long as the process: in the child,
 * child(arg) runs with the caller's signal mask and must not return
 * (async-signal-safe calls only, unless the process has one thread).
 * *pid receives the child's. Blocks: until the child exists. Errors:
 * WEFT_ESYS (fork failed, or the launcher could not start). */
int weft__launch(void (*child)(void *arg), void *arg, pid_t *pid);

/* ----- Sentinels (watch_linux.c) ----- */

/* A pidfd for pid, or -1 with errno set: ENOSYS where pidfd_open is
 * missing (old kernels, valgrind), or WEFT_NO_PIDFD is set. */
int weft__pidfd_open(pid_t pid);
/* Nonzero when WEFT_NO_PIDFD asks to act as if pidfd_open were missing. */
int weft__pidfd_missing(void);
/* A descriptor that turns readable when pid (a child of ours; a parent)
 * ends: its pidfd, or a watcher's pipe where there is none (*is_pidfd
 * says which). -1 with errno set if neither could be made. */
int weft__sentinel_of_child(pid_t pid, int *is_pidfd);
int weft__sentinel_of_parent(pid_t pid);
/* Nonzero once pid (not a child of ours) has ended: gone, or a zombie. */
int weft__pid_gone(pid_t pid);
/* The same for a fork-server child: readable once its status channel chan
 * (borrowed) is. */
int weft__sentinel_of_channel(int chan);

/* Exit code from a wait status (Python's: the status, or -signal). */
int weft__exitcode_of(int wait_status);

/* ----- The child's side (child.c) ----- */

/* Become the child spec describes (identity, a fresh list of children, a
 * lifeline to real_parent, the process that forked it: SIGKILL when it
 * dies), run its target, and _exit with its status. Never returns. */
_Noreturn void weft__child_main(struct weft__child_spec *spec,
                                pid_t real_parent);

/* Does nothing; calling it links entry.c and its constructor. */
void weft__entry_anchor(void);

/* The fork server's loop (forkserver_main.c): never returns. */
_Noreturn void weft__forkserver_main(int ctl);

/* Read a length-prefixed message from fd into *out (a new byte string).
 * Errors: WEFT_EEOF, WEFT_EPROTO, WEFT_ESYS, WEFT_ENOMEM. */
int weft__read_message(int fd, weft_bytes_t *out);

/* Write a length-prefixed message. Errors: WEFT_ESYS. */
int weft__write_message(int fd, const weft_bytes_t *msg);

/* ----- Start methods (context.c) ----- */

int weft__default_method(void);
const char *weft__method_name(int method);
void weft__set_inherited_method(int method);

/* ----- The current process and its children ----- */

/* The next identity for a child of this process ("1", "3:2"); new text. */
char *weft__next_identity(void);

/* The current process's fields. */
const char *weft__current_name(void);
const char *weft__current_identity(void);
int weft__current_daemon(void);
void weft__current_authkey(unsigned char key[WEFT__AUTHKEY_LEN]);

/* The list of children: add p (takes a reference), and reap the finished
 * ones (called at every start). */
void weft__children_add(weft_process_t *p);
void weft__children_reap_finished(void);

/* Terminate daemonic children and join all (Python's _exit_function), at
 * exit and when a child's target returns. */
void weft__children_at_exit(void);

/* Make sure the at-exit handler is installed. */
void weft__children_install_exit_handler(void);

/* Forget what a fork() copied from the parent: children, counter, fork
 * server (called in the child made by weft's own fork). */
void weft__forget_parent_state(void);

/* Drop the connection to the fork server (in a child of fork()). */
void weft__forkserver_forget(void);

/* Start counting children from 1 again (in a new child). */
void weft__counter_reset(void);

/* Reap p now if its child has ended (under p->lock). */
int weft__process_try_reap(weft_process_t *p);

#endif
