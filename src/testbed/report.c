/*
 * report.c - the testbed's reports (report.h): summary, CSV, JSON.
 *
 * Models: what an evaluator reads after a run: per host what the
 * hypervisor did (capacity over time, how full the store got, what tmem
 * operations cost), per guest what tmem gave it (hits, I/O and time
 * saved), and every counter over time for plots and scripts.
 *
 * Data structures: none kept. The CSV's columns are walked by one
 * function (testbed_report_columns) for the header, for every row and for
 * finding a column's number, so they cannot disagree. Counters come from
 * the modules' lists (TMEM_STATS_FIELDS, TMEMFS_COUNTERS,
 * SWAPSIM_COUNTERS); JSON is built with jansson through the project's
 * helpers (common/stats_writer.h: an unlimited capacity is "unlimited"
 * everywhere). Locking: none (after the run).
 */
#include "testbed/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/histogram.h"
#include "common/stats_writer.h"
#include "testbed/price.h"
#include "testbed/report_remote.h"

#define MIB (1024.0 * 1024.0)

/* ------------------------------------------------------------ helpers */

static const char *report_kind(const struct testbed_guest *g)
{
    return g->mount ? "mount" : g->stress ? "stress" : "swap";
}

static const char *report_op_name(int op)
{
    return op == TMEM_OP_PUT ? "put" : op == TMEM_OP_GET ? "get" : "flush";
}

/* "12.5 MiB" or "unlimited". */
static const char *report_size(char *buf, size_t len, uint64_t bytes)
{
    if (bytes == TMEM_CAPACITY_UNLIMITED)
        snprintf(buf, len, "unlimited");
    else
        snprintf(buf, len, "%.1f MiB", (double)bytes / MIB);
    return buf;
}

/* The share saved, in percent (never -0.0). */
static double report_pct_less(uint64_t with, uint64_t without)
{
    double v = without ? 100.0 * ((double)without - (double)with) / (double)without : 0.0;
    return v > -0.05 && v < 0.05 ? 0.0 : v;
}

/* The last record of guest k: its final counters once stopped, else the
 * last sample's. NULL if it never ran. */
static const struct testbed_guest_sample *report_last(const struct testbed_run *r, size_t k)
{
    const struct testbed_guest *g = &r->guests[k];

    if (g->have_final)
        return &g->final;
    if (g->state == TESTBED_GUEST_RUNNING && r->series.n)
        return testbed_series_guest(&r->series, r->series.n - 1, k);
    return NULL;
}

static void report_swap_price(const struct testbed_guest *g,
                              const struct testbed_guest_sample *s,
                              struct testbed_swap_price *p)
{
    testbed_price_swap(&s->swap, testbed_swap_page_size(g->swap), testbed_swap_profile(g->swap),
                       s->tmem_ns, p);
}

static void report_mount_price(const struct testbed_guest *g,
                               const struct testbed_guest_sample *s,
                               struct testbed_mount_price *p)
{
    testbed_price_mount(&s->device, s->mount[TMEMFS_SUCC_GETS],
                        testbed_mount_page_size(g->mount), testbed_mount_profile(g->mount), p);
}

/* Per host: the peak of used bytes (and when), samples above the capacity,
 * and of those the ones right after a drop (the capacity of the sample
 * before was higher: reclaim had one interval to catch up). */
struct report_host_use {
    uint64_t peak_used;
    double peak_t;
    uint64_t peak_capacity;
    size_t over, over_after_drop;
};

static void report_host_use(const struct testbed_run *r, size_t h, struct report_host_use *u)
{
    const struct testbed_series *s = &r->series;

    memset(u, 0, sizeof(*u));
    for (size_t i = 0; i < s->n; i++) {
        const struct testbed_host_sample *hs = testbed_series_host(s, i, h);
        uint64_t used = testbed_used_bytes(&hs->store);

        if (used > u->peak_used || i == 0) {
            u->peak_used = used;
            u->peak_t = s->t[i];
            u->peak_capacity = hs->capacity;
        }
        if (used > hs->capacity) {
            u->over++;
            if (i > 0 && testbed_series_host(s, i - 1, h)->capacity > hs->capacity)
                u->over_after_drop++;
        }
    }
}

/* A guest's held bytes in the store (data + metadata of its client). */
static uint64_t report_held(const struct testbed_guest_sample *gs)
{
    return gs->client.data_bytes + gs->client.metadata_bytes;
}

/* ------------------------------------------------------------ summary */

static void report_latency_table(FILE *f, struct tmem *tm)
{
    bool header = false;

    for (int kind = 0; kind < 2; kind++) {
        for (int op = 0; op < TMEM_OP_COUNT; op++) {
            struct histogram h;
            char name[32];

            histogram_init(&h);
            (void)tmem_latency(tm, (enum tmem_op)op, kind == 1, &h);
            if (atomic_load(&h.count) == 0)
                continue;
            if (!header)
                fprintf(f, "  tmem latency (ns)        calls        p50        p99        max\n");
            header = true;
            snprintf(name, sizeof(name), "%s %s", report_op_name(op),
                     kind ? "persistent" : "ephemeral");
            fprintf(f, "    %-20s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
                    name, atomic_load(&h.count), histogram_quantile(&h, 0.5),
                    histogram_quantile(&h, 0.99), atomic_load(&h.max));
        }
    }
    if (!header)
        fprintf(f, "  tmem latency: no operation timed (none made, or latency = off)\n");
}

