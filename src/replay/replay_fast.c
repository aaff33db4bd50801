/*
 * replay_fast.c - metadata mode of tmem-replay (replay.h): a model of
 * tmemfs's read/write path (tmemfs_io over tmemfs_page_cache and
 * tmemfs_cleancache on a private ephemeral pool) that keeps no page bytes,
 * only where each page is, and gives the same counters as data mode when
 * compression, same-filled detection and dedup are off
 * (tests/replay/test_replay_fast.c compares the two on generated traces).
 *
 * What it mirrors, step by step (tmemfs_io.c):
 *  - read request (a record and its continues records): pass 1, each page
 *    in order: guest hit (touch) or miss, then cleancache get (a hit is
 *    destructive and the page goes into the guest cache at once, which may
 *    evict a victim: put to cleancache); pass 2: each run of pages still
 *    missing is one backing read on the device model; pass 3: those pages
 *    go into the guest cache in order (each insert may evict: put).
 *  - write request: invalidate the pages in the guest cache and in
 *    cleancache (invalidate_page each, or invalidate_inode when the range
 *    spans more than TMEMFS inode_threshold = 1024 pages), then one
 *    backing write on the device.
 *  - truncate FILE N: as tmemfs_io_note_truncate from the file's size in
 *    pages (the largest page read or written + 1, or the last truncate) to
 *    N; unlink: tmemfs_io_invalidate_object, the size forgotten.
 *  - capacity: the store's budget becomes bytes / (page_size + 32) pages
 *    (the cap's measure of an uncompressed page: its data and its 32-byte
 *    record); cleancache holds at most min(capacity_pages, that) pages.
 *  - cleancache: pages in put order; a put when full evicts the oldest
 *    (the core's client cap and store budget both evict the least
 *    recently put ephemeral page: a private pool's get being destructive,
 *    nothing is ever touched in place); a limit of 0 pages refuses the
 *    put (failed_puts) after evicting everything.
 *  - guest cache: frames 0..G-1 with guest/replace.h (CLOCK or LRU) and
 *    tmemfs_page_cache's LIFO free list (0, 1, 2, ... at first), so CLOCK
 *    sees the same frames as data mode.
 *
 * Data structures: pages get dense numbers d. Compact layout (the ids of
 * converted, recorded and generated traces): d = file x stride + page,
 * an array index, no hashing; the layout grows as pages appear (a new
 * file adds a stride; a page past the stride doubles it and moves every
 * number: O(pages) a time, O(1) amortised), so no first pass is needed,
 * unless a series is written (then a first pass finds the largest file
 * id and page, since a replay that starts again would repeat rows). When
 * files x stride would pass 2 x records + 2^16 (sparse ids: a hand-made
 * trace, pages near 2^32), the replay starts again with the ids densified
 * as they appear by trace/id_map (one hash a page access), every file
 * keeping the list of its page numbers. Per page 8 bytes: loc (nowhere,
 * in cleancache, or its guest frame) and, in cleancache, its position in
 * the put ring. The ring holds page numbers in put order; a page that
 * leaves cleancache (get, invalidate) only changes its loc, and its entry
 * is skipped when it reaches the tail (its position no longer matches);
 * a full ring is rebuilt with its live entries (doubled when more than
 * half are live): eviction, get and put are O(1) with no linked-list
 * neighbours to touch. (common/index_list.h would cost two random cache
 * misses a get and an eviction; the ring keeps the same order.) Per
 * frame: its page, file and index, the free-list link. The trace is read
 * in batches (trace_reader_next_batch) and each page's state is
 * prefetched a few records ahead.
 *
 * Locking: none; one replay is one thread's.
 */
#include "replay/replay_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "common/error_text.h"
#include "common/hash.h"
#include "fuse_cleancache/tmemfs_page_cache.h"
#include "trace/id_map.h"

#define FAST_NOWHERE UINT32_MAX         /* loc: in neither cache */
#define FAST_CLEANCACHE (UINT32_MAX - 1) /* loc: in cleancache */
#define FAST_NONE UINT32_MAX            /* end of a list, no page */
#define FAST_INODE_THRESHOLD 1024       /* tmemfs_io's inode_threshold */
#define FAST_RECORD_BYTES 32            /* the cap's record a page */
#define FAST_CHECK_EVERY 65536          /* records between interrupt checks */
#define FAST_UNLIMITED UINT64_MAX
#define FAST_HUGE (2u << 20)           /* a huge page */
#define FAST_BATCH 512                  /* records read at once */
#define FAST_PREFETCH 16                /* records between a prefetch and its use */
#define FAST_PREFETCH_NEAR 4            /* ... of its neighbours' */

struct fast_file {
    uint64_t stream;     /* tmemfs_oid_hash of oid {file id, 0, 0} */
    uint64_t size_pages; /* largest page read/written + 1, or the last truncate */
    uint64_t id;         /* the trace's file id */
    /* sparse mode: the file's dense page numbers */
    uint32_t *pages;
    uint32_t npages, cap;
};

/* One page: where it is and, in cleancache, its entry in the put ring. */
struct fast_page {
    uint32_t loc; /* FAST_NOWHERE, FAST_CLEANCACHE or its guest frame */
    uint32_t put; /* in cleancache: its ring position (low 32 bits) */
};

