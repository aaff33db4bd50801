/*
 * replay.h - tmem-replay: replay a page trace (trace/trace.h,
 * docs/traces.md) and say what cleancache or frontswap would have given.
 *
 * Two engines, one set of counters:
 *
 *   data mode (REPLAY_MODE_DATA, the default): the real thing. File
 *     traces go through tmemfs's own read/write path (tmemfs_io: the
 *     guest page cache, the cleancache glue, the device model; the code a
 *     mount runs, with generated page contents instead of backing files:
 *     page bytes depend on (file, page, version), version = how many
 *     writes the page has had, so compression and dedup see real data and
 *     every cleancache hit is checked against what the page must hold).
 *     Anonymous traces go through the swapsim guest (swapsim_run with the
 *     trace as its workload).
 *   metadata mode (REPLAY_MODE_METADATA): the fast model of the file path
 *     (replay_fast.c): no page bytes at all, arrays indexed by dense page
 *     numbers; the same guest replacement (src/guest/replace.h) and a
 *     cleancache of `capacity_pages` pages in LRU order with destructive
 *     gets, as a private ephemeral tmem pool behaves when compression,
 *     same-filled detection and dedup are off. For those settings both
 *     modes give identical counters (tests/replay/test_replay_fast.c).
 *
 * Capacity. capacity_pages (when not 0) bounds cleancache to that many
 * pages: in data mode as a cap on the replay client of capacity_pages x
 * (page_size + 32) bytes (tmem_client_set_cap's measure: data at the
 * allocator's size class plus a 32-byte record a page; with compression
 * none, same-filled off and dedup off exactly capacity_pages pages; with
 * compression more). Otherwise capacity_bytes is the store's budget, as
 * tmemfs -o capacity= and tmem-swapsim --capacity set it (data plus
 * metadata). Capacity records in the trace set the store's budget in
 * data mode; in metadata mode they become bytes / (page_size + 32) pages.
 *
 * Ownership: the caller owns cfg and everything it points to; res is
 * filled by replay_run and freed with replay_result_free.
 * Thread-safety: replay_run may run in several threads at once on
 * different configs (each replay has its own store); cfg->interrupt and
 * cfg->progress are the only things shared with other threads.
 */
#ifndef REPLAY_REPLAY_H
#define REPLAY_REPLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_stats.h"
#include "guest/device.h"
#include "guest/replace.h"
#include "swapsim/swapsim.h"
#include "trace/trace.h"

enum replay_mode { REPLAY_MODE_DATA, REPLAY_MODE_METADATA };

/* "data" / "metadata" -> *out: 0 or -EINVAL. And back. */
int replay_mode_parse(const char *text, enum replay_mode *out);
const char *replay_mode_name(enum replay_mode mode);

/* How far a replay has come, for a progress line (relaxed atomics:
 * the replay writes, any thread reads). */
struct replay_progress {
    atomic_uint_fast64_t records; /* records replayed so far */
    atomic_uint_fast64_t total;   /* records in the trace (0: unknown) */
};

/* Where a counter series goes: every `every` records one row (CSV) or
 * one object a line (JSON) with the record number and every counter. */
enum replay_series_format { REPLAY_SERIES_CSV, REPLAY_SERIES_JSON };

struct replay_config {
    const char *trace_path;
    enum replay_mode mode;
    /* Guest memory in pages: the guest page cache (file traces) or the
     * guest's RAM (anonymous traces). Default 1024. */
    uint64_t guest_pages;
    enum guest_replace_policy policy;   /* default LRU */
    bool tmem;                          /* false: no cleancache/frontswap (baseline) */
    uint64_t capacity_bytes;            /* default TMEM_CAPACITY_UNLIMITED */
    uint64_t capacity_pages;            /* 0: use capacity_bytes */
    enum tmem_compressor compressor;    /* default none (replay counts pages) */
    int compress_level;
    bool dedup;                         /* default false */
    bool same_filled;                   /* default false */
    struct guest_device_profile device; /* prices backing reads; default sata-ssd */
    /* Anonymous traces: the address space in pages (default: the largest
     * virtual page in the trace + 1, found by a first pass). */
    uint64_t anon_vpages;
    /* Series (NULL: none). */
    FILE *series;
    enum replay_series_format series_format;
    uint64_t series_every;              /* records; 0: no series */
    /* Stop early when *interrupt becomes non-zero (SIGINT): the result
     * then holds what was replayed, marked interrupted. NULL: never. */
    atomic_int *interrupt;
    struct replay_progress *progress;   /* NULL: none */
};