static void report_summary_host(FILE *f, struct testbed_run *r, size_t h)
{
    struct testbed_host *host = &r->hosts[h];
    const struct scenario_host *sh = host->sh;
    struct testbed_capacity_change *log;
    struct report_host_use u;
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t nlog;
    char a[32], b[32], c[32];

    log = testbed_host_log(host, &nlog);
    for (size_t i = 0; i < nlog; i++) {
        if (log[i].bytes < lo)
            lo = log[i].bytes;
        if (log[i].bytes > hi)
            hi = log[i].bytes;
    }
    report_host_use(r, h, &u);
    fprintf(f, "host %s: compressor %s, dedup %s, page size %u; pressure %s every %.2f s\n",
            sh->name, tmem_compressor_name(sh->store.compressor) ?
                      tmem_compressor_name(sh->store.compressor) : "?",
            sh->store.dedup ? "on" : "off", tmem_page_size(host->tm),
            pressure_kind_name(sh->pressure.kind), pressure_interval(host->model));
    if (nlog == 1)
        fprintf(f, "  capacity: %s all along\n", report_size(a, sizeof(a), log[0].bytes));
    else if (nlog)
        fprintf(f, "  capacity: %zu change%s after the start (%s at 0 s), between %s and %s\n",
                nlog - 1, nlog == 2 ? "" : "s", report_size(a, sizeof(a), log[0].bytes),
                report_size(b, sizeof(b), lo), report_size(c, sizeof(c), hi));
    fprintf(f, "  peak used: %s at %.1f s (capacity then %s); samples above the capacity: %zu "
               "of %zu (%zu right after a drop)\n",
            report_size(a, sizeof(a), u.peak_used), u.peak_t,
            report_size(b, sizeof(b), u.peak_capacity), u.over, r->series.n,
            u.over_after_drop);
    report_latency_table(f, host->tm);
    testbed_report_remote_host(f, r, h);
    free(log);
}

static void report_summary_mount(FILE *f, const struct testbed_guest *g,
                                 const struct testbed_guest_sample *s)
{
    const uint64_t *v = s->mount;
    struct testbed_mount_price p;
    uint64_t gets = v[TMEMFS_SUCC_GETS] + v[TMEMFS_FAILED_GETS];
    bool stopped = false;
    int status = testbed_mount_last_status(g->mount, &stopped);
    char last[96];

    report_mount_price(g, s, &p);
    if (status < 0)
        snprintf(last, sizeof(last), "none ended");
    else if (stopped)
        snprintf(last, sizeof(last), "the last one stopped by the guest's stop (status %d)",
                 status);
    else
        snprintf(last, sizeof(last), "the last one exited with status %d", status);
    fprintf(f, "  workload: `%s` ran %u time%s, %s (output: %s)\n", g->sg->mount.command,
            testbed_mount_runs(g->mount), testbed_mount_runs(g->mount) == 1 ? "" : "s", last,
            g->log_path);
    fprintf(f, "  cleancache: hit rate %.1f %% (%" PRIu64 " of %" PRIu64 " gets), %" PRIu64
               " puts (%" PRIu64 " refused), %" PRIu64 " pages evicted by the store\n",
            gets ? 100.0 * (double)v[TMEMFS_SUCC_GETS] / (double)gets : 0.0,
            v[TMEMFS_SUCC_GETS], gets, v[TMEMFS_PUTS], v[TMEMFS_FAILED_PUTS],
            s->client.pages_evicted);
    fprintf(f, "  backing reads: %" PRIu64 " pages; cleancache saved %" PRIu64
               " (%.1f %% fewer than the %" PRIu64 " without it)\n",
            v[TMEMFS_BACKING_PAGES_READ], p.pages_saved,
            report_pct_less(v[TMEMFS_BACKING_PAGES_READ],
                            v[TMEMFS_BACKING_PAGES_READ] + p.pages_saved),
            v[TMEMFS_BACKING_PAGES_READ] + p.pages_saved);
    fprintf(f, "  device time on %s: %.3f s with cleancache, %.3f s without: %.3f s saved "
               "(%.1f %%)\n",
            testbed_mount_profile(g->mount)->name, (double)p.device_ns_with / 1e9,
            (double)p.device_ns_without / 1e9,
            (double)(p.device_ns_without - p.device_ns_with) / 1e9,
            report_pct_less(p.device_ns_with, p.device_ns_without));
}

static void report_summary_swap(FILE *f, const struct testbed_guest *g,
                                const struct testbed_guest_sample *s)
{
    const struct swapsim_counters *c = &s->swap;
    struct testbed_swap_price p;
    double rate;

    report_swap_price(g, s, &p);
    fprintf(f, "  frontswap: %" PRIu64 " stores (%" PRIu64 " refused), %" PRIu64
               " loads, %" PRIu64 " invalidates; %" PRIu64 " pages given back in %" PRIu64
               " shrink calls\n",
            c->succ_stores + c->failed_stores, c->failed_stores, c->loads, c->invalidates,
            c->shrink_pages, c->shrink_calls);
    if (testbed_guest_hit_rate(s, false, &rate))
        fprintf(f, "  swap-ins served by frontswap: %.1f %% (%" PRIu64 " of %" PRIu64 ")\n",
                rate * 100.0, c->loads, c->loads + c->pswpin);
    fprintf(f, "  swap file: %" PRIu64 " pages read, %" PRIu64 " written; without tmem %"
               PRIu64 " and %" PRIu64 " (swap I/O saved: %" PRIu64 " reads, %" PRIu64
               " writes)\n",
            c->pswpin, c->pswpout, c->pswpin + p.extra_reads, c->pswpout + p.extra_writes,
            p.extra_reads, p.extra_writes);
    fprintf(f, "  simulated time on %s: %.3f s with frontswap (tmem operations measured: "
               "%.3f ms), %.3f s without: %.1f %% faster\n",
            testbed_swap_profile(g->swap)->name, (double)p.sim_ns_with / 1e9,
            (double)p.tmem_ns / 1e6, (double)p.sim_ns_without / 1e9,
            report_pct_less(p.sim_ns_with, p.sim_ns_without));
    fprintf(f, "  verified: %" PRIu64 " accesses, %" PRIu64 " pages checked, %" PRIu64
               " mismatches, %" PRIu64 " failed loads, %" PRIu64 " leaked slots, %" PRIu64
               " leaked tmem pages\n",
            c->accesses, c->pages_verified, c->mismatches, c->failed_loads, c->leaked_slots,
            c->leaked_tmem_pages);
}