struct fast {
    const struct replay_config *cfg;
    uint32_t page_size;
    bool tmem;
    /* page numbering */
    bool sparse;
    uint64_t stride;            /* compact: pages a file */
    uint64_t page_files;        /* compact: files with pages (ids below max_object + 1) */
    bool growing;               /* compact, laid out as pages appear (no first pass) */
    uint64_t compact_limit;     /* growing: most pages (files x stride) before going sparse */
    struct id_map *file_ids;    /* sparse: file id -> file index */
    struct id_map *page_ids;    /* sparse: (file index, page) -> d */
    struct fast_file *files;
    uint64_t nfiles, files_cap;
    /* per page */
    struct fast_page *page;
    uint64_t npages, pages_cap;
    /* cleancache */
    uint32_t *ring;             /* page numbers in put order; stale entries skipped */
    uint64_t ring_cap;          /* a power of two */
    uint64_t ring_head;         /* position of the next put */
    uint64_t ring_tail;         /* position of the oldest entry (maybe stale) */
    uint64_t cc_count;
    uint64_t cap_pages;         /* cfg->capacity_pages (FAST_UNLIMITED: none) */
    uint64_t store_pages;       /* the store's budget in pages */
    uint64_t store_bytes;       /* ... as given */
    uint64_t cc_evicted;
    /* guest cache */
    struct guest_replace replace;
    uint32_t guest_frames;
    uint32_t *frame_page;       /* d of the page in the frame */
    uint32_t *frame_file;       /* its file index */
    uint32_t *frame_index;      /* its page index */
    uint32_t *free_next;        /* free list of frames */
    uint32_t free_head;
    uint64_t guest_count;
    /* counters and device */
    uint64_t c[TMEMFS_NR_COUNTERS];
    struct guest_device device;
    bool device_ready;
    /* the request being gathered */
    enum trace_op req_op;
    uint32_t req_file;
    uint64_t req_first;
    uint64_t req_n;
    uint32_t *req_pages;        /* d of each page */
    unsigned char *req_have;
    uint64_t req_cap;
};

/* ------------------------------------------------------------ pages */

static int fast_grow_pages(struct fast *f, uint64_t want)
{
    uint64_t cap = f->pages_cap ? f->pages_cap : 1024;
    struct fast_page *page;

    if (want <= f->pages_cap)
        return 0;
    while (cap < want)
        cap *= 2;
    if (cap > FAST_CLEANCACHE)
        cap = FAST_CLEANCACHE;
    if (want > cap)
        return -EOVERFLOW;
    if (cap * sizeof(*page) >= FAST_HUGE) {
        /* a big array: 2 MiB aligned and in huge pages where the kernel
         * has them, or every page access also misses the TLB */
        size_t bytes = (cap * sizeof(*page) + FAST_HUGE - 1) / FAST_HUGE * FAST_HUGE;

        page = aligned_alloc(FAST_HUGE, bytes);
        if (page) {
            (void)madvise(page, bytes, MADV_HUGEPAGE);
            if (f->pages_cap)
                memcpy(page, f->page, f->pages_cap * sizeof(*page));
            free(f->page);
        }
    } else {
        page = realloc(f->page, cap * sizeof(*page));
    }
    if (!page)
        return -ENOMEM;
    f->page = page;
    for (uint64_t i = f->pages_cap; i < cap; i++) {
        page[i].loc = FAST_NOWHERE;
        page[i].put = 0;
    }
    f->pages_cap = cap;
    return 0;
}

static int fast_grow_files(struct fast *f, uint64_t want)
{
    uint64_t cap = f->files_cap ? f->files_cap : 16;
    struct fast_file *files;

    if (want <= f->files_cap)
        return 0;
    while (cap < want)
        cap *= 2;
    files = realloc(f->files, cap * sizeof(*files));
    if (!files)
        return -ENOMEM;
    memset(files + f->files_cap, 0, (cap - f->files_cap) * sizeof(*files));
    f->files = files;
    f->files_cap = cap;
    return 0;
}

static void fast_file_setup(struct fast_file *file, uint64_t id)
{
    struct tmem_oid oid = {{id, 0, 0}};

    file->id = id;
    file->stream = tmemfs_oid_hash(&oid);
}

/* The file index of file id: 0 or -errno. */
static int fast_file_of(struct fast *f, uint64_t id, uint32_t *out)
{
    bool added;
    int rc;

    if (!f->sparse) {
        if (f->growing && id >= f->compact_limit)
            return -E2BIG; /* ids too sparse for an array: start again, sparse */
        if (id >= f->nfiles) { /* a new file, or one only truncated or unlinked */
            rc = fast_grow_files(f, id + 1);
            if (rc)
                return rc;
            for (uint64_t i = f->nfiles; i <= id; i++)
                fast_file_setup(&f->files[i], i);
            f->nfiles = id + 1;
        }
        *out = (uint32_t)id;
        return 0;
    }
    rc = id_map_get(f->file_ids, &id, sizeof(id), out, &added);
    if (rc)
        return rc;
    if (added) {
        rc = fast_grow_files(f, (uint64_t)*out + 1);
        if (rc)
            return rc;
        fast_file_setup(&f->files[*out], id);
        f->nfiles = (uint64_t)*out + 1;
    }
    return 0;
}

/* Map old page number d of the compact layout with stride os to stride ns. */
static inline uint32_t fast_remap(uint32_t d, uint64_t os, uint64_t ns)
{
    return (uint32_t)(d / os * ns + d % os);
}

