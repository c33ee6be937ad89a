/* SPDX-License-Identifier: MIT */
/* The results as JSON: one object, each result on a line of its own with
 * its keys always in the same order, so that a reader without a JSON
 * library can still take it line by line. Times are seconds; a negative
 * time means the form did not run, and its "note" says why. */
#include <stdio.h>
#include <string.h>

#include "report.h"

static void str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static const char *boolean(int b)
{
    return b ? "true" : "false";
}

static void head(const demo_t *d, FILE *f)
{
    const machine_info_t *m = &d->machine;
    fprintf(f, "\"demo\": {\"version\": ");
    str(f, weft_version());
    fprintf(f, ", \"command\": ");
    str(f, d->opts.command);
    fprintf(f,
            ", \"scale\": %g, \"workers\": %u, \"repeat\": %u, "
            "\"seconds\": %.3f},\n",
            d->opts.scale, d->workers, d->opts.repeat, d->seconds);
    fprintf(f, "\"machine\": {\"cpu\": ");
    str(f, m->cpu_model);
    fprintf(f,
            ", \"cpus\": %u, \"usable\": %u, \"available_min\": %.3f, "
            "\"available_max\": %.3f, \"kernel\": ",
            m->cpus, m->usable, m->available_min, m->available_max);
    str(f, m->kernel);
    fprintf(f, ", \"date\": ");
    str(f, m->date);
    fprintf(f, "},\n\"python\": {\"found\": %s, \"path\": ",
            boolean(d->python.found));
    str(f, d->python.path);
    fprintf(f, ", \"version\": ");
    str(f, d->python.version);
    fprintf(f, ", \"reason\": ");
    str(f, d->python.reason);
    fprintf(f, "},\n\"files\": {\"out\": ");
    str(f, d->opts.out);
    fprintf(f,
            ", \"report\": \"" REPORT_HTML "\", \"results\": \"" RESULTS_JSON
            "\", \"chart\": %s, \"png\": \"" CHART_PNG
            "\", \"svg\": \"" CHART_SVG "\", \"chart_note\": ",
            boolean(d->chart));
    str(f, d->chart ? "" : d->chart_note);
    fprintf(f, "},\n");
}

static void cpu(const demo_t *d, FILE *f)
{
    int agree;
    uint64_t sum = agreed_checksum(d, &agree);
    fprintf(f,
            "\"cpu\": {\"ran\": %s, \"agree\": %s, \"checksum\": "
            "\"%016llx\",\n",
            boolean(d->ran_cpu), boolean(agree), (unsigned long long)sum);
    fprintf(f, "\"mpi\": {\"built\": %s, \"runs\": %s, \"mpirun\": ",
            boolean(d->mpi.built), boolean(d->mpi.runs));
    str(f, d->mpi.mpirun);
    fprintf(f, ", \"program\": ");
    str(f, d->mpi.program);
    fprintf(f, ", \"reason\": ");
    str(f, d->mpi.runs ? "" : d->mpi.reason);
    fprintf(f, "},\n\"samples\": [");
    for (size_t i = 0; i < d->nsamples; i++) {
        const cpu_sample_t *s = &d->samples[i];
        fprintf(f, "%s\n{\"n\": %u, \"factors\": [", i ? "," : "", s->n);
        for (size_t k = 0; k < s->k; k++)
            fprintf(f, "%s%u", k ? ", " : "", s->factors[k]);
        fprintf(f, "]}");
    }
    fprintf(f, "],\n\"runs\": [");
    for (size_t i = 0; i < d->ncpu; i++) {
        const cpu_run_t *r = &d->cpu[i];
        fprintf(f,
                "%s\n{\"impl\": \"%s\", \"workload\": \"%s\", \"form\": "
                "\"%s\", \"workers\": %u, \"numbers\": %zu, \"seconds\": "
                "%.6f, \"speedup\": %.3f, \"available\": %.3f, "
                "\"checksum\": \"%016llx\", \"note\": ",
                i ? "," : "", r->impl, r->workload, r->form, r->workers,
                r->numbers, r->seconds, speedup(d, r), r->available,
                (unsigned long long)r->checksum);
        str(f, r->note);
        fputc('}', f);
    }
    fprintf(f, "]},\n");
}

static void io(const demo_t *d, FILE *f)
{
    fprintf(f,
            "\"io\": {\"ran\": %s, \"delay\": %.3f, \"pool_workers\": %u, "
            "\"runs\": [",
            boolean(d->ran_io), d->io_delay, d->io_pool_workers);
    for (size_t i = 0; i < d->nio; i++) {
        const io_run_t *r = &d->io[i];
        fprintf(f,
                "%s\n{\"impl\": \"%s\", \"form\": \"%s\", \"requests\": "
                "%u, \"seconds\": %.6f, \"ok\": %u, \"failed\": %u, "
                "\"in_flight\": %u, \"kib_per_request\": %.3f, "
                "\"cpu_ms_per_request\": %.4f, \"available\": %.3f, "
                "\"note\": ",
                i ? "," : "", r->impl, r->form, r->requests, r->seconds, r->ok,
                r->failed, r->in_flight, r->kib_per_request,
                r->cpu_ms_per_request, r->available);
        str(f, r->note);
        fputc('}', f);
    }
    fprintf(f, "]},\n");
}

static void robust(const demo_t *d, FILE *f)
{
    fprintf(f, "\"robust\": {\"ran\": %s, \"timeout\": %.3f, \"runs\": [",
            boolean(d->ran_robust), d->robust_timeout);
    for (size_t i = 0; d->ran_robust && i < 2; i++) {
        const robust_run_t *r = &d->robust[i];
        fprintf(f,
                "%s\n{\"impl\": \"%s\", \"ran\": %s, \"seconds\": %.6f, "
                "\"note\": ",
                i ? "," : "", i ? DEMO_PYTHON : DEMO_WEFT, boolean(r->ran),
                r->seconds);
        str(f, r->note);
        fprintf(f, ", \"tasks\": [");
        for (size_t t = 0; t < r->ntasks; t++) {
            const robust_task_t *k = &r->tasks[t];
            fprintf(f,
                    "%s\n  {\"task\": %zu, \"kind\": \"%s\", \"ok\": %s, "
                    "\"outcome\": ",
                    t ? "," : "", t, k->kind, boolean(k->ok));
            str(f, k->outcome);
            fputc('}', f);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "]},\n");
}

static void race(const demo_t *d, FILE *f)
{
    fprintf(f, "\"race\": {\"ran\": %s, \"runs\": [", boolean(d->ran_race));
    for (size_t i = 0; i < d->nrace; i++) {
        const race_run_t *r = &d->race[i];
        fprintf(f,
                "%s\n{\"impl\": \"%s\", \"with\": \"%s\", \"locked\": %s, "
                "\"workers\": %u, \"increments\": %ld, \"expected\": %ld, "
                "\"got\": %ld, \"seconds\": %.6f, \"note\": ",
                i ? "," : "", r->impl, r->with, boolean(r->locked), r->workers,
                r->increments, r->expected, r->got, r->seconds);
        str(f, r->note);
        fputc('}', f);
    }
    fprintf(f, "]}\n");
}

void write_json(const demo_t *d, FILE *f)
{
    fprintf(f, "{\n");
    head(d, f);
    cpu(d, f);
    io(d, f);
    robust(d, f);
    race(d, f);
    fprintf(f, "}\n");
}
