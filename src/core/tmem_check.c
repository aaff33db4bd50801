/*
 * tmem_check.c - the invariant checker (tmem_check in tmem.h), as SQLite's
 * pager checks its own state: a walk of everything the store holds that
 * compares what it finds with what the store believes.
 *
 * With check_lock exclusive and every client's lock taken, no call on the
 * store is running (page operations hold their client's lock; everything
 * else that changes the store holds check_lock shared: tmem_internal.h),
 * so the walk sees the store between calls. It still takes each stripe,
 * LRU, dedup and slab lock while it reads what that lock protects, one at
 * a time. The modules check their own structures (tmem_index_check_stripe,
 * tmem_lru_check, tmem_dedup_check, tmem_slab_check) and hand this file
 * what it needs to check the invariants that span them:
 *
 *  - clients and pools: the live counts; every private pool in exactly its
 *    owner's table, every shared pool in the registry (uuids distinct)
 *    and held by exactly `holders` table entries; every live client once
 *    on the list of clients with an LRU; every ephemeral pool's lru_owner
 *    its owner (private) or a client holding it (shared);
 *  - every handle's page record names its object and index, and is in
 *    exactly one index; records of valid kinds; compressed data
 *    decompresses to exactly one page;
 *  - the per-client LRUs hold exactly the pages of ephemeral pools'
 *    handles, each page on the list of its pool's lru_owner, linked
 *    consistently both ways, and each client's lru_bytes is the bytes of
 *    the pages on its list; persistent pages and detached owners carry no
 *    links;
 *  - caps: each client's held bytes = the sum over its private pools of
 *    their pages' data and record bytes (as their stripes' gauges count
 *    them), every private pool's stripes point at its owner's count and a
 *    shared pool's at none; no cap bytes reserved;
 *  - dedup: each owner in the table has refs = the records using its data
 *    (its own handle included), a hash that matches its bytes, and every
 *    record using an owner finds it in the table; an owner no handle
 *    holds any more ("detached") is only in the table;
 *  - every stripe's gauges = the sums over its pages (pages by kind; data,
 *    payload and metadata bytes) and its statistics identity (succ_puts =
 *    pages + every way a page left); the store's data, payload and
 *    metadata bytes = the sums of what it holds (at the allocator's sizes),
 *    and, with jemalloc, its arenas' own count; no bytes reserved; the
 *    slabs' live records = the handles, detached owners and objects; the
 *    store's statistics identity;
 *  - zspages (budget TMEM_BUDGET_ZSPAGES, tmem_zspage_census_*): every
 *    record with data is one object in a live zspage of its size class,
 *    counted once; each zspage's count of used objects is what was found
 *    in it, it is on its fullness group's list; the side table maps no
 *    other record; the budget's use is the live zspages' pages.
 *
 * Working memory (the handle and user lists) comes from malloc, not from
 * the store, so checking changes no gauge.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tmem_check_fail(struct tmem_check_report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->failed)
        return -EUCLEAN;
    r->failed = true;
    if (r->len) {
        va_start(ap, fmt);
        vsnprintf(r->why, r->len, fmt, ap);
        va_end(ap);
    }
    return -EUCLEAN;
}

static const char *const tmem_check_gauge_names[TMEM_G_COUNT] = {
#define TMEM_PAGES_NAME_(kind, id, name, help) TMEM_IF_PAGES_##kind([TMEM_G_##id] = #name, )
#define TMEM_BYTES_NAME_(kind, id, name, help) TMEM_IF_BYTES_##kind([TMEM_G_##id] = #name, )
    TMEM_STATS_FIELDS(TMEM_PAGES_NAME_) TMEM_STATS_FIELDS(TMEM_BYTES_NAME_)
#undef TMEM_PAGES_NAME_
#undef TMEM_BYTES_NAME_
};

/* A growable array of ids (malloc'ed). */
struct tmem_id_list {
    uint32_t *ids;
    size_t count, capacity;
};

static int tmem_id_list_add(struct tmem_id_list *l, uint32_t id)
{
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? 2 * l->capacity : 1024;
        uint32_t *ids = realloc(l->ids, capacity * sizeof(*ids));
        if (!ids)
            return -ENOMEM;
        l->ids = ids;
        l->capacity = capacity;
    }
    l->ids[l->count++] = id;
    return 0;
}