/* Growing compact layout: make room for `files` files of `stride` pages,
 * moving every page number when the stride changes. 0, -E2BIG (past the
 * limit: the caller starts again with sparse ids) or -ENOMEM. */
static int fast_compact_grow(struct fast *f, uint64_t files, uint64_t stride)
{
    uint64_t os = f->stride, ofiles = f->page_files;
    struct fast_page *old = f->page;
    uint64_t old_cap = f->pages_cap;
    int rc;

    if (files * stride > f->compact_limit)
        return -E2BIG;
    if (stride == os) {
        rc = fast_grow_pages(f, files * stride);
        if (rc)
            return rc;
        f->page_files = files;
        f->npages = files * stride;
        return 0;
    }
    f->page = NULL;
    f->pages_cap = 0;
    rc = fast_grow_pages(f, files * stride);
    if (rc) {
        free(f->page);
        f->page = old;
        f->pages_cap = old_cap;
        return rc;
    }
    for (uint64_t fi = 0; fi < ofiles; fi++)
        memcpy(&f->page[fi * stride], &old[fi * os], os * sizeof(*old));
    free(old);
    for (uint64_t i = 0; i < f->ring_cap; i++)
        f->ring[i] = fast_remap(f->ring[i], os, stride);
    for (uint32_t fr = 0; fr < f->guest_frames; fr++)
        f->frame_page[fr] = guest_replace_in_use(&f->replace, fr)
                                ? fast_remap(f->frame_page[fr], os, stride) : 0;
    for (uint64_t i = 0; i < f->req_n; i++)
        f->req_pages[i] = fast_remap(f->req_pages[i], os, stride);
    f->stride = stride;
    f->page_files = files;
    f->npages = files * stride;
    return 0;
}

/* d of page `index` of file fi: 0 or -errno. Compact: a page beyond the
 * layout gets room when add (a growing layout), else FAST_NONE (a range
 * end: no such page was ever read or written). Sparse: always added. */
static int fast_page_of(struct fast *f, uint32_t fi, uint64_t index, bool add, uint32_t *out)
{
    struct fast_file *file = &f->files[fi];
    uint64_t key[2] = {fi, index};
    bool added;
    int rc;

    if (!f->sparse) {
        if (add && f->growing && (index >= f->stride || fi >= f->page_files)) {
            uint64_t stride = f->stride;

            if (index >= stride)
                stride = index + 1 > 2 * stride ? index + 1 : 2 * stride;
            rc = fast_compact_grow(f, fi >= f->page_files ? (uint64_t)fi + 1 : f->page_files,
                                   stride);
            if (rc)
                return rc;
        }
        *out = index < f->stride && fi < f->page_files ? (uint32_t)(fi * f->stride + index)
                                                       : FAST_NONE;
        return 0;
    }
    rc = id_map_get(f->page_ids, key, sizeof(key), out, &added);
    if (rc)
        return rc;
    if (added) {
        rc = fast_grow_pages(f, (uint64_t)*out + 1);
        if (rc)
            return rc;
        f->npages = (uint64_t)*out + 1;
        if (file->npages == file->cap) {
            uint32_t ncap = file->cap ? 2 * file->cap : 8;
            uint32_t *p = realloc(file->pages, (size_t)ncap * sizeof(*p));
            if (!p)
                return -ENOMEM;
            file->pages = p;
            file->cap = ncap;
        }
        file->pages[file->npages++] = *out;
    }
    return 0;
}

/* ------------------------------------------------------------ cleancache */

static uint64_t fast_cc_limit(const struct fast *f)
{
    return f->cap_pages < f->store_pages ? f->cap_pages : f->store_pages;
}

/* Page d (in cleancache) leaves it: get, invalidate. Its ring entry
 * goes stale. */
static void fast_cc_unlink(struct fast *f, uint32_t d)
{
    f->page[d].loc = FAST_NOWHERE;
    f->cc_count--;
}

static bool fast_ring_live(const struct fast *f, uint64_t pos)
{
    const struct fast_page *p = &f->page[f->ring[pos & (f->ring_cap - 1)]];

    return p->loc == FAST_CLEANCACHE && p->put == (uint32_t)pos;
}

/* The ring is full: copy its live entries, in order, into a new ring
 * (twice as big when more than half of them are live). */
static int fast_ring_rebuild(struct fast *f)
{
    uint64_t cap = f->ring_cap ? f->ring_cap : 4096, n = 0;
    uint32_t *ring;

    if (f->cc_count * 2 > cap / 2)
        cap *= 2;
    ring = calloc(cap, sizeof(*ring)); /* every entry a valid page number */
    if (!ring)
        return -ENOMEM;
    for (uint64_t pos = f->ring_tail; pos < f->ring_head; pos++) {
        if (fast_ring_live(f, pos)) {
            uint32_t d = f->ring[pos & (f->ring_cap - 1)];
            ring[n] = d;
            f->page[d].put = (uint32_t)n;
            n++;
        }
    }
    free(f->ring);
    f->ring = ring;
    f->ring_cap = cap;
    f->ring_tail = 0;
    f->ring_head = n;
    return 0;
}

/* Evict the oldest pages until at most limit remain. */
static void fast_cc_shrink(struct fast *f, uint64_t limit)
{
    uint64_t mask = f->ring_cap - 1;

    while (f->cc_count > limit) {
        uint64_t pos = f->ring_tail++;

        /* the entries after next: their pages are read soon */
        __builtin_prefetch(&f->page[f->ring[(pos + 8) & mask]]);
        if (fast_ring_live(f, pos)) {
            fast_cc_unlink(f, f->ring[pos & mask]);
            f->cc_evicted++;
        }
    }
}

