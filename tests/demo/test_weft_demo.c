/* SPDX-License-Identifier: MIT */
/* weft-demo, run once at a twentieth of its work (--scale 0.05 --json),
 * and its results checked: the factors themselves, the agreement of every
 * form on them, the shape of the speed-ups, the downloads, the crash and
 * the hang, the races, the Python side, and the files it writes.
 *
 * Timing shapes are checked only where they cannot be broken by a loaded
 * machine: weft-demo probes how many CPUs it really got around each run
 * ("available"), and a speed-up is asserted only for runs that had at
 * least 1.5 CPUs on both sides, and only in plain builds (sanitizers and
 * the chaos build change costs unevenly). Everything else is exact. */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_read.h"

#ifndef WEFT_DEMO_PROGRAM
#error "tests/CMakeLists.txt gives the path of the built weft-demo"
#endif

#define FREE_CPUS 1.5 /* a run had the CPUs when its probes found this */

static json_t demo;
static char out_dir[64];

/* The most downloads at once: 1,000, as --scale 0.05 has it, in plain
 * builds; 100 under the sanitizers and in the chaos build, where each
 * costs many times more. */
static unsigned most_requests(void)
{
    return testing_scale() == 1 ? 1000 : 100;
}

/* ----- Running it once ----- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

static int run_demo(void **state)
{
    snprintf(out_dir, sizeof out_dir, "/tmp/weft-demo-test-%ld",
             (long)getpid());
    char *cmd = NULL;
    /* stdout must be the JSON alone; what went to stderr is shown if not. */
    if (asprintf(&cmd,
                 "mkdir -p %s && { %s --scale 0.05 --json --requests %u "
                 "--out %s 2>%s/stderr; }",
                 out_dir, WEFT_DEMO_PROGRAM, most_requests(), out_dir,
                 out_dir) < 0)
        return -1;
    int status = -1;
    double t0 = weft_monotonic();
    char *out = testing_run_program(cmd, &status);
    free(cmd);
    fprintf(stderr, "weft-demo --scale 0.05 took %.1f s\n",
            weft_monotonic() - t0);
    int rc = status == 0 && json_parse(out, &demo) == 0 ? 0 : -1;
    if (rc != 0) {
        char path[128];
        snprintf(path, sizeof path, "%s/stderr", out_dir);
        char *err = read_file(path);
        fprintf(stderr, "weft-demo exited with %d; stdout:\n%s\nstderr:\n%s\n",
                status, out, err ? err : "");
        free(err);
    }
    free(out);
    return rc;
}

static int clean_up(void **state)
{
    json_free(&demo);
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf %s", out_dir) > 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", out_dir);
    free(cmd);
    return 0;
}

/* ----- Looking things up ----- */

static const json_t *section(const char *name)
{
    const json_t *s = json_get(&demo, name);
    assert_non_null(s);
    return s;
}

static const json_t *runs_of(const char *name)
{
    const json_t *r = json_get(section(name), "runs");
    assert_non_null(r);
    assert_int_equal(r->type, J_ARR);
    return r;
}

static const json_t *cpu_run(const char *impl, const char *workload,
                             const char *form, unsigned workers)
{
    const json_t *runs = runs_of("cpu");
    for (size_t i = 0; i < runs->n; i++) {
        const json_t *r = &runs->items[i];
        if (!strcmp(json_str(r, "impl"), impl) &&
            !strcmp(json_str(r, "workload"), workload) &&
            !strcmp(json_str(r, "form"), form) &&
            json_num(r, "workers") == workers)
            return r;
    }
    return NULL;
}

static const json_t *io_run(const char *impl, const char *form, unsigned n)
{
    const json_t *runs = runs_of("io");
    for (size_t i = 0; i < runs->n; i++) {
        const json_t *r = &runs->items[i];
        if (!strcmp(json_str(r, "impl"), impl) &&
            !strcmp(json_str(r, "form"), form) && json_num(r, "requests") == n)
            return r;
    }
    return NULL;
}

static int python_found(void)
{
    return json_num(section("python"), "found") == 1;
}

/* Timing shapes hold in plain builds only. */
static int plain_build(void)
{
    return testing_scale() == 1;
}

/* ----- The factors ----- */

