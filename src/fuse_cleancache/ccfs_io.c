/*
 * ccfs_io.c - the tmemfs read/write path over the guest page cache
 * (ccfs_pcache) and cleancache (ccfs_cc).
 *
 * Models: the guest kernel's filemap. A read looks each page up in the
 * guest cache; on a miss it asks cleancache (get_page) and only then reads
 * the backing file (runs of missing pages in one pread). Pages read are
 * inserted into the guest cache; the victim a full cache gives up is put to
 * cleancache (put_page). Writes go straight to the backing file and then
 * invalidate the written pages in both caches; truncates invalidate from
 * the page holding the new EOF.
 *
 * Staleness rule (why no read returns stale data): every change made
 * through this module happens on the backing file first and is followed,
 * under the io lock, by invalidation of both caches and a bump of the
 * oid's stripe sequence io->seq[]. A read records the sequence under the
 * lock before reading the backing file and inserts what it read only if
 * the sequence is unchanged; so a page read before a write can never be
 * cached after that write's invalidation.
 *
 * Sharing groups (ccfs_group.h): the mounts of one process that share a
 * cleancache pool. Each member keeps its own guest cache, sequences and
 * pool handle, but io->lock of every member points to the one group lock,
 * and an invalidation through any member, under that lock, drops the
 * pages from every member's guest cache, bumps every member's sequence
 * and flushes the shared pool (once: it is one pool). So no member can
 * put back into the pool a page that a change through another member has
 * invalidated (its guest copy is gone), no member's in-flight read can
 * insert pre-change data (its sequence moved), and every get, put and
 * invalidation of the group is serialised: the staleness rule holds for
 * the group as for one mount (what ocfs2's cluster locks do for shared
 * cleancache between nodes).
 *
 * Locking: *io->lock (a mutex: io->own_lock, or the group lock) guards the
 * guest cache, the cleancache pool id and seq[] of the io (of every
 * member, in a group) and the group's member list; every tmem call of the
 * cleancache glue is made under it (tmem calls no callback for ephemeral
 * pools, so this cannot deadlock). Backing-file I/O is done without the
 * lock. Lock order of tmemfs: ccfs_objtab lock -> io lock -> (tmem's
 * internal locks).
 */
#include "fuse_cleancache/ccfs_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t ccfs_stripe(const struct tmem_oid *oid)
{
    uint64_t h = oid->oid[0] * 0x9e3779b97f4a7c15ULL ^ oid->oid[1] * 0xc2b2ae3d27d4eb4fULL ^
                 oid->oid[2];
    h ^= h >> 29;
    return (size_t)(h % CCFS_SEQ_STRIPES);
}

int ccfs_io_init_shared(struct ccfs_io *io, struct ccfs_pcache *pc, const struct ccfs_cc *cc,
                        struct ccfs_stats *stats, struct ccfs_group *g)
{
    int rc;

    memset(io, 0, sizeof(*io));
    rc = pthread_mutex_init(&io->own_lock, NULL);
    if (rc != 0)
        return -rc;
    io->lock = &io->own_lock;
    io->pc = pc;
    io->cc = *cc;
    io->stats = stats;
    io->page_size = ccfs_pcache_page_size(pc);
    io->inode_threshold = 1024;
    if (g) {
        pthread_mutex_lock(&g->lock);
        io->group = g;
        io->lock = &g->lock;
        io->gnext = g->ios;
        g->ios = io;
        g->nios++;
        pthread_mutex_unlock(&g->lock);
    }
    return 0;
}

int ccfs_io_init(struct ccfs_io *io, struct ccfs_pcache *pc, const struct ccfs_cc *cc,
                 struct ccfs_stats *stats)
{
    return ccfs_io_init_shared(io, pc, cc, stats, NULL);
}

/* The members an invalidation through io acts on: the group's, or io
 * alone. Walk with: for (m = ccfs_first(io); m; m = ccfs_next(io, m)).
 * Under *io->lock. */
static struct ccfs_io *ccfs_first(struct ccfs_io *io)
{
    return io->group ? io->group->ios : io;
}

static struct ccfs_io *ccfs_next(const struct ccfs_io *io, const struct ccfs_io *m)
{
    return io->group ? m->gnext : NULL;
}

