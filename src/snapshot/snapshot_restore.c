/*
 * snapshot_restore.c - loading a save file into a client, all or nothing,
 * and describing one.
 *
 * A restore reads the file twice (snapshot_read.c does the reading and
 * every check):
 *  1. check: the whole file, every record, every count, no duplicate
 *     handle; nothing in the store is touched, and a bad file is refused
 *     here with the reader's message.
 *  2. load: the pools are created (tmem_new_pool: new ids; a shared pool
 *     joins the store's pool of its uuid), then the file is read again,
 *     checked again, and every page put. A put refused for room (-ENOSPC)
 *     is counted and the next tried; any other failure stops the load.
 * After a refused put, a failed put, a pool that could not be made or a
 * file that no longer reads the same, everything is undone: the pages put
 * into shared pools are flushed (their handles are kept in a malloc'ed
 * array) and every pool made is destroyed (a private pool takes its pages
 * with it; a shared pool others hold lives on without them).
 *
 * No state outside the call; no locks of its own (the store's calls are
 * thread-safe; the client must not be destroyed meanwhile).
 */
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A page put into a shared pool, to flush on a rollback. */
struct snapshot_put_handle {
    struct tmem_oid oid;
    uint32_t pool, index;
};

/* The load in progress. */
struct snapshot_load {
    struct tmem_client *c;
    const struct snapshot_reader *r;
    int ids[TMEM_MAX_POOLS_PER_CLIENT]; /* file pool i -> new pool id; -1 none */
    uint32_t made;                      /* pools made: ids[0 .. made) */
    uint64_t put, refused;
    int failure;                        /* the first put failure other than -ENOSPC */
    uint64_t failure_record;
    struct snapshot_put_handle *shared;
    size_t shared_count, shared_room;
};

static int snapshot_remember_shared(struct snapshot_load *l, uint32_t pool,
                                    const struct tmem_oid *oid, uint32_t index)
{
    if (l->shared_count == l->shared_room) {
        size_t room = l->shared_room ? 2 * l->shared_room : 256;
        struct snapshot_put_handle *h = realloc(l->shared, room * sizeof(*h));
        if (!h)
            return -ENOMEM;
        l->shared = h;
        l->shared_room = room;
    }
    l->shared[l->shared_count].oid = *oid;
    l->shared[l->shared_count].pool = pool;
    l->shared[l->shared_count].index = index;
    l->shared_count++;
    return 0;
}

/* The reader's callback in the load pass: put the page. */
static int snapshot_put_page(void *arg, uint64_t record, uint32_t pool,
                             const struct tmem_oid *oid, uint32_t index, const void *page)
{
    struct snapshot_load *l = arg;
    int rc = tmem_put(l->c, l->ids[pool], oid, index, page);

    if (rc == -ENOSPC) {
        l->refused++;
        return 0;
    }
    if (rc == 0 && (l->r->pools[pool].flags & TMEM_POOL_SHARED))
        rc = snapshot_remember_shared(l, pool, oid, index);
    if (rc) {
        l->failure = rc;
        l->failure_record = record;
        return rc;
    }
    l->put++;
    return 0;
}

/* Undo the load: flush what went into shared pools, destroy the pools. */
static void snapshot_rollback(struct snapshot_load *l)
{
    for (size_t i = 0; i < l->shared_count; i++)
        tmem_flush_page(l->c, l->ids[l->shared[i].pool], &l->shared[i].oid,
                        l->shared[i].index);
    for (uint32_t i = 0; i < l->made; i++)
        tmem_destroy_pool(l->c, l->ids[i]);
    l->made = 0;
}

static void snapshot_fill_stats(struct snapshot_stats *st, const struct snapshot_reader *r,
                                uint64_t pages, uint64_t refused)
{
    if (!st)
        return;
    memset(st, 0, sizeof(*st));
    st->pools = r->pool_count;
    st->pages = pages;
    st->pages_compressed = r->pages_compressed;
    st->page_bytes = pages * r->page_size;
    st->file_bytes = r->file_bytes;
    st->pages_refused = refused;
}

