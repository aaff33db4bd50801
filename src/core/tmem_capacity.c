/*
 * tmem_capacity.c - the budget: admission of puts, eviction to fit, the
 * clients' weights and caps, and persistent pressure.
 *
 * Models the hypervisor deciding, moment by moment, how much memory tmem
 * may use. Usage = data bytes + metadata bytes, as charged by
 * tmem_memory.c at allocator size classes (or, with tmem_config.budget
 * TMEM_BUDGET_ZSMALLOC, page data alone at zsmalloc's classes; with
 * TMEM_BUDGET_ZSPAGES, the zspages holding it, as zswap counts its pool:
 * tmem_usage). A put first reserves what it is
 * about to allocate (its data at the allocator's size class, its record,
 * and a slab chunk if the slab is full); while usage + reservations would
 * pass the capacity, the least recently used ephemeral page is evicted; when
 * none is left the put is refused (-ENOSPC, "no room"). Index nodes a put
 * allocates beyond its reservation can push usage a few hundred bytes past
 * the capacity; the put trims ephemeral pages afterwards.
 *
 * Eviction (tmem_evict_one): for store-wide pressure (a put needs room,
 * tmem_set_capacity or tmem_reclaim shrinks), the victim is the least
 * recently used ephemeral page of the client whose ephemeral bytes divided
 * by its weight is largest (Xen tmem's weights: clients that keep pressing
 * settle at ephemeral holdings in the ratio of their weights; with one
 * client, the oldest page of the store); for a client's cap, the least
 * recently used page of that client's private ephemeral pools (its shared
 * pools' pages are passed over: they do not count against its cap). The
 * lists are tmem_lru.c's. The page taken is the first whose stripe can be
 * locked at once; the evictor starts from the LRU's lock and may only
 * trylock a stripe, so it passes over pages whose stripe is busy, and
 * after TMEM_EVICT_TRIES of them reports BUSY: the caller yields and tries
 * again (the kernel's list_lru walk skips busy items the same way).
 * Persistent pages are never on an LRU, so never evicted.
 *
 * Caps: a client's held bytes (tmem_page_bytes of every page of its
 * private pools, as the stripes apply them at unlock) plus what its puts
 * in flight reserved may not pass its cap. A put into a private pool
 * reserves its page's bytes of the cap (tmem_cap_reserve) before it
 * reserves room in the store, evicting the client's own oldest private
 * ephemeral pages while they do not fit; when none is left the put is
 * refused (failed_puts_cap). As with the store's budget, the room is
 * counted before the page the put replaces is released. A put into a
 * shared pool is not capped. Lowering a cap evicts at once
 * (tmem_client_set_cap); persistent pages above it stay.
 *
 * Hysteresis (zswap's accept_threshold_percent): after a refusal for no
 * room, puts are refused until usage falls below the threshold.
 *
 * Shrinking: tmem_set_capacity stores the new value, evicts ephemeral pages
 * until the store fits, then asks the clients' pressure callbacks for
 * persistent pages (frontswap shrink), never dropping one itself.
 *
 * Locking: capacity, reservations and the hysteresis latch are atomics;
 * reclaim_lock serialises pressure rounds (trylock: a callback that
 * re-enters tmem_set_capacity does not deadlock, it only trims). A trim
 * outside a put (tmem_reclaim, tmem_set_capacity, tmem_client_set_cap)
 * holds check_lock shared, not across the pressure callbacks; a put's own
 * evictions are covered by its client's lock, which the checker takes too.
 * Weights and caps are atomics; a client's cap reservations too.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#define TMEM_EVICT_TRIES 32 /* busy pages passed over before reporting BUSY */

enum tmem_evict_result { TMEM_EVICTED, TMEM_EVICT_BUSY, TMEM_EVICT_EMPTY };

struct tmem_victim {
    struct tmem *tm;
    bool private_only;          /* pass over pages of shared pools */
    struct tmem_stripe *stripe; /* the claimed page's, locked */
};

/* The victim choice: take page_id if its stripe can be locked now (called
 * with lru_lock held, so trylock only). The page is alive while on its
 * LRU, and so are its object and pool. */
static enum tmem_lru_claim tmem_victim_claim(void *arg, uint32_t page_id)
{
    struct tmem_victim *v = arg;
    const struct tmem_page *p = tmem_page_record(v->tm, page_id);
    const struct tmem_object *obj = tmem_object_record(v->tm, p->object);
    struct tmem_stripe *st;

    if (v->private_only && !obj->pool->owner)
        return TMEM_LRU_PASS;
    st = tmem_stripe_of(obj->pool, &obj->oid);
    if (pthread_mutex_trylock(&st->lock) != 0)
        return TMEM_LRU_BUSY;
    v->stripe = st;
    return TMEM_LRU_TAKE;
}

