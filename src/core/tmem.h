/*
 * tmem.h - transcendent memory in userspace: the public contract.
 *
 * A `struct tmem` is one store of memory of unknown, changing size (the
 * "hypervisor"). Guests (`struct tmem_client`) reach it only by copying
 * pages in and out through handles:
 *
 *     handle = (pool id, object id, page index)
 *              pool id: small int, per client (as in Xen)
 *              object id: 192 bits (struct tmem_oid), e.g. an inode number
 *              page index: 32 bits, e.g. the page offset in the file
 *
 * Pools are persistent (a put may be refused, but an accepted page stays
 * until flushed: frontswap) or ephemeral (an accepted page may vanish at any
 * moment: cleancache), and private (one client) or shared (every client that
 * names the same 128-bit uuid sees the same pages).
 *
 * Semantics (tmem's rules, as Xen and Linux defined them; docs/core.md explains
 * each one):
 *  - A put copies the page; the caller's buffer is not referenced afterwards.
 *    Any put may be refused (-ENOSPC and friends): callers must cope.
 *  - Persistent: every accepted put is returned by every later get of the
 *    handle until flush_page/flush_object/destroy_pool, whatever happens to
 *    the capacity. Gets are non-destructive unless the pool was created with
 *    TMEM_POOL_EXCLUSIVE_GETS.
 *  - Ephemeral: a page may disappear at any time. A get to a private
 *    ephemeral pool is destructive (as if followed by flush_page); a get to a
 *    shared pool is not.
 *  - put-put-get: after put(h,D1), put(h,D2), a get never returns D1, even
 *    when the second put failed (the failed put removes the old copy).
 *  - get-get: once a get of h fails, later gets of h fail until a new put.
 *  - No ordering is guaranteed between threads acting on one handle at once.
 *
 * Errors: functions return 0 (or a pool id >= 0) on success and a negative
 * errno on failure:
 *   -EINVAL  bad argument, unknown or destroyed pool id
 *   -ENOENT  get/flush found nothing under that handle
 *   -ENOSPC  put refused: no room (or hysteresis, frozen client, cap; the
 *            statistics say which)
 *   -ENOMEM  allocation failure
 *
 * Thread safety: every function may be called from any number of threads at
 * once, with two exceptions stated at the functions themselves: the
 * destructors (tmem_destroy, tmem_client_destroy) must not race with other
 * calls on what they destroy.
 */
#ifndef TMEM_H
#define TMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tmem;        /* one store: the "hypervisor" */
struct tmem_client; /* one guest; pool ids are per client */

/* A 192-bit object id (Xen's struct tmem_oid). */
struct tmem_oid {
    uint64_t oid[3];
};

/* ------------------------------------------------------------ pool flags */
#define TMEM_POOL_PERSIST        0x1u /* persistent; without it: ephemeral */
#define TMEM_POOL_SHARED         0x2u /* shared by uuid; without it: private */
#define TMEM_POOL_EXCLUSIVE_GETS 0x4u /* private persistent only: a get also
                                        * flushes; with any other kind
                                        * tmem_new_pool() fails -EINVAL */
/*
 * As in the Xen ABI, bits 4..7 of the flags may carry (log2(page size) - 12);
 * zero means "the store's page size". Any other value must match the store's
 * page size, else tmem_new_pool() fails with -EINVAL.
 */
#define TMEM_POOL_PAGESIZE_SHIFT 4
#define TMEM_POOL_PAGESIZE_MASK  0xf0u

/* Capacity value meaning "no limit". */
#define TMEM_CAPACITY_UNLIMITED UINT64_MAX

/* Largest number of pools one client may hold open at once. */
#define TMEM_MAX_POOLS_PER_CLIENT 256

/* ----------------------------------------------------------- compression */
enum tmem_compressor {
    TMEM_COMPRESSOR_NONE = 0, /* pages stored as they came (or same-filled) */
    TMEM_COMPRESSOR_LZ4,      /* lz4 (liblz4), the default */
    TMEM_COMPRESSOR_ZSTD,     /* zstd (libzstd) at tmem_config.compress_level */
    TMEM_COMPRESSOR_LZO,      /* lzo1x-1 (liblzo2): the kernel's "lzo" */
};

/*
 * Parse a compressor as users write it: "lz4", "lzo", "zstd", "zstd:LEVEL"
 * (LEVEL 1..19) or "none" (also "off"). On success sets *out and *level
 * (0 when none was given) and returns 0; -EINVAL for anything else.
 */
int tmem_compressor_parse(const char *text, enum tmem_compressor *out, int *level);
/* "none", "lz4", "zstd" or "lzo" (NULL for a value outside the enum). */
const char *tmem_compressor_name(enum tmem_compressor c);

