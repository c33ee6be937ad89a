/* SPDX-License-Identifier: MIT */
/* The four tables, as text: what the terminal shows, and what the HTML
 * page shows in <pre> blocks. Each puts weft and Python side by side on
 * the same work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* "28x faster", "1.9x slower", or "" */
static const char *times(char *buf, size_t size, double slow, double fast)
{
    if (slow <= 0 || fast <= 0)
        snprintf(buf, size, "%s", "");
    else if (slow >= fast)
        snprintf(buf, size, "%.*fx faster", slow / fast < 10 ? 1 : 0,
                 slow / fast);
    else
        snprintf(buf, size, "%.1fx slower", fast / slow);
    return buf;
}

static const char *python_name(const demo_t *d)
{
    return d->python.found ? d->python.version : "Python";
}

/* text cut to width columns, with "..." where it was cut. */
static const char *cut(char *buf, size_t size, const char *text, int width)
{
    if ((int)strlen(text) <= width || width < 4)
        snprintf(buf, size, "%s", text);
    else
        snprintf(buf, size, "%.*s...", width - 3, text);
    return buf;
}

/* ----- 1. CPU ----- */

static void cpu_python_note(const demo_t *d, FILE *f)
{
    const cpu_run_t *s1 = find_cpu(d, DEMO_SEED, "seeds", "serial", 1);
    const cpu_run_t *s2 = find_cpu(d, DEMO_SEED, "seeds", "processes", 10);
    const cpu_run_t *pe = find_cpu(d, DEMO_PYTHON, "seeds", "serial", 1);
    if (!d->python.found)
        fprintf(f, "  Python: %s. Seed 003's own figures stand in:\n",
                d->python.reason);
    else if (pe && pe->note[0])
        fprintf(f, "  Python: %s\n", pe->note);
    if (s1 && s2)
        fprintf(f,
                "  seed 003 reported %.1f s serial and %.1f s on 10 "
                "processes (its author's MacBook).\n",
                s1->seconds, s2->seconds);
}

static void cpu_seeds(const demo_t *d, FILE *f)
{
    static const char *const forms[] = {"serial", "thread_pool",
                                        "process_pool"};
    char a[32], b[32], c[32], n[32];
    const cpu_run_t *serial = find_cpu(d, DEMO_WEFT, "seeds", "serial", 1);
    fprintf(f,
            "The prime factors of %s random numbers in [20,000, "
            "100,000,000] (seed 003):\n\n",
            fmt_count(n, sizeof n, serial ? (long)serial->numbers : 0));
    fprintf(f, "  %-26s %14s %10s   %s\n", "", python_name(d), "weft",
            "weft is");
    for (size_t i = 0; i < 3; i++) {
        unsigned w = i ? d->workers : 1;
        const cpu_run_t *wr = find_cpu(d, DEMO_WEFT, "seeds", forms[i], w);
        const cpu_run_t *pr = find_cpu(d, DEMO_PYTHON, "seeds", forms[i], w);
        double ws = wr ? wr->seconds : -1, ps = pr ? pr->seconds : -1;
        char label[48];
        snprintf(label, sizeof label, i ? "%s, %u workers" : "%s",
                 form_label(forms[i]), w);
        fprintf(f, "  %-26s %14s %10s   %s\n", label,
                fmt_seconds(a, sizeof a, ps), fmt_seconds(b, sizeof b, ws),
                times(c, sizeof c, ps, ws));
    }
    cpu_python_note(d, f);
}

static void cpu_samples(const demo_t *d, FILE *f)
{
    int agree;
    uint64_t sum = agreed_checksum(d, &agree);
    fprintf(f, "\n  %s (checksum %016llx), e.g.\n",
            agree ? "Every form found the same factors"
                  : "THE FORMS DISAGREE on the factors",
            (unsigned long long)sum);
    for (size_t i = 0; i < d->nsamples; i++) {
        const cpu_sample_t *s = &d->samples[i];
        char n[32], x[32];
        fprintf(f, "    %s =", fmt_count(n, sizeof n, s->n));
        for (size_t k = 0; k < s->k; k++)
            fprintf(f, "%s %s", k ? " x" : "",
                    fmt_count(x, sizeof x, s->factors[k]));
        fputc('\n', f);
    }
}

