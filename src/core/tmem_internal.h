/*
 * tmem_internal.h - what the files of the tmem core share: the store, its
 * clients, pools, stripes, objects and page records, the statistics they
 * keep, and the calls each file offers the others. A type only one file
 * uses lives in that file; a type struct tmem embeds has a header of its
 * module's own (tmem_memory.h, tmem_slab.h, tmem_dedup.h), included here.
 *
 * Layout of a store (docs/core.md has the pictures and the file map):
 *
 *   struct tmem ............ capacity, byte gauges, the clients with LRUs,
 *   |                        allocator, page and object slabs, dedup table
 *   +- struct tmem_client .. a guest: table of pool pointers (per-client ids),
 *      |                     weight and cap, the bytes it holds, the LRU of
 *      |                     its ephemeral pages, latency histograms
 *      +- struct tmem_pool . 64 lock stripes; each stripe is a hash table of
 *         |                  objects (chained through object ids)
 *         +- object ........ 192-bit oid + a radix tree (64-way) of page ids
 *            +- page ....... 32-byte record in the page slab: the data
 *                            pointer (or fill word, or dedup owner), LRU
 *                            links, object id, index, dedup hash/refs,
 *                            kind and length
 *
 * Records are addressed by 32-bit ids (slab), which keeps per-page metadata
 * small: a page costs its 32-byte record, 4 bytes of radix leaf and 5 to 7
 * bytes of dedup table.
 *
 * Lock order (outermost first); never take an earlier lock while holding a
 * later one, except by trylock:
 *   0. tm->check_lock (rwlock) shared by the calls that change the store
 *                             without holding a client's lock (creating and
 *                             destroying clients, destroying pools, the
 *                             trims of tmem_set_capacity and tmem_reclaim);
 *                             exclusive by tmem_check only, which with it
 *                             and every client's lock sees a quiescent store
 *   1. tm->clients_lock       client list, shared-pool registry
 *   2. client->lock (rwlock)  the client's pool table; ops hold it shared
 *   3. stripe->lock           objects, radix trees and page records of the
 *                             stripe's objects (except the fields below)
 *   4. tm->lru_lock           every client's LRU (its ends and bytes), the
 *                             LRU links of every page, the list of clients
 *                             with an LRU, every pool's lru_owner
 *      a dedup shard's lock   refs of its owners, its table
 *                             (3 -> 4 only; lru and dedup never nest)
 *   5. a slab shard's lock    record allocation in that shard (tmem_slab.c)
 *   6. a tcache shard's lock  innermost: held around one jemalloc call
 *                             (tmem_memory.c); nothing is taken under it
 *      a zspage class's lock, innermost too (tmem_zspage.c, budget ZSPAGES):
 *      the zspage side table's   taken under a stripe lock (3) with nothing
 *      growth lock               else of 4-6 held, never both at once;
 *                                nothing is taken under them
 * The tier (tmem_tier.c) is called with none of these held, except its
 * `evicted` op, called by the evictor with the victim's stripe locked
 * (it only copies the page into the tier's own queue).
 * tm->reclaim_lock (one pressure round at a time) is only ever trylocked
 * and held with no other lock, while the pressure callbacks run.
 * The evictor holds lru_lock and only *trylocks* a stripe (the kernel's
 * list_lru walk does the same), so it never waits against the order. The
 * checker holds every client's lock at once (nobody else holds two), then
 * takes the others one at a time.
 * Statistics take no lock of their own: a pool's live in its stripes and
 * are written only under the stripe lock (tmem_add_owned, plain stores);
 * store-wide gauges and clients' counters are relaxed atomic adds. So are
 * a client's held bytes (its cap's measure), applied at stripe unlocks as
 * the store's bytes are, and its latency histograms. Weight and cap are
 * atomics, read by whoever needs them.
 */
#ifndef TMEM_INTERNAL_H
#define TMEM_INTERNAL_H

#include "common/fault.h"
#include "common/histogram.h"
#include "common/index_list.h"
#include "core/tmem.h"
#include "core/tmem_dedup.h"
#include "core/tmem_memory.h"
#include "core/tmem_slab.h"
#include "core/tmem_zspage.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define TMEM_STRIPES 64u /* lock stripes per pool (power of two) */

/* ------------------------------------------------------------ statistics */
/*
 * The store keeps the COUNTER, PAGES and BYTES fields of TMEM_STATS_FIELDS
 * (tmem.h), each an index into an array of atomics: the counters
 * TMEM_C_<ID>, the gauges (PAGES, then BYTES) TMEM_G_<ID>.
 * TMEM_IF_<KIND>_<kind>(...) keeps its arguments when the field's kind is
 * KIND and drops them otherwise, so that one walk of the list picks the
 * fields of one kind.
 */
