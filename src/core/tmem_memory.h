/*
 * tmem_memory.h - the store's allocator (tmem_memory.c): its state, which
 * struct tmem embeds, and what the other files of the core call.
 *
 * Metadata (tmem_memory_alloc, zalloc, free) is charged to the store's
 * METADATA gauge at the allocator's own size class, and to a pool's (those
 * of a locked stripe) when stripe_gauges is not NULL. Page data
 * (tmem_memory_alloc_data, free_data) is allocated uncharged: the caller
 * charges tmem_memory_size_class(len) for it (tmem_charge_page_data).
 *
 * Thread shards: a thread allocates from the shard it was given at its
 * first allocation, round robin (tmem_thread_shard); the record slabs
 * follow the same shards.
 *
 * Thread-safe: every function may be called from any thread (the caller
 * holds the stripe lock whose gauges it passes).
 */
#ifndef TMEM_MEMORY_H
#define TMEM_MEMORY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#if TMEM_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

struct tmem;
struct tmem_gauges;

#define TMEM_SHARDS 4u              /* thread shards: allocator arenas and slab shards */
#define TMEM_MAX_PAGE_SIZE 32768u   /* the largest page size a store may have */

/* The allocator's state in struct tmem (tm->mem); only tmem_memory.c
 * touches its fields. */
struct tmem_memory {
    uint16_t size_class_by_8[TMEM_MAX_PAGE_SIZE / 8 + 1]; /* allocator size of n
                                       bytes up to a page, at [(n + 7) / 8] */
    unsigned arenas[TMEM_SHARDS];   /* jemalloc arenas, one per thread shard */
    bool have_arenas;
#if TMEM_USE_JEMALLOC
    struct tmem_huge_hooks {        /* the arenas' extent hooks with cfg.huge_pages;
                                       they outlive the arenas */
        extent_hooks_t hooks;       /* first: a hooks pointer is one to this */
        extent_hooks_t *defaults;   /* jemalloc's, which these wrap */
    } huge_hooks;
#endif
    struct tmem_tcache_shard {      /* jemalloc explicit thread caches */
        union {
            struct {
                pthread_mutex_t lock; /* one user at a time, as jemalloc requires */
                unsigned id;
            };
            char pad[64];
        };
    } tcaches[TMEM_SHARDS];
};

/* The calling thread's shard (0..TMEM_SHARDS-1): given at its first call,
 * round robin over the threads of the process; the same for the thread's
 * life. */
unsigned tmem_thread_shard(void);

/* Set up / tear down tm->mem (tm->cfg set). init: 0 or -ENOMEM. */
int tmem_memory_init(struct tmem *tm);
void tmem_memory_fini(struct tmem *tm);

/* Metadata: size bytes (zalloc: zeroed), charged; NULL on ENOMEM. free: p may be NULL. */
void *tmem_memory_alloc(struct tmem *tm, size_t size, struct tmem_gauges *stripe_gauges);
void *tmem_memory_zalloc(struct tmem *tm, size_t size, struct tmem_gauges *stripe_gauges);
void tmem_memory_free(struct tmem *tm, void *p, struct tmem_gauges *stripe_gauges);

/* Page data, uncharged: len bytes (NULL on ENOMEM); free with the same len. */
void *tmem_memory_alloc_data(struct tmem *tm, size_t len);
void tmem_memory_free_data(struct tmem *tm, void *p, size_t len);

/* Bytes an allocation of size bytes takes: what a data allocation is charged. */
size_t tmem_memory_size_class(const struct tmem *tm, size_t size);

/* Bytes the live allocation p (from tmem_memory_alloc) takes: what it was
 * charged. 0 for NULL. */
size_t tmem_memory_usable_size(const struct tmem *tm, const void *p);

/* The store's arenas' own count of their allocated bytes (jemalloc's
 * statistics, after handing back the regions the caches hold); 0 without
 * jemalloc. */
uint64_t tmem_memory_allocator_bytes(struct tmem *tm);

/* What zsmalloc would take for len bytes of page data (the budget's charge
 * with TMEM_BUDGET_ZSMALLOC): a raw page (len >= page size) the page size,
 * else len rounded up to TMEM_ZSMALLOC_CLASS_DELTA, at least
 * TMEM_ZSMALLOC_MIN_ALLOC. */
size_t tmem_memory_zsmalloc_size(const struct tmem *tm, size_t len);

/* What the budget counts now (tmem_config.budget): the store's DATA +
 * METADATA bytes, its data at zsmalloc's classes, or its zspages' bytes. */
uint64_t tmem_usage(const struct tmem *tm);

#endif /* TMEM_MEMORY_H */
