/* SPDX-License-Identifier: MIT */
/* The tables on the terminal, and the files beside them: the results as
 * JSON, the chart (chart.c) and the HTML page (html.c). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"

/* ----- Finding results ----- */

const cpu_run_t *find_cpu(const demo_t *d, const char *impl,
                          const char *workload, const char *form,
                          unsigned workers)
{
    for (size_t i = 0; i < d->ncpu; i++) {
        const cpu_run_t *r = &d->cpu[i];
        if (!strcmp(r->impl, impl) && !strcmp(r->workload, workload) &&
            !strcmp(r->form, form) && (workers == 0 || r->workers == workers))
            return r;
    }
    return NULL;
}

const io_run_t *find_io(const demo_t *d, const char *impl, const char *form,
                        unsigned requests)
{
    for (size_t i = 0; i < d->nio; i++) {
        const io_run_t *r = &d->io[i];
        if (!strcmp(r->impl, impl) && !strcmp(r->form, form) &&
            r->requests == requests)
            return r;
    }
    return NULL;
}

const race_run_t *find_race(const demo_t *d, const char *impl, const char *with,
                            int locked)
{
    for (size_t i = 0; i < d->nrace; i++) {
        const race_run_t *r = &d->race[i];
        if (!strcmp(r->impl, impl) && !strcmp(r->with, with) &&
            r->locked == locked)
            return r;
    }
    return NULL;
}

double serial_seconds(const demo_t *d, const char *impl, const char *workload)
{
    const cpu_run_t *r = find_cpu(d, impl, workload, "serial", 1);
    return r && r->seconds > 0 ? r->seconds : 0;
}

double speedup(const demo_t *d, const cpu_run_t *r)
{
    if (r->speedup > 0)
        return r->speedup;
    double s = serial_seconds(d, r->impl, r->workload);
    return s > 0 && r->seconds > 0 ? s / r->seconds : 0;
}

uint64_t agreed_checksum(const demo_t *d, int *agree)
{
    *agree = 1;
    uint64_t sum[2] = {0, 0}; /* per workload: seeds, scaled */
    for (size_t i = 0; i < d->ncpu; i++) {
        const cpu_run_t *r = &d->cpu[i];
        if (r->seconds < 0 || !strcmp(r->impl, DEMO_SEED))
            continue;
        int w = strcmp(r->workload, "seeds") != 0;
        if (sum[w] == 0)
            sum[w] = r->checksum;
        else if (sum[w] != r->checksum)
            *agree = 0;
    }
    if (sum[0] == 0 && sum[1] == 0)
        *agree = 0;
    return sum[0];
}

size_t io_counts(const demo_t *d, unsigned *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nio; i++) {
        int seen = 0;
        for (size_t j = 0; j < n; j++)
            seen |= out[j] == d->io[i].requests;
        if (!seen && n < cap)
            out[n++] = d->io[i].requests;
    }
    return n;
}

/* ----- Numbers ----- */

const char *fmt_seconds(char *buf, size_t size, double s)
{
    if (s < 0)
        snprintf(buf, size, "-");
    else if (s < 0.1)
        snprintf(buf, size, "%.3f s", s);
    else if (s < 10)
        snprintf(buf, size, "%.2f s", s);
    else
        snprintf(buf, size, "%.0f s", s);
    return buf;
}

