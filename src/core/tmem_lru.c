/*
 * tmem_lru.c - least-recently-used order of ephemeral pages, and eviction.
 *
 * Models: the hypervisor's right to take ephemeral pages back at any
 * moment. Every ephemeral page is on one store-wide doubly linked list
 * (page ids in lru_prev/lru_next), most recently put or got at the head;
 * eviction takes from the tail. Persistent pages are never on it.
 *
 * Locking: tm->lru_lock protects the list. Adding, touching and removing
 * run with the page's stripe lock held (stripe -> lru order). The evictor
 * starts from lru_lock and may only *trylock* a victim's stripe: when the
 * stripe is busy it tries the next older page, and after a few it reports
 * BUSY so the caller can yield and retry (list_lru_walk's LRU_SKIP).
 * A page on the list is alive, and so are its object and pool, because
 * every path that frees a page takes it off the list first under lru_lock.
 */
#include "core/tmem_internal.h"

#define TMEM_EVICT_TRIES 32

/* Take id off the list; lru_lock held, id on the list. */
static void tmem_lru_unlink(struct tmem *tm, struct tmem_page *p)
{
    if (p->lru_prev)
        tmem_page_record(tm, p->lru_prev)->lru_next = p->lru_next;
    else
        tm->lru_head = p->lru_next;
    if (p->lru_next)
        tmem_page_record(tm, p->lru_next)->lru_prev = p->lru_prev;
    else
        tm->lru_tail = p->lru_prev;
    p->lru_prev = p->lru_next = 0;
}

/* Is the page on the list? lru_lock held. */
static bool tmem_lru_holds(const struct tmem *tm, uint32_t id, const struct tmem_page *p)
{
    return p->lru_prev != 0 || tm->lru_head == id;
}

static void tmem_lru_push_head(struct tmem *tm, uint32_t id, struct tmem_page *p)
{
    p->lru_prev = 0;
    p->lru_next = tm->lru_head;
    if (tm->lru_head)
        tmem_page_record(tm, tm->lru_head)->lru_prev = id;
    else
        tm->lru_tail = id;
    tm->lru_head = id;
}

void tmem_lru_add(struct tmem *tm, uint32_t page_id)
{
    struct tmem_page *p = tmem_page_record(tm, page_id);
    pthread_mutex_lock(&tm->lru_lock);
    tmem_lru_push_head(tm, page_id, p);
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_touch(struct tmem *tm, uint32_t page_id)
{
    struct tmem_page *p = tmem_page_record(tm, page_id);
    pthread_mutex_lock(&tm->lru_lock);
    if (p->lru_prev != 0) { /* on the list, and not already its head */
        tmem_lru_unlink(tm, p);
        tmem_lru_push_head(tm, page_id, p);
    }
    pthread_mutex_unlock(&tm->lru_lock);
}

void tmem_lru_remove(struct tmem *tm, uint32_t page_id)
{
    struct tmem_page *p = tmem_page_record(tm, page_id);
    pthread_mutex_lock(&tm->lru_lock);
    if (tmem_lru_holds(tm, page_id, p))
        tmem_lru_unlink(tm, p);
    pthread_mutex_unlock(&tm->lru_lock);
}

enum tmem_evict_result tmem_evict_one(struct tmem *tm)
{
    uint32_t id;
    int tries = 0;

    pthread_mutex_lock(&tm->lru_lock);
    id = tm->lru_tail;
    if (!id) {
        pthread_mutex_unlock(&tm->lru_lock);
        return TMEM_EVICT_EMPTY;
    }
    for (; id && tries < TMEM_EVICT_TRIES; tries++) {
        struct tmem_page *p = tmem_page_record(tm, id);
        uint32_t object_id = p->object;
        struct tmem_object *obj = tmem_object_record(tm, object_id);
        struct tmem_pool *pool = obj->pool;
        struct tmem_stripe *st = tmem_stripe_of(pool, &obj->oid);

        if (pthread_mutex_trylock(&st->lock) != 0) {
            id = p->lru_prev;
            continue;
        }
        tmem_lru_unlink(tm, p);
        pthread_mutex_unlock(&tm->lru_lock);
        tmem_index_remove(tm, obj, p->index);
        tmem_page_release(tm, pool, st, NULL, id, TMEM_C_PAGES_EVICTED);
        tmem_index_free_object_if_empty(tm, st, object_id);
        tmem_stripe_unlock(tm, st);
        return TMEM_EVICTED;
    }
    pthread_mutex_unlock(&tm->lru_lock);
    return TMEM_EVICT_BUSY;
}
