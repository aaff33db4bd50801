/*
 * fsmap.c - the frontswap map and frontswap ops of one swap area.
 *
 * Models: the kernel's frontswap layer for one swap type: the per-slot
 * record of where a swapped page lives (frontswap, the swap file, or both
 * in write-through mode) and the four frontswap ops mapped onto tmem:
 *   store           -> tmem_put(pool, {type,0,0}, slot)
 *   load            -> tmem_get (destructive if the pool has exclusive gets)
 *   invalidate_page -> tmem_flush_page
 *   invalidate_area -> tmem_flush_object
 * with the debugfs counters (succ_stores, failed_stores, loads,
 * invalidates). A failed store clears FS: tmem's put-put-get rule removes
 * an older copy under the handle, so the map must never claim it.
 * Data structures: arrays indexed by slot (state bits, owner page, last
 * touch) and an intrusive doubly linked LRU list of the slots that are in
 * frontswap (head = least recently stored/loaded), used by shrink.
 * Locking: none; the guest calls it under its lock. The tmem calls are
 * thread-safe by the core's contract.
 */
#include <errno.h>
#include <stdlib.h>

#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

static struct tmem_oid area_oid(const struct swapsim_fsmap *m)
{
    struct tmem_oid oid = {{m->type, 0, 0}};
    return oid;
}

int swapsim_fsmap_init(struct swapsim_fsmap *m, uint32_t nslots, struct tmem_client *client,
                       int pool, uint64_t type, bool exclusive, struct swapsim_counters *ctr)
{
    m->client = client;
    m->pool = pool;
    m->type = type;
    m->exclusive = exclusive;
    m->nslots = nslots;
    m->ctr = ctr;
    m->head = m->tail = SWAPSIM_NONE;
    m->count = 0;
    m->state = calloc(nslots, 1);
    m->owner = malloc(nslots * sizeof(uint32_t));
    m->prev = malloc(nslots * sizeof(uint32_t));
    m->next = malloc(nslots * sizeof(uint32_t));
    m->touch = calloc(nslots, sizeof(uint64_t));
    if (!m->state || !m->owner || !m->prev || !m->next || !m->touch) {
        swapsim_fsmap_fini(m);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < nslots; i++)
        m->owner[i] = m->prev[i] = m->next[i] = SWAPSIM_NONE;
    return 0;
}

void swapsim_fsmap_fini(struct swapsim_fsmap *m)
{
    free(m->state);
    free(m->owner);
    free(m->prev);
    free(m->next);
    free(m->touch);
    m->state = NULL;
    m->owner = m->prev = m->next = NULL;
    m->touch = NULL;
}

static void lru_unlink(struct swapsim_fsmap *m, uint32_t s)
{
    if (m->prev[s] != SWAPSIM_NONE)
        m->next[m->prev[s]] = m->next[s];
    else
        m->head = m->next[s];
    if (m->next[s] != SWAPSIM_NONE)
        m->prev[m->next[s]] = m->prev[s];
    else
        m->tail = m->prev[s];
    m->prev[s] = m->next[s] = SWAPSIM_NONE;
    m->count--;
}

static void lru_append(struct swapsim_fsmap *m, uint32_t s, uint64_t now)
{
    m->prev[s] = m->tail;
    m->next[s] = SWAPSIM_NONE;
    if (m->tail != SWAPSIM_NONE)
        m->next[m->tail] = s;
    else
        m->head = s;
    m->tail = s;
    m->touch[s] = now;
    m->count++;
}

void swapsim_fsmap_forget(struct swapsim_fsmap *m, uint32_t slot)
{
    if (m->state[slot] & SWAPSIM_SLOT_FS) {
        lru_unlink(m, slot);
        m->state[slot] &= (uint8_t)~SWAPSIM_SLOT_FS;
    }
}

int swapsim_fsmap_store(struct swapsim_fsmap *m, uint32_t slot, const void *page,
                        uint64_t now)
{
    struct tmem_oid oid = area_oid(m);
    int ret;

    if (!m->client)
        return -ENODEV;
    ret = tmem_put(m->client, m->pool, &oid, slot, page);
    swapsim_fsmap_forget(m, slot);
    if (ret != 0) {
        m->ctr->failed_stores++;
        return ret;
    }
    m->ctr->succ_stores++;
    m->state[slot] |= SWAPSIM_SLOT_FS;
    lru_append(m, slot, now);
    return 0;
}

int swapsim_fsmap_load(struct swapsim_fsmap *m, uint32_t slot, void *page, uint64_t now)
{
    struct tmem_oid oid = area_oid(m);
    int ret;

    if (!m->client || !(m->state[slot] & SWAPSIM_SLOT_FS))
        return -ENOENT;
    ret = tmem_get(m->client, m->pool, &oid, slot, page);
    if (ret != 0) {
        /* a persistent page the store lost (a core bug; get-get: later
         * gets fail too): the map must stop claiming it */
        m->ctr->failed_loads++;
        swapsim_fsmap_forget(m, slot);
        return ret;
    }
    m->ctr->loads++;
    lru_unlink(m, slot);
    if (m->exclusive)
        m->state[slot] &= (uint8_t)~SWAPSIM_SLOT_FS;
    else
        lru_append(m, slot, now);
    return 0;
}

int swapsim_fsmap_invalidate(struct swapsim_fsmap *m, uint32_t slot)
{
    struct tmem_oid oid = area_oid(m);
    int ret;

    if (!(m->state[slot] & SWAPSIM_SLOT_FS))
        return 0;
    swapsim_fsmap_forget(m, slot);
    m->ctr->invalidates++;
    ret = tmem_flush_page(m->client, m->pool, &oid, slot);
    return ret;
}

int swapsim_fsmap_invalidate_area(struct swapsim_fsmap *m)
{
    struct tmem_oid oid = area_oid(m);
    int ret;

    if (!m->client)
        return 0;
    while (m->head != SWAPSIM_NONE)
        swapsim_fsmap_forget(m, m->head);
    m->ctr->invalidate_areas++;
    ret = tmem_flush_object(m->client, m->pool, &oid);
    return ret == -ENOENT ? 0 : ret;
}
