/*
 * tmem_internal.h - data structures shared by the files of the tmem core.
 *
 * Layout of a store (docs/core.md has the pictures):
 *
 *   struct tmem ............ capacity, usage counters, LRU of ephemeral pages,
 *   |                        page and object slabs, dedup table, clients
 *   +- struct tmem_client .. a guest: table of pool pointers (per-client ids)
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
 *   1. tm->clients_lock       client list, shared-pool registry
 *   2. client->lock (rwlock)  the client's pool table; ops hold it shared
 *   3. stripe->lock           objects, radix trees and page records of the
 *                             stripe's objects (except the fields below)
 *   4. tm->lru_lock           lru_prev/lru_next of every page, LRU ends
 *      tm->dedup shard lock   refs of dedup owners, the dedup table
 *                             (3 -> 4 only; lru and dedup never nest)
 *   5. slab->lock             record allocation
 *   6. tcaches[i].lock        innermost: held around one jemalloc call
 *                             (tmem_memory.c); nothing is taken under it
 * The evictor holds lru_lock and only *trylocks* a stripe (the kernel's
 * list_lru walk does the same), so it never waits against the order.
 * Statistics take no lock of their own: a pool's live in its stripes and
 * are written only under the stripe lock (tmem_add_owned, plain stores);
 * store-wide gauges and clients' counters are relaxed atomic adds.
 */
#ifndef TMEM_INTERNAL_H
#define TMEM_INTERNAL_H

#include "core/tmem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#if TMEM_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#define TMEM_STRIPES 64u         /* lock stripes per pool (power of two) */
#define TMEM_RADIX_BITS 6u
#define TMEM_RADIX_FANOUT (1u << TMEM_RADIX_BITS)
#define TMEM_RADIX_MAX_HEIGHT 6u /* 6 * 6 = 36 bits >= 32-bit index */
#define TMEM_DEDUP_SHARDS 16u
#define TMEM_MAX_PAGE_SIZE 32768u
#define TMEM_MIN_PAGE_SIZE 512u

/* ------------------------------------------------------------ counters */
enum tmem_counter {
    TMEM_C_SUCC_PUTS,
    TMEM_C_FAIL_NO_ROOM, /* keep the four failures in enum tmem_put_failure order */
    TMEM_C_FAIL_HYSTERESIS,
    TMEM_C_FAIL_FROZEN,
    TMEM_C_FAIL_ALLOC,
    TMEM_C_DUP_REPLACED,
    TMEM_C_DUP_FLUSHED,
    TMEM_C_FAILED_GETS,  /* puts and gets are not counted: they are the sums
                            of their successes and failures (tmem_stats.c) */
    TMEM_C_SUCC_GETS,
    TMEM_C_FLUSH_PAGES,
    TMEM_C_FLUSH_OBJECTS,
    TMEM_C_PAGES_FLUSHED,
    TMEM_C_PAGES_EVICTED,
    TMEM_C_PAGES_GOT_EXCLUSIVE,
    TMEM_C_PAGES_POOL_DESTROYED,
    TMEM_C_PRESSURE_CALLS,
    TMEM_C_PRESSURE_PAGES,
    TMEM_C_COUNT
};

