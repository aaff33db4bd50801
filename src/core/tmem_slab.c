/*
 * tmem_slab.c - fixed-size records addressed by 32-bit ids (type and
 * calls: tmem_slab.h).
 *
 * Models: a kernel kmem_cache, with ids instead of pointers so that the
 * records linking to each other (LRU neighbours, object of a page, dedup
 * owner) cost 4 bytes a link. The store keeps two slabs: page records
 * (32 bytes) and object records.
 *
 * Data structures: TMEM_SHARDS independent shards (a thread allocates from
 * its own shard, tmem_thread_shard; a free goes to the record's shard). In
 * a shard, records live in 64 KiB chunks allocated from the store's
 * allocator (charged as metadata); local = chunk slot * records_per_chunk
 * + record, and id = local * TMEM_SHARDS + shard + 1, so id 0 means
 * "none". A two-level directory per shard (1024 x 1024 chunk pointers,
 * second level allocated on demand) maps a chunk slot to its chunk. Each
 * chunk keeps its own free list (threaded through the first 4 bytes of
 * free records) and a bump index; chunks with free records form the
 * partial list. A chunk whose last record is freed is returned to the
 * allocator unless it is the only partial chunk, and its slot is reused.
 * tmem_slab_check verifies all of this for the invariant checker.
 *
 * Locking: each shard's lock protects its allocation state (partial list,
 * free lists, directory writes). tmem_slab_record() reads the directory
 * without the lock: callers only look up live ids, whose chunk cannot go
 * away, and the id was published to them through another lock after the
 * directory write.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define TMEM_SLAB_CHUNK_BYTES 65536u
#define TMEM_SLAB_DIRECTORY_FANOUT 1024u

struct tmem_slab_chunk {
    struct tmem_slab_chunk *next_partial, *prev_partial;
    uint32_t slot;      /* directory slot */
    uint32_t used;      /* records handed out */
    uint32_t free_head; /* local index + 1 of the first free record; 0 = none */
    uint32_t bump;      /* records [bump, records_per_chunk) never used yet */
    bool on_partial;
    _Alignas(8) unsigned char records[];
};

int tmem_slab_init(struct tmem_slab *s, struct tmem *tm, uint32_t record_size)
{
    memset(s, 0, sizeof(*s));
    s->tm = tm;
    s->record_size = record_size;
    s->records_per_chunk =
        (TMEM_SLAB_CHUNK_BYTES - (uint32_t)offsetof(struct tmem_slab_chunk, records)) /
        record_size;
    for (unsigned i = 0; i < TMEM_SHARDS; i++)
        if (pthread_mutex_init(&s->shard[i].lock, NULL) != 0)
            return -ENOMEM;
    return 0;
}

void tmem_slab_fini(struct tmem_slab *s)
{
    for (unsigned k = 0; k < TMEM_SHARDS; k++) {
        struct tmem_slab_shard *sh = &s->shard[k];
        for (uint32_t i = 0; i < TMEM_SLAB_DIRECTORY_FANOUT; i++) {
            if (!sh->directory[i])
                continue;
            for (uint32_t j = 0; j < TMEM_SLAB_DIRECTORY_FANOUT; j++)
                tmem_memory_free(s->tm, sh->directory[i][j], NULL);
            tmem_memory_free(s->tm, sh->directory[i], NULL);
        }
        tmem_memory_free(s->tm, sh->free_slots, NULL);
        pthread_mutex_destroy(&sh->lock);
    }
    memset(s, 0, sizeof(*s));
}

static inline struct tmem_slab_chunk **tmem_slab_directory_entry(struct tmem_slab_shard *sh,
                                                                 uint32_t slot)
{
    return &sh->directory[slot / TMEM_SLAB_DIRECTORY_FANOUT][slot % TMEM_SLAB_DIRECTORY_FANOUT];
}

void *tmem_slab_record(const struct tmem_slab *s, uint32_t id)
{
    uint32_t n = id - 1, local = n / TMEM_SHARDS;
    const struct tmem_slab_shard *sh = &s->shard[n % TMEM_SHARDS];
    uint32_t slot = local / s->records_per_chunk;
    struct tmem_slab_chunk *chunk =
        sh->directory[slot / TMEM_SLAB_DIRECTORY_FANOUT][slot % TMEM_SLAB_DIRECTORY_FANOUT];
    return chunk->records + (size_t)(local % s->records_per_chunk) * s->record_size;
}

