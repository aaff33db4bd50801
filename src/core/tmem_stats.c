/*
 * tmem_stats.c - statistics of the store, a client, a pool, and their text
 * and JSON renderings.
 *
 * Event counters live per client and per pool (each call counts in both);
 * events with no calling client (evictions in shared pools) and the totals
 * of destroyed clients go to the store's orphan counters, so the store's
 * counters are the orphan counters plus the sum over live clients. Gauges
 * live per pool and for the store; a client's gauges are the sum over the
 * pools it holds.
 *
 * Locking: clients_lock for the client list, client->lock shared for a
 * client's pool table; the values themselves are relaxed atomics, so a
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

static void tmem_stats_add_gauges(struct tmem_stats *out, const struct tmem_gauges *gauges)
{
    const _Atomic uint64_t *g = gauges->g;
    out->pages_raw += tmem_load(&g[TMEM_G_PAGES_RAW]);
    out->pages_compressed += tmem_load(&g[TMEM_G_PAGES_COMPRESSED]);
    out->pages_same_filled += tmem_load(&g[TMEM_G_PAGES_SAME_FILLED]);
    out->pages_deduplicated += tmem_load(&g[TMEM_G_PAGES_DEDUPLICATED]);
    out->data_bytes += tmem_load(&g[TMEM_G_DATA_BYTES]);
    out->compressed_payload_bytes += tmem_load(&g[TMEM_G_PAYLOAD_BYTES]);
    out->metadata_bytes += tmem_load(&g[TMEM_G_METADATA_BYTES]);
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

int tmem_stats(const struct tmem *ctm, struct tmem_stats *out)
{
    struct tmem *tm = (struct tmem *)ctm;

    if (!tm || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&tm->clients_lock);
    tmem_stats_add_counters(out, &tm->orphan_counters);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        tmem_stats_add_counters(out, &c->counters);
    pthread_mutex_unlock(&tm->clients_lock);
    tmem_stats_add_gauges(out, &tm->gauges);
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
    tmem_stats_add_counters(out, &c->counters);
    pthread_rwlock_rdlock(&c->lock);
    for (int id = 0; id < TMEM_MAX_POOLS_PER_CLIENT; id++) {
        if (c->pools[id]) {
            tmem_stats_add_gauges(out, &c->pools[id]->gauges);
            out->pools++;
        }
    }
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
    tmem_stats_add_counters(out, &pool->counters);
    tmem_stats_add_gauges(out, &pool->gauges);
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
