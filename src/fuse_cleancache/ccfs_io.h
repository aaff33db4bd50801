/*
 * ccfs_io.h - the read/write path of tmemfs (what mm/filemap.c is to a
 * kernel filesystem): guest page cache first, then cleancache, then the
 * backing file; writes and truncates go to the backing file and invalidate
 * both caches.
 *
 * All functions are thread-safe. Page index = file offset / page size;
 * pages past index UINT32_MAX are never cached (as the seeds' shim refuses
 * an index that does not fit 32 bits).
 */
#ifndef CCFS_IO_H
#define CCFS_IO_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/tmem.h"
#include "fuse_cleancache/ccfs_cc.h"
#include "fuse_cleancache/ccfs_pcache.h"
#include "fuse_cleancache/ccfs_stats.h"

#define CCFS_SEQ_STRIPES 256

struct ccfs_io {
    pthread_mutex_t lock;       /* guards pc, cc's pool id, seq[] */
    struct ccfs_pcache *pc;     /* owned */
    struct ccfs_cc cc;
    struct ccfs_stats *stats;
    uint32_t page_size;
    /* Invalidation sequence per oid stripe: bumped by every invalidation,
     * so a read that raced with one does not insert what it read. */
    uint64_t seq[CCFS_SEQ_STRIPES];
    /* Ranges longer than this many pages invalidate the whole object in
     * cleancache (one flush_object instead of many flush_page). */
    uint32_t inode_threshold;
};

/*
 * Set up io over a guest cache pc (io takes ownership) and an initialised
 * cleancache instance cc (copied; may be disabled). Returns 0 or -errno.
 */
int ccfs_io_init(struct ccfs_io *io, struct ccfs_pcache *pc, const struct ccfs_cc *cc,
                 struct ccfs_stats *stats);
/* Destroy the guest cache and the lock; cleancache: invalidate_fs. */
void ccfs_io_destroy(struct ccfs_io *io);

/*
 * Read up to size bytes at off from the file oid whose backing descriptor
 * is fd and whose current size is file_size (the caller fstat'ed it).
 * Returns the bytes read (0 at or past EOF) or -errno.
 */
ssize_t ccfs_io_read(struct ccfs_io *io, const struct tmem_oid *oid, int fd,
                     uint64_t file_size, char *buf, size_t size, uint64_t off);

/*
 * Write buf to fd at off (append: fd has O_APPEND, the data lands at EOF
 * whatever off says), then invalidate the pages written in both caches.
 * Returns the bytes written or -errno.
 */
ssize_t ccfs_io_write(struct ccfs_io *io, const struct tmem_oid *oid, int fd,
                      const char *buf, size_t size, uint64_t off, int append);

/* ftruncate(fd, len), then invalidate every page from the one holding the
 * new EOF to the old EOF. Returns 0 or -errno. */
int ccfs_io_truncate(struct ccfs_io *io, const struct tmem_oid *oid, int fd, uint64_t len);

/* Invalidate pages covering [off, off + len) in both caches (len
 * UINT64_MAX: to the end of the file). For changes the caller made
 * itself (fallocate, copy_file_range, ...). */
void ccfs_io_invalidate_range(struct ccfs_io *io, const struct tmem_oid *oid, uint64_t off,
                              uint64_t len);

/* Invalidate every page of oid in both caches (invalidate_inode). */
void ccfs_io_invalidate_object(struct ccfs_io *io, const struct tmem_oid *oid);

/* Memory pressure: evict every guest page to cleancache. Returns the count. */
size_t ccfs_io_shrink_guest(struct ccfs_io *io);

/* Drop the whole cleancache pool (invalidate_fs) and start a fresh one. */
void ccfs_io_drop_cleancache(struct ccfs_io *io);

/* Fill the guest-cache and tmem fields of g. */
void ccfs_io_gauges(struct ccfs_io *io, struct ccfs_gauges *g);

#endif /* CCFS_IO_H */
