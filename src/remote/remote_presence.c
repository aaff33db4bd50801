/*
 * remote_presence.c - the remote tier's per-client set of handles that may
 * be on the server (remote_presence.h says what it is for and why
 * "absent" is never wrong).
 *
 * Data structures: objects (serial, object id) in one chained hash table,
 * handles (object, index) in another; each handle is also on its
 * object's doubly linked list, and an object goes when its last handle
 * does. Bucket counts are powers of two, doubled when the entries
 * outnumber the buckets (a failed doubling only leaves chains longer).
 *
 * Locking: none of its own (the caller's connection lock).
 */
#include "remote/remote_presence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

struct remote_presence_object {
    struct remote_presence_object *hash_next;
    uint64_t serial;
    struct tmem_oid oid;
    struct remote_presence_handle *first; /* its handles */
};

struct remote_presence_handle {
    struct remote_presence_handle *hash_next;
    struct remote_presence_handle *obj_prev, *obj_next;
    struct remote_presence_object *object;
    uint32_t index;
    bool stored;
};

#define REMOTE_PRESENCE_FIRST_BUCKETS 64u

static uint64_t remote_presence_object_hash(uint64_t serial, const struct tmem_oid *oid)
{
    const uint64_t w[4] = {serial, oid->oid[0], oid->oid[1], oid->oid[2]};

    return hash_words(w, 4);
}

static uint64_t remote_presence_handle_hash(const struct remote_presence_object *o,
                                            uint32_t index)
{
    return hash_combine((uint64_t)(uintptr_t)o, index);
}

int remote_presence_init(struct remote_presence *p)
{
    memset(p, 0, sizeof(*p));
    p->handles = calloc(REMOTE_PRESENCE_FIRST_BUCKETS, sizeof(*p->handles));
    p->objects = calloc(REMOTE_PRESENCE_FIRST_BUCKETS, sizeof(*p->objects));
    if (!p->handles || !p->objects) {
        remote_presence_free(p);
        return -ENOMEM;
    }
    p->handle_buckets = p->object_buckets = REMOTE_PRESENCE_FIRST_BUCKETS;
    return 0;
}

void remote_presence_free(struct remote_presence *p)
{
    for (uint64_t b = 0; p->handles && b < p->handle_buckets; b++) {
        struct remote_presence_handle *h = p->handles[b], *next;

        for (; h; h = next) {
            next = h->hash_next;
            free(h);
        }
    }
    for (uint64_t b = 0; p->objects && b < p->object_buckets; b++) {
        struct remote_presence_object *o = p->objects[b], *next;

        for (; o; o = next) {
            next = o->hash_next;
            free(o);
        }
    }
    free(p->handles);
    free(p->objects);
    memset(p, 0, sizeof(*p));
}

static struct remote_presence_object *remote_presence_find_object(const struct remote_presence *p,
                                                                  uint64_t serial,
                                                                  const struct tmem_oid *oid)
{
    struct remote_presence_object *o =
        p->objects[remote_presence_object_hash(serial, oid) & (p->object_buckets - 1)];

    while (o && (o->serial != serial || memcmp(&o->oid, oid, sizeof(*oid)) != 0))
        o = o->hash_next;
    return o;
}

static struct remote_presence_handle **remote_presence_handle_slot(struct remote_presence *p,
                                                                   const struct remote_presence_object *o,
                                                                   uint32_t index)
{
    struct remote_presence_handle **slot =
        &p->handles[remote_presence_handle_hash(o, index) & (p->handle_buckets - 1)];

    while (*slot && ((*slot)->object != o || (*slot)->index != index))
        slot = &(*slot)->hash_next;
    return slot;
}

static struct remote_presence_handle *remote_presence_find(const struct remote_presence *p,
                                                           uint64_t serial,
                                                           const struct tmem_oid *oid,
                                                           uint32_t index)
{
    struct remote_presence_object *o = remote_presence_find_object(p, serial, oid);

    return o ? *remote_presence_handle_slot((struct remote_presence *)p, o, index) : NULL;
}

/* Double the handle table (handles rehashed); on ENOMEM keep it. */
static void remote_presence_grow_handles(struct remote_presence *p)
{
    uint64_t n = p->handle_buckets * 2;
    struct remote_presence_handle **t = calloc(n, sizeof(*t));

    if (!t)
        return;
    for (uint64_t b = 0; b < p->handle_buckets; b++) {
        struct remote_presence_handle *h = p->handles[b], *next;

        for (; h; h = next) {
            uint64_t nb = remote_presence_handle_hash(h->object, h->index) & (n - 1);

            next = h->hash_next;
            h->hash_next = t[nb];
            t[nb] = h;
        }
    }
    free(p->handles);
    p->handles = t;
    p->handle_buckets = n;
}

static void remote_presence_grow_objects(struct remote_presence *p)
{
    uint64_t n = p->object_buckets * 2;
    struct remote_presence_object **t = calloc(n, sizeof(*t));

    if (!t)
        return;
    for (uint64_t b = 0; b < p->object_buckets; b++) {
        struct remote_presence_object *o = p->objects[b], *next;

        for (; o; o = next) {
            uint64_t nb = remote_presence_object_hash(o->serial, &o->oid) & (n - 1);

            next = o->hash_next;
            o->hash_next = t[nb];
            t[nb] = o;
        }
    }
    free(p->objects);
    p->objects = t;
    p->object_buckets = n;
}

