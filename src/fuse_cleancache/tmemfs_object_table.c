/*
 * tmemfs_object_table.c - file oids and the object table (outside-change detection).
 *
 * Models: what the kernel gets for free and a FUSE daemon does not: knowing
 * that the file behind an inode changed. The record per oid holds the last
 * seen (size, mtime, ctime); a difference at open/getattr/read means the
 * backing file was changed outside the mount, and the object is flushed
 * from the guest cache and cleancache before any page of it is served.
 *
 * Data: a chained hash table (power-of-two buckets) of malloc'ed records,
 * plus a list in creation order used to find an eviction victim (the
 * oldest record with no pin and no modification in flight). Evicting a
 * record flushes its object, keeping the invariant "cached => recorded".
 *
 * Sharing groups (tmemfs_group.h): the tables of mounts that share a
 * cleancache pool each keep their own records (own pins, own in-flight
 * changes) but act as one table for change detection, since a page one
 * member put into the shared pool may be got by another:
 *  - a check (open/getattr/read) through any member compares the fresh
 *    statx with the record of every member that has one, and any
 *    difference flushes the object from the whole group (tmemfs_io
 *    invalidations are group-wide) and updates that record; so an outside
 *    change is caught even by a member that never saw the file before;
 *  - begin_modify does the same check with the "before" attributes, and
 *    end_modify gives every member's idle record the "after" attributes
 *    (the change was invalidated group-wide), so a change through one
 *    member is not an outside change for the others;
 *  - while a change to the file through any member is in flight, checks
 *    through every member skip it (as one table skips a file with a
 *    change through its own mount in flight);
 *  - a table leaving the group flushes from the shared pool every object
 *    it records that no other member records (those pool pages would no
 *    longer be covered by any record).
 * Group invariant: a page in any member's guest cache has a record in
 * that member; a page in the shared pool has a record in some member.
 *
 * Locking: t->lock (mutex) guards the table and records. It may be held
 * while calling into tmemfs_io (which takes the io lock): lock order is
 * objtab lock -> io lock. Tables' locks are never nested: the peers of a
 * group are visited one at a time, with no table lock held in between.
 * Nothing here is called with an io lock held. The group's list of tables
 * changes only at create/destroy, which must not run concurrently with
 * any call on a table of the group (see tmemfs_group.h).
 */
#include "fuse_cleancache/tmemfs_object_table.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

void tmemfs_oid_from_statx(const struct statx *stx, struct tmem_oid *oid)
{
    oid->oid[0] = makedev(stx->stx_dev_major, stx->stx_dev_minor);
    oid->oid[1] = stx->stx_ino;
    oid->oid[2] = 0;
    if (stx->stx_mask & STATX_BTIME)
        oid->oid[2] = (uint64_t)stx->stx_btime.tv_sec * 1000000000ULL +
                      stx->stx_btime.tv_nsec;
}

#define TMEMFS_STATX_MASK (STATX_BASIC_STATS | STATX_BTIME)

int tmemfs_statx(int dirfd, const char *path, int flags, struct statx *stx)
{
    if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW | flags, TMEMFS_STATX_MASK, stx) < 0)
        return -errno;
    return 0;
}

int tmemfs_fstatx(int fd, struct statx *stx)
{
    return tmemfs_statx(fd, "", AT_EMPTY_PATH, stx);
}

void tmemfs_statx_to_stat(const struct statx *stx, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
    st->st_ino = stx->stx_ino;
    st->st_mode = stx->stx_mode;
    st->st_nlink = stx->stx_nlink;
    st->st_uid = stx->stx_uid;
    st->st_gid = stx->stx_gid;
    st->st_rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor);
    st->st_size = (off_t)stx->stx_size;
    st->st_blksize = stx->stx_blksize;
    st->st_blocks = (blkcnt_t)stx->stx_blocks;
    st->st_atim.tv_sec = stx->stx_atime.tv_sec;
    st->st_atim.tv_nsec = stx->stx_atime.tv_nsec;
    st->st_mtim.tv_sec = stx->stx_mtime.tv_sec;
    st->st_mtim.tv_nsec = stx->stx_mtime.tv_nsec;
    st->st_ctim.tv_sec = stx->stx_ctime.tv_sec;
    st->st_ctim.tv_nsec = stx->stx_ctime.tv_nsec;
}

struct tmemfs_snap {
    uint64_t size;
    int64_t mtime_sec, ctime_sec;
    uint32_t mtime_nsec, ctime_nsec;
};