static void cpu_cell(const demo_t *d, FILE *f, const cpu_run_t *r)
{
    char a[32], b[40];
    if (r == NULL)
        fprintf(f, "  %-19s", "");
    else if (r->seconds < 0)
        fprintf(f, "  %-19s", cut(b, sizeof b, r->note[0] ? r->note : "-", 19));
    else
        fprintf(f, "  %9s %5.2fx   ", fmt_seconds(a, sizeof a, r->seconds),
                speedup(d, r));
}

/* The MPI column: a time, or why not: once at the top when it cannot run
 * at all, on each row where a run failed (the reasons below the table). */
static void mpi_cell(const demo_t *d, FILE *f, const cpu_run_t *r, unsigned w)
{
    if (r == NULL || r->seconds >= 0)
        cpu_cell(d, f, r);
    else if (!d->mpi.runs)
        fprintf(f, "  %-19s", w > 1         ? ""
                              : d->mpi.built ? "not run"
                                             : "not built");
    else
        fprintf(f, "  %-19s", "failed");
}

static void mpi_notes(const demo_t *d, FILE *f)
{
    if (!d->mpi.runs) {
        if (find_cpu(d, DEMO_WEFT, "scaled", "mpi", 1))
            fprintf(f, "  MPI: %s.\n", d->mpi.reason);
        return;
    }
    for (unsigned w = 1; w <= d->workers; w++) {
        const cpu_run_t *r = find_cpu(d, DEMO_WEFT, "scaled", "mpi", w);
        if (r && r->seconds < 0)
            fprintf(f, "  MPI, %u worker%s: %s.\n", w, w > 1 ? "s" : "",
                    r->note);
    }
}

static void cpu_sweep(const demo_t *d, FILE *f)
{
    const cpu_run_t *serial = find_cpu(d, DEMO_WEFT, "scaled", "serial", 1);
    if (serial == NULL)
        return;
    char a[32], n[32];
    fprintf(f,
            "\nTen times as many numbers (%s): time, and speed-up over "
            "serial (%s):\n\n",
            fmt_count(n, sizeof n, (long)serial->numbers),
            fmt_seconds(a, sizeof a, serial->seconds));
    fprintf(f, "  %7s  %-19s  %-19s  %-19s\n", "workers", "thread pool",
            "process pool", "MPI");
    for (unsigned w = 1; w <= d->workers; w++) {
        fprintf(f, "  %7u", w);
        cpu_cell(d, f, find_cpu(d, DEMO_WEFT, "scaled", "thread_pool", w));
        cpu_cell(d, f, find_cpu(d, DEMO_WEFT, "scaled", "process_pool", w));
        mpi_cell(d, f, find_cpu(d, DEMO_WEFT, "scaled", "mpi", w), w);
        fputc('\n', f);
    }
    mpi_notes(d, f);
    const machine_info_t *m = &d->machine;
    fprintf(f,
            "  (the median of %u rounds; each speed-up against the serial "
            "run of its round;\n  %u CPUs usable",
            d->opts.repeat, m->usable);
    if (m->available_max > 0)
        fprintf(f, ", of which the probes between runs got %.2f to %.2f",
                m->available_min, m->available_max);
    fprintf(f, ")\n");
    const cpu_run_t *pt =
        find_cpu(d, DEMO_PYTHON, "seeds", "thread_pool", d->workers);
    double ps = serial_seconds(d, DEMO_PYTHON, "seeds");
    if (pt && pt->seconds > 0 && ps > 0 && d->workers > 1)
        fprintf(f,
                "  Python's threads take turns under the GIL: %u of them "
                "ran %.2fx as fast as one.\n",
                d->workers, ps / pt->seconds);
}

void table_cpu(const demo_t *d, FILE *f)
{
    cpu_seeds(d, f);
    cpu_samples(d, f);
    cpu_sweep(d, f);
}

/* ----- 2. I/O ----- */

static const char *const io_forms[] = {"serial", "threads", "thread_pool",
                                       "coroutines"};

