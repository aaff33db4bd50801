/*
 * ccfs_pcache.c - the guest page cache: what the guest kernel's page cache
 * is to cleancache. Pages are clean copies of backing-file pages; when one
 * is replaced it is handed to an eviction hook (cleancache put_page).
 *
 * Data structures:
 *  - slots[npages]: per slot the key (oid, index), a used flag, the CLOCK
 *    reference bit, LRU links (prev/next slot numbers) and the hash-chain
 *    link; page data lives in one block data[npages * page_size].
 *  - buckets[]: power-of-two hash table of slot numbers (chained by hnext).
 *  - a free list of unused slots (popped in ascending slot order at start,
 *    so a cold sequential fill uses slots 0, 1, 2, ...).
 *  - CLOCK: a hand sweeping the slots; a hit sets the reference bit, an
 *    insert sets it too (the page was just referenced); the victim is the
 *    first slot under the hand with the bit clear (bits are cleared as the
 *    hand passes). A sequential scan therefore evicts in FIFO order.
 *  - LRU: a doubly linked list, most recent at head; victim = tail.
 *
 * Locking: none here. ccfs_io owns each instance and holds its io lock
 * (the mount's own, or its sharing group's, which other members' group
 * invalidations also take) around every call (see ccfs_io.c for the lock
 * order).
 */
#include "fuse_cleancache/ccfs_pcache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CCFS_NIL UINT32_MAX

struct ccfs_slot {
    struct tmem_oid oid;
    uint32_t index;
    uint32_t hnext;      /* next slot in the hash chain / free list */
    uint32_t prev, next; /* LRU list */
    bool used;
    bool ref;            /* CLOCK reference bit */
};

struct ccfs_pcache {
    size_t npages;
    uint32_t page_size;
    enum ccfs_policy policy;
    struct ccfs_slot *slots;
    unsigned char *data;
    uint32_t *buckets;
    size_t nbuckets; /* power of two */
    uint32_t free_head;
    size_t count;
    size_t hand;               /* CLOCK */
    uint32_t lru_head, lru_tail; /* LRU: head = most recent */
};

int ccfs_oid_equal(const struct tmem_oid *a, const struct tmem_oid *b)
{
    return a->oid[0] == b->oid[0] && a->oid[1] == b->oid[1] && a->oid[2] == b->oid[2];
}

static uint64_t ccfs_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static size_t ccfs_bucket(const struct ccfs_pcache *pc, const struct tmem_oid *oid,
                          uint32_t index)
{
    uint64_t h = ccfs_mix(oid->oid[0] ^ ccfs_mix(oid->oid[1] ^ ccfs_mix(oid->oid[2] + index)));
    return (size_t)(h & (pc->nbuckets - 1));
}

struct ccfs_pcache *ccfs_pcache_create(size_t npages, uint32_t page_size,
                                       enum ccfs_policy policy)
{
    struct ccfs_pcache *pc = NULL;
    size_t i;

    if (npages == 0 || npages >= CCFS_NIL || page_size == 0 ||
        (policy != CCFS_POLICY_CLOCK && policy != CCFS_POLICY_LRU)) {
        errno = EINVAL;
        return NULL;
    }
    pc = calloc(1, sizeof(*pc));
    if (!pc)
        goto fail;
    pc->npages = npages;
    pc->page_size = page_size;
    pc->policy = policy;
    pc->nbuckets = 1;
    while (pc->nbuckets < 2 * npages)
        pc->nbuckets <<= 1;
    pc->slots = calloc(npages, sizeof(*pc->slots));
    pc->buckets = malloc(pc->nbuckets * sizeof(*pc->buckets));
    pc->data = malloc(npages * (size_t)page_size);
    if (!pc->slots || !pc->buckets || !pc->data)
        goto fail;
    for (i = 0; i < pc->nbuckets; i++)
        pc->buckets[i] = CCFS_NIL;
    for (i = 0; i < npages; i++)
        pc->slots[i].hnext = (i + 1 < npages) ? (uint32_t)(i + 1) : CCFS_NIL;
    pc->free_head = 0;
    pc->lru_head = pc->lru_tail = CCFS_NIL;
    return pc;
fail:
    ccfs_pcache_destroy(pc);
    errno = ENOMEM;
    return NULL;
}

void ccfs_pcache_destroy(struct ccfs_pcache *pc)
{
    if (!pc)
        return;
    free(pc->slots);
    free(pc->buckets);
    free(pc->data);
    free(pc);
}

size_t ccfs_pcache_capacity(const struct ccfs_pcache *pc)
{
    return pc->npages;
}

size_t ccfs_pcache_count(const struct ccfs_pcache *pc)
{
    return pc->count;
}

uint32_t ccfs_pcache_page_size(const struct ccfs_pcache *pc)
{
    return pc->page_size;
}

static unsigned char *ccfs_slot_data(const struct ccfs_pcache *pc, uint32_t s)
{
    return pc->data + (size_t)s * pc->page_size;
}

static uint32_t ccfs_find(const struct ccfs_pcache *pc, const struct tmem_oid *oid,
                          uint32_t index)
{
    uint32_t s = pc->buckets[ccfs_bucket(pc, oid, index)];

    while (s != CCFS_NIL) {
        const struct ccfs_slot *sl = &pc->slots[s];
        if (sl->index == index && ccfs_oid_equal(&sl->oid, oid))
            return s;
        s = sl->hnext;
    }
    return CCFS_NIL;
}

