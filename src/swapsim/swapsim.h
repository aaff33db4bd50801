/*
 * swapsim.h - the swap simulator's public interface.
 *
 * A simulated guest has RAM of N page frames, an address space of M > N
 * virtual pages and a real swap file; frontswap (one persistent private
 * tmem pool per swap area, in a shared `struct tmem` store) sits in front
 * of the swap file. Workloads (built-in generators or trace files) drive
 * page accesses; every page loaded back is checked against its expected
 * content. docs/swapsim.md describes the model, the modes and the counters.
 *
 * Conventions for every function below:
 *  - Return 0 (or a documented value >= 0) on success, a negative errno on
 *    failure. Functions taking `char *err, size_t errlen` write one line
 *    naming what went wrong there (err may be NULL).
 *  - An object is owned by whoever created it and freed by the matching
 *    *_destroy / *_close function, which accepts NULL.
 *  - Thread safety: a swapsim_guest may be driven by one thread while other
 *    threads (through tmem_set_capacity on the shared store) call its
 *    pressure callback: the guest serialises both with its own mutex. Other
 *    objects (swap device, workloads, readers, reports) are not thread-safe:
 *    one thread each.
 */
#ifndef SWAPSIM_H
#define SWAPSIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/fault.h"
#include "common/stats_writer.h"
#include "core/tmem.h"
#include "guest/device.h"
#include "guest/replace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SWAPSIM_NONE UINT32_MAX /* "no frame / no slot / no page" */
#define SWAPSIM_SECTOR 512u     /* bytes per disk sector in the counters */

/* =============================================================== content */

/* Mix of page contents, in per mille (the rest is incompressible). */
struct swapsim_content_mix {
    uint32_t zero_permille;         /* all-zero pages */
    uint32_t dup_permille;          /* one of 64 shared patterns (dedup) */
    uint32_t compressible_permille; /* repetitive, lz4 gains ~3x */
};

/* Defaults: 10% zero, 10% duplicate, 50% compressible, 30% random. */
void swapsim_content_mix_default(struct swapsim_content_mix *mix);

/* Check the mix (sum <= 1000). Returns 0 or -EINVAL. */
int swapsim_content_mix_check(const struct swapsim_content_mix *mix);

/*
 * Fill page (page_size bytes, a multiple of 8) with the content of virtual
 * page vpage at version `version` for the given seed. Deterministic: the
 * same arguments always give the same bytes. Thread-safe.
 */
void swapsim_content_fill(void *page, uint32_t page_size, uint64_t seed,
                          const struct swapsim_content_mix *mix, uint32_t vpage,
                          uint32_t version);

/* The content class ("zero", "dup", "compressible", "random") of a page. */
const char *swapsim_content_class(uint64_t seed, const struct swapsim_content_mix *mix,
                                  uint32_t vpage, uint32_t version);

/* =========================================================== swap device */

/*
 * A swap device: a real file (unlinked at once, so nothing is left behind)
 * of `slots` pages, a slot allocator (bitmap, next-fit) and the slot table,
 * the guest's swap state per slot: the virtual page that owns it and
 * whether the file holds its page. Only these functions change the table:
 * alloc sets the owner, a write marks the slot on disk, free clears both.
 * (Whether frontswap holds a copy is frontswap's own record.)
 * Not thread-safe: owned by one guest, used under its lock.
 */
struct swapsim_swapdev;

/*
 * Create a swap file of slots pages of page_size bytes in directory dir
 * (NULL: $TMPDIR or /tmp). *out receives the device. Returns 0, -EINVAL
 * (slots == 0), -errno of open/ftruncate, -ENOMEM.
 */
int swapsim_swapdev_create(const char *dir, uint32_t slots, uint32_t page_size,
                           struct swapsim_swapdev **out, char *err, size_t errlen);
void swapsim_swapdev_destroy(struct swapsim_swapdev *sd);

/* Allocate a free slot for virtual page owner into *slot (owned by owner,
 * not on disk). Returns 0 or -ENOSPC (device full). */
int swapsim_swapdev_alloc(struct swapsim_swapdev *sd, uint32_t owner, uint32_t *slot);
/* Free a slot (no owner, not on disk). Returns 0, or -EINVAL if it was not
 * allocated. */
int swapsim_swapdev_free(struct swapsim_swapdev *sd, uint32_t slot);
/* True if slot is allocated. */
bool swapsim_swapdev_in_use(const struct swapsim_swapdev *sd, uint32_t slot);
/* The virtual page owning slot, or SWAPSIM_NONE (free or out of range). */
uint32_t swapsim_swapdev_owner(const struct swapsim_swapdev *sd, uint32_t slot);
/* True if the file holds slot's page: written since it was allocated. */
bool swapsim_swapdev_on_disk(const struct swapsim_swapdev *sd, uint32_t slot);
/* Mark an allocated slot zero: its page is all zeros, held as this bit
 * alone (the kernel's swap zeromap): no I/O, no store. Cleared by free and
 * by a write. Returns 0, or -EINVAL (slot not allocated). */
