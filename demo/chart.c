/* SPDX-License-Identifier: MIT */
/* The chart: gnuplot (Debian's gnuplot-nox) draws the results as PNG and
 * SVG, from a script that holds its own data (demo-chart.gp, left beside
 * the pictures so that anyone can redraw or restyle them). Up to four
 * panels: Python against weft on seed 003's job; the speed-up over serial
 * for 1 to N workers; how many downloads were in flight at once, and the
 * memory each one took, against how many were asked for. (The downloads'
 * times are in the table: on a busy machine they say more about the
 * scheduler than about the forms.) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define WEFT_COLOR "#1b9e77"
#define WEFT2_COLOR "#7570b3"
#define PYTHON_COLOR "#d95f02"
#define PYTHON2_COLOR "#e6ab02"

static void value(FILE *f, double v)
{
    if (v > 0)
        fprintf(f, " %g", v);
    else
        fprintf(f, " ?");
}

/* ----- Panel: Python and weft on seed 003's job ----- */

static int panel_python(const demo_t *d, FILE *data, FILE *plot)
{
    static const char *const forms[] = {"serial", "thread_pool",
                                        "process_pool"};
    int have = d->python.found;
    fprintf(data, "$versus << EOD\n");
    for (size_t i = 0; i < 3; i++) {
        unsigned w = i ? d->workers : 1;
        const cpu_run_t *wr = find_cpu(d, DEMO_WEFT, "seeds", forms[i], w);
        const cpu_run_t *pr =
            have ? find_cpu(d, DEMO_PYTHON, "seeds", forms[i], w)
                 : find_cpu(d, DEMO_SEED, "seeds", i ? "processes" : "serial",
                            0);
        if (!have && i == 1)
            pr = NULL;
        char label[48];
        if (i)
            snprintf(label, sizeof label, "%s (%u)", form_label(forms[i]), w);
        else
            snprintf(label, sizeof label, "%s", form_label(forms[i]));
        fprintf(data, "\"%s\"", label);
        value(data, pr ? pr->seconds : -1);
        value(data, wr ? wr->seconds : -1);
        fputc('\n', data);
    }
    fprintf(data, "EOD\n");
    const cpu_run_t *serial = find_cpu(d, DEMO_WEFT, "seeds", "serial", 1);
    if (serial == NULL || serial->seconds <= 0)
        return 0;
    fprintf(plot,
            "set title 'Prime factors of %zu numbers (seed 003): seconds, "
            "log scale'\n"
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 0.85 border -1\n"
            "set boxwidth 0.9\n"
            "set logscale y\nset yrange [*:*]\nset format y '%%g'\n"
            "set grid ytics\nset key top right\nunset xlabel\n"
            "set ylabel 'seconds'\n"
            "plot $versus using 2:xtic(1) title '%s' lc rgb '" PYTHON_COLOR
            "', \\\n"
            "     '' using 3 title 'weft' lc rgb '" WEFT_COLOR "', \\\n"
            "     '' using ($0-1./6):($2*1.25):(sprintf('%%.2g s',$2)) with "
            "labels notitle, \\\n"
            "     '' using ($0+1./6):($3*1.25):(sprintf('%%.2g s',$3)) with "
            "labels notitle\n"
            "unset logscale y\nunset grid\nset style data lines\n",
            serial->numbers, have ? d->python.version : "seed 003 (reported)");
    return 1;
}

/* ----- Panel: speed-up for 1 to N workers ----- */