/* ----------------------------------------------------------- budget measure */
/*
 * What the store's budget (capacity_bytes, tmem_set_capacity) counts:
 *  - TMEM_BUDGET_ALLOCATOR (the default): everything the store allocated,
 *    page data and metadata, each at the allocator's size class
 *    (data_bytes + metadata_bytes of tmem_stats).
 *  - TMEM_BUDGET_ZSMALLOC: page data only, charged as zswap counts its
 *    pool (zswap_total_pages: the zsmalloc pool's pages): a compressed
 *    page at its length rounded up to zsmalloc's size-class step
 *    (TMEM_ZSMALLOC_CLASS_DELTA, 16 bytes at 4 KiB pages; at least
 *    TMEM_ZSMALLOC_MIN_ALLOC, 32), a raw page at the page size; records,
 *    index, dedup tables and slabs are not counted (zswap's entries live
 *    in a slab outside the pool), nor are same-filled and deduplicated
 *    pages, which hold no data of their own. docs/core.md says what
 *    zsmalloc fragmentation this leaves out.
 *  - TMEM_BUDGET_ZSPAGES: page data only, in whole zspages, as zswap's
 *    pool size really is (zs_get_total_pages): each RAW or COMPRESSED
 *    record's data (a dedup owner's once) is one object of len + 8 bytes
 *    (zsmalloc's handle) in a zspage of its size class (1 to
 *    zspage_max_pages pages, holding a fixed number of objects); an
 *    object goes to the fullest non-full zspage of its class, a freed one
 *    leaves a hole, a zspage is given back only when empty, and nothing
 *    compacts. The budget's use is the live zspages' pages times the
 *    page size. tmem_zspage_class_of and tmem_zspage_totals show the
 *    classes and zspages; docs/core.md has the rules.
 * Only the store's budget changes: tmem_stats's byte gauges and the
 * clients' caps keep the allocator's count either way.
 */
enum tmem_budget {
    TMEM_BUDGET_ALLOCATOR = 0,
    TMEM_BUDGET_ZSMALLOC,
    TMEM_BUDGET_ZSPAGES,
};
/* CONFIG_ZSMALLOC_CHAIN_SIZE: the longest zspage, in pages (Linux 6.3 on;
 * 4 before) */
#define TMEM_ZSPAGE_MAX_PAGES_DEFAULT 8u
#define TMEM_ZSPAGE_MAX_PAGES_LIMIT 16u
#define TMEM_ZSMALLOC_MIN_ALLOC 32u   /* ZS_MIN_ALLOC_SIZE */
/* ZS_SIZE_CLASS_DELTA: PAGE_SIZE >> CLASS_BITS (8), 16 bytes at 4 KiB */
#define TMEM_ZSMALLOC_CLASS_DELTA(page_size) ((page_size) >> 8)

/* ----------------------------------------------------------- configuration */
struct tmem_config {
    /* Budget in bytes: what `budget` counts (default: page data plus
     * metadata, see tmem_stats). Default: TMEM_CAPACITY_UNLIMITED.
     * Changeable later with tmem_set_capacity. */
    uint64_t capacity_bytes;
    /* What the budget counts (enum tmem_budget above; default
     * TMEM_BUDGET_ALLOCATOR). */
    enum tmem_budget budget;
    /* TMEM_BUDGET_ZSPAGES: the longest zspage in pages, 1 to
     * TMEM_ZSPAGE_MAX_PAGES_LIMIT; 0 means TMEM_ZSPAGE_MAX_PAGES_DEFAULT. */
    uint32_t zspage_max_pages;
    /* Page size in bytes: a power of two from 512 to 32768. Default 4096. */
    uint32_t page_size;
    /* How pages are compressed (zswap's `compressor` parameter): lz4
     * (default), zstd at compress_level, lzo, or none. */
    enum tmem_compressor compressor;
    /* zstd's level, 1..19 (0 = default, 3); ignored by lz4 and none. */
    int compress_level;
    /* A page whose compressed size exceeds this many bytes is stored raw.
     * 0 = default (3/4 of the page size). The page size itself: a page is
     * kept compressed whenever its compressed form is smaller than the
     * page (zswap since 6.16 stores the others as they are). */
    uint32_t compress_threshold;
    /* Share identical pages between handles (default true). */
    bool dedup;
    /* Store pages whose bytes are all one 64-bit word as the word alone
     * (default true). */
    bool same_filled;
    /* Hysteresis as zswap's accept threshold (default false): once a put is
     * refused for lack of room, refuse every put until usage falls below
     * accept_threshold_percent of the capacity. */
    bool hysteresis;
    uint32_t accept_threshold_percent; /* 1..100; 0 = the default, 90 */
    /* Ask the kernel for transparent huge pages for the store's memory
     * (madvise MADV_HUGEPAGE; default true): a growing store then takes one
     * page fault per 2 MiB instead of per 4 KiB. Best effort: where the
     * kernel has them off, or the allocator refuses the hooks, the store
     * works without; without jemalloc (sanitizer builds) it has no effect. */
    bool huge_pages;
    /* Time every put, get and flush into per-client latency histograms
     * (tmem_client_latency; default false: two clock reads per call). */
    bool latency_histograms;
    /* Allocation failure injection: a test-only switch, off by default
     * (struct tmem_fault below; docs/core.md, "Failure behaviour"). */
    struct tmem_fault {
        /* The fail_nth-th allocation of the store (1-based, counted from
         * tmem_create on) fails, once. 0: off. TMEM_FAULT_COUNT_ONLY:
         * count allocations, fail none (tmem_fault_counts). */
        uint64_t fail_nth;
        /* Or: each allocation fails with this probability (0: off; above
         * 1: tmem_create fails with EINVAL), drawn from a stream seeded
         * with seed, so runs repeat. Ignored when fail_nth is set. */
        double fail_probability;
        uint64_t seed;
    } fault;
};
#define TMEM_FAULT_COUNT_ONLY UINT64_MAX

/* Fill *cfg with the defaults described above. */
void tmem_config_init(struct tmem_config *cfg);