/* put_page of page d (in neither cache): 0 or -ENOMEM. */
static int fast_cc_put(struct fast *f, uint32_t d)
{
    uint64_t limit;

    if (!f->tmem)
        return 0;
    f->c[TMEMFS_PUTS]++;
    limit = fast_cc_limit(f);
    if (limit == 0) {
        fast_cc_shrink(f, 0);
        f->c[TMEMFS_FAILED_PUTS]++;
        return 0;
    }
    fast_cc_shrink(f, limit - 1);
    if (f->ring_head - f->ring_tail == f->ring_cap && fast_ring_rebuild(f))
        return -ENOMEM;
    f->ring[f->ring_head & (f->ring_cap - 1)] = d;
    f->page[d].put = (uint32_t)f->ring_head++;
    f->page[d].loc = FAST_CLEANCACHE;
    f->cc_count++;
    return 0;
}

/* invalidate_inode of file fi: every page of it leaves cleancache. */
static void fast_cc_invalidate_file(struct fast *f, uint32_t fi)
{
    if (!f->tmem)
        return;
    f->c[TMEMFS_INVALIDATE_INODES]++;
    if (!f->sparse) {
        uint64_t base = (uint64_t)fi * f->stride;

        if (fi >= f->page_files)
            return;
        for (uint64_t d = base; d < base + f->stride && f->cc_count; d++)
            if (f->page[d].loc == FAST_CLEANCACHE)
                fast_cc_unlink(f, (uint32_t)d);
    } else {
        const struct fast_file *file = &f->files[fi];
        for (uint32_t i = 0; i < file->npages && f->cc_count; i++)
            if (f->page[file->pages[i]].loc == FAST_CLEANCACHE)
                fast_cc_unlink(f, file->pages[i]);
    }
}

/* ------------------------------------------------------------ guest cache */

/* Free frame fr (in use). */
static void fast_guest_remove(struct fast *f, uint32_t fr)
{
    f->page[f->frame_page[fr]].loc = FAST_NOWHERE;
    guest_replace_remove(&f->replace, fr);
    f->free_next[fr] = f->free_head;
    f->free_head = fr;
    f->guest_count--;
}

/* tmemfs_page_cache_insert of page d (index `index` of file fi), not in
 * the guest cache, with the eviction hook put. */
static int fast_guest_insert(struct fast *f, uint32_t d, uint32_t fi, uint32_t index)
{
    uint32_t fr;

    if (f->free_head == FAST_NONE) {
        uint32_t victim = guest_replace_victim(&f->replace);
        uint32_t vd = f->frame_page[victim];

        f->c[TMEMFS_GUEST_EVICTIONS]++;
        fast_guest_remove(f, victim);
        if (fast_cc_put(f, vd))
            return -ENOMEM;
    }
    fr = f->free_head;
    f->free_head = f->free_next[fr];
    f->frame_page[fr] = d;
    f->frame_file[fr] = fi;
    f->frame_index[fr] = index;
    guest_replace_insert(&f->replace, fr);
    f->page[d].loc = fr;
    f->guest_count++;
    /* LRU: the next victim's page entry, for the next eviction */
    if (f->replace.links && f->replace.lru.head != GUEST_REPLACE_NONE)
        __builtin_prefetch(&f->page[f->frame_page[f->replace.lru.head]]);
    return 0;
}

/* ------------------------------------------------------------ requests */

static int fast_request_room(struct fast *f, uint64_t n)
{
    uint64_t cap = f->req_cap ? f->req_cap : 64;
    uint32_t *pages;
    unsigned char *have;

    if (n <= f->req_cap)
        return 0;
    while (cap < n)
        cap *= 2;
    pages = realloc(f->req_pages, cap * sizeof(*pages));
    if (!pages)
        return -ENOMEM;
    f->req_pages = pages;
    have = realloc(f->req_have, cap);
    if (!have)
        return -ENOMEM;
    f->req_have = have;
    f->req_cap = cap;
    return 0;
}

static void fast_note_size(struct fast_file *file, uint64_t last)
{
    if (last + 1 > file->size_pages)
        file->size_pages = last + 1;
}