static void io_cell(FILE *f, const io_run_t *r)
{
    char a[32], c[40];
    if (r == NULL) {
        fprintf(f, "  %-13s", "");
    } else if (r->seconds < 0) {
        const char *would = strstr(r->note, "would take ");
        if (would)
            snprintf(c, sizeof c, "(~%s)", would + 11);
        fprintf(f, "  %-13s", would ? c : r->note[0] ? "failed" : "-");
    } else {
        snprintf(c, sizeof c, "%s%s", fmt_seconds(a, sizeof a, r->seconds),
                 r->failed ? " !" : "");
        fprintf(f, "  %-13s", c);
    }
}

static void io_times(const demo_t *d, FILE *f, const unsigned *counts,
                     size_t nc)
{
    char pool[32];
    snprintf(pool, sizeof pool, "pool of %u", d->io_pool_workers);
    fprintf(f, "  %8s %-6s  %-13s  %-13s  %-13s  %-13s\n", "requests", "",
            "serially", "a thread each", pool, "coroutines");
    for (size_t i = 0; i < nc; i++)
        for (int p = 0; p < 2; p++) {
            const char *impl = p ? DEMO_PYTHON : DEMO_WEFT;
            if (p && !d->python.found)
                continue;
            char n[32];
            fprintf(f, "  %8s %-6s", p ? "" : fmt_count(n, sizeof n, counts[i]),
                    p ? "Python" : "weft");
            for (size_t k = 0; k < 4; k++)
                io_cell(f, find_io(d, impl, io_forms[k], counts[i]));
            fputc('\n', f);
        }
    fprintf(f, "  (~N s): not run, it would take that long; !: some "
               "requests failed (below).\n");
}

/* For the most requests: how many were in flight at once, and what each
 * cost in memory and in CPU time. */
static void io_costs(const demo_t *d, FILE *f, unsigned n)
{
    static const char *const rows[][3] = {
        {DEMO_WEFT, "threads", "weft, a thread each"},
        {DEMO_WEFT, "coroutines", "weft, coroutines"},
        {DEMO_PYTHON, "threads", "Python, a thread each"},
        {DEMO_PYTHON, "coroutines", "Python, asyncio"}};
    char k[32], a[32], b[32], c[32];
    fprintf(f, "\n  %s requests:%*s %16s %12s %12s\n",
            fmt_count(k, sizeof k, n), 12, "", "in flight at once",
            "memory each", "CPU each");
    for (size_t i = 0; i < 4; i++) {
        const io_run_t *r = find_io(d, rows[i][0], rows[i][1], n);
        if (r == NULL || r->seconds < 0)
            continue;
        snprintf(c, sizeof c, "%.2f ms", r->cpu_ms_per_request);
        fprintf(f, "  %-32s %16s %12s %12s\n", rows[i][2],
                fmt_count(a, sizeof a, r->in_flight),
                fmt_kib(b, sizeof b, r->kib_per_request),
                r->cpu_ms_per_request >= 0 ? c : "");
    }
    fprintf(f, "  (memory: resident, per request in flight, measured; each "
               "thread also holds a\n  16 KiB kernel stack, not counted. "
               "CPU: the client's, per request. On a busy\n  machine the "
               "scheduler gives each thread its share, so that a thousand "
               "threads\n  get more CPU time than one thread running "
               "coroutines, and may finish sooner.)\n");
}

static void io_notes(const demo_t *d, FILE *f)
{
    for (size_t i = 0; i < d->nio; i++) {
        const io_run_t *r = &d->io[i];
        char n[32];
        if (r->failed)
            fprintf(f, "  ! %s %s, %s requests: %u failed%s%s\n", r->impl,
                    form_label(r->form), fmt_count(n, sizeof n, r->requests),
                    r->failed, r->note[0] ? ": " : "", r->note);
        else if (r->seconds < 0 && r->note[0] && !strstr(r->note, "would"))
            fprintf(f, "  %s %s, %s requests: %s\n", r->impl,
                    form_label(r->form), fmt_count(n, sizeof n, r->requests),
                    r->note);
    }
}

void table_io(const demo_t *d, FILE *f)
{
    unsigned counts[16];
    size_t nc = io_counts(d, counts, 16);
    fprintf(f,
            "Downloads from a local server that answers each request "
            "after %.2f s, as the\nseeds' image downloads (000, 002, "
            "003); the time for all of them:\n\n",
            d->io_delay);
    io_times(d, f, counts, nc);
    if (!d->python.found)
        fprintf(f,
                "  Python: %s. Seed 000 reported 5.8 s serially\n  and "
                "1.3 s on 7 threads for 7 pages; seed 002: \"~2 seconds "
                "(concurrent)\n  vs ~8 seconds (sequential)\".\n",
                d->python.reason);
    io_notes(d, f);
    if (nc > 0)
        io_costs(d, f, counts[nc - 1]);
}

