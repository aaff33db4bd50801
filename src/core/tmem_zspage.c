/*
 * tmem_zspage.c - the budget TMEM_BUDGET_ZSPAGES: the store's page data
 * placed in zspages as the kernel's zsmalloc places zswap's compressed
 * pages, and the budget's use counted as zswap counts its pool
 * (zs_get_total_pages: the pages of the live zspages).
 *
 * Models (mm/zsmalloc.c of Linux 6.3 and later; this machine runs 6.18):
 *  - Size classes: ZS_MIN_ALLOC_SIZE (32) up to the page size in steps of
 *    ZS_SIZE_CLASS_DELTA (page size >> 8: 16 bytes at 4 KiB), 255 classes
 *    at 4 KiB. An object of len bytes is len + ZS_HANDLE_SIZE (8: zsmalloc
 *    keeps the handle in the object) rounded up to its class; anything
 *    from the page size on (a raw page) is the last class.
 *  - A class's zspage is 1 to cfg.zspage_max_pages pages
 *    (CONFIG_ZSMALLOC_CHAIN_SIZE, 8 by default and on this machine; 4
 *    before 6.3): the chain that wastes the fewest bytes
 *    (calculate_zspage_chain_size: a power-of-two size takes 1 page; ties
 *    go to the shorter chain), holding pages * page size / size objects.
 *  - Merging (zs_create_pool): walking the classes from the largest down,
 *    a class with the same pages per zspage and objects per zspage as the
 *    one above it is not created: its sizes use that larger class. So all
 *    sizes whose best chain is one page holding one object share the page
 *    size's class, and objects of several sizes share zspages.
 *  - Placement (zs_malloc -> find_get_zspage): each class keeps its
 *    zspages on lists by fullness group (get_fullness_group: 0 empty,
 *    1..10 by tenths of the used ratio, 11 full); an object goes to the
 *    first zspage of the fullest non-full group (groups 10 down to 1), or
 *    to a new zspage. A zspage changing group is put at the head of its
 *    new list (insert_zspage: list_add), so within a group the latest
 *    arrival is taken first.
 *  - Freeing (zs_free): the object's slot becomes a hole; the zspage is
 *    freed when its last object goes, and only then.
 *  - No compaction of its own: zs_compact runs from zsmalloc's shrinker
 *    (and from zram's sysfs, not zswap's); the shrinker is not memory-
 *    cgroup aware, so reclaim under a memory cgroup's limit with the
 *    host's memory plentiful never calls it, and the holes stay.
 *    tmem_zspage_totals reports how many pages compaction could give
 *    back at most (compactable_pages); tmem_zspage_compact does what
 *    zs_compact would (__zs_compact per class: objects move from the
 *    emptiest zspages, isolate_src_zspage, into the fullest,
 *    isolate_dest_zspage, until less than a zspage's worth of slots is
 *    free), when a caller asks. It needs the reverse of the side table,
 *    built by scanning it, and a still store.
 *
 * Data structures: tm->zspages (allocated only with this budget) holds a
 * class table (size index -> merged class), per class an array of zspage
 * records (slot = zspage number; free slots on a free list) with the
 * fullness lists (common/index_list.h through the records' links), and a
 * side table from page record id to (class, slot): a directory of 65536
 * chunks of 65536 entries, chunks allocated on first use and never freed
 * before the store. The model's own bookkeeping (records, side table) is
 * the simulator's, like tmem_check's working memory: it is malloc'ed
 * outside the store's allocator and budget (the kernel does not count
 * struct zspage against zswap's pool either). Its allocations can fail
 * all the same, as zs_malloc's alloc_zspage can: a new zspage and a new
 * side-table chunk are each a site of the store's fault switch
 * (tm->fault, TMEM_FAULT), and a failure, injected or real, is counted in
 * tm->alloc_failures; tmem_zspage_store then changes nothing and the put
 * fails with -ENOMEM, its data never charged (tmem_ops.c).
 *
 * The budget's use (tm->budget_data_bytes) changes when a zspage is
 * created or freed, by its pages times the page size, atomically.
 *
 * Locking: tmem_zspage_compact stills the store first as tmem_check does
 * (check_lock exclusive, clients_lock, every client's lock), then takes
 * each class's lock in turn. Otherwise each class has a mutex, innermost
 * (taken under a stripe lock, with no lru or dedup lock held; nothing is
 * taken under it; it allocates with plain malloc). The side table's
 * chunks are created
 * under side_lock (innermost, never with a class lock) and published with
 * release order. An entry is written and read by whoever holds the
 * record's stripe lock (or its last dedup reference), so entries need no
 * lock of their own.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TMEM_ZSPAGE_GROUPS 12u     /* fullness groups 0 (empty) .. 11 (full) */
