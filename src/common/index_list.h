/*
 * index_list.h - a doubly linked list of elements named by 32-bit numbers
 * (array slots, record ids) instead of pointers: two uint32_t links per
 * element wherever its owner keeps them, and a head and a tail.
 *
 * Used for every list the project keeps: the core's LRU of ephemeral
 * pages (links inside its 32-byte page records), the guest page
 * replacement's LRU (an array of links per frame), frontswap's order of
 * stored slots. Numbers halve the links on 64-bit machines and survive
 * the arrays being reallocated.
 *
 * The owner says where an element's links are: every call takes a
 * function links(ctx, id) returning a pointer to them (index_list_array
 * for a plain array of links). Everything here is static inline, so with
 * a constant links function the compiler inlines it and a list operation
 * costs what a hand-written one does.
 *
 * "none" (the number that ends the list) is chosen per list: UINT32_MAX
 * for arrays indexed from 0; 0 for records whose id 0 is never used, so
 * zeroed links already mean "not linked". An element is on the list iff
 * its prev is not none or it is the head.
 *
 * Not thread-safe: the owner serialises every call on one list.
 */
#ifndef INDEX_LIST_H
#define INDEX_LIST_H

#include <stdbool.h>
#include <stdint.h>

struct index_list_links {
    uint32_t prev; /* towards the head; none at the head or off the list */
    uint32_t next; /* towards the tail; none at the tail or off the list */
};

struct index_list {
    uint32_t head, tail; /* none when empty */
    uint32_t none;
};

/* Where element id keeps its links. */
typedef struct index_list_links *(*index_list_links_fn)(void *ctx, uint32_t id);

/* The links of a plain array: ctx is the struct index_list_links array. */
static inline struct index_list_links *index_list_array(void *ctx, uint32_t id)
{
    return &((struct index_list_links *)ctx)[id];
}

/* An empty list whose end marker is none. */
static inline void index_list_init(struct index_list *l, uint32_t none)
{
    l->head = l->tail = l->none = none;
}

static inline bool index_list_is_empty(const struct index_list *l)
{
    return l->head == l->none;
}

/* Mark the links of an element as off the list (for arrays, where a fresh
 * slot's links are not already none). */
static inline void index_list_links_clear(const struct index_list *l,
                                          struct index_list_links *e)
{
    e->prev = e->next = l->none;
}

static inline bool index_list_contains(const struct index_list *l, index_list_links_fn links,
                                       void *ctx, uint32_t id)
{
    return links(ctx, id)->prev != l->none || l->head == id;
}

/* Link id (not on the list) before the head. */
static inline void index_list_push_head(struct index_list *l, index_list_links_fn links,
                                        void *ctx, uint32_t id)
{
    struct index_list_links *e = links(ctx, id);

    e->prev = l->none;
    e->next = l->head;
    if (l->head != l->none)
        links(ctx, l->head)->prev = id;
    else
        l->tail = id;
    l->head = id;
}

/* Link id (not on the list) after the tail. */
static inline void index_list_push_tail(struct index_list *l, index_list_links_fn links,
                                        void *ctx, uint32_t id)
{
    struct index_list_links *e = links(ctx, id);

    e->next = l->none;
    e->prev = l->tail;
    if (l->tail != l->none)
        links(ctx, l->tail)->next = id;
    else
        l->head = id;
    l->tail = id;
}

/* Unlink id, which is on the list; its links become none. */
static inline void index_list_remove(struct index_list *l, index_list_links_fn links,
                                     void *ctx, uint32_t id)
{
    struct index_list_links *e = links(ctx, id);

    if (e->prev != l->none)
        links(ctx, e->prev)->next = e->next;
    else
        l->head = e->next;
    if (e->next != l->none)
        links(ctx, e->next)->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = l->none;
}

/* Move id (on the list) to the head / the tail. */
static inline void index_list_move_to_head(struct index_list *l, index_list_links_fn links,
                                           void *ctx, uint32_t id)
{
    if (l->head == id)
        return;
    index_list_remove(l, links, ctx, id);
    index_list_push_head(l, links, ctx, id);
}

static inline void index_list_move_to_tail(struct index_list *l, index_list_links_fn links,
                                           void *ctx, uint32_t id)
{
    if (l->tail == id)
        return;
    index_list_remove(l, links, ctx, id);
    index_list_push_tail(l, links, ctx, id);
}

/* The element after / before id (none at the end). */
static inline uint32_t index_list_next(const struct index_list *l, index_list_links_fn links,
                                       void *ctx, uint32_t id)
{
    (void)l;
    return links(ctx, id)->next;
}

static inline uint32_t index_list_prev(const struct index_list *l, index_list_links_fn links,
                                       void *ctx, uint32_t id)
{
    (void)l;
    return links(ctx, id)->prev;
}

#endif /* INDEX_LIST_H */