struct tmemfs_rec {
    struct tmem_oid oid;
    struct tmemfs_snap snap;
    bool has_snap;
    unsigned pins;     /* open handles */
    unsigned writers;  /* changes through the mount in flight */
    struct tmemfs_rec *hnext;
    struct tmemfs_rec *prev, *next; /* creation order */
};

struct tmemfs_object_table {
    pthread_mutex_t lock;
    struct tmemfs_rec **buckets;
    size_t nbuckets;
    size_t count, max;
    struct tmemfs_rec *oldest, *newest;
    struct tmemfs_io *io;
    struct tmemfs_stats *stats;
    struct tmemfs_group *group;   /* io's sharing group, NULL if alone */
    struct tmemfs_object_table *gnext;  /* next table of the group */
};

static void tmemfs_snap_of(const struct statx *stx, struct tmemfs_snap *s)
{
    s->size = stx->stx_size;
    s->mtime_sec = stx->stx_mtime.tv_sec;
    s->mtime_nsec = stx->stx_mtime.tv_nsec;
    s->ctime_sec = stx->stx_ctime.tv_sec;
    s->ctime_nsec = stx->stx_ctime.tv_nsec;
}

static bool tmemfs_snap_equal(const struct tmemfs_snap *a, const struct tmemfs_snap *b)
{
    return a->size == b->size && a->mtime_sec == b->mtime_sec &&
           a->mtime_nsec == b->mtime_nsec && a->ctime_sec == b->ctime_sec &&
           a->ctime_nsec == b->ctime_nsec;
}

static size_t tmemfs_object_bucket(const struct tmemfs_object_table *t, const struct tmem_oid *oid)
{
    return (size_t)(tmemfs_oid_hash(oid) & (t->nbuckets - 1));
}

struct tmemfs_object_table *tmemfs_object_table_create(size_t max_records, struct tmemfs_io *io,
                                       struct tmemfs_stats *stats)
{
    struct tmemfs_object_table *t;