static void report_summary_stress(FILE *f, const struct testbed_guest *g,
                                  const struct testbed_guest_sample *s)
{
    const struct testbed_stress_counters *c = &s->stress;

    fprintf(f, "  stress: %u threads, %" PRIu64 " operations: %" PRIu64 " puts (%" PRIu64
               " refused), %" PRIu64 " gets (%" PRIu64 " hits), %" PRIu64 " flushes, %" PRIu64
               " pools created (%" PRIu64 " refused), %" PRIu64 " destroyed\n",
            g->sg->stress.threads, c->ops, c->puts, c->puts_refused, c->gets, c->hits,
            c->flushes, c->pools_created, c->pool_creations_refused, c->pools_destroyed);
    fprintf(f, "  checked: every get against the model, %" PRIu64 " invariant checks, %" PRIu64
               " persistent pages read back at the stop, %" PRIu64 " mismatches\n",
            c->checks, c->pages_verified, c->mismatches);
}

static void report_summary_guest(FILE *f, struct testbed_run *r, size_t k)
{
    const struct testbed_guest *g = &r->guests[k];
    const struct scenario_guest *sg = g->sg;
    const struct testbed_guest_sample *s = report_last(r, k);
    uint64_t peak = 0;
    double peak_share = 0;
    char a[32], b[32];

    fprintf(f, "guest %s (%s on host %s, weight %u, cap %s): ", sg->name, report_kind(g),
            g->host->sh->name, sg->weight, report_size(a, sizeof(a), sg->cap));
    if (g->started_s < 0) {
        fprintf(f, "never started%s\n", g->failed ? "" : " (its start time was not reached)");
    } else {
        fprintf(f, "ran %.1f to %.1f s, stopped: %s\n", g->started_s,
                g->stopped_s >= 0 ? g->stopped_s : r->length_s,
                g->stop_reason ? g->stop_reason : "still running");
    }
    if (g->failed)
        fprintf(f, "  FAILED: %s\n", g->failure);
    if (testbed_run_host_index(r, g) != sg->host)
        fprintf(f, "  started on host %s, ended on host %s (migrations: below)\n",
                r->hosts[sg->host].sh->name, g->host->sh->name);
    if (!s)
        return;
    for (size_t i = 0; i < r->series.n; i++) {
        const struct testbed_guest_sample *gs = testbed_series_guest(&r->series, i, k);
        uint64_t used = /* the host it was on then (it may have migrated) */
            testbed_used_bytes(&testbed_series_host(&r->series, i, gs->host)->store);
        uint64_t held = report_held(gs);

        if (held > peak)
            peak = held;
        if (used && (double)held / (double)used > peak_share)
            peak_share = (double)held / (double)used;
    }
    fprintf(f, "  in the store: peak %s, %.0f %% of the store's use at most; %" PRIu64
               " of its pages evicted\n",
            report_size(b, sizeof(b), peak), peak_share * 100.0, s->client.pages_evicted);
    if (g->mount)
        report_summary_mount(f, g, s);
    else if (g->stress)
        report_summary_stress(f, g, s);
    else
        report_summary_swap(f, g, s);
    testbed_report_remote_guest(f, r, k, s);
}

void testbed_report_summary(FILE *f, struct testbed_run *r)
{
    const struct scenario *sc = r->sc;

    fprintf(f, "tmem-testbed %s: ran %.1f s of %.1f s", sc->path, r->length_s, sc->duration_s);
    if (r->stop_signal)
        fprintf(f, " (INTERRUPTED by %s: the reports hold what was done)",
                r->stop_signal == SIGINT ? "SIGINT" : r->stop_signal == SIGTERM ? "SIGTERM"
                                                                                : "a signal");
    fprintf(f, ", %zu samples every %.2f s\n", r->series.n, sc->sample_interval_s);
    if (r->failure[0])
        fprintf(f, "RUNNER FAILED: %s\n", r->failure);
    for (size_t h = 0; h < r->nhosts; h++)
        report_summary_host(f, r, h);
    for (size_t k = 0; k < r->nguests; k++)
        report_summary_guest(f, r, k);
    testbed_migration_summary(f, r);
    if (r->failed) {
        fprintf(f, "RESULT: FAILED:");
        for (size_t k = 0; k < r->nguests; k++)
            if (r->guests[k].failed)
                fprintf(f, " %s", r->guests[k].sg->name);
        fprintf(f, "%s\n", r->failure[0] ? " (and the runner)" : "");
    } else {
        fprintf(f, "RESULT: ok%s\n", r->stop_signal ? " so far (interrupted)" : "");
    }
}

