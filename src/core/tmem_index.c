/*
 * tmem_index.c - finding a page from its handle: objects and radix trees.
 *
 * Models Xen tmem's (and zcache's) design: a pool hashes its objects, and
 * each object indexes its pages with a radix tree, so lookups stay fast
 * with millions of pages and very sparse 192-bit object ids.
 *
 * Data structures:
 *  - pool->stripes[64]: the oid hash (hash_mix64 over the oid's three
 *    words, common/hash.h) picks a stripe; each stripe is a chained hash
 *    table of object records (object->next links ids) that doubles when it
 *    holds more objects than buckets.
 *  - object->root: a radix tree of height 1..6 over the 32-bit page index,
 *    6 bits a level. Leaves are 64 page ids (256 bytes); interior nodes are
 *    64 pointers (512 bytes). A node is freed as soon as it is empty, an
 *    object as soon as its tree is empty; an insert that cannot allocate a
 *    node frees the empty nodes it made on its way (the put then frees the
 *    object if it was new), and an empty tree starts at the height its
 *    first index needs (no empty leaf for 0..63 under a far page).
 * tmem_index_check_stripe verifies both for the invariant checker.
 *
 * Locking: every function here runs with the stripe's lock held (the
 * stripe that tmem_stripe_of() gives for the object's oid).
 */
#include "core/tmem_internal.h"

#include "common/hash.h"

#include <errno.h>
#include <string.h>

#define TMEM_RADIX_BITS 6u
#define TMEM_RADIX_FANOUT (1u << TMEM_RADIX_BITS)
#define TMEM_RADIX_MAX_HEIGHT 6u /* 6 * 6 = 36 bits >= 32-bit index */

struct tmem_radix_leaf {
    uint32_t slot[TMEM_RADIX_FANOUT];
};

struct tmem_radix_node {
    void *child[TMEM_RADIX_FANOUT];
};

uint32_t tmem_oid_hash(const struct tmem_oid *oid)
{
    return (uint32_t)hash_words(oid->oid, 3);
}

struct tmem_stripe *tmem_stripe_of(struct tmem_pool *pool, const struct tmem_oid *oid)
{
    return &pool->stripes[tmem_oid_hash(oid) & (TMEM_STRIPES - 1)];
}

static inline uint32_t tmem_bucket_of(const struct tmem_stripe *st, const struct tmem_oid *oid)
{
    return (tmem_oid_hash(oid) / TMEM_STRIPES) & (st->bucket_count - 1);
}

static inline bool tmem_oid_equal(const struct tmem_oid *a, const struct tmem_oid *b)
{
    return a->oid[0] == b->oid[0] && a->oid[1] == b->oid[1] && a->oid[2] == b->oid[2];
}

uint32_t tmem_index_find_object(struct tmem *tm, struct tmem_stripe *st,
                                struct tmem_pool *pool, const struct tmem_oid *oid)
{
    (void)pool;
    if (st->bucket_count == 0)
        return 0;
    for (uint32_t id = st->buckets[tmem_bucket_of(st, oid)]; id;) {
        struct tmem_object *obj = tmem_object_record(tm, id);
        if (tmem_oid_equal(&obj->oid, oid))
            return id;
        id = obj->next;
    }
    return 0;
}

/* Double the stripe's bucket array (or create it). 0 or -ENOMEM. */
static int tmem_index_grow_buckets(struct tmem *tm, struct tmem_stripe *st)
{
    uint32_t old_count = st->bucket_count;
    uint32_t new_count = old_count ? 2 * old_count : 8;
    uint32_t *old = st->buckets;
    uint32_t *buckets = tmem_memory_zalloc(tm, new_count * sizeof(uint32_t), &st->gauges);
    if (!buckets)
        return -ENOMEM;
    st->buckets = buckets;
    st->bucket_count = new_count;
    for (uint32_t b = 0; b < old_count; b++) {
        uint32_t id = old[b];
        while (id) {
            struct tmem_object *obj = tmem_object_record(tm, id);
            uint32_t next = obj->next;
            uint32_t nb = tmem_bucket_of(st, &obj->oid);
            obj->next = buckets[nb];
            buckets[nb] = id;
            id = next;
        }
    }
    tmem_memory_free(tm, old, &st->gauges);
    return 0;
}

uint32_t tmem_index_create_object(struct tmem *tm, struct tmem_stripe *st,
                                  struct tmem_pool *pool, const struct tmem_oid *oid)
{
    uint32_t id, b;
    struct tmem_object *obj;