/* Fill *cfg with the defaults above. */
void replay_config_init(struct replay_config *cfg);

struct replay_result {
    enum trace_kind kind;         /* what was replayed: file or anon */
    uint64_t records;             /* records replayed */
    uint64_t requests;            /* read/write requests (a run of continues records is one) */
    bool interrupted;
    double wall_seconds;          /* the replay alone (not reading options) */
    uint64_t peak_rss_bytes;      /* the process's peak resident set after the run */
    /* File traces: tmemfs's counters and gauges (gauges.store and
     * gauges.pool: the core's statistics; gauges.device: the backing
     * requests). The fast model fills the counters it models (every one
     * but invalidates/invalidate_inodes call counts, outside_changes) and
     * gauges.guest_*, page_size, device. */
    struct tmemfs_stats counters;
    struct tmemfs_gauges gauges;
    uint64_t mismatches;          /* data mode: cleancache hits whose bytes were wrong (must be 0) */
    /* Anonymous traces: swapsim's result (owned; freed by
     * replay_result_free). */
    struct swapsim_result swap;
    bool have_swap;
    uint32_t anon_vpages;         /* anonymous traces: the address space replayed (pages) */
};

/*
 * Replay cfg->trace_path. Returns 0, or -errno with one line in err:
 * the trace's own errors (FILE:LINE / FILE:record N), a bad config
 * ("--capacity-pages needs a file trace", ...), -ENODATA for an empty
 * trace, -EIO when a cleancache hit returned wrong bytes (a bug). On an
 * error after records were replayed, res still holds what was done.
 */
int replay_run(const struct replay_config *cfg, struct replay_result *res, char *err,
               size_t errlen);
void replay_result_free(struct replay_result *res);

/* Hits of both levels per 1000 page reads: (guest_hits + succ_gets) /
 * (guest_hits + guest_misses) (file traces). */
uint64_t replay_total_hit_permille(const struct replay_result *res);

/* Write the result: text (tmemfs's counter lines, then the summary lines
 * records, requests, hit rates, backing reads avoided, device time) or one
 * JSON document (stats_writer / jansson). 0 or -EIO. */
int replay_result_write(FILE *f, const struct replay_config *cfg,
                        const struct replay_result *res, bool json);

/* ----------------------------------------------------------------- sweeps */

/*
 * Miss-ratio curve by simulation: replay cfg once per capacity in
 * caps_pages[0..n-1] (as capacity_pages; 0 = tmem off, the baseline),
 * on `threads` threads (0: one a CPU), every point its own store. results[i] gets point i's result.
 * Returns 0 or the first error (-errno, message in err).
 */
int replay_sweep(const struct replay_config *cfg, const uint64_t *caps_pages, size_t n,
                 unsigned threads, struct replay_result *results, char *err, size_t errlen);

/* CSV: a header, then one row per point: capacity_pages, guest and
 * cleancache hits and misses, the total hit ratio, backing pages read,
 * device time (us). 0 or -EIO. */
int replay_sweep_write_csv(FILE *f, const uint64_t *caps_pages, size_t n,
                           const struct replay_result *results);

/* Plot the sweep's hit ratio against capacity with gnuplot into path
 * (.png or .svg by its suffix). curve (may be NULL) is a second series
 * to draw, e.g. stack distance's exact LRU curve: npoints (pages, hit
 * ratio) pairs. Returns 0, -ENOENT (no gnuplot), -EIO (message in err). */
int replay_sweep_plot(const char *path, const uint64_t *caps_pages, size_t n,
                      const struct replay_result *results, const double (*curve)[2],
                      size_t npoints, char *err, size_t errlen);

#endif /* REPLAY_REPLAY_H */