/* Evict one ephemeral page: the least recently used one that is free to
 * go, of the client most above its weighted share (from NULL), or of
 * from's private pools. */
static enum tmem_evict_result tmem_evict_one(struct tmem *tm, struct tmem_client *from)
{
    struct tmem_victim v = {tm, from != NULL, NULL};
    struct tmem_page *p;
    struct tmem_object *obj;
    uint32_t id, object_id;
    bool empty;

    id = tmem_lru_take_oldest(tm, from, TMEM_EVICT_TRIES, tmem_victim_claim, &v, &empty);
    if (!id)
        return empty ? TMEM_EVICT_EMPTY : TMEM_EVICT_BUSY;
    p = tmem_page_record(tm, id);
    object_id = p->object;
    obj = tmem_object_record(tm, object_id);
    tmem_index_remove(tm, obj, p->index);
    tmem_tier_offer_evicted(tm, obj->pool, obj, p); /* copies, never blocks */
    tmem_page_release(tm, obj->pool, v.stripe, NULL, id, TMEM_C_PAGES_EVICTED);
    tmem_index_free_object_if_empty(tm, v.stripe, object_id);
    tmem_stripe_unlock(tm, v.stripe);
    return TMEM_EVICTED;
}

static uint64_t tmem_percent_of(uint64_t value, uint32_t percent)
{
    return value / 100 * percent + value % 100 * percent / 100;
}

static bool tmem_fits(uint64_t used, uint64_t bytes, uint64_t cap)
{
    return cap == TMEM_CAPACITY_UNLIMITED || (bytes <= cap && used <= cap - bytes);
}

/* One step of making room by eviction (from client c's ephemeral pages,
 * or the heaviest client's when c is NULL): true to look again (a page
 * went, or a busy one was skipped after a yield), false when nothing
 * ephemeral is left to evict. */
static bool tmem_evict_step(struct tmem *tm, struct tmem_client *c)
{
    switch (tmem_evict_one(tm, c)) {
    case TMEM_EVICTED:
        return true;
    case TMEM_EVICT_BUSY:
        sched_yield();
        return true;
    case TMEM_EVICT_EMPTY:
        break;
    }
    return false;
}

enum tmem_reserve_result tmem_reserve(struct tmem *tm, uint64_t bytes)
{
    for (;;) {
        uint64_t cap = atomic_load(&tm->capacity);
        uint64_t reserved = atomic_load(&tm->reserved);

        if (tm->cfg.hysteresis && atomic_load(&tm->full)) {
            if (cap != TMEM_CAPACITY_UNLIMITED &&
                tmem_usage(tm) + reserved >= tmem_percent_of(cap, tm->cfg.accept_threshold_percent))
                return TMEM_RESERVE_HYSTERESIS;
            atomic_store(&tm->full, false);
        }
        while (tmem_fits(tmem_usage(tm) + reserved, bytes, cap)) {
            if (atomic_compare_exchange_weak(&tm->reserved, &reserved, reserved + bytes))
                return TMEM_RESERVED;
        }
        if (!tmem_evict_step(tm, NULL)) {
            if (tm->cfg.hysteresis)
                atomic_store(&tm->full, true);
            return TMEM_RESERVE_NO_ROOM;
        }
    }
}

void tmem_unreserve(struct tmem *tm, uint64_t bytes)
{
    if (bytes)
        atomic_fetch_sub(&tm->reserved, bytes);
}

bool tmem_capacity_is_unlimited(struct tmem *tm)
{
    if (atomic_load(&tm->capacity) != TMEM_CAPACITY_UNLIMITED)
        return false;
    /* what tmem_reserve does when it finds the latch set and no limit */
    if (atomic_load_explicit(&tm->full, memory_order_relaxed))
        atomic_store(&tm->full, false);
    return true;
}

/* Evict ephemeral pages until the store fits its capacity (c NULL: the
 * heaviest client's pages first) or until client c fits its cap (c's own
 * pages); stops when nothing ephemeral is left. Returns pages evicted. */
static long tmem_evict_until_fits(struct tmem *tm, struct tmem_client *c)
{
    long evicted = 0;

    for (;;) {
        bool fits = c ? tmem_fits(tmem_load(&c->held), 0, atomic_load(&c->cap))
                      : tmem_fits(tmem_usage(tm), 0, atomic_load(&tm->capacity));
        enum tmem_evict_result r;

        if (fits)
            break;
        r = tmem_evict_one(tm, c);
        if (r == TMEM_EVICT_EMPTY)
            break;
        if (r == TMEM_EVICT_BUSY)
            sched_yield();
        else
            evicted++;
    }
    return evicted;
}

long tmem_trim(struct tmem *tm)
{
    return tmem_evict_until_fits(tm, NULL);
}

/* ------------------------------------------------------------ caps */