static int tmem_id_compare(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void tmem_id_list_sort(struct tmem_id_list *l)
{
    if (l->count)
        qsort(l->ids, l->count, sizeof(*l->ids), tmem_id_compare);
}

/* How many times id is in the sorted list. */
static size_t tmem_id_list_occurrences(const struct tmem_id_list *l, size_t *first, uint32_t id)
{
    size_t lo = 0, hi = l->count, n = 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (lo + n < l->count && l->ids[lo + n] == id)
        n++;
    return n;
}

static bool tmem_id_list_has(const struct tmem_id_list *l, uint32_t id)
{
    size_t first;
    return tmem_id_list_occurrences(l, &first, id) > 0;
}

/* What the walk finds, to hold against what the store believes. */
struct tmem_checker {
    struct tmem *tm;
    struct tmem_check_report *r;
    struct tmem_pool **pools;     /* every live pool once, sorted by address */
    size_t npools;
    struct tmem_pool *pool;       /* the stripe being walked, */
    uint32_t stripe;
    uint64_t gauge[TMEM_G_COUNT]; /* and its gauges as its pages make them */
    struct tmem_id_list handles;  /* every handle's page record */
    struct tmem_id_list users;    /* an owner's id per record using its data */
    struct tmem_id_list owners;   /* the dedup table's owners */
    uint64_t ephemeral;           /* handles of ephemeral pools */
    uint64_t detached;            /* owners no handle holds */
    uint64_t data_bytes, payload_bytes, metadata_bytes; /* the store's, as found */
    uint64_t budget_data_bytes;   /* the store's data at zsmalloc's classes */
    struct tmem_zspage_census *zspages; /* budget ZSPAGES: objects found per zspage */
    uint64_t objects;
    struct tmem_client *lru_client; /* the client whose LRU is being walked */
    unsigned char *page;          /* a page_size buffer for decompressing */
};

static int tmem_check_nomem(struct tmem_checker *ck)
{
    tmem_check_fail(ck->r, "the checker could not allocate its working memory");
    return -ENOMEM;
}

static int tmem_pool_compare(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(struct tmem_pool *const *)a;
    uintptr_t y = (uintptr_t)*(struct tmem_pool *const *)b;
    return (x > y) - (x < y);
}

static bool tmem_check_is_pool(const struct tmem_checker *ck, const struct tmem_pool *pool)
{
    return bsearch(&pool, ck->pools, ck->npools, sizeof(*ck->pools), tmem_pool_compare) != NULL;
}

/* A RAW or COMPRESSED record's data: a compressed one must decompress to
 * exactly one page. */
static int tmem_check_data(struct tmem_checker *ck, uint32_t id, const struct tmem_page *p)
{
    uint32_t len = tmem_page_stored_len(ck->tm, p), size = ck->tm->cfg.page_size;

    if (!tmem_page_value(p))
        return tmem_check_fail(ck->r, "page %u holds %u bytes of data at NULL", id, len);
    if (tmem_page_kind(p) == TMEM_KIND_COMPRESSED &&
        (len >= size || tmem_codec_decompress(ck->tm, (const void *)(uintptr_t)tmem_page_value(p),
                                              len, ck->page) != 0))
        return tmem_check_fail(ck->r, "page %u: its %u compressed bytes do not decompress to "
                               "one page", id, len);
    return 0;
}

/* ------------------------------------------------------------ clients, pools */

/* Is an ephemeral pool's lru_owner its owner (private) or one of its
 * holders (shared)? */
static bool tmem_check_lru_owner_holds(const struct tmem_pool *pool)
{
    const struct tmem_client *o = pool->lru_owner;

    if (!o)
        return false;
    if (pool->owner)
        return o == pool->owner;
    for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++)
        if (o->pools[id] == pool)
            return true;
    return false;
}

/* The client list and pool tables (clients_lock and every client's lock
 * held): collect every live pool once in ck->pools. */