/* A read request: tmemfs_io_read_from's three passes. 0 or -ENOMEM. */
static int fast_read(struct fast *f)
{
    uint32_t fi = f->req_file, ps = f->page_size;
    struct fast_file *file = &f->files[fi];
    uint64_t n = f->req_n, i, j;
    uint32_t *pages = f->req_pages;
    unsigned char *have = f->req_have;

    /* pass 1: guest cache, then cleancache */
    for (i = 0; i < n; i++) {
        uint32_t d = pages[i], where = f->page[d].loc;

        if (where < FAST_CLEANCACHE) {
            guest_replace_touch(&f->replace, where);
            f->c[TMEMFS_GUEST_HITS]++;
            have[i] = 1;
            continue;
        }
        f->c[TMEMFS_GUEST_MISSES]++;
        have[i] = 0;
        if (!f->tmem)
            continue;
        if (where == FAST_CLEANCACHE) {
            f->c[TMEMFS_SUCC_GETS]++;
            fast_cc_unlink(f, d); /* a private pool's get is destructive */
            if (fast_guest_insert(f, d, fi, (uint32_t)(f->req_first + i)))
                return -ENOMEM;
            have[i] = 1;
        } else {
            f->c[TMEMFS_FAILED_GETS]++;
        }
    }
    /* pass 2: runs of missing pages from the backing file */
    for (i = 0; i < n; i = j) {
        if (have[i]) {
            j = i + 1;
            continue;
        }
        for (j = i; j < n && !have[j]; j++)
            ;
        (void)guest_device_note(&f->device, file->stream, (f->req_first + i) * ps,
                                (j - i) * ps, false);
        f->c[TMEMFS_BACKING_PAGES_READ] += j - i;
        f->c[TMEMFS_BACKING_BYTES_READ] += (j - i) * ps;
    }
    /* pass 3: insert what was read */
    for (i = 0; i < n; i++) {
        uint32_t d = pages[i], where;

        if (have[i])
            continue;
        where = f->page[d].loc;
        if (where < FAST_CLEANCACHE) /* present already: refreshed */
            guest_replace_touch(&f->replace, where);
        else if (fast_guest_insert(f, d, fi, (uint32_t)(f->req_first + i)))
            return -ENOMEM;
    }
    fast_note_size(file, f->req_first + n - 1);
    return 0;
}

/* tmemfs_io_invalidate_pages(first, last) of file fi, last <= UINT32_MAX. */
static int fast_invalidate(struct fast *f, uint32_t fi, uint64_t first, uint64_t last)
{
    uint64_t dropped = 0;
    uint32_t d;
    int rc;

    if (first > UINT32_MAX || first > last)
        return 0;
    if (last > UINT32_MAX)
        last = UINT32_MAX;
    /* the guest cache (tmemfs_page_cache_invalidate_range: page by page
     * for a range shorter than the cache, else frame by frame) */
    if (last - first < f->guest_frames) {
        for (uint64_t idx = first; idx <= last; idx++) {
            rc = fast_page_of(f, fi, idx, false, &d);
            if (rc)
                return rc;
            if (d != FAST_NONE && f->page[d].loc < FAST_CLEANCACHE) {
                fast_guest_remove(f, f->page[d].loc);
                dropped++;
            }
        }
    } else {
        for (uint32_t fr = 0; fr < f->guest_frames && f->guest_count; fr++) {
            if (guest_replace_in_use(&f->replace, fr) && f->frame_file[fr] == fi &&
                f->frame_index[fr] >= first && f->frame_index[fr] <= last) {
                fast_guest_remove(f, fr);
                dropped++;
            }
        }
    }
    f->c[TMEMFS_GUEST_INVALIDATES] += dropped;
    /* cleancache */
    if (!f->tmem)
        return 0;
    if (last - first >= FAST_INODE_THRESHOLD) {
        fast_cc_invalidate_file(f, fi);
        return 0;
    }
    for (uint64_t idx = first; idx <= last; idx++) {
        f->c[TMEMFS_INVALIDATES]++;
        rc = fast_page_of(f, fi, idx, false, &d);
        if (rc)
            return rc;
        if (d != FAST_NONE && f->page[d].loc == FAST_CLEANCACHE)
            fast_cc_unlink(f, d);
    }
    return 0;
}

/* A write request: tmemfs_io_note_write. */
static int fast_write(struct fast *f)
{
    uint32_t ps = f->page_size;
    struct fast_file *file = &f->files[f->req_file];
    uint64_t first = f->req_first, n = f->req_n;
    int rc = fast_invalidate(f, f->req_file, first, first + n - 1);

    if (rc)
        return rc;
    (void)guest_device_note(&f->device, file->stream, first * ps, n * ps, true);
    f->c[TMEMFS_BACKING_BYTES_WRITTEN] += n * ps;
    f->c[TMEMFS_BACKING_PAGES_WRITTEN] += n;
    fast_note_size(file, first + n - 1);
    return 0;
}

/* A read of one page (no request around it), compact numbering: what
 * fast_read does for n = 1, without the request arrays. 0 or -ENOMEM. */
static int fast_read_one(struct fast *f, const struct trace_record *rec)
{
    uint32_t fi = (uint32_t)rec->object, index = (uint32_t)rec->value;
    uint32_t d = (uint32_t)(rec->object * f->stride + rec->value), where = f->page[d].loc;
    struct fast_file *file = &f->files[fi];

    fast_note_size(file, index);
    if (where < FAST_CLEANCACHE) {
        guest_replace_touch(&f->replace, where);
        f->c[TMEMFS_GUEST_HITS]++;
        return 0;
    }
    f->c[TMEMFS_GUEST_MISSES]++;
    if (f->tmem) {
        if (where == FAST_CLEANCACHE) {
            f->c[TMEMFS_SUCC_GETS]++;
            fast_cc_unlink(f, d);
            return fast_guest_insert(f, d, fi, index);
        }
        f->c[TMEMFS_FAILED_GETS]++;
    }
    (void)guest_device_note(&f->device, file->stream, (uint64_t)index * f->page_size,
                            f->page_size, false);
    f->c[TMEMFS_BACKING_PAGES_READ]++;
    f->c[TMEMFS_BACKING_BYTES_READ] += f->page_size;
    return fast_guest_insert(f, d, fi, index);
}