int swapsim_swapdev_mark_zero(struct swapsim_swapdev *sd, uint32_t slot);
/* True if slot is marked zero. */
bool swapsim_swapdev_is_zero(const struct swapsim_swapdev *sd, uint32_t slot);
/* Number of allocated slots / total slots. */
uint32_t swapsim_swapdev_used(const struct swapsim_swapdev *sd);
uint32_t swapsim_swapdev_slots(const struct swapsim_swapdev *sd);

/* Write / read one page at an allocated slot (pwrite/pread, retried on
 * short I/O); a successful write marks the slot on disk, a failed one
 * leaves the slot's state as it was (a slot not on disk stays so). Returns
 * 0, -EINVAL (slot not allocated), -EIO, -ENOSPC or another -errno. */
int swapsim_swapdev_write(struct swapsim_swapdev *sd, uint32_t slot, const void *page);
int swapsim_swapdev_read(struct swapsim_swapdev *sd, uint32_t slot, void *page);

/*
 * Swap file faults (test-only; --fault-swap-write, --fault-swap-read;
 * docs/swapsim.md "Failure behaviour"): which page transfers of the
 * device fail (common/fault.h: "nth=N", "p=P[,seed=S]", "off"; counted
 * per device, one event per page read or written) and how.
 */
enum swapsim_io_fault_kind {
    SWAPSIM_IO_FAULT_EIO = 0, /* the transfer fails with EIO */
    SWAPSIM_IO_FAULT_ENOSPC,  /* writes only: fails with ENOSPC (no room on disk) */
    SWAPSIM_IO_FAULT_SHORT,   /* every pread/pwrite of it moves at most half of what is
                                 left: short transfers the device must complete */
};
struct swapsim_io_fault {
    struct fault_spec when;   /* mode FAULT_OFF (zeroed): none */
    enum swapsim_io_fault_kind kind;
};
/*
 * Parse "[KIND:]FAULT", KIND eio (the default), enospc (writes only) or
 * short, FAULT in common/fault.h's grammar ("enospc:nth=3",
 * "p=0.01,seed=2", "short:p=0.5"). 0, or -EINVAL with a one-line reason
 * in err.
 */
int swapsim_io_fault_parse(const char *text, bool write, struct swapsim_io_fault *out,
                           char *err, size_t errlen);
/* Set the device's write and read faults (NULL: none); their counts start
 * at zero. */
void swapsim_swapdev_set_faults(struct swapsim_swapdev *sd, const struct swapsim_io_fault *write,
                                const struct swapsim_io_fault *read);
/* Overwrite a slot's bytes directly (tests: simulate on-disk corruption). */
int swapsim_swapdev_corrupt(struct swapsim_swapdev *sd, uint32_t slot);

/* ============================================================= workloads */

enum swapsim_op {
    SWAPSIM_READ = 0,
    SWAPSIM_WRITE = 1,
    SWAPSIM_UNMAP = 2, /* the page is freed (munmap / exit): its slot goes */
    SWAPSIM_CAPACITY = 3, /* not a page access: the store's capacity becomes
                             `bytes` (a trace's capacity record). swapsim_run
                             applies it in guest 0 before its next access;
                             other guests skip it; the guest ignores it. */
};

struct swapsim_access {
    uint32_t vpage;
    enum swapsim_op op;
    uint64_t timestamp; /* from a trace, or 0 */
    uint64_t bytes;     /* SWAPSIM_CAPACITY: the new capacity (TMEM_CAPACITY_UNLIMITED allowed) */
};

/*
 * A workload: anything producing a stream of accesses. next() returns 1 and
 * fills *acc, 0 at the end of the stream, or a negative errno (with a line
 * in the workload's error text, see swapsim_workload_error).
 */
struct swapsim_workload;
struct swapsim_workload_ops {
    const char *name;
    int (*next)(struct swapsim_workload *w, struct swapsim_access *acc);
    void (*destroy)(struct swapsim_workload *w);
};
struct swapsim_workload {
    const struct swapsim_workload_ops *ops;
    char error[1536];
};

enum swapsim_gen_kind {
    SWAPSIM_GEN_UNIFORM,
    SWAPSIM_GEN_ZIPF,
    SWAPSIM_GEN_SEQ,   /* sequential scans over the address space */
    SWAPSIM_GEN_PHASE, /* uniform inside a working set that moves per phase */
    SWAPSIM_GEN_MIX,   /* zipf 60%, seq 20%, phase 20%, interleaved */
};

