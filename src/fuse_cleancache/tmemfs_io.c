/*
 * tmemfs_io.c - the tmemfs read/write path over the guest page cache
 * (tmemfs_page_cache) and cleancache (tmemfs_cleancache).
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
 * Failures (tmemfs_io_set_faults for the injected ones): a read whose
 * backing request fails returns the error before pass 3, so nothing it
 * read is inserted (pages it found in either cache were already in the
 * guest cache and are still right); a failed or short write invalidates
 * the whole requested range, as part of it may have changed. A short
 * transfer (a pread or pwrite that moved less than asked, which the
 * kernel may do at any time; injected by the switches' `short` kind) is
 * not an error: both the backing read and the write ask again for the
 * rest until all is moved, EOF or an error.
 *
 * Sharing groups (tmemfs_group.h): the mounts of one process that share a
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
 * lock. Lock order of tmemfs: tmemfs_object_table lock -> io lock -> (tmem's
 * internal locks).
 */
#include "fuse_cleancache/tmemfs_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static size_t tmemfs_stripe(const struct tmem_oid *oid)
{
    return (size_t)(tmemfs_oid_hash(oid) % TMEMFS_SEQ_STRIPES);
}

int tmemfs_io_init_shared(struct tmemfs_io *io, struct tmemfs_page_cache *pc, const struct tmemfs_cleancache *cc,
                        struct tmemfs_stats *stats, struct tmemfs_group *g)
{
    int rc;

    memset(io, 0, sizeof(*io));
    rc = pthread_mutex_init(&io->own_lock, NULL);
    if (rc != 0)
        return -rc;
    rc = guest_device_init(&io->device);
    if (rc < 0) {
        pthread_mutex_destroy(&io->own_lock);
        return rc;
    }
    io->profile = guest_device_builtin[1]; /* sata-ssd */
    io->lock = &io->own_lock;
    io->pc = pc;
    io->cc = *cc;
    io->stats = stats;
    io->page_size = tmemfs_page_cache_page_size(pc);
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

int tmemfs_io_init(struct tmemfs_io *io, struct tmemfs_page_cache *pc, const struct tmemfs_cleancache *cc,
                 struct tmemfs_stats *stats)
{
    return tmemfs_io_init_shared(io, pc, cc, stats, NULL);
}

/* The members an invalidation through io acts on: the group's, or io
 * alone. Walk with: for (m = tmemfs_first(io); m; m = tmemfs_next(io, m)).
 * Under *io->lock. */
static struct tmemfs_io *tmemfs_first(struct tmemfs_io *io)
{
    return io->group ? io->group->ios : io;
}

static struct tmemfs_io *tmemfs_next(const struct tmemfs_io *io, const struct tmemfs_io *m)
{
    return io->group ? m->gnext : NULL;
}

/*
 * The cleancache instance to flush the (shared) pool through (under
 * *io->lock): io's own, or, if io's pool is disabled (a failed re-init),
 * another member's with io's counters (tmp holds that copy). NULL if no
 * member has a pool.
 */
static struct tmemfs_cleancache *tmemfs_flush_cc(struct tmemfs_io *io, struct tmemfs_cleancache *tmp)
{
    struct tmemfs_io *m;

