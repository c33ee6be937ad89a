/* SPDX-License-Identifier: MIT */
/* Functions by their place in the loaded images (image.h). */
#include "base/image.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef WEFT_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

struct image_search {
    uintptr_t addr;   /* find the image holding addr, or */
    const char *name; /* find the image of this path ("" the program) */
    int first;        /* the next image seen is the program */
    const char *found_name;
    uintptr_t found_base;
    int found;
};

static int holds(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && addr >= start &&
            addr - start < ph->p_memsz)
            return 1;
    }
    return 0;
}

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
    struct image_search *s = data;
    const char *name = s->first ? "" : info->dlpi_name;
    s->first = 0;
    int match = s->name ? strcmp(name, s->name) == 0 : holds(info, s->addr);
    if (!match)
        return 0;
    s->found_name = name;
    s->found_base = info->dlpi_addr;
    s->found = 1;
    return 1;
}

int weft__image_of(const void *addr, const char **object, uintptr_t *base)
{
    struct image_search s = {(uintptr_t)addr, NULL, 1, NULL, 0, 0};
    dl_iterate_phdr(visit, &s);
    if (s.found) {
        *object = s.found_name;
        *base = s.found_base;
    }
    return s.found;
}

static int find_by_name(const char *object, uintptr_t *base)
{
    struct image_search s = {0, object, 1, NULL, 0, 0};
    dl_iterate_phdr(visit, &s);
    *base = s.found_base;
    return s.found;
}

int weft__image_base(const char *object, uintptr_t *base)
{
    if (find_by_name(object, base))
        return 1;
    /* Not loaded here yet: load it (never the program, which is). */
    return object[0] != '\0' && dlopen(object, RTLD_NOW) != NULL &&
           find_by_name(object, base);
}

/* ----- Running the program again ----- */

static char self_exe[PATH_MAX] = "/proc/self/exe";
static pthread_once_t self_exe_once = PTHREAD_ONCE_INIT;

/* Valgrind preloads its own libraries into the program it runs: that
 * tells it apart even in a build without valgrind's header. */
static int under_valgrind(void)
{
#ifdef WEFT_HAVE_VALGRIND
    if (RUNNING_ON_VALGRIND)
        return 1;
#endif
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "/vgpreload_") != NULL;
}

static void find_self_exe(void)
{
    if (!under_valgrind())
        return;
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        memcpy(self_exe, path, (size_t)n + 1);
    }
}

const char *weft__self_exe(void)
{
    pthread_once(&self_exe_once, find_self_exe);
    return self_exe;
}
