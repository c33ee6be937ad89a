/* SPDX-License-Identifier: MIT */
/* Helpers shared by the tests. */
#include "testing.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

double testing_scale(void)
{
    const char *s = getenv("WEFT_TEST_SCALE");
    double f = s ? atof(s) : 1.0;
    return f >= 1.0 ? f : 1.0;
}

double testing_torture_seconds(void)
{
    const char *s = getenv("WEFT_TORTURE_SECONDS");
    double f = s ? atof(s) : 1.0;
    return f > 0 ? f : 1.0;
}

uint64_t testing_seed(void)
{
    static _Atomic int said;
    const char *s = getenv("WEFT_CHAOS_SEED");
    uint64_t seed = s && *s ? strtoull(s, NULL, 0) : 1;
    if (!atomic_exchange(&said, 1))
        fprintf(stderr, "seed: WEFT_CHAOS_SEED=%llu\n",
                (unsigned long long)seed);
    return seed;
}

void testing_rng_init(testing_rng_t *r, uint64_t stream)
{
    r->s = (testing_seed() + 1) * 0x9E3779B97F4A7C15ull ^
           (stream + 1) * 0xBF58476D1CE4E5B9ull;
    if (r->s == 0)
        r->s = 1;
}

uint64_t testing_rng_next(testing_rng_t *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

uint64_t testing_rng_below(testing_rng_t *r, uint64_t n)
{
    return testing_rng_next(r) % n;
}

int testing_message_has(const char *words)
{
    if (words == NULL || strstr(weft_last_message(), words))
        return 1;
    fprintf(stderr, "message \"%s\" lacks \"%s\"\n", weft_last_message(),
            words);
    return 0;
}

struct group {
    void (*fn)(void *arg, unsigned i);
    void *arg;
    pthread_barrier_t start;
};

struct member {
    struct group *g;
    unsigned i;
};

static void *member_main(void *p)
{
    struct member *m = p;
    pthread_barrier_wait(&m->g->start);
    m->g->fn(m->g->arg, m->i);
    return NULL;
}

void testing_run_threads(unsigned n, void (*fn)(void *arg, unsigned i),
                         void *arg)
{
    struct group g = {fn, arg, {{0}}};
    pthread_barrier_init(&g.start, NULL, n);
    pthread_t *t = calloc(n, sizeof *t);
    struct member *m = calloc(n, sizeof *m);
    assert_non_null(t);
    assert_non_null(m);
    for (unsigned i = 0; i < n; i++) {
        m[i] = (struct member){&g, i};
        assert_int_equal(pthread_create(&t[i], NULL, member_main, &m[i]), 0);
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&g.start);
    free(t);
    free(m);
}

struct testing_thread {
    pthread_t id;
    void (*fn)(void *arg);
    void *arg;
};

static void *single_main(void *p)
{
    struct testing_thread *t = p;
    t->fn(t->arg);
    return NULL;
}

testing_thread_t *testing_thread_start(void (*fn)(void *arg), void *arg)
{
    testing_thread_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->fn = fn;
    t->arg = arg;
    assert_int_equal(pthread_create(&t->id, NULL, single_main, t), 0);
    return t;
}

void testing_thread_join(testing_thread_t *t)
{
    pthread_join(t->id, NULL);
    free(t);
}

char *testing_run_program(const char *cmdline, int *status)
{
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "%s 2>&1", cmdline) > 0);
    FILE *p = popen(cmd, "r");
    free(cmd);
    assert_non_null(p);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[len] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return out;
}

char *testing_run_example(const char *name, const char *args, int *status)
{
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "%s/%s%s%s", WEFT_EXAMPLES_DIR, name,
                         args ? " " : "", args ? args : "") > 0);
    char *out = testing_run_program(cmd, status);
    free(cmd);
    return out;
}

char *testing_run_example_ok(const char *name, const char *args)
{
    int status = -1;
    char *out = testing_run_example(name, args, &status);
    if (status != 0)
        fprintf(stderr, "%s exited with %d:\n%s", name, status, out);
    assert_int_equal(status, 0);
    return out;
}

int testing_count_lines(const char *text, const char *needle)
{
    int count = 0;
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        if (strstr(copy, needle))
            count++;
        free(copy);
        line += len + (end ? 1 : 0);
    }
    return count;
}

/* ----- Torture accounting ----- */

static _Atomic long errors;
static _Atomic int error_claimed;
static char first_error[512];

void testing_error(const char *fmt, ...)
{
    if (atomic_fetch_add(&errors, 1) != 0 || atomic_exchange(&error_claimed, 1))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first_error, sizeof first_error, fmt, ap);
    va_end(ap);
}

long testing_errors(void)
{
    return atomic_load(&errors);
}

void testing_assert_no_errors(void)
{
    if (atomic_load(&errors))
        fail_msg("%ld errors; the first: %s", atomic_load(&errors),
                 first_error);
}