#define TMEM_ZSPAGE_FULL 11u
#define TMEM_ZSPAGE_HANDLE_SIZE 8u /* ZS_HANDLE_SIZE */
#define TMEM_ZSPAGE_SLOT_BITS 22u  /* side-table entry: class + 1 above, slot below */
#define TMEM_ZSPAGE_MAX_SLOTS (1u << TMEM_ZSPAGE_SLOT_BITS)
#define TMEM_ZSPAGE_NONE UINT32_MAX
#define TMEM_ZSPAGE_SIDE_SHIFT 16u
#define TMEM_ZSPAGE_SIDE_CHUNK (1u << TMEM_ZSPAGE_SIDE_SHIFT)
#define TMEM_ZSPAGE_SIDE_CHUNKS (1u << (32 - TMEM_ZSPAGE_SIDE_SHIFT))

struct tmem_zspage {
    struct index_list_links links; /* its fullness group's list, or the free list */
    uint16_t inuse;                /* objects in it; 0: a free slot */
    uint8_t group;                 /* the list it is on */
    uint8_t pad;
};

struct tmem_zspage_class {
    pthread_mutex_t lock;
    uint32_t size;                 /* object size: the largest size merged in */
    uint32_t pages_per_zspage;
    uint32_t objs_per_zspage;
    struct tmem_zspage *zspages;   /* [slots] */
    uint32_t slots, slots_capacity;
    struct index_list groups[TMEM_ZSPAGE_GROUPS];
    struct index_list free_slots;
    uint64_t zspages_live;
    uint64_t objects;
};

struct tmem_zspages {
    uint32_t nsizes;                  /* size indexes: (page - 32) / delta + 1 */
    uint16_t *class_of_size;          /* [nsizes] -> index into classes */
    uint32_t nclasses;
    struct tmem_zspage_class *classes;
    pthread_mutex_t side_lock;
    _Atomic(uint32_t *) *side;        /* [TMEM_ZSPAGE_SIDE_CHUNKS] chunks */
};

struct tmem_zspage_census {
    uint32_t nclasses;
    uint32_t **counts;                /* [class][slot] objects found */
    uint64_t objects;
};

static struct index_list_links *tmem_zspage_links(void *ctx, uint32_t slot)
{
    return &((struct tmem_zspage_class *)ctx)->zspages[slot].links;
}

/* calculate_zspage_chain_size: the chain of 1..max pages wasting least. */
static uint32_t tmem_zspage_chain(uint32_t size, uint32_t page, uint32_t max)
{
    uint32_t best = 1, least = UINT32_MAX;

    if ((size & (size - 1)) == 0)
        return 1;
    for (uint32_t i = 1; i <= max; i++) {
        uint32_t waste = i * page % size;
        if (waste < least) {
            least = waste;
            best = i;
        }
    }
    return best;
}

/* The size index of an object of len stored bytes (get_size_class_index
 * of len + the handle). */
static uint32_t tmem_zspage_size_index(const struct tmem *tm, uint32_t len)
{
    uint32_t size = len + TMEM_ZSPAGE_HANDLE_SIZE;
    uint32_t delta = TMEM_ZSMALLOC_CLASS_DELTA(tm->cfg.page_size), index = 0;

    if (size > TMEM_ZSMALLOC_MIN_ALLOC)
        index = (size - TMEM_ZSMALLOC_MIN_ALLOC + delta - 1) / delta;
    return index < tm->zspages->nsizes ? index : tm->zspages->nsizes - 1;
}

static struct tmem_zspage_class *tmem_zspage_class_for(const struct tmem *tm, uint32_t len)
{
    struct tmem_zspages *z = tm->zspages;
    return &z->classes[z->class_of_size[tmem_zspage_size_index(tm, len)]];
}