struct swapsim_gen_config {
    enum swapsim_gen_kind kind;
    uint32_t vpages;          /* address space: pages 0..vpages-1 */
    uint64_t accesses;        /* stream length */
    uint64_t seed;
    uint32_t write_permille;  /* share of writes (default 300) */
    uint32_t unmap_permille;  /* share of unmaps (default 0) */
    double zipf_alpha;        /* default 0.99 */
    uint32_t phase_pages;     /* working set per phase (default vpages/4) */
    uint64_t phase_length;    /* accesses per phase (default accesses/4) */
};

/* Fill *gc with defaults for a vpages-page space and `accesses` accesses. */
void swapsim_gen_config_init(struct swapsim_gen_config *gc, uint32_t vpages,
                             uint64_t accesses);
/* Parse a generator name ("uniform", "zipf", "seq", "phase", "mix").
 * Returns 0 or -EINVAL. */
int swapsim_gen_kind_parse(const char *name, enum swapsim_gen_kind *out);
const char *swapsim_gen_kind_name(enum swapsim_gen_kind kind);

/* Check the generator parameters the caller chose (shares of writes and
 * unmaps together at most 100%, zipf alpha in (0, 10]): 0, or -EINVAL with
 * one line in err (shares in percent). swapsim_gen_create checks the same. */
int swapsim_gen_config_check(const struct swapsim_gen_config *gc, char *err, size_t errlen);
/*
 * The generator options every program driving a swapsim workload takes
 * on its command line (tmem-swapsim, tools/anchor's workload program):
 * name (without "--") one of workload, accesses, zipf-alpha, writes,
 * unmaps, phase-pages, phase-length, content, with its argument text.
 * Returns 1 (applied to *gc and *mix), 0 (not one of these names), or
 * -EINVAL with "--NAME 'ARG': what is wrong" in err.
 */
int swapsim_gen_option_parse(const char *name, const char *arg, struct swapsim_gen_config *gc,
                             struct swapsim_content_mix *mix, char *err, size_t errlen);

/* Create a seeded, reproducible generator. Returns 0, -EINVAL (bad
 * parameter, named in err), -ENOMEM. */
int swapsim_gen_create(const struct swapsim_gen_config *gc, struct swapsim_workload **out,
                       char *err, size_t errlen);

/*
 * Open a trace file as a workload. The format is detected from the first
 * bytes: the project's page trace format (docs/traces.md; binary or text,
 * kind anon or both: aread/awrite/afree of vpage = value; a capacity
 * record is a SWAPSIM_CAPACITY access of its bytes; file records stop the
 * run with a message) or swapsim's text format
 * (docs/swapsim.md), one access per line:
 *     <vpage> <R|W|F> [timestamp]      # comment
 * vpage decimal or 0x-hex, < vpages. Errors (unreadable file, bad line or
 * record) are reported as "FILE:LINE: what is wrong" (FILE:record N in
 * the tmem format) in err or in the workload's error text.
 * Returns 0, -errno of fopen, -EINVAL, -ENOTSUP (the retired "TMSWBIN1",
 * a tmem trace of kind file).
 */
int swapsim_trace_open(const char *path, uint32_t vpages, struct swapsim_workload **out,
                       char *err, size_t errlen);

/*
 * --record: wrap inner so that every access it returns is also written to
 * a new page trace at path (binary, kind anon, page_size, no timestamps:
 * aread / awrite / afree of value = vpage). The wrapper owns inner; its
 * destroy closes the trace (count filled in). Returns 0, -ENOMEM, -errno
 * of creating path (message "PATH: cannot create: ..." in err).
 */
int swapsim_record_wrap(const char *path, uint32_t page_size, struct swapsim_workload *inner,
                        struct swapsim_workload **out, char *err, size_t errlen);

/* Pull the next access (see ops->next). */
int swapsim_workload_next(struct swapsim_workload *w, struct swapsim_access *acc);
const char *swapsim_workload_error(const struct swapsim_workload *w);
void swapsim_workload_destroy(struct swapsim_workload *w);

/* ================================================================ guest */

struct swapsim_guest;

/*
 * Which swap layer the guest models (docs/swapsim.md, "zswap mode"):
 *  - SWAPSIM_MODEL_FRONTSWAP (default): frontswap in front of the swap
 *    file, as the modes (exclusive loads, write-through) say.
 *  - SWAPSIM_MODEL_ZSWAP: Linux 6.12+'s swap layer and zswap: loads are
 *    exclusive; all-zero pages are kept by the swap layer as a per-slot
 *    bit (no store, no I/O; swpout_zero, swpin_zero), also with frontswap
 *    off; a store the pool refuses goes to the swap file and queues
 *    zswap's shrink worker, which walks the least recently stored entries
 *    one at a time: a referenced one (every entry is stored referenced)
 *    is rotated to the newest end with its bit cleared (its second
 *    chance: writeback_rotated), an unreferenced one is written back
 *    (written_back_pages), until the store's budget use is below
 *    accept_threshold_percent of its capacity or 16 rotations
 *    (MAX_RECLAIM_RETRIES) end the wake-up (shrink_worker_gave_up); only
 *    the next refused store wakes it again (pool_limit_hit counts the
 *    refusals at the limit). The store itself is configured by
 *    swapsim_config_set_model.
 */