/* ------------------------------------------------------------ store, clients */

/*
 * Create a store. cfg NULL means defaults. Returns NULL (errno set to EINVAL
 * or ENOMEM) on a bad configuration or allocation failure.
 *
 * Fault injection: the environment variable TMEM_FAULT, read here once per
 * store, overrides cfg->fault: "off", "nth=N" or "p=P[,seed=S]"
 * (common/fault.h's grammar). A value outside the grammar makes
 * tmem_create fail with EINVAL after printing one line naming it to
 * stderr (the library's only message: a test switch mistyped must not
 * pass silently as "off").
 */
struct tmem *tmem_create(const struct tmem_config *cfg);

/*
 * What the allocation failure switch has seen: allocations of the store
 * counted while it was on (from tmem_create) and how many of them it
 * failed. Zeros when it is off. Returns 0, or -EINVAL for NULL arguments.
 * Thread-safe.
 */
struct tmem_fault_counts {
    uint64_t allocations;
    uint64_t injected;
};
int tmem_fault_counts(const struct tmem *tm, struct tmem_fault_counts *out);

/*
 * Free the store and everything in it (clients, pools, pages). No other call
 * on this store or its clients may be running or made afterwards.
 * tm may be NULL.
 */
void tmem_destroy(struct tmem *tm);

/*
 * Register a guest. name (copied; may be NULL) appears in statistics.
 * Returns NULL with errno ENOMEM on failure.
 */
struct tmem_client *tmem_client_create(struct tmem *tm, const char *name);

/*
 * Unregister a guest: destroys its pools (a shared pool lives on while other
 * clients hold it). No other call on this client may be running or made
 * afterwards. c may be NULL.
 */
void tmem_client_destroy(struct tmem_client *c);

/* The client's store. */
struct tmem *tmem_client_store(const struct tmem_client *c);

/*
 * Freeze (frozen = true) or thaw a client, as Xen's freeze/thaw: while
 * frozen every put fails with -ENOSPC (counted as failed_puts_frozen) and
 * still removes an older copy under the same handle; gets and flushes work.
 */
void tmem_client_set_frozen(struct tmem_client *c, bool frozen);

/*
 * Persistent pressure (frontswap shrink / zswap writeback). When the store
 * is over its capacity and no ephemeral page is left to evict, it asks the
 * clients that hold persistent pages to take some back: the callback is
 * called with the pool id and the number of bytes wanted, and should move
 * pages elsewhere (e.g. to a swap device) with tmem_get + tmem_flush_page.
 * It returns the number of pages it flushed (>= 0) or a negative errno.
 *
 * The callback runs in the thread that called tmem_set_capacity (or
 * tmem_reclaim), with no lock of the store held; it may call any function
 * of this API except destroying its client. The caller of tmem_set_capacity
 * must therefore not hold a lock that the callback takes.
 * fn NULL unregisters. Returns 0.
 */
typedef long (*tmem_pressure_fn)(void *arg, struct tmem_client *c, int pool_id,
                                 uint64_t bytes_wanted);
int tmem_client_set_pressure_callback(struct tmem_client *c, tmem_pressure_fn fn,
                                      void *arg);

/*
 * Hypervisor policy per client, as Xen's tmem `weight` and `cap`.
 *
 * Weight (1..10000, default 100): under pressure, ephemeral pages are
 * reclaimed first from the client whose ephemeral bytes divided by its
 * weight is largest (its least recently used page), so clients that keep
 * pressing settle at ephemeral holdings in the ratio of their weights.
 * Persistent pages are not part of the split (they are asked back through
 * the pressure callbacks). A shared ephemeral pool's pages count against
 * the client that created it, then, when it lets go of the pool, against
 * another client holding it.
 *
 * Cap (bytes, default TMEM_CAPACITY_UNLIMITED): the most the client may
 * hold in its private pools, ephemeral and persistent, counting for each
 * page its data (at the allocator's size class) and its 32-byte record:
 * data_bytes + 32 * pages of a client without shared pools (shared pools
 * are not capped). A put that would take it over first evicts the
 * client's own oldest ephemeral pages (of private pools); if that is not
 * enough the put is refused with -ENOSPC, counted as failed_puts_cap. As
 * for the store's capacity, the room is counted before the page a put
 * replaces goes. Lowering the cap below what the client holds evicts its
 * ephemeral pages at once; persistent pages above the cap stay until
 * flushed (never dropped).
 *
 * Both may be set at any time from any thread (a lowered cap's evictions
 * run in the caller's thread, before tmem_client_set_cap returns). Return
 * 0, or -EINVAL (weight out of range, NULL client).
 */
int tmem_client_set_weight(struct tmem_client *c, uint32_t weight);
int tmem_client_set_cap(struct tmem_client *c, uint64_t bytes);

/* ------------------------------------------------------------------ pools */

/*
 * Create a pool for client c. flags: TMEM_POOL_* bits. uuid: for a shared
 * pool, the 16-byte shared secret (must not be NULL); ignored for a private
 * pool. Joining an existing shared pool with different persistence flags
 * fails with -EINVAL.
 * Returns the pool id (>= 0) or -EINVAL (bad flags/uuid), -EMFILE (client
 * has TMEM_MAX_POOLS_PER_CLIENT pools), -ENOMEM.
 */
int tmem_new_pool(struct tmem_client *c, uint32_t flags, const uint8_t uuid[16]);