    if (io->cc.pool_id >= 0)
        return &io->cc;
    for (m = tmemfs_first(io); m; m = tmemfs_next(io, m)) {
        if (m->cc.pool_id >= 0) {
            *tmp = m->cc;
            tmp->stats = io->stats;
            return tmp;
        }
    }
    return NULL;
}

static uint32_t tmemfs_ps(const struct tmemfs_io *io)
{
    return io->page_size;
}

void tmemfs_io_destroy(struct tmemfs_io *io)
{
    struct tmemfs_group *g = io->group;

    pthread_mutex_lock(io->lock);
    if (g) {
        struct tmemfs_io **pp = &g->ios;
        while (*pp && *pp != io)
            pp = &(*pp)->gnext;
        if (*pp) {
            *pp = io->gnext;
            g->nios--;
        }
        io->gnext = NULL;
    }
    tmemfs_cleancache_invalidate_fs(&io->cc);
    tmemfs_page_cache_destroy(io->pc);
    io->pc = NULL;
    pthread_mutex_unlock(io->lock);
    io->group = NULL;
    io->lock = &io->own_lock;
    pthread_mutex_destroy(&io->own_lock);
    guest_device_destroy(&io->device);
}

void tmemfs_io_set_device(struct tmemfs_io *io, const struct guest_device_profile *profile,
                          enum tmemfs_io_delay delay, uint64_t delay_ns)
{
    io->profile = *profile;
    io->delay = delay;
    io->delay_ns = delay_ns;
}

/* A backing read of bytes at off of oid's file was made: note it on the
 * device and, with a delay, take that long (outside every lock). */
static void tmemfs_io_backing_read(struct tmemfs_io *io, const struct tmem_oid *oid,
                                   uint64_t off, uint64_t bytes)
{
    bool seq = guest_device_note(&io->device, tmemfs_oid_hash(oid), off, bytes, false);
    uint64_t ns = io->delay == TMEMFS_DELAY_FIXED    ? io->delay_ns
                  : io->delay == TMEMFS_DELAY_DEVICE ? guest_device_request_ns(&io->profile, seq,
                                                                               bytes, false)
                                                     : 0;
    struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

    if (ns)
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
}

void tmemfs_io_set_faults(struct tmemfs_io *io, const struct fault_spec *read,
                          const struct fault_spec *write)
{
    static const struct fault_spec off = { .mode = FAULT_OFF };

    fault_init(&io->read_fault, read ? read : &off);
    fault_init(&io->write_fault, write ? write : &off);
}

void tmemfs_io_set_fault_kinds(struct tmemfs_io *io, bool read_short, bool write_short)
{
    io->read_fault_short = read_short;
    io->write_fault_short = write_short;
}

/* How much of left one transfer asks for: all of it, or with shorten at
 * most half (at least one byte). */
static size_t tmemfs_io_chunk(size_t left, bool shorten)
{
    return shorten && left > 1 ? left / 2 : left;
}

/* One backing read request: source(source_arg, ...) unless the read
 * fault switch fails it (the buffer then holds junk, as a failed DMA
 * may leave it). Counts failures. Returns what source returns. */
static ssize_t tmemfs_io_source(struct tmemfs_io *io, tmemfs_io_source_fn source, void *source_arg,
                                char *buf, size_t len, uint64_t off)
{
    ssize_t n;

    if (!io->read_fault_short && fault_hit(&io->read_fault)) {
        memset(buf, 0xEE, len);
        n = -EIO;
    } else {
        n = source(source_arg, buf, len, off);
    }
    if (n < 0)
        tmemfs_stats_add(io->stats, TMEMFS_BACKING_READ_ERRORS, 1);
    return n;
}

/* Eviction hook: a clean page leaves the guest cache -> cleancache. */
static void tmemfs_io_evict(void *arg, const struct tmem_oid *oid, uint32_t index,
                          const void *page)
{
    struct tmemfs_io *io = arg;

    tmemfs_stats_add(io->stats, TMEMFS_GUEST_EVICTIONS, 1);
    tmemfs_cleancache_put_page(&io->cc, oid, index, page);
}

/* Insert under *io->lock. */
static void tmemfs_io_insert_locked(struct tmemfs_io *io, const struct tmem_oid *oid,
                                  uint32_t index, const void *page)
{
    (void)tmemfs_page_cache_insert(io->pc, oid, index, page, tmemfs_io_evict, io);
}

/* pread the whole of [off, off+len), short only at EOF; the rest zeroed.
 * A short pread is asked again for the rest (shorten: each asks for at
 * most half of what is left, the short-read fault). Returns bytes read
 * or -errno. */
static ssize_t tmemfs_pread_full(int fd, char *buf, size_t len, uint64_t off, bool shorten)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, buf + done, tmemfs_io_chunk(len - done, shorten),
                          (off_t)(off + done));
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

/* The backing file as a source: fd, or direct_fd (O_DIRECT) first; io
 * for the short-read fault switch (one event per request). */
struct tmemfs_fd_source {
    int fd, direct_fd;
    struct tmemfs_io *io;
};

static ssize_t tmemfs_fd_source_read(void *arg, char *buf, size_t len, uint64_t off)
{
    const struct tmemfs_fd_source *src = arg;
    bool shorten = src->io->read_fault_short && fault_hit(&src->io->read_fault);
    ssize_t n = -EINVAL;

    if (src->direct_fd >= 0)
        n = tmemfs_pread_full(src->direct_fd, buf, len, off, shorten);
    if (n == -EINVAL) /* no O_DIRECT, or a short read left it unaligned */
        n = tmemfs_pread_full(src->fd, buf, len, off, shorten);
    return n;
}

