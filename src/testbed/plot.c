/*
 * plot.c - the testbed's plots (plot.h): a gnuplot script written next to
 * samples.csv, then gnuplot run on it (common/gnuplot.h).
 *
 * Models: nothing; presentation. Data: the script refers to samples.csv
 * by column number (testbed_report_csv_column, the report's own column
 * walk) and carries each host's capacity log inline (a datablock), so the
 * capacity line has every change at its time, not only at sample times.
 * Locking: none.
 */
#include "testbed/plot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gnuplot.h"
#include "testbed/report.h"

/* The capacity log of host h as datablock $caph (seconds,MiB: commas, as
 * the script's datafile separator), ending at the end of the run;
 * unlimited stretches are left out (NaN: no line). */
static void plot_capacity_block(FILE *f, struct testbed_run *r, size_t h)
{
    size_t n;
    struct testbed_capacity_change *log = testbed_host_log(&r->hosts[h], &n);

    fprintf(f, "$cap%zu << EOD\n", h);
    for (size_t i = 0; i < n; i++) {
        if (log[i].bytes == TMEM_CAPACITY_UNLIMITED)
            fprintf(f, "%.3f,NaN\n", log[i].t_s);
        else
            fprintf(f, "%.3f,%.4f\n", log[i].t_s, (double)log[i].bytes / 1048576.0);
    }
    if (n) {
        uint64_t last = log[n - 1].bytes;
        if (last == TMEM_CAPACITY_UNLIMITED)
            fprintf(f, "%.3f,NaN\n", r->length_s);
        else
            fprintf(f, "%.3f,%.4f\n", r->length_s, (double)last / 1048576.0);
    }
    fprintf(f, "EOD\n");
    free(log);
}

/* Has host h had a finite capacity at some time (something to draw)? */
static bool plot_capacity_finite(struct testbed_run *r, size_t h)
{
    size_t n;
    bool finite = false;
    struct testbed_capacity_change *log = testbed_host_log(&r->hosts[h], &n);

    for (size_t i = 0; i < n && !finite; i++)
        finite = log[i].bytes != TMEM_CAPACITY_UNLIMITED;
    free(log);
    return finite;
}

/* Was guest k on host h at some sample (it may have migrated)? */
static bool plot_guest_was_on(const struct testbed_run *r, size_t k, size_t h)
{
    if (r->series.n == 0)
        return r->guests[k].sg->host == h;
    for (size_t i = 0; i < r->series.n; i++)
        if (testbed_series_guest(&r->series, i, k)->host == h)
            return true;
    return false;
}

/* The terminal lines for one format. */
static void plot_terminal(FILE *f, bool svg, const char *path, int height)
{
    gnuplot_terminal(f, svg, path, 1000, height);
}

static void plot_capacity(FILE *f, struct testbed_run *r, const char *csv, const char *out,
                          bool svg)
{
    plot_terminal(f, svg, out, r->nhosts > 1 ? 420 * (int)r->nhosts : 560);
    if (r->nhosts > 1)
        fprintf(f, "set multiplot layout %zu,1\n", r->nhosts);
    for (size_t h = 0; h < r->nhosts; h++) {
        const struct testbed_host *host = &r->hosts[h];
        unsigned used = testbed_report_csv_column(r, h, -1, "used_bytes");
        char stack[2048] = "0";
        size_t pos = 1;
        bool first = true;

        fprintf(f, "set title ");
        {
            char title[512];
            snprintf(title, sizeof(title), "host %s: tmem capacity (%s pressure) and use, "
                     "each guest's share stacked", host->sh->name,
                     pressure_kind_name(host->sh->pressure.kind));
            gnuplot_quote(f, title);
        }
        fprintf(f, "\nset xlabel 'time (s)' offset 0,0.4\nset ylabel 'MiB'\nset yrange [0:*]\n"
                   "set xrange [0:%.3f]\nset key below horizontal height 1\n"
                   "set grid\nset style fill transparent solid 0.55 noborder\nplot ",
                r->length_s > 0 ? r->length_s : 1.0);
        for (size_t k = 0; k < r->nguests; k++) {
            const struct testbed_guest *g = &r->guests[k];
            unsigned col, hcol;
            char title[160];

            if (!plot_guest_was_on(r, k, h))
                continue;
            col = testbed_report_csv_column(r, h, (long)k, "held_bytes");
            hcol = testbed_report_csv_column(r, h, (long)k, "host");
            fputs(first ? "" : ", \\\n     ", f);
            gnuplot_quote(f, csv);
            /* counted on this host only while it was here (migrations) */
            fprintf(f, " skip 1 using 1:((%s)/MiB):((%s+($%u==%zu?$%u:0))/MiB) with "
                       "filledcurves title ", stack, stack, hcol, h, col);
            snprintf(title, sizeof(title), "%s (%s guest)", g->sg->name,
                     g->mount ? "mount" : g->stress ? "stress" : "swap");
            gnuplot_quote(f, title);
            pos += (size_t)snprintf(stack + pos, sizeof(stack) - pos, "+($%u==%zu?$%u:0)",
                                    hcol, h, col);
            if (pos >= sizeof(stack))
                pos = sizeof(stack) - 1;
            first = false;
        }
        if (plot_capacity_finite(r, h))
            fprintf(f, "%s$cap%zu using 1:2 with steps lw 2.5 lc rgb 'black' title 'capacity', "
                       "\\\n     ", first ? "" : ", \\\n     ", h);
        else
            fprintf(f, "%s", first ? "" : ", \\\n     ");
        gnuplot_quote(f, csv);
        fprintf(f, " skip 1 using 1:($%u/MiB) with lines lw 2 dt 2 lc rgb '#c00000' "
                   "title 'used (data + metadata)'\n", used);
    }
    if (r->nhosts > 1)
        fprintf(f, "unset multiplot\n");
    fprintf(f, "set output\n");
}