int tmem_zspage_init(struct tmem *tm)
{
    uint32_t page = tm->cfg.page_size, delta = TMEM_ZSMALLOC_CLASS_DELTA(page);
    uint32_t max = tm->cfg.zspage_max_pages;
    struct tmem_zspages *z;

    tm->zspages = NULL;
    if (tm->cfg.budget != TMEM_BUDGET_ZSPAGES)
        return 0;
    z = calloc(1, sizeof(*z));
    if (!z)
        return -ENOMEM;
    z->nsizes = (page - TMEM_ZSMALLOC_MIN_ALLOC + delta - 1) / delta + 1;
    z->class_of_size = calloc(z->nsizes, sizeof(*z->class_of_size));
    z->classes = calloc(z->nsizes, sizeof(*z->classes));
    z->side = calloc(TMEM_ZSPAGE_SIDE_CHUNKS, sizeof(*z->side));
    if (!z->class_of_size || !z->classes || !z->side || pthread_mutex_init(&z->side_lock, NULL))
        goto fail;
    /* zs_create_pool: from the largest size down, merging equal shapes */
    for (uint32_t i = z->nsizes; i-- > 0;) {
        uint32_t size = TMEM_ZSMALLOC_MIN_ALLOC + i * delta;
        uint32_t pages, objs;
        struct tmem_zspage_class *prev = z->nclasses ? &z->classes[z->nclasses - 1] : NULL;

        if (size > page)
            size = page;
        pages = tmem_zspage_chain(size, page, max);
        objs = pages * page / size;
        if (prev && prev->pages_per_zspage == pages && prev->objs_per_zspage == objs) {
            z->class_of_size[i] = (uint16_t)(z->nclasses - 1);
            continue;
        }
        struct tmem_zspage_class *k = &z->classes[z->nclasses];
        if (pthread_mutex_init(&k->lock, NULL))
            goto fail;
        k->size = size;
        k->pages_per_zspage = pages;
        k->objs_per_zspage = objs;
        for (uint32_t g = 0; g < TMEM_ZSPAGE_GROUPS; g++)
            index_list_init(&k->groups[g], TMEM_ZSPAGE_NONE);
        index_list_init(&k->free_slots, TMEM_ZSPAGE_NONE);
        z->class_of_size[i] = (uint16_t)z->nclasses++;
    }
    tm->zspages = z;
    return 0;
fail:
    tm->zspages = z;
    tmem_zspage_fini(tm);
    return -ENOMEM;
}

void tmem_zspage_fini(struct tmem *tm)
{
    struct tmem_zspages *z = tm->zspages;

    if (!z)
        return;
    for (uint32_t i = 0; i < z->nclasses; i++) {
        pthread_mutex_destroy(&z->classes[i].lock);
        free(z->classes[i].zspages);
    }
    if (z->side) {
        for (uint32_t i = 0; i < TMEM_ZSPAGE_SIDE_CHUNKS; i++)
            free(atomic_load_explicit(&z->side[i], memory_order_relaxed));
        pthread_mutex_destroy(&z->side_lock);
    }
    free(z->side);
    free(z->classes);
    free(z->class_of_size);
    free(z);
    tm->zspages = NULL;
}

/* ------------------------------------------------------------ side table */

/* An allocation failure of the model, injected or real: counted in
 * alloc_failures, as tmem_memory_take counts the store's own. */
static void tmem_zspage_count_failure(struct tmem *tm)
{
    atomic_fetch_add_explicit(&tm->alloc_failures, 1, memory_order_relaxed);
}

/* An allocation of the model is about to be made (a new zspage or a side
 * table chunk): false when the fault switch fails it (counted). */
static bool tmem_zspage_may_allocate(struct tmem *tm)
{
    if (!fault_hit(&tm->fault))
        return true;
    tmem_zspage_count_failure(tm);
    return false;
}

/* The side-table entry of page_id, or NULL when its chunk does not exist
 * (create: make it; NULL then means ENOMEM, counted). */
static uint32_t *tmem_zspage_side_entry(struct tmem *tm, uint32_t page_id, bool create)
{
    struct tmem_zspages *z = tm->zspages;
    uint32_t c = page_id >> TMEM_ZSPAGE_SIDE_SHIFT;
    uint32_t *chunk = atomic_load_explicit(&z->side[c], memory_order_acquire);

    if (!chunk && create) {
        pthread_mutex_lock(&z->side_lock);
        chunk = atomic_load_explicit(&z->side[c], memory_order_relaxed);
        if (!chunk && tmem_zspage_may_allocate(tm)) {
            chunk = calloc(TMEM_ZSPAGE_SIDE_CHUNK, sizeof(*chunk));
            if (chunk)
                atomic_store_explicit(&z->side[c], chunk, memory_order_release);
            else
                tmem_zspage_count_failure(tm);
        }
        pthread_mutex_unlock(&z->side_lock);
    }
    return chunk ? &chunk[page_id & (TMEM_ZSPAGE_SIDE_CHUNK - 1)] : NULL;
}

