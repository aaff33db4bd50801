/*
 * tmem_lru.c - the least-recently-used order of ephemeral pages, one list
 * per client, and the choice of the client to take from. Which page to
 * evict, and when, is the capacity policy's (tmem_capacity.c); this file
 * keeps the order and the bytes each list holds.
 *
 * Models: the hypervisor's right to take ephemeral pages back at any
 * moment, oldest first, from the guest most above its weighted share (Xen
 * tmem's per-client LRUs and weights). Every ephemeral handle's page is
 * on the list of its pool's lru_owner (an index-linked list of page ids
 * from common/index_list.h, its links inside the 32-byte page records, 0
 * = none), most recently put or got at the head; the client's lru_bytes
 * is the sum of tmem_page_bytes of the pages on it. A private pool's
 * lru_owner is its owner; a shared pool's is the client that created it,
 * then, when that one lets go of the pool while others hold it, another
 * holder, whose list takes the pool's pages at its oldest end
 * (tmem_lru_move_pool: a walk of the old owner's list). Persistent pages
 * and detached dedup owners are never on a list. With one client there is
 * one list, the store-wide LRU order of before.
 *
 * The victim of store-wide pressure (tmem_lru_take_oldest with from NULL)
 * is the client whose lru_bytes / weight is largest: a walk of
 * tm->lru_clients, so an eviction costs O(clients) under lru_lock.
 *
 * Locking: tm->lru_lock protects every client's list and lru_bytes, every
 * record's links, tm->lru_clients and every pool's lru_owner, so a page's
 * list is always its pool's lru_owner's. Adding, touching and removing run
 * with the page's stripe lock held (stripe -> lru order).
 * tmem_lru_take_oldest starts from lru_lock, so the caller's claim function
 * may only *trylock* a stripe. A page on a list is alive, and so are its
 * object and pool, because every path that frees a page takes it off its
 * list first under lru_lock.
 */
#include "core/tmem_internal.h"

/*
 * Where a page's links are, for index_list.h: in its record. The record of
 * the page an operation is about is looked up once, before the lock, and
 * kept in the context (a record lookup is a call with a division); only
 * its neighbours' are looked up as the list needs them.
 */
struct tmem_lru_ctx {
    struct tmem *tm;
    uint32_t id;                   /* 0: none kept */
    struct index_list_links *links; /* id's */
};

static inline struct index_list_links *tmem_lru_links(void *arg, uint32_t page_id)
{
    struct tmem_lru_ctx *x = arg;

    if (page_id == x->id)
        return x->links;
    return &tmem_page_record(x->tm, page_id)->lru;
}

static inline struct tmem_lru_ctx tmem_lru_ctx_of(struct tmem *tm, uint32_t page_id)
{
    return (struct tmem_lru_ctx){tm, page_id, &tmem_page_record(tm, page_id)->lru};
}

/* Change a client's lru_bytes (lru_lock held: one writer at a time). */
static inline void tmem_lru_bytes_add(struct tmem_client *c, int64_t bytes)
{
    tmem_add_owned(&c->lru_bytes, (uint64_t)bytes);
}