enum swapsim_model {
    SWAPSIM_MODEL_FRONTSWAP = 0,
    SWAPSIM_MODEL_ZSWAP,
};
/* Parse "frontswap" or "zswap": 0 or -EINVAL. */
int swapsim_model_parse(const char *text, enum swapsim_model *out);
/* "frontswap" or "zswap" (NULL outside the enum). */
const char *swapsim_model_name(enum swapsim_model model);

/* Called by the guest in the middle of a swap-out (page stored, frame not
 * yet released), with the guest's lock released: used to inject capacity
 * changes, i.e. shrink requests, at the worst moment. */
typedef void (*swapsim_swapout_hook)(void *arg, struct swapsim_guest *g);

struct swapsim_guest_config {
    const char *name;        /* for messages and the tmem client (copied) */
    uint32_t ram_pages;      /* N frames */
    uint32_t vpages;         /* M virtual pages */
    uint32_t swap_slots;     /* swap file size (default: vpages) */
    uint32_t swap_type;      /* frontswap "type": the object id (default 0) */
    uint32_t page_size;      /* 0: the store's (4096 without a store); with a
                                store it must equal the store's page size */
    const char *swap_dir;    /* NULL: $TMPDIR or /tmp */
    enum guest_replace_policy reclaim; /* which frame to evict (default CLOCK) */
    bool frontswap;          /* false: plain swap (the baseline) */
    enum swapsim_model model; /* SWAPSIM_MODEL_ZSWAP implies exclusive_loads
                                 (when frontswap is on) and keeps zero pages
                                 in the swap layer (also when it is off) */
    uint32_t accept_threshold_percent; /* zswap: write back until the store's
                                 budget use is below this share of its
                                 capacity (1..100; 0 = 90) */
    uint32_t writeback_pace;  /* zswap: 0 (default): a refused store runs a
                                 shrink worker wake-up at once, in full;
                                 N: the worker takes N/100 steps per swap-out
                                 from then on (a writeback is a step, a
                                 rotation rotation_cost/100 of one), every
                                 store refused meanwhile */
    uint32_t rotation_cost;   /* zswap, writeback_pace N: what rotating a
                                 referenced entry costs the paced worker, in
                                 hundredths of a step (0..100; default
                                 SWAPSIM_ROTATION_COST_DEFAULT) */
    uint32_t worker_delay;    /* zswap, second chance: swap-outs between the
                                 refusal that queues a wake-up and its start
                                 (the workqueue's latency); refusals meanwhile
                                 queue nothing, as queue_work on a pending
                                 work item (0, default: it starts at once) */
    bool no_second_chance;    /* zswap: the worker without the second chance
                                 (the model before it): it writes back the
                                 oldest entries, never rotates, never gives
                                 up, until below the threshold */
    bool exclusive_loads;    /* TMEM_POOL_EXCLUSIVE_GETS: a load frees the copy */
    bool write_through;      /* every frontswap page also written to the file */
    uint64_t selfshrink_age; /* give back frontswap pages not touched for this
                                many accesses (0: off) */
    uint64_t selfshrink_interval; /* check every this many accesses (default 1024) */
    uint64_t seed;           /* content seed */
    struct swapsim_content_mix mix;
    struct guest_device *device; /* the block device the swap file is on,
                                    noting every swap file read and write
                                    (borrowed, must outlive the guest; may be
                                    shared by guests on one disk, each its own
                                    stream, swap_type); NULL: one of its own */
    swapsim_swapout_hook swapout_hook; /* may be NULL */
    void *hook_arg;
    bool quiet;              /* do not print mismatch reports to stderr */
    struct swapsim_io_fault write_fault, read_fault; /* swap file faults (test
                                 switches; zeroed: none), per guest's file */
};

/* The zswap worker's default rotation cost (swapsim_guest_config.rotation_cost)
 * and its failure budget per wake-up (mm/zswap.c, MAX_RECLAIM_RETRIES). */
#define SWAPSIM_ROTATION_COST_DEFAULT 0u
#define SWAPSIM_ZSWAP_WORKER_FAILURES 16u

void swapsim_guest_config_init(struct swapsim_guest_config *gc, uint32_t ram_pages,
                               uint32_t vpages);

/*
 * The counters of a guest, declared once: X(name, help) for each, in report
 * order. The struct below, swapsim_counters_add, swapsim_counters_write,
 * the JSON and CSV reports and the table in docs/swapsim.md all follow this
 * list. Kernel names where they exist (frontswap's debugfs, /proc/vmstat).
 * Every counter is a uint64_t event count except the gauges (their help
 * says so), which swapsim_guest_counters reads at the time of the call,
 * and the priced values (their help says "priced"), which a guest leaves
 * at 0 and swapsim_costs_price fills in from the others.
 */
