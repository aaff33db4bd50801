/*
 * tmemfs_object_table.h - file object ids and outside-change detection.
 *
 * A backing file's tmem object id is (st_dev, st_ino, generation), the
 * generation being the file's birth time in nanoseconds (statx btime; 0
 * where the backing filesystem does not report one). A file replaced by a
 * new one therefore gets a new oid even if the inode number is reused.
 *
 * The object table remembers, per oid with pages possibly cached, the
 * backing file's (size, mtime, ctime) as last seen. tmemfs_object_table_check()
 * (called on open, getattr and read) compares a fresh statx with it and
 * flushes the object from both caches on any difference: a change made
 * outside the mount. Changes made through the mount bracket themselves
 * with begin/end_modify so they are not mistaken for outside changes.
 *
 * Invariant: a file with pages in either cache has a record (records of
 * open files are pinned; evicting an unpinned record flushes its object
 * first). All functions are thread-safe.
 *
 * When io is in a sharing group (tmemfs_group.h), the table joins the group:
 * checks through any member compare against every member's record and a
 * change through one member is not an outside change for the others (see
 * tmemfs_object_table.c for the exact rules).
 */
#ifndef TMEMFS_OBJECT_TABLE_H
#define TMEMFS_OBJECT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_io.h"
#include "fuse_cleancache/tmemfs_stats.h"

/* The oid of the file stx describes (needs STATX_INO; uses STATX_BTIME). */
void tmemfs_oid_from_statx(const struct statx *stx, struct tmem_oid *oid);

/* statx(dirfd, path, AT_SYMLINK_NOFOLLOW | flags) asking for what tmemfs
 * needs (basic stats + btime). Returns 0 or -errno. */
int tmemfs_statx(int dirfd, const char *path, int flags, struct statx *stx);
/* Same for an open descriptor. */
int tmemfs_fstatx(int fd, struct statx *stx);
/* Convert to struct stat. */
void tmemfs_statx_to_stat(const struct statx *stx, struct stat *st);

struct tmemfs_object_table;

/* A table of at most max_records unpinned records (pinned ones may exceed
 * it) over io; it joins io's sharing group, if any (then this must not run
 * concurrently with any call on a table of the group). NULL with errno on
 * failure. */
struct tmemfs_object_table *tmemfs_object_table_create(size_t max_records, struct tmemfs_io *io,
                                       struct tmemfs_stats *stats);
/* Free the table (t may be NULL). In a group it leaves first, flushing
 * from the shared pool the objects no other member records; must not run
 * concurrently with any call on a table of the group. io must still be
 * set up. */
void tmemfs_object_table_destroy(struct tmemfs_object_table *t);

/*
 * Outside-change check for a regular file described by stx (fresh). If the
 * record exists, no change through the mount is in flight, and size, mtime
 * or ctime differ from the record: flush the object (outside_changes++).
 * The record is then created/updated with stx. pin: also take a pin (an
 * open handle; undo with tmemfs_object_table_unpin). In a group the idle records
 * other members hold for the file are compared (and updated) too, and a
 * difference in any of them flushes the object (outside_changes++ once,
 * in this table's counters). Returns 1 if the object was flushed, 0 if
 * not, -ENOMEM.
 */
int tmemfs_object_table_check(struct tmemfs_object_table *t, const struct statx *stx, bool pin);

/* Drop a pin taken by tmemfs_object_table_check(pin = true). */
void tmemfs_object_table_unpin(struct tmemfs_object_table *t, const struct tmem_oid *oid);

/* A change through the mount to the regular file described by before (a
 * fresh statx) begins: first the outside-change check is done on before
 * (so an earlier outside change is not absorbed), then checks skip the
 * object until the matching end. Returns 0 or -ENOMEM (then do not call
 * end). */
int tmemfs_object_table_begin_modify(struct tmemfs_object_table *t, const struct statx *before);
/* ... ends: the record takes after (the file's attributes after the
 * change); so do the idle records other members of a group hold for it.
 * With after NULL (attributes unknown) the object is flushed and the next
 * check adopts what it sees. */
void tmemfs_object_table_end_modify(struct tmemfs_object_table *t, const struct tmem_oid *oid,
                            const struct statx *after);

/* The file is gone (last link removed, or replaced): flush the object from
 * both caches and forget the record unless pinned. */
void tmemfs_object_table_forget(struct tmemfs_object_table *t, const struct tmem_oid *oid);

/* Number of records (for tests). */
size_t tmemfs_object_table_count(struct tmemfs_object_table *t);

#endif /* TMEMFS_OBJECT_TABLE_H */
