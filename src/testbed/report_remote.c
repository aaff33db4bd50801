/*
 * report_remote.c - the remote tier's lines, JSON members and CSV columns
 * of a testbed report (report_remote.h).
 *
 * What it shows: what the core asked of the tier (puts offered to it,
 * accepted, refused; gets of local misses, hits), the pages held remotely
 * (a gauge), the round trips' latency per operation (p50, p99), the
 * failure counters, and for a swap guest the simulated time: the remote
 * round trips made inside its tmem calls (already part of its measured
 * tmem time, so of its simulated time) against the swap-device I/O the
 * pages the tier served or took would have cost instead; for a mount
 * guest the round trips made inside its cleancache calls against the
 * backing reads its remote hits replaced.
 *
 * No state; no locks (the tier's calls are thread-safe).
 */
#include "testbed/report_remote.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/stats_writer.h"
#include "testbed/host_remote.h"

static const char *const report_remote_op_names[REMOTE_OP_COUNT] = {"put", "get", "flush",
                                                                    "writeback"};

/* The most pages host h (guest < 0) or guest `guest` held remotely in
 * any sample, and when. */
struct report_remote_peak {
    uint64_t pages;
    double t_s;
};

static struct report_remote_peak report_remote_peak(const struct testbed_run *r, size_t h,
                                                    long guest)
{
    struct report_remote_peak p = {0, 0};

    for (size_t i = 0; i < r->series.n; i++) {
        const struct testbed_remote_sample *s =
            guest < 0 ? &testbed_series_host(&r->series, i, h)->remote
                      : &testbed_series_guest(&r->series, i, (size_t)guest)->remote;

        if (s->held_pages > p.pages) {
            p.pages = s->held_pages;
            p.t_s = r->series.t[i];
        }
    }
    return p;
}

static void report_remote_counts(FILE *f, const struct testbed_remote_sample *s,
                                 struct report_remote_peak peak, bool cluster)
{
    fprintf(f, "  remote: %" PRIu64 " puts offered, %" PRIu64 " accepted, %" PRIu64
               " refused (%" PRIu64 " over a capacity); %" PRIu64 " gets, %" PRIu64
               " hits; pages held remotely: peak %" PRIu64 " at %.1f s, %" PRIu64 " at the end\n",
            s->puts, s->puts_accepted, s->puts_refused, s->refused_capacity, s->gets, s->hits,
            peak.pages, peak.t_s, s->held_pages);
    fprintf(f, "  remote latency (us, p50/p99):");
    for (int op = 0; op < REMOTE_OP_COUNT; op++)
        fprintf(f, " %s %.1f/%.1f (%" PRIu64 ")%s", report_remote_op_names[op],
                (double)s->p50_ns[op] / 1e3, (double)s->p99_ns[op] / 1e3, s->ops[op],
                op + 1 < REMOTE_OP_COUNT ? "," : "\n");
    /* the connection counters: failures first, then (a cluster's) redirects,
     * which are events, not failures */
    fprintf(f, "  remote failures:");
    for (int i = REMOTE_CONN_CONNECT_ERRORS; i <= REMOTE_CONN_UNAVAILABLE; i++)
        fprintf(f, " %s %" PRIu64, remote_conn_counter_name((enum remote_conn_counter)i),
                s->conn[i]);
    fprintf(f, "\n");
    if (cluster) {
        fprintf(f, "  remote cluster:");
        for (int i = REMOTE_CONN_COMMANDS + 1; i < REMOTE_CONN_COUNTER_COUNT; i++)
            fprintf(f, " %s %" PRIu64, remote_conn_counter_name((enum remote_conn_counter)i),
                    s->conn[i]);
        fprintf(f, "\n");
    }
}

void testbed_report_remote_host(FILE *f, struct testbed_run *r, size_t h)
{
    struct testbed_host *host = &r->hosts[h];
    struct testbed_remote_sample s;

    if (!host->remote)
        return;
    testbed_host_remote_sample(host, NULL, &s);
    if (host->remote_sc->capacity == TMEM_CAPACITY_UNLIMITED)
        fprintf(f, "  remote tier %s (%s): replicas %u, capacity unlimited\n",
                host->remote_sc->name, host->remote_sc->servers, host->remote_sc->replicas);
    else
        fprintf(f, "  remote tier %s (%s): replicas %u, capacity %.1f MiB\n",
                host->remote_sc->name, host->remote_sc->servers, host->remote_sc->replicas,
                (double)host->remote_sc->capacity / 1048576.0);
    report_remote_counts(f, &s, report_remote_peak(r, h, -1),
                         host->remote_sc->cluster != SCENARIO_CLUSTER_NO);
    fprintf(f, "  remote tier events: %" PRIu64 " evicted pages offered, %" PRIu64
               " written, %" PRIu64 " dropped (queue full), %" PRIu64 " lost; %" PRIu64
               " persistent puts refused as unsafe; %" PRIu64 " tombstones\n",
            s.evictions, s.tier[REMOTE_TIER_WRITTEN], s.tier[REMOTE_TIER_QUEUE_FULL],
            s.tier[REMOTE_TIER_WRITE_ERRORS], s.tier[REMOTE_TIER_REFUSED_UNSAFE],
            s.tier[REMOTE_TIER_TOMBSTONES]);
}