static int tmem_check_clients(struct tmem_checker *ck)
{
    struct tmem *tm = ck->tm;
    struct tmem_pool **all = NULL;
    size_t nall = 0, cap = 0, shared = 0, registered = 0;
    uint64_t clients = 0;
    int rc = 0;

    ck->metadata_bytes += tmem_memory_usable_size(tm, tm->latency);
    for (struct tmem_client *c = tm->clients; c; c = c->next) {
        size_t on_lru_list = 0;
        clients++;
        ck->metadata_bytes += tmem_memory_usable_size(tm, c);
        ck->metadata_bytes += tmem_memory_usable_size(tm, c->latency);
        for (struct tmem_client *d = tm->lru_clients; d; d = d->lru_next)
            on_lru_list += d == c;
        if (on_lru_list != 1) {
            rc = tmem_check_fail(ck->r, "client %s is %zu times on the list of clients with "
                                 "an LRU", c->name, on_lru_list);
            goto out;
        }
        if (!c->latency != !tm->cfg.latency_histograms) {
            rc = tmem_check_fail(ck->r, "client %s %s latency histograms, the store's "
                                 "configuration says %s", c->name,
                                 c->latency ? "has" : "has no",
                                 tm->cfg.latency_histograms ? "on" : "off");
            goto out;
        }
        for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
            struct tmem_pool *pool = c->pools[id];
            if (!pool)
                continue;
            if (pool->tm != tm || (pool->owner && pool->owner != c) ||
                !pool->owner != !!(pool->flags & TMEM_POOL_SHARED)) {
                rc = tmem_check_fail(ck->r, "client %s pool %d: a %s pool owned by %s",
                                     c->name, id,
                                     pool->flags & TMEM_POOL_SHARED ? "shared" : "private",
                                     pool->owner ? pool->owner->name : "nobody");
                goto out;
            }
            if (!tmem_pool_is_persistent(pool) && !tmem_check_lru_owner_holds(pool)) {
                rc = tmem_check_fail(ck->r, "client %s pool %d: its LRU owner %s does not "
                                     "hold it", c->name, id,
                                     pool->lru_owner ? pool->lru_owner->name : "(none)");
                goto out;
            }
            if (nall == cap) {
                struct tmem_pool **more = realloc(all, (cap ? 2 * cap : 64) * sizeof(*all));
                if (!more) {
                    rc = tmem_check_nomem(ck);
                    goto out;
                }
                all = more;
                cap = cap ? 2 * cap : 64;
            }
            all[nall++] = pool;
        }
    }
    {
        uint64_t listed = 0;
        for (struct tmem_client *d = tm->lru_clients; d; d = d->lru_next)
            if (++listed > clients)
                break;
        if (listed != clients) {
            rc = tmem_check_fail(ck->r, "the list of clients with an LRU holds %s clients "
                                 "than the %llu there are", listed > clients ? "more" : "fewer",
                                 (unsigned long long)clients);
            goto out;
        }
    }
    if (clients != atomic_load(&tm->clients_live)) {
        rc = tmem_check_fail(ck->r, "%llu clients on the list, clients_live says %llu",
                             (unsigned long long)clients,
                             (unsigned long long)atomic_load(&tm->clients_live));
        goto out;
    }
    /* every pool once, with as many table entries as it has holders */
    if (nall)
        qsort(all, nall, sizeof(*all), tmem_pool_compare);
    for (size_t i = 0, n; i < nall; i += n) {
        struct tmem_pool *pool = all[i];
        for (n = 1; i + n < nall && all[i + n] == pool; n++)
            ;
        if ((int)n != pool->holders) {
            rc = tmem_check_fail(ck->r, "a %s pool is in %zu clients' tables, its holders "
                                 "count says %d", pool->owner ? "private" : "shared", n,
                                 pool->holders);
            goto out;
        }
        shared += !pool->owner;
        all[ck->npools++] = pool;
    }
    ck->pools = all;
    all = NULL;
    for (struct tmem_pool *pool = tm->shared_pools; pool; pool = pool->next_shared) {
        if (++registered > shared || pool->owner || !tmem_check_is_pool(ck, pool)) {
            rc = tmem_check_fail(ck->r, "the shared-pool registry holds a pool no client "
                                 "holds, or a private one, or one twice");
            goto out;
        }
        for (struct tmem_pool *q = pool->next_shared; q; q = q->next_shared)
            if (memcmp(q->uuid, pool->uuid, sizeof(pool->uuid)) == 0) {
                rc = tmem_check_fail(ck->r, "two shared pools have one uuid");
                goto out;
            }
    }
    if (registered != shared) {
        rc = tmem_check_fail(ck->r, "%zu shared pools are held, %zu registered", shared,
                             registered);
        goto out;
    }
    if (ck->npools != atomic_load(&tm->pools_live)) {
        rc = tmem_check_fail(ck->r, "%zu pools are held, pools_live says %llu", ck->npools,
                             (unsigned long long)atomic_load(&tm->pools_live));
        goto out;
    }
    for (size_t i = 0; i < ck->npools; i++)
        ck->metadata_bytes += tmem_memory_usable_size(tm, ck->pools[i]);
