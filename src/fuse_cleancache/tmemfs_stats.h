/*
 * tmemfs_stats.h - the counters of the tmemfs mount (cleancache, guest page
 * cache, backing file) and their text/JSON renderings.
 *
 * Counter names follow the kernel's cleancache debugfs files where one
 * exists (succ_gets, failed_gets, puts, invalidates).
 */
#ifndef TMEMFS_STATS_H
#define TMEMFS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"

enum tmemfs_counter {
    TMEMFS_SUCC_GETS,          /* cleancache get_page found the page */
    TMEMFS_FAILED_GETS,        /* cleancache get_page missed */
    TMEMFS_PUTS,               /* cleancache put_page calls (kernel: "puts") */
    TMEMFS_FAILED_PUTS,        /* ... of which tmem refused the page */
    TMEMFS_INVALIDATES,        /* cleancache invalidate_page calls */
    TMEMFS_INVALIDATE_INODES,  /* cleancache invalidate_inode calls */
    TMEMFS_INVALIDATE_FS,      /* cleancache invalidate_fs calls */
    TMEMFS_GUEST_HITS,         /* page found in the guest page cache */
    TMEMFS_GUEST_MISSES,       /* page not in the guest page cache */
    TMEMFS_GUEST_EVICTIONS,    /* clean pages evicted from the guest cache */
    TMEMFS_GUEST_INVALIDATES,  /* guest pages dropped by invalidation */
    TMEMFS_BACKING_PAGES_READ, /* pages read from backing files */
    TMEMFS_BACKING_BYTES_READ,
    TMEMFS_BACKING_PAGES_WRITTEN, /* pages touched by writes to backing files */
    TMEMFS_BACKING_BYTES_WRITTEN,
    TMEMFS_OUTSIDE_CHANGES,    /* backing files found changed outside the mount */
    TMEMFS_NR_COUNTERS
};

/* Event counters; every field is updated atomically (relaxed). */
struct tmemfs_stats {
    uint64_t c[TMEMFS_NR_COUNTERS];
};

/* Gauges the renderer shows next to the counters (filled by the caller). */
struct tmemfs_gauges {
    uint64_t guest_pages;       /* pages now in the guest cache */
    uint64_t guest_capacity;    /* its size in pages */
    uint32_t page_size;
    bool cleancache;            /* cleancache enabled */
    int pool_id;                /* tmem pool id, -1 when disabled */
    struct tmem_stats pool;     /* tmem pool statistics (zero if disabled) */
    struct tmem_stats store;    /* tmem store statistics */
};

/* Zero every counter. */
void tmemfs_stats_init(struct tmemfs_stats *st);
/* Add n to counter c (thread-safe). */
void tmemfs_stats_add(struct tmemfs_stats *st, enum tmemfs_counter c, uint64_t n);
/* Read counter c (thread-safe). */
uint64_t tmemfs_stats_get(const struct tmemfs_stats *st, enum tmemfs_counter c);
/* The counter's name as printed ("succ_gets", ...); NULL if out of range. */
const char *tmemfs_stats_name(enum tmemfs_counter c);

/*
 * Render counters and gauges into buf (NUL-terminated, truncated to size).
 * Text form: one "name value" line per item (the kernel's debugfs files
 * concatenated). JSON form: one object on one line, ending in a newline.
 * Returns the length the whole text needs, as snprintf does.
 */
int tmemfs_stats_format(const struct tmemfs_stats *st, const struct tmemfs_gauges *g,
                      bool json, char *buf, size_t size);

#endif /* TMEMFS_STATS_H */
