/*
 * tmemfs_page_cache.c - the guest page cache: what the guest kernel's page
 * cache is to cleancache. Pages are clean copies of backing-file pages;
 * when one is replaced it is handed to an eviction hook (cleancache
 * put_page).
 *
 * Data structures:
 *  - slots[npages]: per slot the key (oid, index) and the hash-chain link;
 *    page data lives in one block data[npages * page_size].
 *  - buckets[]: power-of-two hash table of slot numbers (chained by hnext),
 *    keys mixed with hash_mix64 (src/common/hash.h).
 *  - a free list of unused slots (popped in ascending slot order at start,
 *    so a cold sequential fill uses slots 0, 1, 2, ...).
 *  - which slot to evict: the guest kernel's page replacement
 *    (src/guest/replace.h, CLOCK or LRU), with slots as its frames: an
 *    insert and a hit count as references.
 *
 * Locking: none here. tmemfs_io owns each instance and holds its io lock
 * (the mount's own, or its sharing group's, which other members' group
 * invalidations also take) around every call (see tmemfs_io.c for the lock
 * order).
 */
#include "fuse_cleancache/tmemfs_page_cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

#define TMEMFS_NIL UINT32_MAX

struct tmemfs_slot {
    struct tmem_oid oid;
    uint32_t index;
    uint32_t hnext;      /* next slot in the hash chain / free list */
};

struct tmemfs_page_cache {
    size_t npages;
    uint32_t page_size;
    struct guest_replace replace; /* slots are its frames */
    struct tmemfs_slot *slots;
    unsigned char *data;
    uint32_t *buckets;
    size_t nbuckets; /* power of two */
    uint32_t free_head;
    size_t count;
};

int tmemfs_oid_equal(const struct tmem_oid *a, const struct tmem_oid *b)
{
    return a->oid[0] == b->oid[0] && a->oid[1] == b->oid[1] && a->oid[2] == b->oid[2];
}

uint64_t tmemfs_oid_hash(const struct tmem_oid *oid)
{
    return hash_words(oid->oid, 3);
}

static size_t tmemfs_bucket(const struct tmemfs_page_cache *pc, const struct tmem_oid *oid,
                          uint32_t index)
{
    uint64_t h = hash_combine(tmemfs_oid_hash(oid), index);
    return (size_t)(h & (pc->nbuckets - 1));
}

struct tmemfs_page_cache *tmemfs_page_cache_create(size_t npages, uint32_t page_size,
                                       enum guest_replace_policy policy)
{
    struct tmemfs_page_cache *pc = NULL;
    size_t i;
    int rc;

    if (npages == 0 || npages >= TMEMFS_NIL || page_size == 0 ||
        (policy != GUEST_REPLACE_CLOCK && policy != GUEST_REPLACE_LRU)) {
        errno = EINVAL;
        return NULL;
    }
    pc = calloc(1, sizeof(*pc));
    if (!pc)
        goto fail;
    pc->npages = npages;
    pc->page_size = page_size;
    rc = guest_replace_init(&pc->replace, policy, (uint32_t)npages);
    if (rc < 0)
        goto fail;
    pc->nbuckets = 1;
    while (pc->nbuckets < 2 * npages)
        pc->nbuckets <<= 1;
    pc->slots = calloc(npages, sizeof(*pc->slots));
    pc->buckets = malloc(pc->nbuckets * sizeof(*pc->buckets));
    pc->data = malloc(npages * (size_t)page_size);
    if (!pc->slots || !pc->buckets || !pc->data)
        goto fail;
    for (i = 0; i < pc->nbuckets; i++)
        pc->buckets[i] = TMEMFS_NIL;
    for (i = 0; i < npages; i++)
        pc->slots[i].hnext = (i + 1 < npages) ? (uint32_t)(i + 1) : TMEMFS_NIL;
    pc->free_head = 0;
    return pc;
fail:
    tmemfs_page_cache_destroy(pc);
    errno = ENOMEM;
    return NULL;
}

void tmemfs_page_cache_destroy(struct tmemfs_page_cache *pc)
{
    if (!pc)
        return;
    guest_replace_destroy(&pc->replace);
    free(pc->slots);
    free(pc->buckets);
    free(pc->data);
    free(pc);
}

size_t tmemfs_page_cache_capacity(const struct tmemfs_page_cache *pc)
{
    return pc->npages;
}

size_t tmemfs_page_cache_count(const struct tmemfs_page_cache *pc)
{
    return pc->count;
}

uint32_t tmemfs_page_cache_page_size(const struct tmemfs_page_cache *pc)
{
    return pc->page_size;
}

static unsigned char *tmemfs_slot_data(const struct tmemfs_page_cache *pc, uint32_t s)
{
    return pc->data + (size_t)s * pc->page_size;
}