/*
 * Destroy the client's pool: every later operation on pool_id fails with
 * -EINVAL (until the id is reused by a new pool). The pages go when the last
 * client holding the pool destroys it. Returns 0 or -EINVAL.
 */
int tmem_destroy_pool(struct tmem_client *c, int pool_id);

/* ------------------------------------------------------- reading out pools */
/*
 * What save and live migration need (Xen's TMEMC_SAVE_GET_POOL_* and
 * TMEMC_SAVE_GET_NEXT_PAGE control ops): the client's open pools, and
 * every page of one of them. tmem_walk.c; docs/core.md, "Reading out a
 * client's pools".
 */
struct tmem_pool_info {
    int id;             /* the client's pool id */
    uint32_t flags;     /* TMEM_POOL_* as given to tmem_new_pool */
    uint8_t uuid[16];   /* shared pools: the uuid; private: zeros */
    uint32_t page_size; /* the store's page size in bytes */
    uint64_t pages;     /* pages the pool held when it was listed */
};

/*
 * Fill out[0 .. max) with the client's open pools in ascending id order.
 * Returns how many pools the client has open (which may exceed max: only
 * max were written; TMEM_MAX_POOLS_PER_CLIENT is always enough), or
 * -EINVAL (NULL c, or NULL out with max > 0). Thread-safe; a pool created
 * or destroyed meanwhile may or may not be listed.
 */
int tmem_client_pools(const struct tmem_client *c, struct tmem_pool_info *out, size_t max);

/* The name the client was created with ("" for none); valid as long as
 * the client. */
const char *tmem_client_name(const struct tmem_client *c);

/*
 * Called by tmem_pool_walk for each page: its handle, and its bytes
 * (page_size of them, decompressed; valid only during the call). A
 * non-zero return stops the walk, which returns it.
 */
typedef int (*tmem_walk_fn)(void *arg, const struct tmem_oid *oid, uint32_t index,
                            const void *page, size_t page_size);

/*
 * Call fn(arg, ...) for every page of the client's pool pool_id (any kind
 * of pool), in ascending order of (oid[0], oid[1], oid[2], index): the
 * walk first lists the pool's handles, one lock stripe at a time, sorts
 * them, then reads each page under its stripe lock and calls fn with no
 * lock of the store held. fn may therefore call any function of the
 * store, on any client and pool (put, get, flush this very pool, ...),
 * except destroying this pool or client.
 *
 * Consistency with calls running meanwhile: a page present under its
 * handle for the whole walk is passed to fn exactly once, with bytes that
 * were its bytes at some moment during the walk (read whole under the
 * stripe lock: never torn). A page put or flushed during the walk may or
 * may not be passed (at most once a handle). The walk is not a get: it
 * counts in no statistics, takes nothing from an exclusive-gets pool and
 * does not touch an ephemeral page's LRU position.
 *
 * Returns 0 when every page was passed, fn's non-zero return when fn
 * stopped it, -EINVAL (NULL c or fn, bad pool id, or the pool destroyed
 * during the walk), -ENOMEM (the walk's own working memory, taken with
 * malloc, not from the store's budget: 32 bytes a page), -EIO (a stored
 * page that does not decompress: a broken store).
 */
int tmem_pool_walk(struct tmem_client *c, int pool_id, tmem_walk_fn fn, void *arg);

/* ------------------------------------------------------------ page ops */

/*
 * Copy page_size bytes from page into the store under the handle.
 * Returns 0, or -ENOSPC (no room / hysteresis / frozen / cap), -ENOMEM, -EINVAL.
 * On any failure an older copy under the same handle is removed.
 * The store never keeps a reference to page.
 */
int tmem_put(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
             uint32_t index, const void *page);

/*
 * Copy the page stored under the handle into page (page_size bytes).
 * Returns 0, -ENOENT (nothing there: never stored, flushed, evicted, or
 * taken by an earlier destructive get), -EINVAL. On failure page is
 * untouched.
 */
int tmem_get(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
             uint32_t index, void *page);

/* Remove the page under the handle. Returns 0, -ENOENT, -EINVAL. */
int tmem_flush_page(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
                    uint32_t index);

/* Remove every page of the object. Returns 0 (pages were removed),
 * -ENOENT (the object held none), -EINVAL. */
int tmem_flush_object(struct tmem_client *c, int pool_id, const struct tmem_oid *oid);

/* ---------------------------------------------------------- capacity */

/*
 * Change the budget (bytes; TMEM_CAPACITY_UNLIMITED for none) at any time
 * from any thread. A smaller value evicts ephemeral pages at once, until
 * the store fits: each the least recently used page of the client whose
 * ephemeral bytes / weight is largest (see tmem_client_set_weight; with
 * one client, the store's least recently used page); if persistent pages
 * still keep it over, the pressure callbacks are asked for them (see
 * above). Persistent pages are never dropped by the store itself. Returns 0; the store may stay
 * over the new budget if clients do not give pages back (new puts are then
 * refused until it fits).
 */
int tmem_set_capacity(struct tmem *tm, uint64_t bytes);

/* The current budget in bytes. */
uint64_t tmem_capacity(const struct tmem *tm);

