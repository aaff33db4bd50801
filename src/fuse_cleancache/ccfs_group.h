/*
 * ccfs_group.h - a sharing group: the tmemfs mounts of one process that
 * share one cleancache pool (-o shared_uuid=..., init_shared_fs), and the
 * one lock that keeps them coherent.
 *
 * Why: with a shared pool, mount B may hold an old copy of a page in its
 * guest cache and put it into the pool after a write through mount A
 * flushed that page; A would then read the stale page back. Ocfs2, the
 * kernel's only user of shared cleancache, prevents this with cluster
 * locks that invalidate the other nodes' page caches. The group does the
 * same in process: every member's read/write path (ccfs_io) uses the
 * group's one io lock, and every invalidation through any member drops
 * the pages from every member's guest cache, bumps every member's
 * invalidation sequence and flushes the shared pool, all under that lock
 * (ccfs_io.c). The members' object tables cross-check each other's records
 * so an outside change seen by any member flushes the group (ccfs_obj.c).
 *
 * Membership: a ccfs_io joins at ccfs_io_init_shared and leaves at
 * ccfs_io_destroy; an object table joins at ccfs_objtab_create (when its
 * io is in a group) and leaves at ccfs_objtab_destroy. Joining and
 * leaving must not run concurrently with any other call on any member of
 * the group (tmemfs sets every mount up before the first FUSE loop starts
 * and tears them down after the last one ends); the member lists are
 * then read without a lock of their own (the io list is also only walked
 * under the group lock).
 *
 * Lock order of tmemfs: one ccfs_objtab lock (tables' locks are never
 * nested) -> the io lock (a private mount's own, or its group's) ->
 * tmem's internal locks.
 */
#ifndef CCFS_GROUP_H
#define CCFS_GROUP_H

#include <pthread.h>
#include <stddef.h>

struct ccfs_io;
struct ccfs_objtab;

struct ccfs_group {
    /* The group io lock: every member's io->lock points here. Guards
     * every member's guest cache, cleancache pool id and sequences. */
    pthread_mutex_t lock;
    struct ccfs_io *ios;        /* member read/write paths (io->gnext); ccfs_io.c */
    size_t nios;
    struct ccfs_objtab *tabs;   /* member object tables (t->gnext); ccfs_obj.c */
    size_t ntabs;
};

/* A new empty group. NULL with errno (ENOMEM, ...) on failure. */
struct ccfs_group *ccfs_group_create(void);

/* Free an empty group (every member has left). g may be NULL. */
void ccfs_group_destroy(struct ccfs_group *g);

#endif /* CCFS_GROUP_H */