/* ------------------------------------------------------------- CSV */

/* One walk over the columns: print the header, a row, or find a name. */
struct report_cols {
    FILE *f;            /* NULL: only count (finding) */
    bool header;
    unsigned n;         /* columns so far */
    const char *find;   /* full name looked for */
    unsigned found;
};

static void report_col_name(struct report_cols *c, const char *prefix, const char *name)
{
    char full[256];

    c->n++;
    snprintf(full, sizeof(full), "%s%s", prefix, name);
    if (c->find && !c->found && strcmp(full, c->find) == 0)
        c->found = c->n;
    if (c->f && c->header)
        fprintf(c->f, "%s%s", c->n > 1 ? "," : "", full);
}

static void report_col_u64(struct report_cols *c, const char *prefix, const char *name,
                           uint64_t v)
{
    if (c->header || !c->f) {
        report_col_name(c, prefix, name);
        return;
    }
    c->n++;
    fprintf(c->f, "%s%" PRIu64, c->n > 1 ? "," : "", v);
}

static void report_col_limit(struct report_cols *c, const char *prefix, const char *name,
                             uint64_t v)
{
    if (c->header || !c->f || v != TMEM_CAPACITY_UNLIMITED) {
        report_col_u64(c, prefix, name, v);
        return;
    }
    c->n++;
    fprintf(c->f, "%sunlimited", c->n > 1 ? "," : "");
}

/* A fraction, or an empty field when there is none (have false). */
static void report_col_real(struct report_cols *c, const char *prefix, const char *name,
                            bool have, double v)
{
    if (c->header || !c->f) {
        report_col_name(c, prefix, name);
        return;
    }
    c->n++;
    if (have)
        fprintf(c->f, "%s%.4f", c->n > 1 ? "," : "", v);
    else if (c->n > 1)
        fputc(',', c->f);
}