/* ------------------------------------------------------------ a class */

/* get_fullness_group */
static uint8_t tmem_zspage_group(const struct tmem_zspage_class *k, uint32_t inuse)
{
    if (inuse == 0)
        return 0;
    if (inuse == k->objs_per_zspage)
        return TMEM_ZSPAGE_FULL;
    return (uint8_t)(100 * inuse / k->objs_per_zspage / 10 + 1);
}

/* fix_fullness_group: move slot to the head of its group's list if its
 * group changed (class locked). */
static void tmem_zspage_regroup(struct tmem_zspage_class *k, uint32_t slot)
{
    struct tmem_zspage *zp = &k->zspages[slot];
    uint8_t g = tmem_zspage_group(k, zp->inuse);

    if (g == zp->group)
        return;
    index_list_remove(&k->groups[zp->group], tmem_zspage_links, k, slot);
    zp->group = g;
    index_list_push_head(&k->groups[g], tmem_zspage_links, k, slot);
}

/* A free slot for a new zspage (class locked), or NONE on ENOMEM (the
 * zspage's pages, as alloc_zspage can fail, or the records' growth:
 * counted). */
static uint32_t tmem_zspage_new_slot(struct tmem *tm, struct tmem_zspage_class *k)
{
    uint32_t slot;

    if (!tmem_zspage_may_allocate(tm))
        return TMEM_ZSPAGE_NONE;
    if (!index_list_is_empty(&k->free_slots)) {
        slot = k->free_slots.head;
        index_list_remove(&k->free_slots, tmem_zspage_links, k, slot);
        return slot;
    }
    if (k->slots == k->slots_capacity) {
        uint32_t cap = k->slots_capacity ? k->slots_capacity * 2 : 64;
        struct tmem_zspage *grown;
        if (cap > TMEM_ZSPAGE_MAX_SLOTS)
            cap = TMEM_ZSPAGE_MAX_SLOTS;
        if (k->slots == cap)
            return TMEM_ZSPAGE_NONE;
        grown = realloc(k->zspages, cap * sizeof(*grown));
        if (!grown) {
            tmem_zspage_count_failure(tm);
            return TMEM_ZSPAGE_NONE;
        }
        k->zspages = grown;
        k->slots_capacity = cap;
    }
    slot = k->slots++;
    memset(&k->zspages[slot], 0, sizeof(k->zspages[slot]));
    return slot;
}

static uint64_t tmem_zspage_bytes(const struct tmem *tm, const struct tmem_zspage_class *k)
{
    return (uint64_t)k->pages_per_zspage * tm->cfg.page_size;
}

int tmem_zspage_store(struct tmem *tm, uint32_t page_id, uint32_t len)
{
    struct tmem_zspages *z = tm->zspages;
    uint32_t *entry = tmem_zspage_side_entry(tm, page_id, true);
    struct tmem_zspage_class *k = tmem_zspage_class_for(tm, len);
    uint32_t slot = TMEM_ZSPAGE_NONE;

    if (!entry)
        return -ENOMEM;
    pthread_mutex_lock(&k->lock);
    /* find_get_zspage: the fullest non-full group first */
    for (uint32_t g = TMEM_ZSPAGE_FULL - 1; g >= 1 && slot == TMEM_ZSPAGE_NONE; g--)
        if (!index_list_is_empty(&k->groups[g]))
            slot = k->groups[g].head;
    if (slot == TMEM_ZSPAGE_NONE) {
        slot = tmem_zspage_new_slot(tm, k);
        if (slot == TMEM_ZSPAGE_NONE) {
            pthread_mutex_unlock(&k->lock);
            return -ENOMEM;
        }
        k->zspages[slot].group = 0;
        index_list_push_head(&k->groups[0], tmem_zspage_links, k, slot);
        k->zspages_live++;
        atomic_fetch_add_explicit(&tm->budget_data_bytes, tmem_zspage_bytes(tm, k),
                                  memory_order_relaxed);
    }
    k->zspages[slot].inuse++;
    k->objects++;
    tmem_zspage_regroup(k, slot);
    pthread_mutex_unlock(&k->lock);
    *entry = ((uint32_t)(k - z->classes) + 1) << TMEM_ZSPAGE_SLOT_BITS | slot;
    return 0;
}

