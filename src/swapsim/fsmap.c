/*
 * fsmap.c - frontswap for one swap area: the four frontswap ops onto tmem,
 * their counters, and the order of the slots frontswap holds.
 *
 * Models: the kernel's frontswap layer for one swap type (its ops onto a
 * tmem backend, its debugfs counters, its per-slot "is it in frontswap"
 * record):
 *   store           -> tmem_put(pool, {type,0,0}, slot)
 *   load            -> tmem_get (destructive if the pool has exclusive gets)
 *   invalidate_page -> tmem_flush_page
 *   invalidate_area -> tmem_flush_object
 * counted as succ_stores, failed_stores, loads, failed_loads, invalidates,
 * invalidate_areas. A failed store forgets the slot: tmem's put-put-get
 * rule removes an older copy under the handle, so frontswap must never
 * claim it. Which page owns a slot and whether the swap file holds it is
 * the guest's swap state (the swap device's slot table, swapdev.c), not
 * frontswap's.
 * Data structures: the slots frontswap holds, as an index-linked list
 * (common/index_list.h) over a per-slot links array, oldest store or load
 * at the head: a slot is held iff it is on the list. Per slot the access
 * count of its last store or load (non-decreasing from head to tail), and
 * zswap's referenced bit (mm/zswap.c, entry->referenced): set when the
 * slot is stored (or re-held by a non-exclusive load), cleared by
 * swapsim_fsmap_rotate, which moves the slot to the tail (the newest, its
 * access count now) as zswap's shrink_memcg_cb rotates a referenced entry
 * (LRU_ROTATE). The shrink paths take the head. With no tmem client (frontswap off) nothing
 * is allocated and every op reports that frontswap holds nothing.
 * Migration (swapsim_guest_migrate): while tracking, every slot whose
 * state changes (store, exclusive load, invalidation) is pushed once on
 * a stack of changed slots (a bitmap keeps it unique); at the start every
 * held slot is. The migration takes them in batches and copies each
 * slot's state to the destination pool (swapsim_fsmap_copy_slot), and at
 * the end frontswap switches to the destination pool with its order and
 * access counts unchanged.
 * Locking: none; the guest calls it under its lock. The tmem calls are
 * thread-safe by the core's contract.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "common/index_list.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

struct swapsim_fsmap {
    struct tmem_client *client;     /* NULL: frontswap off */
    int pool;
    uint64_t type;                  /* object id = {type, 0, 0} */
    bool exclusive;                 /* the pool's gets are exclusive */
    uint32_t nslots;
    struct index_list lru;          /* held slots, head = least recently used */
    struct index_list_links *links; /* [nslots] */
    uint64_t *touch;                /* [nslots] access count of the last store/load */
    uint8_t *referenced;            /* [nslots] zswap's second-chance bit */
    uint64_t count;                 /* slots held */
    struct swapsim_counters *ctr;
    /* Migration (swapsim_fsmap_track_*): the slots whose frontswap state
     * changed since they were last taken, as a stack with a bitmap
     * against duplicates; NULL when not tracking. */
    uint8_t *changed;               /* [nslots] on the stack */
    uint32_t *changed_stack;        /* [nslots] */
    uint32_t nchanged;
};

static struct tmem_oid swapsim_fsmap_oid(const struct swapsim_fsmap *m)
{
    struct tmem_oid oid = {{m->type, 0, 0}};
    return oid;
}

int swapsim_fsmap_create(uint32_t nslots, struct tmem_client *client, int pool, uint64_t type,
                         bool exclusive, struct swapsim_counters *ctr,
                         struct swapsim_fsmap **out)
{
    struct swapsim_fsmap *m;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->client = client;
    m->pool = pool;
    m->type = type;
    m->exclusive = exclusive;
    m->nslots = nslots;
    m->ctr = ctr;
    index_list_init(&m->lru, SWAPSIM_NONE);
    if (client) {
        m->links = malloc((size_t)nslots * sizeof(*m->links));
        m->touch = calloc(nslots, sizeof(uint64_t));
        m->referenced = calloc(nslots, 1);
        if (!m->links || !m->touch || !m->referenced) {
            swapsim_fsmap_destroy(m);
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < nslots; i++)
            index_list_links_clear(&m->lru, &m->links[i]);
    }
    *out = m;
    return 0;
}

void swapsim_fsmap_destroy(struct swapsim_fsmap *m)
{
    if (!m)
        return;
    swapsim_fsmap_track_end(m);
    free(m->links);
    free(m->touch);
    free(m->referenced);
    free(m);
}

bool swapsim_fsmap_holds(const struct swapsim_fsmap *m, uint32_t slot)
{
    return m->client && slot < m->nslots &&
           index_list_contains(&m->lru, index_list_array, m->links, slot);
}

