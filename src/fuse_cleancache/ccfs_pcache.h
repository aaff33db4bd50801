/*
 * ccfs_pcache.h - the guest page cache of tmemfs: a bounded set of clean
 * pages keyed by (file oid, page index), replaced by CLOCK or LRU.
 *
 * Not thread-safe: the caller (ccfs_io) serialises every call with its io
 * lock (a mount's own, or its sharing group's).
 * Page pointers returned stay valid until the next call that modifies the
 * cache.
 */
#ifndef CCFS_PCACHE_H
#define CCFS_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"

enum ccfs_policy { CCFS_POLICY_CLOCK, CCFS_POLICY_LRU };

struct ccfs_pcache;

/* Called for each clean page leaving the cache by eviction (not by
 * invalidation), before its slot is reused: cleancache's put hook. */
typedef void (*ccfs_evict_fn)(void *arg, const struct tmem_oid *oid, uint32_t index,
                              const void *page);

/* Create a cache of npages (>= 1) pages of page_size bytes. NULL (errno
 * EINVAL or ENOMEM) on failure. */
struct ccfs_pcache *ccfs_pcache_create(size_t npages, uint32_t page_size,
                                       enum ccfs_policy policy);
/* Free the cache; pages are dropped without calling any hook. pc may be NULL. */
void ccfs_pcache_destroy(struct ccfs_pcache *pc);

/* Capacity and current number of pages. */
size_t ccfs_pcache_capacity(const struct ccfs_pcache *pc);
size_t ccfs_pcache_count(const struct ccfs_pcache *pc);
/* Page size in bytes. */
uint32_t ccfs_pcache_page_size(const struct ccfs_pcache *pc);

/* The page under (oid, index), marked referenced (CLOCK) or made most
 * recent (LRU); NULL if absent. */
const void *ccfs_pcache_lookup(struct ccfs_pcache *pc, const struct tmem_oid *oid,
                               uint32_t index);

/* Copy page into the cache under (oid, index), replacing any copy there.
 * When the cache is full one victim is evicted first: evict (if not NULL)
 * is called with it. Returns 1 if a page was evicted, else 0. */
int ccfs_pcache_insert(struct ccfs_pcache *pc, const struct tmem_oid *oid, uint32_t index,
                       const void *page, ccfs_evict_fn evict, void *arg);

/* Drop the pages of oid with first <= index <= last (no hook called).
 * Returns the number dropped. */
size_t ccfs_pcache_invalidate_range(struct ccfs_pcache *pc, const struct tmem_oid *oid,
                                    uint32_t first, uint32_t last);
/* Drop every page of oid. Returns the number dropped. */
size_t ccfs_pcache_invalidate_object(struct ccfs_pcache *pc, const struct tmem_oid *oid);

/* Evict every page in replacement order, calling evict for each (memory
 * pressure: clean pages go to cleancache). Returns the number evicted. */
size_t ccfs_pcache_evict_all(struct ccfs_pcache *pc, ccfs_evict_fn evict, void *arg);

/* Compare two oids. */
int ccfs_oid_equal(const struct tmem_oid *a, const struct tmem_oid *b);

#endif /* CCFS_PCACHE_H */