void tmem_zspage_release(struct tmem *tm, uint32_t page_id)
{
    struct tmem_zspages *z = tm->zspages;
    uint32_t *entry = tmem_zspage_side_entry(tm, page_id, false);
    struct tmem_zspage_class *k;
    uint32_t slot;

    if (!entry || !*entry)
        return; /* never placed: tmem_zspage_store failed for it */
    k = &z->classes[(*entry >> TMEM_ZSPAGE_SLOT_BITS) - 1];
    slot = *entry & (TMEM_ZSPAGE_MAX_SLOTS - 1);
    *entry = 0;
    pthread_mutex_lock(&k->lock);
    k->zspages[slot].inuse--;
    k->objects--;
    tmem_zspage_regroup(k, slot);
    if (k->zspages[slot].inuse == 0) { /* free_zspage */
        index_list_remove(&k->groups[0], tmem_zspage_links, k, slot);
        index_list_push_head(&k->free_slots, tmem_zspage_links, k, slot);
        k->zspages_live--;
        atomic_fetch_sub_explicit(&tm->budget_data_bytes, tmem_zspage_bytes(tm, k),
                                  memory_order_relaxed);
    }
    pthread_mutex_unlock(&k->lock);
}

uint64_t tmem_zspage_charge_estimate(struct tmem *tm, uint32_t len)
{
    struct tmem_zspage_class *k = tmem_zspage_class_for(tm, len);
    bool room = false;

    pthread_mutex_lock(&k->lock);
    for (uint32_t g = 1; g < TMEM_ZSPAGE_FULL && !room; g++)
        room = !index_list_is_empty(&k->groups[g]);
    pthread_mutex_unlock(&k->lock);
    return room ? 0 : tmem_zspage_bytes(tm, k);
}

/* ------------------------------------------------------------ public queries */

static void tmem_zspage_class_info_of(const struct tmem_zspage_class *k,
                                      struct tmem_zspage_class_info *out)
{
    out->size = k->size;
    out->pages_per_zspage = k->pages_per_zspage;
    out->objs_per_zspage = k->objs_per_zspage;
    out->zspages = k->zspages_live;
    out->objects = k->objects;
}

int tmem_zspage_class_of(struct tmem *tm, uint32_t len, struct tmem_zspage_class_info *out,
                         uint32_t *inuse, uint32_t max_inuse, uint32_t *slots)
{
    struct tmem_zspage_class *k;

    if (!tm || !out || !tm->zspages || len == 0 || len > tm->cfg.page_size)
        return -EINVAL;
    k = tmem_zspage_class_for(tm, len);
    pthread_mutex_lock(&k->lock);
    tmem_zspage_class_info_of(k, out);
    if (slots)
        *slots = k->slots;
    for (uint32_t i = 0; inuse && i < k->slots && i < max_inuse; i++)
        inuse[i] = k->zspages[i].inuse;
    pthread_mutex_unlock(&k->lock);
    return 0;
}

int tmem_zspage_totals(struct tmem *tm, struct tmem_zspage_totals *out)
{
    struct tmem_zspages *z;

    if (!tm || !out || !tm->zspages)
        return -EINVAL;
    z = tm->zspages;
    memset(out, 0, sizeof(*out));
    out->classes = z->nclasses;
    for (uint32_t i = 0; i < z->nclasses; i++) {
        struct tmem_zspage_class *k = &z->classes[i];
        uint64_t needed;
        pthread_mutex_lock(&k->lock);
        needed = (k->objects + k->objs_per_zspage - 1) / k->objs_per_zspage;
        out->zspages += k->zspages_live;
        out->pool_pages += k->zspages_live * k->pages_per_zspage;
        out->objects += k->objects;
        out->compactable_pages += (k->zspages_live - needed) * k->pages_per_zspage;
        pthread_mutex_unlock(&k->lock);
    }
    return 0;
}

/* ------------------------------------------------------------ compaction */

/* One class's objects by zspage while a compaction runs: the page ids of
 * slot s's objects are ids[s * objs_per_zspage ..][0 .. zspages[s].inuse). */