uint64_t swapsim_fsmap_pages(const struct swapsim_fsmap *m)
{
    return m->count;
}

uint32_t swapsim_fsmap_oldest(const struct swapsim_fsmap *m, uint64_t *touched)
{
    uint32_t s = m->lru.head;
    if (s != SWAPSIM_NONE && touched)
        *touched = m->touch[s];
    return s;
}

/* Slot's frontswap state changed (stored, taken by an exclusive load,
 * invalidated): note it for a migration in progress. */
static void swapsim_fsmap_changed(struct swapsim_fsmap *m, uint32_t slot)
{
    if (m->changed && !m->changed[slot]) {
        m->changed[slot] = 1;
        m->changed_stack[m->nchanged++] = slot;
    }
}

/* Stop holding slot (its tmem copy is gone or about to go). */
static void swapsim_fsmap_forget(struct swapsim_fsmap *m, uint32_t slot)
{
    if (swapsim_fsmap_holds(m, slot)) {
        index_list_remove(&m->lru, index_list_array, m->links, slot);
        m->count--;
    }
}

/* Hold slot (not held) as the most recently used. */
static void swapsim_fsmap_hold(struct swapsim_fsmap *m, uint32_t slot, uint64_t now)
{
    index_list_push_tail(&m->lru, index_list_array, m->links, slot);
    m->touch[slot] = now;
    m->referenced[slot] = 1;
    m->count++;
}

bool swapsim_fsmap_referenced(const struct swapsim_fsmap *m, uint32_t slot)
{
    return swapsim_fsmap_holds(m, slot) && m->referenced[slot];
}

int swapsim_fsmap_rotate(struct swapsim_fsmap *m, uint32_t slot, uint64_t now)
{
    if (!swapsim_fsmap_holds(m, slot))
        return -ENOENT;
    index_list_remove(&m->lru, index_list_array, m->links, slot);
    index_list_push_tail(&m->lru, index_list_array, m->links, slot);
    m->touch[slot] = now;
    m->referenced[slot] = 0;
    return 0;
}

int swapsim_fsmap_store(struct swapsim_fsmap *m, uint32_t slot, const void *page, uint64_t now)
{
    struct tmem_oid oid = swapsim_fsmap_oid(m);
    int ret;

    if (!m->client)
        return -ENODEV;
    if (slot >= m->nslots)
        return -EINVAL;
    ret = tmem_put(m->client, m->pool, &oid, slot, page);
    swapsim_fsmap_changed(m, slot);
    swapsim_fsmap_forget(m, slot);
    if (ret != 0) {
        m->ctr->failed_stores++;
        return ret;
    }
    m->ctr->succ_stores++;
    swapsim_fsmap_hold(m, slot, now);
    return 0;
}

int swapsim_fsmap_load(struct swapsim_fsmap *m, uint32_t slot, void *page, uint64_t now)
{
    struct tmem_oid oid = swapsim_fsmap_oid(m);
    int ret;

    if (!swapsim_fsmap_holds(m, slot))
        return -ENOENT;
    ret = tmem_get(m->client, m->pool, &oid, slot, page);
    swapsim_fsmap_forget(m, slot);
    if (ret != 0) {
        /* a persistent page the store lost (a core bug; get-get: later
         * gets fail too): frontswap must stop claiming it */
        m->ctr->failed_loads++;
        return ret;
    }
    m->ctr->loads++;
    /* an exclusive get took the copy; otherwise it stays, now the newest */
    if (m->exclusive) {
        swapsim_fsmap_changed(m, slot);
        return 0;
    }
    swapsim_fsmap_hold(m, slot, now);
    return 0;
}

int swapsim_fsmap_invalidate_page(struct swapsim_fsmap *m, uint32_t slot)
{
    struct tmem_oid oid = swapsim_fsmap_oid(m);

    if (!swapsim_fsmap_holds(m, slot))
        return 0;
    swapsim_fsmap_changed(m, slot);
    swapsim_fsmap_forget(m, slot);
    m->ctr->invalidates++;
    return tmem_flush_page(m->client, m->pool, &oid, slot);
}

int swapsim_fsmap_invalidate_area(struct swapsim_fsmap *m)
{
    struct tmem_oid oid = swapsim_fsmap_oid(m);
    int ret;

    if (!m->client)
        return 0;
    while (m->lru.head != SWAPSIM_NONE) {
        swapsim_fsmap_changed(m, m->lru.head);
        swapsim_fsmap_forget(m, m->lru.head);
    }
    m->ctr->invalidate_areas++;
    ret = tmem_flush_object(m->client, m->pool, &oid);
    return ret == -ENOENT ? 0 : ret;
}

/* ---------------------------------------------------------- migration */