static int is_prime(unsigned long n)
{
    if (n < 2)
        return 0;
    for (unsigned long d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static void every_shown_factorization_is_right(void **state)
{
    const json_t *samples = json_get(section("cpu"), "samples");
    assert_non_null(samples);
    assert_true(samples->n >= 1);
    for (size_t i = 0; i < samples->n; i++) {
        const json_t *s = &samples->items[i];
        unsigned long n = (unsigned long)json_num(s, "n"), product = 1,
                      last = 0;
        assert_true(n >= 20000 && n <= 100000000);
        const json_t *f = json_get(s, "factors");
        assert_non_null(f);
        for (size_t k = 0; k < f->n; k++) {
            unsigned long p = (unsigned long)f->items[k].num;
            assert_true(is_prime(p));
            assert_true(p >= last); /* in order, repeated as the seed has */
            last = p;
            product *= p;
        }
        assert_int_equal(product, n);
    }
}

/* The checksum of seed 003's job, computed here from scratch: the same
 * numbers (xorshift64 from weft-demo's seed), trial division, and FNV-1a
 * over each factor list followed by its length. */
static unsigned long long seeds_checksum(size_t count)
{
    unsigned long long x = 88172645463325252ull, h = 14695981039346656037ull;
    for (size_t i = 0; i < count; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned long n = 20000 + (unsigned long)(x % (100000000 - 20000 + 1));
        size_t k = 0;
        for (unsigned long d = 2; d * d <= n; d++)
            while (n % d == 0) {
                h = (h ^ d) * 1099511628211ull;
                n /= d;
                k++;
            }
        if (n > 1) {
            h = (h ^ n) * 1099511628211ull;
            k++;
        }
        h ^= k;
    }
    return h;
}

static void every_form_finds_the_same_right_factors(void **state)
{
    const json_t *cpu = section("cpu");
    assert_true(json_num(cpu, "agree") == 1);
    const json_t *serial = cpu_run("weft", "seeds", "serial", 1);
    assert_non_null(serial);
    size_t count = (size_t)json_num(serial, "numbers");
    assert_int_equal(count, 500); /* 10,000 x 0.05 */
    char expected[17];
    snprintf(expected, sizeof expected, "%016llx", seeds_checksum(count));
    assert_string_equal(json_str(cpu, "checksum"), expected);

    /* Every run that ran, weft's and Python's, on either workload, agrees
     * with the others of its workload. */
    const json_t *runs = runs_of("cpu");
    const json_t *scaled = cpu_run("weft", "scaled", "serial", 1);
    assert_non_null(scaled);
    int seen_processes = 0;
    for (size_t i = 0; i < runs->n; i++) {
        const json_t *r = &runs->items[i];
        if (!strcmp(json_str(r, "impl"), "seed") || json_num(r, "seconds") < 0)
            continue;
        const char *want = strcmp(json_str(r, "workload"), "seeds")
                               ? json_str(scaled, "checksum")
                               : expected;
        assert_string_equal(json_str(r, "checksum"), want);
        seen_processes += !strcmp(json_str(r, "form"), "process_pool");
    }
    /* seeds with N workers, scaled with 1..N workers, at least */
    assert_true(seen_processes >= 2);
}

/* The MPI column: weft-demo-mpi under mpirun, one run per worker count of
 * the sweep and one for seed 003's job, each agreeing with the serial
 * checksum of its workload; or, where it cannot run, the reason, given for
 * the column and on every row of it. */
static void the_mpi_column_runs_or_says_why(void **state)
{
    const json_t *mpi = json_get(section("cpu"), "mpi");
    assert_non_null(mpi);
    unsigned workers = (unsigned)json_num(section("demo"), "workers");
    assert_true(workers >= 1);
    assert_true(json_num(mpi, "built") == WEFT_DEMO_MPI_BUILT);
    if (!WEFT_DEMO_MPI_RUNS || json_num(mpi, "runs") != 1) {
        fprintf(stderr, "MPI column not run: %s\n", json_str(mpi, "reason"));
        /* Where it can run, it must have: a failure is an error here. */
        assert_false(WEFT_DEMO_MPI_RUNS);
        assert_true(strlen(json_str(mpi, "reason")) > 0);
        if (!WEFT_DEMO_MPI_BUILT)
            assert_non_null(strstr(json_str(mpi, "reason"), "without"));
        const json_t *r = cpu_run("weft", "scaled", "mpi", 1);
        assert_non_null(r);
        assert_true(json_num(r, "seconds") < 0);
        assert_string_equal(json_str(r, "note"), json_str(mpi, "reason"));
        return;
    }
    assert_true(strlen(json_str(mpi, "mpirun")) > 0);
    const json_t *scaled = cpu_run("weft", "scaled", "serial", 1);
    const json_t *seeds = cpu_run("weft", "seeds", "serial", 1);
    assert_non_null(scaled);
    assert_non_null(seeds);
    for (unsigned w = 1; w <= workers + 1; w++) {
        /* 1..N workers on the scaled job, then N on seed 003's */
        const json_t *r = w <= workers
                              ? cpu_run("weft", "scaled", "mpi", w)
                              : cpu_run("weft", "seeds", "mpi", workers);
        assert_non_null(r);
        if (json_num(r, "seconds") <= 0)
            fprintf(stderr, "MPI, %u workers: %s\n", w,
                    json_str(r, "note"));
        assert_true(json_num(r, "seconds") > 0);
        assert_true(json_num(r, "speedup") > 0);
        assert_string_equal(json_str(r, "checksum"),
                            json_str(w <= workers ? scaled : seeds,
                                     "checksum"));
    }
}

static void the_process_pool_beats_serial_when_two_cpus_are_free(void **state)
{
    const json_t *m = section("machine");
    const json_t *serial = cpu_run("weft", "scaled", "serial", 1);
    const json_t *pool = cpu_run("weft", "scaled", "process_pool", 2);
    assert_non_null(serial);
    if (json_num(m, "usable") < 2) {
        fprintf(stderr, "one CPU usable: no speed-up to check\n");
        return;
    }
    assert_non_null(pool);
    assert_true(json_num(serial, "seconds") > 0);
    assert_true(json_num(pool, "seconds") > 0);
    /* The median, over the rounds, of the serial time of each round over
     * the pool's in the same round. */
    double up = json_num(pool, "speedup");
    double had = json_num(pool, "available");
    if (!plain_build() || had < FREE_CPUS) {
        fprintf(stderr,
                "process pool %.2fx serial with %.2f CPUs free around "
                "its rounds: not checked\n",
                up, had);
        return;
    }
    /* Two workers on two free CPUs: well over serial (ideally twice). */
    assert_true(up >= 1.2);
}

/* ----- The downloads ----- */

static void downloads_all_arrive_in_every_form(void **state)
{
    const json_t *runs = runs_of("io");
    int ran = 0;
    for (size_t i = 0; i < runs->n; i++) {
        const json_t *r = &runs->items[i];
        if (json_num(r, "seconds") < 0) {
            assert_non_null(strstr(json_str(r, "note"), "not run"));
            continue;
        }
        assert_int_equal(json_num(r, "failed"), 0);
        assert_int_equal(json_num(r, "ok"), json_num(r, "requests"));
        ran++;
    }
    assert_true(ran >= 7); /* 10 and 100, three forms at least */
}

/* Whether the chaos points perturb this run (src/base/chaos.h). */
static int chaos_acts(void)
{
#if defined(WEFT_CHAOS)
    const char *rate = getenv("WEFT_CHAOS_RATE");
    if (rate != NULL && *rate != '\0')
        return atoi(rate) != 0;
    return WEFT_CHAOS_DEFAULT_RATE != 0;
#else
    return 0;
#endif
}

static void coroutines_hold_every_request_at_once(void **state)
{
    unsigned n = most_requests();
    const json_t *c = io_run("weft", "coroutines", n);
    const json_t *t = io_run("weft", "threads", n);
    assert_non_null(c);
    assert_non_null(t);
    /* All of them in flight at once, on one thread: the loop starts every
     * new task before it looks for answers. (The chaos build's yields
     * may let it look sooner.) */
    if (!chaos_acts())
        assert_int_equal(json_num(c, "in_flight"), n);
    assert_true(json_num(c, "in_flight") >= 1);
    assert_true(json_num(t, "in_flight") >= 1);
    if (!plain_build())
        return;
    /* A coroutine in flight costs less memory than a thread. */
    double ck = json_num(c, "kib_per_request");
    double tk = json_num(t, "kib_per_request");
    assert_true(ck > 0 && tk > 0);
    assert_true(ck < tk);
    double cs = json_num(c, "seconds"), ts = json_num(t, "seconds");
    double had = json_num(c, "available") < json_num(t, "available")
                     ? json_num(c, "available")
                     : json_num(t, "available");
    if (had < FREE_CPUS) {
        fprintf(stderr,
                "coroutines %.3f s, threads %.3f s with %.2f CPUs "
                "free: not compared\n",
                cs, ts, had);
        return;
    }
    assert_true(cs <= ts * 1.2 + 0.05);
}

/* ----- The crash and the hang ----- */

static const json_t *robust_tasks(const char *impl)
{
    const json_t *runs = runs_of("robust");
    for (size_t i = 0; i < runs->n; i++)
        if (!strcmp(json_str(&runs->items[i], "impl"), impl))
            return json_get(&runs->items[i], "tasks");
    return NULL;
}

static void a_crash_and_a_hang_fail_alone_in_weft(void **state)
{
    const json_t *tasks = robust_tasks("weft");
    assert_non_null(tasks);
    assert_int_equal(tasks->n, 9);
    for (size_t i = 0; i < tasks->n; i++) {
        const json_t *t = &tasks->items[i];
        const char *o = json_str(t, "outcome");
        assert_true(json_num(t, "ok") == 1);
        if (i == 2) {
            assert_non_null(strstr(o, "WEFT_EWORKERDIED"));
            /* A sanitizer turns the signal into an exit of its own. */
            if (plain_build())
                assert_non_null(strstr(o, "SIGSEGV"));
        } else if (i == 5) {
            assert_non_null(strstr(o, "WEFT_ETIMEDOUT"));
        } else {
            char square[32];
            snprintf(square, sizeof square, "%zu", i * i);
            assert_string_equal(o, square);
        }
    }
}

static void python_ran_or_is_reported_missing(void **state)
{
    const json_t *py = section("python");
    if (!python_found()) {
        assert_true(strlen(json_str(py, "reason")) > 0);
        /* The seed's own figures stand in. */
        const json_t *s = cpu_run("seed", "seeds", "serial", 1);
        assert_non_null(s);
        assert_true(json_num(s, "seconds") == 3.9);
        return;
    }
    assert_non_null(strstr(json_str(py, "version"), "Python 3"));
    static const char *const forms[] = {"serial", "thread_pool",
                                        "process_pool"};
    unsigned workers = (unsigned)json_num(section("demo"), "workers");
    for (size_t i = 0; i < 3; i++) {
        const json_t *r = cpu_run("python", "seeds", forms[i], i ? workers : 1);
        assert_non_null(r);
        assert_true(json_num(r, "seconds") > 0);
    }
    const json_t *c = io_run("python", "coroutines", most_requests());
    assert_non_null(c);
    assert_int_equal(json_num(c, "ok"), most_requests());
    const json_t *tasks = robust_tasks("python");
    assert_non_null(tasks);
    assert_int_equal(tasks->n, 9);
    /* Python's pool breaks as a whole: the crash and everything after. */
    assert_non_null(
        strstr(json_str(&tasks->items[2], "outcome"), "BrokenProcessPool"));
    assert_non_null(
        strstr(json_str(&tasks->items[8], "outcome"), "BrokenProcessPool"));
}

/* ----- The races ----- */

static void the_lock_makes_every_count_exact(void **state)
{
    const json_t *runs = runs_of("race");
    int locked = 0, lost = 0;
    for (size_t i = 0; i < runs->n; i++) {
        const json_t *r = &runs->items[i];
        double expected = json_num(r, "expected"), got = json_num(r, "got");
        assert_true(expected > 0);
        assert_true(got > 0 && got <= expected);
        if (json_num(r, "locked") == 1) {
            assert_true(got == expected);
            locked++;
        } else if (!strcmp(json_str(r, "impl"), "weft")) {
            lost += got < expected;
        }
    }
    assert_true(locked >= 2);
    /* weft's workers keep pace on two CPUs, so its race always shows. */
    if (json_num(section("machine"), "usable") >= 2)
        assert_int_equal(lost, 2);
}

/* ----- The files ----- */

static void the_report_and_the_results_are_written(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/demo-report.html", out_dir);
    char *html = read_file(path);
    assert_non_null(html);
    assert_non_null(strstr(html, "<pre>"));
    assert_non_null(strstr(html, "</html>"));
    free(html);
    snprintf(path, sizeof path, "%s/demo-results.json", out_dir);
    char *text = read_file(path);
    assert_non_null(text);
    json_t copy;
    assert_int_equal(json_parse(text, &copy), 0);
    json_free(&copy);
    free(text);
    const json_t *files = section("files");
    if (json_num(files, "chart") == 1) {
        struct stat st;
        snprintf(path, sizeof path, "%s/demo-chart.png", out_dir);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 0);
    } else {
        assert_true(strlen(json_str(files, "chart_note")) > 0);
    }
}

static void bad_options_are_refused(void **state)
{
    int status;
    char *out =
        testing_run_program(WEFT_DEMO_PROGRAM " --only nothing", &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "no section 'nothing'"));
    free(out);
    out = testing_run_program(WEFT_DEMO_PROGRAM " --scale -1", &status);
    assert_int_equal(status, 2);
    free(out);
    out = testing_run_program(WEFT_DEMO_PROGRAM " --requests 5", &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "--requests takes 10 to 10000"));
    free(out);
    out = testing_run_program(WEFT_DEMO_PROGRAM " --help", &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "--scale"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_shown_factorization_is_right),
        cmocka_unit_test(every_form_finds_the_same_right_factors),
        cmocka_unit_test(the_mpi_column_runs_or_says_why),
        cmocka_unit_test(the_process_pool_beats_serial_when_two_cpus_are_free),
        cmocka_unit_test(downloads_all_arrive_in_every_form),
        cmocka_unit_test(coroutines_hold_every_request_at_once),
        cmocka_unit_test(a_crash_and_a_hang_fail_alone_in_weft),
        cmocka_unit_test(python_ran_or_is_reported_missing),
        cmocka_unit_test(the_lock_makes_every_count_exact),
        cmocka_unit_test(the_report_and_the_results_are_written),
        cmocka_unit_test(bad_options_are_refused),
    };
    return cmocka_run_group_tests(tests, run_demo, clean_up);
}