/* ----- 3. Robustness ----- */

static int results_given(const robust_run_t *r)
{
    int n = 0;
    for (size_t i = 0; i < r->ntasks; i++)
        n += r->tasks[i].ok;
    return n;
}

/* A failure's name (the part before ": "), or the result itself. */
static const char *short_outcome(char *buf, size_t size, const char *o)
{
    const char *colon = strstr(o, ": ");
    snprintf(buf, size, "%.*s", colon ? (int)(colon - o) : (int)strlen(o), o);
    return buf;
}

/* Each failure's full message once, with the tasks that ended with it. */
static void robust_messages(FILE *f, const robust_run_t *r, const char *who)
{
    for (size_t i = 0; i < r->ntasks; i++) {
        const char *o = r->tasks[i].outcome;
        if (strstr(o, ": ") == NULL)
            continue;
        int first = 1;
        for (size_t j = 0; j < i; j++)
            first &= strcmp(r->tasks[j].outcome, o) != 0;
        if (!first)
            continue;
        int more = 0;
        for (size_t j = i + 1; j < r->ntasks; j++)
            more |= strcmp(r->tasks[j].outcome, o) == 0;
        fprintf(f, "  %s, task%s %zu", who, more ? "s" : "", i);
        for (size_t j = i + 1; j < r->ntasks; j++)
            if (strcmp(r->tasks[j].outcome, o) == 0)
                fprintf(f, ",%zu", j);
        fprintf(f, ": %s\n", o);
    }
}

void table_robust(const demo_t *d, FILE *f)
{
    const robust_run_t *w = &d->robust[0], *p = &d->robust[1];
    char a[64], b[64], t[32];
    fprintf(f,
            "A process pool of 2 workers runs 8 tasks (squares, then one "
            "more); task 2 crashes\nits worker (SIGSEGV), task 5 never "
            "returns (weft's timeout for it: %.1f s):\n\n",
            d->robust_timeout);
    fprintf(f, "  %-9s  %-22s  %s\n", "task", "weft",
            p->ran ? "Python ProcessPoolExecutor" : "Python");
    size_t n = w->ntasks > p->ntasks ? w->ntasks : p->ntasks;
    for (size_t i = 0; i < n; i++) {
        const robust_task_t *wt = &w->tasks[i], *pt = &p->tasks[i];
        const char *kind = wt->kind[0] ? wt->kind : pt->kind;
        if (strcmp(kind, "after") == 0)
            snprintf(t, sizeof t, "%zu later", i);
        else
            snprintf(t, sizeof t, "%zu %s", i, kind);
        fprintf(f, "  %-9s  %-22s  %s\n", t,
                short_outcome(a, sizeof a, wt->outcome),
                i < p->ntasks ? short_outcome(b, sizeof b, pt->outcome) : "");
    }
    char s1[32], s2[32];
    snprintf(a, sizeof a, "%d of %zu right", results_given(w), w->ntasks);
    if (p->ran)
        snprintf(b, sizeof b, "%d of %zu right", results_given(p), p->ntasks);
    else
        demo_note(b, sizeof b, "not run: %s", p->note);
    fprintf(f, "  %-9s  %-22s  %s\n", "", a, b);
    fprintf(f, "  %-9s  %-22s  %s\n", "",
            fmt_seconds(s1, sizeof s1, w->seconds),
            p->ran ? fmt_seconds(s2, sizeof s2, p->seconds) : "");
    fprintf(f, "  (a crash and a hang count as right when they fail alone, "
               "with their cause)\n");
    robust_messages(f, w, "weft");
    robust_messages(f, p, "Python");
    if (w->note[0])
        fprintf(f, "  weft: %s\n", w->note);
}

/* ----- 4. Races ----- */