static void ccfs_lru_unlink(struct ccfs_pcache *pc, uint32_t s)
{
    struct ccfs_slot *sl = &pc->slots[s];

    if (sl->prev != CCFS_NIL)
        pc->slots[sl->prev].next = sl->next;
    else
        pc->lru_head = sl->next;
    if (sl->next != CCFS_NIL)
        pc->slots[sl->next].prev = sl->prev;
    else
        pc->lru_tail = sl->prev;
    sl->prev = sl->next = CCFS_NIL;
}

static void ccfs_lru_push_head(struct ccfs_pcache *pc, uint32_t s)
{
    struct ccfs_slot *sl = &pc->slots[s];

    sl->prev = CCFS_NIL;
    sl->next = pc->lru_head;
    if (pc->lru_head != CCFS_NIL)
        pc->slots[pc->lru_head].prev = s;
    pc->lru_head = s;
    if (pc->lru_tail == CCFS_NIL)
        pc->lru_tail = s;
}

/* Unhook slot s from its hash chain and the LRU list and free it. */
static void ccfs_remove(struct ccfs_pcache *pc, uint32_t s)
{
    struct ccfs_slot *sl = &pc->slots[s];
    uint32_t *pp = &pc->buckets[ccfs_bucket(pc, &sl->oid, sl->index)];

    while (*pp != s)
        pp = &pc->slots[*pp].hnext;
    *pp = sl->hnext;
    if (pc->policy == CCFS_POLICY_LRU)
        ccfs_lru_unlink(pc, s);
    sl->used = false;
    sl->ref = false;
    sl->hnext = pc->free_head;
    pc->free_head = s;
    pc->count--;
}

const void *ccfs_pcache_lookup(struct ccfs_pcache *pc, const struct tmem_oid *oid,
                               uint32_t index)
{
    uint32_t s = ccfs_find(pc, oid, index);

    if (s == CCFS_NIL)
        return NULL;
    if (pc->policy == CCFS_POLICY_LRU) {
        ccfs_lru_unlink(pc, s);
        ccfs_lru_push_head(pc, s);
    } else {
        pc->slots[s].ref = true;
    }
    return ccfs_slot_data(pc, s);
}

/* Choose the replacement victim (cache full). */
static uint32_t ccfs_victim(struct ccfs_pcache *pc)
{
    if (pc->policy == CCFS_POLICY_LRU)
        return pc->lru_tail;
    for (;;) {
        struct ccfs_slot *sl = &pc->slots[pc->hand];
        uint32_t s = (uint32_t)pc->hand;

        pc->hand = (pc->hand + 1) % pc->npages;
        if (!sl->used)
            continue;
        if (sl->ref) {
            sl->ref = false;
            continue;
        }
        return s;
    }
}

static void ccfs_evict_one(struct ccfs_pcache *pc, uint32_t s, ccfs_evict_fn evict,
                           void *arg)
{
    struct ccfs_slot *sl = &pc->slots[s];

    if (evict)
        evict(arg, &sl->oid, sl->index, ccfs_slot_data(pc, s));
    ccfs_remove(pc, s);
}

int ccfs_pcache_insert(struct ccfs_pcache *pc, const struct tmem_oid *oid, uint32_t index,
                       const void *page, ccfs_evict_fn evict, void *arg)
{
    uint32_t s = ccfs_find(pc, oid, index);
    int evicted = 0;
    size_t b;

    if (s != CCFS_NIL) {
        memcpy(ccfs_slot_data(pc, s), page, pc->page_size);
        (void)ccfs_pcache_lookup(pc, oid, index);
        return 0;
    }
    if (pc->free_head == CCFS_NIL) {
        ccfs_evict_one(pc, ccfs_victim(pc), evict, arg);
        evicted = 1;
    }
    s = pc->free_head;
    pc->free_head = pc->slots[s].hnext;
    pc->slots[s].oid = *oid;
    pc->slots[s].index = index;
    pc->slots[s].used = true;
    pc->slots[s].ref = true;
    b = ccfs_bucket(pc, oid, index);
    pc->slots[s].hnext = pc->buckets[b];
    pc->buckets[b] = s;
    if (pc->policy == CCFS_POLICY_LRU)
        ccfs_lru_push_head(pc, s);
    memcpy(ccfs_slot_data(pc, s), page, pc->page_size);
    pc->count++;
    return evicted;
}

size_t ccfs_pcache_invalidate_range(struct ccfs_pcache *pc, const struct tmem_oid *oid,
                                    uint32_t first, uint32_t last)
{
    size_t n = 0, i;

    if (first > last)
        return 0;
    if ((uint64_t)last - first < pc->npages) {
        uint64_t idx;
        for (idx = first; idx <= last; idx++) {
            uint32_t s = ccfs_find(pc, oid, (uint32_t)idx);
            if (s != CCFS_NIL) {
                ccfs_remove(pc, s);
                n++;
            }
        }
        return n;
    }
    for (i = 0; i < pc->npages; i++) {
        struct ccfs_slot *sl = &pc->slots[i];
        if (sl->used && sl->index >= first && sl->index <= last &&
            ccfs_oid_equal(&sl->oid, oid)) {
            ccfs_remove(pc, (uint32_t)i);
            n++;
        }
    }
    return n;
}

size_t ccfs_pcache_invalidate_object(struct ccfs_pcache *pc, const struct tmem_oid *oid)
{
    return ccfs_pcache_invalidate_range(pc, oid, 0, UINT32_MAX);
}

size_t ccfs_pcache_evict_all(struct ccfs_pcache *pc, ccfs_evict_fn evict, void *arg)
{
    size_t n = 0;

    while (pc->count > 0) {
        ccfs_evict_one(pc, ccfs_victim(pc), evict, arg);
        n++;
    }
    return n;
}