#define SWAPSIM_COUNTERS(X)                                                               \
    X(accesses, "accesses performed: reads + writes + unmaps")                            \
    X(reads, "read accesses")                                                             \
    X(writes, "write accesses (each makes a new version of the page)")                    \
    X(unmaps, "unmap accesses (trace F, --unmaps): the page and its slot are freed")      \
    X(minor_faults, "first touches of a page: a fresh page, no I/O")                      \
    X(major_faults, "faults on a swapped page: loaded from frontswap or the swap file")   \
    X(swap_outs, "evictions of dirty pages, each given a slot")                           \
    X(clean_drops, "evictions of clean pages whose slot still holds a copy: no I/O")      \
    X(succ_stores, "frontswap stores the store accepted")                                 \
    X(failed_stores, "frontswap stores the store refused (the page goes to the file)")    \
    X(pool_limit_hit, "zswap: stores refused because the pool was at its limit")          \
    X(loads, "frontswap loads that succeeded")                                            \
    X(failed_loads, "frontswap loads that failed: a lost page, must be 0")                \
    X(invalidates, "frontswap invalidate_page calls (tmem_flush_page)")                   \
    X(invalidate_areas, "frontswap invalidate_area calls (tmem_flush_object, swapoff)")   \
    X(written_back_pages,                                                                 \
      "zswap: entries written back to the swap file at the limit (zswpwb)")               \
    X(writeback_rotated,                                                                  \
      "zswap: referenced entries the shrink worker rotated instead (second chance)")      \
    X(shrink_worker_runs, "zswap: shrink worker wake-ups (each queued by a refused store)") \
    X(shrink_worker_gave_up,                                                              \
      "zswap: wake-ups ended by 16 failures, i.e. rotations (MAX_RECLAIM_RETRIES)")       \
    X(pswpin, "pages read from the swap file")                                            \
    X(pswpout, "pages written to the swap file")                                          \
    X(swap_write_errors,                                                                  \
      "swap file page writes that failed (each retried; the page stays in RAM or frontswap)") \
    X(swap_read_errors, "swap file page reads that failed (each retried; never wrong data)") \
    X(swpin_zero, "zswap: swap-ins of zero slots: zeros filled, no store, no I/O")        \
    X(swpout_zero,                                                                        \
      "zswap: swap-outs of all-zero pages, kept as a slot bit: no store, no I/O")         \
    X(sectors_read, "512-byte sectors read from the swap file")                           \
    X(sectors_written, "512-byte sectors written to the swap file")                       \
    X(device_random_requests,                                                             \
      "swap file reads and writes that did not continue the device's previous request")   \
    X(device_sequential_requests, "swap file reads and writes that did (the next slot)")  \
    X(shrink_calls, "pressure callbacks from the store (its capacity dropped)")           \
    X(shrink_pages, "frontswap pages given back by pressure callbacks and shrink calls")  \
    X(shrink_to_ram, "pages given back into free RAM, dirty, instead of the swap file")   \
    X(selfshrink_pages, "frontswap pages given back by self-shrink (--self-shrink)")      \
    X(pages_verified, "pages loaded and checked byte for byte")                           \
    X(mismatches, "loaded pages that differed from their expected content: must be 0")    \
    X(slots_used, "gauge: swap slots allocated")                                          \
    X(frontswap_pages, "gauge: pages frontswap holds")                                    \
    X(stored_incompressible_pages,                                                        \
      "gauge: pages the store holds raw, their compressed form too large")                \
    X(resident_pages, "gauge: pages in RAM")                                              \
    X(leaked_slots, "slots still allocated after swapoff: must be 0")                     \
    X(leaked_tmem_pages, "pages still in the frontswap pool after swapoff: must be 0")    \
    X(sim_ns, "simulated run time in ns, priced from the counters (--cost, --device)")    \
    X(device_time_ns,                                                                     \
      "priced: the swap file's reads and writes on the --device profile (ns)")            \
    X(device_time_ns_hdd, "priced: ... on a 7200 rpm disk (ns)")                          \
    X(device_time_ns_sata_ssd, "priced: ... on a SATA SSD (ns)")                          \
    X(device_time_ns_nvme, "priced: ... on an NVMe drive (ns)")

struct swapsim_counters {
#define SWAPSIM_COUNTER_FIELD(name, help) uint64_t name;
    SWAPSIM_COUNTERS(SWAPSIM_COUNTER_FIELD)
#undef SWAPSIM_COUNTER_FIELD
};

/*
 * Simulated costs in nanoseconds, and the device the swap files are on.
 * Swap I/O is priced by the block-device model (guest/device.h) from the
 * counters device_random_requests, device_sequential_requests,
 * sectors_read and sectors_written, so any profile prices a run alike.
 */
