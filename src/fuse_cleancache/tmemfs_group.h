/*
 * tmemfs_group.h - a sharing group: the tmemfs mounts of one process that
 * share one cleancache pool (-o shared_uuid=..., init_shared_fs), and the
 * one lock that keeps them coherent.
 *
 * Why: with a shared pool, mount B may hold an old copy of a page in its
 * guest cache and put it into the pool after a write through mount A
 * flushed that page; A would then read the stale page back. Ocfs2, the
 * kernel's only user of shared cleancache, prevents this with cluster
 * locks that invalidate the other nodes' page caches. The group does the
 * same in process: every member's read/write path (tmemfs_io) uses the
 * group's one io lock, and every invalidation through any member drops
 * the pages from every member's guest cache, bumps every member's
 * invalidation sequence and flushes the shared pool, all under that lock
 * (tmemfs_io.c). The members' object tables cross-check each other's records
 * so an outside change seen by any member flushes the group (tmemfs_object_table.c).
 *
 * Membership: a tmemfs_io joins at tmemfs_io_init_shared and leaves at
 * tmemfs_io_destroy; an object table joins at tmemfs_object_table_create (when its
 * io is in a group) and leaves at tmemfs_object_table_destroy. Joining and
 * leaving must not run concurrently with any other call on any member of
 * the group (tmemfs sets every mount up before the first FUSE loop starts
 * and tears them down after the last one ends); the member lists are
 * then read without a lock of their own (the io list is also only walked
 * under the group lock).
 *
 * Lock order of tmemfs: one tmemfs_object_table lock (tables' locks are never
 * nested) -> the io lock (a private mount's own, or its group's) ->
 * tmem's internal locks.
 */
#ifndef TMEMFS_GROUP_H
#define TMEMFS_GROUP_H

#include <pthread.h>
#include <stddef.h>

struct tmemfs_io;
struct tmemfs_object_table;

struct tmemfs_group {
    /* The group io lock: every member's io->lock points here. Guards
     * every member's guest cache, cleancache pool id and sequences. */
    pthread_mutex_t lock;
    struct tmemfs_io *ios;        /* member read/write paths (io->gnext); tmemfs_io.c */
    size_t nios;
    struct tmemfs_object_table *tabs;   /* member object tables (t->gnext); tmemfs_object_table.c */
    size_t ntabs;
};

/* A new empty group. NULL with errno (ENOMEM, ...) on failure. */
struct tmemfs_group *tmemfs_group_create(void);

/* Free an empty group (every member has left). g may be NULL. */
void tmemfs_group_destroy(struct tmemfs_group *g);

#endif /* TMEMFS_GROUP_H */