static void tmem_slab_partial_add(struct tmem_slab_shard *sh, struct tmem_slab_chunk *chunk)
{
    chunk->prev_partial = NULL;
    chunk->next_partial = sh->partial;
    if (sh->partial)
        sh->partial->prev_partial = chunk;
    sh->partial = chunk;
    chunk->on_partial = true;
    atomic_store_explicit(&sh->has_free, true, memory_order_relaxed);
}

static void tmem_slab_partial_remove(struct tmem_slab_shard *sh, struct tmem_slab_chunk *chunk)
{
    if (chunk->prev_partial)
        chunk->prev_partial->next_partial = chunk->next_partial;
    else
        sh->partial = chunk->next_partial;
    if (chunk->next_partial)
        chunk->next_partial->prev_partial = chunk->prev_partial;
    chunk->on_partial = false;
    atomic_store_explicit(&sh->has_free, sh->partial != NULL, memory_order_relaxed);
}

/* A new chunk in a free directory slot; shard locked. */
static struct tmem_slab_chunk *tmem_slab_grow(struct tmem_slab *s, struct tmem_slab_shard *sh)
{
    uint32_t slot;
    struct tmem_slab_chunk *chunk;
    struct tmem_slab_chunk ***level;

    if (sh->free_slots_top > 0) {
        slot = sh->free_slots[sh->free_slots_top - 1];
    } else {
        slot = sh->chunks;
        /* local ids must stay below 2^32 / TMEM_SHARDS */
        if (slot >= TMEM_SLAB_DIRECTORY_FANOUT * TMEM_SLAB_DIRECTORY_FANOUT ||
            (uint64_t)(slot + 1) * s->records_per_chunk >= UINT32_MAX / TMEM_SHARDS)
            return NULL;
    }
    level = &sh->directory[slot / TMEM_SLAB_DIRECTORY_FANOUT];
    if (!*level) {
        *level = tmem_memory_zalloc(s->tm, TMEM_SLAB_DIRECTORY_FANOUT * sizeof(**level), NULL);
        if (!*level)
            return NULL;
    }
    chunk = tmem_memory_alloc(s->tm, TMEM_SLAB_CHUNK_BYTES, NULL);
    if (!chunk)
        return NULL;
    memset(chunk, 0, offsetof(struct tmem_slab_chunk, records));
    chunk->slot = slot;
    *tmem_slab_directory_entry(sh, slot) = chunk;
    if (sh->free_slots_top > 0)
        sh->free_slots_top--;
    else
        sh->chunks++;
    tmem_slab_partial_add(sh, chunk);
    return chunk;
}

uint32_t tmem_slab_alloc(struct tmem_slab *s)
{
    unsigned k = tmem_thread_shard();
    struct tmem_slab_shard *sh = &s->shard[k];
    struct tmem_slab_chunk *chunk;
    uint32_t local, id = 0;
    unsigned char *rec;

    pthread_mutex_lock(&sh->lock);
    chunk = sh->partial ? sh->partial : tmem_slab_grow(s, sh);
    if (!chunk)
        goto out;
    if (chunk->free_head) {
        local = chunk->free_head - 1;
        memcpy(&chunk->free_head, chunk->records + (size_t)local * s->record_size,
               sizeof(uint32_t));
    } else {
        local = chunk->bump++;
    }
    chunk->used++;
    if (chunk->used == s->records_per_chunk)
        tmem_slab_partial_remove(sh, chunk);
    rec = chunk->records + (size_t)local * s->record_size;
    memset(rec, 0, s->record_size);
    id = (chunk->slot * s->records_per_chunk + local) * TMEM_SHARDS + k + 1;
out:
    pthread_mutex_unlock(&sh->lock);
    return id;
}