struct swapsim_costs {
    uint64_t access_ns;      /* every access (default 50) */
    uint64_t fault_ns;       /* kernel overhead per fault (default 1000) */
    uint64_t tmem_copy_ns;   /* per tmem put/get: hypercall + copy (default 1000) */
    uint64_t compress_ns;    /* per put when the store compresses (default 4000) */
    uint64_t decompress_ns;  /* per get when the store compresses (default 1500) */
    struct guest_device_profile device; /* swap I/O (default sata-ssd) */
};
void swapsim_costs_default(struct swapsim_costs *costs);
/* Fill c's priced values from its other counters: sim_ns (the simulated
 * run time, for a store compressing or not), device_time_ns on
 * costs->device and device_time_ns_hdd/_sata_ssd/_nvme. Pure. */
void swapsim_costs_price(const struct swapsim_costs *costs, struct swapsim_counters *c,
                         bool compress);

/*
 * Create a guest. client: its tmem client (borrowed; must outlive the
 * guest); may be NULL when gc->frontswap is false. The guest creates its
 * frontswap pool (TMEM_POOL_PERSIST [| TMEM_POOL_EXCLUSIVE_GETS]), registers
 * the client's pressure callback and creates its swap file. The pressure
 * callback is per client, so give each guest a client of its own.
 * Returns 0, -EINVAL (bad config, named in err), -ENOMEM, or the error of
 * tmem_new_pool / the swap file.
 */
int swapsim_guest_create(const struct swapsim_guest_config *gc, struct tmem_client *client,
                         struct swapsim_guest **out, char *err, size_t errlen);

/*
 * Perform one access (fault in, reclaim, swap-out as needed). Returns 0;
 * -EIO on a content mismatch or a lost page (fatal: the report is printed
 * to stderr unless quiet and kept in swapsim_guest_error); -ENOSPC when the
 * swap device is full; -EINVAL for vpage >= vpages; -errno of swap I/O.
 * After an error the guest only accepts swapoff/destroy.
 */
int swapsim_guest_access(struct swapsim_guest *g, const struct swapsim_access *acc);

/*
 * Give frontswap pages back, as the pressure callback does: move up to
 * `pages` of the least recently used frontswap pages to the swap file (or
 * into free RAM) and flush them from tmem. Returns pages given back (>= 0)
 * or a negative errno.
 */
long swapsim_guest_shrink(struct swapsim_guest *g, uint64_t pages);

/*
 * Swapoff and exit: load and verify every swapped page, free every slot
 * (invalidating frontswap copies), then record leaked_slots (slots still in
 * use) and leaked_tmem_pages (pages still in the pool), invalidate the area
 * (flush_object), unregister the pressure callback and destroy the pool.
 * Returns 0 or the first error (-EIO on a mismatch). Idempotent.
 */
int swapsim_guest_swapoff(struct swapsim_guest *g);

/*
 * Live migration of the guest's frontswap to another store (pre-copy, as
 * a hypervisor migrates a running guest's memory): while the guest keeps
 * running in other threads, every page frontswap holds is copied to a new
 * persistent pool of dest (same flags) in rounds; pages whose frontswap
 * state changed during a round (stored again, taken, invalidated) are
 * copied again in the next. When a round leaves at most stop_pages
 * changed (or after max_rounds), the guest is stopped (its lock held):
 * the last changes are copied, the pages the destination refused are
 * written to the guest's swap file (never dropped), frontswap and the
 * pressure callback switch to dest, and the source pool is destroyed;
 * then the guest resumes. Every page read from the source is verified
 * against its expected content. On error before the stop, the guest
 * stays on its source and the destination pool is destroyed.
 * The caller keeps both clients (dest must outlive the guest; the source
 * client holds no pool of the guest afterwards) and must not run
 * swapsim_guest_destroy or swapoff concurrently. Returns 0, -ENODEV
 * (frontswap off), -EINVAL (dest on a store of another page size), or
 * another negative errno (message in err).
 */
struct swapsim_migrate_options {
    uint32_t max_rounds;   /* default 8 (0: the default) */
    uint64_t stop_pages;   /* stop once at most this many changes are left (0: only
                              when none; the default without options: 256) */
    uint32_t batch;        /* slots copied per hold of the guest lock (default 64) */
};

struct swapsim_migrate_stats {
    uint32_t rounds;             /* copy rounds before the stop */
    uint64_t pages_sent;         /* puts to the destination, every round and the stop */
    uint64_t bytes_sent;         /* pages_sent x the page size */
    uint64_t pages_resent;       /* of those, second or later copies of a slot */
    uint64_t pages_flushed;      /* destination copies flushed (the slot changed) */
    uint64_t pages_refused;      /* destination refusals (counted each time) */
    uint64_t pages_to_swapfile;  /* refused at the stop: written to the swap file */
    uint64_t pages_at_stop;      /* changes copied while the guest was stopped */
    uint64_t pages_moved;        /* frontswap pages on the destination afterwards */
    uint64_t stop_ns;            /* how long the guest was stopped */
    uint64_t total_ns;           /* the whole migration */
};