#define TMEM_IF_COUNTER_COUNTER(...) __VA_ARGS__
#define TMEM_IF_COUNTER_PAGES(...)
#define TMEM_IF_COUNTER_BYTES(...)
#define TMEM_IF_COUNTER_SUM(...)
#define TMEM_IF_COUNTER_STATE(...)
#define TMEM_IF_PAGES_COUNTER(...)
#define TMEM_IF_PAGES_PAGES(...) __VA_ARGS__
#define TMEM_IF_PAGES_BYTES(...)
#define TMEM_IF_PAGES_SUM(...)
#define TMEM_IF_PAGES_STATE(...)
#define TMEM_IF_BYTES_COUNTER(...)
#define TMEM_IF_BYTES_PAGES(...)
#define TMEM_IF_BYTES_BYTES(...) __VA_ARGS__
#define TMEM_IF_BYTES_SUM(...)
#define TMEM_IF_BYTES_STATE(...)

enum tmem_counter {
#define TMEM_COUNTER_ENUM_(kind, id, name, help) TMEM_IF_COUNTER_##kind(TMEM_C_##id, )
    TMEM_STATS_FIELDS(TMEM_COUNTER_ENUM_)
#undef TMEM_COUNTER_ENUM_
    TMEM_C_COUNT
};

/* Gauges: current values, kept per pool (in its stripes) and, for the
 * BYTES ones, for the store. */
enum tmem_gauge {
#define TMEM_PAGES_ENUM_(kind, id, name, help) TMEM_IF_PAGES_##kind(TMEM_G_##id, )
#define TMEM_BYTES_ENUM_(kind, id, name, help) TMEM_IF_BYTES_##kind(TMEM_G_##id, )
    TMEM_STATS_FIELDS(TMEM_PAGES_ENUM_)
    TMEM_STATS_FIELDS(TMEM_BYTES_ENUM_)
#undef TMEM_PAGES_ENUM_
#undef TMEM_BYTES_ENUM_
    TMEM_G_COUNT
};

struct tmem_counters {
    _Atomic uint64_t c[TMEM_C_COUNT];
};

struct tmem_gauges {
    _Atomic uint64_t g[TMEM_G_COUNT];
};

static inline void tmem_count(struct tmem_counters *ctr, enum tmem_counter i, uint64_t n)
{
    if (ctr)
        atomic_fetch_add_explicit(&ctr->c[i], n, memory_order_relaxed);
}

static inline void tmem_gauge_add(struct tmem_gauges *g, enum tmem_gauge i, int64_t n)
{
    if (g)
        atomic_fetch_add_explicit(&g->g[i], (uint64_t)n, memory_order_relaxed);
}

static inline uint64_t tmem_load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/*
 * Add n to a value that only one thread at a time writes (a stripe's
 * statistics, written under the stripe lock): a plain load and store, no
 * locked instruction, still atomic so that readers without the lock see a
 * whole value. A put+get used to pay ~15 locked adds on shared counters.
 */
