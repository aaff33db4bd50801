/*
 * replay_file.c - data mode for file traces: every record goes through
 * tmemfs's own read/write path (tmemfs_io: the guest page cache, the
 * cleancache glue on a real tmem store, the device model), with page
 * contents generated instead of read from backing files.
 *
 * Models: one tmemfs mount with one file system (one tmem client, one
 * private ephemeral pool) whose backing files hold, at page P of file F,
 * the bytes swapsim_content_fill gives for a seed mixed from (F, its
 * generation), page P and the page's version. The trace's file id F is
 * the tmem object id {F, 0, 0}. Requests: a read or write record and the
 * records that continue it are one request (first..last page of one
 * file): a read is tmemfs_io_read_from with this module as the source, a
 * write bumps each page's version and is tmemfs_io_note_write (the
 * invalidations a mount's write makes). Truncate: tmemfs_io_note_truncate
 * from the file's size as far as the trace shows it (the largest page
 * seen + 1, or the last truncate) to the new length; the pages past the
 * new end get a new version (their old bytes are gone), counted without
 * walking them. Unlink:
 * tmemfs_io_invalidate_object, and the id's generation moves on, so a
 * later file of the same id has other bytes. Capacity: tmem_set_capacity.
 * Every page a read returns is compared with what it must hold: a
 * difference is a stale or corrupt cleancache page (counted as a
 * mismatch; -EIO at the end).
 *
 * Data structures: files in an id_map (file id -> dense index) with an
 * array of {generation, size in pages, versioned}; page versions in a
 * second id_map keyed by (file, generation, page) -> index into an array
 * of versions, holding only pages of files that were ever written or
 * written (a file never written has every page at version 0 and no
 * entries); per file the lengths its truncates cut it to, ascending (a
 * page's version adds how many of them are <= the page). Locking: none; one thread per replay (tmemfs_io locks
 * inside).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"
#include "common/hash.h"
#include "fuse_cleancache/tmemfs_io.h"
#include "replay/replay_internal.h"
#include "trace/id_map.h"

#define REPLAY_CONTENT_SEED 0x7265706c61794aULL /* "replayJ" */
#define REPLAY_PROGRESS_STEP 4096

struct replay_file_state {
    uint64_t id;         /* the trace's file id */
    uint64_t generation; /* unlinks of this id so far */
    uint64_t pages;      /* size in pages as far as the trace shows */
    bool versioned;      /* some page was written */
    /* The lengths (pages) of the truncates that shrank this generation,
     * ascending: a page p has been cut away once for each length <= p,
     * which adds to its version (no walk over the pages cut, however
     * many). */
    uint64_t *cuts;
    size_t ncuts, cuts_cap;
};

struct replay_file_ctx {
    const struct replay_config *cfg;
    uint32_t page_size;
    struct swapsim_content_mix mix;
    struct tmem *tm;
    struct tmem_client *client;
    struct tmemfs_stats stats;
    struct tmemfs_io io;
    bool io_ready;
    struct id_map *files;
    struct replay_file_state *file;
    size_t file_cap;
    struct id_map *pages;
    uint32_t *version;
    size_t version_cap;
    char *buf, *expect; /* a request's pages, and one page's expected bytes */
    size_t buf_pages;
    uint64_t mismatches;
    struct replay_file_state *src_file; /* the file a read's source fills */
};

/* The state of file id (added at size 0 when new), or NULL out of memory. */
static struct replay_file_state *replay_file_lookup(struct replay_file_ctx *x, uint64_t id)
{
    uint32_t i;
    bool added;

    if (id_map_get(x->files, &id, sizeof(id), &i, &added) < 0)
        return NULL;
    if (added) {
        if (i >= x->file_cap) {
            size_t cap = x->file_cap ? x->file_cap * 2 : 64;
            struct replay_file_state *f = realloc(x->file, cap * sizeof(*f));
            if (!f)
                return NULL;
            x->file = f;
            x->file_cap = cap;
        }
        memset(&x->file[i], 0, sizeof(x->file[i]));
        x->file[i].id = id;
    }
    return &x->file[i];
}