out:
    free(all);
    return rc;
}

/* ------------------------------------------------------------ stripes */

/* One page id in a tree of the stripe being walked. */
static int tmem_check_handle(void *arg, uint32_t object_id, uint32_t index, uint32_t id)
{
    struct tmem_checker *ck = arg;
    struct tmem *tm = ck->tm;
    const struct tmem_page *p;
    uint8_t kind;
    uint32_t len;
    bool on_lru;

    if (!tmem_slab_id_plausible(&tm->pages, id))
        return tmem_check_fail(ck->r, "object %u index %u holds %u, no page record", object_id,
                               index, id);
    p = tmem_page_record(tm, id);
    if (p->object != object_id || p->index != index)
        return tmem_check_fail(ck->r, "page %u is under object %u index %u but says object "
                               "%u index %u", id, object_id, index, p->object, p->index);
    kind = tmem_page_kind(p);
    if (kind < TMEM_KIND_RAW || kind > TMEM_KIND_DEDUP)
        return tmem_check_fail(ck->r, "page %u is of kind %u", id, kind);
    if (tmem_id_list_add(&ck->handles, id))
        return tmem_check_nomem(ck);
    ck->gauge[tmem_page_kind_gauge(kind)]++;
    ck->gauge[TMEM_G_METADATA_BYTES] += sizeof(*p);
    len = tmem_page_stored_len(tm, p);
    if (len) {
        uint64_t size = tmem_memory_size_class(tm, len);
        int rc = tmem_check_data(ck, id, p);
        if (rc)
            return rc;
        ck->gauge[TMEM_G_DATA_BYTES] += size;
        ck->gauge[TMEM_G_PAYLOAD_BYTES] += len;
        ck->data_bytes += size;
        ck->payload_bytes += len;
        ck->budget_data_bytes += tmem_memory_zsmalloc_size(tm, len);
        if (ck->zspages && (rc = tmem_zspage_census_count(tm, ck->zspages, id, len, ck->r)))
            return rc;
        if (atomic_load_explicit(&p->refs, memory_order_relaxed) &&
            tmem_id_list_add(&ck->users, id))
            return tmem_check_nomem(ck);
    } else if (kind == TMEM_KIND_DEDUP) {
        uint32_t owner = (uint32_t)tmem_page_value(p);
        if (!tmem_slab_id_plausible(&tm->pages, owner) ||
            !tmem_page_stored_len(tm, tmem_page_record(tm, owner)))
            return tmem_check_fail(ck->r, "page %u shares the data of %u, which is no page "
                                   "with data", id, owner);
        if (tmem_id_list_add(&ck->users, owner))
            return tmem_check_nomem(ck);
    }
    /* the writers of the links also held a lock this checker has waited
     * for, so the links can be read without lru_lock */
    if (tmem_pool_is_persistent(ck->pool)) {
        if (p->lru.prev || p->lru.next || tmem_lru_is_some_head(tm, id))
            return tmem_check_fail(ck->r, "page %u of a persistent pool is linked into an "
                                   "LRU", id);
        return 0;
    }
    on_lru = p->lru.prev || ck->pool->lru_owner->lru.head == id;
    if (!on_lru)
        return tmem_check_fail(ck->r, "page %u of an ephemeral pool is not on its LRU owner "
                               "%s's LRU", id, ck->pool->lru_owner->name);
    ck->ephemeral++;
    return 0;
}

