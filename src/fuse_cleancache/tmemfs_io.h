/*
 * tmemfs_io.h - the read/write path of tmemfs (what mm/filemap.c is to a
 * kernel filesystem): guest page cache first, then cleancache, then the
 * backing file; writes and truncates go to the backing file and invalidate
 * both caches.
 *
 * All functions are thread-safe. Page index = file offset / page size;
 * pages past index UINT32_MAX are never cached (as Linux's Xen tmem backend
 * refuses an index that does not fit tmem's 32-bit page index).
 *
 * An io is alone (a private pool, or cleancache off: its own lock) or a
 * member of a sharing group (tmemfs_group.h: mounts sharing one cleancache
 * pool). A member uses the group's one lock, and every invalidation
 * through it (write, truncate, invalidate_range, invalidate_object,
 * drop_cleancache) acts on every member: their guest caches and
 * invalidation sequences and the shared pool, atomically with respect to
 * every member's reads and evictions. Hence the staleness rule below
 * holds across the group: once a change through any member has returned,
 * no later read through any member returns data older than it.
 */
#ifndef TMEMFS_IO_H
#define TMEMFS_IO_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/fault.h"
#include "core/tmem.h"
#include "guest/device.h"
#include "fuse_cleancache/tmemfs_cleancache.h"
#include "fuse_cleancache/tmemfs_group.h"
#include "fuse_cleancache/tmemfs_page_cache.h"
#include "fuse_cleancache/tmemfs_record.h"
#include "fuse_cleancache/tmemfs_stats.h"

#define TMEMFS_SEQ_STRIPES 256

struct tmemfs_io {
    /* &own_lock, or the group lock (group->lock) of a sharing group.
     * Guards pc, cc's pool id and seq[] (of every member, in a group). */
    pthread_mutex_t *lock;
    pthread_mutex_t own_lock;
    struct tmemfs_group *group;   /* NULL: alone */
    struct tmemfs_io *gnext;      /* next member of group */
    struct tmemfs_page_cache *pc;     /* owned */
    struct tmemfs_cleancache cc;
    struct tmemfs_stats *stats;
    uint32_t page_size;
    /* Invalidation sequence per oid stripe: bumped by every invalidation,
     * so a read that raced with one does not insert what it read. */
    uint64_t seq[TMEMFS_SEQ_STRIPES];
    /* Ranges longer than this many pages invalidate the whole object in
     * cleancache (one flush_object instead of many flush_page). */
    uint32_t inode_threshold;
    /* The backing device model: every backing read and write is noted
     * (guest/device.h); profile prices a real delay per read when
     * delay is set (tmemfs_io_set_device). */
    struct guest_device device;
    struct guest_device_profile profile;
    enum tmemfs_io_delay { TMEMFS_DELAY_NONE, TMEMFS_DELAY_FIXED, TMEMFS_DELAY_DEVICE } delay;
    uint64_t delay_ns;            /* TMEMFS_DELAY_FIXED */
    /* -o record=PATH: the pages read and written, truncates (NULL: off;
     * set by tmemfs_fs_setup, owned by the mount). */
    struct tmemfs_record *record;
    /* Test switches (-o fault_backing_read / fault_backing_write; off
     * unless tmemfs_io_set_faults): the backing requests that fail with
     * EIO. An event is one backing read request (one source call) or one
     * backing write (one tmemfs_io_write). See tmemfs_io_set_faults. */
    struct fault read_fault;
    struct fault write_fault;
    /* ... and how they fail (tmemfs_io_set_fault_kinds): false: EIO;
     * true: short transfers the module must complete (not an error). */
    bool read_fault_short, write_fault_short;
};

/*
 * Set up io over a guest cache pc (io takes ownership) and an initialised
 * cleancache instance cc (copied; may be disabled). Returns 0 or -errno.
 * io must not move in memory until tmemfs_io_destroy.
 */
int tmemfs_io_init(struct tmemfs_io *io, struct tmemfs_page_cache *pc, const struct tmemfs_cleancache *cc,
                 struct tmemfs_stats *stats);
/*
 * The same, and join the sharing group g (NULL: alone, as tmemfs_io_init).
 * Every member of g must have cleancache instances on the same shared pool
 * (init_shared_fs with one uuid, on one store) and the same page size.
 * Must not run concurrently with any call on a member of g.
 */
int tmemfs_io_init_shared(struct tmemfs_io *io, struct tmemfs_page_cache *pc, const struct tmemfs_cleancache *cc,
                        struct tmemfs_stats *stats, struct tmemfs_group *g);
/* The device the backing files are on (profile, for the statistics) and
 * a real delay of each backing read: none, delay_ns, or what profile
 * says the read takes (as Linux's dm-delay). Before any read or write. */
void tmemfs_io_set_device(struct tmemfs_io *io, const struct guest_device_profile *profile,
                          enum tmemfs_io_delay delay, uint64_t delay_ns);

/*
 * Fault injection (common/fault.h; NULL leaves a switch off), before any
 * read or write. What an injected fault does:
 * - a backing read request fails with EIO after filling its buffer with
 *   junk (0xEE), so a read that cached what it "read" would show;
 * - a backing write writes the first half of its bytes (size / 2) to the
 *   file and then fails with EIO: a device that failed part way.
 * Either way (injected or real) the rules are the same: the caller gets
 * -EIO (the error), the failure is counted (backing_read_errors,
 * backing_write_errors), a read whose backing request failed caches
 * nothing, and a failed write invalidates the whole requested range in
 * both caches (whatever part of it may have changed).
 */