const char *fmt_count(char *buf, size_t size, long n)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%ld", n < 0 ? -n : n);
    size_t len = strlen(digits), o = 0;
    if (n < 0 && o + 1 < size)
        buf[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

const char *fmt_kib(char *buf, size_t size, double kib)
{
    if (kib < 0)
        snprintf(buf, size, "%s", "");
    else if (kib < 10)
        snprintf(buf, size, "%.1f KiB", kib);
    else
        snprintf(buf, size, "%.0f KiB", kib);
    return buf;
}

const char *form_label(const char *form)
{
    static const char *const labels[][2] = {{"serial", "serial"},
                                            {"thread_pool", "thread pool"},
                                            {"process_pool", "process pool"},
                                            {"processes", "processes"},
                                            {"threads", "threads"},
                                            {"coroutines", "coroutines"},
                                            {"mpi", "MPI"}};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (!strcmp(form, labels[i][0]))
            return labels[i][1];
    return form;
}

/* ----- The sections ----- */

const section_t sections[4] = {
    {"cpu",
     "1. CPU-bound: no GIL, so threads and processes both run in "
     "parallel",
     table_cpu},
    {"io", "2. I/O-bound: thousands of requests in flight, on one thread",
     table_io},
    {"robust", "3. A crash or a hang fails one task, not the pool",
     table_robust},
    {"race", "4. Races you can see, and the Lock that fixes them", table_race},
};

int section_ran(const demo_t *d, size_t i)
{
    const int ran[4] = {d->ran_cpu, d->ran_io, d->ran_robust, d->ran_race};
    return i < 4 && ran[i];
}

static void header(const demo_t *d, FILE *f)
{
    const machine_info_t *m = &d->machine;
    fprintf(f, "weft %s: what weft does that Python cannot, measured\n",
            weft_version());
    fprintf(f, "machine: %s, %u CPUs (%u usable); %s; %s\n", m->cpu_model,
            m->cpus, m->usable, m->kernel, m->date);
    if (d->python.found)
        fprintf(f, "Python:  %s (%s)\n", d->python.version, d->python.path);
    else
        fprintf(f, "Python:  %s: the seeds' reported figures stand in\n",
                d->python.reason);
    fprintf(f, "command: %s\n", d->opts.command);
}

void report_text(const demo_t *d)
{
    putchar('\n');
    header(d, stdout);
    printf("\nAt a glance (the tables follow):\n");
    table_glance(d, stdout);
    for (size_t i = 0; i < 4; i++) {
        if (!section_ran(d, i))
            continue;
        printf("\n%s\n", sections[i].title);
        for (size_t k = 0; sections[i].title[k]; k++)
            putchar('-');
        printf("\n");
        sections[i].table(d, stdout);
    }
    printf("\nAll of it took %.0f s.\n", d->seconds);
    fflush(stdout);
}

void report_json(const demo_t *d)
{
    write_json(d, stdout);
    fflush(stdout);
}

static int make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* Where the reader is told the files are: the output folder says it. */
static void path_of(const demo_t *d, const char *name, char *buf, size_t size)
{
    if (strcmp(d->opts.out, ".") == 0)
        demo_note(buf, size, "%s", name);
    else
        demo_note(buf, size, "%s/%s", d->opts.out, name);
}

void report_chart(demo_t *d)
{
    d->out_ok = make_dir(d->opts.out) == 0;
    if (!d->out_ok)
        demo_note(d->chart_note, sizeof d->chart_note, "cannot make %s: %s",
                  d->opts.out, strerror(errno));
    else if (!d->opts.chart)
        demo_copy(d->chart_note, sizeof d->chart_note, "not asked for");
    else
        d->chart = draw_chart(d, d->chart_note, sizeof d->chart_note);
}

void report_files(const demo_t *d)
{
    if (!d->out_ok) {
        fprintf(stderr, "weft-demo: %s\n", d->chart_note);
        return;
    }
    char json[1024], html[1024], png[1024], svg[1024];
    path_of(d, RESULTS_JSON, json, sizeof json);
    path_of(d, REPORT_HTML, html, sizeof html);
    path_of(d, CHART_PNG, png, sizeof png);
    path_of(d, CHART_SVG, svg, sizeof svg);
    FILE *f = fopen(json, "w");
    int json_ok = f != NULL;
    if (f) {
        write_json(d, f);
        json_ok = fclose(f) == 0;
    }
    int html_ok = write_html(d, html, d->chart) == 0;
    if (!json_ok || !html_ok)
        fprintf(stderr, "weft-demo: cannot write %s: %s\n",
                json_ok ? html : json, strerror(errno));
    if (d->opts.json) /* stdout is the JSON alone */
        return;
    if (d->chart)
        printf("Chart:   %s and %s\n", png, svg);
    else if (d->opts.chart)
        printf("Chart:   not drawn: %s\n", d->chart_note);
    if (html_ok)
        printf("Report:  %s (the tables and the chart; open it in a "
               "browser)\n",
               html);
    if (json_ok)
        printf("Results: %s\n", json);
}