/* Walk stripe i of ck->pool (locked) and compare its gauges and counters. */
static int tmem_check_stripe(struct tmem_checker *ck, struct tmem_stripe *st)
{
    struct tmem *tm = ck->tm;
    const _Atomic uint64_t *g = st->gauges.g, *c = st->counters.c;
    uint64_t objects = 0, index_bytes = 0, pages = 0, left;
    int rc;

    memset(ck->gauge, 0, sizeof(ck->gauge));
    rc = tmem_index_check_stripe(tm, ck->pool, st, ck->r, tmem_check_handle, ck, &objects,
                                 &index_bytes);
    if (rc)
        return rc;
    ck->objects += objects;
    ck->metadata_bytes += index_bytes;
    ck->gauge[TMEM_G_METADATA_BYTES] += objects * sizeof(struct tmem_object) + index_bytes;
    for (int i = 0; i < TMEM_G_COUNT; i++)
        if (tmem_load(&g[i]) != ck->gauge[i])
            return tmem_check_fail(ck->r, "pool %p stripe %u: %s is %llu, its pages make "
                                   "%llu", (void *)ck->pool, ck->stripe,
                                   tmem_check_gauge_names[i],
                                   (unsigned long long)tmem_load(&g[i]),
                                   (unsigned long long)ck->gauge[i]);
    if (st->pending_data_bytes || st->pending_payload_bytes || st->pending_held_bytes)
        return tmem_check_fail(ck->r, "pool %p stripe %u: store or held bytes not applied at "
                               "its unlock", (void *)ck->pool, ck->stripe);
    if (st->held != (ck->pool->owner ? &ck->pool->owner->held : NULL))
        return tmem_check_fail(ck->r, "pool %p stripe %u: its held bytes go to %s", 
                               (void *)ck->pool, ck->stripe,
                               ck->pool->owner ? "another client than its owner"
                                               : "a client, in a shared pool");
#define TMEM_CHECK_PAGES_(kind, id, name, help)                                            \
    TMEM_IF_PAGES_##kind(pages += ck->gauge[TMEM_G_##id];)
    TMEM_STATS_FIELDS(TMEM_CHECK_PAGES_)
#undef TMEM_CHECK_PAGES_
    left = tmem_load(&c[TMEM_C_DUP_REPLACED]) + tmem_load(&c[TMEM_C_PAGES_FLUSHED]) +
           tmem_load(&c[TMEM_C_PAGES_EVICTED]) + tmem_load(&c[TMEM_C_PAGES_GOT_EXCLUSIVE]) +
           tmem_load(&c[TMEM_C_PAGES_POOL_DESTROYED]);
    if (tmem_load(&c[TMEM_C_SUCC_PUTS]) != pages + left)
        return tmem_check_fail(ck->r, "pool %p stripe %u: succ_puts %llu != %llu pages + "
                               "%llu that left", (void *)ck->pool, ck->stripe,
                               (unsigned long long)tmem_load(&c[TMEM_C_SUCC_PUTS]),
                               (unsigned long long)pages, (unsigned long long)left);
    if (tmem_load(&c[TMEM_C_DUP_FLUSHED]) > tmem_load(&c[TMEM_C_PAGES_FLUSHED]))
        return tmem_check_fail(ck->r, "pool %p stripe %u: dup_puts_flushed > pages_flushed",
                               (void *)ck->pool, ck->stripe);
    return 0;
}

static int tmem_check_pools(struct tmem_checker *ck)
{
    for (size_t i = 0; i < ck->npools; i++) {
        ck->pool = ck->pools[i];
        for (ck->stripe = 0; ck->stripe < TMEM_STRIPES; ck->stripe++) {
            struct tmem_stripe *st = &ck->pool->stripes[ck->stripe];
            int rc;
            pthread_mutex_lock(&st->lock);
            rc = tmem_check_stripe(ck, st);
            pthread_mutex_unlock(&st->lock);
            if (rc)
                return rc;
        }
    }
    tmem_id_list_sort(&ck->handles);
    for (size_t i = 1; i < ck->handles.count; i++)
        if (ck->handles.ids[i] == ck->handles.ids[i - 1])
            return tmem_check_fail(ck->r, "page %u is the page of two handles",
                                   ck->handles.ids[i]);
    return 0;
}

