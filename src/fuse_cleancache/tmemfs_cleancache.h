/*
 * tmemfs_cleancache.h - Linux's cleancache operations (init_fs,
 * init_shared_fs, get_page, put_page, invalidate_page, invalidate_inode,
 * invalidate_fs: what a kernel filesystem calls, mm/cleancache.c in Linux
 * 3.0-5.16) implemented on the tmem core, one instance per mounted
 * filesystem, mapped as Linux's Xen tmem backend mapped them.
 *
 * A disabled instance (cleancache=off, or init failed) has pool_id -1; every
 * call then does nothing and counts nothing, as in the kernel when no
 * cleancache backend is registered. Thread-safe as far as tmem is; tmemfs_io
 * nevertheless calls it under its lock (see tmemfs_io.c).
 */
#ifndef TMEMFS_CLEANCACHE_H
#define TMEMFS_CLEANCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_stats.h"

struct tmemfs_cleancache {
    struct tmem_client *client;
    int pool_id;              /* -1: disabled */
    uint32_t flags;           /* pool flags used at init */
    uint8_t uuid[16];         /* shared pool uuid (if TMEM_POOL_SHARED) */
    struct tmemfs_stats *stats;
};

/* Mark cc disabled (pool_id -1) with the stats sink st. Never fails. */
void tmemfs_cleancache_init_disabled(struct tmemfs_cleancache *cc, struct tmemfs_stats *st);

/* init_fs: create a private ephemeral pool of client c for pages of
 * pagesize bytes. Returns 0 or a negative errno (cc is then disabled). */
int tmemfs_cleancache_init_fs(struct tmemfs_cleancache *cc, struct tmem_client *c, size_t pagesize,
                    struct tmemfs_stats *st);

/* init_shared_fs: join (or create) the shared ephemeral pool named uuid.
 * Returns 0 or a negative errno (cc is then disabled). */
int tmemfs_cleancache_init_shared_fs(struct tmemfs_cleancache *cc, struct tmem_client *c, const uint8_t uuid[16],
                           size_t pagesize, struct tmemfs_stats *st);

/* get_page: copy the page under (oid, index) into page. Returns 0 on a hit
 * (succ_gets++), -1 on a miss (failed_gets++; page untouched). A private
 * pool's get is destructive: the page leaves cleancache. */
int tmemfs_cleancache_get_page(struct tmemfs_cleancache *cc, const struct tmem_oid *oid, uint32_t index,
                     void *page);

/* put_page: offer a clean page (puts++; failed_puts++ if refused). Any
 * older copy under the handle is gone afterwards either way. */
void tmemfs_cleancache_put_page(struct tmemfs_cleancache *cc, const struct tmem_oid *oid, uint32_t index,
                      const void *page);

/* invalidate_page: drop the page under (oid, index) (invalidates++). */
void tmemfs_cleancache_invalidate_page(struct tmemfs_cleancache *cc, const struct tmem_oid *oid, uint32_t index);

/* invalidate_inode: drop every page of oid (invalidate_inodes++). */
void tmemfs_cleancache_invalidate_inode(struct tmemfs_cleancache *cc, const struct tmem_oid *oid);

/* invalidate_fs: destroy the pool (invalidate_fs++); cc becomes disabled. */
void tmemfs_cleancache_invalidate_fs(struct tmemfs_cleancache *cc);

/* Re-create the pool after invalidate_fs with the flags/uuid of the first
 * init (used by the "drop cleancache" control). Returns 0 or -errno. */
int tmemfs_cleancache_reinit(struct tmemfs_cleancache *cc, struct tmem_client *c, size_t pagesize);

#endif /* TMEMFS_CLEANCACHE_H */
