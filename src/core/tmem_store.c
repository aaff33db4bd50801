/*
 * tmem_store.c - the store, its clients and their pools.
 *
 * Models the hypervisor side of tmem: a store created with a
 * configuration, guests registering as clients, and pools created and
 * destroyed by them. Pool ids are per client (an index into the client's
 * table, lowest free first, as Xen does). A shared pool is registered by its
 * uuid on the store; every client that names the uuid gets its own id for
 * the same pool, and the pool (with its pages) goes when the last of them
 * destroys it.
 *
 * Locking: tm->clients_lock protects the client list and the shared-pool
 * registry (with each pool's holders count); client->lock (rwlock) the
 * client's table: page operations hold it shared for their whole duration,
 * pool creation/destruction exclusive. Order: clients_lock -> client->lock.
 * Destroying a pool therefore waits for the client's operations in flight;
 * a shared pool is only freed when no client holds it, so no operation can
 * be in flight on it. The evictor reaches pages through the LRU only, and
 * destruction takes every page off the LRU under each stripe lock first.
 * Creating and destroying a client and destroying a pool also hold
 * tm->check_lock shared throughout, because part of their work is done
 * outside the locks above (a pool leaves its client's table before its
 * pages are freed), so that tmem_check, which takes it exclusive, never
 * sees one of them half done.
 *
 * LRU owners: an ephemeral pool's pages are on its lru_owner's LRU
 * (tmem_lru.c). A private pool's is its owner; a shared pool's is the
 * client that created it, and when that client lets go of the pool while
 * others still hold it, the first other holder on the client list (found
 * under clients_lock, which guards every pool table), whose LRU takes the
 * pool's pages at its oldest end. A client's LRU is therefore empty by
 * the time its last pool is gone, and it leaves tm->lru_clients then.
 * Weight and cap (tmem_capacity.c) start at TMEM_WEIGHT_DEFAULT and
 * unlimited; latency histograms are made and, at destruction, added into
 * the store's totals here (tmem_latency.c).
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMEM_MIN_PAGE_SIZE 512u /* and TMEM_MAX_PAGE_SIZE (tmem_memory.h) */

void tmem_config_init(struct tmem_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->capacity_bytes = TMEM_CAPACITY_UNLIMITED;
    cfg->page_size = 4096;
    cfg->compressor = TMEM_COMPRESSOR_LZ4;
    cfg->compress_level = 0;
    cfg->compress_threshold = 0;
    cfg->dedup = true;
    cfg->same_filled = true;
    cfg->hysteresis = false;
    cfg->accept_threshold_percent = 90;
    cfg->huge_pages = true;
}

static int tmem_config_check(struct tmem_config *cfg, uint32_t *shift)
{
    uint32_t ps = cfg->page_size;

    if (ps < TMEM_MIN_PAGE_SIZE || ps > TMEM_MAX_PAGE_SIZE || (ps & (ps - 1)))
        return -EINVAL;
    for (*shift = 0; (1u << *shift) < ps; (*shift)++)
        ;
    if (cfg->compress_threshold == 0)
        cfg->compress_threshold = ps / 4 * 3;
    if (cfg->compress_threshold > ps)
        return -EINVAL;
    if (tmem_codec_config_check(cfg))
        return -EINVAL;
    if (cfg->accept_threshold_percent == 0)
        cfg->accept_threshold_percent = 90;
    if (cfg->accept_threshold_percent > 100)
        return -EINVAL;
    if (cfg->budget != TMEM_BUDGET_ALLOCATOR && cfg->budget != TMEM_BUDGET_ZSMALLOC &&
        cfg->budget != TMEM_BUDGET_ZSPAGES)
        return -EINVAL;
    if (cfg->zspage_max_pages == 0)
        cfg->zspage_max_pages = TMEM_ZSPAGE_MAX_PAGES_DEFAULT;
    if (cfg->zspage_max_pages > TMEM_ZSPAGE_MAX_PAGES_LIMIT)
        return -EINVAL;
    return 0;
}

/*
 * Set up the allocation failure switch: cfg.fault, or TMEM_FAULT when the
 * environment has it (read once, here). 0, or -EINVAL for a TMEM_FAULT
 * outside the grammar (named on stderr: the one message of the library,
 * since a mistyped test switch must not pass silently as "off").
 */