/* ------------------------------------------------------------ LRU */

/* One page on ck->lru_client's LRU: a live handle of an ephemeral pool
 * whose lru_owner that client is. */
static int tmem_check_lru_page(void *arg, uint32_t id)
{
    struct tmem_checker *ck = arg;
    const struct tmem_page *p = tmem_page_record(ck->tm, id);
    const struct tmem_object *obj;

    if (!tmem_id_list_has(&ck->handles, id) || !tmem_slab_id_plausible(&ck->tm->objects, p->object))
        return tmem_check_fail(ck->r, "LRU of %s: page %u is no handle's page",
                               ck->lru_client->name, id);
    obj = tmem_object_record(ck->tm, p->object);
    if (!tmem_check_is_pool(ck, obj->pool) || tmem_pool_is_persistent(obj->pool))
        return tmem_check_fail(ck->r, "LRU of %s: page %u is not in an ephemeral pool",
                               ck->lru_client->name, id);
    if (obj->pool->lru_owner != ck->lru_client)
        return tmem_check_fail(ck->r, "LRU of %s: page %u is of a pool whose LRU owner is %s",
                               ck->lru_client->name, id, obj->pool->lru_owner->name);
    return 0;
}

static int tmem_check_lru(struct tmem_checker *ck)
{
    uint64_t total = 0;

    for (struct tmem_client *c = ck->tm->clients; c; c = c->next) {
        uint64_t count;
        int rc;
        ck->lru_client = c;
        rc = tmem_lru_check(ck->tm, c, ck->r, ck->ephemeral, tmem_check_lru_page, ck, &count);
        if (rc)
            return rc;
        total += count;
    }
    if (total != ck->ephemeral)
        return tmem_check_fail(ck->r, "the LRUs hold %llu pages, the ephemeral pools %llu",
                               (unsigned long long)total, (unsigned long long)ck->ephemeral);
    return 0;
}

/* ------------------------------------------------------------ caps */

/* Every client's held bytes against its private pools' gauges (already
 * checked against their pages), and no cap bytes reserved. */
static int tmem_check_held(struct tmem_checker *ck)
{
    for (struct tmem_client *c = ck->tm->clients; c; c = c->next) {
        uint64_t held = 0;
        for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
            const struct tmem_pool *pool = c->pools[id];
            if (!pool || pool->owner != c)
                continue;
            for (uint32_t i = 0; i < TMEM_STRIPES; i++) {
                const _Atomic uint64_t *g = pool->stripes[i].gauges.g;
                uint64_t pages = 0;
#define TMEM_CHECK_HELD_PAGES_(kind, fid, name, help)                                       \
    TMEM_IF_PAGES_##kind(pages += tmem_load(&g[TMEM_G_##fid]);)
                TMEM_STATS_FIELDS(TMEM_CHECK_HELD_PAGES_)
#undef TMEM_CHECK_HELD_PAGES_
                held += tmem_load(&g[TMEM_G_DATA_BYTES]) + pages * sizeof(struct tmem_page);
            }
        }
        if (held != tmem_load(&c->held))
            return tmem_check_fail(ck->r, "client %s holds %llu bytes in its private pools, "
                                   "its held count says %llu", c->name,
                                   (unsigned long long)held,
                                   (unsigned long long)tmem_load(&c->held));
        if (atomic_load(&c->cap_reserved))
            return tmem_check_fail(ck->r, "client %s: %llu cap bytes reserved with no put "
                                   "running", c->name,
                                   (unsigned long long)atomic_load(&c->cap_reserved));
    }
    return 0;
}

/* ------------------------------------------------------------ dedup */

