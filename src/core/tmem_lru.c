/*
 * tmem_lru.c - the least-recently-used order of ephemeral pages: the
 * list's maintenance. Which page to evict, and when, is the capacity
 * policy's (tmem_capacity.c); this file only keeps the order.
 *
 * Models: the hypervisor's right to take ephemeral pages back at any
 * moment, oldest first. Every ephemeral handle's page is on one
 * store-wide list (tm->lru, an index-linked list of page ids from
 * common/index_list.h, its links inside the 32-byte page records, 0 =
 * none), most recently put or got at the head. Persistent pages and
 * detached dedup owners are never on it.
 *
 * Locking: tm->lru_lock protects the list and every record's links.
 * Adding, touching and removing run with the page's stripe lock held
 * (stripe -> lru order). tmem_lru_take_oldest starts from lru_lock, so the
 * caller's claim function may only *trylock* a stripe. A page on the list
 * is alive, and so are its object and pool, because every path that frees
 * a page takes it off the list first under lru_lock.
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

void tmem_lru_add(struct tmem *tm, uint32_t page_id)
{
    struct tmem_lru_ctx x = tmem_lru_ctx_of(tm, page_id);

    pthread_mutex_lock(&tm->lru_lock);
    index_list_push_head(&tm->lru, tmem_lru_links, &x, page_id);
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_touch(struct tmem *tm, uint32_t page_id)
{
    struct tmem_lru_ctx x = tmem_lru_ctx_of(tm, page_id);

    pthread_mutex_lock(&tm->lru_lock);
    if (x.links->prev != tm->lru.none) /* on the list, and not already its head */
        index_list_move_to_head(&tm->lru, tmem_lru_links, &x, page_id);
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_remove(struct tmem *tm, uint32_t page_id)
{
    struct tmem_lru_ctx x = tmem_lru_ctx_of(tm, page_id);

    pthread_mutex_lock(&tm->lru_lock);
    if (index_list_contains(&tm->lru, tmem_lru_links, &x, page_id))
        index_list_remove(&tm->lru, tmem_lru_links, &x, page_id);
    pthread_mutex_unlock(&tm->lru_lock);
}

uint32_t tmem_lru_take_oldest(struct tmem *tm, unsigned tries,
                              bool (*claim)(void *arg, uint32_t page_id), void *arg,
                              bool *empty)
{
    struct tmem_lru_ctx x = {tm, 0, NULL};
    uint32_t id;

    pthread_mutex_lock(&tm->lru_lock);
    *empty = index_list_is_empty(&tm->lru);
    for (id = tm->lru.tail; id != tm->lru.none && tries > 0; tries--) {
        if (claim(arg, id)) {
            index_list_remove(&tm->lru, tmem_lru_links, &x, id);
            pthread_mutex_unlock(&tm->lru_lock);
            return id;
        }
        id = index_list_prev(&tm->lru, tmem_lru_links, &x, id);
    }
    pthread_mutex_unlock(&tm->lru_lock);
    return 0;
}

int tmem_lru_check(struct tmem *tm, struct tmem_check_report *r, uint64_t limit,
                   int (*visit)(void *arg, uint32_t page_id), void *arg, uint64_t *count)
{
    const struct index_list *l = &tm->lru;
    struct tmem_lru_ctx x = {tm, 0, NULL};
    uint32_t prev = l->none;
    uint64_t n = 0;
    int rc = 0;

    pthread_mutex_lock(&tm->lru_lock);
    if (l->none != 0 || (l->head == l->none) != (l->tail == l->none)) {
        rc = tmem_check_fail(r, "LRU: head %u, tail %u, none %u", l->head, l->tail, l->none);
        goto out;
    }
    for (uint32_t id = l->head; id != l->none; id = tmem_lru_links(&x, id)->next) {
        if (++n > limit) {
            rc = tmem_check_fail(r, "LRU: more than the %llu ephemeral pages there are on it "
                                 "(a cycle?)", (unsigned long long)limit);
            goto out;
        }
        if (!tmem_slab_id_plausible(&tm->pages, id)) {
            rc = tmem_check_fail(r, "LRU: element %llu after page %u is %u, no page record",
                                 (unsigned long long)n, prev, id);
            goto out;
        }
        if (tmem_lru_links(&x, id)->prev != prev) {
            rc = tmem_check_fail(r, "LRU: page %u follows page %u, but its prev link says %u",
                                 id, prev, tmem_lru_links(&x, id)->prev);
            goto out;
        }
        rc = visit(arg, id);
        if (rc)
            goto out;
        prev = id;
    }
    if (l->tail != prev)
        rc = tmem_check_fail(r, "LRU: the list ends at page %u, its tail says %u", prev,
                             l->tail);
out:
    pthread_mutex_unlock(&tm->lru_lock);
    *count = n;
    return rc;
}
