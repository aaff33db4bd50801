/*
 * replay.c - tmem-replay's front: the configuration, the first pass over
 * a trace, which engine replays it, the counter series and the result's
 * text and JSON renderings.
 *
 * Dispatch (replay_run): the header decides. A file trace goes to the
 * data-mode engine (replay_file.c: tmemfs's read path with generated
 * pages) or the metadata-mode model (replay_fast.c); an anonymous trace
 * to the swapsim guest (replay_anon.c; data mode only); a trace of kind
 * both is refused (its two halves are replayed apart: docs/traces.md
 * "Replaying" says how to split it). replay_run times the engine and
 * reads the process's peak RSS (getrusage) after it.
 *
 * Data structures: none of its own beyond the series state (struct
 * replay_series, the caller's). No locking: everything here runs in the
 * replaying thread; cfg->interrupt and cfg->progress are atomics.
 */
#include "replay/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/error_text.h"
#include "common/stats_writer.h"
#include "replay/replay_internal.h"

void replay_config_init(struct replay_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = REPLAY_MODE_DATA;
    cfg->guest_pages = 1024;
    cfg->policy = GUEST_REPLACE_LRU;
    cfg->tmem = true;
    cfg->capacity_bytes = TMEM_CAPACITY_UNLIMITED;
    cfg->compressor = TMEM_COMPRESSOR_NONE;
    cfg->device = guest_device_builtin[1]; /* sata-ssd */
    cfg->series_format = REPLAY_SERIES_CSV;
}

int replay_mode_parse(const char *text, enum replay_mode *out)
{
    if (text && strcmp(text, "data") == 0)
        *out = REPLAY_MODE_DATA;
    else if (text && strcmp(text, "metadata") == 0)
        *out = REPLAY_MODE_METADATA;
    else
        return -EINVAL;
    return 0;
}

const char *replay_mode_name(enum replay_mode mode)
{
    return mode == REPLAY_MODE_METADATA ? "metadata" : "data";
}

/* ------------------------------------------------------------ first pass */

