/*
 * tmem_ops.c - put, get, flush_page, flush_object: the page-copy API.
 *
 * A put turns the caller's page into a record outside any lock first:
 * same-filled pages become their word, others are compressed (lz4, zstd or
 * not at all: tmem_codec.c) into a stack buffer (kept raw above the
 * threshold), hashed and looked up for an identical owner to share. It
 * then reserves room under its client's cap and in the store (evicting
 * ephemeral pages, tmem_capacity.c), and only then takes the object's
 * stripe lock to swap the record into the radix tree. Every failure path
 * removes an older copy under the handle (put-put-get coherency).
 *
 * Every call counts itself under the stripe lock it takes anyway (a
 * private pool's statistics live in its stripes, tmem_count_event), and
 * the store-wide byte gauges change once, at the unlock, by the net of
 * what the call allocated and freed: a put that replaces a page of the
 * same size makes no locked update of shared statistics at all.
 *
 * A get copies the page out under the stripe lock (decompressing from the
 * owner for shared data), then flushes it if the pool's gets are exclusive,
 * or moves it to the head of its LRU if it is ephemeral.
 *
 * Latency (cfg.latency_histograms): each public call is timed whole, from
 * entry to return whatever its result, into its client's histogram for
 * the operation and the pool's kind; a call that names no pool (a bad or
 * destroyed pool id, a NULL argument) is not recorded, having no kind.
 * Off, the calls read no clock: one test of c->latency.
 *
 * Tier (tmem.h, "tiers"; tmem_tier.c): when the pool uses one, each call
 * takes what it needs to name the handle under the client's lock, then
 * calls the tier after releasing every lock: a put the store refused for
 * lack of room goes to the tier, a put it took removes the remote copy,
 * a local miss asks the tier, flushes flush both.
 *
 * Locking: client->lock shared for the whole call, then the stripe lock;
 * see tmem_internal.h for the full order.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <string.h>

/* What a put will store, decided before any lock is taken. */
struct tmem_put_plan {
    uint8_t kind;
    uint32_t len;
    uint64_t word;              /* SAME */
    const void *bytes;          /* RAW / COMPRESSED: what to copy */
    uint32_t hash;
    uint32_t owner;             /* DEDUP: the owner we hold a reference on */
    uint64_t reserved;          /* of the store's capacity */
    uint64_t cap_reserved;      /* of the client's cap */
};

static void tmem_put_plan_make(struct tmem *tm, const void *page, unsigned char *buffer,
                               struct tmem_put_plan *plan)
{
    const struct tmem_config *cfg = &tm->cfg;
    uint32_t clen;

    memset(plan, 0, sizeof(*plan));
    if (cfg->same_filled && tmem_codec_same_filled(page, cfg->page_size, &plan->word)) {
        plan->kind = TMEM_KIND_SAME;
        return;
    }
    plan->kind = TMEM_KIND_RAW;
    plan->bytes = page;
    plan->len = cfg->page_size;
    /* the probe is tuned to the 3/4 threshold: a store keeping everything
     * its compressor shrinks at all (threshold = page size, as zswap)
     * tries every page, since a page 80 % random still shrinks a little */
    if (cfg->compressor != TMEM_COMPRESSOR_NONE &&
        (cfg->compress_threshold >= cfg->page_size ||
         !tmem_codec_looks_incompressible(page, cfg->page_size))) {
        /* kept compressed only when smaller than the page (tmem_page_set_shape) */
        uint32_t max = cfg->compress_threshold < cfg->page_size ? cfg->compress_threshold
                                                                : cfg->page_size - 1;
        clen = tmem_codec_compress(tm, page, buffer, max);
        if (clen > 0) {
            plan->kind = TMEM_KIND_COMPRESSED;
            plan->bytes = buffer;
            plan->len = clen;
        }
    }
    if (cfg->dedup) {
        plan->hash = tmem_codec_hash(plan->bytes, plan->len);
        plan->owner = tmem_dedup_find_and_ref(tm, plan->hash, plan->kind, plan->bytes, plan->len);
    }
}