int swapsim_fsmap_track_begin(struct swapsim_fsmap *m)
{
    if (!m->client)
        return -ENODEV;
    if (m->changed)
        return -EBUSY;
    m->changed = calloc(m->nslots, 1);
    m->changed_stack = malloc((size_t)m->nslots * sizeof(*m->changed_stack));
    if (!m->changed || !m->changed_stack) {
        swapsim_fsmap_track_end(m);
        return -ENOMEM;
    }
    m->nchanged = 0;
    /* the first round sends every slot held now */
    for (uint32_t s = m->lru.head; s != SWAPSIM_NONE;
         s = index_list_next(&m->lru, index_list_array, m->links, s))
        swapsim_fsmap_changed(m, s);
    return 0;
}

uint32_t swapsim_fsmap_track_pending(const struct swapsim_fsmap *m)
{
    return m->changed ? m->nchanged : 0;
}

uint32_t swapsim_fsmap_track_take(struct swapsim_fsmap *m, uint32_t *out, uint32_t max)
{
    uint32_t n = 0;

    while (m->changed && m->nchanged > 0 && n < max) {
        uint32_t s = m->changed_stack[--m->nchanged];
        m->changed[s] = 0;
        out[n++] = s;
    }
    return n;
}

void swapsim_fsmap_track_end(struct swapsim_fsmap *m)
{
    free(m->changed);
    free(m->changed_stack);
    m->changed = NULL;
    m->changed_stack = NULL;
    m->nchanged = 0;
}

int swapsim_fsmap_copy_slot(struct swapsim_fsmap *m, uint32_t slot, struct tmem_client *dst,
                            int dst_pool, void *buf)
{
    struct tmem_oid oid = swapsim_fsmap_oid(m);
    int ret;

    if (slot >= m->nslots)
        return -EINVAL;
    if (!swapsim_fsmap_holds(m, slot)) {
        ret = tmem_flush_page(dst, dst_pool, &oid, slot);
        return ret == -ENOENT ? 0 : ret;
    }
    ret = tmem_get(m->client, m->pool, &oid, slot, buf);
    if (ret != 0)
        return ret;
    if (m->exclusive && tmem_put(m->client, m->pool, &oid, slot, buf) != 0) {
        /* the page left the source with the get and could not go back:
         * buf holds the only copy */
        swapsim_fsmap_forget(m, slot);
        return -ESTALE;
    }
    ret = tmem_put(dst, dst_pool, &oid, slot, buf);
    return ret == 0 ? 1 : ret;
}

int swapsim_fsmap_take(struct swapsim_fsmap *m, uint32_t slot, void *buf)
{
    struct tmem_oid oid = swapsim_fsmap_oid(m);
    int ret;

    if (!swapsim_fsmap_holds(m, slot))
        return -ENOENT;
    ret = tmem_get(m->client, m->pool, &oid, slot, buf);
    swapsim_fsmap_changed(m, slot);
    swapsim_fsmap_forget(m, slot);
    if (ret == 0 && !m->exclusive)
        ret = tmem_flush_page(m->client, m->pool, &oid, slot);
    return ret;
}

void swapsim_fsmap_switch(struct swapsim_fsmap *m, struct tmem_client *client, int pool,
                          bool exclusive)
{
    m->client = client;
    m->pool = pool;
    m->exclusive = exclusive;
}

int swapsim_fsmap_check(const struct swapsim_fsmap *m, char *err, size_t errlen)
{
    uint64_t n = 0, last = 0;
    uint32_t prev = SWAPSIM_NONE;

    for (uint32_t s = m->lru.head; s != SWAPSIM_NONE;
         s = index_list_next(&m->lru, index_list_array, m->links, s)) {
        if (s >= m->nslots || n >= m->count) {
            error_text_set(err, errlen, "frontswap: list longer than its %" PRIu64
                           " slots, or slot %u out of range", m->count, s);
            return -EFAULT;
        }
        if (m->links[s].prev != prev) {
            error_text_set(err, errlen, "frontswap: slot %u links back to %u, not %u", s,
                           m->links[s].prev, prev);
            return -EFAULT;
        }
        if (m->touch[s] < last) {
            error_text_set(err, errlen, "frontswap: slot %u (touched at %" PRIu64
                           ") after a slot touched at %" PRIu64 ": not oldest first",
                           s, m->touch[s], last);
            return -EFAULT;
        }
        last = m->touch[s];
        prev = s;
        n++;
    }
    if (n != m->count || m->lru.tail != prev) {
        error_text_set(err, errlen, "frontswap: %" PRIu64 " slots on the list, %" PRIu64
                       " counted, tail %u, last %u", n, m->count, m->lru.tail, prev);
        return -EFAULT;
    }
    return 0;
}