ssize_t tmemfs_io_read(struct tmemfs_io *io, const struct tmem_oid *oid, int fd, int direct_fd,
                       uint64_t file_size, char *buf, size_t size, uint64_t off)
{
    struct tmemfs_fd_source src = { fd, direct_fd, io };

    return tmemfs_io_read_from(io, oid, file_size, buf, size, off, tmemfs_fd_source_read, &src);
}

ssize_t tmemfs_io_read_from(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t file_size,
                            char *buf, size_t size, uint64_t off, tmemfs_io_source_fn source,
                            void *source_arg)
{
    uint32_t ps = tmemfs_ps(io);
    uint64_t end, first, last, i, npages;
    char *tmp = NULL;
    unsigned char *have = NULL;
    uint64_t seq0;
    size_t stripe = tmemfs_stripe(oid);
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
        ret = tmemfs_io_source(io, source, source_arg, buf, (size_t)(end - off), off);
        if (ret < 0)
            return ret;
        tmemfs_io_backing_read(io, oid, off, (uint64_t)ret);
        tmemfs_stats_add(io->stats, TMEMFS_BACKING_BYTES_READ, (uint64_t)ret);
        return ret;
    }
    npages = last - first + 1;
    /* aligned for O_DIRECT (a page size is a multiple of 512) */
    if (posix_memalign((void **)&tmp, ps, npages * ps) != 0)
        tmp = NULL;
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
        const void *p = tmemfs_page_cache_lookup(io->pc, oid, idx);
        if (p) {
            memcpy(tmp + i * ps, p, ps);
            have[i] = 1;
            tmemfs_stats_add(io->stats, TMEMFS_GUEST_HITS, 1);
            continue;
        }
        tmemfs_stats_add(io->stats, TMEMFS_GUEST_MISSES, 1);
        if (tmemfs_cleancache_get_page(&io->cc, oid, idx, tmp + i * ps) == 0) {
            have[i] = 1;
            tmemfs_io_insert_locked(io, oid, idx, tmp + i * ps);
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
        n = tmemfs_io_source(io, source, source_arg, tmp + i * ps, (size_t)((j - i) * ps),
                             (first + i) * ps);
        if (n < 0) {
            ret = n;
            goto out;
        }
        tmemfs_io_backing_read(io, oid, (first + i) * ps, (uint64_t)(j - i) * ps);
        tmemfs_stats_add(io->stats, TMEMFS_BACKING_PAGES_READ, j - i);
        tmemfs_stats_add(io->stats, TMEMFS_BACKING_BYTES_READ, (uint64_t)n);
        i = j;
    }

    /* Pass 3 (locked): insert what was read unless an invalidation raced
     * (through this io or, in a group, through any member: each bumps
     * every member's sequence). */
    pthread_mutex_lock(io->lock);
    if (io->seq[stripe] == seq0) {
        for (i = 0; i < npages; i++)
            if (!have[i])
                tmemfs_io_insert_locked(io, oid, (uint32_t)(first + i), tmp + i * ps);
    }
    pthread_mutex_unlock(io->lock);

    memcpy(buf, tmp + (off - first * ps), (size_t)(end - off));
    ret = (ssize_t)(end - off);
    tmemfs_record_pages(io->record, TRACE_OP_READ, oid, first, last);
out:
    free(tmp);
    free(have);
    return ret;
}

/* Under *io->lock: drop pages [first, last] of oid from the guest cache
 * of every member (io alone, or its group) and bump every member's
 * sequence for oid; each member counts its own guest_invalidates. */
static void tmemfs_io_drop_guest_locked(struct tmemfs_io *io, const struct tmem_oid *oid,
                                      uint32_t first, uint32_t last)
{
    size_t stripe = tmemfs_stripe(oid), n;
    struct tmemfs_io *m;

    for (m = tmemfs_first(io); m; m = tmemfs_next(io, m)) {
        m->seq[stripe]++;
        n = tmemfs_page_cache_invalidate_range(m->pc, oid, first, last);
        tmemfs_stats_add(m->stats, TMEMFS_GUEST_INVALIDATES, n);
    }
}