/* Gauges: current values, kept per pool and for the store. */
enum tmem_gauge {
    TMEM_G_PAGES_RAW,
    TMEM_G_PAGES_COMPRESSED,
    TMEM_G_PAGES_SAME_FILLED,
    TMEM_G_PAGES_DEDUPLICATED,
    TMEM_G_DATA_BYTES,
    TMEM_G_PAYLOAD_BYTES,
    TMEM_G_METADATA_BYTES,
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

/* ------------------------------------------------------------ slab */
/* Fixed-size records addressed by 32-bit ids (0 = none); see tmem_slab.c.
 * TMEM_SHARDS shards, each with its own lock, chosen by the calling
 * thread's CPU; a record's shard is encoded in its id. */
#define TMEM_SHARDS 4u
struct tmem_slab_chunk;
struct tmem_slab_shard {
    pthread_mutex_t lock;
    struct tmem_slab_chunk *partial;  /* chunks with free records */
    atomic_bool has_free;             /* partial != NULL, readable unlocked */
    uint32_t chunks;                  /* chunk slots handed out so far */
    uint32_t free_slots_top;          /* stack of reusable chunk slots */
    uint32_t *free_slots;
    uint32_t free_slots_capacity;
    struct tmem_slab_chunk **directory[1024]; /* 2 levels of 1024 chunk pointers */
};

struct tmem_slab {
    struct tmem *tm;
    uint32_t record_size;
    uint32_t records_per_chunk;
    struct tmem_slab_shard shard[TMEM_SHARDS];
};

int tmem_slab_init(struct tmem_slab *s, struct tmem *tm, uint32_t record_size);
void tmem_slab_fini(struct tmem_slab *s);
uint32_t tmem_slab_alloc(struct tmem_slab *s);      /* zeroed record; 0 on ENOMEM */
void tmem_slab_free(struct tmem_slab *s, uint32_t id);
void *tmem_slab_record(const struct tmem_slab *s, uint32_t id);
size_t tmem_slab_growth_bytes(struct tmem_slab *s); /* bytes the next alloc may add */

/* The calling thread's shard (0..TMEM_SHARDS-1): its CPU modulo
 * TMEM_SHARDS (tmem_memory.c). */
unsigned tmem_thread_shard(void);

/* ------------------------------------------------------------ records */
enum tmem_page_kind {
    TMEM_KIND_FREE = 0,
    TMEM_KIND_RAW,        /* value = pointer to page_size bytes */
    TMEM_KIND_COMPRESSED, /* value = pointer to len bytes of lz4 */
    TMEM_KIND_SAME,       /* value = the 64-bit word the page repeats */
    TMEM_KIND_DEDUP,      /* value = id of the owner record holding the data */
};

/*
 * One handle's page (or a detached dedup owner). 32 bytes, 4-byte aligned;
 * the 64-bit value is kept as two halves and read through tmem_page_value(),
 * kind and stored length are packed in `shape` (tmem_page_kind,
 * tmem_page_stored_len). Fields are protected by the stripe lock of the
 * page's object, except lru_prev/lru_next (tm->lru_lock) and refs (dedup
 * shard lock, atomic).
 */
struct tmem_page {
    uint32_t value_lo, value_hi;
    uint32_t lru_prev, lru_next; /* page ids towards the LRU head / tail; a page is
                                    on the LRU iff lru_prev != 0 or it is the head */
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

/* ------------------------------------------------------------ pools */
/*
 * A lock stripe of a pool: its objects, and the pool's statistics for the
 * events under this lock. Counters and gauges are written only with the
 * stripe lock held (tmem_add_owned: no locked instruction) and read
 * without it; a pool's statistics are the sum over its stripes. The store's
 * data and payload bytes that the events under the lock change are summed
 * in pending_* and applied at tmem_stripe_unlock, so that a put replacing a
 * page of the same size changes no store-wide value. The lock and the index
 * fields fill the first cache line, so stripes do not share one.
 */
struct tmem_stripe {
    union {
        struct {
            pthread_mutex_t lock;
            uint32_t *buckets;     /* object ids, chained through object->next */
            uint32_t bucket_count; /* 0 or a power of two */
            uint32_t objects;
        };
        char cache_line_pad[64];
    };
    int64_t pending_data_bytes;    /* store DATA bytes, not yet applied */
    int64_t pending_payload_bytes; /* store PAYLOAD bytes, not yet applied */
    struct tmem_counters counters;
    struct tmem_gauges gauges;
};

struct tmem_pool {
    struct tmem *tm;
    uint32_t flags;
    uint8_t uuid[16];
    struct tmem_client *owner;  /* private pools; NULL for shared */
    int holders;                /* clients holding it (tm->clients_lock) */
    struct tmem_pool *next_shared; /* tm->shared_pools list (clients_lock) */
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
};

/* ------------------------------------------------------------ dedup */
struct tmem_dedup_shard {
    union {
        struct {
            pthread_mutex_t lock;
            uint32_t *slots;   /* open addressing, linear probing; owner page ids */
            uint32_t capacity; /* 0, or 64 grown by half at a time */
            uint32_t count;
        };
        char cache_line_pad[64];
    };
};

/* ------------------------------------------------------------ the store */
struct tmem {
    struct tmem_config cfg;
    uint32_t page_shift;
    uint16_t size_class_by_8[TMEM_MAX_PAGE_SIZE / 8 + 1]; /* allocator size of n bytes
                                       up to a page, at [(n + 7) / 8] (tmem_memory.c) */
    _Atomic uint64_t capacity;
    _Atomic uint64_t reserved;      /* bytes promised to puts in flight */
    atomic_bool full;               /* hysteresis latch */
    struct tmem_gauges gauges;      /* store-wide DATA, METADATA and PAYLOAD bytes
                                       (pages by kind: the sum over pools) */
    struct tmem_counters orphan_counters; /* events with no client: evictions in
                                        shared pools; destroyed clients' totals */
    _Atomic uint64_t clients_live, pools_live;