struct tmem_zspage_objects {
    uint32_t *ids;
    uint32_t *listed; /* [slot]: ids listed so far while the reverse is built */
};

/* The emptiest (isolate_src_zspage) or the fullest (isolate_dest_zspage)
 * non-full, non-empty zspage of k, taken off its list; NONE if none. */
static uint32_t tmem_zspage_isolate(struct tmem_zspage_class *k, bool fullest)
{
    for (uint32_t i = 1; i < TMEM_ZSPAGE_FULL; i++) {
        uint32_t g = fullest ? TMEM_ZSPAGE_FULL - i : i;
        if (!index_list_is_empty(&k->groups[g])) {
            uint32_t slot = k->groups[g].head;
            index_list_remove(&k->groups[g], tmem_zspage_links, k, slot);
            return slot;
        }
    }
    return TMEM_ZSPAGE_NONE;
}

/* putback_zspage: slot back at the head of its group's list, or freed
 * when it is empty. Returns the pages freed. */
static uint64_t tmem_zspage_putback(struct tmem *tm, struct tmem_zspage_class *k, uint32_t slot)
{
    struct tmem_zspage *zp = &k->zspages[slot];

    if (zp->inuse == 0) {
        index_list_push_head(&k->free_slots, tmem_zspage_links, k, slot);
        k->zspages_live--;
        atomic_fetch_sub_explicit(&tm->budget_data_bytes, tmem_zspage_bytes(tm, k),
                                  memory_order_relaxed);
        return k->pages_per_zspage;
    }
    zp->group = tmem_zspage_group(k, zp->inuse);
    index_list_push_head(&k->groups[zp->group], tmem_zspage_links, k, slot);
    return 0;
}

/* __zs_compact for class ki (the store still): move objects from the
 * emptiest zspages into the fullest until no zspage's worth of slots is
 * wasted. Returns the pages freed. */
static uint64_t tmem_zspage_compact_class(struct tmem *tm, uint32_t ki,
                                          struct tmem_zspage_objects *o)
{
    struct tmem_zspages *z = tm->zspages;
    struct tmem_zspage_class *k = &z->classes[ki];
    uint32_t n = k->objs_per_zspage, dst = TMEM_ZSPAGE_NONE;
    uint64_t freed = 0;

    /* zs_can_compact: free slots worth at least one zspage */
    while ((k->zspages_live * n - k->objects) / n > 0) {
        uint32_t src, move;
        if (dst == TMEM_ZSPAGE_NONE && (dst = tmem_zspage_isolate(k, true)) == TMEM_ZSPAGE_NONE)
            break;
        src = tmem_zspage_isolate(k, false);
        if (src == TMEM_ZSPAGE_NONE)
            break;
        /* migrate_zspage: until the source is empty or the destination full */
        move = k->zspages[src].inuse;
        if (move > n - k->zspages[dst].inuse)
            move = n - k->zspages[dst].inuse;
        for (uint32_t i = 0; i < move; i++) {
            uint32_t id = o->ids[(size_t)src * n + --k->zspages[src].inuse];
            o->ids[(size_t)dst * n + k->zspages[dst].inuse++] = id;
            *tmem_zspage_side_entry(tm, id, false) = (ki + 1) << TMEM_ZSPAGE_SLOT_BITS | dst;
        }
        freed += tmem_zspage_putback(tm, k, src);
        if (k->zspages[dst].inuse == n) {
            tmem_zspage_putback(tm, k, dst);
            dst = TMEM_ZSPAGE_NONE;
        }
    }
    if (dst != TMEM_ZSPAGE_NONE)
        freed += tmem_zspage_putback(tm, k, dst);
    return freed;
}

/* Compact every class (the store still: the caller holds check_lock
 * exclusively and every client's lock). */
