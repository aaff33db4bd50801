/*
 * tmem_capacity.c - the budget: admission of puts, eviction to fit, and
 * persistent pressure.
 *
 * Models the hypervisor deciding, moment by moment, how much memory tmem
 * may use. Usage = data bytes + metadata bytes, as charged by
 * tmem_memory.c at allocator size classes. A put first reserves what it is
 * about to allocate (its data at the allocator's size class, its record,
 * and a slab chunk if the slab is full); while usage + reservations would
 * pass the capacity, the least recently used ephemeral page is evicted; when
 * none is left the put is refused (-ENOSPC, "no room"). Index nodes a put
 * allocates beyond its reservation can push usage a few hundred bytes past
 * the capacity; the put trims ephemeral pages afterwards.
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
 * re-enters tmem_set_capacity does not deadlock, it only trims).
 */
#include "core/tmem_internal.h"

#include <sched.h>
#include <stdlib.h>

static uint64_t tmem_percent_of(uint64_t value, uint32_t percent)
{
    return value / 100 * percent + value % 100 * percent / 100;
}

static bool tmem_fits(uint64_t used, uint64_t bytes, uint64_t cap)
{
    return cap == TMEM_CAPACITY_UNLIMITED || (bytes <= cap && used <= cap - bytes);
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
        switch (tmem_evict_one(tm)) {
        case TMEM_EVICTED:
            break;
        case TMEM_EVICT_BUSY:
            sched_yield();
            break;
        case TMEM_EVICT_EMPTY:
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

long tmem_trim(struct tmem *tm)
{
    long evicted = 0;

    while (!tmem_fits(tmem_usage(tm), 0, atomic_load(&tm->capacity))) {
        enum tmem_evict_result r = tmem_evict_one(tm);
        if (r == TMEM_EVICT_EMPTY)
            break;
        if (r == TMEM_EVICT_BUSY)
            sched_yield();
        else
            evicted++;
    }
    return evicted;
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

long tmem_reclaim(struct tmem *tm)
{
    long removed = tmem_trim(tm);
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
    return removed + tmem_trim(tm);
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
