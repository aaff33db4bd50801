/*
 * tmem_stats.c - statistics of the store, a client, a pool, and their text
 * and JSON renderings.
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
 *
 * Locking: clients_lock for the client list and the pool tables (pool
 * tables change only with it held), or client->lock shared for one
 * client's table; the values themselves are read as relaxed atomics, so a
 * snapshot taken while operations run is only approximately consistent.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>


static void tmem_stats_add_counters(struct tmem_stats *out, const struct tmem_counters *ctr)
{
    const _Atomic uint64_t *c = ctr->c;
    out->succ_puts += tmem_load(&c[TMEM_C_SUCC_PUTS]);
    for (int i = 0; i < TMEM_PUT_FAIL_COUNT; i++)
        out->failed_puts_reason[i] += tmem_load(&c[TMEM_C_FAIL_NO_ROOM + i]);
    out->dup_puts_replaced += tmem_load(&c[TMEM_C_DUP_REPLACED]);
    out->dup_puts_flushed += tmem_load(&c[TMEM_C_DUP_FLUSHED]);
    out->failed_gets += tmem_load(&c[TMEM_C_FAILED_GETS]);
    out->succ_gets += tmem_load(&c[TMEM_C_SUCC_GETS]);
    out->flush_pages += tmem_load(&c[TMEM_C_FLUSH_PAGES]);
    out->flush_objects += tmem_load(&c[TMEM_C_FLUSH_OBJECTS]);
    out->pages_flushed += tmem_load(&c[TMEM_C_PAGES_FLUSHED]);
    out->pages_evicted += tmem_load(&c[TMEM_C_PAGES_EVICTED]);
    out->pages_got_exclusive += tmem_load(&c[TMEM_C_PAGES_GOT_EXCLUSIVE]);
    out->pages_pool_destroyed += tmem_load(&c[TMEM_C_PAGES_POOL_DESTROYED]);
    out->pressure_calls += tmem_load(&c[TMEM_C_PRESSURE_CALLS]);
    out->pressure_pages += tmem_load(&c[TMEM_C_PRESSURE_PAGES]);
}

static void tmem_stats_add_page_kinds(struct tmem_stats *out, const struct tmem_gauges *gauges)
{
    const _Atomic uint64_t *g = gauges->g;
    out->pages_raw += tmem_load(&g[TMEM_G_PAGES_RAW]);
    out->pages_compressed += tmem_load(&g[TMEM_G_PAGES_COMPRESSED]);
    out->pages_same_filled += tmem_load(&g[TMEM_G_PAGES_SAME_FILLED]);
    out->pages_deduplicated += tmem_load(&g[TMEM_G_PAGES_DEDUPLICATED]);
}

static void tmem_stats_add_gauges(struct tmem_stats *out, const struct tmem_gauges *gauges)
{
    const _Atomic uint64_t *g = gauges->g;
    tmem_stats_add_page_kinds(out, gauges);
    out->data_bytes += tmem_load(&g[TMEM_G_DATA_BYTES]);
    out->compressed_payload_bytes += tmem_load(&g[TMEM_G_PAYLOAD_BYTES]);
    out->metadata_bytes += tmem_load(&g[TMEM_G_METADATA_BYTES]);
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
        if (parts & TMEM_STATS_GAUGES)
            tmem_stats_add_gauges(out, &st->gauges);
        if (parts & TMEM_STATS_PAGE_KINDS)
            tmem_stats_add_page_kinds(out, &st->gauges);
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

/* The derived fields. */
static void tmem_stats_finish(struct tmem_stats *out)
{
    out->failed_puts = 0;
    for (int i = 0; i < TMEM_PUT_FAIL_COUNT; i++)
        out->failed_puts += out->failed_puts_reason[i];
    out->puts = out->succ_puts + out->failed_puts;
    out->gets = out->succ_gets + out->failed_gets;
    out->pages = out->pages_raw + out->pages_compressed + out->pages_same_filled +
                 out->pages_deduplicated;
}

uint64_t tmem_pool_pages(const struct tmem_pool *pool)
{
    struct tmem_stats st;

    memset(&st, 0, sizeof(st));
    tmem_stats_add_pool(&st, pool, TMEM_STATS_PAGE_KINDS);
    tmem_stats_finish(&st);
    return st.pages;
}