static int fast_flush_request(struct fast *f)
{
    int rc = 0;

    if (f->req_n == 0)
        return 0;
    if (f->req_op == TRACE_OP_READ)
        rc = fast_read(f);
    else
        rc = fast_write(f);
    f->req_n = 0;
    return rc;
}

/* ------------------------------------------------------------ records */

/* Compact numbering: start loading the state of rec's page (far ahead). */
static inline void fast_prefetch(const struct fast *f, const struct trace_record *rec)
{
    if ((rec->op == TRACE_OP_READ || rec->op == TRACE_OP_WRITE) && rec->object < f->page_files &&
        rec->value < f->stride)
        __builtin_prefetch(&f->page[rec->object * f->stride + rec->value]);
}

/* Nearer: the state rec's page will touch, from its (prefetched) entry:
 * its guest frame's LRU neighbours (a hit moves it). Only a hint:
 * nothing is changed. */
static inline void fast_prefetch_near(const struct fast *f, const struct trace_record *rec)
{
    const struct fast_page *p;

    if ((rec->op != TRACE_OP_READ && rec->op != TRACE_OP_WRITE) || rec->object >= f->page_files ||
        rec->value >= f->stride)
        return;
    p = &f->page[rec->object * f->stride + rec->value];
    if (p->loc < FAST_CLEANCACHE && f->replace.links) {
        const struct index_list_links *l = &f->replace.links[p->loc];
        if (l->prev != GUEST_REPLACE_NONE)
            __builtin_prefetch(&f->replace.links[l->prev]);
        if (l->next != GUEST_REPLACE_NONE)
            __builtin_prefetch(&f->replace.links[l->next]);
    }
}

static void fast_set_capacity(struct fast *f, uint64_t bytes)
{
    f->store_bytes = bytes;
    f->store_pages = bytes == FAST_UNLIMITED ? FAST_UNLIMITED
                                             : bytes / (f->page_size + FAST_RECORD_BYTES);
    fast_cc_shrink(f, fast_cc_limit(f));
}

static int fast_record(struct fast *f, const struct trace_record *rec)
{
    uint32_t fi, d;
    int rc;

    switch (rec->op) {
    case TRACE_OP_READ:
    case TRACE_OP_WRITE:
        if (rec->continues && f->req_n) {
            fi = f->req_file;
        } else {
            rc = fast_flush_request(f);
            if (rc)
                return rc;
            rc = fast_file_of(f, rec->object, &fi);
            if (rc)
                return rc;
            f->req_op = rec->op;
            f->req_file = fi;
            f->req_first = rec->value;
        }
        rc = fast_request_room(f, f->req_n + 1);
        if (!rc)
            rc = fast_page_of(f, fi, rec->value, true, &d);
        if (rc)
            return rc;
        f->req_pages[f->req_n++] = d;
        return 0;
    case TRACE_OP_TRUNCATE:
    case TRACE_OP_UNLINK:
        rc = fast_flush_request(f);
        if (!rc)
            rc = fast_file_of(f, rec->object, &fi);
        if (rc)
            return rc;
        if (rec->op == TRACE_OP_TRUNCATE) {
            struct fast_file *file = &f->files[fi];
            uint64_t old = file->size_pages;

            if (rec->value < old)
                rc = fast_invalidate(f, fi, rec->value, old - 1);
            file->size_pages = rec->value;
            return rc;
        }
        /* tmemfs_io_invalidate_object: the whole guest cache scanned */
        {
            uint64_t dropped = 0;
            for (uint32_t fr = 0; fr < f->guest_frames && f->guest_count; fr++) {
                if (guest_replace_in_use(&f->replace, fr) && f->frame_file[fr] == fi) {
                    fast_guest_remove(f, fr);
                    dropped++;
                }
            }
            f->c[TMEMFS_GUEST_INVALIDATES] += dropped;
        }
        fast_cc_invalidate_file(f, fi);
        f->files[fi].size_pages = 0;
        return 0;
    case TRACE_OP_CAPACITY:
        rc = fast_flush_request(f);
        if (rc)
            return rc;
        fast_set_capacity(f, rec->value);
        return 0;
    default:
        return -EINVAL; /* anonymous: refused before */
    }
}

/* ------------------------------------------------------------ set-up */

/* Set f up for cfg and a trace of header h. Page numbers: sparse (ids
 * densified as they appear), or compact, laid out from info (a first
 * pass: NULL for none) or growing as pages appear. */