void tmemfs_io_set_faults(struct tmemfs_io *io, const struct fault_spec *read,
                          const struct fault_spec *write);

/*
 * How the switches set by tmemfs_io_set_faults fail (default: EIO, as
 * above; -o fault_backing_read=short:FAULT and fault_backing_write=
 * short:FAULT): with read_short / write_short a chosen request does not
 * fail but every pread (of a backing-file read: tmemfs_io_read's source)
 * or pwrite of it moves at most half of what is left (at least one byte):
 * short transfers, which the module completes by asking again, as the
 * kernel may return them at any time. The caller sees no difference:
 * the whole read or write is done, nothing is counted as an error. (A
 * custom source of tmemfs_io_read_from does its own I/O: a short read
 * switch leaves its requests alone.)
 */
void tmemfs_io_set_fault_kinds(struct tmemfs_io *io, bool read_short, bool write_short);

/* Leave the group (if any), destroy the guest cache and the lock;
 * cleancache: invalidate_fs (a shared pool lives on while other clients
 * hold it). Must not run concurrently with any call on io or, in a group,
 * on another member. */
void tmemfs_io_destroy(struct tmemfs_io *io);

/*
 * Read up to size bytes at off from the file oid whose backing descriptor
 * is fd and whose current size is file_size (the caller fstat'ed it).
 * direct_fd (-1: none) is the same file opened with O_DIRECT: the backing
 * reads then bypass the host's page cache (-o backing_direct), falling
 * back to fd where the alignment O_DIRECT needs cannot be met.
 * Returns the bytes read (0 at or past EOF) or -errno; on an error no page
 * of the request is inserted in either cache.
 */
ssize_t tmemfs_io_read(struct tmemfs_io *io, const struct tmem_oid *oid, int fd, int direct_fd,
                       uint64_t file_size, char *buf, size_t size, uint64_t off);

/*
 * Where the pages of a read that neither cache holds come from: fill buf
 * with len bytes of the file at off (the rest zeroed if the file ends
 * sooner); return the bytes that were in the file or -errno. Called
 * without any lock of io. tmemfs_io_read reads the backing file;
 * tmem-replay generates the pages (src/replay).
 */
typedef ssize_t (*tmemfs_io_source_fn)(void *arg, char *buf, size_t len, uint64_t off);

/*
 * tmemfs_io_read with the missing pages taken from source(source_arg, ...)
 * instead of a backing file: the same caches, counters, device model and
 * recording. Runs of consecutive missing pages are one source call (one
 * backing request). Returns the bytes read or -errno.
 */
ssize_t tmemfs_io_read_from(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t file_size,
                            char *buf, size_t size, uint64_t off, tmemfs_io_source_fn source,
                            void *source_arg);

/*
 * Write buf to fd at off (append: fd has O_APPEND, the data lands at EOF
 * whatever off says), then invalidate the pages written in both caches.
 * Returns the bytes written or -errno; a failed write invalidates every
 * page of the requested range (appending: from the EOF before the write
 * to the end of the file), since part of it may have changed.
 */
ssize_t tmemfs_io_write(struct tmemfs_io *io, const struct tmem_oid *oid, int fd,
                      const char *buf, size_t size, uint64_t off, int append);

/* What tmemfs_io_write does after its pwrite of bytes (> 0) at off:
 * invalidate those pages in both caches, note the write on the device,
 * record it, count it. For a replay, which has no backing file. */
void tmemfs_io_note_write(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t off,
                          uint64_t bytes);

/* ftruncate(fd, len), then invalidate every page from the one holding the
 * new EOF to the old EOF. Returns 0 or -errno. */
int tmemfs_io_truncate(struct tmemfs_io *io, const struct tmem_oid *oid, int fd, uint64_t len);
/* What tmemfs_io_truncate does after its ftruncate from old_size to
 * new_size bytes: invalidate and record. */
void tmemfs_io_note_truncate(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t old_size,
                             uint64_t new_size);

/* Invalidate pages covering [off, off + len) in both caches (len
 * UINT64_MAX: to the end of the file). For changes the caller made
 * itself (fallocate, copy_file_range, ...). */
void tmemfs_io_invalidate_range(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t off,
                              uint64_t len);

/* Invalidate every page of oid in both caches (invalidate_inode). */
void tmemfs_io_invalidate_object(struct tmemfs_io *io, const struct tmem_oid *oid);

/* Flush oid from cleancache only (invalidate_inode), guest caches left
 * alone: for pages of a shared pool that no object-table record covers
 * any more (tmemfs_object_table_destroy of a group member). */
void tmemfs_io_invalidate_cleancache_object(struct tmemfs_io *io, const struct tmem_oid *oid);

/* Memory pressure: evict every page of this io's guest cache to
 * cleancache (other members of a group are not touched). Returns the count. */
size_t tmemfs_io_shrink_guest(struct tmemfs_io *io);

/* Drop the whole cleancache pool (invalidate_fs) and start a fresh one.
 * In a group every member does so (the shared pool really goes away). */
void tmemfs_io_drop_cleancache(struct tmemfs_io *io);

/* Fill the guest-cache and tmem fields of g. */
void tmemfs_io_gauges(struct tmemfs_io *io, struct tmemfs_gauges *g);

#endif /* TMEMFS_IO_H */