/*
 * What the budget counts now, in bytes (tmem_config.budget): with
 * TMEM_BUDGET_ALLOCATOR the store's data_bytes + metadata_bytes, with
 * TMEM_BUDGET_ZSMALLOC its page data at zsmalloc's classes, with
 * TMEM_BUDGET_ZSPAGES the pages of its live zspages. This is the
 * value puts are admitted against and eviction and pressure bring under
 * the capacity. Thread-safe; cheap (two atomic reads, no allocator call).
 */
uint64_t tmem_budget_used(const struct tmem *tm);

/* A zspage size class of a TMEM_BUDGET_ZSPAGES store. */
struct tmem_zspage_class_info {
    uint32_t size;             /* its object size (the largest size merged in) */
    uint32_t pages_per_zspage; /* pages of each of its zspages */
    uint32_t objs_per_zspage;  /* objects each zspage holds */
    uint64_t zspages;          /* live zspages now */
    uint64_t objects;          /* objects in them now */
};

/*
 * The class that len bytes of stored data (1 .. page size; a raw page is
 * the page size) go to, into *out; and, when inuse is not NULL, the used
 * objects of its zspages by slot (a slot's zspage number, reused after the
 * zspage is freed; 0 = free slot), at most max_inuse of them, with the
 * number of slots in *slots (may be NULL). 0, or -EINVAL (no zspage
 * budget, len out of range, NULL tm or out). Thread-safe.
 */
int tmem_zspage_class_of(struct tmem *tm, uint32_t len, struct tmem_zspage_class_info *out,
                         uint32_t *inuse, uint32_t max_inuse, uint32_t *slots);

/* The zspages of a TMEM_BUDGET_ZSPAGES store, summed over its classes. */
struct tmem_zspage_totals {
    uint32_t classes;           /* size classes after merging */
    uint64_t zspages;           /* live zspages */
    uint64_t pool_pages;        /* their pages: tmem_budget_used / page size */
    uint64_t objects;           /* objects (stored pages with data of their own) */
    uint64_t compactable_pages; /* pages zs_compact could give back at most:
                                   zspages beyond what the objects need if
                                   packed, times their pages (nothing compacts) */
};
/* 0, or -EINVAL (no zspage budget, or NULL). Thread-safe; a store in use
 * gives a snapshot class by class. */
int tmem_zspage_totals(struct tmem *tm, struct tmem_zspage_totals *out);

/*
 * Compact the zspages of a TMEM_BUDGET_ZSPAGES store as zsmalloc's
 * zs_compact would: in each class, objects move from the emptiest zspages
 * into the fullest until less than one zspage's worth of slots is free;
 * emptied zspages are freed (the budget's use falls). Nothing calls it by
 * itself (zswap never does; zsmalloc's own shrinker does not run under a
 * memory cgroup's limit). Waits for every call on the store to finish
 * and holds them off meanwhile (as tmem_check; so not from a pressure
 * callback or a tier op, nor with a client's call running in the same
 * thread). Returns the pages freed,
 * -EINVAL (no zspage budget, NULL) or -ENOMEM (its working memory).
 */
long tmem_zspage_compact(struct tmem *tm);

/*
 * Evict ephemeral pages and call pressure callbacks until the store fits its
 * budget, as tmem_set_capacity does. Returns the number of pages removed.
 */
long tmem_reclaim(struct tmem *tm);

/* The store's page size in bytes. */
uint32_t tmem_page_size(const struct tmem *tm);

/* ---------------------------------------------------------- statistics */

/*
 * Every field of struct tmem_stats, declared once, in the order of the
 * struct and of its rendering (tmem_stats_format): X(kind, ID, name, help).
 *   kind  COUNTER  an event counter: events since creation (of the store,
 *                  client or pool), kept by pools and clients
 *         PAGES    a gauge: pages of one kind held now, kept by every pool
 *         BYTES    a gauge: bytes held now, kept by every pool and by the
 *                  store itself
 *         SUM      computed by the statistics call from the others (the
 *                  identities below)
 *         STATE    read by the statistics call from the store, client or
 *                  pool itself
 *   ID    the upper-case name the core's own enums use (TMEM_PUT_FAIL_*
 *         below for the five reasons a put fails)
 *   name  the field of struct tmem_stats, and its name when rendered
 *   help  one line on what it counts (docs/core.md's table is made from
 *         these lists)
 * The list comes in three parts only because the middle one is also the
 * array failed_puts_reason[]: TMEM_STATS_FIELDS(X) is all of them.
 */
#define TMEM_STATS_PUT_FIELDS(X)                                                              \
    X(SUM, PUTS, puts, "put calls: succ_puts + failed_puts")                                 \
    X(COUNTER, SUCC_PUTS, succ_puts, "puts that stored their page")                          \
    X(SUM, FAILED_PUTS, failed_puts, "puts refused: the sum of the five failed_puts_* below")

/* Why a put failed, one counter each (also failed_puts_reason[TMEM_PUT_FAIL_<ID>]). */
#define TMEM_STATS_PUT_FAILURE_FIELDS(X)                                                      \
    X(COUNTER, FAIL_NO_ROOM, failed_puts_no_room,                                            \
      "puts refused: budget full and nothing ephemeral to evict")                            \
    X(COUNTER, FAIL_HYSTERESIS, failed_puts_hysteresis,                                      \
      "puts refused while usage is above the accept threshold (hysteresis)")                 \
    X(COUNTER, FAIL_FROZEN, failed_puts_frozen, "puts refused because the client is frozen") \
    X(COUNTER, FAIL_ALLOC, failed_puts_alloc, "puts refused because an allocation failed")   \
    X(COUNTER, FAIL_CAP, failed_puts_cap,                                                    \
      "puts refused because the client is at its cap and has no private ephemeral page to evict")