static long tmem_zspage_compact_still(struct tmem *tm)
{
    struct tmem_zspages *z = tm->zspages;
    struct tmem_zspage_objects *o = calloc(z->nclasses, sizeof(*o));
    long freed = 0;

    if (!o)
        return -ENOMEM;
    for (uint32_t ki = 0; ki < z->nclasses; ki++) {
        struct tmem_zspage_class *k = &z->classes[ki];
        o[ki].ids = malloc(((size_t)k->slots * k->objs_per_zspage + 1) * sizeof(uint32_t));
        o[ki].listed = calloc((size_t)k->slots + 1, sizeof(uint32_t));
        if (!o[ki].ids || !o[ki].listed) {
            freed = -ENOMEM;
            goto out;
        }
    }
    /* the reverse of the side table: each zspage's objects */
    for (uint32_t c = 0; c < TMEM_ZSPAGE_SIDE_CHUNKS; c++) {
        uint32_t *chunk = atomic_load_explicit(&z->side[c], memory_order_acquire);
        for (uint32_t j = 0; chunk && j < TMEM_ZSPAGE_SIDE_CHUNK; j++) {
            uint32_t e = chunk[j], ki, slot;
            if (!e)
                continue;
            ki = (e >> TMEM_ZSPAGE_SLOT_BITS) - 1;
            slot = e & (TMEM_ZSPAGE_MAX_SLOTS - 1);
            o[ki].ids[(size_t)slot * z->classes[ki].objs_per_zspage + o[ki].listed[slot]++] =
                c << TMEM_ZSPAGE_SIDE_SHIFT | j;
        }
    }
    /* zs_compact: the classes from the largest down */
    for (uint32_t ki = 0; ki < z->nclasses; ki++) {
        pthread_mutex_lock(&z->classes[ki].lock);
        freed += (long)tmem_zspage_compact_class(tm, ki, &o[ki]);
        pthread_mutex_unlock(&z->classes[ki].lock);
    }
out:
    for (uint32_t ki = 0; ki < z->nclasses; ki++) {
        free(o[ki].ids);
        free(o[ki].listed);
    }
    free(o);
    return freed;
}

long tmem_zspage_compact(struct tmem *tm)
{
    long freed;

    if (!tm || !tm->zspages)
        return -EINVAL;
    pthread_rwlock_wrlock(&tm->check_lock);
    pthread_mutex_lock(&tm->clients_lock);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        pthread_rwlock_wrlock(&c->lock);
    freed = tmem_zspage_compact_still(tm);
    for (struct tmem_client *c = tm->clients; c; c = c->next)
        pthread_rwlock_unlock(&c->lock);
    pthread_mutex_unlock(&tm->clients_lock);
    pthread_rwlock_unlock(&tm->check_lock);
    return freed;
}

/* ------------------------------------------------------------ checking */

struct tmem_zspage_census *tmem_zspage_census_new(struct tmem *tm)
{
    struct tmem_zspages *z = tm->zspages;
    struct tmem_zspage_census *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->nclasses = z->nclasses;
    c->counts = calloc(z->nclasses, sizeof(*c->counts));
    if (!c->counts)
        goto fail;
    for (uint32_t i = 0; i < z->nclasses; i++) {
        uint32_t slots = z->classes[i].slots; /* the store is still: no lock needed */
        c->counts[i] = calloc(slots ? slots : 1, sizeof(**c->counts));
        if (!c->counts[i])
            goto fail;
    }
    return c;
fail:
    tmem_zspage_census_free(c);
    return NULL;
}

void tmem_zspage_census_free(struct tmem_zspage_census *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; c->counts && i < c->nclasses; i++)
        free(c->counts[i]);
    free(c->counts);
    free(c);
}

int tmem_zspage_census_count(struct tmem *tm, struct tmem_zspage_census *c, uint32_t page_id,
                             uint32_t len, struct tmem_check_report *r)
{
    struct tmem_zspages *z = tm->zspages;
    uint32_t *entry = tmem_zspage_side_entry(tm, page_id, false);
    uint32_t want = (uint32_t)(tmem_zspage_class_for(tm, len) - z->classes), k, slot;

    if (!entry || !*entry)
        return tmem_check_fail(r, "page %u holds %u bytes of data but no zspage object", page_id,
                               len);
    k = (*entry >> TMEM_ZSPAGE_SLOT_BITS) - 1;
    slot = *entry & (TMEM_ZSPAGE_MAX_SLOTS - 1);
    if (k != want)
        return tmem_check_fail(r, "page %u of %u bytes is in zspage class %u, its size is of "
                               "class %u", page_id, len, k, want);
    if (slot >= z->classes[k].slots || z->classes[k].zspages[slot].inuse == 0)
        return tmem_check_fail(r, "page %u is in zspage %u of class %u, which is not live",
                               page_id, slot, k);
    c->counts[k][slot]++;
    c->objects++;
    return 0;
}

