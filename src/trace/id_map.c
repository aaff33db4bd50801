/*
 * id_map.c - key -> dense id map for the trace converters (id_map.h).
 *
 * Data structures: an open-addressing table of slots {XXH3 hash of the
 * key, id + 1 (0 = empty)}, linear probing, a power-of-two size kept at
 * most half full (doubled and rehashed from the stored hashes); and the
 * keys themselves, copied, in an array indexed by id, to compare on a
 * hash match. No deletion. No locking: one thread per map.
 */
#include "trace/id_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct id_map_slot {
    uint64_t hash;
    uint32_t id_plus_one;
};

struct id_map_key {
    void *bytes;
    size_t len;
};

struct id_map {
    struct id_map_slot *slots;
    size_t slot_count; /* a power of two */
    struct id_map_key *keys;
    size_t key_capacity;
    uint32_t count;
};

int id_map_create(struct id_map **out)
{
    struct id_map *m = calloc(1, sizeof(*m));

    if (!m)
        return -ENOMEM;
    m->slot_count = 64;
    m->slots = calloc(m->slot_count, sizeof(*m->slots));
    if (!m->slots) {
        free(m);
        return -ENOMEM;
    }
    *out = m;
    return 0;
}

void id_map_destroy(struct id_map *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->count; i++)
        free(m->keys[i].bytes);
    free(m->keys);
    free(m->slots);
    free(m);
}

uint32_t id_map_count(const struct id_map *m)
{
    return m->count;
}

static void id_map_place(struct id_map_slot *slots, size_t slot_count, uint64_t hash,
                         uint32_t id_plus_one)
{
    size_t i = hash & (slot_count - 1);

    while (slots[i].id_plus_one)
        i = (i + 1) & (slot_count - 1);
    slots[i].hash = hash;
    slots[i].id_plus_one = id_plus_one;
}

static int id_map_grow(struct id_map *m)
{
    size_t slot_count = m->slot_count * 2;
    struct id_map_slot *slots = calloc(slot_count, sizeof(*slots));

    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < m->slot_count; i++)
        if (m->slots[i].id_plus_one)
            id_map_place(slots, slot_count, m->slots[i].hash, m->slots[i].id_plus_one);
    free(m->slots);
    m->slots = slots;
    m->slot_count = slot_count;
    return 0;
}

int id_map_get(struct id_map *m, const void *key, size_t len, uint32_t *id, bool *added)
{
    uint64_t hash = XXH3_64bits(key, len);
    size_t i = hash & (m->slot_count - 1);
    struct id_map_key *k;
    int rc;

    for (; m->slots[i].id_plus_one; i = (i + 1) & (m->slot_count - 1)) {
        if (m->slots[i].hash != hash)
            continue;
        k = &m->keys[m->slots[i].id_plus_one - 1];
        if (k->len == len && memcmp(k->bytes, key, len) == 0) {
            *id = m->slots[i].id_plus_one - 1;
            *added = false;
            return 0;
        }
    }
    if (m->count >= ID_MAP_MAX_IDS)
        return -EOVERFLOW;
    if (m->count == m->key_capacity) {
        size_t capacity = m->key_capacity ? m->key_capacity * 2 : 64;
        struct id_map_key *keys = realloc(m->keys, capacity * sizeof(*keys));

        if (!keys)
            return -ENOMEM;
        m->keys = keys;
        m->key_capacity = capacity;
    }
    k = &m->keys[m->count];
    k->bytes = malloc(len ? len : 1);
    if (!k->bytes)
        return -ENOMEM;
    memcpy(k->bytes, key, len);
    k->len = len;
    m->count++;
    id_map_place(m->slots, m->slot_count, hash, m->count);
    *id = m->count - 1;
    *added = true;
    if ((size_t)m->count * 2 > m->slot_count) {
        rc = id_map_grow(m);
        if (rc)
            return rc; /* the key is in; the table stays valid, only fuller */
    }
    return 0;
}