/* Remember a reusable directory slot; shard locked. false on ENOMEM. */
static bool tmem_slab_push_free_slot(struct tmem_slab *s, struct tmem_slab_shard *sh,
                                     uint32_t slot)
{
    if (sh->free_slots_top == sh->free_slots_capacity) {
        uint32_t cap = sh->free_slots_capacity ? 2 * sh->free_slots_capacity : 16;
        uint32_t *slots = tmem_memory_alloc(s->tm, cap * sizeof(uint32_t), NULL);
        if (!slots)
            return false;
        if (sh->free_slots_top)
            memcpy(slots, sh->free_slots, sh->free_slots_top * sizeof(uint32_t));
        tmem_memory_free(s->tm, sh->free_slots, NULL);
        sh->free_slots = slots;
        sh->free_slots_capacity = cap;
    }
    sh->free_slots[sh->free_slots_top++] = slot;
    return true;
}

void tmem_slab_free(struct tmem_slab *s, uint32_t id)
{
    uint32_t n = id - 1, local_id = n / TMEM_SHARDS;
    struct tmem_slab_shard *sh = &s->shard[n % TMEM_SHARDS];
    uint32_t slot = local_id / s->records_per_chunk, local = local_id % s->records_per_chunk;
    struct tmem_slab_chunk *chunk;

    pthread_mutex_lock(&sh->lock);
    chunk = *tmem_slab_directory_entry(sh, slot);
    memcpy(chunk->records + (size_t)local * s->record_size, &chunk->free_head,
           sizeof(uint32_t));
    chunk->free_head = local + 1;
    chunk->used--;
    if (!chunk->on_partial)
        tmem_slab_partial_add(sh, chunk);
    if (chunk->used == 0 && (chunk->next_partial || chunk->prev_partial) &&
        tmem_slab_push_free_slot(s, sh, slot)) {
        tmem_slab_partial_remove(sh, chunk);
        *tmem_slab_directory_entry(sh, slot) = NULL;
        tmem_memory_free(s->tm, chunk, NULL);
    }
    pthread_mutex_unlock(&sh->lock);
}

size_t tmem_slab_growth_bytes(struct tmem_slab *s)
{
    if (atomic_load_explicit(&s->shard[tmem_thread_shard()].has_free, memory_order_relaxed))
        return 0;
    return tmem_memory_size_class(s->tm, TMEM_SLAB_CHUNK_BYTES);
}

/* ------------------------------------------------------------ checking */

/* Verify one chunk (shard locked); count its records and bytes. */
static int tmem_slab_check_chunk(struct tmem_slab *s, unsigned k, uint32_t slot,
                                 struct tmem_slab_chunk *chunk, struct tmem_check_report *r,
                                 uint64_t *live)
{
    uint32_t free_count = 0;

    if (chunk->slot != slot)
        return tmem_check_fail(r, "slab %u: shard %u chunk in directory slot %u says slot %u",
                               s->record_size, k, slot, chunk->slot);
    if (chunk->bump > s->records_per_chunk || chunk->used > chunk->bump)
        return tmem_check_fail(r, "slab %u: shard %u chunk %u has %u records used, %u handed "
                               "out, room for %u", s->record_size, k, slot, chunk->used,
                               chunk->bump, s->records_per_chunk);
    for (uint32_t next = chunk->free_head; next; free_count++) {
        if (next > chunk->bump || free_count >= chunk->bump)
            return tmem_check_fail(r, "slab %u: shard %u chunk %u free list is broken "
                                   "(record %u, %u records on it so far)", s->record_size, k,
                                   slot, next - 1, free_count);
        memcpy(&next, chunk->records + (size_t)(next - 1) * s->record_size, sizeof(next));
    }
    if (free_count != chunk->bump - chunk->used)
        return tmem_check_fail(r, "slab %u: shard %u chunk %u has %u free records listed, "
                               "expected %u handed out - %u used", s->record_size, k, slot,
                               free_count, chunk->bump, chunk->used);
    if (chunk->on_partial != (chunk->used < s->records_per_chunk))
        return tmem_check_fail(r, "slab %u: shard %u chunk %u with %u of %u records used is "
                               "%son the partial list", s->record_size, k, slot, chunk->used,
                               s->records_per_chunk, chunk->on_partial ? "" : "not ");
    *live += chunk->used;
    return 0;
}

