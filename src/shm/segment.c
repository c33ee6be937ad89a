/* SPDX-License-Identifier: MIT */
/* SharedMemory: anonymous segments (memfd) and named ones (/dev/shm), with
 * the creator as the only process that may unlink a name (see tracker.c
 * for the creator that does not).
 *
 * A named segment never exists under its name before the tracker knows
 * it, so that a creator killed at any point leaves nothing behind: it is
 * made nameless (O_TMPFILE in /dev/shm) and sized, the tracker is told its
 * name and inode (and started, the first time), and only then does it get
 * its name (linkat(), which fails if the name is taken). Killed before the
 * name, the creator leaves a nameless file that the kernel frees with its
 * last descriptor, and a tracked name that is not that inode, which the
 * tracker forgets; killed after, a tracked segment, which the tracker
 * removes. The creator then opens the segment again by its name, so that
 * its descriptor (and a child's copy of it) reads as the name rather than
 * as the nameless file it was made as. */
#include "base/check.h"
#include "shm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_LIMIT 255

#define SHM_DIR "/dev/shm"

struct weft_shm {
    int fd;
    void *buf;
    size_t size;
    char *name; /* as Python shows it: no leading '/'; NULL if anonymous */
    int creator;
    int unlinked;
    ino_t ino; /* the creator's: what the tracker was told */
};

static _Atomic unsigned name_counter;

/* ----- Names ----- */

/* Python's name without its leading '/', checked; a new copy. */
static int clean_name(const char *name, char **out)
{
    if (name[0] == '/')
        name++;
    size_t len = strlen(name);
    if (len == 0 || len > NAME_LIMIT || strchr(name, '/') ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return weft_fail(WEFT_EINVAL, "bad shared memory name '%s'", name);
    if ((*out = strdup(name)) == NULL)
        return weft_fail(WEFT_ENOMEM, "shared memory: no memory");
    return 0;
}

static char *fresh_name(void)
{
    char *name = NULL;
    unsigned n = atomic_fetch_add(&name_counter, 1) + 1;
    if (asprintf(&name, "weft-%ld-%u", (long)getpid(), n) < 0)
        return NULL;
    return name;
}

static int open_named(const char *name, int flags)
{
    char path[NAME_LIMIT + 2];
    snprintf(path, sizeof path, "/%s", name);
    return shm_open(path, flags | O_RDWR | O_CLOEXEC, 0600);
}

/* ----- Mapping ----- */

static int map_fd(weft_shm_t **out, int fd, char *name, int creator)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        close(fd);
        free(name);
        return weft_fail(WEFT_EINVAL, "not a shared memory segment");
    }
    weft_shm_t *s = calloc(1, sizeof *s);
    void *buf = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    if (s == NULL || buf == MAP_FAILED) {
        if (buf != MAP_FAILED)
            munmap(buf, (size_t)st.st_size);
        free(s);
        close(fd);
        free(name);
        return weft_fail(WEFT_ENOMEM, "cannot map shared memory");
    }
    *s = (struct weft_shm){fd,      buf, (size_t)st.st_size, name,
                           creator, 0,   st.st_ino};
    *out = s;
    return 0;
}

/* ----- Creating and attaching ----- */

static int create_anonymous(weft_shm_t **out, size_t size)
{
    int fd = memfd_create("weft-shm", MFD_CLOEXEC);
    if (fd < 0)
        return weft_fail(WEFT_ESYS, "memfd_create: %s", strerror(errno));
    if (ftruncate(fd, (off_t)size) < 0) {
        close(fd);
        return weft_fail(WEFT_ENOMEM, "cannot size shared memory");
    }
    return map_fd(out, fd, NULL, 1);
}