void testbed_report_remote_guest(FILE *f, const struct testbed_run *r, size_t k,
                                 const struct testbed_guest_sample *s)
{
    const struct testbed_guest *g = &r->guests[k];
    const struct testbed_remote_sample *rs = &s->remote;

    if (!rs->attached)
        return;
    report_remote_counts(f, rs, report_remote_peak(r, 0, (long)k),
                         g->host && g->host->remote_sc &&
                             g->host->remote_sc->cluster != SCENARIO_CLUSTER_NO);
    if (g->swap) {
        uint64_t cost = testbed_remote_cost_ns(rs);
        uint64_t device = testbed_remote_device_ns(rs, testbed_swap_page_size(g->swap),
                                                   g->sg->swap.write_through,
                                                   testbed_swap_profile(g->swap));

        fprintf(f, "  remote time: %.3f ms of round trips charged to its simulated time (in "
                   "the tmem time above); the swap I/O they replaced: %.3f ms: %.3f ms %s\n",
                (double)cost / 1e6, (double)device / 1e6,
                (double)(device > cost ? device - cost : cost - device) / 1e6,
                device >= cost ? "saved" : "lost");
    } else if (g->mount) {
        /* cleancache puts replace no device write: only hits are priced */
        uint64_t cost = testbed_remote_cost_ns(rs);
        uint64_t device = testbed_remote_device_ns(rs, testbed_mount_page_size(g->mount), true,
                                                   testbed_mount_profile(g->mount));

        fprintf(f, "  remote time: %.3f ms of round trips in its cleancache calls; the backing "
                   "reads its remote hits replaced on %s: %.3f ms: %.3f ms %s\n",
                (double)cost / 1e6, testbed_mount_profile(g->mount)->name, (double)device / 1e6,
                (double)(device > cost ? device - cost : cost - device) / 1e6,
                device >= cost ? "saved" : "lost");
    }
}

static json_t *report_remote_json(const struct testbed_remote_sample *s, bool host,
                                  struct report_remote_peak peak)
{
    json_t *o = json_object(), *lat = json_object(), *fail = json_object();
    int bad = !o || !lat || !fail;