    if (st->objects >= st->bucket_count && tmem_index_grow_buckets(tm, st) != 0 &&
        st->bucket_count == 0)
        return 0;
    id = tmem_slab_alloc(&tm->objects);
    if (!id)
        return 0;
    obj = tmem_object_record(tm, id);
    obj->oid = *oid;
    obj->pool = pool;
    b = tmem_bucket_of(st, oid);
    obj->next = st->buckets[b];
    st->buckets[b] = id;
    st->objects++;
    tmem_add_owned(&st->gauges.g[TMEM_G_METADATA_BYTES], sizeof(struct tmem_object));
    return id;
}

void tmem_index_free_object_if_empty(struct tmem *tm, struct tmem_stripe *st,
                                     uint32_t object_id)
{
    struct tmem_object *obj = tmem_object_record(tm, object_id);
    uint32_t *link;

    if (obj->root)
        return;
    link = &st->buckets[tmem_bucket_of(st, &obj->oid)];
    while (*link != object_id)
        link = &tmem_object_record(tm, *link)->next;
    *link = obj->next;
    st->objects--;
    tmem_slab_free(&tm->objects, object_id);
    tmem_add_owned(&st->gauges.g[TMEM_G_METADATA_BYTES], -(uint64_t)sizeof(struct tmem_object));
}

/* Does the tree of this height cover index? */
static inline bool tmem_radix_covers(uint32_t height, uint32_t index)
{
    return height >= TMEM_RADIX_MAX_HEIGHT ||
           ((uint64_t)index >> (TMEM_RADIX_BITS * height)) == 0;
}

static inline uint32_t tmem_radix_offset(uint32_t index, uint32_t level)
{
    return (uint32_t)(((uint64_t)index >> (TMEM_RADIX_BITS * level)) & (TMEM_RADIX_FANOUT - 1));
}

uint32_t tmem_index_lookup(const struct tmem_object *obj, uint32_t index)
{
    void *n = obj->root;
    uint32_t h = obj->height;

    if (!n || !tmem_radix_covers(h, index))
        return 0;
    for (; h > 1; h--) {
        n = ((struct tmem_radix_node *)n)->child[tmem_radix_offset(index, h - 1)];
        if (!n)
            return 0;
    }
    return ((struct tmem_radix_leaf *)n)->slot[index & (TMEM_RADIX_FANOUT - 1)];
}

/* Tree nodes are charged to the pool through the object's stripe (locked;
 * found again from the oid: nodes come and go once per 64 pages at most). */
static void *tmem_radix_alloc(struct tmem *tm, struct tmem_object *obj, bool leaf)
{
    return tmem_memory_zalloc(tm, leaf ? sizeof(struct tmem_radix_leaf)
                                       : sizeof(struct tmem_radix_node), &tmem_stripe_of(obj->pool, &obj->oid)->gauges);
}

static void tmem_radix_free(struct tmem *tm, struct tmem_object *obj, void *n)
{
    tmem_memory_free(tm, n, &tmem_stripe_of(obj->pool, &obj->oid)->gauges);
}

/* The least height whose tree covers index. */
static uint32_t tmem_radix_height_for(uint32_t index)
{
    uint32_t h = 1;
    while (!tmem_radix_covers(h, index))
        h++;
    return h;
}

static bool tmem_radix_leaf_empty(const struct tmem_radix_leaf *leaf);
static bool tmem_radix_node_empty(const struct tmem_radix_node *node);

/*
 * Free the empty nodes on index's path, bottom up (the root too, leaving
 * the object an empty tree): what an insert that failed half way made.
 */
static void tmem_radix_prune_path(struct tmem *tm, struct tmem_object *obj, uint32_t index)
{
    void **path[TMEM_RADIX_MAX_HEIGHT]; /* path[h-1]: the pointer to the level-h node */
    void **slot = &obj->root;
    uint32_t h = obj->height, deepest = h;

    if (!obj->root)
        return;
    for (; h >= 1; h--) {
        path[h - 1] = slot;
        deepest = h;
        if (h == 1 || !*slot)
            break;
        slot = &((struct tmem_radix_node *)*slot)->child[tmem_radix_offset(index, h - 1)];
        if (!*slot)
            break;
    }
    for (h = deepest; h <= obj->height; h++) {
        void *n = *path[h - 1];
        if (h == 1 ? !tmem_radix_leaf_empty(n) : !tmem_radix_node_empty(n))
            return;
        tmem_radix_free(tm, obj, n);
        *path[h - 1] = NULL;
    }
    obj->height = 0; /* the root itself went */
}