#define TMEM_STATS_OTHER_FIELDS(X)                                                            \
    X(COUNTER, DUP_REPLACED, dup_puts_replaced,                                              \
      "accepted puts that replaced an older copy under their handle")                        \
    X(COUNTER, DUP_FLUSHED, dup_puts_flushed,                                                \
      "refused puts that removed an older copy under their handle (also in pages_flushed)")  \
    X(SUM, GETS, gets, "get calls: succ_gets + failed_gets")                                 \
    X(COUNTER, SUCC_GETS, succ_gets, "gets that found the page")                             \
    X(COUNTER, FAILED_GETS, failed_gets, "gets that found nothing")                          \
    X(COUNTER, FLUSH_PAGES, flush_pages, "flush_page calls, found or not")                   \
    X(COUNTER, FLUSH_OBJECTS, flush_objects, "flush_object calls, found or not")             \
    X(COUNTER, PAGES_FLUSHED, pages_flushed, "pages removed by flushes and by refused puts") \
    X(COUNTER, PAGES_EVICTED, pages_evicted, "ephemeral pages the store dropped for room")   \
    X(COUNTER, PAGES_GOT_EXCLUSIVE, pages_got_exclusive, "pages removed by destructive gets") \
    X(COUNTER, PAGES_POOL_DESTROYED, pages_pool_destroyed,                                   \
      "pages removed with their pool (the last client holding it destroyed it)")             \
    X(COUNTER, PRESSURE_CALLS, pressure_calls, "persistent pressure callbacks called")       \
    X(COUNTER, PRESSURE_PAGES, pressure_pages, "pages the pressure callbacks said they flushed") \
    X(SUM, PAGES, pages, "handles holding a page now: the sum of the four pages_* kinds below") \
    X(PAGES, PAGES_RAW, pages_raw, "pages held as they came (page_size bytes of data)")     \
    X(PAGES, PAGES_COMPRESSED, pages_compressed,                                             \
      "pages held compressed (by the store's compressor: lz4, zstd or lzo)")                \
    X(PAGES, PAGES_SAME_FILLED, pages_same_filled,                                           \
      "pages whose bytes repeat one 64-bit word, held as that word")                         \
    X(PAGES, PAGES_DEDUPLICATED, pages_deduplicated,                                         \
      "pages sharing the data of an identical page another handle stored first")             \
    X(BYTES, DATA_BYTES, data_bytes, "allocator bytes held for page data")                  \
    X(BYTES, PAYLOAD_BYTES, compressed_payload_bytes,                                        \
      "bytes of the stored forms of the pages (compressed or raw) within data_bytes")        \
    X(BYTES, METADATA_BYTES, metadata_bytes, "allocator bytes of everything else")          \
    X(STATE, CAPACITY_BYTES, capacity_bytes, "store only: the budget (data + metadata bytes)") \
    X(STATE, ALLOCATOR_BYTES, allocator_bytes,                                               \
      "store only: jemalloc's own count of the store's arenas (0 without jemalloc)")         \
    X(STATE, POOLS, pools, "store: live pools; client: pools it holds; pool: 1")            \
    X(STATE, CLIENTS, clients, "store only: live clients")                                  \
    X(STATE, WEIGHT, weight, "client only: its weight (tmem_client_set_weight); 0 elsewhere") \
    X(STATE, CAP_BYTES, cap_bytes,                                                           \
      "client only: its cap in bytes (tmem_client_set_cap; written unlimited when none); 0 elsewhere") \
    X(STATE, ALLOC_FAILURES, alloc_failures,                                                 \
      "store only: allocations of the store that failed (real or injected); the puts among them are in failed_puts_alloc")

#define TMEM_STATS_FIELDS(X)                                                                  \
    TMEM_STATS_PUT_FIELDS(X) TMEM_STATS_PUT_FAILURE_FIELDS(X) TMEM_STATS_OTHER_FIELDS(X)

/* Why a put failed: TMEM_PUT_FAIL_NO_ROOM, _HYSTERESIS, _FROZEN, _ALLOC, _CAP. */
enum tmem_put_failure {
#define TMEM_PUT_FAILURE_ENUM_(kind, id, name, help) TMEM_PUT_##id,
    TMEM_STATS_PUT_FAILURE_FIELDS(TMEM_PUT_FAILURE_ENUM_)
#undef TMEM_PUT_FAILURE_ENUM_
    TMEM_PUT_FAIL_COUNT
};