    if (bad)
        goto out;
    bad |= stats_json_set(o, "puts", stats_json_u64(s->puts));
    bad |= stats_json_set(o, "puts_accepted", stats_json_u64(s->puts_accepted));
    bad |= stats_json_set(o, "puts_refused", stats_json_u64(s->puts_refused));
    bad |= stats_json_set(o, "refused_capacity", stats_json_u64(s->refused_capacity));
    bad |= stats_json_set(o, "gets", stats_json_u64(s->gets));
    bad |= stats_json_set(o, "hits", stats_json_u64(s->hits));
    bad |= stats_json_set(o, "held_pages", stats_json_u64(s->held_pages));
    bad |= stats_json_set(o, "peak_held_pages", stats_json_u64(peak.pages));
    bad |= stats_json_set(o, "peak_held_t_s", stats_json_real(peak.t_s, 3));
    for (int op = 0; op < REMOTE_OP_COUNT; op++) {
        json_t *l = json_object();

        bad |= !l;
        if (!l)
            continue;
        bad |= stats_json_set(l, "count", stats_json_u64(s->ops[op]));
        bad |= stats_json_set(l, "sum_ns", stats_json_u64(s->ns[op]));
        bad |= stats_json_set(l, "p50_ns", stats_json_u64(s->p50_ns[op]));
        bad |= stats_json_set(l, "p99_ns", stats_json_u64(s->p99_ns[op]));
        bad |= stats_json_set(lat, report_remote_op_names[op], l);
    }
    for (int i = 0; i < REMOTE_CONN_COUNTER_COUNT; i++)
        bad |= stats_json_set(fail, remote_conn_counter_name((enum remote_conn_counter)i),
                              stats_json_u64(s->conn[i]));
    for (int i = 0; host && i < REMOTE_TIER_COUNTER_COUNT; i++)
        bad |= stats_json_set(fail, remote_tier_counter_name((enum remote_tier_counter)i),
                              stats_json_u64(s->tier[i]));
    if (host)
        bad |= stats_json_set(o, "evictions", stats_json_u64(s->evictions));
    bad |= stats_json_set(o, "latency", lat);
    lat = NULL;
    bad |= stats_json_set(o, "counters", fail);
    fail = NULL;
out:
    json_decref(lat);
    json_decref(fail);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *testbed_report_remote_host_json(struct testbed_run *r, size_t h)
{
    struct testbed_host *host = &r->hosts[h];
    struct testbed_remote_sample s;
    json_t *o;

    if (!host->remote)
        return NULL;
    testbed_host_remote_sample(host, NULL, &s);
    o = report_remote_json(&s, true, report_remote_peak(r, h, -1));
    if (o && (stats_json_set(o, "name", stats_json_string(host->remote_sc->name)) ||
              stats_json_set(o, "servers", stats_json_string(host->remote_sc->servers)) ||
              stats_json_set(o, "replicas", stats_json_u64(host->remote_sc->replicas)) ||
              stats_json_set(o, "capacity_bytes", stats_json_limit(host->remote_sc->capacity)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *testbed_report_remote_guest_json(const struct testbed_run *r, size_t k,
                                         const struct testbed_guest_sample *s)
{
    const struct testbed_guest *g = &r->guests[k];
    json_t *o;

    if (!s->remote.attached)
        return NULL;
    o = report_remote_json(&s->remote, false, report_remote_peak(r, 0, (long)k));
    if (o && stats_json_set(o, "kinds",
                            stats_json_string(scenario_remote_kinds_name(g->sg->remote_kinds)))) {
        json_decref(o);
        return NULL;
    }
    if (o && (g->swap || g->mount)) {
        uint64_t cost = testbed_remote_cost_ns(&s->remote);
        uint64_t device =
            g->swap ? testbed_remote_device_ns(&s->remote, testbed_swap_page_size(g->swap),
                                               g->sg->swap.write_through,
                                               testbed_swap_profile(g->swap))
                    : testbed_remote_device_ns(&s->remote, testbed_mount_page_size(g->mount),
                                               true, testbed_mount_profile(g->mount));

        if (stats_json_set(o, "charged_ns", stats_json_u64(cost)) ||
            stats_json_set(o, "device_ns_replaced", stats_json_u64(device))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

void testbed_report_remote_columns(const struct testbed_remote_sample *s,
                                   const char *names[REPORT_REMOTE_COLUMNS],
                                   uint64_t values[REPORT_REMOTE_COLUMNS])
{
    size_t n = 0;

#define REPORT_REMOTE_COL_(name, value) (names[n] = (name), values[n++] = (value))
    REPORT_REMOTE_COL_("remote_puts", s->puts);
    REPORT_REMOTE_COL_("remote_puts_accepted", s->puts_accepted);
    REPORT_REMOTE_COL_("remote_puts_refused", s->puts_refused);
    REPORT_REMOTE_COL_("remote_refused_capacity", s->refused_capacity);
    REPORT_REMOTE_COL_("remote_gets", s->gets);
    REPORT_REMOTE_COL_("remote_hits", s->hits);
    REPORT_REMOTE_COL_("remote_held_pages", s->held_pages);
    REPORT_REMOTE_COL_("remote_put_ns", s->ns[REMOTE_OP_PUT]);
    REPORT_REMOTE_COL_("remote_get_ns", s->ns[REMOTE_OP_GET]);
    REPORT_REMOTE_COL_("remote_flush_ns", s->ns[REMOTE_OP_FLUSH]);
    REPORT_REMOTE_COL_("remote_writeback_ns", s->ns[REMOTE_OP_WRITEBACK]);
    REPORT_REMOTE_COL_("remote_timeouts", s->conn[REMOTE_CONN_TIMEOUTS]);
    REPORT_REMOTE_COL_("remote_io_errors", s->conn[REMOTE_CONN_IO_ERRORS]);
    REPORT_REMOTE_COL_("remote_connect_errors", s->conn[REMOTE_CONN_CONNECT_ERRORS]);
    REPORT_REMOTE_COL_("remote_unavailable", s->conn[REMOTE_CONN_UNAVAILABLE]);
#undef REPORT_REMOTE_COL_
}
