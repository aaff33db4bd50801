/*
 * tmem_page.c - a stored page's life after the put: reading it back and
 * releasing it.
 *
 * A page record is one of (enum tmem_page_kind):
 *   RAW         value -> page_size bytes
 *   COMPRESSED  value -> len bytes of lz4
 *   SAME        value =  the 64-bit word the page repeats (no data)
 *   DEDUP       value =  id of an owner record (RAW or COMPRESSED) whose data
 *               it shares
 * Release keeps the gauges exact: the handle's kind gauge, its pool's
 * record/data bytes; the data of a dedup owner whose handle goes while
 * others still use it is re-charged to the store alone ("detached").
 *
 * Locking: called with the page's stripe lock held; takes lru_lock and a
 * dedup shard lock inside it (never both at once).
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <lz4.h>
#include <string.h>

static const enum tmem_gauge tmem_kind_gauge[] = {
    [TMEM_KIND_RAW] = TMEM_G_PAGES_RAW,
    [TMEM_KIND_COMPRESSED] = TMEM_G_PAGES_COMPRESSED,
    [TMEM_KIND_SAME] = TMEM_G_PAGES_SAME_FILLED,
    [TMEM_KIND_DEDUP] = TMEM_G_PAGES_DEDUPLICATED,
};

static inline bool tmem_kind_has_data(uint8_t kind)
{
    return kind == TMEM_KIND_RAW || kind == TMEM_KIND_COMPRESSED;
}

static inline void *tmem_page_data(const struct tmem_page *p)
{
    return (void *)(uintptr_t)tmem_page_value(p);
}

void tmem_page_account(struct tmem *tm, struct tmem_pool *pool, const struct tmem_page *p,
                       int sign)
{
    tmem_gauge_add(&pool->gauges, tmem_kind_gauge[p->kind], sign);
    tmem_gauge_add(&tm->gauges, tmem_kind_gauge[p->kind], sign);
    tmem_gauge_add(&pool->gauges, TMEM_G_METADATA_BYTES, sign * (int64_t)sizeof(*p));
    if (tmem_kind_has_data(p->kind)) {
        tmem_gauge_add(&pool->gauges, TMEM_G_DATA_BYTES,
                       sign * (int64_t)tmem_memory_usable_size(tm, tmem_page_data(p)));
        tmem_gauge_add(&pool->gauges, TMEM_G_PAYLOAD_BYTES, sign * (int64_t)p->len);
    }
}

/* Free an owner's data and its record (no pool is charged for them any more). */
static void tmem_page_free_data_record(struct tmem *tm, uint32_t id)
{
    struct tmem_page *p = tmem_page_record(tm, id);
    tmem_gauge_add(&tm->gauges, TMEM_G_PAYLOAD_BYTES, -(int64_t)p->len);
    tmem_memory_free(tm, tmem_page_data(p), TMEM_MEM_DATA, NULL);
    tmem_slab_free(&tm->pages, id);
}

void tmem_page_drop_owner_ref(struct tmem *tm, uint32_t owner_id)
{
    if (tmem_dedup_release(tm, owner_id))
        tmem_page_free_data_record(tm, owner_id);
}

void tmem_page_free_unlinked(struct tmem *tm, uint32_t page_id)
{
    struct tmem_page *p = tmem_page_record(tm, page_id);

    switch (p->kind) {
    case TMEM_KIND_SAME:
        tmem_slab_free(&tm->pages, page_id);
        break;
    case TMEM_KIND_DEDUP: {
        uint32_t owner = (uint32_t)tmem_page_value(p);
        tmem_slab_free(&tm->pages, page_id);
        tmem_page_drop_owner_ref(tm, owner);
        break;
    }
    default:
        /* A shared owner: detach first, since once our reference is
         * dropped another thread may free the record. */
        p->object = 0;
        if (atomic_load_explicit(&p->refs, memory_order_relaxed))
            tmem_page_drop_owner_ref(tm, page_id);
        else
            tmem_page_free_data_record(tm, page_id);
        break;
    }
}

void tmem_page_release(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *c,
                       uint32_t page_id, enum tmem_counter why)
{
    struct tmem_page *p = tmem_page_record(tm, page_id);
    struct tmem_counters *client_counters = c ? &c->counters : &tm->orphan_counters;

    if (!tmem_pool_is_persistent(pool))
        tmem_lru_remove(tm, page_id);
    tmem_count(&pool->counters, why, 1);
    tmem_count(client_counters, why, 1);
    tmem_page_account(tm, pool, p, -1);
    tmem_page_free_unlinked(tm, page_id);
}

int tmem_page_read(struct tmem *tm, const struct tmem_page *p, void *buf)
{
    uint32_t size = tm->cfg.page_size;

    switch (p->kind) {
    case TMEM_KIND_SAME:
        tmem_codec_fill(buf, size, tmem_page_value(p));
        return 0;
    case TMEM_KIND_RAW:
        memcpy(buf, tmem_page_data(p), size);
        return 0;
    case TMEM_KIND_COMPRESSED:
        if (LZ4_decompress_safe(tmem_page_data(p), buf, p->len, (int)size) != (int)size)
            return -EIO;
        return 0;
    case TMEM_KIND_DEDUP:
        return tmem_page_read(tm, tmem_page_record(tm, (uint32_t)tmem_page_value(p)), buf);
    default:
        return -EIO;
    }
}
