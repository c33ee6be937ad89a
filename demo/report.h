/* SPDX-License-Identifier: MIT */
/* What the three outputs (the text tables, the JSON, the HTML page and its
 * chart) share: finding a result, and writing numbers the same way. */
#ifndef WEFT_DEMO_REPORT_H
#define WEFT_DEMO_REPORT_H

#include <stdio.h>

#include "demo.h"

/* The result of that description, or NULL when none was recorded. */
const cpu_run_t *find_cpu(const demo_t *d, const char *impl,
                          const char *workload, const char *form,
                          unsigned workers);
const io_run_t *find_io(const demo_t *d, const char *impl, const char *form,
                        unsigned requests);
const race_run_t *find_race(const demo_t *d, const char *impl, const char *with,
                            int locked);

/* The serial time of a workload, and a speed-up over it (0 if unknown). */
double serial_seconds(const demo_t *d, const char *impl, const char *workload);
double speedup(const demo_t *d, const cpu_run_t *r);

/* The checksum all of weft's and Python's CPU runs agree on; sets *agree
 * to whether they all do. 0 if none ran. */
uint64_t agreed_checksum(const demo_t *d, int *agree);

/* "0.049 s", "1.37 s", "25 s"; "-" for a negative time. */
const char *fmt_seconds(char *buf, size_t size, double s);
/* "1,000,000" */
const char *fmt_count(char *buf, size_t size, long n);
/* "4.7 KiB", "31 KiB"; "" when unknown. */
const char *fmt_kib(char *buf, size_t size, double kib);

/* The forms as the reader knows them: "thread pool", "coroutines"... */
const char *form_label(const char *form);

/* The request counts the I/O section measured, in order; returns how many. */
size_t io_counts(const demo_t *d, unsigned *out, size_t cap);

/* The four tables (tables.c), as text into f, and the lines that sum
 * them up. */
void table_glance(const demo_t *d, FILE *f);
void table_cpu(const demo_t *d, FILE *f);
void table_io(const demo_t *d, FILE *f);
void table_robust(const demo_t *d, FILE *f);
void table_race(const demo_t *d, FILE *f);

/* The sections in order: name (as --only takes it), title, table. */
typedef struct section {
    const char *name;
    const char *title;
    void (*table)(const demo_t *d, FILE *f);
} section_t;
extern const section_t sections[4];
int section_ran(const demo_t *d, size_t i);

/* The chart's files, relative to the output folder. */
#define CHART_PNG "demo-chart.png"
#define CHART_SVG "demo-chart.svg"
#define CHART_SCRIPT "demo-chart.gp"
#define REPORT_HTML "demo-report.html"
#define RESULTS_JSON "demo-results.json"

/* The JSON of d into f (report_json writes it to stdout). */
void write_json(const demo_t *d, FILE *f);

/* Draw the chart with gnuplot into the output folder: 1 when drawn, else 0
 * with why in note. */
int draw_chart(const demo_t *d, char *note, size_t size);

/* Write the HTML page; 0 on success. */
int write_html(const demo_t *d, const char *path, int chart);

#endif
