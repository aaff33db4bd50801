/*
 * tmem_tier.c - the hook for a second tier behind the store (tmem.h,
 * "tiers"; the Redis tier of src/remote/ is one): registering the tier and
 * the clients that use it, naming a pool's handles for it, its counters,
 * and handing it evicted ephemeral pages.
 *
 * The calls into the tier for put, get and flushes are made by tmem_ops.c
 * and tmem_store.c after they released every lock of the store; only the
 * evictor (tmem_capacity.c) calls in with a lock held (the victim's
 * stripe), and only the tier's non-blocking `evicted` op.
 *
 * Data: the ops and their argument in struct tmem (set once, before use),
 * per client the enabled kinds (an atomic, published after tier_arg with
 * release order, so the evictor, which holds no client lock, reads a
 * whole pair) and counters per pool kind; the store keeps the totals
 * (every event counts in both). No lock of its own.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <string.h>

int tmem_set_tier(struct tmem *tm, const struct tmem_tier_ops *ops, void *arg)
{
    if (!tm)
        return -EINVAL;
    if (!ops) {
        tm->has_tier = false;
        memset(&tm->tier, 0, sizeof(tm->tier));
        tm->tier_arg = NULL;
        return 0;
    }
    if (!ops->put || !ops->get || !ops->flush_page || !ops->flush_object ||
        !ops->destroy_pool)
        return -EINVAL;
    tm->tier = *ops;
    tm->tier_arg = arg;
    tm->has_tier = true;
    return 0;
}

int tmem_client_set_tier(struct tmem_client *c, unsigned kinds, void *client_arg)
{
    const unsigned known = TMEM_TIER_EPHEMERAL | TMEM_TIER_PERSISTENT | TMEM_TIER_WRITE_THROUGH;

    if (!c || (kinds & ~known) || (kinds && !c->tm->has_tier))
        return -EINVAL;
    pthread_rwlock_wrlock(&c->lock);
    atomic_store_explicit(&c->tier_kinds, 0, memory_order_relaxed);
    c->tier_arg = client_arg;
    atomic_store_explicit(&c->tier_kinds, kinds, memory_order_release);
    pthread_rwlock_unlock(&c->lock);
    return 0;
}

bool tmem_tier_handle_of(struct tmem *tm, const struct tmem_pool *pool, int pool_id,
                         struct tmem_tier_handle *h)
{
    const struct tmem_client *owner = pool->owner;
    bool persistent = tmem_pool_is_persistent(pool);
    unsigned kinds;

    if (!tm->has_tier || !owner)
        return false;
    kinds = atomic_load_explicit(&owner->tier_kinds, memory_order_acquire);
    if (!(kinds & (persistent ? TMEM_TIER_PERSISTENT : TMEM_TIER_EPHEMERAL)))
        return false;
    memset(h, 0, sizeof(*h));
    h->client_arg = owner->tier_arg;
    h->pool_serial = pool->serial;
    h->pool_id = pool_id;
    h->pool_flags = pool->flags;
    h->write_through = persistent && (kinds & TMEM_TIER_WRITE_THROUGH);
    return true;
}

void tmem_tier_count(struct tmem *tm, struct tmem_client *c, bool persistent,
                     enum tmem_tier_counter i, uint64_t n)
{
    if (c)
        atomic_fetch_add_explicit(&c->tier_counters[persistent][i], n, memory_order_relaxed);
    atomic_fetch_add_explicit(&tm->tier_counters[persistent][i], n, memory_order_relaxed);
}

void tmem_tier_offer_evicted(struct tmem *tm, struct tmem_pool *pool,
                             const struct tmem_object *obj, const struct tmem_page *p)
{
    struct tmem_tier_handle h;

    if (!tm->tier.evicted || tmem_pool_is_persistent(pool) ||
        !tmem_tier_handle_of(tm, pool, pool->id, &h))
        return;
    {
        unsigned char page[tm->cfg.page_size];

        if (tmem_page_read(tm, p, page) != 0)
            return; /* a broken record: the checker reports it */
        h.oid = obj->oid;
        h.index = p->index;
        tm->tier.evicted(tm->tier_arg, &h, page);
    }
    tmem_tier_count(tm, pool->owner, false, TMEM_TIER_C_EVICTIONS, 1);
}

static void tmem_tier_stats_fill(_Atomic uint64_t (*counters)[TMEM_TIER_C_COUNT],
                                 bool persistent, struct tmem_tier_stats *out)
{
    const _Atomic uint64_t *c = counters[persistent];

    out->puts = tmem_load(&c[TMEM_TIER_C_PUTS]);
    out->puts_accepted = tmem_load(&c[TMEM_TIER_C_PUTS_ACCEPTED]);
    out->puts_refused = tmem_load(&c[TMEM_TIER_C_PUTS_REFUSED]);
    out->gets = tmem_load(&c[TMEM_TIER_C_GETS]);
    out->hits = tmem_load(&c[TMEM_TIER_C_HITS]);
    out->flushes = tmem_load(&c[TMEM_TIER_C_FLUSHES]);
    out->evictions = tmem_load(&c[TMEM_TIER_C_EVICTIONS]);
}

int tmem_tier_stats(const struct tmem *tm, bool persistent, struct tmem_tier_stats *out)
{
    if (!tm || !out)
        return -EINVAL;
    tmem_tier_stats_fill((_Atomic uint64_t(*)[TMEM_TIER_C_COUNT])tm->tier_counters, persistent,
                         out);
    return 0;
}

int tmem_client_tier_stats(const struct tmem_client *c, bool persistent,
                           struct tmem_tier_stats *out)
{
    if (!c || !out)
        return -EINVAL;
    tmem_tier_stats_fill((_Atomic uint64_t(*)[TMEM_TIER_C_COUNT])c->tier_counters, persistent,
                         out);
    return 0;
}