    unsigned arenas[TMEM_SHARDS];   /* jemalloc arenas, one per thread shard */
    bool have_arenas;
#if TMEM_USE_JEMALLOC
    struct tmem_huge_hooks {        /* the arenas' extent hooks with cfg.huge_pages
                                       (tmem_memory.c); they outlive the arenas */
        extent_hooks_t hooks;       /* first: a hooks pointer is one to this */
        extent_hooks_t *defaults;   /* jemalloc's, which these wrap */
    } huge_hooks;
#endif
    struct tmem_tcache_shard {      /* jemalloc explicit thread caches (tmem_memory.c) */
        union {
            struct {
                pthread_mutex_t lock; /* one user at a time, as jemalloc requires */
                unsigned id;
            };
            char pad[64];
        };
    } tcaches[TMEM_SHARDS];

    pthread_mutex_t clients_lock;
    struct tmem_client *clients;
    struct tmem_pool *shared_pools;
    pthread_mutex_t reclaim_lock;   /* one pressure round at a time */

    pthread_mutex_t lru_lock;
    uint32_t lru_head, lru_tail;    /* most / least recently used */

    struct tmem_slab pages;
    struct tmem_slab objects;
    struct tmem_dedup_shard dedup[TMEM_DEDUP_SHARDS];
};

/* ------------------------------------------------------------ stripes */
static inline void tmem_stripe_lock(struct tmem_stripe *st)
{
    pthread_mutex_lock(&st->lock);
}

/* Apply the store-wide byte changes made under the lock, then unlock. */
static inline void tmem_stripe_unlock(struct tmem *tm, struct tmem_stripe *st)
{
    if (st->pending_data_bytes) {
        tmem_gauge_add(&tm->gauges, TMEM_G_DATA_BYTES, st->pending_data_bytes);
        st->pending_data_bytes = 0;
    }
    if (st->pending_payload_bytes) {
        tmem_gauge_add(&tm->gauges, TMEM_G_PAYLOAD_BYTES, st->pending_payload_bytes);
        st->pending_payload_bytes = 0;
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

static inline struct tmem_page *tmem_page_record(const struct tmem *tm, uint32_t id)
{
    return (struct tmem_page *)tmem_slab_record(&tm->pages, id);
}

static inline struct tmem_object *tmem_object_record(const struct tmem *tm, uint32_t id)
{
    return (struct tmem_object *)tmem_slab_record(&tm->objects, id);
}

/* ------------------------------------------------------------ memory */
/* The store's allocator: dedicated jemalloc arenas (libc under sanitizers).
 * tmem_memory_alloc/zalloc/free are for metadata: every byte is charged to
 * the store's METADATA gauge at its allocator size class (and to
 * stripe_gauges, of a locked stripe, when not NULL). Page data is allocated
 * uncharged: the caller charges tmem_memory_size_class(len) for it
 * (tmem_charge_page_data). */
int tmem_memory_init(struct tmem *tm);
void tmem_memory_fini(struct tmem *tm);
void *tmem_memory_alloc(struct tmem *tm, size_t size, struct tmem_gauges *stripe_gauges);
void *tmem_memory_zalloc(struct tmem *tm, size_t size, struct tmem_gauges *stripe_gauges);
void tmem_memory_free(struct tmem *tm, void *p, struct tmem_gauges *stripe_gauges);
void *tmem_memory_alloc_data(struct tmem *tm, size_t len);      /* NULL on ENOMEM */
void tmem_memory_free_data(struct tmem *tm, void *p, size_t len); /* len as allocated */
size_t tmem_memory_size_class(const struct tmem *tm, size_t size);
uint64_t tmem_memory_allocator_bytes(struct tmem *tm);
uint64_t tmem_usage(const struct tmem *tm); /* data + metadata bytes */

/* ------------------------------------------------------------ codec */
bool tmem_codec_same_filled(const void *page, uint32_t size, uint64_t *word);
void tmem_codec_fill(void *page, uint32_t size, uint64_t word);
uint32_t tmem_codec_hash(const void *data, size_t len);

/* ------------------------------------------------------------ index */
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

/* ------------------------------------------------------------ dedup */
int tmem_dedup_init(struct tmem *tm);
void tmem_dedup_fini(struct tmem *tm);
/* Find an owner whose stored bytes equal (kind, bytes, len); take a ref. */
uint32_t tmem_dedup_find_and_ref(struct tmem *tm, uint32_t hash, uint8_t kind,
                                 const void *bytes, uint32_t len);
/* Enter a new owner (refs becomes 1). Returns 0 or -ENOMEM (then not shared). */
int tmem_dedup_insert(struct tmem *tm, uint32_t owner_id);
/* Drop one ref; true when it was the last (the owner left the table). */
bool tmem_dedup_release(struct tmem *tm, uint32_t owner_id);

/* ------------------------------------------------------------ LRU, eviction */
void tmem_lru_add(struct tmem *tm, uint32_t page_id);      /* at the head */
void tmem_lru_touch(struct tmem *tm, uint32_t page_id);    /* move to head */
void tmem_lru_remove(struct tmem *tm, uint32_t page_id);   /* if on it */
enum tmem_evict_result { TMEM_EVICTED, TMEM_EVICT_BUSY, TMEM_EVICT_EMPTY };
enum tmem_evict_result tmem_evict_one(struct tmem *tm);

/* ------------------------------------------------------------ pages */
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
 * payload bytes. */
void tmem_page_account(struct tmem *tm, struct tmem_stripe *st, const struct tmem_page *p,
                       int sign);

/* Copy the page's contents into buf (page_size bytes). 0 or -EIO. */
int tmem_page_read(struct tmem *tm, const struct tmem_page *p, void *buf);

/* ------------------------------------------------------------ capacity */
enum tmem_reserve_result { TMEM_RESERVED, TMEM_RESERVE_NO_ROOM, TMEM_RESERVE_HYSTERESIS };
enum tmem_reserve_result tmem_reserve(struct tmem *tm, uint64_t bytes);
void tmem_unreserve(struct tmem *tm, uint64_t bytes);
/* True when the capacity is unlimited now (then a put need not reserve);
 * clears the hysteresis latch, as tmem_reserve would. */
bool tmem_capacity_is_unlimited(struct tmem *tm);
/* Evict ephemeral pages while usage exceeds capacity; returns pages evicted. */
long tmem_trim(struct tmem *tm);

/* ------------------------------------------------------------ pools */
/* The client's pool under pool_id, with c->lock held shared (release it with
 * tmem_client_unlock_pools), or NULL (nothing held) for a bad id. */
struct tmem_pool *tmem_client_lock_pool(struct tmem_client *c, int pool_id);
void tmem_client_unlock_pools(struct tmem_client *c);
/* Remove every page of the object (stripe locked), counted under why for
 * pool and client c; frees the object. Returns the pages removed. */
/* Pages a pool holds now: the sum over its stripes (tmem_stats.c). */
uint64_t tmem_pool_pages(const struct tmem_pool *pool);
uint64_t tmem_object_flush(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                           struct tmem_stripe *st, uint32_t object_id, enum tmem_counter why);

#endif /* TMEM_INTERNAL_H */