/* The version slot of page of f (added at version 0), or NULL out of
 * memory. */
static uint32_t *replay_version_slot(struct replay_file_ctx *x, const struct replay_file_state *f,
                                     uint64_t page)
{
    uint64_t key[3] = { f->id, f->generation, page };
    uint32_t i;
    bool added;

    if (id_map_get(x->pages, key, sizeof(key), &i, &added) < 0)
        return NULL;
    if (added) {
        if (i >= x->version_cap) {
            size_t cap = x->version_cap ? x->version_cap * 2 : 1024;
            uint32_t *v = realloc(x->version, cap * sizeof(*v));
            if (!v)
                return NULL;
            x->version = v;
            x->version_cap = cap;
        }
        x->version[i] = 0;
    }
    return &x->version[i];
}

/* How many truncates cut page away: the cuts <= page (binary search). */
static uint64_t replay_cuts_below(const struct replay_file_state *f, uint64_t page)
{
    size_t lo = 0, hi = f->ncuts;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->cuts[mid] <= page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Page's current version: its writes plus the truncates that cut it away
 * (0 for a file never changed). Only grows, so no older bytes of a page
 * ever equal its current ones. -ENOMEM as -1. */
static int64_t replay_version(struct replay_file_ctx *x, const struct replay_file_state *f,
                              uint64_t page)
{
    uint64_t cut = f->ncuts ? replay_cuts_below(f, page) : 0;
    uint32_t *v;

    if (!f->versioned)
        return (int64_t)cut;
    v = replay_version_slot(x, f, page);
    return v ? (int64_t)(*v + cut) : -1;
}

/* Note a truncate of f to `pages` pages (fewer than it had). */
static int replay_add_cut(struct replay_file_state *f, uint64_t pages)
{
    size_t at = replay_cuts_below(f, pages);

    if (f->ncuts == f->cuts_cap) {
        size_t cap = f->cuts_cap ? f->cuts_cap * 2 : 4;
        uint64_t *c = realloc(f->cuts, cap * sizeof(*c));
        if (!c)
            return -ENOMEM;
        f->cuts = c;
        f->cuts_cap = cap;
    }
    memmove(f->cuts + at + 1, f->cuts + at, (f->ncuts - at) * sizeof(*f->cuts));
    f->cuts[at] = pages;
    f->ncuts++;
    return 0;
}

/* The bytes page of f holds now, into out (page_size bytes). */
static int replay_page_fill(struct replay_file_ctx *x, const struct replay_file_state *f,
                            uint64_t page, void *out)
{
    uint64_t words[2] = { f->id, f->generation };
    int64_t version = replay_version(x, f, page);

    if (version < 0)
        return -ENOMEM;
    swapsim_content_fill(out, x->page_size, hash_words(words, 2) ^ REPLAY_CONTENT_SEED, &x->mix,
                         (uint32_t)page, (uint32_t)version);
    return 0;
}

/* tmemfs_io_source_fn: the "backing file" of x->src_file. */
static ssize_t replay_file_source(void *arg, char *buf, size_t len, uint64_t off)
{
    struct replay_file_ctx *x = arg;
    uint32_t ps = x->page_size;

    for (size_t done = 0; done < len; done += ps) {
        int rc = replay_page_fill(x, x->src_file, (off + done) / ps, buf + done);
        if (rc < 0)
            return rc;
    }
    return (ssize_t)len;
}

static int replay_buf_reserve(struct replay_file_ctx *x, uint64_t pages)
{
    char *b;

    if (pages <= x->buf_pages)
        return 0;
    b = realloc(x->buf, pages * x->page_size);
    if (!b)
        return -ENOMEM;
    x->buf = b;
    x->buf_pages = pages;
    return 0;
}

static void replay_oid(uint64_t id, struct tmem_oid *oid)
{
    memset(oid, 0, sizeof(*oid));
    oid->oid[0] = id;
}

/* The file grows to hold page last. */
static void replay_file_grow(struct replay_file_state *f, uint64_t last)
{
    if (last + 1 > f->pages)
        f->pages = last + 1;
}

/* One read request: pages first..first+n-1 of file id. */
static int replay_read(struct replay_file_ctx *x, uint64_t id, uint64_t first, uint64_t n,
                       char *err, size_t errlen)
{
    uint32_t ps = x->page_size;
    struct replay_file_state *f = replay_file_lookup(x, id);
    struct tmem_oid oid;
    ssize_t got;
    int rc;

    if (!f || replay_buf_reserve(x, n) < 0)
        goto nomem;
    replay_file_grow(f, first + n - 1);
    replay_oid(id, &oid);
    x->src_file = f;
    got = tmemfs_io_read_from(&x->io, &oid, UINT64_MAX, x->buf, n * ps, first * ps,
                              replay_file_source, x);
    if (got < 0) {
        error_text_set(err, errlen, "%s: reading pages %" PRIu64 "..%" PRIu64 " of file %" PRIu64
                       ": %s", x->cfg->trace_path, first, first + n - 1, id, strerror((int)-got));
        return (int)got;
    }
    for (uint64_t i = 0; i < n; i++) {
        rc = replay_page_fill(x, f, first + i, x->expect);
        if (rc < 0)
            goto nomem;
        if (memcmp(x->buf + i * ps, x->expect, ps) != 0)
            x->mismatches++;
    }
    return 0;
nomem:
    error_text_set(err, errlen, "out of memory");
    return -ENOMEM;
}

/* One write request: the pages get new contents, then the mount's
 * invalidations. */
static int replay_write(struct replay_file_ctx *x, uint64_t id, uint64_t first, uint64_t n,
                        char *err, size_t errlen)
{
    struct replay_file_state *f = replay_file_lookup(x, id);
    struct tmem_oid oid;

    if (!f)
        goto nomem;
    f->versioned = true;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t *v = replay_version_slot(x, f, first + i);
        if (!v)
            goto nomem;
        (*v)++;
    }
    replay_file_grow(f, first + n - 1);
    replay_oid(id, &oid);
    tmemfs_io_note_write(&x->io, &oid, first * x->page_size, n * x->page_size);
    return 0;
nomem:
    error_text_set(err, errlen, "out of memory");
    return -ENOMEM;
}

