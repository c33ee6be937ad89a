/* SPDX-License-Identifier: MIT */
/* Helpers shared by the tests: cmocka, a timing scale for slow (sanitized)
 * builds, and a way to start N threads that are released together. */
#ifndef WEFT_TESTING_H
#define WEFT_TESTING_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* clang-format off: cmocka.h needs the four above first */
#include <cmocka.h>
/* clang-format on */

#include "weft.h"

/* The factor by which timing bounds stretch: WEFT_TEST_SCALE (default 1;
 * the sanitizer runs set 4). Lower bounds never stretch. */
double testing_scale(void);

/* How long a torture test runs: WEFT_TORTURE_SECONDS (default 1). */
double testing_torture_seconds(void);

/* The seed of a test's own random choices: WEFT_CHAOS_SEED when set (the
 * chaos build's seed, so one number repeats a run), else 1. Printed to
 * stderr once, so that a failing run names the seed that repeats it. */
uint64_t testing_seed(void);

/* A small generator for tests (xorshift64*), seeded from testing_seed()
 * and a stream number (one per thread or process). */
typedef struct testing_rng {
    uint64_t s;
} testing_rng_t;
void testing_rng_init(testing_rng_t *r, uint64_t stream);
uint64_t testing_rng_next(testing_rng_t *r);
/* Uniform in [0, n), n > 0. */
uint64_t testing_rng_below(testing_rng_t *r, uint64_t n);

/* Nonzero when words is NULL or the thread's last message contains it. */
int testing_message_has(const char *words);

/* assert that a call returned code and left a message mentioning words. */
#define assert_fails_with(call, code, words)                                   \
    do {                                                                       \
        int rc_ = (call);                                                      \
        assert_int_equal(rc_, (code));                                         \
        assert_true(testing_message_has(words));                               \
    } while (0)

/* Elapsed seconds of a call, for bounds like "a 0.2 s timeout waits at least
 * 0.2 s and returns within a second". */
#define assert_elapsed_between(seconds, lo, hi)                                \
    do {                                                                       \
        double s_ = (seconds);                                                 \
        assert_true(s_ >= (lo));                                               \
        assert_true(s_ <= (hi)*testing_scale());                               \
    } while (0)

/* Torture accounting, from any thread: testing_error() counts an error
 * and keeps the first one's text; testing_errors() says how many so far
 * (a torture loop stops at the first); testing_assert_no_errors() fails
 * the test with the count and the first. */
__attribute__((format(printf, 1, 2))) void testing_error(const char *fmt, ...);
#define testing_check(cond, ...)                                               \
    do {                                                                       \
        if (!(cond))                                                           \
            testing_error(__VA_ARGS__);                                        \
    } while (0)
long testing_errors(void);
void testing_assert_no_errors(void);

/* Run fn(arg, i) on n new threads (i = 0..n-1), started together behind a
 * barrier so that they contend for real, and join them all. */
void testing_run_threads(unsigned n, void (*fn)(void *arg, unsigned i),
                         void *arg);

/* Start one helper thread running fn(arg); join it later. */
typedef struct testing_thread testing_thread_t;
testing_thread_t *testing_thread_start(void (*fn)(void *arg), void *arg);
void testing_thread_join(testing_thread_t *t);

/* Run a program and capture what it prints (stdout and stderr together,
 * NUL-terminated, caller frees). *status receives its exit status. */
char *testing_run_program(const char *cmdline, int *status);

/* Run the built example name, with args (may be NULL) on its command
 * line, as testing_run_program. */
char *testing_run_example(const char *name, const char *args, int *status);

/* The same for an example that must exit with 0; what it printed goes to
 * stderr when it does not. */
char *testing_run_example_ok(const char *name, const char *args);

/* Count the lines of text that contain needle. */
int testing_count_lines(const char *text, const char *needle);

#endif
