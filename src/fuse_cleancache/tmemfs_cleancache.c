/*
 * tmemfs_cleancache.c - cleancache glue: Linux's Xen tmem backend for
 * cleancache (drivers/xen/tmem.c), from the cleancache ops to tmem, with
 * tmem_put/tmem_get/tmem_flush_* in place of hypercalls.
 *
 * Mapping (as in the Xen shim): init_fs -> tmem_new_pool(private,
 * ephemeral, page-size bits); init_shared_fs -> tmem_new_pool(SHARED, uuid);
 * get/put/invalidate_page -> tmem_get/put/flush_page on (pool, oid, index);
 * invalidate_inode -> tmem_flush_object; invalidate_fs -> tmem_destroy_pool.
 *
 * Data: struct tmemfs_cleancache (pool id, flags, uuid, stats sink). No lock of its
 * own; tmem is thread-safe. Counters are bumped atomically.
 */
#include "fuse_cleancache/tmemfs_cleancache.h"

#include <errno.h>
#include <string.h>

void tmemfs_cleancache_init_disabled(struct tmemfs_cleancache *cc, struct tmemfs_stats *st)
{
    memset(cc, 0, sizeof(*cc));
    cc->pool_id = -1;
    cc->stats = st;
}

/* Page-size bits of the new-pool flags, as the Xen backend computes them. */
static uint32_t tmemfs_pagesize_flags(size_t pagesize)
{
    uint32_t shift = 0;

    while (((size_t)1 << shift) < pagesize)
        shift++;
    if (shift < 12)
        return 0; /* below 4 KiB the ABI cannot say it: use the store's size */
    return ((shift - 12) << TMEM_POOL_PAGESIZE_SHIFT) & TMEM_POOL_PAGESIZE_MASK;
}

static int tmemfs_cleancache_new_pool(struct tmemfs_cleancache *cc, struct tmem_client *c, size_t pagesize)
{
    int id = tmem_new_pool(c, cc->flags | tmemfs_pagesize_flags(pagesize),
                           (cc->flags & TMEM_POOL_SHARED) ? cc->uuid : NULL);
    if (id < 0) {
        cc->pool_id = -1;
        return id;
    }
    cc->client = c;
    cc->pool_id = id;
    return 0;
}

int tmemfs_cleancache_init_fs(struct tmemfs_cleancache *cc, struct tmem_client *c, size_t pagesize,
                    struct tmemfs_stats *st)
{
    tmemfs_cleancache_init_disabled(cc, st);
    cc->flags = 0; /* ephemeral, private */
    return tmemfs_cleancache_new_pool(cc, c, pagesize);
}

int tmemfs_cleancache_init_shared_fs(struct tmemfs_cleancache *cc, struct tmem_client *c, const uint8_t uuid[16],
                           size_t pagesize, struct tmemfs_stats *st)
{
    tmemfs_cleancache_init_disabled(cc, st);
    if (!uuid)
        return -EINVAL;
    cc->flags = TMEM_POOL_SHARED;
    memcpy(cc->uuid, uuid, 16);
    return tmemfs_cleancache_new_pool(cc, c, pagesize);
}

int tmemfs_cleancache_reinit(struct tmemfs_cleancache *cc, struct tmem_client *c, size_t pagesize)
{
    if (cc->pool_id >= 0 || !cc->client)
        return 0; /* enabled already, or never was */
    return tmemfs_cleancache_new_pool(cc, c, pagesize);
}

int tmemfs_cleancache_get_page(struct tmemfs_cleancache *cc, const struct tmem_oid *oid, uint32_t index,
                     void *page)
{
    if (cc->pool_id < 0)
        return -1;
    if (tmem_get(cc->client, cc->pool_id, oid, index, page) == 0) {
        tmemfs_stats_add(cc->stats, TMEMFS_SUCC_GETS, 1);
        return 0;
    }
    tmemfs_stats_add(cc->stats, TMEMFS_FAILED_GETS, 1);
    return -1;
}

void tmemfs_cleancache_put_page(struct tmemfs_cleancache *cc, const struct tmem_oid *oid, uint32_t index,
                      const void *page)
{
    if (cc->pool_id < 0)
        return;
    tmemfs_stats_add(cc->stats, TMEMFS_PUTS, 1);
    if (tmem_put(cc->client, cc->pool_id, oid, index, page) != 0)
        tmemfs_stats_add(cc->stats, TMEMFS_FAILED_PUTS, 1);
}

void tmemfs_cleancache_invalidate_page(struct tmemfs_cleancache *cc, const struct tmem_oid *oid, uint32_t index)
{
    if (cc->pool_id < 0)
        return;
    tmemfs_stats_add(cc->stats, TMEMFS_INVALIDATES, 1);
    (void)tmem_flush_page(cc->client, cc->pool_id, oid, index);
}

void tmemfs_cleancache_invalidate_inode(struct tmemfs_cleancache *cc, const struct tmem_oid *oid)
{
    if (cc->pool_id < 0)
        return;
    tmemfs_stats_add(cc->stats, TMEMFS_INVALIDATE_INODES, 1);
    (void)tmem_flush_object(cc->client, cc->pool_id, oid);
}

void tmemfs_cleancache_invalidate_fs(struct tmemfs_cleancache *cc)
{
    if (cc->pool_id < 0)
        return;
    tmemfs_stats_add(cc->stats, TMEMFS_INVALIDATE_FS, 1);
    (void)tmem_destroy_pool(cc->client, cc->pool_id);
    cc->pool_id = -1;
}