int tmem_index_replace(struct tmem *tm, struct tmem_object *obj, uint32_t index,
                       uint32_t page_id, uint32_t *old_id)
{
    void **slot;
    uint32_t *leaf_slot;

    *old_id = 0;

    if (!obj->root) {
        /* an empty tree starts at the height index needs: a first page far
         * out must not leave an empty leaf for indices 0..63 under it */
        uint32_t height = tmem_radix_height_for(index);
        obj->root = tmem_radix_alloc(tm, obj, height == 1);
        if (!obj->root)
            return -ENOMEM;
        obj->height = height;
    }
    while (!tmem_radix_covers(obj->height, index)) {
        struct tmem_radix_node *top = tmem_radix_alloc(tm, obj, false);
        if (!top)
            goto nomem;
        top->child[0] = obj->root;
        obj->root = top;
        obj->height++;
    }
    slot = &obj->root;
    for (uint32_t h = obj->height; h > 1; h--) {
        struct tmem_radix_node *node = *slot;
        slot = &node->child[tmem_radix_offset(index, h - 1)];
        if (!*slot) {
            *slot = tmem_radix_alloc(tm, obj, h == 2);
            if (!*slot)
                goto nomem;
        }
    }
    leaf_slot = &((struct tmem_radix_leaf *)*slot)->slot[index & (TMEM_RADIX_FANOUT - 1)];
    *old_id = *leaf_slot;
    *leaf_slot = page_id;
    return 0;
nomem:
    /* nothing of index's was there (else its path would have been), so
     * every node the path lacked was made here: free those left empty */
    tmem_radix_prune_path(tm, obj, index);
    return -ENOMEM;
}

static bool tmem_radix_leaf_empty(const struct tmem_radix_leaf *leaf)
{
    for (uint32_t i = 0; i < TMEM_RADIX_FANOUT; i++)
        if (leaf->slot[i])
            return false;
    return true;
}

static bool tmem_radix_node_empty(const struct tmem_radix_node *node)
{
    for (uint32_t i = 0; i < TMEM_RADIX_FANOUT; i++)
        if (node->child[i])
            return false;
    return true;
}

uint32_t tmem_index_remove(struct tmem *tm, struct tmem_object *obj, uint32_t index)
{
    void **path[TMEM_RADIX_MAX_HEIGHT]; /* path[h-1]: the pointer to the level-h node */
    struct tmem_radix_leaf *leaf;
    uint32_t h = obj->height, id;
    void **slot = &obj->root;

    if (!obj->root || !tmem_radix_covers(h, index))
        return 0;
    for (; h > 1; h--) {
        path[h - 1] = slot;
        slot = &((struct tmem_radix_node *)*slot)->child[tmem_radix_offset(index, h - 1)];
        if (!*slot)
            return 0;
    }
    path[0] = slot;
    leaf = *slot;
    id = leaf->slot[index & (TMEM_RADIX_FANOUT - 1)];
    if (!id)
        return 0;
    leaf->slot[index & (TMEM_RADIX_FANOUT - 1)] = 0;

    /* Free the nodes the removal emptied, bottom up. */
    if (!tmem_radix_leaf_empty(leaf))
        return id;
    tmem_radix_free(tm, obj, leaf);
    *path[0] = NULL;
    for (h = 2; h <= obj->height; h++) {
        struct tmem_radix_node *node = *path[h - 1];
        if (!tmem_radix_node_empty(node))
            return id;
        tmem_radix_free(tm, obj, node);
        *path[h - 1] = NULL;
    }
    obj->height = 0; /* the root itself went */
    return id;
}

static uint64_t tmem_radix_remove_subtree(struct tmem *tm, struct tmem_object *obj, void *n,
                                          uint32_t h, void (*fn)(void *, uint32_t), void *arg)
{
    uint64_t count = 0;

    if (h == 1) {
        struct tmem_radix_leaf *leaf = n;
        for (uint32_t i = 0; i < TMEM_RADIX_FANOUT; i++) {
            if (leaf->slot[i]) {
                uint32_t id = leaf->slot[i];
                leaf->slot[i] = 0;
                fn(arg, id);
                count++;
            }
        }
    } else {
        struct tmem_radix_node *node = n;
        for (uint32_t i = 0; i < TMEM_RADIX_FANOUT; i++)
            if (node->child[i])
                count += tmem_radix_remove_subtree(tm, obj, node->child[i], h - 1, fn, arg);
    }
    tmem_radix_free(tm, obj, n);
    return count;
}

uint64_t tmem_index_remove_all(struct tmem *tm, struct tmem_object *obj,
                               void (*fn)(void *arg, uint32_t page_id), void *arg)
{
    uint64_t count = 0;
    if (obj->root)
        count = tmem_radix_remove_subtree(tm, obj, obj->root, obj->height, fn, arg);
    obj->root = NULL;
    obj->height = 0;
    return count;
}