enum tmem_reserve_result tmem_cap_reserve(struct tmem *tm, struct tmem_client *c,
                                          uint64_t bytes, uint64_t *reserved)
{
    *reserved = 0;
    for (;;) {
        uint64_t cap = atomic_load_explicit(&c->cap, memory_order_relaxed);
        uint64_t res = atomic_load(&c->cap_reserved);

        if (cap == TMEM_CAPACITY_UNLIMITED)
            return TMEM_RESERVED;
        while (tmem_fits(tmem_load(&c->held) + res, bytes, cap)) {
            if (atomic_compare_exchange_weak(&c->cap_reserved, &res, res + bytes)) {
                *reserved = bytes;
                return TMEM_RESERVED;
            }
        }
        if (!tmem_evict_step(tm, c))
            return TMEM_RESERVE_CAP;
    }
}

void tmem_cap_unreserve(struct tmem_client *c, uint64_t reserved)
{
    if (reserved)
        atomic_fetch_sub(&c->cap_reserved, reserved);
}

int tmem_client_set_weight(struct tmem_client *c, uint32_t weight)
{
    if (!c || weight < 1 || weight > TMEM_WEIGHT_MAX)
        return -EINVAL;
    atomic_store(&c->weight, weight);
    return 0;
}

int tmem_client_set_cap(struct tmem_client *c, uint64_t bytes)
{
    if (!c)
        return -EINVAL;
    atomic_store(&c->cap, bytes);
    pthread_rwlock_rdlock(&c->tm->check_lock);
    tmem_evict_until_fits(c->tm, c);
    pthread_rwlock_unlock(&c->tm->check_lock);
    return 0;
}

struct tmem_pressure_target {
    struct tmem_client *client;
    tmem_pressure_fn fn;
    void *arg;
    int pool_id;
};

/* The persistent pools with pages, of clients with a callback.
 * Returns a malloc'd array (caller frees) and its length in *count. */
static struct tmem_pressure_target *tmem_pressure_targets(struct tmem *tm, size_t *count)
{
    struct tmem_pressure_target *targets = NULL;
    size_t n = 0, cap = 0;

    pthread_mutex_lock(&tm->clients_lock);
    for (struct tmem_client *c = tm->clients; c; c = c->next) {
        pthread_rwlock_rdlock(&c->lock);
        for (int id = 0; c->pressure_fn && id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
            struct tmem_pool *pool = c->pools[id];
            if (!pool || !tmem_pool_is_persistent(pool) || tmem_pool_pages(pool) == 0)
                continue;
            if (n == cap) {
                size_t ncap = cap ? 2 * cap : 8;
                struct tmem_pressure_target *t = realloc(targets, ncap * sizeof(*t));
                if (!t)
                    break;
                targets = t;
                cap = ncap;
            }
            targets[n++] = (struct tmem_pressure_target){c, c->pressure_fn, c->pressure_arg, id};
        }
        pthread_rwlock_unlock(&c->lock);
    }
    pthread_mutex_unlock(&tm->clients_lock);
    *count = n;
    return targets;
}

/* tmem_trim outside a put: holding check_lock shared, as every call that
 * changes the store without a client's lock does (tmem_internal.h). */
static long tmem_trim_outside_put(struct tmem *tm)
{
    long evicted;

    pthread_rwlock_rdlock(&tm->check_lock);
    evicted = tmem_trim(tm);
    pthread_rwlock_unlock(&tm->check_lock);
    return evicted;
}

long tmem_reclaim(struct tmem *tm)
{
    long removed = tmem_trim_outside_put(tm);
    struct tmem_pressure_target *targets;
    size_t count;

    if (tmem_fits(tmem_usage(tm), 0, atomic_load(&tm->capacity)))
        return removed;
    if (pthread_mutex_trylock(&tm->reclaim_lock) != 0)
        return removed;
    targets = tmem_pressure_targets(tm, &count);
    for (size_t i = 0; i < count; i++) {
        uint64_t cap = atomic_load(&tm->capacity), used = tmem_usage(tm);
        long pages;
        if (tmem_fits(used, 0, cap))
            break;
        pages = targets[i].fn(targets[i].arg, targets[i].client, targets[i].pool_id, used - cap);
        tmem_count(&targets[i].client->counters, TMEM_C_PRESSURE_CALLS, 1);
        if (pages > 0) {
            tmem_count(&targets[i].client->counters, TMEM_C_PRESSURE_PAGES, (uint64_t)pages);
            removed += pages;
        }
    }
    free(targets);
    pthread_mutex_unlock(&tm->reclaim_lock);
    return removed + tmem_trim_outside_put(tm);
}

int tmem_set_capacity(struct tmem *tm, uint64_t bytes)
{
    atomic_store(&tm->capacity, bytes);
    tmem_reclaim(tm);
    return 0;
}

uint64_t tmem_capacity(const struct tmem *tm)
{
    return atomic_load(&((struct tmem *)tm)->capacity);
}