/* Invalidate pages [first, last] (last may be UINT64_MAX: to the end). */
static void tmemfs_io_invalidate_pages(struct tmemfs_io *io, const struct tmem_oid *oid,
                                     uint64_t first, uint64_t last)
{
    struct tmemfs_cleancache tmp, *cc;

    if (first > UINT32_MAX || first > last)
        return;
    pthread_mutex_lock(io->lock);
    tmemfs_io_drop_guest_locked(io, oid, (uint32_t)first,
                              last > UINT32_MAX ? UINT32_MAX : (uint32_t)last);
    cc = tmemfs_flush_cc(io, &tmp);
    if (!cc) {
        /* cleancache off (or no pool): nothing more to flush */
    } else if (last - first >= io->inode_threshold) {
        tmemfs_cleancache_invalidate_inode(cc, oid);
    } else {
        uint64_t i;
        for (i = first; i <= last; i++)
            tmemfs_cleancache_invalidate_page(cc, oid, (uint32_t)i);
    }
    pthread_mutex_unlock(io->lock);
}

void tmemfs_io_invalidate_range(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t off,
                              uint64_t len)
{
    uint32_t ps = tmemfs_ps(io);
    uint64_t last;

    if (len == 0)
        return;
    if (len == UINT64_MAX || off + len < off)
        last = UINT64_MAX;
    else
        last = (off + len - 1) / ps;
    tmemfs_io_invalidate_pages(io, oid, off / ps, last);
}

void tmemfs_io_invalidate_object(struct tmemfs_io *io, const struct tmem_oid *oid)
{
    struct tmemfs_cleancache tmp, *cc;

    pthread_mutex_lock(io->lock);
    tmemfs_io_drop_guest_locked(io, oid, 0, UINT32_MAX);
    cc = tmemfs_flush_cc(io, &tmp);
    if (cc)
        tmemfs_cleancache_invalidate_inode(cc, oid);
    pthread_mutex_unlock(io->lock);
}

void tmemfs_io_invalidate_cleancache_object(struct tmemfs_io *io, const struct tmem_oid *oid)
{
    struct tmemfs_cleancache tmp, *cc;

    pthread_mutex_lock(io->lock);
    cc = tmemfs_flush_cc(io, &tmp);
    if (cc)
        tmemfs_cleancache_invalidate_inode(cc, oid);
    pthread_mutex_unlock(io->lock);
}

void tmemfs_io_note_write(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t off,
                          uint64_t bytes)
{
    uint32_t ps = tmemfs_ps(io);

    if (bytes == 0)
        return;
    tmemfs_io_invalidate_range(io, oid, off, bytes);
    (void)guest_device_note(&io->device, tmemfs_oid_hash(oid), off, bytes, true);
    tmemfs_record_pages(io->record, TRACE_OP_WRITE, oid, off / ps, (off + bytes - 1) / ps);
    tmemfs_stats_add(io->stats, TMEMFS_BACKING_BYTES_WRITTEN, bytes);
    tmemfs_stats_add(io->stats, TMEMFS_BACKING_PAGES_WRITTEN, (off + bytes - 1) / ps - off / ps + 1);
}

ssize_t tmemfs_io_write(struct tmemfs_io *io, const struct tmem_oid *oid, int fd,
                      const char *buf, size_t size, uint64_t off, int append)
{
    struct stat st;
    uint64_t before = 0, after;
    bool hit, shorten = false;
    ssize_t n;

    if (append) {
        if (fstat(fd, &st) < 0)
            return -errno;
        before = (uint64_t)st.st_size;
    }
    hit = fault_hit(&io->write_fault);
    if (hit && !io->write_fault_short) {
        /* injected: half the bytes land, then the device fails */
        if (size / 2 > 0 && pwrite(fd, buf, size / 2, (off_t)off) < 0) {
            /* a real error on top: the same outcome, EIO */
        }
        n = -EIO;
    } else {
        /* a short pwrite is not an error: write the rest (shorten, the
         * short-write fault: each moves at most half of what is left).
         * Appending (O_APPEND), each piece lands at the then EOF. */
        size_t done = 0;

        shorten = hit;
        n = 0;
        while (done < size) {
            ssize_t w = pwrite(fd, buf + done, tmemfs_io_chunk(size - done, shorten),
                               (off_t)(off + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                n = -errno;
                break;
            }
            if (w == 0) /* no progress and no error: give up with what is done */
                break;
            done += (size_t)w;
        }
        if (n == 0)
            n = (ssize_t)done;
    }
    if (n < 0 || (size_t)n < size) {
        /* Failed or short: any page of the request may have changed
         * (appending: anything from the old EOF on). */
        if (n < 0)
            tmemfs_stats_add(io->stats, TMEMFS_BACKING_WRITE_ERRORS, 1);
        if (append)
            tmemfs_io_invalidate_range(io, oid, before, UINT64_MAX);
        else
            tmemfs_io_invalidate_range(io, oid, off, size);
        if (n <= 0)
            return n;
    }
    if (n == 0)
        return 0;
    if (append) {
        /* O_APPEND: the data went to EOF, at or after `before`. */
        after = before + (uint64_t)n;
        if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > after)
            after = (uint64_t)st.st_size;
        tmemfs_io_note_write(io, oid, before, (uint64_t)n);
        /* EOF moved further than n (another append raced): that too. */
        if (after > before + (uint64_t)n)
            tmemfs_io_invalidate_range(io, oid, before + (uint64_t)n,
                                       after - before - (uint64_t)n);
    } else {
        tmemfs_io_note_write(io, oid, off, (uint64_t)n);
    }
    return n;
}