static int tmem_fault_setup(struct tmem *tm)
{
    const struct tmem_fault *f = &tm->cfg.fault;
    struct fault_spec spec = {.mode = FAULT_OFF, .seed = f->seed};
    const char *env = getenv("TMEM_FAULT");
    char err[256];

    if (f->fail_nth) {
        spec.mode = FAULT_NTH;
        spec.nth = f->fail_nth;
    } else if (f->fail_probability > 0) {
        if (!(f->fail_probability <= 1))
            return -EINVAL;
        spec.mode = FAULT_PROBABILITY;
        spec.probability = f->fail_probability;
    }
    if (env && fault_parse(env, &spec, err, sizeof(err)) != 0) {
        fprintf(stderr, "tmem: TMEM_FAULT: %s\n", err);
        return -EINVAL;
    }
    fault_init(&tm->fault, &spec);
    return 0;
}

int tmem_fault_counts(const struct tmem *tm, struct tmem_fault_counts *out)
{
    if (!tm || !out)
        return -EINVAL;
    out->allocations = atomic_load(&((struct tmem *)tm)->fault.events);
    out->injected = atomic_load(&((struct tmem *)tm)->fault.injected);
    return 0;
}

struct tmem *tmem_create(const struct tmem_config *cfg)
{
    struct tmem *tm = calloc(1, sizeof(*tm));
    int rc = -ENOMEM;

    if (!tm)
        goto fail;
    if (cfg)
        tm->cfg = *cfg;
    else
        tmem_config_init(&tm->cfg);
    rc = tmem_config_check(&tm->cfg, &tm->page_shift);
    if (!rc)
        rc = tmem_fault_setup(tm);
    if (rc)
        goto fail_free;
    atomic_store(&tm->capacity, tm->cfg.capacity_bytes);
    rc = -ENOMEM;
    if (pthread_rwlock_init(&tm->check_lock, NULL) ||
        pthread_mutex_init(&tm->clients_lock, NULL) || pthread_mutex_init(&tm->lru_lock, NULL) ||
        pthread_mutex_init(&tm->reclaim_lock, NULL))
        goto fail_free;
    if (tmem_memory_init(tm))
        goto fail_free;
    if (tmem_slab_init(&tm->pages, tm, sizeof(struct tmem_page)) ||
        tmem_slab_init(&tm->objects, tm, sizeof(struct tmem_object)) || tmem_dedup_init(tm) ||
        tmem_latency_store_init(tm) || tmem_zspage_init(tm))
        goto fail_memory;
    return tm;

fail_memory:
    tmem_latency_store_fini(tm);
    tmem_memory_fini(tm);
fail_free:
    free(tm);
fail:
    errno = -rc;
    return NULL;
}

void tmem_destroy(struct tmem *tm)
{
    if (!tm)
        return;
    while (tm->clients)
        tmem_client_destroy(tm->clients);
    tmem_latency_store_fini(tm);
    tmem_zspage_fini(tm);
    tmem_dedup_fini(tm);
    tmem_slab_fini(&tm->objects);
    tmem_slab_fini(&tm->pages);
    tmem_memory_fini(tm);
    pthread_rwlock_destroy(&tm->check_lock);
    pthread_mutex_destroy(&tm->clients_lock);
    pthread_mutex_destroy(&tm->lru_lock);
    pthread_mutex_destroy(&tm->reclaim_lock);
    free(tm);
}

uint32_t tmem_page_size(const struct tmem *tm)
{
    return tm->cfg.page_size;
}

/* ------------------------------------------------------------ clients */

static int tmem_pool_drop(struct tmem_client *c, int pool_id, bool *tiered,
                          struct tmem_tier_handle *gone);

/* Tell the tier that the pool it held pages of is gone (no lock held). */
static void tmem_pool_drop_tier(struct tmem *tm, struct tmem_client *c,
                                const struct tmem_tier_handle *gone)
{
    tm->tier.destroy_pool(tm->tier_arg, gone);
    tmem_tier_count(tm, c, gone->pool_flags & TMEM_POOL_PERSIST, TMEM_TIER_C_FLUSHES, 1);
}

struct tmem_client *tmem_client_create(struct tmem *tm, const char *name)
{
    struct tmem_client *c;

