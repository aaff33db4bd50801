/*
 * replay_internal.h - what the engines of tmem-replay share (replay.c,
 * replay_file.c: data mode of file traces, replay_anon.c: anonymous
 * traces, replay_fast.c: metadata mode, replay_sweep.c): the first pass
 * over a trace, the interrupt and progress hooks, the counter series.
 *
 * Not installed; the public contract is replay.h. Every function here is
 * thread-safe on distinct configs and results (as replay_run is).
 */
#ifndef REPLAY_REPLAY_INTERNAL_H
#define REPLAY_REPLAY_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/replay.h"

/* What a first pass over a trace finds (replay_trace_scan). */
struct replay_trace_info {
    struct trace_header header; /* as read (count may be TRACE_COUNT_UNKNOWN) */
    uint64_t records;           /* records in the trace (counted: full scan only) */
    uint64_t max_vpage;         /* largest virtual page of an anon record (0: none) */
    uint64_t max_object;        /* largest file id of a file record (0: none) */
    uint64_t max_page;          /* largest page index of a read/write record (0: none) */
    uint64_t max_truncate;      /* largest truncate length in pages (0: none) */
};

/*
 * Open cfg's trace and read its header into info->header; with full,
 * read every record too (the counts and maxima above; the whole trace is
 * checked, so a malformed record is reported here with FILE:record N /
 * FILE:LINE). Returns 0; -ENODATA for a trace without records (full
 * only, "FILE: empty trace (no records)" in err); the reader's -errno
 * (message in err) otherwise.
 */
int replay_trace_scan(const char *path, bool full, struct replay_trace_info *info, char *err,
                      size_t errlen);

/* True once cfg->interrupt is set (relaxed read; false when NULL). */
static inline bool replay_interrupted(const struct replay_config *cfg)
{
    return cfg->interrupt && atomic_load_explicit(cfg->interrupt, memory_order_relaxed) != 0;
}

/* Tell cfg->progress (if any) that `records` records are replayed, resp.
 * that the trace holds `total` (0: unknown). */
static inline void replay_progress_records(const struct replay_config *cfg, uint64_t records)
{
    if (cfg->progress)
        atomic_store_explicit(&cfg->progress->records, records, memory_order_relaxed);
}
static inline void replay_progress_total(const struct replay_config *cfg, uint64_t total)
{
    if (cfg->progress)
        atomic_store_explicit(&cfg->progress->total, total, memory_order_relaxed);
}

/*
 * The counter series of a file replay (cfg->series, cfg->series_format).
 * A series holds whether its header was written and which record is due
 * next. replay_series_due says whether a row is due after `records`
 * records (false when cfg->series is NULL or series_every is 0);
 * replay_series_row writes one row (CSV: the header first, before the
 * first row) of `records` and every counter and shown value of st and g
 * (tmemfs_stats_write's list) and moves the next due record past
 * `records`; replay_series_end writes the last row unless one was
 * already written at `records`. Rows are taken between requests, so a
 * request of several pages that crosses a multiple of series_every gives
 * its row after the request. Returns 0 or -EIO (a write failed).
 */
struct replay_series {
    const struct replay_config *cfg;
    uint64_t next;     /* the record count at which the next row is due */
    uint64_t last;     /* the record count of the last row written */
    uint64_t rows;     /* rows written */
};
void replay_series_init(struct replay_series *s, const struct replay_config *cfg);
bool replay_series_due(const struct replay_series *s, uint64_t records);
int replay_series_row(struct replay_series *s, uint64_t records, const struct tmemfs_stats *st,
                      const struct tmemfs_gauges *g);
int replay_series_end(struct replay_series *s, uint64_t records, const struct tmemfs_stats *st,
                      const struct tmemfs_gauges *g);

/* The engines. Each fills res (zeroed by replay_run, kind set) and
 * returns as replay_run does; replay_run times them and adds the peak
 * RSS. info: the first pass (header always; the full scan for anon). */
int replay_file_run(const struct replay_config *cfg, const struct replay_trace_info *info,
                    struct replay_result *res, char *err, size_t errlen);
int replay_anon_run(const struct replay_config *cfg, const struct replay_trace_info *info,
                    struct replay_result *res, char *err, size_t errlen);
/* Metadata mode (replay_fast.c, helper "rfast"): a file trace. */
int replay_fast_run(const struct replay_config *cfg, struct replay_result *res, char *err,
                    size_t errlen);

/* The swapsim configuration an anonymous replay of cfg runs with (vpages
 * pages of address space, page_size bytes a page): replay_anon_run runs
 * it, replay_result_write reports with it. */
void replay_anon_swapsim_config(const struct replay_config *cfg, uint32_t vpages,
                                uint32_t page_size, struct swapsim_config *out);

#endif /* REPLAY_REPLAY_INTERNAL_H */