static inline void tmem_add_owned(_Atomic uint64_t *v, uint64_t n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* ------------------------------------------------------------ records */
enum tmem_page_kind {
    TMEM_KIND_FREE = 0,
    TMEM_KIND_RAW,        /* value = pointer to page_size bytes */
    TMEM_KIND_COMPRESSED, /* value = pointer to len bytes of the store's compressor */
    TMEM_KIND_SAME,       /* value = the 64-bit word the page repeats */
    TMEM_KIND_DEDUP,      /* value = id of the owner record holding the data */
};

/* The gauge that counts a handle's page of this kind (RAW .. DEDUP). */
static inline enum tmem_gauge tmem_page_kind_gauge(uint8_t kind)
{
    static const enum tmem_gauge gauge[] = {
        [TMEM_KIND_RAW] = TMEM_G_PAGES_RAW,
        [TMEM_KIND_COMPRESSED] = TMEM_G_PAGES_COMPRESSED,
        [TMEM_KIND_SAME] = TMEM_G_PAGES_SAME_FILLED,
        [TMEM_KIND_DEDUP] = TMEM_G_PAGES_DEDUPLICATED,
    };
    return gauge[kind];
}

/*
 * One handle's page (or a detached dedup owner). 32 bytes, 4-byte aligned;
 * the 64-bit value is kept as two halves and read through tmem_page_value(),
 * kind and stored length are packed in `shape` (tmem_page_kind,
 * tmem_page_stored_len). Fields are protected by the stripe lock of the
 * page's object, except lru (tm->lru_lock) and refs (dedup shard lock,
 * atomic).
 */
struct tmem_page {
    uint32_t value_lo, value_hi;
    struct index_list_links lru; /* page ids towards the LRU head / tail, 0 = none
                                    (tmem_lru.c; common/index_list.h) */
    uint32_t object;             /* object id; 0 = detached dedup owner */
    uint32_t index;
    uint32_t hash;               /* dedup: content hash of the stored bytes */
    _Atomic uint16_t refs;       /* dedup owners: records using the data, at most
                                    TMEM_DEDUP_MAX_REFS; 0 = not in the table.
                                    Changed under the dedup shard lock; read
                                    unlocked by the owner's own handle, whose
                                    reference keeps it >= 1 */
    uint16_t shape;              /* 0: unused record; 1..0x7fff: COMPRESSED of that
                                    many bytes; TMEM_SHAPE_KIND | kind: the others */
};
_Static_assert(sizeof(struct tmem_page) == 32, "page record must stay 32 bytes");

#define TMEM_SHAPE_KIND 0x8000u
#define TMEM_DEDUP_MAX_REFS UINT16_MAX /* a full owner is passed over: the next
                                          identical put becomes a new owner */

static inline uint8_t tmem_page_kind(const struct tmem_page *p)
{
    if (p->shape & TMEM_SHAPE_KIND)
        return (uint8_t)(p->shape & ~TMEM_SHAPE_KIND);
    return p->shape ? TMEM_KIND_COMPRESSED : TMEM_KIND_FREE;
}

/* Set kind and stored length (COMPRESSED: 1 .. 0x7fff bytes, less than any
 * page; RAW: the page size, implied; SAME, DEDUP: none). */
static inline void tmem_page_set_shape(struct tmem_page *p, uint8_t kind, uint32_t len)
{
    p->shape = kind == TMEM_KIND_COMPRESSED ? (uint16_t)len : (uint16_t)(TMEM_SHAPE_KIND | kind);
}

static inline uint64_t tmem_page_value(const struct tmem_page *p)
{
    return (uint64_t)p->value_lo | ((uint64_t)p->value_hi << 32);
}

static inline void tmem_page_set_value(struct tmem_page *p, uint64_t v)
{
    p->value_lo = (uint32_t)v;
    p->value_hi = (uint32_t)(v >> 32);
}

struct tmem_pool;
struct tmem_object {
    struct tmem_oid oid;
    void *root;              /* radix root: leaf (height 1) or node */
    struct tmem_pool *pool;
    uint32_t next;           /* hash chain within the stripe */
    uint32_t height;         /* 0 = empty */
};

/* ------------------------------------------------------------ tier counters */
/* The fields of struct tmem_tier_stats, in order (tmem_tier.c). */
enum tmem_tier_counter {
    TMEM_TIER_C_PUTS,
    TMEM_TIER_C_PUTS_ACCEPTED,
    TMEM_TIER_C_PUTS_REFUSED,
    TMEM_TIER_C_GETS,
    TMEM_TIER_C_HITS,
    TMEM_TIER_C_FLUSHES,
    TMEM_TIER_C_EVICTIONS,
    TMEM_TIER_C_COUNT
};

/* ------------------------------------------------------------ pools */
/*
 * A lock stripe of a pool: its objects, and the pool's statistics for the
 * events under this lock. Counters and gauges are written only with the
 * stripe lock held (tmem_add_owned: no locked instruction) and read
 * without it; a pool's statistics are the sum over its stripes. The store's
 * data and payload bytes that the events under the lock change are summed
 * in pending_* and applied at tmem_stripe_unlock, so that a put replacing a
 * page of the same size changes no store-wide value; so are the owning
 * client's held bytes (private pools). The lock and the index fields fill
 * the first cache line, so stripes do not share one.
 */
struct tmem_stripe {
    union {
        struct {
            pthread_mutex_t lock;
            uint32_t *buckets;     /* object ids, chained through object->next */
            uint32_t bucket_count; /* 0 or a power of two */
            uint32_t objects;
            _Atomic uint64_t *held; /* the owner's held bytes (private pools; set
                                       at creation), NULL for a shared pool */
        };
        char cache_line_pad[64];
    };
    int64_t pending_data_bytes;    /* store DATA bytes, not yet applied */
    int64_t pending_payload_bytes; /* store PAYLOAD bytes, not yet applied */
    int64_t pending_held_bytes;    /* the owner's held bytes, not yet applied */
    int64_t pending_budget_bytes;  /* store budget_data_bytes, not yet applied */
    struct tmem_counters counters;
    struct tmem_gauges gauges;
};

struct tmem_pool {
    struct tmem *tm;
    uint32_t flags;
    uint8_t uuid[16];
    struct tmem_client *owner;  /* private pools; NULL for shared */
    struct tmem_client *lru_owner; /* ephemeral pools: the client whose LRU
                                   holds its pages and whose weight they count
                                   against: the owner, or for a shared pool the
                                   client that created it, then another holder
                                   when that one lets go (tm->lru_lock) */
    int holders;                /* clients holding it (tm->clients_lock) */
    struct tmem_pool *next_shared; /* tm->shared_pools list (clients_lock) */
    int id;                     /* private pools: its id in the owner's table */
    uint64_t serial;            /* store-unique, never reused (the tier's name
                                   for the pool: tmem_tier_handle) */
    struct tmem_stripe stripes[TMEM_STRIPES]; /* also hold the pool's statistics */
};

static inline bool tmem_pool_is_persistent(const struct tmem_pool *p)
{
    return p->flags & TMEM_POOL_PERSIST;
}

/* Gets remove the page: private ephemeral pools, and exclusive-get pools. */
static inline bool tmem_pool_gets_are_exclusive(const struct tmem_pool *p)
{
    if (p->flags & TMEM_POOL_PERSIST)
        return p->flags & TMEM_POOL_EXCLUSIVE_GETS;
    return !(p->flags & TMEM_POOL_SHARED);
}

/* ------------------------------------------------------------ clients */
struct tmem_client {
    struct tmem *tm;
    char name[64];
    pthread_rwlock_t lock;
    struct tmem_pool *pools[TMEM_MAX_POOLS_PER_CLIENT];
    atomic_bool frozen;
    tmem_pressure_fn pressure_fn;   /* lock */
    void *pressure_arg;
    struct tmem_counters counters;  /* its calls on shared pools, pressure, and the
                                       totals of its destroyed private pools (a
                                       live private pool's events are counted in
                                       the pool's stripes only: tmem_count_event) */
    struct tmem_client *next;       /* tm->clients (clients_lock) */

    /* Hypervisor policy (tmem_client_set_weight, tmem_client_set_cap). */
    _Atomic uint32_t weight;        /* 1..TMEM_WEIGHT_MAX */
    _Atomic uint64_t cap;           /* bytes; TMEM_CAPACITY_UNLIMITED: none */
    _Atomic uint64_t held;          /* what the cap counts: data + record bytes
                                       (tmem_page_bytes) of every page of its
                                       private pools, changed at stripe unlocks */
    _Atomic uint64_t cap_reserved;  /* bytes promised to its puts in flight */

    /* Its LRU of ephemeral pages (tmem_lru.c; all under tm->lru_lock): the
     * pages of the ephemeral pools it is lru_owner of, head most, tail least
     * recently used, and their tmem_page_bytes (written under the lock,
     * read by anyone). */
    struct index_list lru;
    _Atomic uint64_t lru_bytes;
    struct tmem_client *lru_next;   /* tm->lru_clients */

    /* Latency histograms (tmem_latency.c): NULL unless cfg.latency_histograms,
     * else TMEM_OP_COUNT * 2 of them, [op * 2 + persistent]. Set at creation. */
    struct histogram *latency;

    /* The tier (tmem_tier.c): which private pools use it (TMEM_TIER_*,
     * read by anyone; set by tmem_client_set_tier with release order after
     * tier_arg), the tier's argument for this client, and its counters. */
    _Atomic unsigned tier_kinds;
    void *tier_arg;
    _Atomic uint64_t tier_counters[2][TMEM_TIER_C_COUNT]; /* [persistent][counter] */
};

#define TMEM_WEIGHT_DEFAULT 100u
#define TMEM_WEIGHT_MAX 10000u

/* ------------------------------------------------------------ the store */
struct tmem {
    struct tmem_config cfg;
    uint32_t page_shift;
    _Atomic uint64_t capacity;
    _Atomic uint64_t reserved;      /* bytes promised to puts in flight */
    atomic_bool full;               /* hysteresis latch */
    _Atomic uint64_t budget_data_bytes; /* cfg.budget ZSMALLOC: page data at
                                       zsmalloc's classes (tmem_memory_zsmalloc_size);
                                       ZSPAGES: the live zspages' bytes
                                       (tmem_zspage.c); 0 otherwise */
    struct tmem_zspages *zspages;   /* cfg.budget ZSPAGES: the zspage model
                                       (tmem_zspage.c); NULL otherwise */
    struct tmem_gauges gauges;      /* store-wide DATA, METADATA and PAYLOAD bytes
                                       (pages by kind: the sum over pools) */
    struct tmem_counters orphan_counters; /* events with no client: evictions in
                                        shared pools; destroyed clients' totals */
    _Atomic uint64_t clients_live, pools_live;
    struct tmem_memory mem;         /* the allocator (tmem_memory.c) */
    struct fault fault;             /* allocation failure injection (cfg.fault or
                                       TMEM_FAULT; tmem_memory_take consults it) */
    _Atomic uint64_t alloc_failures; /* allocations that failed, real or injected */

    pthread_rwlock_t check_lock;    /* see the lock order above */
    pthread_mutex_t clients_lock;
    struct tmem_client *clients;
    struct tmem_pool *shared_pools;
    pthread_mutex_t reclaim_lock;   /* one pressure round at a time */

    pthread_mutex_t lru_lock;
    struct tmem_client *lru_clients; /* every live client, each with its LRU of
                                       ephemeral pages (tmem_lru.c; lru_lock) */
    struct histogram *latency;      /* NULL, or the latency histograms of the
                                       destroyed clients ([op * 2 + persistent]) */

    /* The tier (tmem_tier.c): set before any client enables it. */
    bool has_tier;
    struct tmem_tier_ops tier;
    void *tier_arg;
    _Atomic uint64_t tier_counters[2][TMEM_TIER_C_COUNT]; /* every client's */
    _Atomic uint64_t pool_serials;  /* the last pool serial given */

    struct tmem_slab pages;
    struct tmem_slab objects;
    struct tmem_dedup_shard dedup[TMEM_DEDUP_SHARDS];
};

/* ------------------------------------------------------------ stripes */
static inline void tmem_stripe_lock(struct tmem_stripe *st)
{
    pthread_mutex_lock(&st->lock);
}

/* Apply the store-wide byte changes made under the lock, and the owner's
 * held bytes, then unlock. */
static inline void tmem_stripe_unlock(struct tmem *tm, struct tmem_stripe *st)
{
    if (st->pending_held_bytes) {
        atomic_fetch_add_explicit(st->held, (uint64_t)st->pending_held_bytes,
                                  memory_order_relaxed);
        st->pending_held_bytes = 0;
    }
    if (st->pending_data_bytes) {
        tmem_gauge_add(&tm->gauges, TMEM_G_DATA_BYTES, st->pending_data_bytes);
        st->pending_data_bytes = 0;
    }
    if (st->pending_payload_bytes) {
        tmem_gauge_add(&tm->gauges, TMEM_G_PAYLOAD_BYTES, st->pending_payload_bytes);
        st->pending_payload_bytes = 0;
    }
    if (st->pending_budget_bytes) {
        atomic_fetch_add_explicit(&tm->budget_data_bytes, (uint64_t)st->pending_budget_bytes,
                                  memory_order_relaxed);
        st->pending_budget_bytes = 0;
    }
    pthread_mutex_unlock(&st->lock);
}

/*
 * Count n events of counter i in pool, whose stripe st is locked, for
 * client c (NULL: no client, as an eviction). A private pool's events are
 * counted once, in the stripe: its owner's statistics add its pools'
 * stripes up. A shared pool's are also counted for the client that caused
 * them (atomically: several clients share the pool), or for the store's
 * orphan counters when none did.
 */
static inline void tmem_count_event(struct tmem *tm, struct tmem_pool *pool,
                                    struct tmem_stripe *st, struct tmem_client *c,
                                    enum tmem_counter i, uint64_t n)
{
    tmem_add_owned(&st->counters.c[i], n);
    if (!pool->owner)
        tmem_count(c ? &c->counters : &tm->orphan_counters, i, n);
}

/* Bytes of data a RAW or COMPRESSED record holds (0 for the others). */
static inline uint32_t tmem_page_stored_len(const struct tmem *tm, const struct tmem_page *p)
{
    switch (tmem_page_kind(p)) {
    case TMEM_KIND_RAW:
        return tm->cfg.page_size;
    case TMEM_KIND_COMPRESSED:
        return p->shape;
    default:
        return 0;
    }
}

/* What a handle's page weighs against its client's cap and weight: its
 * record and its own data at the allocator's size class (a deduplicated
 * page: the record; the data is its owner's). */
static inline uint64_t tmem_page_bytes(const struct tmem *tm, const struct tmem_page *p)
{
    uint32_t len = tmem_page_stored_len(tm, p);
    return sizeof(struct tmem_page) + (len ? tmem_memory_size_class(tm, len) : 0);
}

static inline struct tmem_page *tmem_page_record(const struct tmem *tm, uint32_t id)
{
    return (struct tmem_page *)tmem_slab_record(&tm->pages, id);
}

static inline struct tmem_object *tmem_object_record(const struct tmem *tm, uint32_t id)
{
    return (struct tmem_object *)tmem_slab_record(&tm->objects, id);
}

/* ------------------------------------------------------------ tmem_codec.c */
#define TMEM_CODEC_PROBE_SAMPLES 256u /* bytes the compressibility probe reads */
#define TMEM_CODEC_PROBE_POOR 140u    /* distinct values that mean "random" */
/* Does the page (size >= 256 bytes) look like data lz4 cannot shrink? */
bool tmem_codec_looks_incompressible(const void *page, uint32_t size);
/* Check cfg's compressor and level (a zstd level of 0 becomes the default,
 * 3). 0 or -EINVAL. */
int tmem_codec_config_check(struct tmem_config *cfg);
/* Compress the page (page_size bytes) with the store's compressor into
 * buffer, at most max bytes: the compressed length, or 0 when it would
 * not fit (or the store has no compressor, or it failed). Thread-safe. */
uint32_t tmem_codec_compress(const struct tmem *tm, const void *page, void *buffer,
                             uint32_t max);
/* Decompress len bytes made by tmem_codec_compress into page (page_size
 * bytes): 0, or -EIO when they do not make exactly one page. */
int tmem_codec_decompress(const struct tmem *tm, const void *data, uint32_t len, void *page);
bool tmem_codec_same_filled(const void *page, uint32_t size, uint64_t *word);
/* liblzo2 initialised (once per process): true when lzo can be used. */
bool tmem_codec_lzo_ready(void);
void tmem_codec_fill(void *page, uint32_t size, uint64_t word);
/* The dedup content hash of len stored bytes (XXH3, 32 bits of it). */
uint32_t tmem_codec_hash(const void *data, size_t len);

/* ------------------------------------------------------------ tmem_index.c */
uint32_t tmem_oid_hash(const struct tmem_oid *oid);
struct tmem_stripe *tmem_stripe_of(struct tmem_pool *pool, const struct tmem_oid *oid);
uint32_t tmem_index_find_object(struct tmem *tm, struct tmem_stripe *st,
                                struct tmem_pool *pool, const struct tmem_oid *oid);
uint32_t tmem_index_create_object(struct tmem *tm, struct tmem_stripe *st,
                                  struct tmem_pool *pool, const struct tmem_oid *oid);
void tmem_index_free_object_if_empty(struct tmem *tm, struct tmem_stripe *st,
                                     uint32_t object_id);
uint32_t tmem_index_lookup(const struct tmem_object *obj, uint32_t index);
/* Store page_id under index, and the id it replaces (0: none) in *old_id.
 * -ENOMEM when a tree node could not be allocated; then nothing changed,
 * and no page was under index (its path would have existed). */
int tmem_index_replace(struct tmem *tm, struct tmem_object *obj, uint32_t index,
                       uint32_t page_id, uint32_t *old_id);
uint32_t tmem_index_remove(struct tmem *tm, struct tmem_object *obj, uint32_t index);
/* Remove every page of the object, calling fn on each id (stripe locked). */
uint64_t tmem_index_remove_all(struct tmem *tm, struct tmem_object *obj,
                               void (*fn)(void *arg, uint32_t page_id), void *arg);
void tmem_index_stripe_fini(struct tmem *tm, struct tmem_stripe *st);
/*
 * The checker's part: verify stripe st of pool (locked): its bucket array
 * and chains (every object of this pool, in the bucket and stripe its oid
 * hashes to, counted in st->objects) and every object's radix tree,
 * calling page(arg, object_id, index, page_id) for every page id in the
 * trees (a nonzero return stops the walk and is returned). Adds the
 * stripe's objects to *objects and the bytes of its bucket array and tree
 * nodes to *index_bytes. 0, or -EUCLEAN with the first broken invariant
 * described in r.
 */
int tmem_index_check_stripe(struct tmem *tm, struct tmem_pool *pool, struct tmem_stripe *st,
                            struct tmem_check_report *r,
                            int (*page)(void *arg, uint32_t object_id, uint32_t index,
                                        uint32_t page_id),
                            void *arg, uint64_t *objects, uint64_t *index_bytes);

/* ------------------------------------------------------------ tmem_lru.c */
/* The lists' maintenance; the eviction policy is tmem_capacity.c's. Add,
 * touch and remove are called with the page's stripe lock held (stripe ->
 * lru order), for a page of the ephemeral pool `pool`; the page goes on
 * (or is on) the list of pool->lru_owner. */
void tmem_lru_add(struct tmem *tm, struct tmem_pool *pool, uint32_t page_id);   /* at the head */
void tmem_lru_touch(struct tmem *tm, struct tmem_pool *pool, uint32_t page_id); /* to the head */
void tmem_lru_remove(struct tmem *tm, struct tmem_pool *pool, uint32_t page_id); /* if on it */
/* A client's list: made empty at its creation, and its entry on
 * tm->lru_clients added / removed (removal: the list must be empty). */
void tmem_lru_client_add(struct tmem *tm, struct tmem_client *c);
void tmem_lru_client_remove(struct tmem *tm, struct tmem_client *c);
/* Make `to` the lru_owner of the ephemeral shared pool: its pages move from
 * the old owner's list to the tail (oldest end) of to's, in their order.
 * Costs a walk of the old owner's list. */
void tmem_lru_move_pool(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *to);

/* What a claim function says of a page the walk offers it. */
enum tmem_lru_claim {
    TMEM_LRU_TAKE, /* take it: its stripe is locked now */
    TMEM_LRU_BUSY, /* its stripe is busy: counts against the tries */
    TMEM_LRU_PASS, /* not one to take (e.g. of a shared pool): no try spent */
};
/*
 * Offer claim(arg, id) the pages of one client's list from the least
 * recently used on, with lru_lock held (so claim may only trylock), at
 * most `tries` busy ones; the first page claim takes is taken off the list
 * and returned, lru_lock released. The list is from's, or with from NULL
 * the list of the client whose lru_bytes / weight is largest (the victim
 * of store-wide pressure). 0 when none was taken: *empty then tells
 * whether no page was busy either (nothing there to take).
 */
uint32_t tmem_lru_take_oldest(struct tmem *tm, struct tmem_client *from, unsigned tries,
                              enum tmem_lru_claim (*claim)(void *arg, uint32_t page_id),
                              void *arg, bool *empty);
/* The checker's part, for client c's list: verify the links both ways and
 * the ends (lru_lock taken), calling visit(arg, id) on every page from the
 * head, at most limit of them (more: a broken list), and compare the bytes
 * of the pages with c->lru_bytes. Its count in *count. 0, -EUCLEAN (r),
 * or visit's nonzero return. */
int tmem_lru_check(struct tmem *tm, struct tmem_client *c, struct tmem_check_report *r,
                   uint64_t limit, int (*visit)(void *arg, uint32_t page_id), void *arg,
                   uint64_t *count);
/* Is id the head of some client's list (lru_lock held or the store still)? */
bool tmem_lru_is_some_head(const struct tmem *tm, uint32_t id);

/* ------------------------------------------------------------ tmem_page.c */
/*
 * Charge (sign 1) or uncharge (-1) the store for the data of a RAW or
 * COMPRESSED record of stored length len: DATA at the allocator's size
 * class, PAYLOAD at len. With st (locked) the change waits in the stripe's
 * pending sums until tmem_stripe_unlock; with NULL it is applied now.
 */
void tmem_charge_page_data(struct tmem *tm, struct tmem_stripe *st, uint32_t len, int sign);

/* Remove a page record that was just unlinked from its radix tree (stripe
 * st locked): off the LRU, its data released (dedup-aware), counted under
 * `why` (a TMEM_C_PAGES_* or TMEM_C_DUP_REPLACED counter) for the pool and
 * client c. */
void tmem_page_release(struct tmem *tm, struct tmem_pool *pool, struct tmem_stripe *st,
                       struct tmem_client *c, uint32_t page_id, enum tmem_counter why);

/* Free a record that is in no tree and no pool's gauges; a dedup owner's
 * data goes with the last reference. Any lock (or none) may be held; st is
 * the locked stripe whose pending sums take the data's uncharge, or NULL. */
void tmem_page_free_unlinked(struct tmem *tm, struct tmem_stripe *st, uint32_t page_id);
/* Drop a reference on a dedup owner, freeing it with the last one (st as
 * for tmem_page_free_unlinked). */
void tmem_page_drop_owner_ref(struct tmem *tm, struct tmem_stripe *st, uint32_t owner_id);

/* Add (sign 1) or remove (sign -1) a handle's page from its pool's gauges
 * in stripe st (locked): kind count, record bytes, and (owners) data and
 * payload bytes; and from the pool owner's held bytes (private pools),
 * applied at the unlock. */
void tmem_page_account(struct tmem *tm, struct tmem_stripe *st, const struct tmem_page *p,
                       int sign);

/* Copy the page's contents into buf (page_size bytes). 0 or -EIO. */
int tmem_page_read(struct tmem *tm, const struct tmem_page *p, void *buf);

/* ------------------------------------------------------------ tmem_capacity.c */
enum tmem_reserve_result {
    TMEM_RESERVED,
    TMEM_RESERVE_NO_ROOM,
    TMEM_RESERVE_HYSTERESIS,
    TMEM_RESERVE_CAP,
};
/* Reserve bytes for a put, evicting ephemeral pages (of the client whose
 * ephemeral bytes / weight is largest) while they do not fit. */
enum tmem_reserve_result tmem_reserve(struct tmem *tm, uint64_t bytes);
void tmem_unreserve(struct tmem *tm, uint64_t bytes);
/* Reserve bytes of client c's cap for a put into one of its private
 * pools, evicting c's own oldest ephemeral pages of private pools while
 * they do not fit: TMEM_RESERVED or TMEM_RESERVE_CAP. Without a cap it
 * reserves nothing (*reserved 0); else *reserved = bytes, to give back
 * with tmem_cap_unreserve. */
enum tmem_reserve_result tmem_cap_reserve(struct tmem *tm, struct tmem_client *c,
                                          uint64_t bytes, uint64_t *reserved);
void tmem_cap_unreserve(struct tmem_client *c, uint64_t reserved);
/* True when the capacity is unlimited now (then a put need not reserve);
 * clears the hysteresis latch, as tmem_reserve would. */
bool tmem_capacity_is_unlimited(struct tmem *tm);
/* Evict ephemeral pages while usage exceeds capacity; returns pages evicted. */
long tmem_trim(struct tmem *tm);

/* ------------------------------------------------------------ tmem_store.c */
/* The client's pool under pool_id, with c->lock held shared (release it with
 * tmem_client_unlock_pools), or NULL (nothing held) for a bad id. */
struct tmem_pool *tmem_client_lock_pool(struct tmem_client *c, int pool_id);
void tmem_client_unlock_pools(struct tmem_client *c);
/* Remove every page of the object (stripe st locked), counted under why
 * for pool and client c; frees the object. Returns the pages removed. */
uint64_t tmem_object_flush(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                           struct tmem_stripe *st, uint32_t object_id, enum tmem_counter why);

/* ------------------------------------------------------------ tmem_latency.c */
/* Allocate the store's totals / a client's histograms when
 * cfg.latency_histograms (0 or -ENOMEM); a client's fini adds them into
 * the store's totals and frees them; the store's fini frees its totals. */
int tmem_latency_store_init(struct tmem *tm);
void tmem_latency_store_fini(struct tmem *tm);
int tmem_latency_client_init(struct tmem *tm, struct tmem_client *c);
void tmem_latency_client_fini(struct tmem *tm, struct tmem_client *c);

/* Now in nanoseconds (CLOCK_MONOTONIC): the start of a timed call. */
static inline uint64_t tmem_latency_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Record a call of op on a pool of kind persistent (1) or ephemeral (0)
 * that started at start; a call that found no pool (persistent < 0) is not
 * recorded. c->latency is not NULL. */
static inline void tmem_latency_record(struct tmem_client *c, enum tmem_op op, int persistent,
                                       uint64_t start)
{
    if (persistent >= 0)
        histogram_record(&c->latency[op * 2 + persistent], tmem_latency_now() - start);
}

/* ------------------------------------------------------------ tmem_tier.c */
/* Does pool (client c's, c->lock held, or the stripe of one of its pages
 * locked) use the tier? If so fill *h with its pool part (oid zero,
 * index 0) and return true. */
bool tmem_tier_handle_of(struct tmem *tm, const struct tmem_pool *pool, int pool_id,
                         struct tmem_tier_handle *h);
/* Count n events of the tier for client c (NULL: store only). */
void tmem_tier_count(struct tmem *tm, struct tmem_client *c, bool persistent,
                     enum tmem_tier_counter i, uint64_t n);
/* Offer the evicted page p (stripe st of pool locked) to the tier's
 * evicted op, when the pool uses the tier. */
void tmem_tier_offer_evicted(struct tmem *tm, struct tmem_pool *pool,
                             const struct tmem_object *obj, const struct tmem_page *p);

/* ------------------------------------------------------------ tmem_stats.c */
/* Pages a pool holds now: the sum over its stripes. */
uint64_t tmem_pool_pages(const struct tmem_pool *pool);
/* The store's statistics, as tmem_stats, with clients_lock already held
 * (allocator_bytes left 0: the checker compares it itself). */
void tmem_stats_of_store_locked(struct tmem *tm, struct tmem_stats *out);

/* ------------------------------------------------------------ tmem_check.c */
/* Where a check function describes the first broken invariant. */
struct tmem_check_report {
    char *why;     /* may be NULL when len is 0 */
    size_t len;
    bool failed;   /* a description is there */
};
/* Write the description (printf format) to r, unless one is there already;
 * returns -EUCLEAN, for `return tmem_check_fail(r, ...)`. */
int tmem_check_fail(struct tmem_check_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TMEM_INTERNAL_H */