/*
 * The cleancache instance to flush the (shared) pool through (under
 * *io->lock): io's own, or, if io's pool is disabled (a failed re-init),
 * another member's with io's counters (tmp holds that copy). NULL if no
 * member has a pool.
 */
static struct ccfs_cc *ccfs_flush_cc(struct ccfs_io *io, struct ccfs_cc *tmp)
{
    struct ccfs_io *m;

    if (io->cc.pool_id >= 0)
        return &io->cc;
    for (m = ccfs_first(io); m; m = ccfs_next(io, m)) {
        if (m->cc.pool_id >= 0) {
            *tmp = m->cc;
            tmp->stats = io->stats;
            return tmp;
        }
    }
    return NULL;
}

static uint32_t ccfs_ps(const struct ccfs_io *io)
{
    return io->page_size;
}

void ccfs_io_destroy(struct ccfs_io *io)
{
    struct ccfs_group *g = io->group;

    pthread_mutex_lock(io->lock);
    if (g) {
        struct ccfs_io **pp = &g->ios;
        while (*pp && *pp != io)
            pp = &(*pp)->gnext;
        if (*pp) {
            *pp = io->gnext;
            g->nios--;
        }
        io->gnext = NULL;
    }
    ccfs_cc_invalidate_fs(&io->cc);
    ccfs_pcache_destroy(io->pc);
    io->pc = NULL;
    pthread_mutex_unlock(io->lock);
    io->group = NULL;
    io->lock = &io->own_lock;
    pthread_mutex_destroy(&io->own_lock);
}

/* Eviction hook: a clean page leaves the guest cache -> cleancache. */
static void ccfs_io_evict(void *arg, const struct tmem_oid *oid, uint32_t index,
                          const void *page)
{
    struct ccfs_io *io = arg;

    ccfs_stats_add(io->stats, CCFS_GUEST_EVICTIONS, 1);
    ccfs_cc_put_page(&io->cc, oid, index, page);
}

/* Insert under *io->lock. */
static void ccfs_io_insert_locked(struct ccfs_io *io, const struct tmem_oid *oid,
                                  uint32_t index, const void *page)
{
    (void)ccfs_pcache_insert(io->pc, oid, index, page, ccfs_io_evict, io);
}

/* pread the whole of [off, off+len), short only at EOF; the rest zeroed.
 * Returns bytes read or -errno. */
static ssize_t ccfs_pread_full(int fd, char *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    memset(buf + done, 0, len - done);
    return (ssize_t)done;
}

ssize_t ccfs_io_read(struct ccfs_io *io, const struct tmem_oid *oid, int fd,
                     uint64_t file_size, char *buf, size_t size, uint64_t off)
{
    uint32_t ps = ccfs_ps(io);
    uint64_t end, first, last, i, npages;
    char *tmp = NULL;
    unsigned char *have = NULL;
    uint64_t seq0;
    size_t stripe = ccfs_stripe(oid);
    ssize_t ret;

    if (off >= file_size || size == 0)
        return 0;
    end = off + size;
    if (end > file_size || end < off)
        end = file_size;
    first = off / ps;
    last = (end - 1) / ps;
    if (last > UINT32_MAX) {
        /* Beyond what a 32-bit page index can name: uncached. */
        ret = pread(fd, buf, (size_t)(end - off), (off_t)off);
        if (ret < 0)
            return -errno;
        ccfs_stats_add(io->stats, CCFS_BACKING_BYTES_READ, (uint64_t)ret);
        return ret;
    }
    npages = last - first + 1;
    tmp = malloc(npages * ps);
    have = calloc(npages, 1);
    if (!tmp || !have) {
        ret = -ENOMEM;
        goto out;
    }

    /* Pass 1 (locked): guest cache, then cleancache. */
    pthread_mutex_lock(io->lock);
    seq0 = io->seq[stripe];
    for (i = 0; i < npages; i++) {
        uint32_t idx = (uint32_t)(first + i);
        const void *p = ccfs_pcache_lookup(io->pc, oid, idx);
        if (p) {
            memcpy(tmp + i * ps, p, ps);
            have[i] = 1;
            ccfs_stats_add(io->stats, CCFS_GUEST_HITS, 1);
            continue;
        }
        ccfs_stats_add(io->stats, CCFS_GUEST_MISSES, 1);
        if (ccfs_cc_get_page(&io->cc, oid, idx, tmp + i * ps) == 0) {
            have[i] = 1;
            ccfs_io_insert_locked(io, oid, idx, tmp + i * ps);
        }
    }
    pthread_mutex_unlock(io->lock);

    /* Pass 2 (unlocked): runs of missing pages from the backing file. */
    for (i = 0; i < npages;) {
        uint64_t j = i;
        ssize_t n;

        if (have[i]) {
            i++;
            continue;
        }
        while (j < npages && !have[j])
            j++;
        n = ccfs_pread_full(fd, tmp + i * ps, (size_t)((j - i) * ps), (first + i) * ps);
        if (n < 0) {
            ret = n;
            goto out;
        }
        ccfs_stats_add(io->stats, CCFS_BACKING_PAGES_READ, j - i);
        ccfs_stats_add(io->stats, CCFS_BACKING_BYTES_READ, (uint64_t)n);
        i = j;
    }

    /* Pass 3 (locked): insert what was read unless an invalidation raced
     * (through this io or, in a group, through any member: each bumps
     * every member's sequence). */
    pthread_mutex_lock(io->lock);
    if (io->seq[stripe] == seq0) {
        for (i = 0; i < npages; i++)
            if (!have[i])
                ccfs_io_insert_locked(io, oid, (uint32_t)(first + i), tmp + i * ps);
    }
    pthread_mutex_unlock(io->lock);

    memcpy(buf, tmp + (off - first * ps), (size_t)(end - off));
    ret = (ssize_t)(end - off);
out:
    free(tmp);
    free(have);
    return ret;
}