static void plot_hitrate(FILE *f, struct testbed_run *r, const char *csv, const char *out,
                         bool svg)
{
    bool first = true, finite = false;

    plot_terminal(f, svg, out, 520);
    fprintf(f, "set title ");
    {
        char title[512];
        snprintf(title, sizeof(title), "each guest's hit rate per %.2g s interval",
                 r->sc->sample_interval_s);
        gnuplot_quote(f, title);
    }
    for (size_t h = 0; h < r->nhosts; h++)
        finite |= plot_capacity_finite(r, h);
    fprintf(f, "\nset xlabel 'time (s)' offset 0,0.4\nset ylabel 'hit rate (%%)'\nset yrange [0:105]\n"
               "set xrange [0:%.3f]\nset key below horizontal height 1\nset grid\n",
            r->length_s > 0 ? r->length_s : 1.0);
    if (finite)
        fprintf(f, "set y2label 'capacity (MiB)'\nset y2tics\nset y2range [0:*]\n"
                   "set ytics nomirror\n");
    fprintf(f, "plot ");
    for (size_t k = 0; k < r->nguests; k++) {
        const struct testbed_guest *g = &r->guests[k];
        unsigned col = testbed_report_csv_column(r, 0, (long)k, "hit_rate");
        char title[160];

        fputs(first ? "" : ", \\\n     ", f);
        gnuplot_quote(f, csv);
        fprintf(f, " skip 1 using 1:($%u*100) with linespoints lw 2 pt 7 ps 0.6 title ", col);
        snprintf(title, sizeof(title), "%s: %s", g->sg->name,
                 g->mount ? "cleancache gets that hit"
                 : g->stress ? "stress gets that hit"
                             : "swap-ins served by frontswap");
        gnuplot_quote(f, title);
        first = false;
    }
    for (size_t h = 0; h < r->nhosts; h++) {
        char title[160];

        if (!plot_capacity_finite(r, h))
            continue;
        fprintf(f, "%s$cap%zu using 1:2 axes x1y2 with steps lw 1.5 lc rgb '#a0a0a0' title ",
                first ? "" : ", \\\n     ", h);
        snprintf(title, sizeof(title), "capacity of %s (right axis)", r->hosts[h].sh->name);
        gnuplot_quote(f, title);
        first = false;
    }
    fprintf(f, "\nset output\n");
}

int testbed_plot_write(struct testbed_run *r, char *paths[TESTBED_PLOT_FILES], char *err,
                       size_t errlen)
{
    static const char *const names[TESTBED_PLOT_FILES] = {"capacity.png", "capacity.svg",
                                                          "hitrate.png", "hitrate.svg"};
    char *script = NULL, *csv = NULL, *log = NULL;
    FILE *f = NULL;
    int rc = -ENOMEM;

    for (int i = 0; i < TESTBED_PLOT_FILES; i++)
        paths[i] = NULL;
    if (asprintf(&script, "%s/plots.gp", r->outdir) < 0 ||
        asprintf(&csv, "%s/samples.csv", r->outdir) < 0 ||
        asprintf(&log, "%s/gnuplot.log", r->outdir) < 0) {
        script = csv = log = NULL;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < TESTBED_PLOT_FILES; i++) {
        if (asprintf(&paths[i], "%s/%s", r->outdir, names[i]) < 0) {
            paths[i] = NULL;
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    f = fopen(script, "w");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", script, strerror(errno));
        goto out;
    }
    fprintf(f, "# plots.gp - the testbed's plots of %s (redraw: gnuplot %s)\n"
               "set datafile separator ','\nMiB = 1048576.0\n", r->sc->path, script);
    for (size_t h = 0; h < r->nhosts; h++)
        plot_capacity_block(f, r, h);
    for (int svg = 0; svg < 2; svg++) {
        fprintf(f, "reset\nset datafile separator ','\n");
        plot_capacity(f, r, csv, paths[svg], svg);
        fprintf(f, "reset\nset datafile separator ','\n");
        plot_hitrate(f, r, csv, paths[2 + svg], svg);
    }
    if (fclose(f) != 0) {
        f = NULL;
        rc = -EIO;
        snprintf(err, errlen, "%s: write failed", script);
        goto out;
    }
    f = NULL;
    rc = gnuplot_run(script, log);
    if (rc == -ENOENT)
        snprintf(err, errlen, "gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
    else if (rc != 0)
        snprintf(err, errlen, "gnuplot failed on %s (its messages: %s)", script, log);
out:
    if (f)
        fclose(f);
    if (rc != 0) {
        for (int i = 0; i < TESTBED_PLOT_FILES; i++) {
            free(paths[i]);
            paths[i] = NULL;
        }
    }
    free(script);
    free(csv);
    free(log);
    return rc;
}