static int panel_speedup(const demo_t *d, FILE *data, FILE *plot)
{
    if (find_cpu(d, DEMO_WEFT, "scaled", "serial", 1) == NULL)
        return 0;
    fprintf(data, "$speedup << EOD\n");
    for (unsigned w = 1; w <= d->workers; w++) {
        const cpu_run_t *t = find_cpu(d, DEMO_WEFT, "scaled", "thread_pool", w);
        const cpu_run_t *p =
            find_cpu(d, DEMO_WEFT, "scaled", "process_pool", w);
        fprintf(data, "%u", w);
        value(data, t ? speedup(d, t) : -1);
        value(data, p ? speedup(d, p) : -1);
        fputc('\n', data);
    }
    fprintf(data, "EOD\n");
    const cpu_run_t *s = find_cpu(d, DEMO_WEFT, "scaled", "serial", 1);
    /* On a busy machine, the title says how many CPUs were free. */
    const machine_info_t *m = &d->machine;
    char busy[96] = "";
    if (m->available_max > 0 && m->available_min < 0.75 * d->workers)
        snprintf(busy, sizeof busy,
                 "\\n(a busy machine: %.1f to %.1f CPUs free for it)",
                 m->available_min, m->available_max);
    fprintf(plot,
            "set title \"Ten times as many numbers (%zu): speed-up over "
            "serial%s\"\n"
            "set xrange [0.8:%u.2]\nset yrange [0:*]\nset xtics 1\n"
            "set ytics auto\nset grid\nset key top left\n"
            "set xlabel 'workers'\nset ylabel 'speed-up'\n"
            "plot x title 'ideal' dt 2 lc rgb 'gray', \\\n"
            "     $speedup using 1:2 title 'weft thread pool' with "
            "linespoints lw 2 pt 7 lc rgb '" WEFT_COLOR "', \\\n"
            "     $speedup using 1:3 title 'weft process pool' with "
            "linespoints lw 2 pt 5 lc rgb '" WEFT2_COLOR "'\n"
            "set xrange [*:*]\nset yrange [*:*]\nset xtics auto\n"
            "unset grid\n",
            s->numbers, busy, d->workers);
    return 1;
}

/* ----- Panels: downloads ----- */

enum io_measure { IN_FLIGHT, MEMORY };

/* Memory is shown from 100 requests on: below that, what every process
 * pays once (a first thread, a first buffer) outweighs the requests. */
static void io_data(const demo_t *d, FILE *data, const char *name,
                    enum io_measure what)
{
    static const char *const cols[][2] = {{DEMO_WEFT, "threads"},
                                          {DEMO_WEFT, "coroutines"},
                                          {DEMO_PYTHON, "threads"},
                                          {DEMO_PYTHON, "coroutines"}};
    unsigned counts[16];
    size_t n = io_counts(d, counts, 16);
    fprintf(data, "$%s << EOD\n", name);
    for (size_t i = 0; i < n; i++) {
        if (what == MEMORY && counts[i] < 100)
            continue;
        fprintf(data, "%u", counts[i]);
        for (size_t c = 0; c < 4; c++) {
            const io_run_t *r = find_io(d, cols[c][0], cols[c][1], counts[i]);
            double v = r == NULL || r->seconds < 0 ? -1
                       : what == MEMORY            ? r->kib_per_request
                                                   : r->in_flight;
            value(data, v);
        }
        fputc('\n', data);
    }
    fprintf(data, "EOD\n");
}

static int panel_io(const demo_t *d, FILE *data, FILE *plot,
                    enum io_measure what)
{
    if (d->nio == 0)
        return 0;
    const char *name = what == MEMORY ? "memory" : "inflight";
    io_data(d, data, name, what);
    fprintf(plot,
            "set title '%s'\n"
            "set logscale x\n%s\nset xrange [*:*]\n"
            "set grid\nset key top left\n"
            "set xlabel 'downloads asked for at once'\nset ylabel '%s'\n"
            "plot %s$%s using 1:2 title 'weft threads' with linespoints "
            "lw 2 pt 7 lc rgb '" WEFT2_COLOR "', \\\n"
            "     $%s using 1:3 title 'weft coroutines' with linespoints lw 2 "
            "pt 5 lc rgb '" WEFT_COLOR "', \\\n"
            "     $%s using 1:4 title 'Python threads' with linespoints lw 2 "
            "pt 6 dt 2 lc rgb '" PYTHON_COLOR "', \\\n"
            "     $%s using 1:5 title 'Python asyncio' with linespoints lw 2 "
            "pt 4 dt 2 lc rgb '" PYTHON2_COLOR "'\n"
            "unset logscale x\nunset logscale y\nunset grid\n",
            what == MEMORY ? "Downloads: memory per request in flight"
                           : "Downloads: how many were in flight at once",
            what == MEMORY ? "set yrange [0:*]"
                           : "set logscale y\nset "
                             "yrange [*:*]",
            what == MEMORY ? "KiB per request" : "in flight at once",
            what == MEMORY ? "" : "x title 'all of them' dt 2 lc rgb 'gray', ",
            name, name, name, name);
    return 1;
}