/*
 * Statistics of the store, a client or a pool (fields: the lists above).
 * Event counters count since creation; gauges are current values.
 * Identities (checked by tests, and by tmem_check for the store and every
 * pool):
 *   puts        = succ_puts + failed_puts
 *   failed_puts = sum of failed_puts_reason[]
 *   gets        = succ_gets + failed_gets
 *   pages       = pages_raw + pages_compressed + pages_same_filled + pages_deduplicated
 *   succ_puts   = pages + dup_puts_replaced + pages_flushed + pages_evicted
 *                 + pages_got_exclusive + pages_pool_destroyed
 *   (dup_puts_flushed counts pages removed by failed puts; they are in
 *    pages_flushed too.)
 * The first four hold everywhere; the last holds for the store, for every
 * pool, and for a client that holds no shared pool (a client's gauges count
 * every page of the pools it holds, including pages other clients put into a
 * shared one, while its counters count only its own calls).
 * Store event counters = the sum over live clients + the totals of destroyed
 * clients + evictions from shared pools (which no client caused).
 * Gauges of a client = the sum over the pools it holds now.
 * Pages by kind: each handle counts in exactly one kind. A handle whose
 * content another handle already held counts as deduplicated; it stays
 * deduplicated when that first handle is later flushed (the data itself is
 * counted once in data_bytes either way).
 * Bytes: data_bytes + metadata_bytes is what the budget counts; for the
 * store it equals allocator_bytes (jemalloc's own count of the store's
 * arenas) exactly. A pool's metadata_bytes counts its records (32 bytes a
 * page) and index nodes; the store's also counts slab slack, dedup tables
 * and pool and client structures.
 */
struct tmem_stats {
#define TMEM_STATS_DECLARE_(kind, id, name, help) uint64_t name;
    TMEM_STATS_PUT_FIELDS(TMEM_STATS_DECLARE_)
    union {
        uint64_t failed_puts_reason[TMEM_PUT_FAIL_COUNT]; /* by enum tmem_put_failure */
        struct {
            TMEM_STATS_PUT_FAILURE_FIELDS(TMEM_STATS_DECLARE_)
        };
    };
    TMEM_STATS_OTHER_FIELDS(TMEM_STATS_DECLARE_)
#undef TMEM_STATS_DECLARE_
};

/*
 * Fill *out with the store's, client's or pool's statistics.
 * Returns 0, or -EINVAL for a NULL argument or an unknown pool id.
 * Thread-safe; taken while operations run, a snapshot is only
 * approximately consistent (each value is read once, atomically).
 */
int tmem_stats(const struct tmem *tm, struct tmem_stats *out);
int tmem_client_stats(const struct tmem_client *c, struct tmem_stats *out);
int tmem_pool_stats(const struct tmem_client *c, int pool_id, struct tmem_stats *out);

/*
 * Render *st into buf (NUL-terminated, truncated to size): every field of
 * TMEM_STATS_FIELDS in order, as "name value" lines (json = false) or as
 * one JSON object {"name": value, ...} (json = true). Returns the length
 * the whole rendering needs, as snprintf does (so buf may be NULL with
 * size 0 to measure), or -1 on a formatting error. Thread-safe.
 */
int tmem_stats_format(const struct tmem_stats *st, bool json, char *buf, size_t size);

/* ------------------------------------------------------------ latency */

struct histogram; /* common/histogram.h */

/* The timed operations; flush counts flush_page and flush_object. */
enum tmem_op { TMEM_OP_PUT, TMEM_OP_GET, TMEM_OP_FLUSH, TMEM_OP_COUNT };

/*
 * Copy the latency histogram (nanoseconds per call, every call whatever
 * its result) of operation op on the client's pools of one kind
 * (persistent true: persistent pools; false: ephemeral) into *out, for a
 * client or for the whole store (every client, destroyed ones included).
 * A call that names no pool (a bad or destroyed pool id, a NULL argument)
 * has no kind and is not counted. Empty unless the store was created with
 * latency_histograms. Returns 0, or -EINVAL (NULL argument, op out of
 * range). Thread-safe (a snapshot, each bucket read once).
 */
int tmem_client_latency(const struct tmem_client *c, enum tmem_op op, bool persistent,
                        struct histogram *out);
int tmem_latency(const struct tmem *tm, enum tmem_op op, bool persistent,
                 struct histogram *out);

/* ------------------------------------------------------------ tiers */
/*
 * A second tier behind the store (RAMster-style remote memory: the Redis
 * tier of src/remote/ implements it; docs/core.md, "Tiers", and
 * docs/remote.md). Only private pools use it, and only the kinds a client
 * enabled (tmem_client_set_tier). What the core does, always with no lock
 * of the store held (except for `evicted`, see there):
 *  - put: when the local store refuses the page for lack of room
 *    (no_room, hysteresis or the client's cap; not frozen, not an
 *    allocation failure), the put is offered to ops->put after the local
 *    older copy was removed; tmem_put returns 0 when the tier took it.
 *    When the local store accepts a page, ops->flush_page removes any
 *    remote copy under the handle (an overwrite must not leave an older
 *    remote page behind: put-put-get).
 *  - get: a get that misses locally asks ops->get (destructive as the
 *    pool's gets are: private ephemeral and exclusive-gets pools).
 *  - flush_page / flush_object: also ops->flush_page / ops->flush_object;
 *    the call returns 0 when either tier removed something.
 *  - destroy_pool (and tmem_client_destroy): ops->destroy_pool.
 *  - eviction of an ephemeral page of a tiered client: ops->evicted gets
 *    its bytes with the page's stripe lock held: it must copy them and
 *    return at once (no I/O, no lock but its own innermost one).
 * The local store's statistics (tmem_stats) keep counting the local store
 * only: a put the tier took counts as a failed put there (with its local
 * reason) and in tmem_tier_stats as a remote put; identities unchanged.
 * Ordering: a caller that orders its own calls on a handle (one thread a
 * handle, as the guests do) sees tmem's rules across both tiers; calls on
 * one handle from several threads at once are unordered, as in the store.
 */