/* Pass 2: make the pools and put the pages, or undo it all. */
static int snapshot_load(struct snapshot_load *l, const struct snapshot_reader *checked,
                         const char *path, char *err, size_t errlen)
{
    struct snapshot_reader again;
    char why[512];
    int rc;

    for (uint32_t i = 0; i < checked->pool_count; i++) {
        const struct snapshot_file_pool *fp = &checked->pools[i];
        rc = tmem_new_pool(l->c, fp->flags, (fp->flags & TMEM_POOL_SHARED) ? fp->uuid : NULL);
        if (rc < 0) {
            snapshot_rollback(l);
            return snapshot_error(err, errlen, rc, "%s:record %" PRIu32 ": cannot create pool "
                                  "(saved id %" PRIu32 "): %s; nothing restored", path, i + 1,
                                  fp->saved_id, strerror(-rc));
        }
        l->ids[l->made++] = rc;
    }
    memset(&again, 0, sizeof(again));
    again.path = path;
    again.err = why;
    again.errlen = sizeof(why);
    again.want_page_size = checked->page_size;
    l->r = &again;
    rc = snapshot_read(&again, snapshot_put_page, l);
    if (rc == 0 && again.pages != checked->pages)
        rc = snapshot_error(why, sizeof(why), -EINVAL, "%s: %" PRIu64 " pages, %" PRIu64
                            " when checked", path, again.pages, checked->pages);
    if (l->failure) {
        snapshot_error(err, errlen, rc, "%s:record %" PRIu64 ": put failed: %s; nothing "
                       "restored", path, l->failure_record, strerror(-l->failure));
    } else if (rc) {
        snapshot_error(err, errlen, rc, "%s: changed while being restored (%s); nothing "
                       "restored", path, why);
    } else if (l->refused) {
        rc = snapshot_error(err, errlen, -ENOSPC, "%s: %" PRIu64 " of %" PRIu64 " pages did "
                            "not fit (the store's capacity or the client's cap); nothing "
                            "restored", path, l->refused, checked->pages);
    }
    snapshot_reader_fini(&again);
    if (rc)
        snapshot_rollback(l);
    return rc;
}

int snapshot_restore(struct tmem_client *c, const char *path,
                     const struct snapshot_restore_options *o, struct snapshot_stats *st,
                     char *err, size_t errlen)
{
    struct snapshot_reader r;
    struct snapshot_load l;
    int rc;

    if (st)
        memset(st, 0, sizeof(*st));
    if (!c || !path)
        return snapshot_error(err, errlen, -EINVAL, "%s: no client or no file name",
                              path ? path : "(null)");
    memset(&r, 0, sizeof(r));
    r.path = path;
    r.err = err;
    r.errlen = errlen;
    r.want_page_size = tmem_page_size(tmem_client_store(c));
    r.check_handles = true;
    rc = snapshot_read(&r, NULL, NULL);
    if (rc)
        goto out;
    if (o && o->check_only) {
        snapshot_fill_stats(st, &r, r.pages, 0);
        goto out;
    }
    memset(&l, 0, sizeof(l));
    l.c = c;
    rc = snapshot_load(&l, &r, path, err, errlen);
    snapshot_fill_stats(st, &r, rc ? 0 : l.put, l.refused);
    if (rc == 0 && o && o->pools) {
        for (uint32_t i = 0; i < r.pool_count && i < o->pools_max; i++) {
            o->pools[i].saved_id = (int)r.pools[i].saved_id;
            o->pools[i].pool_id = l.ids[i];
            o->pools[i].flags = r.pools[i].flags;
            o->pools[i].pages = r.pools[i].pages;
        }
    }
    free(l.shared);
out:
    snapshot_reader_fini(&r);
    return rc;
}

int snapshot_describe(const char *path, FILE *out, char *err, size_t errlen)
{
    struct snapshot_reader r;
    char when[64] = "?";
    struct tm tmv;
    time_t t;
    int rc;

    if (!path || !out)
        return snapshot_error(err, errlen, -EINVAL, "no file name or no output");
    memset(&r, 0, sizeof(r));
    r.path = path;
    r.err = err;
    r.errlen = errlen;
    r.check_handles = true;
    rc = snapshot_read(&r, NULL, NULL);
    if (rc)
        goto out;
    t = (time_t)r.created;
    if (gmtime_r(&t, &tmv))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tmv);
    fprintf(out, "%s: tmem save file version %" PRIu32 ", page size %" PRIu32 ", saved %s, "
            "client \"%s\"\n", path, r.version, r.page_size, when, r.name);
    for (uint32_t i = 0; i < r.pool_count; i++) {
        const struct snapshot_file_pool *fp = &r.pools[i];
        fprintf(out, "  pool %" PRIu32 " (saved id %" PRIu32 "): %s%s, %" PRIu64 " pages",
                i, fp->saved_id, (fp->flags & TMEM_POOL_SHARED) ? "persistent shared"
                                                                 : "persistent private",
                (fp->flags & TMEM_POOL_EXCLUSIVE_GETS) ? " exclusive-gets" : "", fp->pages);
        if (fp->flags & TMEM_POOL_SHARED) {
            fputs(", uuid ", out);
            for (int b = 0; b < 16; b++)
                fprintf(out, "%02x", fp->uuid[b]);
        }
        fputc('\n', out);
    }
    fprintf(out, "  total: %" PRIu32 " pools, %" PRIu64 " pages (%" PRIu64 " lz4), %" PRIu64
            " bytes\n", r.pool_count, r.pages, r.pages_compressed, r.file_bytes);
out:
    snapshot_reader_fini(&r);
    return rc;
}