    if (!tm) {
        errno = EINVAL;
        return NULL;
    }
    pthread_rwlock_rdlock(&tm->check_lock);
    c = tmem_memory_zalloc(tm, sizeof(*c), NULL);
    if (c && pthread_rwlock_init(&c->lock, NULL) != 0) {
        tmem_memory_free(tm, c, NULL);
        c = NULL;
    }
    if (c && tmem_latency_client_init(tm, c)) {
        pthread_rwlock_destroy(&c->lock);
        tmem_memory_free(tm, c, NULL);
        c = NULL;
    }
    if (!c) {
        errno = ENOMEM;
        goto out;
    }
    c->tm = tm;
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
    atomic_store(&c->weight, TMEM_WEIGHT_DEFAULT);
    atomic_store(&c->cap, TMEM_CAPACITY_UNLIMITED);
    tmem_lru_client_add(tm, c);
    pthread_mutex_lock(&tm->clients_lock);
    c->next = tm->clients;
    tm->clients = c;
    pthread_mutex_unlock(&tm->clients_lock);
    atomic_fetch_add(&tm->clients_live, 1);
out:
    pthread_rwlock_unlock(&tm->check_lock);
    return c;
}

void tmem_client_destroy(struct tmem_client *c)
{
    struct tmem *tm;
    struct tmem_client **link;

    if (!c)
        return;
    tm = c->tm;
    for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
        struct tmem_tier_handle gone;
        bool tiered = false;

        if (!c->pools[id])
            continue;
        pthread_rwlock_rdlock(&tm->check_lock);
        tmem_pool_drop(c, id, &tiered, &gone);
        pthread_rwlock_unlock(&tm->check_lock);
        if (tiered)
            tmem_pool_drop_tier(tm, c, &gone);
    }
    pthread_rwlock_rdlock(&tm->check_lock);
    pthread_mutex_lock(&tm->clients_lock);
    for (link = &tm->clients; *link != c; link = &(*link)->next)
        ;
    *link = c->next;
    /* The store's totals keep what this client did. */
    for (int i = 0; i < TMEM_C_COUNT; i++)
        tmem_count(&tm->orphan_counters, i, tmem_load(&c->counters.c[i]));
    tmem_latency_client_fini(tm, c);
    pthread_mutex_unlock(&tm->clients_lock);
    tmem_lru_client_remove(tm, c); /* its LRU is empty: its pools are gone */
    atomic_fetch_sub(&tm->clients_live, 1);
    pthread_rwlock_destroy(&c->lock);
    tmem_memory_free(tm, c, NULL);
    pthread_rwlock_unlock(&tm->check_lock);
}

struct tmem *tmem_client_store(const struct tmem_client *c)
{
    return c->tm;
}

void tmem_client_set_frozen(struct tmem_client *c, bool frozen)
{
    atomic_store(&c->frozen, frozen);
}

int tmem_client_set_pressure_callback(struct tmem_client *c, tmem_pressure_fn fn, void *arg)
{
    pthread_rwlock_wrlock(&c->lock);
    c->pressure_fn = fn;
    c->pressure_arg = arg;
    pthread_rwlock_unlock(&c->lock);
    return 0;
}

struct tmem_pool *tmem_client_lock_pool(struct tmem_client *c, int pool_id)
{
    struct tmem_pool *pool;

    if (pool_id < 0 || pool_id >= TMEM_MAX_POOLS_PER_CLIENT)
        return NULL;
    pthread_rwlock_rdlock(&c->lock);
    pool = c->pools[pool_id];
    if (!pool)
        pthread_rwlock_unlock(&c->lock);
    return pool;
}

void tmem_client_unlock_pools(struct tmem_client *c)
{
    pthread_rwlock_unlock(&c->lock);
}

/* ------------------------------------------------------------ pools */

/* A new pool, created by client creator; owner: creator for a private
 * pool, NULL for a shared one. */
static struct tmem_pool *tmem_pool_create(struct tmem *tm, uint32_t flags, const uint8_t uuid[16],
                                          struct tmem_client *owner, struct tmem_client *creator)
{
    struct tmem_pool *pool = tmem_memory_zalloc(tm, sizeof(*pool), NULL);
    uint32_t i;

    if (!pool)
        return NULL;
    pool->tm = tm;
    pool->flags = flags & ~TMEM_POOL_PAGESIZE_MASK;
    if (uuid)
        memcpy(pool->uuid, uuid, 16);
    pool->owner = owner;
    pool->lru_owner = creator;
    pool->holders = 1;
    pool->serial = atomic_fetch_add(&tm->pool_serials, 1) + 1;
    for (i = 0; i < TMEM_STRIPES; i++) {
        pool->stripes[i].held = owner ? &owner->held : NULL;
        if (pthread_mutex_init(&pool->stripes[i].lock, NULL) != 0)
            goto fail;
    }
    atomic_fetch_add(&tm->pools_live, 1);
    return pool;
fail:
    while (i-- > 0)
        pthread_mutex_destroy(&pool->stripes[i].lock);
    tmem_memory_free(tm, pool, NULL);
    return NULL;
}