/* Does the plan store data of its own (RAW or COMPRESSED, not shared)? */
static bool tmem_put_plan_has_data(const struct tmem_put_plan *plan)
{
    return plan->kind != TMEM_KIND_SAME && !plan->owner;
}

/* Drop what a plan holds when the put does not happen. */
static void tmem_put_plan_abandon(struct tmem *tm, struct tmem_put_plan *plan)
{
    if (plan->owner)
        tmem_page_drop_owner_ref(tm, NULL, plan->owner);
    plan->owner = 0;
}

/*
 * Reserve room for what the plan will allocate (tmem_capacity.c). First,
 * for a private pool of a client with a cap, the page's bytes under the
 * cap (its record and data: tmem_page_bytes). Then in the store: its data
 * at the allocator's size class, and a slab chunk if the record slab is
 * full (with TMEM_BUDGET_ZSMALLOC: its data at zsmalloc's size only; with
 * TMEM_BUDGET_ZSPAGES: a new zspage's bytes when its class has no zspage
 * with a free slot now, else nothing; puts racing for a class's last
 * free slot each reserve nothing, and each but the first makes a new
 * zspage: up to one zspage past the limit per put in flight, as zswap's
 * own check before zs_malloc allows per CPU; the put trims after). A
 * store without a limit reserves nothing (plan->reserved stays 0):
 * no put can be refused, and when the capacity drops while the put runs,
 * the put trims after it lands, exactly as it does for its index nodes.
 * On failure nothing stays reserved.
 */
static enum tmem_reserve_result tmem_put_reserve(struct tmem *tm, struct tmem_pool *pool,
                                                 struct tmem_client *c,
                                                 struct tmem_put_plan *plan)
{
    bool has_data = tmem_put_plan_has_data(plan);
    uint64_t data = has_data ? tmem_memory_size_class(tm, plan->len) : 0;
    enum tmem_reserve_result r;

    plan->reserved = plan->cap_reserved = 0;
    if (pool->owner &&
        atomic_load_explicit(&c->cap, memory_order_relaxed) != TMEM_CAPACITY_UNLIMITED) {
        r = tmem_cap_reserve(tm, c, sizeof(struct tmem_page) + data, &plan->cap_reserved);
        if (r != TMEM_RESERVED)
            return r;
    }
    if (tmem_capacity_is_unlimited(tm))
        return TMEM_RESERVED;
    if (tm->cfg.budget == TMEM_BUDGET_ZSMALLOC) /* page data only, at zsmalloc's size */
        plan->reserved = has_data ? tmem_memory_zsmalloc_size(tm, plan->len) : 0;
    else if (tm->cfg.budget == TMEM_BUDGET_ZSPAGES) /* a new zspage, if one is needed */
        plan->reserved = has_data ? tmem_zspage_charge_estimate(tm, plan->len) : 0;
    else
        plan->reserved = tmem_slab_growth_bytes(&tm->pages) + data;
    r = tmem_reserve(tm, plan->reserved);
    if (r != TMEM_RESERVED) {
        plan->reserved = 0;
        tmem_cap_unreserve(c, plan->cap_reserved);
        plan->cap_reserved = 0;
    }
    return r;
}

/* Give back what tmem_put_reserve reserved. */
static void tmem_put_unreserve(struct tmem *tm, struct tmem_client *c,
                               const struct tmem_put_plan *plan)
{
    tmem_unreserve(tm, plan->reserved);
    if (plan->cap_reserved)
        tmem_cap_unreserve(c, plan->cap_reserved);
}

/*
 * A record holding the plan's page, or 0 on allocation failure. Its data
 * is not charged yet: tmem_put_insert does that under the stripe lock.
 * The data's destination is cold (tmem keeps pages nobody reads soon), so
 * it is allocated first and prefetched for writing while the record is
 * taken from the slab: the copy then finds its lines on their way instead
 * of stalling on every one (put: -10% in the steady state).
 */