/* Verify one shard (locked): directory, chunks, partial list, slot stack. */
static int tmem_slab_check_shard(struct tmem_slab *s, unsigned k, struct tmem_check_report *r,
                                 uint64_t *live, uint64_t *metadata_bytes)
{
    struct tmem_slab_shard *sh = &s->shard[k];
    uint32_t holes = 0, partial = 0, on_partial = 0;
    int rc;

    for (uint32_t i = 0; i < TMEM_SLAB_DIRECTORY_FANOUT; i++) {
        if (!sh->directory[i])
            continue;
        *metadata_bytes += tmem_memory_usable_size(s->tm, sh->directory[i]);
        for (uint32_t j = 0; j < TMEM_SLAB_DIRECTORY_FANOUT; j++) {
            uint32_t slot = i * TMEM_SLAB_DIRECTORY_FANOUT + j;
            struct tmem_slab_chunk *chunk = sh->directory[i][j];
            if (!chunk) {
                holes += slot < sh->chunks;
                continue;
            }
            if (slot >= sh->chunks)
                return tmem_check_fail(r, "slab %u: shard %u has a chunk in slot %u, past "
                                       "the %u slots handed out", s->record_size, k, slot,
                                       sh->chunks);
            rc = tmem_slab_check_chunk(s, k, slot, chunk, r, live);
            if (rc)
                return rc;
            on_partial += chunk->on_partial;
            *metadata_bytes += tmem_memory_usable_size(s->tm, chunk);
        }
    }
    if (holes != sh->free_slots_top)
        return tmem_check_fail(r, "slab %u: shard %u has %u empty chunk slots but %u on its "
                               "stack of reusable slots", s->record_size, k, holes,
                               sh->free_slots_top);
    for (uint32_t i = 0; i < sh->free_slots_top; i++)
        if (sh->free_slots[i] >= sh->chunks || *tmem_slab_directory_entry(sh, sh->free_slots[i]))
            return tmem_check_fail(r, "slab %u: shard %u lists slot %u as reusable, but it "
                                   "is in use or was never handed out", s->record_size, k,
                                   sh->free_slots[i]);
    *metadata_bytes += tmem_memory_usable_size(s->tm, sh->free_slots);
    for (struct tmem_slab_chunk *c = sh->partial; c; c = c->next_partial, partial++) {
        if (partial >= on_partial || !c->on_partial ||
            (c->next_partial && c->next_partial->prev_partial != c) ||
            (c == sh->partial) != (c->prev_partial == NULL))
            return tmem_check_fail(r, "slab %u: shard %u partial list is broken at chunk %u",
                                   s->record_size, k, c->slot);
    }
    if (partial != on_partial)
        return tmem_check_fail(r, "slab %u: shard %u partial list holds %u chunks, %u are "
                               "marked on it", s->record_size, k, partial, on_partial);
    if (atomic_load_explicit(&sh->has_free, memory_order_relaxed) != (sh->partial != NULL))
        return tmem_check_fail(r, "slab %u: shard %u has_free disagrees with its partial list",
                               s->record_size, k);
    return 0;
}

int tmem_slab_check(struct tmem_slab *s, struct tmem_check_report *r, uint64_t *live,
                    uint64_t *metadata_bytes)
{
    *live = *metadata_bytes = 0;
    for (unsigned k = 0; k < TMEM_SHARDS; k++) {
        int rc;
        pthread_mutex_lock(&s->shard[k].lock);
        rc = tmem_slab_check_shard(s, k, r, live, metadata_bytes);
        pthread_mutex_unlock(&s->shard[k].lock);
        if (rc)
            return rc;
    }
    return 0;
}

bool tmem_slab_id_plausible(struct tmem_slab *s, uint32_t id)
{
    uint32_t n = id - 1, local = n / TMEM_SHARDS, slot;
    struct tmem_slab_shard *sh;
    struct tmem_slab_chunk *chunk = NULL;

    if (id == 0)
        return false;
    sh = &s->shard[n % TMEM_SHARDS];
    slot = local / s->records_per_chunk;
    pthread_mutex_lock(&sh->lock);
    if (slot < sh->chunks && sh->directory[slot / TMEM_SLAB_DIRECTORY_FANOUT])
        chunk = *tmem_slab_directory_entry(sh, slot);
    bool ok = chunk && local % s->records_per_chunk < chunk->bump;
    pthread_mutex_unlock(&sh->lock);
    return ok;
}