/* A new nameless file in /dev/shm of size bytes, in *fd; *st its stat. */
static int open_nameless(size_t size, int *fd, struct stat *st)
{
    *fd = open(SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (*fd < 0)
        return weft_fail(WEFT_ESYS,
                         "cannot create shared memory in " SHM_DIR ": %s",
                         strerror(errno));
    if (ftruncate(*fd, (off_t)size) < 0 || fstat(*fd, st) < 0) {
        int err = errno;
        close(*fd);
        return weft_fail(WEFT_ENOMEM, "cannot size shared memory: %s",
                         strerror(err));
    }
    return 0;
}

/* Give the nameless file fd the name /dev/shm/name unless it is taken:
 * 0, or the errno. */
static int give_name(int fd, const char *name)
{
    char from[64], to[NAME_LIMIT + sizeof SHM_DIR + 2];
    snprintf(from, sizeof from, "/proc/self/fd/%d", fd);
    snprintf(to, sizeof to, SHM_DIR "/%s", name);
    return linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW) == 0 ? 0
                                                                        : errno;
}

/* Tell the tracker, then name fd (inode ino) *name; a taken generated name
 * tries the next. */
static int name_tracked(int fd, ino_t ino, char **name, int generated)
{
    for (;;) {
        int rc = weft__tracker_register(*name, ino);
        if (rc)
            return rc;
        int err = give_name(fd, *name);
        if (err == 0)
            return 0;
        weft__tracker_unregister(*name, ino);
        if (err != EEXIST)
            return weft_fail(WEFT_ESYS, "cannot name shared memory '%s': %s",
                             *name, strerror(err));
        if (!generated)
            return weft_fail(WEFT_EEXIST, "shared memory '%s' exists", *name);
        free(*name);
        if ((*name = fresh_name()) == NULL)
            return weft_fail(WEFT_ENOMEM, "shared memory: no memory");
    }
}

/* The named segment again, by its name, if it is still inode ino (else,
 * unlinked meanwhile by another process, the nameless descriptor stays). */
static int reopen_named(int fd, const char *name, ino_t ino)
{
    int again = open_named(name, 0);
    struct stat st;
    if (again < 0)
        return fd;
    if (fstat(again, &st) < 0 || st.st_ino != ino) {
        close(again);
        return fd;
    }
    close(fd);
    return again;
}

static int create_named(weft_shm_t **out, char *name, int generated,
                        size_t size)
{
    int fd;
    struct stat st;
    int rc = open_nameless(size, &fd, &st);
    if (rc == 0 && (rc = name_tracked(fd, st.st_ino, &name, generated)) != 0)
        close(fd);
    if (rc) {
        free(name);
        return rc;
    }
    fd = reopen_named(fd, name, st.st_ino);
    char path[NAME_LIMIT + 2];
    snprintf(path, sizeof path, "/%s", name);
    rc = map_fd(out, fd, name, 1); /* takes name */
    if (rc) {                      /* the name goes: nobody has it yet */
        shm_unlink(path);
        weft__tracker_unregister(path + 1, st.st_ino);
    }
    return rc;
}

int weft_shm_create(weft_shm_t **out, const char *name, size_t size)
{
    if (out == NULL || size == 0)
        return weft_fail(WEFT_EINVAL, "shm_create: %s",
                         out ? "size must be positive" : "NULL out");
    if (name == NULL)
        return create_anonymous(out, size);
    if (strchr(name, '\n'))
        return weft_fail(WEFT_EINVAL, "a shared memory name may not hold a "
                                      "newline: the tracker could not carry "
                                      "it");
    char *clean = NULL;
    int generated = name[0] == '\0';
    if (generated && (clean = fresh_name()) == NULL)
        return weft_fail(WEFT_ENOMEM, "shared memory: no memory");
    int rc = generated ? 0 : clean_name(name, &clean);
    return rc ? rc : create_named(out, clean, generated, size);
}