static uint32_t tmem_put_plan_record(struct tmem *tm, struct tmem_put_plan *plan)
{
    bool has_data = tmem_put_plan_has_data(plan);
    void *data = NULL;
    struct tmem_page *p;
    uint32_t id;

    if (has_data) {
        data = tmem_memory_alloc_data(tm, plan->len);
        if (!data)
            return 0;
        for (uint32_t offset = 0; offset < plan->len; offset += 64)
            __builtin_prefetch((char *)data + offset, 1);
    }
    id = tmem_slab_alloc(&tm->pages);
    if (!id) {
        if (data)
            tmem_memory_free_data(tm, data, plan->len);
        return 0;
    }
    p = tmem_page_record(tm, id);
    if (has_data) {
        memcpy(data, plan->bytes, plan->len);
        tmem_page_set_shape(p, plan->kind, plan->len);
        p->hash = plan->hash;
        tmem_page_set_value(p, (uint64_t)(uintptr_t)data);
    } else if (plan->kind == TMEM_KIND_SAME) {
        tmem_page_set_shape(p, TMEM_KIND_SAME, 0);
        tmem_page_set_value(p, plan->word);
    } else {
        tmem_page_set_shape(p, TMEM_KIND_DEDUP, 0);
        tmem_page_set_value(p, plan->owner);
        plan->owner = 0; /* the record holds the reference now */
    }
    return id;
}

/* Remove the page under (obj, index) if any; stripe locked. */
static bool tmem_remove_handle(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                               struct tmem_stripe *st, uint32_t object_id, uint32_t index,
                               enum tmem_counter why)
{
    uint32_t old = tmem_index_remove(tm, tmem_object_record(tm, object_id), index);
    if (old)
        tmem_page_release(tm, pool, st, c, old, why);
    tmem_index_free_object_if_empty(tm, st, object_id);
    return old != 0;
}

/* A failed put: count why, and remove an older copy (put-put-get). */
static int tmem_put_fail(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                         const struct tmem_oid *oid, uint32_t index, enum tmem_counter reason)
{
    struct tmem_stripe *st = tmem_stripe_of(pool, oid);
    uint32_t object_id;

    tmem_stripe_lock(st);
    tmem_count_event(tm, pool, st, c, reason, 1);
    object_id = tmem_index_find_object(tm, st, pool, oid);
    if (object_id && tmem_remove_handle(tm, pool, c, st, object_id, index, TMEM_C_PAGES_FLUSHED))
        tmem_count_event(tm, pool, st, c, TMEM_C_DUP_FLUSHED, 1);
    tmem_stripe_unlock(tm, st);
    return reason == TMEM_C_FAIL_ALLOC ? -ENOMEM : -ENOSPC;
}

/* Put the record under the handle, replacing an older copy, and count the
 * put; stripe locked. 0 or -ENOMEM (then the record is freed and the older
 * copy gone). */
static int tmem_put_insert(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                           struct tmem_stripe *st, const struct tmem_oid *oid, uint32_t index,
                           uint32_t id)
{
    struct tmem_page *p = tmem_page_record(tm, id);
    uint32_t object_id = tmem_index_find_object(tm, st, pool, oid);
    uint32_t stored_len = tmem_page_stored_len(tm, p); /* 0: no data of its own */
    struct tmem_object *obj;
    uint32_t old;

    if (stored_len && tm->zspages && tmem_zspage_store(tm, id, stored_len) != 0)
        goto fail_unplaced;
    if (stored_len)
        tmem_charge_page_data(tm, st, stored_len, 1);
    if (!object_id)
        object_id = tmem_index_create_object(tm, st, pool, oid);
    if (!object_id)
        goto fail;
    obj = tmem_object_record(tm, object_id);
    p->object = object_id;
    p->index = index;
    if (tmem_index_replace(tm, obj, index, id, &old) != 0) {
        tmem_index_free_object_if_empty(tm, st, object_id); /* no older copy was there */
        goto fail;
    }
    if (old)
        tmem_page_release(tm, pool, st, c, old, TMEM_C_DUP_REPLACED);
    tmem_page_account(tm, st, p, 1);
    if (!tmem_pool_is_persistent(pool))
        tmem_lru_add(tm, pool, id);
    if (tm->cfg.dedup && stored_len)
        tmem_dedup_insert(tm, id); /* on ENOMEM the page is simply not shared */
    tmem_count_event(tm, pool, st, c, TMEM_C_SUCC_PUTS, 1);
    return 0;
fail:
    tmem_page_free_unlinked(tm, st, id);
    return -ENOMEM;
fail_unplaced: /* its data has no zspage object and was never charged */
    tmem_memory_free_data(tm, (void *)(uintptr_t)tmem_page_value(p), stored_len);
    tmem_slab_free(&tm->pages, id);
    return -ENOMEM;
}