void tmem_index_stripe_fini(struct tmem *tm, struct tmem_stripe *st)
{
    tmem_memory_free(tm, st->buckets, &st->gauges);
    st->buckets = NULL;
    st->bucket_count = 0;
}

/* ------------------------------------------------------------ checking */

struct tmem_index_walk {
    struct tmem *tm;
    struct tmem_check_report *r;
    int (*page)(void *arg, uint32_t object_id, uint32_t index, uint32_t page_id);
    void *arg;
    uint32_t object_id;
    uint64_t *index_bytes;
};

/* Visit the subtree n of height h whose first index is base. */
static int tmem_index_check_subtree(struct tmem_index_walk *w, const void *n, uint32_t h,
                                    uint64_t base)
{
    w->index_bytes[0] += tmem_memory_usable_size(w->tm, n);
    /* a node is freed as soon as it is empty (also after a failed insert) */
    if (h == 1 ? tmem_radix_leaf_empty(n) : tmem_radix_node_empty(n))
        return tmem_check_fail(w->r, "object %u: an empty radix %s for indices from %#llx "
                               "(left behind, not freed)", w->object_id,
                               h == 1 ? "leaf" : "node", (unsigned long long)base);
    for (uint32_t i = 0; i < TMEM_RADIX_FANOUT; i++) {
        uint64_t index = base | ((uint64_t)i << (TMEM_RADIX_BITS * (h - 1)));
        int rc = 0;

        if (h == 1 && ((const struct tmem_radix_leaf *)n)->slot[i]) {
            rc = w->page(w->arg, w->object_id, (uint32_t)index,
                         ((const struct tmem_radix_leaf *)n)->slot[i]);
        } else if (h > 1 && ((const struct tmem_radix_node *)n)->child[i]) {
            if (index > UINT32_MAX)
                return tmem_check_fail(w->r, "object %u: its radix tree has a node for "
                                       "indices from %#llx, past 32 bits", w->object_id,
                                       (unsigned long long)index);
            rc = tmem_index_check_subtree(w, ((const struct tmem_radix_node *)n)->child[i],
                                          h - 1, index);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int tmem_index_check_stripe(struct tmem *tm, struct tmem_pool *pool, struct tmem_stripe *st,
                            struct tmem_check_report *r,
                            int (*page)(void *arg, uint32_t object_id, uint32_t index,
                                        uint32_t page_id),
                            void *arg, uint64_t *objects, uint64_t *index_bytes)
{
    struct tmem_index_walk w = {tm, r, page, arg, 0, index_bytes};
    uint32_t stripe = (uint32_t)(st - pool->stripes), found = 0;

    if ((st->bucket_count == 0) != (st->buckets == NULL) ||
        (st->bucket_count & (st->bucket_count - 1)))
        return tmem_check_fail(r, "stripe %u: %u buckets at %p", stripe, st->bucket_count,
                               (void *)st->buckets);
    *index_bytes += tmem_memory_usable_size(tm, st->buckets);
    for (uint32_t b = 0; b < st->bucket_count; b++) {
        for (uint32_t id = st->buckets[b]; id;) {
            const struct tmem_object *obj;
            int rc;

            if (++found > st->objects)
                return tmem_check_fail(r, "stripe %u: more objects in its chains than the %u "
                                       "it counts", stripe, st->objects);
            if (!tmem_slab_id_plausible(&tm->objects, id))
                return tmem_check_fail(r, "stripe %u bucket %u: %u is no object record",
                                       stripe, b, id);
            obj = tmem_object_record(tm, id);
            if (obj->pool != pool || tmem_stripe_of(pool, &obj->oid) != st ||
                tmem_bucket_of(st, &obj->oid) != b)
                return tmem_check_fail(r, "object %u is in stripe %u bucket %u, which is not "
                                       "its pool's stripe and bucket for its oid", id, stripe,
                                       b);
            if (!obj->root || obj->height < 1 || obj->height > TMEM_RADIX_MAX_HEIGHT)
                return tmem_check_fail(r, "object %u: radix tree of height %u at %p", id,
                                       obj->height, obj->root);
            w.object_id = id;
            rc = tmem_index_check_subtree(&w, obj->root, obj->height, 0);
            if (rc)
                return rc;
            id = obj->next;
        }
    }
    if (found != st->objects)
        return tmem_check_fail(r, "stripe %u: %u objects in its chains, it counts %u", stripe,
                               found, st->objects);
    *objects += found;
    return 0;
}