int weft_shm_attach(weft_shm_t **out, const char *name)
{
    if (out == NULL || name == NULL)
        return weft_fail(WEFT_EINVAL, "shm_attach: NULL");
    char *clean;
    int rc = clean_name(name, &clean);
    if (rc)
        return rc;
    int fd = open_named(clean, 0);
    if (fd < 0) {
        int err = errno;
        rc = err == ENOENT
                 ? weft_fail(WEFT_EKEY, "no shared memory named '%s'", clean)
                 : weft_fail(WEFT_ESYS, "shm_open '%s': %s", clean,
                             strerror(err));
        free(clean);
        return rc;
    }
    return map_fd(out, fd, clean, 0);
}

/* ----- Using ----- */

void *weft_shm_buf(const weft_shm_t *s)
{
    WEFT_REFUSE_NULL_OR(s, NULL);
    return s ? s->buf : NULL;
}

size_t weft_shm_size(const weft_shm_t *s)
{
    WEFT_REFUSE_NULL_OR(s, 0);
    return s ? s->size : 0;
}

const char *weft_shm_name(const weft_shm_t *s)
{
    WEFT_REFUSE_NULL_OR(s, NULL);
    return s ? s->name : NULL;
}

int weft_shm_is_creator(const weft_shm_t *s)
{
    WEFT_REFUSE_NULL_OR(s, 0);
    return s && s->creator;
}

int weft_shm_close(weft_shm_t *s)
{
    if (s == NULL)
        return weft_fail(WEFT_EINVAL, "shm_close: NULL");
    if (s->buf) {
        munmap(s->buf, s->size);
        close(s->fd);
        s->buf = NULL;
        s->fd = -1;
    }
    return 0;
}

int weft_shm_unlink(weft_shm_t *s)
{
    if (s == NULL || s->name == NULL)
        return weft_fail(WEFT_EINVAL, "shm_unlink: %s",
                         s ? "an anonymous segment has no name" : "NULL");
    if (!s->creator)
        return weft_fail(WEFT_EPERM, "only the creator unlinks '%s'", s->name);
    if (s->unlinked)
        return weft_fail(WEFT_ESTATE, "'%s' is unlinked already", s->name);
    char path[NAME_LIMIT + 2];
    snprintf(path, sizeof path, "/%s", s->name);
    if (shm_unlink(path) < 0 && errno != ENOENT)
        return weft_fail(WEFT_ESYS, "shm_unlink '%s': %s", s->name,
                         strerror(errno));
    s->unlinked = 1;
    weft__tracker_unregister(s->name, s->ino);
    return 0;
}

void weft_shm_free(weft_shm_t *s)
{
    if (s == NULL)
        return;
    weft_shm_close(s);
    free(s->name);
    free(s);
}

/* ----- Handles ----- */

int weft_shm_share(const weft_shm_t *s, weft_share_t *h)
{
    if (s == NULL || h == NULL)
        return weft_fail(WEFT_EINVAL, "shm_share: NULL");
    if (s->buf == NULL)
        return weft_fail(WEFT_ESTATE, "the segment is closed");
    memset(h, 0, sizeof *h);
    h->kind = WEFT_SHARE_SHM;
    h->nfds = 1;
    h->fds[0] = s->fd;
    h->words[0] = s->size;
    h->words[1] = s->name != NULL;
    return 0;
}

/* The name of a named segment behind fd: /proc/self/fd/N reads
 * "/dev/shm/<name>". NULL for an anonymous one. */
static char *name_of(int fd)
{
    char path[64], target[NAME_LIMIT + 32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return NULL;
    target[n] = '\0';
    const char *prefix = "/dev/shm/";
    if (strncmp(target, prefix, strlen(prefix)) != 0)
        return NULL;
    char *deleted = strstr(target, " (deleted)");
    if (deleted)
        *deleted = '\0';
    return strdup(target + strlen(prefix));
}

int weft_shm_from_share(weft_shm_t **out, const weft_share_t *h)
{
    if (out == NULL || h == NULL || h->kind != WEFT_SHARE_SHM || h->nfds != 1)
        return weft_fail(WEFT_EINVAL, "not a shared memory share");
    char *name = h->words[1] ? name_of(h->fds[0]) : NULL;
    return map_fd(out, h->fds[0], name, 0);
}
