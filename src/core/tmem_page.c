/*
 * tmem_page.c - a stored page's life after the put: reading it back and
 * releasing it.
 *
 * A page record is one of (enum tmem_page_kind):
 *   RAW         value -> page_size bytes
 *   COMPRESSED  value -> len bytes of the store's compressor (lz4 or zstd)
 *   SAME        value =  the 64-bit word the page repeats (no data)
 *   DEDUP       value =  id of an owner record (RAW or COMPRESSED) whose data
 *               it shares
 * Release keeps the gauges exact: the handle's kind gauge, its pool's
 * record/data bytes (in the stripe), its client's held bytes (a private
 * pool's owner's, through the stripe); the data of a dedup owner whose handle
 * goes while others still use it stays charged to the store alone
 * ("detached"). Store DATA/PAYLOAD bytes change through the stripe's
 * pending sums (tmem_charge_page_data), applied once at the unlock; so
 * does the data at zsmalloc's classes when the budget counts that
 * (tmem_config.budget TMEM_BUDGET_ZSMALLOC). With TMEM_BUDGET_ZSPAGES
 * the data's zspage object is freed with the data (tmem_zspage.c), which
 * changes the budget at once when its zspage empties.
 *
 * Called by the page operations (tmem_ops.c), eviction (tmem_capacity.c)
 * and pool destruction (tmem_store.c); it calls down into the LRU, dedup,
 * slab and allocator, never back up.
 *
 * Locking: called with the page's stripe lock held; takes lru_lock and a
 * dedup shard lock inside it (never both at once).
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <string.h>

static inline void *tmem_page_data(const struct tmem_page *p)
{
    return (void *)(uintptr_t)tmem_page_value(p);
}

void tmem_charge_page_data(struct tmem *tm, struct tmem_stripe *st, uint32_t len, int sign)
{
    int64_t bytes = sign * (int64_t)tmem_memory_size_class(tm, len);
    int64_t budget = tm->cfg.budget == TMEM_BUDGET_ZSMALLOC
                         ? sign * (int64_t)tmem_memory_zsmalloc_size(tm, len)
                         : 0;

    if (st) {
        st->pending_data_bytes += bytes;
        st->pending_payload_bytes += sign * (int64_t)len;
        st->pending_budget_bytes += budget;
    } else {
        tmem_gauge_add(&tm->gauges, TMEM_G_DATA_BYTES, bytes);
        tmem_gauge_add(&tm->gauges, TMEM_G_PAYLOAD_BYTES, sign * (int64_t)len);
        if (budget)
            atomic_fetch_add_explicit(&tm->budget_data_bytes, (uint64_t)budget,
                                      memory_order_relaxed);
    }
}

void tmem_page_account(struct tmem *tm, struct tmem_stripe *st, const struct tmem_page *p,
                       int sign)
{
    _Atomic uint64_t *g = st->gauges.g;
    uint32_t len = tmem_page_stored_len(tm, p);

    tmem_add_owned(&g[tmem_page_kind_gauge(tmem_page_kind(p))], (uint64_t)(int64_t)sign);
    tmem_add_owned(&g[TMEM_G_METADATA_BYTES], (uint64_t)(sign * (int64_t)sizeof(*p)));
    if (len) {
        tmem_add_owned(&g[TMEM_G_DATA_BYTES],
                       (uint64_t)(sign * (int64_t)tmem_memory_size_class(tm, len)));
        tmem_add_owned(&g[TMEM_G_PAYLOAD_BYTES], (uint64_t)(sign * (int64_t)len));
    }
    if (st->held) /* a private pool: its owner's held bytes, at the unlock */
        st->pending_held_bytes += sign * (int64_t)tmem_page_bytes(tm, p);
}

/* Free an owner's data and its record (no pool is charged for them any more). */
static void tmem_page_free_data_record(struct tmem *tm, struct tmem_stripe *st, uint32_t id)
{
    struct tmem_page *p = tmem_page_record(tm, id);
    uint32_t len = tmem_page_stored_len(tm, p);
    if (tm->zspages)
        tmem_zspage_release(tm, id);
    tmem_charge_page_data(tm, st, len, -1);
    tmem_memory_free_data(tm, tmem_page_data(p), len);
    tmem_slab_free(&tm->pages, id);
}

void tmem_page_drop_owner_ref(struct tmem *tm, struct tmem_stripe *st, uint32_t owner_id)
{
    if (tmem_dedup_release(tm, owner_id))
        tmem_page_free_data_record(tm, st, owner_id);
}

void tmem_page_free_unlinked(struct tmem *tm, struct tmem_stripe *st, uint32_t page_id)
{
    struct tmem_page *p = tmem_page_record(tm, page_id);

    switch (tmem_page_kind(p)) {
    case TMEM_KIND_SAME:
        tmem_slab_free(&tm->pages, page_id);
        break;
    case TMEM_KIND_DEDUP: {
        uint32_t owner = (uint32_t)tmem_page_value(p);
        tmem_slab_free(&tm->pages, page_id);
        tmem_page_drop_owner_ref(tm, st, owner);
        break;
    }
    default:
        /* A shared owner: detach first, since once our reference is
         * dropped another thread may free the record. */
        p->object = 0;
        if (atomic_load_explicit(&p->refs, memory_order_relaxed))
            tmem_page_drop_owner_ref(tm, st, page_id);
        else
            tmem_page_free_data_record(tm, st, page_id);
        break;
    }
}

void tmem_page_release(struct tmem *tm, struct tmem_pool *pool, struct tmem_stripe *st,
                       struct tmem_client *c, uint32_t page_id, enum tmem_counter why)
{
    struct tmem_page *p = tmem_page_record(tm, page_id);

    if (!tmem_pool_is_persistent(pool))
        tmem_lru_remove(tm, pool, page_id);
    tmem_count_event(tm, pool, st, c, why, 1);
    tmem_page_account(tm, st, p, -1);
    tmem_page_free_unlinked(tm, st, page_id);
}

int tmem_page_read(struct tmem *tm, const struct tmem_page *p, void *buf)
{
    uint32_t size = tm->cfg.page_size;

    switch (tmem_page_kind(p)) {
    case TMEM_KIND_SAME:
        tmem_codec_fill(buf, size, tmem_page_value(p));
        return 0;
    case TMEM_KIND_RAW:
        memcpy(buf, tmem_page_data(p), size);
        return 0;
    case TMEM_KIND_COMPRESSED:
        return tmem_codec_decompress(tm, tmem_page_data(p), tmem_page_stored_len(tm, p), buf);
    case TMEM_KIND_DEDUP:
        return tmem_page_read(tm, tmem_page_record(tm, (uint32_t)tmem_page_value(p)), buf);
    default:
        return -EIO;
    }
}
