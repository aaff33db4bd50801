/*
 * tmem_walk.c - reading out a client's pools: the list of its open pools
 * and every page of one of them, for save/restore and live migration (what
 * Xen's TMEMC_SAVE_GET_POOL_* and TMEMC_SAVE_GET_NEXT_PAGE control ops
 * gave the toolstack).
 *
 * A walk runs in two phases, so that no lock of the store is held while
 * the caller's function runs:
 *  1. List: for each of the pool's 64 stripes in turn, take the client's
 *     lock (shared) and the stripe lock, and copy every handle (oid,
 *     index) of the stripe into a malloc'ed array (the radix trees are
 *     visited with tmem_index_check_stripe, the checker's traversal, which
 *     also verifies the stripe on the way); release both.
 *  2. Read: sort the handles by (oid, index) and, for each, take the
 *     client's lock and the handle's stripe lock again, look the handle
 *     up, copy its page out (tmem_page_read: decompressed, or the fill
 *     word, or the dedup owner's data) into the walk's page buffer,
 *     release both, and call fn. A handle flushed since phase 1 is
 *     skipped.
 * A page present for the whole walk is listed in phase 1 and found in
 * phase 2, so it is passed once, with the bytes it had when phase 2 read
 * it. The walk counts in no statistics and changes nothing (no LRU touch,
 * no exclusive get).
 *
 * Data structures: the handle array (32 bytes a page, malloc: outside the
 * store's budget, as the checker's working memory) and one page buffer.
 *
 * Locking: client->lock shared, then one stripe lock, as a get; never two
 * stripes, nothing while fn runs. tmem_client_pools takes client->lock
 * shared only.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tmem_client_pools(const struct tmem_client *c, struct tmem_pool_info *out, size_t max)
{
    struct tmem_client *cl = (struct tmem_client *)c; /* the lock only */
    size_t n = 0;

    if (!c || (!out && max > 0))
        return -EINVAL;
    pthread_rwlock_rdlock(&cl->lock);
    for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
        const struct tmem_pool *pool = cl->pools[id];
        struct tmem_pool_info *info;

        if (!pool)
            continue;
        if (n < max) {
            info = &out[n];
            memset(info, 0, sizeof(*info));
            info->id = id;
            info->flags = pool->flags;
            if (pool->flags & TMEM_POOL_SHARED)
                memcpy(info->uuid, pool->uuid, sizeof(info->uuid));
            info->page_size = cl->tm->cfg.page_size;
            info->pages = tmem_pool_pages(pool);
        }
        n++;
    }
    pthread_rwlock_unlock(&cl->lock);
    return (int)n;
}

const char *tmem_client_name(const struct tmem_client *c)
{
    return c ? c->name : "";
}

/* One listed handle. */
struct tmem_walk_handle {
    struct tmem_oid oid;
    uint32_t index;
};

/* The handles listed so far (phase 1). */
struct tmem_walk_list {
    struct tmem *tm;
    struct tmem_walk_handle *h;
    size_t count, room;
};

/* tmem_index_check_stripe's visitor: append the handle. */
static int tmem_walk_list_page(void *arg, uint32_t object_id, uint32_t index, uint32_t page_id)
{
    struct tmem_walk_list *l = arg;
    (void)page_id;

    if (l->count == l->room) {
        size_t room = l->room ? 2 * l->room : 1024;
        struct tmem_walk_handle *h = realloc(l->h, room * sizeof(*h));
        if (!h)
            return -ENOMEM;
        l->h = h;
        l->room = room;
    }
    l->h[l->count].oid = tmem_object_record(l->tm, object_id)->oid;
    l->h[l->count].index = index;
    l->count++;
    return 0;
}

static int tmem_walk_handle_compare(const void *pa, const void *pb)
{
    const struct tmem_walk_handle *a = pa, *b = pb;

    for (int i = 0; i < 3; i++)
        if (a->oid.oid[i] != b->oid.oid[i])
            return a->oid.oid[i] < b->oid.oid[i] ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Lock the client's pool pool_id if it is still `pool` (the walk's pool);
 * false (nothing held) when it was destroyed. */
