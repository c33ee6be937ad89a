/* SPDX-License-Identifier: MIT */
/* Task names: the registry a program fills on every rank, the list each
 * worker sends at start-up, and the comparison the root makes of it.
 *
 * The registry only grows; a node is linked with a single pointer store
 * under the lock. */
#include "mpi_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct name {
    char *name;
    weft_bytes_fn fn;
    struct name *next;
};

static weft_lock_t names_lock = WEFT_LOCK_INIT;
static struct name *names;
static size_t nnames;

static struct name *find(const char *name)
{
    for (struct name *n = names; n; n = n->next)
        if (strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

static int add(const char *name, weft_bytes_fn fn)
{
    struct name *n = malloc(sizeof *n);
    char *copy = strdup(name);
    if (n == NULL || copy == NULL) {
        free(n);
        free(copy);
        return weft_fail(WEFT_ENOMEM, "weft_mpi_register: no memory");
    }
    *n = (struct name){copy, fn, names};
    names = n;
    nnames++;
    return 0;
}

int weft_mpi_register(const char *name, weft_bytes_fn fn)
{
    if (name == NULL || fn == NULL || name[0] == '\0' || strlen(name) > 255)
        return weft_fail(WEFT_EINVAL, "weft_mpi_register: %s",
                         fn ? "the name must be 1 to 255 bytes"
                            : "NULL function");
    weft_lock_acquire_shielded(&names_lock);
    struct name *n = find(name);
    int rc = 0;
    if (n && n->fn != fn)
        rc = weft_fail(WEFT_EEXIST, "task name '%s' is taken", name);
    else if (n == NULL)
        rc = add(name, fn);
    weft_lock_release(&names_lock);
    return rc;
}

weft_bytes_fn weft__mpi_lookup(const char *name)
{
    weft_lock_acquire_shielded(&names_lock);
    struct name *n = find(name);
    weft_bytes_fn fn = n ? n->fn : NULL;
    weft_lock_release(&names_lock);
    return fn;
}

int weft__mpi_name_of(weft_bytes_fn fn, char *buf, size_t size)
{
    weft_lock_acquire_shielded(&names_lock);
    const char *found = NULL;
    for (struct name *n = names; n; n = n->next)
        if (n->fn == fn)
            found = n->name; /* the first registered, at the list's end */
    if (found)
        snprintf(buf, size, "%s", found);
    weft_lock_release(&names_lock);
    return found != NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int weft__mpi_names(weft_bytes_t *out)
{
    weft_lock_acquire_shielded(&names_lock);
    size_t n = nnames, len = 0, i = 0;
    char **list = malloc((n ? n : 1) * sizeof *list);
    for (struct name *it = names; list && it; it = it->next) {
        list[i++] = it->name;
        len += strlen(it->name) + 1;
    }
    weft_lock_release(&names_lock);
    if (list == NULL)
        return weft_fail(WEFT_ENOMEM, "MPI executor: no memory");
    qsort(list, n, sizeof *list, by_name);
    *out = (weft_bytes_t){NULL, 0};
    unsigned char *p = len ? malloc(len) : NULL;
    if (len && p == NULL) {
        free(list);
        return weft_fail(WEFT_ENOMEM, "MPI executor: no memory");
    }
    size_t off = 0;
    for (i = 0; i < n; i++) {
        size_t l = strlen(list[i]) + 1;
        memcpy(p + off, list[i], l);
        off += l;
    }
    free(list);
    *out = (weft_bytes_t){p, len};
    return 0;
}

/* Whether name (NUL-ended) is in the list. */
static int listed(const weft_bytes_t *list, const char *name)
{
    for (size_t off = 0; off < list->len;) {
        const char *s = (const char *)list->data + off;
        size_t l = strnlen(s, list->len - off);
        if (l == strlen(name) && memcmp(s, name, l) == 0)
            return 1;
        off += l + 1;
    }
    return 0;
}

/* The first name of a that b lacks, or NULL. */
static const char *first_missing(const weft_bytes_t *a, const weft_bytes_t *b,
                                 char *buf, size_t size)
{
    for (size_t off = 0; off < a->len;) {
        const char *s = (const char *)a->data + off;
        size_t l = strnlen(s, a->len - off);
        snprintf(buf, size, "%.*s", (int)l, s);
        if (!listed(b, buf))
            return buf;
        off += l + 1;
    }
    return NULL;
}

int weft__mpi_names_check(const weft_bytes_t *ours, const weft_bytes_t *theirs,
                          int root, int rank)
{
    char buf[256];
    if (first_missing(ours, theirs, buf, sizeof buf))
        return weft_fail(WEFT_EINVAL,
                         "task '%s' is registered on rank %d (the root) but "
                         "not on rank %d",
                         buf, root, rank);
    if (first_missing(theirs, ours, buf, sizeof buf))
        return weft_fail(WEFT_EINVAL,
                         "task '%s' is registered on rank %d but not on "
                         "rank %d (the root)",
                         buf, rank, root);
    return 0;
}

/* ----- Settings ----- */

#define DEFAULT_TIMEOUT_NS 10000000000LL
#define BEAT_MAX_NS 1000000000LL

int weft__mpi_settings_read(struct weft__mpi_settings *s,
                            const weft_mpi_opts_t *o)
{
    memset(s, 0, sizeof *s);
    double t = o->worker_timeout;
    if (t == WEFT_FOREVER)
        s->timeout_ns = WEFT_NEVER;
    else if (isnan(t) || t < 0)
        return weft_fail(WEFT_EINVAL, "bad worker_timeout %g", t);
    else if (t == 0)
        s->timeout_ns = DEFAULT_TIMEOUT_NS;
    else
        s->timeout_ns = t * 1e9 >= 9e18 ? WEFT_NEVER : (int64_t)(t * 1e9) + 1;
    s->heartbeat_ns = s->timeout_ns == WEFT_NEVER ? BEAT_MAX_NS
                                                  : s->timeout_ns / 5;
    if (s->heartbeat_ns > BEAT_MAX_NS)
        s->heartbeat_ns = BEAT_MAX_NS;
    int rc = 0;
    if (o->initializer)
        rc = weft_fn_locate((weft_any_fn)o->initializer, &s->init_ref);
    if (rc == 0 && o->initarg_len)
        rc = o->initarg ? weft_bytes_copy(&s->initarg, o->initarg,
                                          o->initarg_len)
                        : weft_fail(WEFT_EINVAL, "NULL initarg");
    if (rc)
        weft__mpi_settings_clear(s);
    return rc;
}

void weft__mpi_settings_clear(struct weft__mpi_settings *s)
{
    weft_bytes_free(&s->init_ref);
    weft_bytes_free(&s->initarg);
}