int swapsim_guest_migrate(struct swapsim_guest *g, struct tmem_client *dest,
                          const struct swapsim_migrate_options *o,
                          struct swapsim_migrate_stats *st, char *err, size_t errlen);

/* Copy the counters (taken under the guest lock). */
void swapsim_guest_counters(struct swapsim_guest *g, struct swapsim_counters *out);
/* The last fatal error text ("" if none). */
const char *swapsim_guest_error(const struct swapsim_guest *g);
/* The guest's swap device (tests), frontswap pool id (-1 if none). */
struct swapsim_swapdev *swapsim_guest_swapdev(struct swapsim_guest *g);
int swapsim_guest_pool(const struct swapsim_guest *g);
/* Check internal invariants (page table vs frames vs the slot table vs
 * what frontswap holds and its oldest-first order vs the tmem pool).
 * Returns 0 or -EFAULT with the broken rule in err. Tests only. */
int swapsim_guest_check(struct swapsim_guest *g, char *err, size_t errlen);
/* Destroy (calls swapoff first if needed). Not concurrent with any other
 * call on g, nor with tmem_set_capacity on its store. */
void swapsim_guest_destroy(struct swapsim_guest *g);

/* ============================================================ simulation */

/* A capacity change at access `at` of guest 0; during_swapout: fire inside
 * the next swap-out after that point instead of before the access. */
struct swapsim_cap_event {
    uint64_t at;
    uint64_t bytes; /* TMEM_CAPACITY_UNLIMITED allowed */
    bool during_swapout;
};

#define SWAPSIM_MAX_EVENTS 64
#define SWAPSIM_MAX_GUESTS 64

/*
 * What a run has done so far, for a progress display (swapsim_status_*):
 * swapsim_run's threads update it (relaxed atomics: each guest every
 * SWAPSIM_PROGRESS_STEP accesses and when it stops), any thread reads it.
 * Each of the two runs (frontswap, then the baseline) starts it again.
 */
#define SWAPSIM_PROGRESS_STEP 1024
struct swapsim_progress {
    atomic_int run;                 /* 0: not started, 1: frontswap run, 2: baseline run */
    atomic_uint_fast64_t total;     /* accesses the run will do, every guest (0: unknown,
                                       a trace) */
    atomic_uint_fast64_t accesses;  /* accesses done so far, every guest */
    atomic_uint_fast64_t faults;    /* minor + major faults so far, every guest */
};

struct swapsim_config {
    uint32_t guests;        /* default 1 */
    /* Several guests: false (default): one thread steps them round robin,
     * one access of each in guest order, so a run repeats exactly; true:
     * one thread per guest, interleaved as the scheduler pleases (not
     * repeatable; for stress). */
    bool concurrent;
    struct swapsim_guest_config guest; /* template; name/swap_type per guest */
    struct swapsim_gen_config gen;     /* used when trace_path is NULL */
    const char *trace_path;            /* trace file workload (every guest) */
    const char *record_path;           /* --record: guest 0's accesses of the
                                          frontswap run as a trace (NULL: off) */
    struct tmem_config tmem;           /* the shared store */
    struct swapsim_cap_event events[SWAPSIM_MAX_EVENTS];
    uint32_t nevents;
    struct swapsim_costs costs;
    bool baseline;          /* also run with frontswap off to compare (default) */
    uint64_t sample_every;  /* counters-over-time interval in accesses (0: off),
                               plus a sample at each guest's end */
    /* When not NULL and set non-zero (e.g. from a signal handler), every
     * guest stops before its next access and the run ends there as if its
     * workload had ended (swapoff, counters, samples so far); the result is
     * marked interrupted and no baseline is run. */
    atomic_int *interrupt;
    /* When not NULL, the run reports what it has done there (a progress
     * display reads it from another thread). */
    struct swapsim_progress *progress;
};

void swapsim_config_init(struct swapsim_config *cfg);

/*
 * Set cfg->guest.model and configure the store as that model needs. For
 * SWAPSIM_MODEL_ZSWAP: exclusive loads; the budget counted as zswap counts
 * its pool (TMEM_BUDGET_ZSPAGES: whole zspages; main.c's --zswap-pool bytes
 * sets TMEM_BUDGET_ZSMALLOC afterwards); no same-filled pages and no dedup (zswap
 * has neither); a page stored raw only when its compressed form is not
 * smaller than the page (compress_threshold = page size); hysteresis on;
 * the compressor lzo. The caller may change the compressor and the accept
 * threshold afterwards (cfg->tmem.accept_threshold_percent, which the
 * guest's writeback follows). SWAPSIM_MODEL_FRONTSWAP sets the model only.
 */
void swapsim_config_set_model(struct swapsim_config *cfg, enum swapsim_model model);