static void race_row(const demo_t *d, FILE *f, const char *impl,
                     const char *with)
{
    const race_run_t *u = find_race(d, impl, with, 0);
    const race_run_t *l = find_race(d, impl, with, 1);
    if (u == NULL && l == NULL)
        return;
    char label[32], e[32], g[32], cell[64], h[32];
    snprintf(label, sizeof label, "%s %s",
             !strcmp(impl, DEMO_WEFT) ? "weft" : "Python", with);
    const race_run_t *r = u ? u : l;
    if (u && u->got >= 0 && u->got < u->expected)
        snprintf(cell, sizeof cell, "%s (%.1f%% lost)",
                 fmt_count(g, sizeof g, u->got),
                 100.0 * (u->expected - u->got) / u->expected);
    else if (u && u->got >= 0)
        snprintf(cell, sizeof cell, "%s (none lost)",
                 fmt_count(g, sizeof g, u->got));
    else
        cut(cell, sizeof cell, u && u->note[0] ? u->note : "-", 26);
    fprintf(f, "  %-17s %11s   %-26s  %s\n", label,
            fmt_count(e, sizeof e, r->expected), cell,
            l && l->got >= 0 ? fmt_count(h, sizeof h, l->got) : "-");
}

void table_race(const demo_t *d, FILE *f)
{
    const race_run_t *r = find_race(d, DEMO_WEFT, "threads", 0);
    char n[32];
    fprintf(f,
            "%u workers each add 1 to one counter %s times, as seed 002's "
            "unsafe_increment\n(temp = counter; counter = temp + 1), "
            "then the same under a Lock:\n\n",
            r ? r->workers : d->workers,
            fmt_count(n, sizeof n, r ? r->increments : 0));
    fprintf(f, "  %-17s %11s   %-26s  %s\n", "", "expected", "without a lock",
            "with a Lock");
    race_row(d, f, DEMO_WEFT, "threads");
    race_row(d, f, DEMO_WEFT, "processes");
    race_row(d, f, DEMO_PYTHON, "threads");
    race_row(d, f, DEMO_PYTHON, "processes");
    const race_run_t *pt = find_race(d, DEMO_PYTHON, "threads", 0);
    if (pt && pt->got == pt->expected)
        fprintf(f, "  Python's threads lose nothing only because the GIL runs "
                   "one at a time: the race\n  is still there, and so is the "
                   "lack of parallelism.\n");
    const race_run_t *wp = find_race(d, DEMO_WEFT, "processes", 0);
    if ((r && r->got == r->expected) || (wp && wp->got == wp->expected))
        fprintf(f, "  weft lost nothing here only because its workers never "
                   "ran at the same moment:\n  the machine is busy with "
                   "other work.\n");
    const race_run_t *pp = find_race(d, DEMO_PYTHON, "processes", 0);
    if (pp && r && pp->increments != r->increments)
        fprintf(f,
                "  (Python's processes make %s increments each: its "
                "shared Value is slow.)\n",
                fmt_count(n, sizeof n, pp->increments));
    if (!d->python.found)
        fprintf(f,
                "  Python: %s. Seed 002 says of its version: \"Usually "
                "less due to race condition\".\n",
                d->python.reason);
}

/* ----- At a glance ----- */

static void glance_cpu(const demo_t *d, FILE *f)
{
    char a[32], b[32], c[32], e[32];
    const cpu_run_t *ws = find_cpu(d, DEMO_WEFT, "seeds", "serial", 1);
    const cpu_run_t *wp =
        find_cpu(d, DEMO_WEFT, "seeds", "process_pool", d->workers);
    const cpu_run_t *ps = find_cpu(d, DEMO_PYTHON, "seeds", "serial", 1);
    const cpu_run_t *pp =
        find_cpu(d, DEMO_PYTHON, "seeds", "process_pool", d->workers);
    if (!d->python.found || !ps || !pp || ps->seconds < 0 || pp->seconds < 0) {
        ps = find_cpu(d, DEMO_SEED, "seeds", "serial", 1);
        pp = find_cpu(d, DEMO_SEED, "seeds", "processes", 10);
    }
    if (ws && wp && ps && pp)
        fprintf(f,
                "  Seed 003's prime factors: Python %s serially, %s on "
                "processes%s;\n    weft %s and %s.\n",
                fmt_seconds(a, sizeof a, ps->seconds),
                fmt_seconds(b, sizeof b, pp->seconds),
                strcmp(ps->impl, DEMO_SEED) ? "" : " (the seed's figures)",
                fmt_seconds(c, sizeof c, ws->seconds),
                fmt_seconds(e, sizeof e, wp->seconds));
    const cpu_run_t *t =
        find_cpu(d, DEMO_WEFT, "scaled", "thread_pool", d->workers);
    const cpu_run_t *p =
        find_cpu(d, DEMO_WEFT, "scaled", "process_pool", d->workers);
    const cpu_run_t *pt =
        find_cpu(d, DEMO_PYTHON, "seeds", "thread_pool", d->workers);
    double pserial = serial_seconds(d, DEMO_PYTHON, "seeds");
    if (t && p && d->workers > 1) {
        fprintf(f,
                "  Ten times the job, %u workers: weft's threads %.1fx "
                "and processes %.1fx as fast as serial",
                d->workers, speedup(d, t), speedup(d, p));
        if (pt && pt->seconds > 0 && pserial > 0)
            fprintf(f, ";\n    Python's threads %.1fx (the GIL)",
                    pserial / pt->seconds);
        fprintf(f, ".\n");
    }
}