/* One owner in the dedup table (its shard locked). */
static int tmem_check_owner(void *arg, uint32_t id, uint32_t refs)
{
    struct tmem_checker *ck = arg;
    const struct tmem_page *p = tmem_page_record(ck->tm, id);
    uint32_t len = tmem_page_stored_len(ck->tm, p);
    size_t first, users = tmem_id_list_occurrences(&ck->users, &first, id);
    int rc;

    if (tmem_id_list_add(&ck->owners, id))
        return tmem_check_nomem(ck);
    if (users != refs)
        return tmem_check_fail(ck->r, "dedup owner %u has %u references, %zu records use it",
                               id, refs, users);
    if (p->hash != tmem_codec_hash((const void *)(uintptr_t)tmem_page_value(p), len))
        return tmem_check_fail(ck->r, "dedup owner %u: its hash %#x is not its bytes' hash",
                               id, p->hash);
    if (p->object) {
        if (!tmem_id_list_has(&ck->handles, id))
            return tmem_check_fail(ck->r, "dedup owner %u names object %u but is no handle's "
                                   "page", id, p->object);
        return 0;
    }
    /* detached: only the table holds it, and only the store pays for it */
    rc = tmem_check_data(ck, id, p);
    if (rc)
        return rc;
    if (p->lru.prev || p->lru.next || tmem_lru_is_some_head(ck->tm, id))
        return tmem_check_fail(ck->r, "detached dedup owner %u is linked into an LRU", id);
    ck->detached++;
    ck->data_bytes += tmem_memory_size_class(ck->tm, len);
    ck->payload_bytes += len;
    ck->budget_data_bytes += tmem_memory_zsmalloc_size(ck->tm, len);
    if (ck->zspages)
        return tmem_zspage_census_count(ck->tm, ck->zspages, id, len, ck->r);
    return 0;
}

static int tmem_check_dedup(struct tmem_checker *ck)
{
    int rc;

    tmem_id_list_sort(&ck->users);
    rc = tmem_dedup_check(ck->tm, ck->r, tmem_check_owner, ck, &ck->metadata_bytes);
    if (rc)
        return rc;
    tmem_id_list_sort(&ck->owners);
    for (size_t i = 1; i < ck->owners.count; i++)
        if (ck->owners.ids[i] == ck->owners.ids[i - 1])
            return tmem_check_fail(ck->r, "dedup owner %u is in the table twice",
                                   ck->owners.ids[i]);
    for (size_t i = 0; i < ck->users.count; i++)
        if ((i == 0 || ck->users.ids[i] != ck->users.ids[i - 1]) &&
            !tmem_id_list_has(&ck->owners, ck->users.ids[i]))
            return tmem_check_fail(ck->r, "dedup owner %u is used but not in the dedup table",
                                   ck->users.ids[i]);
    return 0;
}

/* ------------------------------------------------------------ the store */