/* Parse "ACCESS:SIZE[:swapout][,...]" into cfg->events (SIZE in the
 * project's size grammar, common/size.h, "unlimited" allowed). Returns 0,
 * -EINVAL (naming the bad item in err) or -ENOMEM. */
int swapsim_parse_schedule(struct swapsim_config *cfg, const char *text, char *err,
                           size_t errlen);

/* One counters sample of guest `guest` at access `at`, priced
 * (swapsim_costs_price: sim_ns is the simulated time so far). A guest's
 * last sample is taken at the end of its run, after its swapoff: its
 * counters are the guest's final ones (swapsim_result.per_guest). */
struct swapsim_sample {
    uint32_t guest;
    uint64_t at;
    uint64_t capacity;
    struct swapsim_counters c;
};

struct swapsim_result {
    uint32_t guests;
    struct swapsim_counters per_guest[SWAPSIM_MAX_GUESTS];
    struct swapsim_counters total;       /* sum over guests, frontswap on */
    struct swapsim_counters baseline;    /* sum over guests, frontswap off */
    bool have_baseline;
    struct tmem_stats store;             /* store stats before teardown */
    uint64_t store_budget_used;          /* tmem_budget_used then */
    uint64_t store_pages_after;          /* store pages after every swapoff */
    double wall_seconds;                 /* frontswap run only */
    uint64_t faults;                     /* minor + major, frontswap run */
    struct swapsim_sample *samples;      /* owned; free with swapsim_result_free */
    size_t nsamples;
    bool interrupted;                    /* cfg->interrupt stopped the run early */
};

/*
 * Run the simulation: create the store, one block device under every
 * guest's swap file (guest i's swap area is stream i) and the guests, drive
 * each guest with its workload (guest i uses seed + i), fire the capacity
 * schedule, swapoff, price the counters (cfg->costs, on cfg->costs.device),
 * and (cfg->baseline) the same run again with frontswap off, on a fresh
 * device. Returns 0, or the first error (message in err; -EIO for a
 * mismatch; -EFAULT if the device's counts differ from the guests': an
 * internal error).
 */
int swapsim_run(const struct swapsim_config *cfg, struct swapsim_result *res, char *err,
                size_t errlen);
void swapsim_result_free(struct swapsim_result *res);

/* ================================================================ report */

/* Add every counter of b to a's (gauges too). */
void swapsim_counters_add(struct swapsim_counters *a, const struct swapsim_counters *b);
/* Write every counter of c, in list order, to w (text lines or one JSON
 * object: see common/stats_writer.h; the caller begins and ends w). */
void swapsim_counters_write(struct stats_writer *w, const struct swapsim_counters *c);
/* Human summary, with the headline "X% faster, Y% fewer sectors ..." */
void swapsim_report_text(FILE *f, const struct swapsim_config *cfg,
                         const struct swapsim_result *res);
/* The JSON document as a new jansson object: config summary, totals,
 * baseline, per guest, samples (docs/swapsim.md). NULL when out of
 * memory; the caller json_decref()s it. */
json_t *swapsim_report_json_object(const struct swapsim_config *cfg,
                                   const struct swapsim_result *res);
/* Write that document to f, one member and one array element a line
 * (stats_json_write_lines). Returns 0, or -1 when out of memory or the
 * write failed. */
int swapsim_report_json(FILE *f, const struct swapsim_config *cfg,
                        const struct swapsim_result *res);
/* CSV: header, then one row per sample. */
void swapsim_report_csv(FILE *f, const struct swapsim_result *res);

/* ============================================================= progress */

/*
 * The status line of a run in progress, e.g. "frontswap run:
 * 412345/1000000 accesses (41.2%), 123456 faults, 3.1 s" (run 2:
 * "baseline run (frontswap off): ..."; without the total and the percent
 * when total is 0), into buf[size] with snprintf's contract. Returns what
 * snprintf returns.
 */
int swapsim_progress_format(char *buf, size_t size, int run, uint64_t accesses,
                            uint64_t total, uint64_t faults, double elapsed);

/*
 * A thread printing progress's status line to f (a terminal) every
 * `interval` seconds once `delay` seconds have passed (the command line:
 * 1 and 0.5), each line overwriting the one before (a carriage return,
 * cut to the terminal's width), until swapsim_status_stop, which erases
 * it. progress and f are borrowed until then.
 */
struct swapsim_status;

/* Start. When f is not a terminal (isatty) nothing is started: *out is
 * NULL and nothing will be printed. Returns 0, -ENOMEM or the error of
 * pthread_create (negative). */
int swapsim_status_start(const struct swapsim_progress *progress, FILE *f, double delay,
                         double interval, struct swapsim_status **out);
/* Stop the thread, erase the line if one was printed, free. Accepts NULL. */
void swapsim_status_stop(struct swapsim_status *st);

#ifdef __cplusplus
}
#endif
#endif /* SWAPSIM_H */