/* Is every slot of class k on exactly the list its state says? */
static int tmem_zspage_check_lists(struct tmem_zspage_class *k, uint32_t ki,
                                   struct tmem_check_report *r)
{
    uint64_t listed = 0;

    for (uint32_t g = 0; g <= TMEM_ZSPAGE_GROUPS; g++) {
        struct index_list *l = g < TMEM_ZSPAGE_GROUPS ? &k->groups[g] : &k->free_slots;
        uint32_t prev = TMEM_ZSPAGE_NONE;
        for (uint32_t s = l->head; s != TMEM_ZSPAGE_NONE; s = k->zspages[s].links.next) {
            const struct tmem_zspage *zp;
            if (s >= k->slots || ++listed > k->slots)
                return tmem_check_fail(r, "zspage class %u: list %u is broken", ki, g);
            zp = &k->zspages[s];
            if (zp->links.prev != prev)
                return tmem_check_fail(r, "zspage class %u: list %u links back wrong at %u",
                                       ki, g, s);
            if (g < TMEM_ZSPAGE_GROUPS &&
                (zp->inuse == 0 || zp->group != g || tmem_zspage_group(k, zp->inuse) != g))
                return tmem_check_fail(r, "zspage class %u: zspage %u with %u objects is on "
                                       "group %u's list", ki, s, zp->inuse, g);
            if (g == TMEM_ZSPAGE_GROUPS && zp->inuse)
                return tmem_check_fail(r, "zspage class %u: free slot %u has %u objects", ki,
                                       s, zp->inuse);
            prev = s;
        }
        if (l->tail != prev)
            return tmem_check_fail(r, "zspage class %u: list %u's tail is wrong", ki, g);
    }
    if (listed != k->slots)
        return tmem_check_fail(r, "zspage class %u: %llu of %u slots are listed", ki,
                               (unsigned long long)listed, k->slots);
    return 0;
}

int tmem_zspage_census_verify(struct tmem *tm, struct tmem_zspage_census *c,
                              struct tmem_check_report *r)
{
    struct tmem_zspages *z = tm->zspages;
    uint64_t bytes = 0, mapped = 0;
    int rc;

    for (uint32_t ki = 0; ki < z->nclasses; ki++) {
        struct tmem_zspage_class *k = &z->classes[ki];
        uint64_t live = 0, objects = 0;
        for (uint32_t s = 0; s < k->slots; s++) {
            const struct tmem_zspage *zp = &k->zspages[s];
            if (zp->inuse != c->counts[ki][s])
                return tmem_check_fail(r, "zspage %u of class %u (%u-byte objects) counts %u "
                                       "objects, %u pages' data are in it", s, ki, k->size,
                                       zp->inuse, c->counts[ki][s]);
            if (zp->inuse > k->objs_per_zspage)
                return tmem_check_fail(r, "zspage %u of class %u holds %u objects, room for %u",
                                       s, ki, zp->inuse, k->objs_per_zspage);
            live += zp->inuse > 0;
            objects += zp->inuse;
        }
        if (live != k->zspages_live || objects != k->objects)
            return tmem_check_fail(r, "zspage class %u counts %llu zspages, %llu objects; it "
                                   "holds %llu, %llu", ki, (unsigned long long)k->zspages_live,
                                   (unsigned long long)k->objects, (unsigned long long)live,
                                   (unsigned long long)objects);
        rc = tmem_zspage_check_lists(k, ki, r);
        if (rc)
            return rc;
        bytes += live * tmem_zspage_bytes(tm, k);
    }
    for (uint32_t i = 0; i < TMEM_ZSPAGE_SIDE_CHUNKS; i++) {
        uint32_t *chunk = atomic_load_explicit(&z->side[i], memory_order_acquire);
        for (uint32_t j = 0; chunk && j < TMEM_ZSPAGE_SIDE_CHUNK; j++)
            mapped += chunk[j] != 0;
    }
    if (mapped != c->objects)
        return tmem_check_fail(r, "the zspage side table maps %llu page records, %llu hold "
                               "data", (unsigned long long)mapped,
                               (unsigned long long)c->objects);
    if (atomic_load(&tm->budget_data_bytes) != bytes)
        return tmem_check_fail(r, "store: the budget counts %llu bytes of zspages, the live "
                               "zspages make %llu",
                               (unsigned long long)atomic_load(&tm->budget_data_bytes),
                               (unsigned long long)bytes);
    return 0;
}
