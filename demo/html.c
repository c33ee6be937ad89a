/* SPDX-License-Identifier: MIT */
/* demo-report.html: one file that a browser opens offline, holding the
 * four tables (as the terminal shows them) and the chart (the SVG inline,
 * so that the page needs nothing beside it; the PNG is linked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void escaped(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(s[i], f);
        }
    }
}

static void escaped_str(FILE *f, const char *s)
{
    escaped(f, s, strlen(s));
}

/* The table of section i, rendered as text and escaped into a <pre>. */
static void table(const demo_t *d, FILE *f, size_t i)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL)
        return;
    sections[i].table(d, m);
    fclose(m);
    fprintf(f, "<h2>");
    escaped_str(f, sections[i].title);
    fprintf(f, "</h2>\n<pre>");
    escaped(f, text, len);
    fprintf(f, "</pre>\n");
    free(text);
}

/* The SVG file's content without its XML prologue, into the page. */
static int inline_svg(const demo_t *d, FILE *f)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", d->opts.out, CHART_SVG);
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return -1;
    char line[4096];
    int started = 0;
    while (fgets(line, sizeof line, in)) {
        if (!started && strstr(line, "<svg") == NULL)
            continue;
        started = 1;
        fputs(line, f);
    }
    fclose(in);
    return started ? 0 : -1;
}

static const char style[] =
    "body{font-family:sans-serif;max-width:62em;margin:2em auto;"
    "padding:0 1em;color:#222}"
    "pre{background:#f6f8fa;padding:1em;overflow-x:auto;font-size:90%}"
    "h1{font-size:150%}h2{font-size:120%;margin-top:2em}"
    ".chart svg{max-width:100%;height:auto}"
    ".meta{color:#555}";

static void head(const demo_t *d, FILE *f)
{
    const machine_info_t *m = &d->machine;
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
            "<meta charset=\"utf-8\">\n"
            "<title>weft demo: what weft does that Python cannot</title>\n"
            "<style>%s</style>\n</head>\n<body>\n",
            style);
    fprintf(f,
            "<h1>weft %s: what weft does that Python cannot, "
            "measured</h1>\n<p class=\"meta\">Machine: ",
            weft_version());
    escaped_str(f, m->cpu_model);
    fprintf(f, ", %u CPUs (%u usable); ", m->cpus, m->usable);
    escaped_str(f, m->kernel);
    fprintf(f, "; %s.<br>Python: ", m->date);
    escaped_str(f, d->python.found ? d->python.version : d->python.reason);
    fprintf(f, ".<br>Command: <code>");
    escaped_str(f, d->opts.command);
    fprintf(f, "</code> (%.0f s).</p>\n", d->seconds);
    fprintf(f, "<p>The seeds' examples, each done serially, with threads, "
               "with processes and with coroutines, in weft and in the "
               "Python the seeds ran, on the same work.</p>\n");
}

int write_html(const demo_t *d, const char *path, int chart)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    head(d, f);
    char *glance = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&glance, &len);
    if (m) {
        table_glance(d, m);
        fclose(m);
        fprintf(f, "<h2>At a glance</h2>\n<pre>");
        escaped(f, glance, len);
        fprintf(f, "</pre>\n");
        free(glance);
    }
    if (chart) {
        fprintf(f, "<div class=\"chart\">\n");
        if (inline_svg(d, f) != 0)
            fprintf(f, "<img src=\"%s\" alt=\"the chart\">\n", CHART_PNG);
        fprintf(f,
                "</div>\n<p><a href=\"%s\">The chart as PNG</a>, "
                "<a href=\"%s\">the results as JSON</a>.</p>\n",
                CHART_PNG, RESULTS_JSON);
    }
    for (size_t i = 0; i < 4; i++)
        if (section_ran(d, i))
            table(d, f, i);
    fprintf(f, "</body>\n</html>\n");
    return fclose(f) == 0 ? 0 : -1;
}