/* Under *io->lock: drop pages [first, last] of oid from the guest cache
 * of every member (io alone, or its group) and bump every member's
 * sequence for oid; each member counts its own guest_invalidates. */
static void ccfs_io_drop_guest_locked(struct ccfs_io *io, const struct tmem_oid *oid,
                                      uint32_t first, uint32_t last)
{
    size_t stripe = ccfs_stripe(oid), n;
    struct ccfs_io *m;

    for (m = ccfs_first(io); m; m = ccfs_next(io, m)) {
        m->seq[stripe]++;
        n = ccfs_pcache_invalidate_range(m->pc, oid, first, last);
        ccfs_stats_add(m->stats, CCFS_GUEST_INVALIDATES, n);
    }
}

/* Invalidate pages [first, last] (last may be UINT64_MAX: to the end). */
static void ccfs_io_invalidate_pages(struct ccfs_io *io, const struct tmem_oid *oid,
                                     uint64_t first, uint64_t last)
{
    struct ccfs_cc tmp, *cc;

    if (first > UINT32_MAX || first > last)
        return;
    pthread_mutex_lock(io->lock);
    ccfs_io_drop_guest_locked(io, oid, (uint32_t)first,
                              last > UINT32_MAX ? UINT32_MAX : (uint32_t)last);
    cc = ccfs_flush_cc(io, &tmp);
    if (!cc) {
        /* cleancache off (or no pool): nothing more to flush */
    } else if (last - first >= io->inode_threshold) {
        ccfs_cc_invalidate_inode(cc, oid);
    } else {
        uint64_t i;
        for (i = first; i <= last; i++)
            ccfs_cc_invalidate_page(cc, oid, (uint32_t)i);
    }
    pthread_mutex_unlock(io->lock);
}

void ccfs_io_invalidate_range(struct ccfs_io *io, const struct tmem_oid *oid, uint64_t off,
                              uint64_t len)
{
    uint32_t ps = ccfs_ps(io);
    uint64_t last;

    if (len == 0)
        return;
    if (len == UINT64_MAX || off + len < off)
        last = UINT64_MAX;
    else
        last = (off + len - 1) / ps;
    ccfs_io_invalidate_pages(io, oid, off / ps, last);
}

void ccfs_io_invalidate_object(struct ccfs_io *io, const struct tmem_oid *oid)
{
    struct ccfs_cc tmp, *cc;

    pthread_mutex_lock(io->lock);
    ccfs_io_drop_guest_locked(io, oid, 0, UINT32_MAX);
    cc = ccfs_flush_cc(io, &tmp);
    if (cc)
        ccfs_cc_invalidate_inode(cc, oid);
    pthread_mutex_unlock(io->lock);
}