static int tmem_check_store(struct tmem_checker *ck)
{
    struct tmem *tm = ck->tm;
    const _Atomic uint64_t *g = tm->gauges.g;
    uint64_t live, slab_bytes, data, metadata, left;
    struct tmem_stats st;
    int rc;

    rc = tmem_slab_check(&tm->pages, ck->r, &live, &slab_bytes);
    if (rc)
        return rc;
    ck->metadata_bytes += slab_bytes;
    if (live != ck->handles.count + ck->detached)
        return tmem_check_fail(ck->r, "%llu page records live, %zu handles and %llu detached "
                               "owners hold one", (unsigned long long)live, ck->handles.count,
                               (unsigned long long)ck->detached);
    rc = tmem_slab_check(&tm->objects, ck->r, &live, &slab_bytes);
    if (rc)
        return rc;
    ck->metadata_bytes += slab_bytes;
    if (live != ck->objects)
        return tmem_check_fail(ck->r, "%llu object records live, the stripes hold %llu",
                               (unsigned long long)live, (unsigned long long)ck->objects);
    data = tmem_load(&g[TMEM_G_DATA_BYTES]);
    metadata = tmem_load(&g[TMEM_G_METADATA_BYTES]);
    if (data != ck->data_bytes || tmem_load(&g[TMEM_G_PAYLOAD_BYTES]) != ck->payload_bytes ||
        metadata != ck->metadata_bytes)
        return tmem_check_fail(ck->r, "store: data, payload, metadata bytes are %llu, %llu, "
                               "%llu; what it holds makes %llu, %llu, %llu",
                               (unsigned long long)data,
                               (unsigned long long)tmem_load(&g[TMEM_G_PAYLOAD_BYTES]),
                               (unsigned long long)metadata,
                               (unsigned long long)ck->data_bytes,
                               (unsigned long long)ck->payload_bytes,
                               (unsigned long long)ck->metadata_bytes);
    if (tm->cfg.budget == TMEM_BUDGET_ZSMALLOC &&
        atomic_load(&tm->budget_data_bytes) != ck->budget_data_bytes)
        return tmem_check_fail(ck->r, "store: %llu bytes of data at zsmalloc's classes counted, "
                               "what it holds makes %llu",
                               (unsigned long long)atomic_load(&tm->budget_data_bytes),
                               (unsigned long long)ck->budget_data_bytes);
    if (ck->zspages && (rc = tmem_zspage_census_verify(tm, ck->zspages, ck->r)))
        return rc;
    if (atomic_load(&tm->reserved))
        return tmem_check_fail(ck->r, "%llu bytes reserved with no put running",
                               (unsigned long long)atomic_load(&tm->reserved));
#if TMEM_USE_JEMALLOC /* without jemalloc the store has no arenas to ask */
    uint64_t arenas = tmem_memory_allocator_bytes(tm);
    if (arenas != data + metadata)
        return tmem_check_fail(ck->r, "the allocator holds %llu bytes for the store, it "
                               "counts %llu", (unsigned long long)arenas,
                               (unsigned long long)(data + metadata));
#endif
    tmem_stats_of_store_locked(tm, &st);
    left = st.dup_puts_replaced + st.pages_flushed + st.pages_evicted + st.pages_got_exclusive +
           st.pages_pool_destroyed;
    if (st.succ_puts != st.pages + left || st.dup_puts_flushed > st.pages_flushed)
        return tmem_check_fail(ck->r, "store statistics: succ_puts %llu != %llu pages + %llu "
                               "that left, or dup_puts_flushed %llu > pages_flushed %llu",
                               (unsigned long long)st.succ_puts, (unsigned long long)st.pages,
                               (unsigned long long)left,
                               (unsigned long long)st.dup_puts_flushed,
                               (unsigned long long)st.pages_flushed);
    if (st.pages != ck->handles.count)
        return tmem_check_fail(ck->r, "store statistics count %llu pages, the pools hold %zu",
                               (unsigned long long)st.pages, ck->handles.count);
    return 0;
}

int tmem_check(struct tmem *tm, char *why, size_t whylen)
{
    struct tmem_check_report r = {why, why ? whylen : 0, false};
    struct tmem_checker ck;
    int rc;

    if (r.len)
        why[0] = '\0';
    if (!tm)
        return -EINVAL;
    memset(&ck, 0, sizeof(ck));
    ck.tm = tm;
    ck.r = &r;
    pthread_rwlock_wrlock(&tm->check_lock);
    pthread_mutex_lock(&tm->clients_lock);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        pthread_rwlock_wrlock(&c->lock);
    ck.page = malloc(tm->cfg.page_size);
    if (tm->zspages) /* after every lock: the zspage counts are still now */
        ck.zspages = tmem_zspage_census_new(tm);
    rc = ck.page && (ck.zspages || !tm->zspages) ? tmem_check_clients(&ck)
                                                   : tmem_check_nomem(&ck);
    if (!rc)
        rc = tmem_check_pools(&ck);
    if (!rc)
        rc = tmem_check_lru(&ck);
    if (!rc)
        rc = tmem_check_held(&ck);
    if (!rc)
        rc = tmem_check_dedup(&ck);
    if (!rc)
        rc = tmem_check_store(&ck);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        pthread_rwlock_unlock(&c->lock);
    pthread_mutex_unlock(&tm->clients_lock);
    pthread_rwlock_unlock(&tm->check_lock);
    free(ck.page);
    tmem_zspage_census_free(ck.zspages);
    free(ck.pools);
    free(ck.handles.ids);
    free(ck.users.ids);
    free(ck.owners.ids);
    return rc;
}
