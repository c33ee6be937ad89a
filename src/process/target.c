/* SPDX-License-Identifier: MIT */
/* Finding a target in a child that did not inherit the parent's memory.
 *
 * The parent looks for the loaded image (the executable or a shared object)
 * whose executable segment holds the target, and sends the image's path and
 * the target's offset from the image's load address (base/image.c finds
 * both, and the image again in the child). The child, a fresh run
 * of the same executable (or a fork of one), finds the image of that path
 * among its own (loading it with dlopen() if it is not loaded yet) and adds
 * the offset to its load address: the same function, wherever ASLR put the
 * image this time. When the dynamic linker knows the target's name (exported
 * functions, or any with -rdynamic), the child checks that its pointer has
 * the same name, so a different image at the same path is caught rather
 * than run.
 *
 * Targets in no image (generated code) must be registered by name in both
 * processes; a registered target is always sent by name.
 */
#include "process_int.h"

#include "base/image.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 255

struct registration {
    char *name;
    weft_process_fn fn;
    struct registration *next;
};

static weft_lock_t registry_lock = WEFT_LOCK_INIT;
static struct registration *registry;

/* In a child of fork(): another thread of the parent may have held the
 * lock as it forked; the list itself is whole (it only ever grows by a
 * single pointer store). */
static void reset_lock_in_child(void)
{
    weft_lock_init(&registry_lock);
}

__attribute__((constructor)) static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, reset_lock_in_child);
}

static struct registration *find_by_name(const char *name)
{
    for (struct registration *r = registry; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static struct registration *find_by_fn(weft_process_fn fn)
{
    for (struct registration *r = registry; r; r = r->next)
        if (r->fn == fn)
            return r;
    return NULL;
}

static int add_registration(const char *name, weft_process_fn fn)
{
    struct registration *r = malloc(sizeof *r);
    char *copy = strdup(name);
    if (r == NULL || copy == NULL) {
        free(r);
        free(copy);
        return weft_fail(WEFT_ENOMEM, "weft_process_register: no memory");
    }
    *r = (struct registration){copy, fn, registry};
    registry = r;
    return 0;
}

int weft_process_register(const char *name, weft_process_fn fn)
{
    if (name == NULL || fn == NULL || name[0] == '\0' ||
        strlen(name) > NAME_MAX_LEN)
        return weft_fail(WEFT_EINVAL, "weft_process_register: %s",
                         fn ? "the name must be 1 to 255 bytes"
                            : "NULL function");
    weft_lock_acquire(&registry_lock, WEFT_FOREVER);
    struct registration *r = find_by_name(name);
    int rc = 0;
    if (r && r->fn != fn)
        rc = weft_fail(WEFT_EEXIST, "target name '%s' is taken", name);
    else if (r == NULL)
        rc = add_registration(name, fn);
    weft_lock_release(&registry_lock);
    return rc;
}

static char *registered_name(weft_process_fn fn)
{
    weft_lock_acquire(&registry_lock, WEFT_FOREVER);
    struct registration *r = find_by_fn(fn);
    char *name = r ? strdup(r->name) : NULL;
    weft_lock_release(&registry_lock);
    return name;
}

static weft_process_fn registered_fn(const char *name)
{
    weft_lock_acquire(&registry_lock, WEFT_FOREVER);
    struct registration *r = find_by_name(name);
    weft_process_fn fn = r ? r->fn : NULL;
    weft_lock_release(&registry_lock);
    return fn;
}

int weft__target_locate(weft_process_fn fn, struct weft__target_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    char *name = registered_name(fn);
    if (name) {
        ref->kind = TARGET_NAME;
        ref->symbol = name;
        return 0;
    }
    const char *object;
    uintptr_t base;
    if (!weft__image_of((const void *)fn, &object, &base))
        return weft_fail(WEFT_EINVAL,
                         "the target %p is in no loaded image: register it "
                         "with weft_process_register()",
                         (void *)fn);
    char symbol[NAME_MAX_LEN + 1];
    weft_symbol_name((const void *)fn, symbol, sizeof symbol);
    ref->kind = TARGET_OFFSET;
    ref->object = strdup(object);
    ref->symbol = strdup(symbol);
    ref->offset = (uint64_t)((uintptr_t)fn - base);
    if (ref->object == NULL || ref->symbol == NULL) {
        weft__target_clear(ref);
        return weft_fail(WEFT_ENOMEM, "locating the target: no memory");
    }
    return 0;
}

static int resolve_offset(struct weft__target_ref *ref)
{
    uintptr_t base;
    if (!weft__image_base(ref->object, &base))
        return weft_fail(WEFT_EINVAL, "no image '%s' to find the target in",
                         ref->object[0] ? ref->object : "(the program)");
    weft_process_fn fn = (weft_process_fn)(base + (uintptr_t)ref->offset);
    const char *object;
    uintptr_t its_base;
    char symbol[NAME_MAX_LEN + 1];
    weft_symbol_name((const void *)fn, symbol, sizeof symbol);
    if (!weft__image_of((const void *)fn, &object, &its_base) ||
        strcmp(symbol, ref->symbol) != 0)
        return weft_fail(WEFT_EINVAL,
                         "the target '%s' is not where the parent had it: "
                         "is this the same program?",
                         ref->symbol);
    ref->fn = fn;
    return 0;
}

static int resolve_name(struct weft__target_ref *ref)
{
    weft_process_fn fn = registered_fn(ref->symbol);
    if (fn == NULL)
        fn = (weft_process_fn)dlsym(RTLD_DEFAULT, ref->symbol);
    if (fn == NULL)
        return weft_fail(WEFT_EINVAL, "no target registered as '%s'",
                         ref->symbol);
    ref->fn = fn;
    return 0;
}

int weft__target_resolve(struct weft__target_ref *ref)
{
    switch (ref->kind) {
    case TARGET_POINTER:
        return 0;
    case TARGET_OFFSET:
        return resolve_offset(ref);
    default:
        return resolve_name(ref);
    }
}

void weft__target_clear(struct weft__target_ref *ref)
{
    free(ref->object);
    free(ref->symbol);
    ref->object = ref->symbol = NULL;
}