static int fast_init(struct fast *f, const struct replay_config *cfg,
                     const struct trace_header *h, const struct replay_trace_info *info,
                     bool sparse, char *err, size_t errlen)
{
    uint64_t files = info ? info->max_object + 1 : 0, stride = info ? info->max_page + 1 : 1;
    int rc;

    memset(f, 0, sizeof(*f));
    f->cfg = cfg;
    f->page_size = h->page_size;
    f->tmem = cfg->tmem;
    f->free_head = FAST_NONE;
    if (cfg->guest_pages == 0 || cfg->guest_pages >= FAST_CLEANCACHE) {
        error_text_set(err, errlen, "guest cache of %llu pages: expected 1..%u",
                       (unsigned long long)cfg->guest_pages, FAST_CLEANCACHE - 1);
        return -EINVAL;
    }
    f->guest_frames = (uint32_t)cfg->guest_pages;
    f->cap_pages = cfg->capacity_pages ? cfg->capacity_pages : FAST_UNLIMITED;
    f->store_bytes = cfg->capacity_bytes;
    f->store_pages = cfg->capacity_bytes == TMEM_CAPACITY_UNLIMITED
                         ? FAST_UNLIMITED
                         : cfg->capacity_bytes / (f->page_size + FAST_RECORD_BYTES);
    rc = guest_device_init(&f->device);
    if (rc)
        goto nomem;
    f->device_ready = true;
    rc = guest_replace_init(&f->replace, cfg->policy, f->guest_frames);
    if (rc) {
        error_text_set(err, errlen, "guest replacement: %s", strerror(-rc));
        return rc;
    }
    f->frame_page = malloc((size_t)f->guest_frames * sizeof(uint32_t));
    f->frame_file = malloc((size_t)f->guest_frames * sizeof(uint32_t));
    f->frame_index = malloc((size_t)f->guest_frames * sizeof(uint32_t));
    f->free_next = malloc((size_t)f->guest_frames * sizeof(uint32_t));
    if (!f->frame_page || !f->frame_file || !f->frame_index || !f->free_next)
        goto nomem;
    for (uint32_t i = 0; i < f->guest_frames; i++)
        f->free_next[i] = i + 1 < f->guest_frames ? i + 1 : FAST_NONE;
    f->free_head = 0;

    /* compact numbering when files x pages is small enough */
    f->compact_limit = 2 * (info ? info->records
                                 : h->count != TRACE_COUNT_UNKNOWN ? h->count : 1u << 23) +
                       65536;
    if (f->compact_limit >= FAST_CLEANCACHE)
        f->compact_limit = FAST_CLEANCACHE - 1;
    f->growing = !info;
    if (!sparse && (!info || (info->max_object < (1ull << 31) - 1 && stride <= (1ull << 32) &&
                              files * stride <= f->compact_limit))) {
        f->stride = stride;
        rc = fast_grow_files(f, files);
        if (!rc)
            rc = fast_grow_pages(f, files * stride);
        if (rc)
            goto nomem;
        f->nfiles = files;
        f->page_files = files;
        f->npages = files * stride;
        for (uint64_t i = 0; i < files; i++)
            fast_file_setup(&f->files[i], i);
    } else {
        f->sparse = true;
        if (id_map_create(&f->file_ids) || id_map_create(&f->page_ids))
            goto nomem;
    }
    return 0;
nomem:
    error_text_set(err, errlen, "out of memory");
    return -ENOMEM;
}

static void fast_destroy(struct fast *f)
{
    for (uint64_t i = 0; f->sparse && i < f->nfiles; i++)
        free(f->files[i].pages);
    free(f->files);
    free(f->page);
    free(f->ring);
    free(f->frame_page);
    free(f->frame_file);
    free(f->frame_index);
    free(f->free_next);
    free(f->req_pages);
    free(f->req_have);
    guest_replace_destroy(&f->replace);
    if (f->device_ready)
        guest_device_destroy(&f->device);
    id_map_destroy(f->file_ids);
    id_map_destroy(f->page_ids);
}

/* Counters and gauges into st and g. */
static void fast_collect(struct fast *f, struct tmemfs_stats *st, struct tmemfs_gauges *g)
{
    memcpy(st->c, f->c, sizeof(st->c));
    memset(g, 0, sizeof(*g));
    g->guest_pages = f->guest_count;
    g->guest_capacity = f->guest_frames;
    g->page_size = f->page_size;
    g->cleancache = f->tmem;
    g->pool_id = f->tmem ? 0 : -1;
    g->profile = f->cfg->device;
    guest_device_counts(&f->device, &g->device);
    if (f->tmem) {
        g->pool.pages = f->cc_count;
        g->pool.pages_raw = f->cc_count;
        g->pool.pages_evicted = f->cc_evicted;
        g->pool.data_bytes = f->cc_count * f->page_size;
        g->store.pages = f->cc_count;
        g->store.data_bytes = f->cc_count * f->page_size;
        g->store.capacity_bytes = f->store_bytes;
    }
}

static uint64_t fast_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Before a record that starts a request (or is no read/write): the
 * interrupt and progress every FAST_CHECK_EVERY records, a series row if
 * one is due. 1 to stop (interrupted), 0 to go on, or -errno. */
static int fast_between(struct fast *f, struct replay_series *series, uint64_t records,
                        uint64_t *next_check, struct replay_result *res, char *err,
                        size_t errlen)
{
    const struct replay_config *cfg = f->cfg;
    int rc;

    if (records >= *next_check) {
        *next_check = records + FAST_CHECK_EVERY;
        replay_progress_records(cfg, records);
        if (replay_interrupted(cfg)) {
            res->interrupted = true;
            return 1;
        }
    }
    if (replay_series_due(series, records)) {
        struct tmemfs_stats st;
        struct tmemfs_gauges g;

        rc = fast_flush_request(f);
        if (rc) {
            error_text_set(err, errlen, "%s: %s", cfg->trace_path, strerror(-rc));
            return rc;
        }
        fast_collect(f, &st, &g);
        if (replay_series_row(series, records, &st, &g)) {
            error_text_set(err, errlen, "series: write error");
            return -EIO;
        }
    }
    return 0;
}

/* The first pass: the header, the records, the largest file id and page
 * index (what replay_trace_scan finds, read in batches). 0 or -errno. */