    if (max_records == 0) {
        errno = EINVAL;
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->nbuckets = 1024;
    while (t->nbuckets < max_records && t->nbuckets < ((size_t)1 << 24))
        t->nbuckets <<= 1;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (!t->buckets || pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->buckets);
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    t->max = max_records;
    t->io = io;
    t->stats = stats;
    t->group = io->group;
    if (t->group) {
        t->gnext = t->group->tabs;
        t->group->tabs = t;
        t->group->ntabs++;
    }
    return t;
}

static struct tmemfs_rec *tmemfs_object_find(struct tmemfs_object_table *t, const struct tmem_oid *oid);

/* Does another table of t's group record oid? */
static bool tmemfs_object_peer_has(struct tmemfs_object_table *t, const struct tmem_oid *oid)
{
    struct tmemfs_object_table *p;
    bool has = false;

    for (p = t->group ? t->group->tabs : NULL; p && !has; p = p->gnext) {
        if (p == t)
            continue;
        pthread_mutex_lock(&p->lock);
        has = tmemfs_object_find(p, oid) != NULL;
        pthread_mutex_unlock(&p->lock);
    }
    return has;
}

void tmemfs_object_table_destroy(struct tmemfs_object_table *t)
{
    struct tmemfs_rec *r, *n;

    if (!t)
        return;
    if (t->group) {
        struct tmemfs_object_table **pp = &t->group->tabs;
        while (*pp && *pp != t)
            pp = &(*pp)->gnext;
        if (*pp) {
            *pp = t->gnext;
            t->group->ntabs--;
        }
        /* Pool pages of objects only this table recorded would be covered
         * by no record any more: flush them from the shared pool. */
        for (r = t->oldest; r && t->group->tabs; r = r->next)
            if (!tmemfs_object_peer_has(t, &r->oid))
                tmemfs_io_invalidate_cleancache_object(t->io, &r->oid);
        t->group = NULL;
    }
    for (r = t->oldest; r; r = n) {
        n = r->next;
        free(r);
    }
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct tmemfs_rec *tmemfs_object_find(struct tmemfs_object_table *t, const struct tmem_oid *oid)
{
    struct tmemfs_rec *r = t->buckets[tmemfs_object_bucket(t, oid)];

    while (r && !tmemfs_oid_equal(&r->oid, oid))
        r = r->hnext;
    return r;
}

static void tmemfs_object_unlink(struct tmemfs_object_table *t, struct tmemfs_rec *r)
{
    struct tmemfs_rec **pp = &t->buckets[tmemfs_object_bucket(t, &r->oid)];

    while (*pp != r)
        pp = &(*pp)->hnext;
    *pp = r->hnext;
    if (r->prev)
        r->prev->next = r->next;
    else
        t->oldest = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        t->newest = r->prev;
    t->count--;
    free(r);
}

/* Evict the oldest idle record when over the limit (flushing its object). */
static void tmemfs_object_trim(struct tmemfs_object_table *t)
{
    struct tmemfs_rec *r = t->oldest;

    while (t->count > t->max && r) {
        struct tmemfs_rec *n = r->next;
        if (r->pins == 0 && r->writers == 0) {
            tmemfs_io_invalidate_object(t->io, &r->oid);
            tmemfs_object_unlink(t, r);
        }
        r = n;
    }
}

/* Find or create (under t->lock). */
static struct tmemfs_rec *tmemfs_object_get(struct tmemfs_object_table *t, const struct tmem_oid *oid)
{
    struct tmemfs_rec *r = tmemfs_object_find(t, oid);
    size_t b;

    if (r)
        return r;
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->oid = *oid;
    b = tmemfs_object_bucket(t, oid);
    r->hnext = t->buckets[b];
    t->buckets[b] = r;
    r->prev = t->newest;
    if (t->newest)
        t->newest->next = r;
    else
        t->oldest = r;
    t->newest = r;
    t->count++;
    return r;
}

/*
 * The check of tmemfs_object_table_check on record r (under t->lock): true if r
 * is idle and its attributes differ from stx; the object is then flushed
 * (from the whole group) unless *flushed says an earlier step of the same
 * check did it, and *flushed is set. r takes stx either way.
 */
static bool tmemfs_object_check_locked(struct tmemfs_object_table *t, struct tmemfs_rec *r,
                                  const struct statx *stx, bool *flushed)
{
    struct tmemfs_snap now;
    bool differs;

    if (r->writers != 0)
        return false;
    tmemfs_snap_of(stx, &now);
    differs = r->has_snap && !tmemfs_snap_equal(&r->snap, &now);
    if (differs && !*flushed) {
        tmemfs_io_invalidate_object(t->io, &r->oid);
        *flushed = true;
    }
    r->snap = now;
    r->has_snap = true;
    return differs;
}

/*
 * Visit the record every other table of t's group holds for oid (tables
 * without one are skipped; none is created), each under its own table's
 * lock, one at a time (table locks never nest). The visit returns true to
 * stop the walk; so does tmemfs_object_for_each_peer_record.
 */
typedef bool tmemfs_peer_visit(struct tmemfs_object_table *p, struct tmemfs_rec *r, void *arg);

static bool tmemfs_object_for_each_peer_record(struct tmemfs_object_table *t, const struct tmem_oid *oid,
                                          tmemfs_peer_visit *visit, void *arg)
{
    struct tmemfs_object_table *p;
    struct tmemfs_rec *r;
    bool stop = false;

    for (p = t->group ? t->group->tabs : NULL; p && !stop; p = p->gnext) {
        if (p == t)
            continue;
        pthread_mutex_lock(&p->lock);
        r = tmemfs_object_find(p, oid);
        stop = r && visit(p, r, arg);
        pthread_mutex_unlock(&p->lock);
    }
    return stop;
}

static bool tmemfs_object_visit_busy(struct tmemfs_object_table *p, struct tmemfs_rec *r, void *arg)
{
    (void)p;
    (void)arg;
    return r->writers != 0;
}

/* Is a change to oid through another member of t's group in flight? Its
 * end will invalidate the group and give every idle record its result,
 * so checks skip the object meanwhile, as for a change through t itself. */
static bool tmemfs_object_peer_busy(struct tmemfs_object_table *t, const struct tmem_oid *oid)
{
    return tmemfs_object_for_each_peer_record(t, oid, tmemfs_object_visit_busy, NULL);
}

struct tmemfs_peer_check {
    const struct statx *stx;
    bool *flushed;
};

static bool tmemfs_object_visit_check(struct tmemfs_object_table *p, struct tmemfs_rec *r, void *arg)
{
    struct tmemfs_peer_check *c = arg;
    (void)tmemfs_object_check_locked(p, r, c->stx, c->flushed);
    return false;
}

/* The check on the records the other tables of t's group hold for oid
 * (none are created). Sets *flushed if the object was flushed. */
static void tmemfs_object_check_peers(struct tmemfs_object_table *t, const struct tmem_oid *oid,
                                 const struct statx *stx, bool *flushed)
{
    struct tmemfs_peer_check c = { stx, flushed };
    (void)tmemfs_object_for_each_peer_record(t, oid, tmemfs_object_visit_check, &c);
}

/* An idle peer record takes the result of a change made through another
 * member (arg: the statx after it, or NULL when it is unknown). */
static bool tmemfs_object_visit_take_result(struct tmemfs_object_table *p, struct tmemfs_rec *r, void *arg)
{
    const struct statx *after = arg;
    (void)p;
    if (r->writers == 0) {
        if (after)
            tmemfs_snap_of(after, &r->snap);
        r->has_snap = after != NULL;
    }
    return false;
}

/*
 * The check shared by tmemfs_object_table_check and tmemfs_object_table_begin_modify:
 * compare stx with the group's other records of the file (unless a change
 * through a member is in flight) and with t's own, creating t's record.
 * Returns t's record (NULL: no memory) with t->lock HELD; *oid is the
 * file's oid, *flushed whether an outside change flushed it.
 */
static struct tmemfs_rec *tmemfs_object_check_group(struct tmemfs_object_table *t, const struct statx *stx,
                                             struct tmem_oid *oid, bool *flushed)
{
    struct tmemfs_rec *r;
    bool busy;

    tmemfs_oid_from_statx(stx, oid);
    busy = tmemfs_object_peer_busy(t, oid);
    if (!busy)
        tmemfs_object_check_peers(t, oid, stx, flushed);
    pthread_mutex_lock(&t->lock);
    r = tmemfs_object_get(t, oid);
    if (r && !busy)
        (void)tmemfs_object_check_locked(t, r, stx, flushed);
    return r;
}

int tmemfs_object_table_check(struct tmemfs_object_table *t, const struct statx *stx, bool pin)
{
    struct tmem_oid oid;
    bool flushed = false;
    struct tmemfs_rec *r = tmemfs_object_check_group(t, stx, &oid, &flushed);

    if (r && pin)
        r->pins++;
    if (r)
        tmemfs_object_trim(t);
    pthread_mutex_unlock(&t->lock);
    if (flushed)
        tmemfs_stats_add(t->stats, TMEMFS_OUTSIDE_CHANGES, 1);
    return !r ? -ENOMEM : flushed ? 1 : 0;
}

void tmemfs_object_table_unpin(struct tmemfs_object_table *t, const struct tmem_oid *oid)
{
    struct tmemfs_rec *r;

    pthread_mutex_lock(&t->lock);
    r = tmemfs_object_find(t, oid);
    if (r && r->pins > 0)
        r->pins--;
    tmemfs_object_trim(t);
    pthread_mutex_unlock(&t->lock);
}

int tmemfs_object_table_begin_modify(struct tmemfs_object_table *t, const struct statx *before)
{
    struct tmem_oid oid;
    bool flushed = false;
    struct tmemfs_rec *r = tmemfs_object_check_group(t, before, &oid, &flushed);

    if (r)
        r->writers++;
    pthread_mutex_unlock(&t->lock);
    if (flushed)
        tmemfs_stats_add(t->stats, TMEMFS_OUTSIDE_CHANGES, 1);
    return r ? 0 : -ENOMEM;
}

void tmemfs_object_table_end_modify(struct tmemfs_object_table *t, const struct tmem_oid *oid,
                            const struct statx *after)
{
    struct tmemfs_rec *r;

    /* The change was invalidated in the whole group: the other members'
     * idle records take its result too (a member with its own change in
     * flight records that change's result at its own end). Done before
     * this record stops counting the change as in flight, so no check
     * through another member sees an idle, outdated record meanwhile. */
    (void)tmemfs_object_for_each_peer_record(t, oid, tmemfs_object_visit_take_result,
                                        (void *)(uintptr_t)after);
    pthread_mutex_lock(&t->lock);
    r = tmemfs_object_find(t, oid);
    if (r) {
        if (r->writers > 0)
            r->writers--;
        if (after) {
            tmemfs_snap_of(after, &r->snap);
            r->has_snap = true;
        } else {
            tmemfs_io_invalidate_object(t->io, oid);
            r->has_snap = false;
        }
    }
    tmemfs_object_trim(t);
    pthread_mutex_unlock(&t->lock);
}

void tmemfs_object_table_forget(struct tmemfs_object_table *t, const struct tmem_oid *oid)
{
    struct tmemfs_rec *r;

    pthread_mutex_lock(&t->lock);
    tmemfs_io_invalidate_object(t->io, oid);
    r = tmemfs_object_find(t, oid);
    if (r && r->pins == 0 && r->writers == 0)
        tmemfs_object_unlink(t, r);
    pthread_mutex_unlock(&t->lock);
}

size_t tmemfs_object_table_count(struct tmemfs_object_table *t)
{
    size_t n;

    pthread_mutex_lock(&t->lock);
    n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