void tmem_lru_add(struct tmem *tm, struct tmem_pool *pool, uint32_t page_id)
{
    struct tmem_lru_ctx x = tmem_lru_ctx_of(tm, page_id);
    int64_t bytes = (int64_t)tmem_page_bytes(tm, tmem_page_record(tm, page_id));
    struct tmem_client *owner;

    pthread_mutex_lock(&tm->lru_lock);
    owner = pool->lru_owner;
    index_list_push_head(&owner->lru, tmem_lru_links, &x, page_id);
    tmem_lru_bytes_add(owner, bytes);
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_touch(struct tmem *tm, struct tmem_pool *pool, uint32_t page_id)
{
    struct tmem_lru_ctx x = tmem_lru_ctx_of(tm, page_id);
    struct index_list *l;

    pthread_mutex_lock(&tm->lru_lock);
    l = &pool->lru_owner->lru;
    if (x.links->prev != l->none) /* on the list, and not already its head */
        index_list_move_to_head(l, tmem_lru_links, &x, page_id);
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_remove(struct tmem *tm, struct tmem_pool *pool, uint32_t page_id)
{
    struct tmem_lru_ctx x = tmem_lru_ctx_of(tm, page_id);
    int64_t bytes = (int64_t)tmem_page_bytes(tm, tmem_page_record(tm, page_id));
    struct tmem_client *owner;

    pthread_mutex_lock(&tm->lru_lock);
    owner = pool->lru_owner;
    if (index_list_contains(&owner->lru, tmem_lru_links, &x, page_id)) {
        index_list_remove(&owner->lru, tmem_lru_links, &x, page_id);
        tmem_lru_bytes_add(owner, -bytes);
    }
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_client_add(struct tmem *tm, struct tmem_client *c)
{
    index_list_init(&c->lru, 0); /* zeroed page records are off every list */
    pthread_mutex_lock(&tm->lru_lock);
    c->lru_next = tm->lru_clients;
    tm->lru_clients = c;
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_client_remove(struct tmem *tm, struct tmem_client *c)
{
    struct tmem_client **link;

    pthread_mutex_lock(&tm->lru_lock);
    for (link = &tm->lru_clients; *link && *link != c; link = &(*link)->lru_next)
        ;
    if (*link)
        *link = c->lru_next;
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_move_pool(struct tmem *tm, struct tmem_pool *pool, struct tmem_client *to)
{
    struct tmem_lru_ctx x = {tm, 0, NULL};
    struct tmem_client *from;
    uint32_t id, next;

    pthread_mutex_lock(&tm->lru_lock);
    from = pool->lru_owner;
    pool->lru_owner = to;
    if (from == to)
        goto out;
    /* newest first, each to the tail: they keep their order, as the oldest */
    for (id = from->lru.head; id != from->lru.none; id = next) {
        const struct tmem_page *p = tmem_page_record(tm, id);
        next = index_list_next(&from->lru, tmem_lru_links, &x, id);
        if (tmem_object_record(tm, p->object)->pool != pool)
            continue;
        index_list_remove(&from->lru, tmem_lru_links, &x, id);
        index_list_push_tail(&to->lru, tmem_lru_links, &x, id);
        tmem_lru_bytes_add(from, -(int64_t)tmem_page_bytes(tm, p));
        tmem_lru_bytes_add(to, (int64_t)tmem_page_bytes(tm, p));
    }
out:
    pthread_mutex_unlock(&tm->lru_lock);
}

/* The client whose lru_bytes / weight is largest among those with pages
 * on their list, or NULL (lru_lock held). */
static struct tmem_client *tmem_lru_victim(struct tmem *tm)
{
    struct tmem_client *best = NULL;
    uint64_t best_bytes = 0, best_weight = 1;

    for (struct tmem_client *c = tm->lru_clients; c; c = c->lru_next) {
        uint64_t bytes = tmem_load(&c->lru_bytes);
        uint64_t weight = atomic_load_explicit(&c->weight, memory_order_relaxed);
        if (index_list_is_empty(&c->lru))
            continue;
        /* bytes / weight > best_bytes / best_weight, without division */
        if (!best || (unsigned __int128)bytes * best_weight >
                         (unsigned __int128)best_bytes * weight) {
            best = c;
            best_bytes = bytes;
            best_weight = weight;
        }
    }
    return best;
}

uint32_t tmem_lru_take_oldest(struct tmem *tm, struct tmem_client *from, unsigned tries,
                              enum tmem_lru_claim (*claim)(void *arg, uint32_t page_id),
                              void *arg, bool *empty)
{
    struct tmem_lru_ctx x = {tm, 0, NULL};
    struct index_list *l;
    bool busy = false;
    uint32_t id;

    pthread_mutex_lock(&tm->lru_lock);
    if (!from)
        from = tmem_lru_victim(tm);
    if (!from)
        goto none;
    l = &from->lru;
    for (id = l->tail; id != l->none && tries > 0;) {
        switch (claim(arg, id)) {
        case TMEM_LRU_TAKE:
            tmem_lru_bytes_add(from, -(int64_t)tmem_page_bytes(tm, tmem_page_record(tm, id)));
            index_list_remove(l, tmem_lru_links, &x, id);
            pthread_mutex_unlock(&tm->lru_lock);
            *empty = false;
            return id;
        case TMEM_LRU_BUSY:
            busy = true;
            tries--;
            break;
        case TMEM_LRU_PASS:
            break;
        }
        id = index_list_prev(l, tmem_lru_links, &x, id);
    }
none:
    pthread_mutex_unlock(&tm->lru_lock);
    *empty = !busy;
    return 0;
}

bool tmem_lru_is_some_head(const struct tmem *tm, uint32_t id)
{
    for (const struct tmem_client *c = tm->lru_clients; c; c = c->lru_next)
        if (c->lru.head == id)
            return true;
    return false;
}

int tmem_lru_check(struct tmem *tm, struct tmem_client *c, struct tmem_check_report *r,
                   uint64_t limit, int (*visit)(void *arg, uint32_t page_id), void *arg,
                   uint64_t *count)
{
    const struct index_list *l = &c->lru;
    struct tmem_lru_ctx x = {tm, 0, NULL};
    uint32_t prev = l->none;
    uint64_t n = 0, bytes = 0;
    int rc = 0;

    pthread_mutex_lock(&tm->lru_lock);
    if (l->none != 0 || (l->head == l->none) != (l->tail == l->none)) {
        rc = tmem_check_fail(r, "client %s's LRU: head %u, tail %u, none %u", c->name, l->head,
                             l->tail, l->none);
        goto out;
    }
    for (uint32_t id = l->head; id != l->none; id = tmem_lru_links(&x, id)->next) {
        if (++n > limit) {
            rc = tmem_check_fail(r, "client %s's LRU: more than the %llu ephemeral pages "
                                 "there are on it (a cycle?)", c->name,
                                 (unsigned long long)limit);
            goto out;
        }
        if (!tmem_slab_id_plausible(&tm->pages, id)) {
            rc = tmem_check_fail(r, "client %s's LRU: element %llu after page %u is %u, no "
                                 "page record", c->name, (unsigned long long)n, prev, id);
            goto out;
        }
        if (tmem_lru_links(&x, id)->prev != prev) {
            rc = tmem_check_fail(r, "client %s's LRU: page %u follows page %u, but its prev "
                                 "link says %u", c->name, id, prev,
                                 tmem_lru_links(&x, id)->prev);
            goto out;
        }
        rc = visit(arg, id);
        if (rc)
            goto out;
        bytes += tmem_page_bytes(tm, tmem_page_record(tm, id));
        prev = id;
    }
    if (l->tail != prev)
        rc = tmem_check_fail(r, "client %s's LRU: the list ends at page %u, its tail says %u",
                             c->name, prev, l->tail);
    else if (bytes != tmem_load(&c->lru_bytes))
        rc = tmem_check_fail(r, "client %s's LRU: its pages make %llu bytes, lru_bytes says "
                             "%llu", c->name, (unsigned long long)bytes,
                             (unsigned long long)tmem_load(&c->lru_bytes));
out:
    pthread_mutex_unlock(&tm->lru_lock);
    *count = n;
    return rc;
}