/* The put proper, for a client that is not frozen; client->lock held. */
static int tmem_put_store(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                          const struct tmem_oid *oid, uint32_t index, const void *page)
{
    /* the compressor writes at most compress_threshold (<= page size) bytes
     * here; a VLA of the page size, not of the largest page size, keeps the
     * stack probes of a big frame off the hot path. */
    unsigned char buffer[tm->cfg.compressor != TMEM_COMPRESSOR_NONE ? tm->cfg.page_size : 1];
    struct tmem_put_plan plan;
    struct tmem_stripe *st;
    enum tmem_reserve_result r;
    uint32_t id;
    int rc;

    tmem_put_plan_make(tm, page, buffer, &plan);
    r = tmem_put_reserve(tm, pool, c, &plan);
    if (r != TMEM_RESERVED) {
        static const enum tmem_counter why[] = {
            [TMEM_RESERVE_NO_ROOM] = TMEM_C_FAIL_NO_ROOM,
            [TMEM_RESERVE_HYSTERESIS] = TMEM_C_FAIL_HYSTERESIS,
            [TMEM_RESERVE_CAP] = TMEM_C_FAIL_CAP,
        };
        tmem_put_plan_abandon(tm, &plan);
        return tmem_put_fail(tm, pool, c, oid, index, why[r]);
    }
    id = tmem_put_plan_record(tm, &plan);
    if (!id) {
        tmem_put_plan_abandon(tm, &plan);
        tmem_put_unreserve(tm, c, &plan);
        return tmem_put_fail(tm, pool, c, oid, index, TMEM_C_FAIL_ALLOC);
    }
    st = tmem_stripe_of(pool, oid);
    tmem_stripe_lock(st);
    rc = tmem_put_insert(tm, pool, c, st, oid, index, id);
    tmem_stripe_unlock(tm, st); /* the client's held bytes now count the page */
    tmem_put_unreserve(tm, c, &plan);
    if (rc)
        return tmem_put_fail(tm, pool, c, oid, index, TMEM_C_FAIL_ALLOC);
    if (tmem_usage(tm) > atomic_load(&tm->capacity))
        tmem_trim(tm);
    return 0;
}

/*
 * The tier's part of a put (no lock held): a page the local store took
 * removes any remote copy under the handle (put-put-get across the
 * tiers); a page it refused for lack of room (rc -ENOSPC, not frozen) is
 * offered to the tier. Returns the put's result.
 */
static int tmem_put_tier(struct tmem *tm, struct tmem_client *c, struct tmem_tier_handle *h,
                         bool frozen, int rc, const void *page)
{
    bool persistent = h->pool_flags & TMEM_POOL_PERSIST;

    if (rc == 0) {
        tm->tier.flush_page(tm->tier_arg, h);
        tmem_tier_count(tm, c, persistent, TMEM_TIER_C_FLUSHES, 1);
        return 0;
    }
    if (rc != -ENOSPC || frozen) {
        /* the local older copy is gone; so must a remote one be */
        tm->tier.flush_page(tm->tier_arg, h);
        tmem_tier_count(tm, c, persistent, TMEM_TIER_C_FLUSHES, 1);
        return rc;
    }
    tmem_tier_count(tm, c, persistent, TMEM_TIER_C_PUTS, 1);
    if (tm->tier.put(tm->tier_arg, h, page) == 0) {
        tmem_tier_count(tm, c, persistent, TMEM_TIER_C_PUTS_ACCEPTED, 1);
        return 0;
    }
    tmem_tier_count(tm, c, persistent, TMEM_TIER_C_PUTS_REFUSED, 1);
    return rc;
}

