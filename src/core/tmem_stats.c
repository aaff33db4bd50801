/*
 * tmem_stats.c - statistics of the store, a client, a pool, and their text
 * and JSON renderings (common/stats_writer.h: JSON through jansson; an
 * unlimited capacity written as "unlimited").
 *
 * Every field is declared once, in TMEM_STATS_FIELDS (tmem.h): the public
 * struct, the core's counter and gauge enums (tmem_internal.h), the adders
 * below and the renderer all walk that list.
 *
 * Where the numbers live (tmem_internal.h, tmem_count_event):
 *  - A pool's counters and gauges are spread over its 64 stripes, each
 *    written under its stripe lock; a pool's statistics are their sum.
 *  - A client's counters: its own counters (calls on shared pools,
 *    pressure, totals of its destroyed private pools) plus the stripes of
 *    its live private pools. Its gauges: the sum over the pools it holds.
 *  - The store's counters: its orphan counters (events with no client,
 *    totals of destroyed clients) plus every live client's. Its pages by
 *    kind: the sum over live pools (each shared pool once); its data,
 *    metadata and payload bytes: its own gauges, which admission reads.
 *  - weight and cap_bytes: a client's own (atomics); 0 for the store and
 *    for a pool.
 *
 * Locking: clients_lock for the client list and the pool tables (pool
 * tables change only with it held), or client->lock shared for one
 * client's table; the values themselves are read as relaxed atomics, so a
 * snapshot taken while operations run is only approximately consistent.
 */
#include "core/tmem_internal.h"

#include "common/size.h"
#include "common/stats_writer.h"

#include <errno.h>
#include <string.h>

static void tmem_stats_add_counters(struct tmem_stats *out, const struct tmem_counters *ctr)
{
#define TMEM_ADD_COUNTER_(kind, id, name, help)                                            \
    TMEM_IF_COUNTER_##kind(out->name += tmem_load(&ctr->c[TMEM_C_##id]);)
    TMEM_STATS_FIELDS(TMEM_ADD_COUNTER_)
#undef TMEM_ADD_COUNTER_
}

/* Add the gauges of *gauges: only the PAGES ones with pages_only. */
static void tmem_stats_add_gauges(struct tmem_stats *out, const struct tmem_gauges *gauges,
                                  bool pages_only)
{
#define TMEM_ADD_PAGES_(kind, id, name, help)                                              \
    TMEM_IF_PAGES_##kind(out->name += tmem_load(&gauges->g[TMEM_G_##id]);)
#define TMEM_ADD_BYTES_(kind, id, name, help)                                              \
    TMEM_IF_BYTES_##kind(out->name += tmem_load(&gauges->g[TMEM_G_##id]);)
    TMEM_STATS_FIELDS(TMEM_ADD_PAGES_)
    if (pages_only)
        return;
    TMEM_STATS_FIELDS(TMEM_ADD_BYTES_)
#undef TMEM_ADD_PAGES_
#undef TMEM_ADD_BYTES_
}

/* What to add of a pool's stripes. */
enum tmem_stats_part { TMEM_STATS_COUNTERS = 1, TMEM_STATS_GAUGES = 2, TMEM_STATS_PAGE_KINDS = 4 };

static void tmem_stats_add_pool(struct tmem_stats *out, const struct tmem_pool *pool, int parts)
{
    if (!parts)
        return;
    for (uint32_t i = 0; i < TMEM_STRIPES; i++) {
        const struct tmem_stripe *st = &pool->stripes[i];
        if (parts & TMEM_STATS_COUNTERS)
            tmem_stats_add_counters(out, &st->counters);
        if (parts & (TMEM_STATS_GAUGES | TMEM_STATS_PAGE_KINDS))
            tmem_stats_add_gauges(out, &st->gauges, !(parts & TMEM_STATS_GAUGES));
    }
}

/* A client's own counters, plus owned_parts of each private pool it owns
 * and shared_parts of each shared pool it holds; its pool table held
 * stable by the caller. */
static void tmem_stats_add_client(struct tmem_stats *out, const struct tmem_client *c,
                                  int owned_parts, int shared_parts)
{
    tmem_stats_add_counters(out, &c->counters);
    for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
        const struct tmem_pool *pool = c->pools[id];
        if (!pool)
            continue;
        tmem_stats_add_pool(out, pool, pool->owner == c ? owned_parts : shared_parts);
        out->pools++;
    }
}