struct tmem_flush_context {
    struct tmem *tm;
    struct tmem_pool *pool;
    struct tmem_stripe *stripe;
    struct tmem_client *client;
    enum tmem_counter why;
};

static void tmem_flush_one(void *arg, uint32_t page_id)
{
    struct tmem_flush_context *ctx = arg;
    tmem_page_release(ctx->tm, ctx->pool, ctx->stripe, ctx->client, page_id, ctx->why);
}

uint64_t tmem_object_flush(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                           struct tmem_stripe *st, uint32_t object_id, enum tmem_counter why)
{
    struct tmem_flush_context ctx = {tm, pool, st, c, why};
    uint64_t n = tmem_index_remove_all(tm, tmem_object_record(tm, object_id), tmem_flush_one, &ctx);
    tmem_index_free_object_if_empty(tm, st, object_id);
    return n;
}

/*
 * Move a private pool's event counts from its stripes to its owner's
 * counters, which keep them once the pool is gone (tmem_stats.c adds a
 * live private pool's stripes to its owner). Called with the pool out of
 * the owner's table, once under the owner's lock held exclusive (so no
 * statistics reader sees the counts twice or not at all) and once more
 * after the pool's pages are gone (evictions may count in between).
 */
static void tmem_pool_fold_counters(struct tmem *tm, struct tmem_pool *pool)
{
    for (uint32_t i = 0; i < TMEM_STRIPES; i++) {
        struct tmem_stripe *st = &pool->stripes[i];
        tmem_stripe_lock(st);
        for (int k = 0; k < TMEM_C_COUNT; k++) {
            tmem_count(&pool->owner->counters, k, tmem_load(&st->counters.c[k]));
            atomic_store_explicit(&st->counters.c[k], 0, memory_order_relaxed);
        }
        tmem_stripe_unlock(tm, st);
    }
}

/* Free a pool no client holds any more: every page, object and lock. */
static void tmem_pool_free(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c)
{
    for (uint32_t i = 0; i < TMEM_STRIPES; i++) {
        struct tmem_stripe *st = &pool->stripes[i];
        tmem_stripe_lock(st);
        for (uint32_t b = 0; b < st->bucket_count; b++)
            while (st->buckets[b])
                tmem_object_flush(tm, pool, c, st, st->buckets[b], TMEM_C_PAGES_POOL_DESTROYED);
        tmem_index_stripe_fini(tm, st);
        tmem_stripe_unlock(tm, st);
    }
    if (pool->owner)
        tmem_pool_fold_counters(tm, pool);
    for (uint32_t i = 0; i < TMEM_STRIPES; i++)
        pthread_mutex_destroy(&pool->stripes[i].lock);
    atomic_fetch_sub(&tm->pools_live, 1);
    tmem_memory_free(tm, pool, NULL);
}

static int tmem_pool_flags_check(const struct tmem *tm, uint32_t flags, const uint8_t uuid[16])
{
    uint32_t known = TMEM_POOL_PERSIST | TMEM_POOL_SHARED | TMEM_POOL_EXCLUSIVE_GETS |
                     TMEM_POOL_PAGESIZE_MASK;
    uint32_t size_bits = (flags & TMEM_POOL_PAGESIZE_MASK) >> TMEM_POOL_PAGESIZE_SHIFT;

    if (flags & ~known)
        return -EINVAL;
    if ((flags & TMEM_POOL_EXCLUSIVE_GETS) &&
        (!(flags & TMEM_POOL_PERSIST) || (flags & TMEM_POOL_SHARED)))
        return -EINVAL;
    if (size_bits && size_bits + 12 != tm->page_shift)
        return -EINVAL;
    if ((flags & TMEM_POOL_SHARED) && !uuid)
        return -EINVAL;
    return 0;
}