/* tmem_put proper; *persistent: the pool's kind (1, 0) or -1 (no pool). */
static int tmem_put_call(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
                         uint32_t index, const void *page, int *persistent)
{
    struct tmem_tier_handle h;
    struct tmem_pool *pool;
    bool tiered, frozen;
    int rc;

    if (!oid || !page)
        return -EINVAL;
    pool = tmem_client_lock_pool(c, pool_id);
    if (!pool)
        return -EINVAL;
    *persistent = tmem_pool_is_persistent(pool);
    tiered = tmem_tier_handle_of(c->tm, pool, pool_id, &h);
    frozen = atomic_load(&c->frozen);
    if (frozen)
        rc = tmem_put_fail(c->tm, pool, c, oid, index, TMEM_C_FAIL_FROZEN);
    else
        rc = tmem_put_store(c->tm, pool, c, oid, index, page);
    tmem_client_unlock_pools(c);
    if (tiered) {
        h.oid = *oid;
        h.index = index;
        rc = tmem_put_tier(c->tm, c, &h, frozen, rc, page);
    }
    return rc;
}

int tmem_put(struct tmem_client *c, int pool_id, const struct tmem_oid *oid, uint32_t index,
             const void *page)
{
    int persistent = -1, rc;
    uint64_t start;

    if (!c)
        return -EINVAL;
    if (!c->latency)
        return tmem_put_call(c, pool_id, oid, index, page, &persistent);
    start = tmem_latency_now();
    rc = tmem_put_call(c, pool_id, oid, index, page, &persistent);
    tmem_latency_record(c, TMEM_OP_PUT, persistent, start);
    return rc;
}

/* tmem_get proper; *persistent as for tmem_put_call. */
static int tmem_get_call(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
                         uint32_t index, void *page, int *persistent)
{
    struct tmem_tier_handle h;
    struct tmem_pool *pool;
    struct tmem_stripe *st;
    struct tmem *tm;
    uint32_t object_id, id = 0;
    bool tiered, destructive;
    int rc;

    if (!oid || !page)
        return -EINVAL;
    pool = tmem_client_lock_pool(c, pool_id);
    if (!pool)
        return -EINVAL;
    *persistent = tmem_pool_is_persistent(pool);
    tm = c->tm;
    tiered = tmem_tier_handle_of(tm, pool, pool_id, &h);
    destructive = tmem_pool_gets_are_exclusive(pool);
    st = tmem_stripe_of(pool, oid);
    tmem_stripe_lock(st);
    object_id = tmem_index_find_object(tm, st, pool, oid);
    if (object_id)
        id = tmem_index_lookup(tmem_object_record(tm, object_id), index);
    if (!id) {
        rc = -ENOENT;
        goto unlock;
    }
    rc = tmem_page_read(tm, tmem_page_record(tm, id), page);
    if (rc)
        goto unlock;
    if (tmem_pool_gets_are_exclusive(pool))
        tmem_remove_handle(tm, pool, c, st, object_id, index, TMEM_C_PAGES_GOT_EXCLUSIVE);
    else if (!tmem_pool_is_persistent(pool))
        tmem_lru_touch(tm, pool, id);
unlock:
    /* gets is succ_gets + failed_gets (tmem_stats.c): one count a get */
    tmem_count_event(tm, pool, st, c, rc ? TMEM_C_FAILED_GETS : TMEM_C_SUCC_GETS, 1);
    tmem_stripe_unlock(tm, st);
    tmem_client_unlock_pools(c);
    if (rc == -ENOENT && tiered) {
        /* a local miss asks the tier (the local statistics count the miss) */
        h.oid = *oid;
        h.index = index;
        tmem_tier_count(tm, c, *persistent, TMEM_TIER_C_GETS, 1);
        rc = tm->tier.get(tm->tier_arg, &h, page, destructive) == 0 ? 0 : -ENOENT;
        if (rc == 0)
            tmem_tier_count(tm, c, *persistent, TMEM_TIER_C_HITS, 1);
    }
    return rc;
}