int replay_trace_scan(const char *path, bool full, struct replay_trace_info *info, char *err,
                      size_t errlen)
{
    struct trace_reader *r = NULL;
    struct trace_record rec;
    int rc;

    memset(info, 0, sizeof(*info));
    rc = trace_reader_open(path, &r, err, errlen);
    if (rc < 0) {
        if (rc != -EINVAL)
            error_text_set(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    info->header = *trace_reader_header(r);
    while (full && (rc = trace_reader_next(r, &rec, err, errlen)) == 1) {
        info->records++;
        switch (rec.op) {
        case TRACE_OP_AREAD:
        case TRACE_OP_AWRITE:
        case TRACE_OP_AFREE:
            if (rec.value > info->max_vpage)
                info->max_vpage = rec.value;
            break;
        case TRACE_OP_READ:
        case TRACE_OP_WRITE:
            if (rec.value > info->max_page)
                info->max_page = rec.value;
            /* fall through */
        case TRACE_OP_TRUNCATE:
        case TRACE_OP_UNLINK:
            if (rec.object > info->max_object)
                info->max_object = rec.object;
            if (rec.op == TRACE_OP_TRUNCATE && rec.value > info->max_truncate)
                info->max_truncate = rec.value;
            break;
        case TRACE_OP_CAPACITY:
            break;
        }
    }
    trace_reader_close(r);
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- series */

void replay_series_init(struct replay_series *s, const struct replay_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->next = cfg->series_every;
    s->last = UINT64_MAX;
}

bool replay_series_due(const struct replay_series *s, uint64_t records)
{
    return s->cfg->series && s->cfg->series_every && records >= s->next;
}

/* Render into a malloc'ed buffer in two passes, the first (buf NULL)
 * sizing it: render(w, buf, size, arg) begins w on buf, writes and
 * returns what stats_writer_end returned. NULL when out of memory or on a
 * formatting error. */
typedef int (*replay_render_fn)(struct stats_writer *w, char *buf, size_t size, const void *arg);

static char *replay_render(replay_render_fn render, const void *arg)
{
    struct stats_writer w;
    char *buf = NULL;
    size_t size = 0;
    int len = 0;

    for (int pass = 0; pass < 2; pass++) {
        len = render(&w, buf, size, arg);
        if (len < 0)
            break;
        if (pass == 0) {
            size = (size_t)len + 1;
            buf = malloc(size);
            if (!buf)
                return NULL;
        }
    }
    if (len < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* One series line: a CSV header (what 0) or row (1), or a JSON object (2). */
struct replay_series_line {
    int what;
    uint64_t records;
    const struct tmemfs_stats *st;
    const struct tmemfs_gauges *g;
};

static int replay_series_line_render(struct stats_writer *w, char *buf, size_t size,
                                     const void *arg)
{
    const struct replay_series_line *l = arg;

    if (l->what == 2)
        stats_writer_begin(w, buf, size, true, 0);
    else
        stats_writer_begin_csv(w, buf, size, l->what == 0);
    stats_writer_u64(w, "record", l->records);
    tmemfs_stats_write(w, l->st, l->g);
    return stats_writer_end(w, true);
}

static char *replay_series_render(int what, uint64_t records, const struct tmemfs_stats *st,
                                  const struct tmemfs_gauges *g)
{
    struct replay_series_line l = { what, records, st, g };

    return replay_render(replay_series_line_render, &l);
}

int replay_series_row(struct replay_series *s, uint64_t records, const struct tmemfs_stats *st,
                      const struct tmemfs_gauges *g)
{
    const struct replay_config *cfg = s->cfg;
    bool json = cfg->series_format == REPLAY_SERIES_JSON;
    char *line;
    int rc = 0;

    if (!cfg->series)
        return 0;
    if (!json && s->rows == 0) {
        line = replay_series_render(0, records, st, g);
        if (!line || fputs(line, cfg->series) == EOF)
            rc = -EIO;
        free(line);
        if (rc)
            return rc;
    }
    line = replay_series_render(json ? 2 : 1, records, st, g);
    if (!line || fputs(line, cfg->series) == EOF)
        rc = -EIO;
    free(line);
    s->rows++;
    s->last = records;
    if (cfg->series_every)
        s->next = (records / cfg->series_every + 1) * cfg->series_every;
    return rc;
}

int replay_series_end(struct replay_series *s, uint64_t records, const struct tmemfs_stats *st,
                      const struct tmemfs_gauges *g)
{
    int rc = 0;

    if (!s->cfg->series || !s->cfg->series_every)
        return 0;
    if (s->last != records)
        rc = replay_series_row(s, records, st, g);
    if (fflush(s->cfg->series) == EOF)
        rc = -EIO;
    return rc;
}

/* ---------------------------------------------------------------- the run */

static double replay_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *replay_kind_name(enum trace_kind kind)
{
    return kind == TRACE_KIND_FILE ? "file" : kind == TRACE_KIND_ANON ? "anon" : "both";
}

int replay_run(const struct replay_config *cfg, struct replay_result *res, char *err,
               size_t errlen)
{
    struct replay_trace_info info;
    struct rusage ru;
    double t0;
    int rc;

    memset(res, 0, sizeof(*res));
    if (cfg->guest_pages == 0) {
        error_text_set(err, errlen, "the guest needs at least one page (--guest-pages)");
        return -EINVAL;
    }
    rc = replay_trace_scan(cfg->trace_path, false, &info, err, errlen);
    if (rc < 0)
        return rc;
    res->kind = info.header.kind;
    if (info.header.kind == TRACE_KIND_BOTH) {
        error_text_set(err, errlen,
                       "%s: a trace of kind both is not replayed as one: split it into a "
                       "file trace and an anon trace and replay each (docs/traces.md, "
                       "\"Replaying\")",
                       cfg->trace_path);
        return -ENOTSUP;
    }
    if (info.header.kind == TRACE_KIND_ANON) {
        if (cfg->mode == REPLAY_MODE_METADATA) {
            error_text_set(err, errlen,
                           "%s: metadata mode replays file traces; anonymous traces always "
                           "run through the swapsim guest (--mode data)", cfg->trace_path);
            return -EINVAL;
        }
        if (cfg->capacity_pages) {
            error_text_set(err, errlen, "--capacity-pages needs a file trace (%s is of kind "
                           "anon: use --capacity)", cfg->trace_path);
            return -EINVAL;
        }
        if (cfg->series && cfg->series_every) {
            error_text_set(err, errlen, "--series needs a file trace (%s is of kind anon: "
                           "tmem-swapsim --trace with --sample-every gives its series)",
                           cfg->trace_path);
            return -EINVAL;
        }
        /* the whole trace: checked, counted, its largest page found */
        rc = replay_trace_scan(cfg->trace_path, true, &info, err, errlen);
        if (rc < 0)
            return rc;
    }
    replay_progress_records(cfg, 0);
    replay_progress_total(cfg, info.header.count == TRACE_COUNT_UNKNOWN ? 0 : info.header.count);
    t0 = replay_now();
    if (info.header.kind == TRACE_KIND_ANON)
        rc = replay_anon_run(cfg, &info, res, err, errlen);
    else if (cfg->mode == REPLAY_MODE_METADATA)
        rc = replay_fast_run(cfg, res, err, errlen);
    else
        rc = replay_file_run(cfg, &info, res, err, errlen);
    res->kind = info.header.kind;
    res->wall_seconds = replay_now() - t0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        res->peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
    return rc;
}

void replay_result_free(struct replay_result *res)
{
    if (!res)
        return;
    if (res->have_swap)
        swapsim_result_free(&res->swap);
    res->have_swap = false;
}

uint64_t replay_total_hit_permille(const struct replay_result *res)
{
    const uint64_t *v = res->counters.c;
    uint64_t reads = v[TMEMFS_GUEST_HITS] + v[TMEMFS_GUEST_MISSES];

    return reads ? (v[TMEMFS_GUEST_HITS] + v[TMEMFS_SUCC_GETS]) * 1000 / reads : 0;
}

/* ---------------------------------------------------------------- output */

/* A count per 1000 as a percentage with one decimal: "45.6%". */
static const char *replay_percent(uint64_t permille, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%%", permille / 10, permille % 10);
    return buf;
}

/* ns as a human time: "812 us", "12.3 ms", "4.56 s". */
static const char *replay_duration(uint64_t ns, char *buf, size_t size)
{
    if (ns < 10000000ULL)
        snprintf(buf, size, "%" PRIu64 " us", ns / 1000);
    else if (ns < 10000000000ULL)
        snprintf(buf, size, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, size, "%.2f s", (double)ns / 1e9);
    return buf;
}

/* The summary of a file replay, as values (text lines or JSON members). */
static void replay_summary_write(struct stats_writer *w, const struct replay_config *cfg,
                                 const struct replay_result *res)
{
    const uint64_t *v = res->counters.c;

    stats_writer_string(w, "trace", cfg->trace_path);
    stats_writer_string(w, "kind", replay_kind_name(res->kind));
    stats_writer_string(w, "mode", replay_mode_name(cfg->mode));
    stats_writer_u64(w, "records", res->records);
    stats_writer_u64(w, "requests", res->requests);
    stats_writer_u64(w, "interrupted", res->interrupted ? 1 : 0);
    if (!res->have_swap) { /* swapsim's report has its own */
        stats_writer_u64(w, "page_reads", v[TMEMFS_GUEST_HITS] + v[TMEMFS_GUEST_MISSES]);
        stats_writer_u64(w, "total_hit_permille", replay_total_hit_permille(res));
        stats_writer_u64(w, "backing_reads_avoided", v[TMEMFS_SUCC_GETS]);
    }
    stats_writer_u64(w, "mismatches", res->mismatches);
    stats_writer_double(w, "wall_seconds", res->wall_seconds);
    stats_writer_u64(w, "peak_rss_bytes", res->peak_rss_bytes);
}

/* The counter lines and the summary values of a file replay, as text. */
struct replay_text_lines {
    const struct replay_config *cfg;
    const struct replay_result *res;
};

static int replay_text_lines_render(struct stats_writer *w, char *buf, size_t size,
                                    const void *arg)
{
    const struct replay_text_lines *l = arg;

    stats_writer_begin(w, buf, size, false, 32);
    tmemfs_stats_write(w, &l->res->counters, &l->res->gauges);
    replay_summary_write(w, l->cfg, l->res);
    return stats_writer_end(w, false);
}

static int replay_file_text(FILE *f, const struct replay_config *cfg,
                            const struct replay_result *res)
{
    const uint64_t *v = res->counters.c;
    const struct tmemfs_gauges *g = &res->gauges;
    struct replay_text_lines lines = { cfg, res };
    char *buf = replay_render(replay_text_lines_render, &lines), a[32], b[32], c[32], t[4][32];

    if (!buf || fputs(buf, f) == EOF) {
        free(buf);
        return -EIO;
    }
    free(buf);
    fprintf(f, "\nreplay of %s (%s trace, %s mode): %" PRIu64 " records, %" PRIu64
            " requests in %.2f s%s\n",
            cfg->trace_path, replay_kind_name(res->kind), replay_mode_name(cfg->mode),
            res->records, res->requests, res->wall_seconds,
            res->interrupted ? " (interrupted: what was replayed so far)" : "");
    fprintf(f, "  page reads: %" PRIu64 "; guest cache hits %s, cleancache hits %s of guest "
            "misses, both %s\n",
            v[TMEMFS_GUEST_HITS] + v[TMEMFS_GUEST_MISSES],
            replay_percent(tmemfs_permille(v[TMEMFS_GUEST_HITS], v[TMEMFS_GUEST_MISSES]), a,
                           sizeof(a)),
            replay_percent(tmemfs_permille(v[TMEMFS_SUCC_GETS], v[TMEMFS_FAILED_GETS]), b,
                           sizeof(b)),
            replay_percent(replay_total_hit_permille(res), c, sizeof(c)));
    fprintf(f, "  backing pages read: %" PRIu64 " (%" PRIu64 " fewer than without tmem: "
            "the cleancache hits)\n", v[TMEMFS_BACKING_PAGES_READ], v[TMEMFS_SUCC_GETS]);
    fprintf(f, "  backing device time: %s on %s (hdd %s, sata-ssd %s, nvme %s)\n",
            replay_duration(guest_device_price_ns(&g->profile, &g->device), t[0], 32),
            g->profile.name,
            replay_duration(guest_device_price_ns(&guest_device_builtin[0], &g->device), t[1], 32),
            replay_duration(guest_device_price_ns(&guest_device_builtin[1], &g->device), t[2], 32),
            replay_duration(guest_device_price_ns(&guest_device_builtin[2], &g->device), t[3], 32));
    if (res->mismatches)
        fprintf(f, "  MISMATCHES: %" PRIu64 " pages read back wrong (a bug)\n", res->mismatches);
    return ferror(f) ? -EIO : 0;
}

static int replay_anon_text(FILE *f, const struct replay_config *cfg,
                            const struct replay_result *res)
{
    struct swapsim_config sc;

    replay_anon_swapsim_config(cfg, res->anon_vpages, res->gauges.page_size, &sc);
    fprintf(f, "replay of %s (anon trace, data mode: the swapsim guest): %" PRIu64
            " records in %.2f s%s\n",
            cfg->trace_path, res->records, res->wall_seconds,
            res->interrupted ? " (interrupted: what was replayed so far)" : "");
    swapsim_report_text(f, &sc, &res->swap);
    return ferror(f) ? -EIO : 0;
}

static int replay_json(FILE *f, const struct replay_config *cfg, const struct replay_result *res)
{
    json_t *doc = json_object(), *part = NULL;
    struct stats_writer w;
    struct swapsim_config sc;
    int rc = -EIO;

    if (!doc)
        return -EIO;
    stats_writer_begin_object(&w, doc);
    replay_summary_write(&w, cfg, res);
    if (stats_writer_end(&w, false) < 0)
        goto out;
    if (res->have_swap) {
        replay_anon_swapsim_config(cfg, res->anon_vpages, res->gauges.page_size, &sc);
        part = swapsim_report_json_object(&sc, &res->swap);
        if (stats_json_set(doc, "swap", part) < 0)
            goto out;
    } else {
        part = tmemfs_stats_json(&res->counters, &res->gauges, NULL);
        if (stats_json_set(doc, "counters", part) < 0)
            goto out;
    }
    if (stats_json_write_lines(f, doc) == 0)
        rc = 0;
out:
    json_decref(doc);
    return rc;
}

int replay_result_write(FILE *f, const struct replay_config *cfg,
                        const struct replay_result *res, bool json)
{
    if (json)
        return replay_json(f, cfg, res);
    return res->have_swap ? replay_anon_text(f, cfg, res) : replay_file_text(f, cfg, res);
}