void ccfs_io_invalidate_cleancache_object(struct ccfs_io *io, const struct tmem_oid *oid)
{
    struct ccfs_cc tmp, *cc;

    pthread_mutex_lock(io->lock);
    cc = ccfs_flush_cc(io, &tmp);
    if (cc)
        ccfs_cc_invalidate_inode(cc, oid);
    pthread_mutex_unlock(io->lock);
}

ssize_t ccfs_io_write(struct ccfs_io *io, const struct tmem_oid *oid, int fd,
                      const char *buf, size_t size, uint64_t off, int append)
{
    uint32_t ps = ccfs_ps(io);
    struct stat st;
    uint64_t before = 0, wstart;
    ssize_t n;

    if (append) {
        if (fstat(fd, &st) < 0)
            return -errno;
        before = (uint64_t)st.st_size;
    }
    n = pwrite(fd, buf, size, (off_t)off);
    if (n < 0)
        return -errno;
    if (n == 0)
        return 0;
    if (append) {
        /* O_APPEND: the data went to EOF, at or after `before`. */
        uint64_t after = before + (uint64_t)n;
        if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > after)
            after = (uint64_t)st.st_size;
        wstart = before;
        ccfs_io_invalidate_range(io, oid, wstart, after - wstart);
    } else {
        wstart = off;
        ccfs_io_invalidate_range(io, oid, wstart, (uint64_t)n);
    }
    ccfs_stats_add(io->stats, CCFS_BACKING_BYTES_WRITTEN, (uint64_t)n);
    ccfs_stats_add(io->stats, CCFS_BACKING_PAGES_WRITTEN,
                   (wstart + (uint64_t)n - 1) / ps - wstart / ps + 1);
    return n;
}

int ccfs_io_truncate(struct ccfs_io *io, const struct tmem_oid *oid, int fd, uint64_t len)
{
    uint32_t ps = ccfs_ps(io);
    struct stat st;
    uint64_t old;

    if (fstat(fd, &st) < 0)
        return -errno;
    old = (uint64_t)st.st_size;
    if (ftruncate(fd, (off_t)len) < 0)
        return -errno;
    /* Growing only appends zeros past the old EOF: cached pages (zero past
     * EOF) stay right. Shrinking: drop from the page holding the new EOF. */
    if (len < old)
        ccfs_io_invalidate_pages(io, oid, len / ps, (old - 1) / ps);
    return 0;
}

size_t ccfs_io_shrink_guest(struct ccfs_io *io)
{
    size_t n;

    pthread_mutex_lock(io->lock);
    n = ccfs_pcache_evict_all(io->pc, ccfs_io_evict, io);
    pthread_mutex_unlock(io->lock);
    return n;
}

void ccfs_io_drop_cleancache(struct ccfs_io *io)
{
    struct ccfs_io *m;
    size_t i;

    pthread_mutex_lock(io->lock);
    if (io->cc.pool_id >= 0) {
        /* Every member leaves the pool first, so a shared pool's pages
         * really go (the last client out destroys it); then all rejoin a
         * fresh one. */
        for (m = ccfs_first(io); m; m = ccfs_next(io, m)) {
            for (i = 0; i < CCFS_SEQ_STRIPES; i++)
                m->seq[i]++;
            ccfs_cc_invalidate_fs(&m->cc);
        }
        for (m = ccfs_first(io); m; m = ccfs_next(io, m))
            (void)ccfs_cc_reinit(&m->cc, m->cc.client, ccfs_ps(m));
    }
    pthread_mutex_unlock(io->lock);
}

void ccfs_io_gauges(struct ccfs_io *io, struct ccfs_gauges *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_lock(io->lock);
    g->guest_pages = ccfs_pcache_count(io->pc);
    g->guest_capacity = ccfs_pcache_capacity(io->pc);
    g->page_size = ccfs_ps(io);
    g->cleancache = io->cc.pool_id >= 0;
    g->pool_id = io->cc.pool_id;
    if (io->cc.pool_id >= 0) {
        (void)tmem_pool_stats(io->cc.client, io->cc.pool_id, &g->pool);
        (void)tmem_stats(tmem_client_store(io->cc.client), &g->store);
    }
    pthread_mutex_unlock(io->lock);
}
