/*
 * sample.h - the testbed's counters over time: one sample per interval of
 * every host (its store) and every guest (its tmem client and its own
 * counters), kept in memory for the reports and plots.
 *
 * A guest that has not started or has stopped is sampled as "not
 * running": its counters stay at their last values (a stopped guest's
 * final ones), its client's gauges at 0 (it left the store).
 *
 * Derived values (shares, hit rates per interval) are computed from two
 * consecutive samples by the helpers below, so the CSV, the JSON and the
 * plots agree.
 *
 * Thread safety: a series is written and read by one thread (the
 * runner's), or read by many once the run is over.
 */
#ifndef TESTBED_SAMPLE_H
#define TESTBED_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_stats.h"
#include "guest/device.h"
#include "remote/remote_tier.h"
#include "swapsim/swapsim.h"
#include "testbed/stress_counters.h"

/* A remote tier's counters (host: the whole tier; guest: its client),
 * host_remote.h. Zero when there is no tier (attached false). */
struct testbed_remote_sample {
    bool attached;
    /* what the core asked of the tier (tmem_tier_stats, both pool kinds) */
    uint64_t puts, puts_accepted, puts_refused, gets, hits, evictions;
    uint64_t held_pages;              /* pages held remotely now (a gauge) */
    uint64_t refused_capacity;        /* puts and write-backs over a capacity */
    uint64_t conn[REMOTE_CONN_COUNTER_COUNT]; /* connection failure counters */
    uint64_t tier[REMOTE_TIER_COUNTER_COUNT]; /* the tier's own (hosts only) */
    uint64_t ops[REMOTE_OP_COUNT];    /* round trips per operation */
    uint64_t ns[REMOTE_OP_COUNT];     /* their summed latency */
    uint64_t p50_ns[REMOTE_OP_COUNT], p99_ns[REMOTE_OP_COUNT];
};

struct testbed_host_sample {
    uint64_t capacity;          /* the store's capacity then (TMEM_CAPACITY_UNLIMITED) */
    struct tmem_stats store;    /* tmem_stats of the store */
    struct testbed_remote_sample remote; /* its remote tier, if any */
};

struct testbed_guest_sample {
    bool running;                /* started and not stopped */
    size_t host;                 /* the host it was on (index; moves by migration) */
    struct tmem_stats client;    /* its tmem client (zero when not running) */
    /* mount guests: tmemfs's counters, the backing device, the guest cache */
    uint64_t mount[TMEMFS_NR_COUNTERS];
    struct guest_device_counts device;
    uint64_t guest_pages;
    /* swap guests: swapsim's counters (unpriced), and the time its tmem
     * operations took so far (the sums of its client's latency histograms) */
    struct swapsim_counters swap;
    uint64_t tmem_ns;
    /* stress guests: their workload's counters (stress_counters.h) */
    struct testbed_stress_counters stress;
    /* guests attached to their host's remote tier */
    struct testbed_remote_sample remote;
};

struct testbed_series {
    size_t nhosts, nguests;
    size_t n, cap;                       /* samples taken, room */
    double *t;                           /* [n] seconds since the run began */
    struct testbed_host_sample *hosts;   /* [n * nhosts] */
    struct testbed_guest_sample *guests; /* [n * nguests] */
};

/* An empty series for nhosts hosts and nguests guests. */
void testbed_series_init(struct testbed_series *s, size_t nhosts, size_t nguests);
void testbed_series_free(struct testbed_series *s);

/* Room for one more sample at time t: its records (zeroed) are
 * testbed_series_host(s, s->n - 1, h) and _guest(...). 0 or -ENOMEM. */
int testbed_series_append(struct testbed_series *s, double t);

struct testbed_host_sample *testbed_series_host(const struct testbed_series *s, size_t i,
                                                size_t h);
struct testbed_guest_sample *testbed_series_guest(const struct testbed_series *s, size_t i,
                                                  size_t g);

/* Bytes the store counts against its capacity: data + metadata. */
static inline uint64_t testbed_used_bytes(const struct tmem_stats *st)
{
    return st->data_bytes + st->metadata_bytes;
}

/*
 * A guest's hit rate between samples i-1 and i, in [0, 1]: mount guests
 * cleancache succ_gets / (succ_gets + failed_gets), swap guests the share
 * of swap-ins served by frontswap, loads / (loads + pswpin). Returns false
 * (no rate) when the guest made no such request in the interval, or i is 0.
 */
bool testbed_series_hit_rate(const struct testbed_series *s, size_t i, size_t g,
                             bool mount, double *rate);

/* The same over the whole run (the last sample against nothing). */
bool testbed_guest_hit_rate(const struct testbed_guest_sample *last, bool mount, double *rate);

#endif /* TESTBED_SAMPLE_H */