int remote_presence_add(struct remote_presence *p, uint64_t serial, const struct tmem_oid *oid,
                        uint32_t index)
{
    struct remote_presence_object *o = remote_presence_find_object(p, serial, oid);
    struct remote_presence_handle **slot, *h;
    bool new_object = false;

    if (!o) {
        o = calloc(1, sizeof(*o));
        if (!o)
            return -ENOMEM;
        o->serial = serial;
        o->oid = *oid;
        new_object = true;
    } else {
        slot = remote_presence_handle_slot(p, o, index);
        if (*slot)
            return 0;
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        if (new_object)
            free(o);
        return -ENOMEM;
    }
    if (new_object) {
        uint64_t b = remote_presence_object_hash(serial, oid) & (p->object_buckets - 1);

        o->hash_next = p->objects[b];
        p->objects[b] = o;
        if (++p->nobjects > p->object_buckets)
            remote_presence_grow_objects(p);
    }
    h->object = o;
    h->index = index;
    h->obj_next = o->first;
    if (o->first)
        o->first->obj_prev = h;
    o->first = h;
    slot = &p->handles[remote_presence_handle_hash(o, index) & (p->handle_buckets - 1)];
    h->hash_next = *slot;
    *slot = h;
    if (++p->nhandles > p->handle_buckets)
        remote_presence_grow_handles(p);
    return 0;
}

bool remote_presence_has(const struct remote_presence *p, uint64_t serial,
                         const struct tmem_oid *oid, uint32_t index)
{
    return remote_presence_find(p, serial, oid, index) != NULL;
}

bool remote_presence_has_object(const struct remote_presence *p, uint64_t serial,
                                const struct tmem_oid *oid)
{
    return remote_presence_find_object(p, serial, oid) != NULL;
}

bool remote_presence_is_stored(const struct remote_presence *p, uint64_t serial,
                               const struct tmem_oid *oid, uint32_t index)
{
    const struct remote_presence_handle *h = remote_presence_find(p, serial, oid, index);

    return h && h->stored;
}

bool remote_presence_set_stored(struct remote_presence *p, uint64_t serial,
                                const struct tmem_oid *oid, uint32_t index)
{
    struct remote_presence_handle *h = remote_presence_find(p, serial, oid, index);

    if (!h || h->stored)
        return false;
    h->stored = true;
    atomic_fetch_add_explicit(&p->stored, 1, memory_order_relaxed);
    return true;
}

/* Unlink object o from the object table and free it (no handle left). */
static void remote_presence_drop_object(struct remote_presence *p,
                                        struct remote_presence_object *o)
{
    struct remote_presence_object **slot =
        &p->objects[remote_presence_object_hash(o->serial, &o->oid) & (p->object_buckets - 1)];

    while (*slot != o)
        slot = &(*slot)->hash_next;
    *slot = o->hash_next;
    p->nobjects--;
    free(o);
}

/* Unlink handle h from both lists and free it; 1 if it was stored. */
static uint64_t remote_presence_drop_handle(struct remote_presence *p,
                                            struct remote_presence_handle *h)
{
    struct remote_presence_handle **slot = remote_presence_handle_slot(p, h->object, h->index);
    struct remote_presence_object *o = h->object;
    uint64_t stored = h->stored;

    *slot = h->hash_next;
    if (h->obj_prev)
        h->obj_prev->obj_next = h->obj_next;
    else
        o->first = h->obj_next;
    if (h->obj_next)
        h->obj_next->obj_prev = h->obj_prev;
    p->nhandles--;
    if (stored)
        atomic_fetch_sub_explicit(&p->stored, 1, memory_order_relaxed);
    free(h);
    if (!o->first)
        remote_presence_drop_object(p, o);
    return stored;
}

uint64_t remote_presence_remove(struct remote_presence *p, uint64_t serial,
                                const struct tmem_oid *oid, uint32_t index)
{
    struct remote_presence_handle *h = remote_presence_find(p, serial, oid, index);

    return h ? remote_presence_drop_handle(p, h) : 0;
}

uint64_t remote_presence_remove_object(struct remote_presence *p, uint64_t serial,
                                       const struct tmem_oid *oid)
{
    struct remote_presence_object *o = remote_presence_find_object(p, serial, oid);
    uint64_t stored = 0;
    bool last = false;

    while (o && !last) {
        last = o->first->obj_next == NULL; /* the last drop frees o */
        stored += remote_presence_drop_handle(p, o->first);
    }
    return stored;
}

uint64_t remote_presence_remove_pool(struct remote_presence *p, uint64_t serial)
{
    uint64_t stored = 0;

    for (uint64_t b = 0; b < p->object_buckets; b++) {
        struct remote_presence_object *o = p->objects[b], *next;

        for (; o; o = next) {
            next = o->hash_next;
            if (o->serial == serial)
                stored += remote_presence_remove_object(p, serial, &o->oid);
        }
    }
    return stored;
}

uint64_t remote_presence_stored(const struct remote_presence *p)
{
    return atomic_load_explicit(&p->stored, memory_order_relaxed);
}