/* ----- The script ----- */

static void multiplot(const demo_t *d, FILE *f, const char *panels, int n)
{
    int cols = n > 1 ? 2 : 1, rows = n > 2 ? 2 : 1;
    char who[96] = "the seeds' Python figures";
    if (d->python.found)
        demo_copy(who, sizeof who, d->python.version);
    fprintf(f,
            "set multiplot layout %d,%d title \"weft %s and %s on the seeds' "
            "work (%u CPUs)\" font ',13'\n%sunset multiplot\n",
            rows, cols, weft_version(), who, d->machine.usable, panels);
}

static int odd_path(const char *p)
{
    return strchr(p, '\'') != NULL || strchr(p, '\n') != NULL;
}

static int write_script(const demo_t *d, const char *path, int *panels)
{
    char *plots = NULL, *data = NULL;
    size_t plots_len = 0, data_len = 0;
    FILE *pf = open_memstream(&plots, &plots_len);
    FILE *df = open_memstream(&data, &data_len);
    if (pf == NULL || df == NULL)
        return -1;
    *panels = panel_python(d, df, pf) + panel_speedup(d, df, pf) +
              panel_io(d, df, pf, IN_FLIGHT) + panel_io(d, df, pf, MEMORY);
    fclose(pf);
    fclose(df);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        free(plots);
        free(data);
        return -1;
    }
    int rows = *panels > 2 ? 2 : 1, cols = *panels > 1 ? 2 : 1;
    fprintf(f,
            "# weft-demo's chart; redraw with: gnuplot %s\n"
            "set datafile missing '?'\n%s",
            CHART_SCRIPT, data);
    fprintf(f,
            "set terminal pngcairo size %d,%d font 'sans,10'\n"
            "set output '%s/" CHART_PNG "'\n",
            640 * cols, 450 * rows, d->opts.out);
    multiplot(d, f, plots, *panels);
    fprintf(f,
            "set terminal svg size %d,%d dynamic font 'sans,10'\n"
            "set output '%s/" CHART_SVG "'\n",
            640 * cols, 450 * rows, d->opts.out);
    multiplot(d, f, plots, *panels);
    fprintf(f, "set output\n");
    free(plots);
    free(data);
    return fclose(f) == 0 ? 0 : -1;
}

int draw_chart(const demo_t *d, char *note, size_t size)
{
    char gnuplot[1024];
    if (!demo_which("gnuplot", gnuplot, sizeof gnuplot)) {
        snprintf(note, size,
                 "gnuplot is not installed (Debian: apt-get "
                 "install gnuplot-nox)");
        return 0;
    }
    if (odd_path(d->opts.out)) {
        snprintf(note, size, "the output folder's name has a quote in it");
        return 0;
    }
    char script[1024];
    snprintf(script, sizeof script, "%s/%s", d->opts.out, CHART_SCRIPT);
    int panels;
    if (write_script(d, script, &panels) != 0) {
        snprintf(note, size, "cannot write %s: %s", script, strerror(errno));
        return 0;
    }
    if (panels == 0) {
        snprintf(note, size, "nothing to draw (no CPU or I/O results)");
        return 0;
    }
    char *argv[] = {gnuplot, script, NULL};
    char *out = NULL;
    int rc = demo_run(argv, 60, &out, note, size);
    free(out);
    if (rc != 0 && note[0] == '\0')
        snprintf(note, size, "gnuplot failed (status %d)", rc);
    return rc == 0;
}