int tmem_get(struct tmem_client *c, int pool_id, const struct tmem_oid *oid, uint32_t index,
             void *page)
{
    int persistent = -1, rc;
    uint64_t start;

    if (!c)
        return -EINVAL;
    if (!c->latency)
        return tmem_get_call(c, pool_id, oid, index, page, &persistent);
    start = tmem_latency_now();
    rc = tmem_get_call(c, pool_id, oid, index, page, &persistent);
    tmem_latency_record(c, TMEM_OP_GET, persistent, start);
    return rc;
}

/*
 * The frame of flush_page and flush_object: count the call (calls counter
 * 'counter'), find the object under the stripe lock and remove its page
 * 'index' (whole_object false) or every page (true). 0 when something was
 * removed, -ENOENT when nothing was there, -EINVAL for bad arguments.
 * *persistent as for tmem_put_call.
 */
static int tmem_flush_call(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
                           uint32_t index, bool whole_object, int *persistent)
{
    enum tmem_counter counter = whole_object ? TMEM_C_FLUSH_OBJECTS : TMEM_C_FLUSH_PAGES;
    struct tmem_tier_handle h;
    struct tmem_pool *pool;
    struct tmem_stripe *st;
    uint32_t object_id;
    bool removed = false, tiered;

    if (!oid)
        return -EINVAL;
    pool = tmem_client_lock_pool(c, pool_id);
    if (!pool)
        return -EINVAL;
    *persistent = tmem_pool_is_persistent(pool);
    tiered = tmem_tier_handle_of(c->tm, pool, pool_id, &h);
    st = tmem_stripe_of(pool, oid);
    tmem_stripe_lock(st);
    tmem_count_event(c->tm, pool, st, c, counter, 1);
    object_id = tmem_index_find_object(c->tm, st, pool, oid);
    if (object_id && whole_object)
        removed = tmem_object_flush(c->tm, pool, c, st, object_id, TMEM_C_PAGES_FLUSHED) > 0;
    else if (object_id)
        removed = tmem_remove_handle(c->tm, pool, c, st, object_id, index, TMEM_C_PAGES_FLUSHED);
    tmem_stripe_unlock(c->tm, st);
    tmem_client_unlock_pools(c);
    if (tiered) {
        struct tmem *tm = c->tm;

        h.oid = *oid;
        h.index = whole_object ? 0 : index;
        if ((whole_object ? tm->tier.flush_object : tm->tier.flush_page)(tm->tier_arg, &h) == 0)
            removed = true;
        tmem_tier_count(tm, c, *persistent, TMEM_TIER_C_FLUSHES, 1);
    }
    return removed ? 0 : -ENOENT;
}

static int tmem_flush(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
                      uint32_t index, bool whole_object)
{
    int persistent = -1, rc;
    uint64_t start;

    if (!c)
        return -EINVAL;
    if (!c->latency)
        return tmem_flush_call(c, pool_id, oid, index, whole_object, &persistent);
    start = tmem_latency_now();
    rc = tmem_flush_call(c, pool_id, oid, index, whole_object, &persistent);
    tmem_latency_record(c, TMEM_OP_FLUSH, persistent, start);
    return rc;
}

int tmem_flush_page(struct tmem_client *c, int pool_id, const struct tmem_oid *oid,
                    uint32_t index)
{
    return tmem_flush(c, pool_id, oid, index, false);
}

int tmem_flush_object(struct tmem_client *c, int pool_id, const struct tmem_oid *oid)
{
    return tmem_flush(c, pool_id, oid, 0, true);
}