static uint32_t tmemfs_find(const struct tmemfs_page_cache *pc, const struct tmem_oid *oid,
                          uint32_t index)
{
    uint32_t s = pc->buckets[tmemfs_bucket(pc, oid, index)];

    while (s != TMEMFS_NIL) {
        const struct tmemfs_slot *sl = &pc->slots[s];
        if (sl->index == index && tmemfs_oid_equal(&sl->oid, oid))
            return s;
        s = sl->hnext;
    }
    return TMEMFS_NIL;
}

/* Unhook slot s from its hash chain and the replacement policy, and free
 * it. */
static void tmemfs_remove(struct tmemfs_page_cache *pc, uint32_t s)
{
    struct tmemfs_slot *sl = &pc->slots[s];
    uint32_t *pp = &pc->buckets[tmemfs_bucket(pc, &sl->oid, sl->index)];

    while (*pp != s)
        pp = &pc->slots[*pp].hnext;
    *pp = sl->hnext;
    guest_replace_remove(&pc->replace, s);
    sl->hnext = pc->free_head;
    pc->free_head = s;
    pc->count--;
}

const void *tmemfs_page_cache_lookup(struct tmemfs_page_cache *pc, const struct tmem_oid *oid,
                               uint32_t index)
{
    uint32_t s = tmemfs_find(pc, oid, index);

    if (s == TMEMFS_NIL)
        return NULL;
    guest_replace_touch(&pc->replace, s);
    return tmemfs_slot_data(pc, s);
}

static void tmemfs_evict_one(struct tmemfs_page_cache *pc, uint32_t s, tmemfs_evict_fn evict,
                           void *arg)
{
    struct tmemfs_slot *sl = &pc->slots[s];

    if (evict)
        evict(arg, &sl->oid, sl->index, tmemfs_slot_data(pc, s));
    tmemfs_remove(pc, s);
}

int tmemfs_page_cache_insert(struct tmemfs_page_cache *pc, const struct tmem_oid *oid, uint32_t index,
                       const void *page, tmemfs_evict_fn evict, void *arg)
{
    uint32_t s = tmemfs_find(pc, oid, index);
    int evicted = 0;
    size_t b;

    if (s != TMEMFS_NIL) {
        memcpy(tmemfs_slot_data(pc, s), page, pc->page_size);
        (void)tmemfs_page_cache_lookup(pc, oid, index);
        return 0;
    }
    if (pc->free_head == TMEMFS_NIL) {
        tmemfs_evict_one(pc, guest_replace_victim(&pc->replace), evict, arg);
        evicted = 1;
    }
    s = pc->free_head;
    pc->free_head = pc->slots[s].hnext;
    pc->slots[s].oid = *oid;
    pc->slots[s].index = index;
    b = tmemfs_bucket(pc, oid, index);
    pc->slots[s].hnext = pc->buckets[b];
    pc->buckets[b] = s;
    guest_replace_insert(&pc->replace, s);
    memcpy(tmemfs_slot_data(pc, s), page, pc->page_size);
    pc->count++;
    return evicted;
}

size_t tmemfs_page_cache_invalidate_range(struct tmemfs_page_cache *pc, const struct tmem_oid *oid,
                                    uint32_t first, uint32_t last)
{
    size_t n = 0, i;

    if (first > last)
        return 0;
    if ((uint64_t)last - first < pc->npages) {
        uint64_t idx;
        for (idx = first; idx <= last; idx++) {
            uint32_t s = tmemfs_find(pc, oid, (uint32_t)idx);
            if (s != TMEMFS_NIL) {
                tmemfs_remove(pc, s);
                n++;
            }
        }
        return n;
    }
    for (i = 0; i < pc->npages; i++) {
        struct tmemfs_slot *sl = &pc->slots[i];
        if (guest_replace_in_use(&pc->replace, (uint32_t)i) && sl->index >= first && sl->index <= last &&
            tmemfs_oid_equal(&sl->oid, oid)) {
            tmemfs_remove(pc, (uint32_t)i);
            n++;
        }
    }
    return n;
}

size_t tmemfs_page_cache_invalidate_object(struct tmemfs_page_cache *pc, const struct tmem_oid *oid)
{
    return tmemfs_page_cache_invalidate_range(pc, oid, 0, UINT32_MAX);
}

size_t tmemfs_page_cache_evict_all(struct tmemfs_page_cache *pc, tmemfs_evict_fn evict, void *arg)
{
    size_t n = 0;

    while (pc->count > 0) {
        tmemfs_evict_one(pc, guest_replace_victim(&pc->replace), evict, arg);
        n++;
    }
    return n;
}