/* The SUM fields, from the others. */
static void tmem_stats_finish(struct tmem_stats *out)
{
    out->failed_puts = 0;
    for (int i = 0; i < TMEM_PUT_FAIL_COUNT; i++)
        out->failed_puts += out->failed_puts_reason[i];
    out->puts = out->succ_puts + out->failed_puts;
    out->gets = out->succ_gets + out->failed_gets;
    out->pages = 0;
#define TMEM_SUM_PAGES_(kind, id, name, help) TMEM_IF_PAGES_##kind(out->pages += out->name;)
    TMEM_STATS_FIELDS(TMEM_SUM_PAGES_)
#undef TMEM_SUM_PAGES_
}

uint64_t tmem_pool_pages(const struct tmem_pool *pool)
{
    struct tmem_stats st;

    memset(&st, 0, sizeof(st));
    tmem_stats_add_pool(&st, pool, TMEM_STATS_PAGE_KINDS);
    tmem_stats_finish(&st);
    return st.pages;
}

void tmem_stats_of_store_locked(struct tmem *tm, struct tmem_stats *out)
{
    memset(out, 0, sizeof(*out));
    tmem_stats_add_counters(out, &tm->orphan_counters);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        tmem_stats_add_client(out, c, TMEM_STATS_COUNTERS | TMEM_STATS_PAGE_KINDS, 0);
    for (struct tmem_pool *pool = tm->shared_pools; pool; pool = pool->next_shared)
        tmem_stats_add_pool(out, pool, TMEM_STATS_PAGE_KINDS);
    out->data_bytes = tmem_load(&tm->gauges.g[TMEM_G_DATA_BYTES]);
    out->compressed_payload_bytes = tmem_load(&tm->gauges.g[TMEM_G_PAYLOAD_BYTES]);
    out->metadata_bytes = tmem_load(&tm->gauges.g[TMEM_G_METADATA_BYTES]);
    out->capacity_bytes = atomic_load(&tm->capacity);
    out->clients = atomic_load(&tm->clients_live);
    out->pools = atomic_load(&tm->pools_live);
    out->alloc_failures = atomic_load(&tm->alloc_failures);
    tmem_stats_finish(out);
}

int tmem_stats(const struct tmem *ctm, struct tmem_stats *out)
{
    struct tmem *tm = (struct tmem *)ctm;

    if (!tm || !out)
        return -EINVAL;
    pthread_mutex_lock(&tm->clients_lock);
    tmem_stats_of_store_locked(tm, out);
    pthread_mutex_unlock(&tm->clients_lock);
    out->allocator_bytes = tmem_memory_allocator_bytes(tm);
    return 0;
}

int tmem_client_stats(const struct tmem_client *cc, struct tmem_stats *out)
{
    struct tmem_client *c = (struct tmem_client *)cc;

    if (!c || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    pthread_rwlock_rdlock(&c->lock);
    tmem_stats_add_client(out, c, TMEM_STATS_COUNTERS | TMEM_STATS_GAUGES, TMEM_STATS_GAUGES);
    pthread_rwlock_unlock(&c->lock);
    out->weight = atomic_load(&c->weight);
    out->cap_bytes = atomic_load(&c->cap);
    tmem_stats_finish(out);
    return 0;
}

int tmem_pool_stats(const struct tmem_client *cc, int pool_id, struct tmem_stats *out)
{
    struct tmem_client *c = (struct tmem_client *)cc;
    struct tmem_pool *pool;

    if (!c || !out)
        return -EINVAL;
    pool = tmem_client_lock_pool(c, pool_id);
    if (!pool)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    tmem_stats_add_pool(out, pool, TMEM_STATS_COUNTERS | TMEM_STATS_GAUGES);
    tmem_client_unlock_pools(c);
    out->pools = 1;
    tmem_stats_finish(out);
    return 0;
}

/* ------------------------------------------------------------ rendering */

/* How a field of each kind is written: a STATE field holds a setting such
 * as the capacity, where TMEM_CAPACITY_UNLIMITED is the word "unlimited"
 * (a string in JSON, which holds no 2^64 - 1); the others are counts. */
#define TMEM_RENDER_COUNTER stats_writer_u64
#define TMEM_RENDER_SUM stats_writer_u64
#define TMEM_RENDER_PAGES stats_writer_u64
#define TMEM_RENDER_BYTES stats_writer_u64
#define TMEM_RENDER_STATE stats_writer_limit
_Static_assert(TMEM_CAPACITY_UNLIMITED == SIZE_UNLIMITED, "one meaning of unlimited");

int tmem_stats_format(const struct tmem_stats *st, bool json, char *buf, size_t size)
{
    struct stats_writer w;

    stats_writer_begin(&w, buf, size, json, 26);
#define TMEM_RENDER_(kind, id, name, help) TMEM_RENDER_##kind(&w, #name, st->name);
    TMEM_STATS_FIELDS(TMEM_RENDER_)
#undef TMEM_RENDER_
    return stats_writer_end(&w, false);
}