struct tmem_tier_handle {
    void *client_arg;     /* what tmem_client_set_tier was given */
    uint64_t pool_serial; /* the pool's store-unique serial (never reused,
                           * unlike pool ids): names the pool remotely */
    int pool_id;
    uint32_t pool_flags;  /* TMEM_POOL_* */
    bool write_through;   /* persistent pools of a TMEM_TIER_WRITE_THROUGH
                           * client: the guest keeps its own copy */
    struct tmem_oid oid;  /* flush_object: the object; destroy_pool: zero */
    uint32_t index;       /* flush_page, put, get, evicted only */
};

struct tmem_tier_ops {
    /* Store the page (page_size bytes, copied). 0 when stored; a negative
     * errno when refused, and then no copy of the handle may remain in
     * the tier (put-put-get). A persistent page may only be accepted when
     * it is safe (tier's rule) or h->write_through. */
    int (*put)(void *arg, const struct tmem_tier_handle *h, const void *page);
    /* Copy the page into page: 0, or -ENOENT (any failure is a miss);
     * destructive: remove it as well. */
    int (*get)(void *arg, const struct tmem_tier_handle *h, void *page, bool destructive);
    /* Remove the page / every page of the object: 0 when something was
     * removed, -ENOENT otherwise. Must not let an older copy be read
     * later, even when the tier cannot reach its store now. */
    int (*flush_page)(void *arg, const struct tmem_tier_handle *h);
    int (*flush_object)(void *arg, const struct tmem_tier_handle *h);
    /* Remove every page of the pool (h->pool_serial). */
    void (*destroy_pool)(void *arg, const struct tmem_tier_handle *h);
    /* An ephemeral page the store evicted (page_size bytes, valid during
     * the call): copy it, never block (stripe lock held). May be NULL. */
    void (*evicted)(void *arg, const struct tmem_tier_handle *h, const void *page);
};

/*
 * Give the store a tier (ops copied; arg passed to every op). Call before
 * any client enables it (tmem_client_set_tier), with no other call on the
 * store running; ops NULL removes it (no client may have it enabled).
 * Returns 0, or -EINVAL (NULL tm, or an op other than evicted missing).
 */
int tmem_set_tier(struct tmem *tm, const struct tmem_tier_ops *ops, void *arg);

#define TMEM_TIER_EPHEMERAL     0x1u /* the client's private ephemeral pools */
#define TMEM_TIER_PERSISTENT    0x2u /* its private persistent pools */
#define TMEM_TIER_WRITE_THROUGH 0x4u /* its persistent pages are also on its
                                      * swap device (GCMA): h->write_through */
/*
 * Which of client c's private pools use the store's tier (TMEM_TIER_* bits;
 * 0: none, the default), and the client_arg the tier's ops see for them
 * (e.g. the tier's connection for this client). Set it before the client
 * makes its first call, or later with no call of this client running.
 * Returns 0, or -EINVAL (NULL c, unknown bits, or bits without a tier).
 */
int tmem_client_set_tier(struct tmem_client *c, unsigned kinds, void *client_arg);

/* What the core asked of the tier, per pool kind. */
struct tmem_tier_stats {
    uint64_t puts;          /* puts the local store refused, offered to the tier */
    uint64_t puts_accepted; /* of those, the tier took */
    uint64_t puts_refused;  /* of those, the tier refused too */
    uint64_t gets;          /* local misses asked of the tier */
    uint64_t hits;          /* of those, found there */
    uint64_t flushes;       /* flush_page / flush_object / overwrite removals sent */
    uint64_t evictions;     /* evicted ephemeral pages offered to the tier */
};
/* Fill *out for the store (every client, destroyed ones included) or one
 * client, pool kind persistent or ephemeral. 0 or -EINVAL. Thread-safe. */
int tmem_tier_stats(const struct tmem *tm, bool persistent, struct tmem_tier_stats *out);
int tmem_client_tier_stats(const struct tmem_client *c, bool persistent,
                           struct tmem_tier_stats *out);

/* ------------------------------------------------------------ checking */

/*
 * Verify the store's invariants: walk every client, pool, stripe, object,
 * radix tree, page record, the clients' LRUs of ephemeral pages and the
 * bytes they hold, the dedup tables and the record slabs, and compare
 * every gauge and reference count with what the walk finds (docs/core.md
 * lists the invariants). For tests and
 * debugging: it costs time proportional to everything the store holds,
 * during which every other call on the store waits.
 *
 * Returns 0 when every invariant holds; -EUCLEAN when one is broken, with
 * a one-line description of the FIRST broken one written to why
 * (NUL-terminated, truncated to whylen; why may be NULL when whylen is 0);
 * -ENOMEM when the checker could not allocate its own working memory (why
 * says so; the check stopped there); -EINVAL for a NULL tm.
 *
 * Thread safety: may be called from any thread at any time, also while
 * other threads make any other call on the store (except tmem_destroy):
 * it takes every lock of the store, waits for the calls in flight to
 * finish and holds new ones off until it is done, so it always sees a
 * store between calls. A pressure callback may call it. It allocates its
 * working memory with malloc, not from the store, and changes nothing
 * (with jemalloc it hands the store's cached free regions back to its
 * arenas, as tmem_stats does).
 */
int tmem_check(struct tmem *tm, char *why, size_t whylen);

#ifdef __cplusplus
}
#endif
#endif /* TMEM_H */
