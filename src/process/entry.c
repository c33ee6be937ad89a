/* SPDX-License-Identifier: MIT */
/* Where a spawned child and the fork server begin: a constructor that sees
 * WEFT_SPAWN or WEFT_FORKSERVER in the environment (see child.c for why it
 * runs the constructors that come after it first). A program started any
 * other way never notices this file. */
#include "process_int.h"

#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*init_fn)(int argc, char **argv, char **envp);

/* ----- The constructors after this one ----- */

struct init_array {
    init_fn *fns;
    size_t n;
};

struct ctor_search {
    init_fn self;
    int first;
    struct init_array program; /* the executable's */
    struct init_array mine;    /* the image holding self */
    size_t self_index;
    int found_self;
};

static struct init_array init_array_of(const struct dl_phdr_info *info)
{
    struct init_array a = {NULL, 0};
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr +
                                      info->dlpi_phdr[i].p_vaddr);
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        /* The loader relocates neither entry in place: add the bias. */
        if (dyn->d_tag == DT_INIT_ARRAY)
            a.fns = (init_fn *)(info->dlpi_addr + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_INIT_ARRAYSZ)
            a.n = dyn->d_un.d_val / sizeof(init_fn);
    }
    if (a.fns == NULL)
        a.n = 0;
    return a;
}

static int find_arrays(struct dl_phdr_info *info, size_t size, void *data)
{
    struct ctor_search *s = data;
    struct init_array a = init_array_of(info);
    if (s->first)
        s->program = a;
    s->first = 0;
    for (size_t i = 0; i < a.n && !s->found_self; i++)
        if (a.fns[i] == s->self) {
            s->mine = a;
            s->self_index = i;
            s->found_self = 1;
        }
    return s->found_self;
}

static void call_all(const struct init_array *a, size_t from, int argc,
                     char **argv, char **envp)
{
    for (size_t i = from; i < a->n; i++)
        if (a->fns[i] != NULL && a->fns[i] != (init_fn)(intptr_t)-1)
            a->fns[i](argc, argv, envp);
}

static void run_later_constructors(init_fn self, int argc, char **argv,
                                   char **envp)
{
    struct ctor_search s;
    memset(&s, 0, sizeof s);
    s.self = self;
    s.first = 1;
    dl_iterate_phdr(find_arrays, &s);
    if (!s.found_self)
        return;
    call_all(&s.mine, s.self_index + 1, argc, argv, envp);
    if (s.mine.fns != s.program.fns) /* a shared libweft: the program's too */
        call_all(&s.program, 0, argc, argv, envp);
}

/* ----- The entry ----- */

/* Called by every start, so that a program that starts processes links this
 * file (and its constructor) even from a static libweft. */
void weft__entry_anchor(void)
{
}

/* The descriptor named by variable name, which is then removed (so the
 * child's own children do not see it); -1 when absent or not open. */
static int take_fd(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL)
        return -1;
    char *end;
    long fd = strtol(v, &end, 10);
    unsetenv(name);
    if (*end != '\0' || fd < 3 || fd > 1 << 20 || fcntl((int)fd, F_GETFD) < 0)
        return -1;
    fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    return (int)fd;
}

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "weft: a spawned child %s: %s\n", what,
            weft_last_message());
    _exit(255);
}

static _Noreturn void run_spawned(int fd)
{
    weft_bytes_t msg;
    if (weft__read_message(fd, &msg) != 0)
        die("got no specification");
    close(fd);
    struct weft__child_spec spec;
    if (weft__spec_decode(&spec, msg.data, msg.len) != 0)
        die("got a bad specification");
    weft_bytes_free(&msg);
    weft__child_main(&spec, (pid_t)spec.parent_pid);
}

__attribute__((constructor)) static void
weft_process_entry(int argc, char **argv, char **envp)
{
    int spawn = take_fd("WEFT_SPAWN");
    int server = spawn < 0 ? take_fd("WEFT_FORKSERVER") : -1;
    if (spawn < 0 && server < 0)
        return;
    run_later_constructors(weft_process_entry, argc, argv, envp);
    if (spawn >= 0)
        run_spawned(spawn);
    weft__forkserver_main(server);
}