static bool tmem_walk_lock_pool(struct tmem_client *c, int pool_id, const struct tmem_pool *pool)
{
    struct tmem_pool *now = tmem_client_lock_pool(c, pool_id);

    if (now == pool)
        return true;
    if (now)
        tmem_client_unlock_pools(c);
    return false;
}

/* Phase 1: list every handle of the pool into *l. 0, -EINVAL (pool gone),
 * -ENOMEM, -EUCLEAN (a broken stripe). */
static int tmem_walk_list_handles(struct tmem_client *c, int pool_id, struct tmem_pool *pool,
                                  struct tmem_walk_list *l)
{
    struct tmem *tm = c->tm;

    for (uint32_t s = 0; s < TMEM_STRIPES; s++) {
        struct tmem_stripe *st = &pool->stripes[s];
        struct tmem_check_report r = {NULL, 0, false};
        uint64_t objects = 0, index_bytes = 0;
        int rc;

        if (!tmem_walk_lock_pool(c, pool_id, pool))
            return -EINVAL;
        tmem_stripe_lock(st);
        rc = tmem_index_check_stripe(tm, pool, st, &r, tmem_walk_list_page, l, &objects,
                                     &index_bytes);
        tmem_stripe_unlock(tm, st);
        tmem_client_unlock_pools(c);
        if (rc)
            return rc;
    }
    return 0;
}

/* Phase 2, one handle: copy its page into buf under the stripe lock.
 * 0, -ENOENT (gone since it was listed), -EINVAL (pool gone), -EIO. */
static int tmem_walk_read(struct tmem_client *c, int pool_id, struct tmem_pool *pool,
                          const struct tmem_walk_handle *h, void *buf)
{
    struct tmem *tm = c->tm;
    struct tmem_stripe *st;
    uint32_t object_id, id = 0;
    int rc = -ENOENT;

    if (!tmem_walk_lock_pool(c, pool_id, pool))
        return -EINVAL;
    st = tmem_stripe_of(pool, &h->oid);
    tmem_stripe_lock(st);
    object_id = tmem_index_find_object(tm, st, pool, &h->oid);
    if (object_id)
        id = tmem_index_lookup(tmem_object_record(tm, object_id), h->index);
    if (id)
        rc = tmem_page_read(tm, tmem_page_record(tm, id), buf);
    tmem_stripe_unlock(tm, st);
    tmem_client_unlock_pools(c);
    return rc;
}

int tmem_pool_walk(struct tmem_client *c, int pool_id, tmem_walk_fn fn, void *arg)
{
    struct tmem_walk_list l = {NULL, NULL, 0, 0};
    struct tmem_pool *pool;
    void *buf = NULL;
    size_t page_size;
    int rc;

    if (!c || !fn)
        return -EINVAL;
    pool = tmem_client_lock_pool(c, pool_id);
    if (!pool)
        return -EINVAL;
    tmem_client_unlock_pools(c);
    l.tm = c->tm;
    page_size = c->tm->cfg.page_size;
    buf = malloc(page_size);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    rc = tmem_walk_list_handles(c, pool_id, pool, &l);
    if (rc == -EUCLEAN)
        rc = -EIO;
    if (rc)
        goto out;
    if (l.count > 1)
        qsort(l.h, l.count, sizeof(l.h[0]), tmem_walk_handle_compare);
    for (size_t i = 0; i < l.count; i++) {
        rc = tmem_walk_read(c, pool_id, pool, &l.h[i], buf);
        if (rc == -ENOENT) {
            rc = 0;
            continue;
        }
        if (rc)
            goto out;
        rc = fn(arg, &l.h[i].oid, l.h[i].index, buf, page_size);
        if (rc)
            goto out;
    }
out:
    free(l.h);
    free(buf);
    return rc;
}