static void glance_io(const demo_t *d, FILE *f)
{
    unsigned counts[16];
    size_t nc = io_counts(d, counts, 16);
    if (nc == 0)
        return;
    unsigned n = counts[nc - 1];
    const io_run_t *c = find_io(d, DEMO_WEFT, "coroutines", n);
    const io_run_t *t = find_io(d, DEMO_WEFT, "threads", n);
    if (!c || !t || c->seconds < 0 || t->seconds < 0)
        return;
    char k[32], a[32], b[32], x[32], y[32], m[32];
    fprintf(f,
            "  %s downloads at once: weft's coroutines hold all %s in flight "
            "on one thread,\n    at %s and %.2f ms of CPU each (%s in all); a "
            "thread each holds\n    at most %s at once, at %s and %.2f ms "
            "each (%s).\n",
            fmt_count(k, sizeof k, n), k,
            fmt_kib(b, sizeof b, c->kib_per_request), c->cpu_ms_per_request,
            fmt_seconds(a, sizeof a, c->seconds),
            fmt_count(m, sizeof m, t->in_flight),
            fmt_kib(y, sizeof y, t->kib_per_request), t->cpu_ms_per_request,
            fmt_seconds(x, sizeof x, t->seconds));
}

static void glance_robust(const demo_t *d, FILE *f)
{
    const robust_run_t *w = &d->robust[0], *p = &d->robust[1];
    if (!w->ran)
        return;
    fprintf(f,
            "  A crash and a hang in a pool of 2: weft answers %d of %zu "
            "tasks rightly",
            results_given(w), w->ntasks);
    if (p->ran)
        fprintf(f, ";\n    Python's pool %d of %zu (BrokenProcessPool)",
                results_given(p), p->ntasks);
    fprintf(f, ".\n");
}

static void glance_race(const demo_t *d, FILE *f)
{
    const race_run_t *u = find_race(d, DEMO_WEFT, "threads", 0);
    const race_run_t *l = find_race(d, DEMO_WEFT, "threads", 1);
    const race_run_t *p = find_race(d, DEMO_PYTHON, "threads", 0);
    if (!u || !l || u->got < 0 || l->got < 0)
        return;
    fprintf(f,
            "  The counter race, %u threads: weft loses %.0f%% of the "
            "increments without a Lock, %s with it",
            u->workers, 100.0 * (u->expected - u->got) / u->expected,
            l->got == l->expected ? "none" : "SOME");
    if (p && p->got >= 0)
        fprintf(f,
                ";\n    Python's lose %s: the GIL runs them one at a "
                "time",
                p->got == p->expected ? "none" : "some");
    fprintf(f, ".\n");
}

void table_glance(const demo_t *d, FILE *f)
{
    const machine_info_t *m = &d->machine;
    if (m->available_max > 0 && m->available_min < 0.75 * d->workers)
        fprintf(f,
                "  (The machine was busy: between runs, the probes found "
                "%.1f to %.1f of its %u CPUs\n  free for this program; "
                "parallel speed-ups are bounded by that.)\n",
                m->available_min, m->available_max, m->usable);
    glance_cpu(d, f);
    glance_io(d, f);
    glance_robust(d, f);
    glance_race(d, f);
}