int tmem_stats(const struct tmem *ctm, struct tmem_stats *out)
{
    struct tmem *tm = (struct tmem *)ctm;

    if (!tm || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&tm->clients_lock);
    tmem_stats_add_counters(out, &tm->orphan_counters);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        tmem_stats_add_client(out, c, TMEM_STATS_COUNTERS | TMEM_STATS_PAGE_KINDS, 0);
    for (struct tmem_pool *pool = tm->shared_pools; pool; pool = pool->next_shared)
        tmem_stats_add_pool(out, pool, TMEM_STATS_PAGE_KINDS);
    pthread_mutex_unlock(&tm->clients_lock);
    out->data_bytes = tmem_load(&tm->gauges.g[TMEM_G_DATA_BYTES]);
    out->compressed_payload_bytes = tmem_load(&tm->gauges.g[TMEM_G_PAYLOAD_BYTES]);
    out->metadata_bytes = tmem_load(&tm->gauges.g[TMEM_G_METADATA_BYTES]);
    out->capacity_bytes = atomic_load(&tm->capacity);
    out->allocator_bytes = tmem_memory_allocator_bytes(tm);
    out->clients = atomic_load(&tm->clients_live);
    out->pools = atomic_load(&tm->pools_live);
    tmem_stats_finish(out);
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

#define TMEM_FIELD(name) {#name, offsetof(struct tmem_stats, name)}
static const struct {
    const char *name;
    size_t offset;
} tmem_stats_fields[] = {
    TMEM_FIELD(puts),
    TMEM_FIELD(succ_puts),
    TMEM_FIELD(failed_puts),
    {"failed_puts_no_room", offsetof(struct tmem_stats, failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM])},
    {"failed_puts_hysteresis",
     offsetof(struct tmem_stats, failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS])},
    {"failed_puts_frozen", offsetof(struct tmem_stats, failed_puts_reason[TMEM_PUT_FAIL_FROZEN])},
    {"failed_puts_alloc", offsetof(struct tmem_stats, failed_puts_reason[TMEM_PUT_FAIL_ALLOC])},
    TMEM_FIELD(dup_puts_replaced),
    TMEM_FIELD(dup_puts_flushed),
    TMEM_FIELD(gets),
    TMEM_FIELD(succ_gets),
    TMEM_FIELD(failed_gets),
    TMEM_FIELD(flush_pages),
    TMEM_FIELD(flush_objects),
    TMEM_FIELD(pages_flushed),
    TMEM_FIELD(pages_evicted),
    TMEM_FIELD(pages_got_exclusive),
    TMEM_FIELD(pages_pool_destroyed),
    TMEM_FIELD(pressure_calls),
    TMEM_FIELD(pressure_pages),
    TMEM_FIELD(pages),
    TMEM_FIELD(pages_raw),
    TMEM_FIELD(pages_compressed),
    TMEM_FIELD(pages_same_filled),
    TMEM_FIELD(pages_deduplicated),
    TMEM_FIELD(data_bytes),
    TMEM_FIELD(compressed_payload_bytes),
    TMEM_FIELD(metadata_bytes),
    TMEM_FIELD(capacity_bytes),
    TMEM_FIELD(allocator_bytes),
    TMEM_FIELD(pools),
    TMEM_FIELD(clients),
};

int tmem_stats_format(const struct tmem_stats *st, bool json, char *buf, size_t size)
{
    size_t n = sizeof(tmem_stats_fields) / sizeof(tmem_stats_fields[0]);
    size_t used = 0;
    int len;

    if (size)
        buf[0] = '\0';
#define TMEM_EMIT(...)                                                                   \
    do {                                                                                 \
        len = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0,   \
                       __VA_ARGS__);                                                     \
        if (len < 0)                                                                     \
            return len;                                                                  \
        used += (size_t)len;                                                             \
    } while (0)
    if (json)
        TMEM_EMIT("{");
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, (const char *)st + tmem_stats_fields[i].offset, sizeof(v));
        if (json)
            TMEM_EMIT("%s\"%s\": %llu", i ? ", " : "", tmem_stats_fields[i].name,
                      (unsigned long long)v);
        else
            TMEM_EMIT("%-26s %llu\n", tmem_stats_fields[i].name, (unsigned long long)v);
    }
    if (json)
        TMEM_EMIT("}");
#undef TMEM_EMIT
    return (int)used;
}