static int replay_truncate(struct replay_file_ctx *x, uint64_t id, uint64_t pages, char *err,
                           size_t errlen)
{
    struct replay_file_state *f = replay_file_lookup(x, id);
    struct tmem_oid oid;

    if (!f)
        goto nomem;
    replay_oid(id, &oid);
    tmemfs_io_note_truncate(&x->io, &oid, f->pages * x->page_size, pages * x->page_size);
    /* the pages past the new end are gone: if they come back, they are
     * other bytes */
    if (pages < f->pages && replay_add_cut(f, pages) < 0)
        goto nomem;
    f->pages = pages;
    return 0;
nomem:
    error_text_set(err, errlen, "out of memory");
    return -ENOMEM;
}

static int replay_unlink(struct replay_file_ctx *x, uint64_t id, char *err, size_t errlen)
{
    struct replay_file_state *f = replay_file_lookup(x, id);
    struct tmem_oid oid;

    if (!f) {
        error_text_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
    replay_oid(id, &oid);
    tmemfs_io_invalidate_object(&x->io, &oid);
    f->generation++;
    f->pages = 0;
    f->versioned = false;
    f->ncuts = 0;
    return 0;
}

static int replay_file_setup(struct replay_file_ctx *x, const struct replay_config *cfg,
                             uint32_t page_size, char *err, size_t errlen)
{
    struct tmem_config tc;
    struct tmemfs_page_cache *pc;
    struct tmemfs_cleancache cc;
    int rc;

    x->cfg = cfg;
    x->page_size = page_size;
    swapsim_content_mix_default(&x->mix);
    tmemfs_stats_init(&x->stats);
    if (id_map_create(&x->files) < 0 || id_map_create(&x->pages) < 0 ||
        !(x->expect = malloc(page_size)))
        goto nomem;
    tmem_config_init(&tc);
    tc.capacity_bytes = cfg->capacity_bytes;
    tc.page_size = page_size;
    tc.compressor = cfg->compressor;
    tc.compress_level = cfg->compress_level;
    tc.dedup = cfg->dedup;
    tc.same_filled = cfg->same_filled;
    x->tm = tmem_create(&tc);
    if (!x->tm) {
        error_text_set(err, errlen, "%s: cannot create a tmem store for pages of %" PRIu32
                       " bytes: %s", cfg->trace_path, page_size, strerror(errno));
        return errno ? -errno : -EINVAL;
    }
    x->client = tmem_client_create(x->tm, "tmem-replay");
    if (!x->client)
        goto nomem;
    if (cfg->capacity_pages) {
        rc = tmem_client_set_cap(x->client, cfg->capacity_pages * ((uint64_t)page_size + 32));
        if (rc < 0) {
            error_text_set(err, errlen, "--capacity-pages %" PRIu64 ": %s", cfg->capacity_pages,
                           strerror(-rc));
            return rc;
        }
    }
    pc = tmemfs_page_cache_create((size_t)cfg->guest_pages, page_size, cfg->policy);
    if (!pc)
        goto nomem;
    if (cfg->tmem) {
        rc = tmemfs_cleancache_init_fs(&cc, x->client, page_size, &x->stats);
        if (rc < 0) {
            tmemfs_page_cache_destroy(pc);
            error_text_set(err, errlen, "cleancache init failed: %s", strerror(-rc));
            return rc;
        }
    } else {
        tmemfs_cleancache_init_disabled(&cc, &x->stats);
    }
    rc = tmemfs_io_init(&x->io, pc, &cc, &x->stats);
    if (rc < 0) {
        tmemfs_cleancache_invalidate_fs(&cc);
        tmemfs_page_cache_destroy(pc);
        error_text_set(err, errlen, "%s", strerror(-rc));
        return rc;
    }
    x->io_ready = true;
    tmemfs_io_set_device(&x->io, &cfg->device, TMEMFS_DELAY_NONE, 0);
    return 0;
nomem:
    error_text_set(err, errlen, "out of memory");
    return -ENOMEM;
}

static void replay_file_teardown(struct replay_file_ctx *x)
{
    if (x->io_ready)
        tmemfs_io_destroy(&x->io);
    tmem_client_destroy(x->client);
    tmem_destroy(x->tm);
    /* files 0 .. count-1 are set up (all below file_cap, unless growing
     * the array failed for the last) */
    for (uint32_t i = 0; x->files && i < id_map_count(x->files) && i < x->file_cap; i++)
        free(x->file[i].cuts);
    id_map_destroy(x->files);
    id_map_destroy(x->pages);
    free(x->file);
    free(x->version);
    free(x->buf);
    free(x->expect);
}

static void replay_file_collect(struct replay_file_ctx *x, struct replay_result *res)
{
    for (int c = 0; c < TMEMFS_NR_COUNTERS; c++)
        res->counters.c[c] = tmemfs_stats_get(&x->stats, (enum tmemfs_counter)c);
    tmemfs_io_gauges(&x->io, &res->gauges);
    if (!res->gauges.cleancache)
        (void)tmem_stats(x->tm, &res->gauges.store);
    res->mismatches = x->mismatches;
}

/* A pending read or write request. */
struct replay_request {
    enum trace_op op; /* 0: none */
    uint64_t file, first, n;
};

static int replay_request_flush(struct replay_file_ctx *x, struct replay_request *rq,
                                struct replay_result *res, char *err, size_t errlen)
{
    int rc = 0;

    if (rq->op == TRACE_OP_READ)
        rc = replay_read(x, rq->file, rq->first, rq->n, err, errlen);
    else if (rq->op == TRACE_OP_WRITE)
        rc = replay_write(x, rq->file, rq->first, rq->n, err, errlen);
    else
        return 0;
    res->requests++;
    res->records += rq->n;
    rq->op = 0;
    return rc;
}

/* After records are applied: a series row if one is due. */
static int replay_series_step(struct replay_file_ctx *x, struct replay_series *s,
                              const struct replay_result *res)
{
    struct tmemfs_gauges g;
    struct tmemfs_stats st;

    if (!replay_series_due(s, res->records))
        return 0;
    for (int c = 0; c < TMEMFS_NR_COUNTERS; c++)
        st.c[c] = tmemfs_stats_get(&x->stats, (enum tmemfs_counter)c);
    tmemfs_io_gauges(&x->io, &g);
    return replay_series_row(s, res->records, &st, &g);
}

int replay_file_run(const struct replay_config *cfg, const struct replay_trace_info *info,
                    struct replay_result *res, char *err, size_t errlen)
{
    struct replay_file_ctx x;
    struct replay_request rq = { 0 };
    struct replay_series series;
    struct trace_reader *r = NULL;
    struct trace_record rec;
    uint64_t shown = 0;
    char where[1100];
    int rc, rd;

    memset(&x, 0, sizeof(x));
    replay_series_init(&series, cfg);
    rc = trace_reader_open(cfg->trace_path, &r, err, errlen);
    if (rc < 0) {
        if (rc != -EINVAL)
            error_text_set(err, errlen, "%s: %s", cfg->trace_path, strerror(-rc));
        return rc;
    }
    rc = replay_file_setup(&x, cfg, info->header.page_size, err, errlen);
    if (rc < 0)
        goto out;
    while ((rd = trace_reader_next(r, &rec, err, errlen)) == 1) {
        if (rec.continues) {
            rq.n++; /* the reader checked it continues rq */
            continue;
        }
        rc = replay_request_flush(&x, &rq, res, err, errlen);
        if (rc == 0)
            rc = replay_series_step(&x, &series, res);
        if (rc < 0)
            goto out;
        if (replay_interrupted(cfg)) {
            res->interrupted = true;
            break;
        }
        if (res->records - shown >= REPLAY_PROGRESS_STEP) {
            replay_progress_records(cfg, res->records);
            shown = res->records;
        }
        switch (rec.op) {
        case TRACE_OP_READ:
        case TRACE_OP_WRITE:
            rq.op = rec.op;
            rq.file = rec.object;
            rq.first = rec.value;
            rq.n = 1;
            continue;
        case TRACE_OP_TRUNCATE:
            rc = replay_truncate(&x, rec.object, rec.value, err, errlen);
            break;
        case TRACE_OP_UNLINK:
            rc = replay_unlink(&x, rec.object, err, errlen);
            break;
        case TRACE_OP_CAPACITY:
            rc = tmem_set_capacity(x.tm, rec.value);
            if (rc < 0) {
                trace_reader_where(r, where, sizeof(where));
                error_text_set(err, errlen, "%s: capacity %" PRIu64 ": %s", where, rec.value,
                               strerror(-rc));
            }
            break;
        default:
            rc = -EINVAL;
            trace_reader_where(r, where, sizeof(where));
            error_text_set(err, errlen, "%s: %s is not a file record", where,
                           trace_op_name(rec.op));
            break;
        }
        if (rc < 0)
            goto out;
        res->records++;
        rc = replay_series_step(&x, &series, res);
        if (rc < 0)
            goto out;
    }
    if (!res->interrupted) {
        if (rd < 0) {
            rc = rd;
            goto out;
        }
        rc = replay_request_flush(&x, &rq, res, err, errlen);
        if (rc < 0)
            goto out;
    }
    replay_progress_records(cfg, res->records);
    replay_file_collect(&x, res);
    rc = replay_series_end(&series, res->records, &res->counters, &res->gauges);
    if (rc < 0) {
        error_text_set(err, errlen, "--series: write failed");
        goto out;
    }
    if (x.mismatches) {
        error_text_set(err, errlen, "%s: %" PRIu64 " pages read back differ from what they "
                       "must hold (a stale or corrupt cleancache page: a bug)",
                       cfg->trace_path, x.mismatches);
        rc = -EIO;
    }
out:
    if (rc < 0 && x.io_ready && res->records)
        replay_file_collect(&x, res);
    replay_file_teardown(&x);
    trace_reader_close(r);
    return rc;
}