static int fast_scan(const char *path, struct trace_record *batch, struct replay_trace_info *info,
                     char *err, size_t errlen)
{
    struct trace_reader *r = NULL;
    int rc, got;

    memset(info, 0, sizeof(*info));
    rc = trace_reader_open(path, &r, err, errlen);
    if (rc)
        return rc;
    info->header = *trace_reader_header(r);
    while ((got = trace_reader_next_batch(r, batch, FAST_BATCH, err, errlen)) > 0) {
        info->records += (uint64_t)got;
        for (int i = 0; i < got; i++) {
            const struct trace_record *rec = &batch[i];

            if (rec->op == TRACE_OP_READ || rec->op == TRACE_OP_WRITE) {
                if (rec->value > info->max_page)
                    info->max_page = rec->value;
                if (rec->object > info->max_object)
                    info->max_object = rec->object;
            } else if (rec->op == TRACE_OP_TRUNCATE || rec->op == TRACE_OP_UNLINK) {
                if (rec->object > info->max_object)
                    info->max_object = rec->object;
            }
        }
    }
    trace_reader_close(r);
    return got;
}

int replay_fast_run(const struct replay_config *cfg, struct replay_result *res, char *err,
                    size_t errlen)
{
    struct replay_trace_info info;
    struct trace_reader *r = NULL;
    struct trace_record *batch = NULL;
    struct replay_series series;
    struct trace_header h;
    struct fast f;
    bool ready = false, sparse = false;
    /* A series is written as the replay goes: lay the pages out from a
     * first pass, so that the replay never starts again. */
    bool scan = cfg->series && cfg->series_every;
    uint64_t start = fast_now_ns(), records, requests, next_check;
    int rc, got;

    batch = malloc(FAST_BATCH * sizeof(*batch));
    if (!batch) {
        error_text_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
again:
    records = requests = 0;
    next_check = FAST_CHECK_EVERY;
    if (scan) {
        rc = fast_scan(cfg->trace_path, batch, &info, err, errlen);
        if (rc)
            goto out;
    }
    rc = trace_reader_open(cfg->trace_path, &r, err, errlen);
    if (rc)
        goto out;
    h = *trace_reader_header(r);
    if (h.kind != TRACE_KIND_FILE) {
        error_text_set(err, errlen,
                       "%s: metadata mode replays file traces; anonymous traces always run "
                       "through the swapsim guest (--mode data)", cfg->trace_path);
        rc = -EINVAL;
        goto out;
    }
    res->kind = TRACE_KIND_FILE;
    rc = fast_init(&f, cfg, &h, scan ? &info : NULL, sparse, err, errlen);
    ready = true;
    if (rc)
        goto out;
    replay_series_init(&series, cfg);
    replay_progress_total(cfg, scan ? info.records : h.count != TRACE_COUNT_UNKNOWN ? h.count : 0);
    while ((got = trace_reader_next_batch(r, batch, FAST_BATCH, err, errlen)) > 0) {
        /* compact numbering: fetch the pages' state FAST_PREFETCH records
         * ahead, so the cache misses overlap */
        for (int i = 0; !f.sparse && i < got && i < FAST_PREFETCH; i++)
            fast_prefetch(&f, &batch[i]);
        for (int i = 0; i < got; i++) {
            const struct trace_record *rec = &batch[i];

            if (!f.sparse && i + FAST_PREFETCH < got)
                fast_prefetch(&f, &batch[i + FAST_PREFETCH]);
            if (!f.sparse && i + FAST_PREFETCH_NEAR < got)
                fast_prefetch_near(&f, &batch[i + FAST_PREFETCH_NEAR]);
            if (!rec->continues) {
                rc = fast_between(&f, &series, records, &next_check, res, err, errlen);
                if (rc)
                    goto stop;
                if (rec->op == TRACE_OP_READ || rec->op == TRACE_OP_WRITE)
                    requests++;
            }
            if (rec->op == TRACE_OP_READ && !rec->continues && !f.sparse &&
                rec->object < f.page_files && rec->value < f.stride &&
                (i + 1 < got && !batch[i + 1].continues)) {
                /* a lone page read: straight through */
                rc = fast_flush_request(&f);
                if (!rc)
                    rc = fast_read_one(&f, rec);
            } else {
                rc = fast_record(&f, rec);
            }
            if (rc == -E2BIG && f.growing) {
                /* ids too sparse for arrays: start again, densifying them */
                fast_destroy(&f);
                ready = false;
                trace_reader_close(r);
                r = NULL;
                sparse = true;
                goto again;
            }
            if (rc) {
                error_text_set(err, errlen, "%s:record %llu: %s", cfg->trace_path,
                               (unsigned long long)records + 1, strerror(-rc));
                goto stop;
            }
            records++;
        }
    }
    rc = got;
stop:
    if (rc == 1)
        rc = 0; /* interrupted */
    if (rc == 0) {
        rc = fast_flush_request(&f);
        if (rc)
            error_text_set(err, errlen, "%s: %s", cfg->trace_path, strerror(-rc));
    }
    replay_progress_records(cfg, records);
    res->records = records;
    res->requests = requests;
    fast_collect(&f, &res->counters, &res->gauges);
    if (!rc && replay_series_end(&series, records, &res->counters, &res->gauges)) {
        rc = -EIO;
        error_text_set(err, errlen, "series: write error");
    }
    res->wall_seconds = (double)(fast_now_ns() - start) / 1e9;
out:
    free(batch);
    trace_reader_close(r);
    if (ready)
        fast_destroy(&f);
    return rc;
}
