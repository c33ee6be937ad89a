/* SPDX-License-Identifier: MIT */
/* weft-demo's command line: options, the machine, and the four sections
 * in order. See demo.h for what each section shows. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

static const char usage[] =
    "Usage: weft-demo [OPTION]...\n"
    "What weft does that Python cannot: the seeds' examples, measured.\n"
    "\n"
    "Sections: cpu (prime factors: serial, thread pool, process pool),\n"
    "io (downloads: serial, threads, thread pool, coroutines), robust (a\n"
    "process pool with a crashing and a hanging task), race (a counter\n"
    "race with threads and processes). Where python3 is installed, the\n"
    "same work runs in Python (examples/python/) and the two are shown\n"
    "side by side; where it is not, the seeds' own figures are shown.\n"
    "\n"
    "  --json          print the results as JSON on stdout, no tables\n"
    "  --workers N     try 1 to N workers (default: the CPUs usable)\n"
    "  --scale S       run S times the full workloads (default 1; the\n"
    "                  test runs 0.05)\n"
    "  --only NAME     run only these sections (cpu, io, robust, race;\n"
    "                  several separated by commas)\n"
    "  --no-chart      do not draw the chart\n"
    "  --out DIR       where demo-report.html and the chart go (default .)\n"
    "  --repeat R      R rounds of each CPU timing, the median shown\n"
    "                  (default 3)\n"
    "  --requests N    at most N downloads at once (10 to 10000; default\n"
    "                  10000 times the scale, and at least 1000)\n"
    "  --python PATH   the Python to compare with (default: /usr/bin/python3,\n"
    "                  else python3 on the PATH)\n"
    "  --no-python     do not run Python; show the seeds' figures\n"
    "  --help          show this and exit\n";

void demo_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

void demo_note(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}

void demo_say(const demo_t *d, const char *fmt, ...)
{
    if (d->opts.json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

double demo_rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024.0) : 0;
}

size_t demo_scaled(const demo_t *d, size_t full, size_t min)
{
    double n = full * d->opts.scale + 0.5;
    return n < min ? min : (size_t)n;
}

static int parse_options(demo_opts_t *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"json", no_argument, NULL, 'j'},
        {"workers", required_argument, NULL, 'w'},
        {"scale", required_argument, NULL, 's'},
        {"only", required_argument, NULL, 'o'},
        {"no-chart", no_argument, NULL, 'C'},
        {"out", required_argument, NULL, 'O'},
        {"repeat", required_argument, NULL, 'r'},
        {"requests", required_argument, NULL, 'R'},
        {"python", required_argument, NULL, 'p'},
        {"no-python", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (demo_opts_t){.scale = 1, .chart = 1, .out = ".", .repeat = 3};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'j':
            o->json = 1;
            break;
        case 'w':
            o->workers = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o->workers < 1 || o->workers > DEMO_MAX_WORKERS) {
                fprintf(stderr, "weft-demo: --workers takes 1 to %d\n",
                        DEMO_MAX_WORKERS);
                return 2;
            }
            break;
        case 's':
            o->scale = strtod(optarg, &end);
            if (*end || !(o->scale > 0 && o->scale <= 100)) {
                fprintf(stderr, "weft-demo: --scale takes a number in "
                                "(0, 100]\n");
                return 2;
            }
            break;
        case 'o':
            o->only = optarg;
            break;
        case 'C':
            o->chart = 0;
            break;
        case 'O':
            o->out = optarg;
            break;
        case 'r':
            o->repeat = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o->repeat < 1 || o->repeat > DEMO_MAX_REPEAT) {
                fprintf(stderr, "weft-demo: --repeat takes 1 to %d\n",
                        DEMO_MAX_REPEAT);
                return 2;
            }
            break;
        case 'R':
            o->requests = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o->requests < 10 || o->requests > 10000) {
                fprintf(stderr, "weft-demo: --requests takes 10 to 10000\n");
                return 2;
            }
            break;
        case 'p':
            o->python = optarg;
            break;
        case 'P':
            o->no_python = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "weft-demo: unexpected argument '%s'\n%s", argv[optind],
                usage);
        return 2;
    }
    return -1;
}

static int wants(const demo_t *d, const char *section)
{
    const char *only = d->opts.only;
    if (only == NULL)
        return 1;
    size_t n = strlen(section);
    for (const char *p = only; (p = strstr(p, section)) != NULL; p += n)
        if ((p == only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

static int check_only(const char *only)
{
    static const char *const names[] = {"cpu", "io", "robust", "race"};
    char buf[128];
    demo_copy(buf, sizeof buf, only);
    for (char *save, *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        int known = 0;
        for (size_t i = 0; i < 4; i++)
            known |= strcmp(t, names[i]) == 0;
        if (!known) {
            fprintf(stderr,
                    "weft-demo: --only: no section '%s' (cpu, io, "
                    "robust, race)\n",
                    t);
            return 0;
        }
    }
    return 1;
}

static void cpu_model(char *buf, size_t size)
{
    demo_copy(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            char *v = strchr(line, ':') + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            demo_copy(buf, size, v);
            break;
        }
    fclose(f);
}

static void describe_machine(machine_info_t *m)
{
    cpu_model(m->cpu_model, sizeof m->cpu_model);
    m->cpus = weft_cpu_count();
    m->usable = weft_process_cpu_count();
    struct utsname u;
    if (uname(&u) == 0)
        demo_note(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release,
                  u.machine);
    time_t now = time(NULL);
    strftime(m->date, sizeof m->date, "%Y-%m-%d %H:%M", localtime(&now));
}

/* 10,000 requests at once need a descriptor each, in the client and in
 * the server: take all the kernel allows this process. */
static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static void remember_command(demo_opts_t *o, int argc, char **argv)
{
    size_t used = 0;
    o->command[0] = '\0';
    for (int i = 0; i < argc && used < sizeof o->command; i++) {
        const char *a = i == 0 ? "weft-demo" : argv[i];
        used += snprintf(o->command + used, sizeof o->command - used, "%s%s",
                         i ? " " : "", a);
    }
}

int main(int argc, char **argv)
{
    static demo_t d;
    int rc = parse_options(&d.opts, argc, argv);
    if (rc >= 0)
        return rc;
    if (d.opts.only && !check_only(d.opts.only))
        return 2;
    remember_command(&d.opts, argc, argv);
    raise_fd_limit();
    describe_machine(&d.machine);
    d.workers = d.opts.workers ? d.opts.workers : d.machine.usable;
    if (d.workers < 1)
        d.workers = 1;
    if (d.workers > DEMO_MAX_WORKERS)
        d.workers = DEMO_MAX_WORKERS;
    python_find(&d);
    mpi_find(&d);

    double t0 = weft_monotonic();
    static const struct {
        const char *name;
        void (*run)(demo_t *d);
    } steps[] = {{"cpu", demo_cpu},
                 {"io", demo_io},
                 {"robust", demo_robust},
                 {"race", demo_race}};
    int *ran[] = {&d.ran_cpu, &d.ran_io, &d.ran_robust, &d.ran_race};
    for (size_t i = 0; i < 4; i++) {
        if (!(*ran[i] = wants(&d, steps[i].name)))
            continue;
        double t = weft_monotonic();
        steps[i].run(&d);
        demo_say(&d, "  (%.1f s)", weft_monotonic() - t);
    }
    d.seconds = weft_monotonic() - t0;

    report_chart(&d);
    if (d.opts.json)
        report_json(&d);
    else
        report_text(&d);
    report_files(&d);
    return 0;
}