int tmem_new_pool(struct tmem_client *c, uint32_t flags, const uint8_t uuid[16])
{
    struct tmem *tm;
    struct tmem_pool *pool = NULL;
    int id, rc;

    if (!c)
        return -EINVAL;
    tm = c->tm;
    rc = tmem_pool_flags_check(tm, flags, uuid);
    if (rc)
        return rc;
    pthread_mutex_lock(&tm->clients_lock);
    pthread_rwlock_wrlock(&c->lock);
    for (id = 0; id < TMEM_MAX_POOLS_PER_CLIENT && c->pools[id]; id++)
        ;
    if (id == TMEM_MAX_POOLS_PER_CLIENT) {
        rc = -EMFILE;
        goto out;
    }
    if (flags & TMEM_POOL_SHARED) {
        for (pool = tm->shared_pools; pool; pool = pool->next_shared)
            if (memcmp(pool->uuid, uuid, 16) == 0)
                break;
        if (pool && (pool->flags & TMEM_POOL_PERSIST) != (flags & TMEM_POOL_PERSIST)) {
            rc = -EINVAL;
            goto out;
        }
        if (pool) {
            pool->holders++;
        } else if ((pool = tmem_pool_create(tm, flags, uuid, NULL, c))) {
            pool->next_shared = tm->shared_pools;
            tm->shared_pools = pool;
        }
    } else {
        pool = tmem_pool_create(tm, flags, NULL, c, c);
        if (pool)
            pool->id = id;
    }
    if (!pool) {
        rc = -ENOMEM;
        goto out;
    }
    c->pools[id] = pool;
    rc = id;
out:
    pthread_rwlock_unlock(&c->lock);
    pthread_mutex_unlock(&tm->clients_lock);
    return rc;
}

/* Who should own the LRU of the shared pool c has let go of: c itself if
 * it still holds it under another id, else the first client on the list
 * that holds it, or NULL (clients_lock held: it guards every pool table). */
static struct tmem_client *tmem_pool_next_lru_owner(struct tmem *tm, struct tmem_pool *pool,
                                                    struct tmem_client *c)
{
    for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++)
        if (c->pools[id] == pool)
            return c;
    for (struct tmem_client *d = tm->clients; d; d = d->next)
        for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++)
            if (d->pools[id] == pool)
                return d;
    return NULL;
}

/* Take the pool out of the client's table, and free it if no other client
 * holds it (else hand its LRU to another holder if it was c's);
 * check_lock held shared. 0 or -EINVAL. When the pool used the tier,
 * *tiered is set true and *gone names it: the caller tells the tier,
 * with no lock held (tmem_pool_drop_tier). */
static int tmem_pool_drop(struct tmem_client *c, int pool_id, bool *tiered,
                          struct tmem_tier_handle *gone)
{
    struct tmem *tm = c->tm;
    struct tmem_pool *pool;
    bool last = false;

    *tiered = false;
    pthread_mutex_lock(&tm->clients_lock);
    pthread_rwlock_wrlock(&c->lock);
    pool = c->pools[pool_id];
    if (pool) {
        *tiered = tmem_tier_handle_of(tm, pool, pool_id, gone);
        c->pools[pool_id] = NULL;
        if (pool->owner)
            tmem_pool_fold_counters(tm, pool);
        last = --pool->holders == 0;
        if (last && (pool->flags & TMEM_POOL_SHARED)) {
            struct tmem_pool **link = &tm->shared_pools;
            while (*link != pool)
                link = &(*link)->next_shared;
            *link = pool->next_shared;
        }
        /* lru_owner changes only here, under clients_lock and c->lock, so
         * it can be read without lru_lock here */
        if (!last && !tmem_pool_is_persistent(pool) && pool->lru_owner == c) {
            struct tmem_client *to = tmem_pool_next_lru_owner(tm, pool, c);
            if (to && to != c)
                tmem_lru_move_pool(tm, pool, to);
        }
    }
    pthread_rwlock_unlock(&c->lock);
    pthread_mutex_unlock(&tm->clients_lock);
    if (!pool)
        return -EINVAL;
    if (last)
        tmem_pool_free(tm, pool, c);
    return 0;
}

int tmem_destroy_pool(struct tmem_client *c, int pool_id)
{
    struct tmem_tier_handle gone;
    bool tiered = false;
    int rc;

    if (!c || pool_id < 0 || pool_id >= TMEM_MAX_POOLS_PER_CLIENT)
        return -EINVAL;

    pthread_rwlock_rdlock(&c->tm->check_lock);
    rc = tmem_pool_drop(c, pool_id, &tiered, &gone);
    pthread_rwlock_unlock(&c->tm->check_lock);
    if (tiered)
        tmem_pool_drop_tier(c->tm, c, &gone);
    return rc;
}
