/*
 * tmemfs_page_cache.h - the guest page cache of tmemfs: a bounded set of clean
 * pages keyed by (file oid, page index), replaced by the guest kernel's
 * page replacement (src/guest/replace.h: CLOCK or LRU).
 *
 * Not thread-safe: the caller (tmemfs_io) serialises every call with its io
 * lock (a mount's own, or its sharing group's).
 * Page pointers returned stay valid until the next call that modifies the
 * cache.
 */
#ifndef TMEMFS_PAGE_CACHE_H
#define TMEMFS_PAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"
#include "guest/replace.h"


struct tmemfs_page_cache;

/* Called for each clean page leaving the cache by eviction (not by
 * invalidation), before its slot is reused: cleancache's put hook. */
typedef void (*tmemfs_evict_fn)(void *arg, const struct tmem_oid *oid, uint32_t index,
                              const void *page);

/* Create a cache of npages (>= 1) pages of page_size bytes. NULL (errno
 * EINVAL or ENOMEM) on failure. */
struct tmemfs_page_cache *tmemfs_page_cache_create(size_t npages, uint32_t page_size,
                                       enum guest_replace_policy policy);
/* Free the cache; pages are dropped without calling any hook. pc may be NULL. */
void tmemfs_page_cache_destroy(struct tmemfs_page_cache *pc);

/* Capacity and current number of pages. */
size_t tmemfs_page_cache_capacity(const struct tmemfs_page_cache *pc);
size_t tmemfs_page_cache_count(const struct tmemfs_page_cache *pc);
/* Page size in bytes. */
uint32_t tmemfs_page_cache_page_size(const struct tmemfs_page_cache *pc);

/* The page under (oid, index), counted as referenced by the replacement
 * policy; NULL if absent. */
const void *tmemfs_page_cache_lookup(struct tmemfs_page_cache *pc, const struct tmem_oid *oid,
                               uint32_t index);

/* Copy page into the cache under (oid, index), replacing any copy there.
 * When the cache is full one victim is evicted first: evict (if not NULL)
 * is called with it. Returns 1 if a page was evicted, else 0. */
int tmemfs_page_cache_insert(struct tmemfs_page_cache *pc, const struct tmem_oid *oid, uint32_t index,
                       const void *page, tmemfs_evict_fn evict, void *arg);

/* Drop the pages of oid with first <= index <= last (no hook called).
 * Returns the number dropped. */
size_t tmemfs_page_cache_invalidate_range(struct tmemfs_page_cache *pc, const struct tmem_oid *oid,
                                    uint32_t first, uint32_t last);
/* Drop every page of oid. Returns the number dropped. */
size_t tmemfs_page_cache_invalidate_object(struct tmemfs_page_cache *pc, const struct tmem_oid *oid);

/* Evict every page in replacement order, calling evict for each (memory
 * pressure: clean pages go to cleancache). Returns the number evicted. */
size_t tmemfs_page_cache_evict_all(struct tmemfs_page_cache *pc, tmemfs_evict_fn evict, void *arg);

/* Compare two oids. */
int tmemfs_oid_equal(const struct tmem_oid *a, const struct tmem_oid *b);
/* The oid's 64-bit hash (hash_mix64 over its three words): what every
 * table of tmemfs keyed by a file (page cache, object table, sequence
 * stripes) mixes. */
uint64_t tmemfs_oid_hash(const struct tmem_oid *oid);

#endif /* TMEMFS_PAGE_CACHE_H */