void tmemfs_io_note_truncate(struct tmemfs_io *io, const struct tmem_oid *oid, uint64_t old_size,
                             uint64_t new_size)
{
    uint32_t ps = tmemfs_ps(io);

    /* Growing only appends zeros past the old EOF: cached pages (zero past
     * EOF) stay right. Shrinking: drop from the page holding the new EOF. */
    if (new_size < old_size)
        tmemfs_io_invalidate_pages(io, oid, new_size / ps, (old_size - 1) / ps);
    /* Recorded as the pages that stay intact: shrinking, the page holding
     * the new EOF changed (its tail is now zeros) and is invalidated, so
     * it is cut too (rounded down); growing, nothing changed (rounded up:
     * the new length). A replay then invalidates what this did. */
    tmemfs_record_truncate(io->record, oid,
                           new_size < old_size ? new_size / ps
                                               : new_size / ps + (new_size % ps != 0));
}

int tmemfs_io_truncate(struct tmemfs_io *io, const struct tmem_oid *oid, int fd, uint64_t len)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (ftruncate(fd, (off_t)len) < 0)
        return -errno;
    tmemfs_io_note_truncate(io, oid, (uint64_t)st.st_size, len);
    return 0;
}

size_t tmemfs_io_shrink_guest(struct tmemfs_io *io)
{
    size_t n;

    pthread_mutex_lock(io->lock);
    n = tmemfs_page_cache_evict_all(io->pc, tmemfs_io_evict, io);
    pthread_mutex_unlock(io->lock);
    return n;
}

void tmemfs_io_drop_cleancache(struct tmemfs_io *io)
{
    struct tmemfs_io *m;
    size_t i;

    pthread_mutex_lock(io->lock);
    if (io->cc.pool_id >= 0) {
        /* Every member leaves the pool first, so a shared pool's pages
         * really go (the last client out destroys it); then all rejoin a
         * fresh one. */
        for (m = tmemfs_first(io); m; m = tmemfs_next(io, m)) {
            for (i = 0; i < TMEMFS_SEQ_STRIPES; i++)
                m->seq[i]++;
            tmemfs_cleancache_invalidate_fs(&m->cc);
        }
        for (m = tmemfs_first(io); m; m = tmemfs_next(io, m))
            (void)tmemfs_cleancache_reinit(&m->cc, m->cc.client, tmemfs_ps(m));
    }
    pthread_mutex_unlock(io->lock);
}

void tmemfs_io_gauges(struct tmemfs_io *io, struct tmemfs_gauges *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_lock(io->lock);
    g->guest_pages = tmemfs_page_cache_count(io->pc);
    g->guest_capacity = tmemfs_page_cache_capacity(io->pc);
    g->page_size = tmemfs_ps(io);
    g->cleancache = io->cc.pool_id >= 0;
    g->pool_id = io->cc.pool_id;
    g->profile = io->profile;
    guest_device_counts(&io->device, &g->device);
    if (io->cc.pool_id >= 0) {
        (void)tmem_pool_stats(io->cc.client, io->cc.pool_id, &g->pool);
        (void)tmem_stats(tmem_client_store(io->cc.client), &g->store);
    }
    pthread_mutex_unlock(io->lock);
}