static void report_col_tmem_stats(struct report_cols *c, const char *prefix, const char *sub,
                                  const struct tmem_stats *st)
{
    char name[96];

#define REPORT_TMEM_COL_(kind, id, field, help)                                               \
    snprintf(name, sizeof(name), "%s%s", sub, #field);                                    \
    if (strcmp(#field, "capacity_bytes") == 0)                                            \
        report_col_limit(c, prefix, name, st->field);                                     \
    else                                                                                  \
        report_col_u64(c, prefix, name, st->field);
    TMEM_STATS_FIELDS(REPORT_TMEM_COL_)
#undef REPORT_TMEM_COL_
}

/* The remote tier's columns (report_remote.h). */
static void report_col_remote(struct report_cols *c, const char *prefix,
                              const struct testbed_remote_sample *rs)
{
    const char *names[REPORT_REMOTE_COLUMNS];
    uint64_t values[REPORT_REMOTE_COLUMNS];

    testbed_report_remote_columns(rs, names, values);
    for (size_t i = 0; i < REPORT_REMOTE_COLUMNS; i++)
        report_col_u64(c, prefix, names[i], values[i]);
}

/* Every column of sample i (i may be anything when only naming). */
static void testbed_report_columns(const struct testbed_run *r, size_t i,
                                   struct report_cols *c)
{
    static const struct testbed_guest_sample zero;
    const struct testbed_series *s = &r->series;
    bool naming = c->header || !c->f;
    char prefix[160];

    report_col_real(c, "", "t_s", true, naming ? 0 : s->t[i]);
    for (size_t h = 0; h < r->nhosts; h++) {
        const struct testbed_host_sample *hs = naming ? NULL : testbed_series_host(s, i, h);
        struct tmem_stats none;

        memset(&none, 0, sizeof(none));
        snprintf(prefix, sizeof(prefix), "host.%s.", r->hosts[h].sh->name);
        report_col_limit(c, prefix, "capacity_bytes", hs ? hs->capacity : 0);
        report_col_u64(c, prefix, "used_bytes", hs ? testbed_used_bytes(&hs->store) : 0);
        report_col_tmem_stats(c, prefix, "store_", hs ? &hs->store : &none);
        if (r->hosts[h].sh->remote >= 0)
            report_col_remote(c, prefix, hs ? &hs->remote : &zero.remote);
    }
    for (size_t k = 0; k < r->nguests; k++) {
        const struct testbed_guest *g = &r->guests[k];
        const struct testbed_guest_sample *gs = naming ? &zero : testbed_series_guest(s, i, k);
        uint64_t used = naming ? 0 /* of the host it was on then */
                               : testbed_used_bytes(&testbed_series_host(s, i, gs->host)->store);
        double rate = 0;
        bool have_rate = !naming && testbed_series_hit_rate(s, i, k, g->mount != NULL, &rate);

        snprintf(prefix, sizeof(prefix), "guest.%s.", g->sg->name);
        report_col_u64(c, prefix, "running", gs->running ? 1 : 0);
        report_col_u64(c, prefix, "host", gs->host);
        report_col_u64(c, prefix, "held_bytes", report_held(gs));
        report_col_real(c, prefix, "share", used > 0, used ? (double)report_held(gs) / used : 0);
        report_col_real(c, prefix, "hit_rate", have_rate, rate);
        report_col_tmem_stats(c, prefix, "client_", &gs->client);
        if (g->sg->remote_kinds)
            report_col_remote(c, prefix, &gs->remote);
        if (g->mount) {
            struct testbed_mount_price p;

            if (!naming)
                report_mount_price(g, gs, &p);
            else
                memset(&p, 0, sizeof(p));
#define REPORT_MOUNT_COL_(id, field, help)                                                    \
    report_col_u64(c, prefix, #field, gs->mount[TMEMFS_##id]);
            TMEMFS_COUNTERS(REPORT_MOUNT_COL_)
#undef REPORT_MOUNT_COL_
            report_col_u64(c, prefix, "guest_pages", gs->guest_pages);
            report_col_u64(c, prefix, "device_random_requests", gs->device.random_requests);
            report_col_u64(c, prefix, "device_sequential_requests",
                           gs->device.sequential_requests);
            report_col_u64(c, prefix, "device_read_bytes", gs->device.read_bytes);
            report_col_u64(c, prefix, "device_write_bytes", gs->device.write_bytes);
            report_col_u64(c, prefix, "device_ns", p.device_ns_with);
            report_col_u64(c, prefix, "device_ns_without", p.device_ns_without);
        } else if (g->stress) {
#define REPORT_STRESS_COL_(field, help) report_col_u64(c, prefix, "stress_" #field, gs->stress.field);
            TESTBED_STRESS_COUNTERS(REPORT_STRESS_COL_)
#undef REPORT_STRESS_COL_
        } else {
            struct testbed_swap_price p;

            if (!naming)
                report_swap_price(g, gs, &p);
            else
                memset(&p, 0, sizeof(p));
#define REPORT_SWAP_COL_(field, help) report_col_u64(c, prefix, #field, gs->swap.field);
            SWAPSIM_COUNTERS(REPORT_SWAP_COL_)
#undef REPORT_SWAP_COL_
            report_col_u64(c, prefix, "tmem_ns", gs->tmem_ns);
            report_col_u64(c, prefix, "device_ns", p.device_ns_with);
            report_col_u64(c, prefix, "device_ns_without", p.device_ns_without);
            report_col_u64(c, prefix, "sim_ns_with", p.sim_ns_with);
            report_col_u64(c, prefix, "sim_ns_without", p.sim_ns_without);
        }
    }
}

unsigned testbed_report_csv_column(const struct testbed_run *r, size_t h, long guest,
                                   const char *field)
{
    struct report_cols c = {0};
    char full[256];

    if (guest >= 0)
        snprintf(full, sizeof(full), "guest.%s.%s", r->guests[guest].sg->name, field);
    else
        snprintf(full, sizeof(full), "host.%s.%s", r->hosts[h].sh->name, field);
    c.find = full;
    testbed_report_columns(r, 0, &c);
    return c.found;
}

static int report_write_csv(FILE *f, const struct testbed_run *r)
{
    struct report_cols c = {.f = f, .header = true};

    testbed_report_columns(r, 0, &c);
    fputc('\n', f);
    for (size_t i = 0; i < r->series.n; i++) {
        struct report_cols row = {.f = f};

        testbed_report_columns(r, i, &row);
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}

/* ------------------------------------------------------------- JSON */

static json_t *report_json_tmem_stats(const struct tmem_stats *st)
{
    json_t *o = json_object();
    int bad = !o;

    if (!o)
        return NULL;
#define REPORT_TMEM_JSON_(kind, id, field, help)                                              \
    bad |= stats_json_set(o, #field,                                                      \
                          strcmp(#field, "capacity_bytes") == 0 ? stats_json_limit(st->field) \
                                                                : stats_json_u64(st->field));
    TMEM_STATS_FIELDS(REPORT_TMEM_JSON_)
#undef REPORT_TMEM_JSON_
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *report_json_histogram(const struct histogram *h)
{
    json_t *o = json_object();
    int bad = !o;

    if (!o)
        return NULL;
    bad |= stats_json_set(o, "count", stats_json_u64(atomic_load(&h->count)));
    bad |= stats_json_set(o, "sum", stats_json_u64(atomic_load(&h->sum)));
    bad |= stats_json_set(o, "mean", stats_json_real(histogram_mean(h), 1));
    bad |= stats_json_set(o, "p50", stats_json_u64(histogram_quantile(h, 0.5)));
    bad |= stats_json_set(o, "p90", stats_json_u64(histogram_quantile(h, 0.9)));
    bad |= stats_json_set(o, "p99", stats_json_u64(histogram_quantile(h, 0.99)));
    bad |= stats_json_set(o, "max", stats_json_u64(atomic_load(&h->count) ?
                                                   atomic_load(&h->max) : 0));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {"ephemeral": {"put": {...}, ...}, "persistent": {...}} of the store. */
static json_t *report_json_latency(struct tmem *tm)
{
    json_t *o = json_object();
    int bad = !o;

    for (int kind = 0; o && kind < 2; kind++) {
        json_t *k = json_object();

        bad |= !k;
        for (int op = 0; k && op < TMEM_OP_COUNT; op++) {
            struct histogram h;

            histogram_init(&h);
            (void)tmem_latency(tm, (enum tmem_op)op, kind == 1, &h);
            bad |= stats_json_set(k, report_op_name(op), report_json_histogram(&h));
        }
        bad |= stats_json_set(o, kind ? "persistent" : "ephemeral", k);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *report_json_host(struct testbed_run *r, size_t h)
{
    struct testbed_host *host = &r->hosts[h];
    const struct scenario_host *sh = host->sh;
    struct testbed_capacity_change *log;
    struct report_host_use u;
    json_t *o = json_object(), *changes = json_array(), *store = json_object();
    size_t nlog;
    int bad = !o || !changes || !store;

    log = testbed_host_log(host, &nlog);
    for (size_t i = 0; changes && i < nlog; i++) {
        json_t *c = json_object();

        bad |= !c;
        if (c) {
            bad |= stats_json_set(c, "t_s", stats_json_real(log[i].t_s, 3));
            bad |= stats_json_set(c, "bytes", stats_json_limit(log[i].bytes));
            bad |= json_array_append_new(changes, c) != 0;
        }
    }
    free(log);
    report_host_use(r, h, &u);
    if (store) {
        bad |= stats_json_set(store, "capacity_bytes", stats_json_limit(sh->store.capacity_bytes));
        bad |= stats_json_set(store, "page_size", stats_json_u64(tmem_page_size(host->tm)));
        bad |= stats_json_set(store, "compressor", stats_json_string(
                                  tmem_compressor_name(sh->store.compressor) ?
                                  tmem_compressor_name(sh->store.compressor) : "?"));
        bad |= stats_json_set(store, "compress_level", stats_json_u64(
                                  sh->store.compress_level > 0 ? (uint64_t)sh->store.compress_level
                                                               : 0));
        bad |= stats_json_set(store, "dedup", json_boolean(sh->store.dedup));
        bad |= stats_json_set(store, "hysteresis", json_boolean(sh->store.hysteresis));
        bad |= stats_json_set(store, "latency_histograms",
                              json_boolean(sh->store.latency_histograms));
    }
    if (o) {
        struct tmem_stats st;

        memset(&st, 0, sizeof(st));
        (void)tmem_stats(host->tm, &st);
        bad |= stats_json_set(o, "name", stats_json_string(sh->name));
        bad |= stats_json_set(o, "store", store);
        store = NULL;
        bad |= stats_json_set(o, "pressure_model",
                              stats_json_string(pressure_kind_name(sh->pressure.kind)));
        bad |= stats_json_set(o, "pressure_interval_s",
                              stats_json_real(pressure_interval(host->model), 3));
        bad |= stats_json_set(o, "capacity_changes", changes);
        changes = NULL;
        bad |= stats_json_set(o, "peak_used_bytes", stats_json_u64(u.peak_used));
        bad |= stats_json_set(o, "peak_used_t_s", stats_json_real(u.peak_t, 3));
        bad |= stats_json_set(o, "samples_over_capacity", stats_json_u64(u.over));
        bad |= stats_json_set(o, "samples_over_capacity_after_drop",
                              stats_json_u64(u.over_after_drop));
        bad |= stats_json_set(o, "latency_ns", report_json_latency(host->tm));
        bad |= stats_json_set(o, "final", report_json_tmem_stats(&st));
        if (host->remote)
            bad |= stats_json_set(o, "remote", testbed_report_remote_host_json(r, h));
    }
    json_decref(changes);
    json_decref(store);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The guest's own counters (tmemfs's or swapsim's) as members of o. */
static int report_json_counters(json_t *o, const struct testbed_guest *g,
                                const struct testbed_guest_sample *s)
{
    int bad = 0;

    if (g->mount) {
#define REPORT_MOUNT_JSON_(id, field, help)                                                   \
    bad |= stats_json_set(o, #field, stats_json_u64(s->mount[TMEMFS_##id]));
        TMEMFS_COUNTERS(REPORT_MOUNT_JSON_)
#undef REPORT_MOUNT_JSON_
        bad |= stats_json_set(o, "guest_pages", stats_json_u64(s->guest_pages));
        bad |= stats_json_set(o, "device_random_requests",
                              stats_json_u64(s->device.random_requests));
        bad |= stats_json_set(o, "device_sequential_requests",
                              stats_json_u64(s->device.sequential_requests));
        bad |= stats_json_set(o, "device_read_bytes", stats_json_u64(s->device.read_bytes));
        bad |= stats_json_set(o, "device_write_bytes", stats_json_u64(s->device.write_bytes));
    } else if (g->stress) {
#define REPORT_STRESS_JSON_(field, help)                                                      \
    bad |= stats_json_set(o, "stress_" #field, stats_json_u64(s->stress.field));
        TESTBED_STRESS_COUNTERS(REPORT_STRESS_JSON_)
#undef REPORT_STRESS_JSON_
    } else {
        struct stats_writer w;

        stats_writer_begin_object(&w, o);
        swapsim_counters_write(&w, &s->swap);
        bad |= stats_writer_end(&w, false) < 0;
        bad |= stats_json_set(o, "tmem_ns", stats_json_u64(s->tmem_ns));
    }
    return bad;
}

static json_t *report_json_guest(struct testbed_run *r, size_t k)
{
    const struct testbed_guest *g = &r->guests[k];
    const struct scenario_guest *sg = g->sg;
    const struct testbed_guest_sample *s = report_last(r, k);
    json_t *o = json_object(), *fin = NULL;
    double rate;
    int bad = !o;

    if (!o)
        return NULL;
    bad |= stats_json_set(o, "name", stats_json_string(sg->name));
    bad |= stats_json_set(o, "kind", stats_json_string(report_kind(g)));
    bad |= stats_json_set(o, "host", stats_json_string(g->host->sh->name)); /* at the end */
    bad |= stats_json_set(o, "start_host", stats_json_string(r->hosts[sg->host].sh->name));
    bad |= stats_json_set(o, "weight", stats_json_u64(sg->weight));
    bad |= stats_json_set(o, "cap_bytes", stats_json_limit(sg->cap));
    bad |= stats_json_set(o, "start_s", stats_json_real(sg->start_s, 3));
    bad |= stats_json_set(o, "stop_s", sg->stop_s >= 0 ? stats_json_real(sg->stop_s, 3)
                                                       : json_null());
    bad |= stats_json_set(o, "started_s", g->started_s >= 0 ? stats_json_real(g->started_s, 3)
                                                            : json_null());
    bad |= stats_json_set(o, "stopped_s", g->stopped_s >= 0 ? stats_json_real(g->stopped_s, 3)
                                                            : json_null());
    bad |= stats_json_set(o, "stop_reason", g->stop_reason ? stats_json_string(g->stop_reason)
                                                           : json_null());
    bad |= stats_json_set(o, "failed", json_boolean(g->failed));
    bad |= stats_json_set(o, "failure", g->failed ? stats_json_string(g->failure)
                                                  : json_null());
    if (g->mount) {
        bad |= stats_json_set(o, "source", stats_json_string(sg->mount.source));
        bad |= stats_json_set(o, "mountpoint", stats_json_string(g->mountpoint));
        bad |= stats_json_set(o, "options", stats_json_string(sg->mount.options ?
                                                              sg->mount.options : ""));
        bad |= stats_json_set(o, "command", stats_json_string(sg->mount.command));
        bad |= stats_json_set(o, "repeat", json_boolean(sg->mount.repeat));
        bad |= stats_json_set(o, "runs", stats_json_u64(testbed_mount_runs(g->mount)));
        {
            bool stopped = false;
            int status = testbed_mount_last_status(g->mount, &stopped);

            bad |= stats_json_set(o, "last_exit_status",
                                  status >= 0 ? json_integer(status) : json_null());
            bad |= stats_json_set(o, "last_run_stopped", json_boolean(stopped));
        }
        bad |= stats_json_set(o, "log", stats_json_string(g->log_path));
        bad |= stats_json_set(o, "device", stats_json_string(
                                  testbed_mount_profile(g->mount)->name));
    } else if (g->stress) {
        bad |= stats_json_set(o, "threads", stats_json_u64(sg->stress.threads));
        bad |= stats_json_set(o, "pages", stats_json_u64(sg->stress.pages));
        bad |= stats_json_set(o, "rate", sg->stress.rate ? stats_json_u64(sg->stress.rate)
                                                         : json_null());
        bad |= stats_json_set(o, "seed", stats_json_u64(sg->stress.seed));
        bad |= stats_json_set(o, "check_every", stats_json_u64(sg->stress.check_every));
    } else {
        bad |= stats_json_set(o, "device", stats_json_string(testbed_swap_profile(g->swap)->name));
    }
    if (s) {
        bad |= stats_json_set(o, "hit_rate", testbed_guest_hit_rate(s, g->mount != NULL, &rate)
                                                 ? stats_json_real(rate, 4) : json_null());
        if (s->remote.attached)
            bad |= stats_json_set(o, "remote", testbed_report_remote_guest_json(r, k, s));
        if (g->mount) {
            struct testbed_mount_price p;

            report_mount_price(g, s, &p);
            bad |= stats_json_set(o, "backing_pages_saved", stats_json_u64(p.pages_saved));
            bad |= stats_json_set(o, "device_ns_with", stats_json_u64(p.device_ns_with));
            bad |= stats_json_set(o, "device_ns_without", stats_json_u64(p.device_ns_without));
        } else if (!g->stress) {
            struct testbed_swap_price p;

            report_swap_price(g, s, &p);
            bad |= stats_json_set(o, "swap_reads_saved", stats_json_u64(p.extra_reads));
            bad |= stats_json_set(o, "swap_writes_saved", stats_json_u64(p.extra_writes));
            bad |= stats_json_set(o, "device_ns_with", stats_json_u64(p.device_ns_with));
            bad |= stats_json_set(o, "device_ns_without", stats_json_u64(p.device_ns_without));
            bad |= stats_json_set(o, "tmem_ns", stats_json_u64(p.tmem_ns));
            bad |= stats_json_set(o, "sim_ns_with", stats_json_u64(p.sim_ns_with));
            bad |= stats_json_set(o, "sim_ns_without", stats_json_u64(p.sim_ns_without));
        }
        fin = json_object();
        bad |= !fin;
        if (fin) {
            bad |= report_json_counters(fin, g, s);
            bad |= stats_json_set(fin, "client", report_json_tmem_stats(&s->client));
        }
    }
    bad |= stats_json_set(o, "final", fin ? fin : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *report_json_sample(const struct testbed_run *r, size_t i)
{
    const struct testbed_series *s = &r->series;
    json_t *o = json_object(), *hosts = json_array(), *guests = json_array();
    int bad = !o || !hosts || !guests;

    for (size_t h = 0; hosts && h < r->nhosts; h++) {
        const struct testbed_host_sample *hs = testbed_series_host(s, i, h);
        json_t *ho = json_object();

        bad |= !ho;
        if (ho) {
            bad |= stats_json_set(ho, "capacity_bytes", stats_json_limit(hs->capacity));
            bad |= stats_json_set(ho, "used_bytes", stats_json_u64(testbed_used_bytes(&hs->store)));
            bad |= stats_json_set(ho, "store", report_json_tmem_stats(&hs->store));
            bad |= json_array_append_new(hosts, ho) != 0;
        }
    }
    for (size_t k = 0; guests && k < r->nguests; k++) {
        const struct testbed_guest *g = &r->guests[k];
        const struct testbed_guest_sample *gs = testbed_series_guest(s, i, k);
        json_t *go = json_object();
        double rate;

        bad |= !go;
        if (go) {
            bad |= stats_json_set(go, "running", json_boolean(gs->running));
            bad |= stats_json_set(go, "host", stats_json_string(r->hosts[gs->host].sh->name));
            bad |= stats_json_set(go, "held_bytes", stats_json_u64(report_held(gs)));
            bad |= stats_json_set(go, "hit_rate",
                                  testbed_series_hit_rate(s, i, k, g->mount != NULL, &rate)
                                      ? stats_json_real(rate, 4) : json_null());
            bad |= report_json_counters(go, g, gs);
            bad |= stats_json_set(go, "client", report_json_tmem_stats(&gs->client));
            bad |= json_array_append_new(guests, go) != 0;
        }
    }
    if (o) {
        bad |= stats_json_set(o, "t_s", stats_json_real(s->t[i], 3));
        bad |= stats_json_set(o, "hosts", hosts);
        bad |= stats_json_set(o, "guests", guests);
        hosts = guests = NULL;
    }
    json_decref(hosts);
    json_decref(guests);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *report_json(struct testbed_run *r)
{
    const struct scenario *sc = r->sc;
    json_t *o = json_object(), *hosts = json_array(), *guests = json_array();
    json_t *samples = json_array(), *migrations = json_array();
    int bad = !o || !hosts || !guests || !samples || !migrations;

    for (size_t h = 0; hosts && h < r->nhosts; h++)
        bad |= json_array_append_new(hosts, report_json_host(r, h)) != 0;
    for (size_t k = 0; guests && k < r->nguests; k++)
        bad |= json_array_append_new(guests, report_json_guest(r, k)) != 0;
    for (size_t i = 0; samples && i < r->series.n; i++)
        bad |= json_array_append_new(samples, report_json_sample(r, i)) != 0;
    for (size_t i = 0; migrations && i < r->nmigrations; i++)
        bad |= json_array_append_new(migrations,
                                     testbed_migration_json(r, &r->migrations[i])) != 0;
    if (o) {
        bad |= stats_json_set(o, "scenario", stats_json_string(sc->path));
        bad |= stats_json_set(o, "output", stats_json_string(r->outdir));
        bad |= stats_json_set(o, "duration_s", stats_json_real(sc->duration_s, 3));
        bad |= stats_json_set(o, "ran_s", stats_json_real(r->length_s, 3));
        bad |= stats_json_set(o, "sample_interval_s", stats_json_real(sc->sample_interval_s, 3));
        bad |= stats_json_set(o, "interrupted", json_boolean(r->stop_signal != 0));
        bad |= stats_json_set(o, "signal", r->stop_signal == SIGINT ? stats_json_string("SIGINT")
                                           : r->stop_signal == SIGTERM ? stats_json_string("SIGTERM")
                                           : r->stop_signal ? json_integer(r->stop_signal)
                                                            : json_null());
        bad |= stats_json_set(o, "failed", json_boolean(r->failed));
        bad |= stats_json_set(o, "runner_failure", r->failure[0] ? stats_json_string(r->failure)
                                                                 : json_null());
        bad |= stats_json_set(o, "hosts", hosts);
        bad |= stats_json_set(o, "guests", guests);
        bad |= stats_json_set(o, "samples", samples);
        bad |= stats_json_set(o, "migrations", migrations);
        hosts = guests = samples = migrations = NULL;
    }
    json_decref(hosts);
    json_decref(guests);
    json_decref(samples);
    json_decref(migrations);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------- files */

/* Open DIR/name for writing (0644). NULL with err set. */
static FILE *report_open(const struct testbed_run *r, const char *name, char *path,
                         size_t pathlen, char *err, size_t errlen)
{
    FILE *f;

    snprintf(path, pathlen, "%s/%s", r->outdir, name);
    f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return f;
}

static int report_close(FILE *f, const char *path, int rc, char *err, size_t errlen)
{
    if (fclose(f) != 0 && rc == 0)
        rc = -errno ? -errno : -EIO;
    if (rc != 0 && !err[0])
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(-rc));
    return rc;
}

int testbed_report_write(struct testbed_run *r, char *err, size_t errlen)
{
    char path[4096];
    json_t *j;
    FILE *f;
    int rc;

    err[0] = '\0';
    f = report_open(r, "summary.txt", path, sizeof(path), err, errlen);
    if (!f)
        return -errno;
    testbed_report_summary(f, r);
    rc = report_close(f, path, ferror(f) ? -EIO : 0, err, errlen);
    if (rc)
        return rc;

    f = report_open(r, "samples.csv", path, sizeof(path), err, errlen);
    if (!f)
        return -errno;
    rc = report_close(f, path, report_write_csv(f, r), err, errlen);
    if (rc)
        return rc;

    j = report_json(r);
    if (!j) {
        snprintf(err, errlen, "report.json: out of memory");
        return -ENOMEM;
    }
    f = report_open(r, "report.json", path, sizeof(path), err, errlen);
    if (!f) {
        json_decref(j);
        return -errno;
    }
    rc = stats_json_write_lines(f, j) < 0 ? -EIO : 0;
    json_decref(j);
    return report_close(f, path, rc, err, errlen);
}
