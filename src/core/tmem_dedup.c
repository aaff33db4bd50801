/*
 * tmem_dedup.c - sharing identical pages between handles (table and
 * calls: tmem_dedup.h).
 *
 * Models: KSM-style deduplication inside the store. The first page stored
 * with some contents is the "owner" of the data; later puts of identical
 * contents (in any pool of any client) become DEDUP records that point at
 * the owner, which counts them in refs (itself included while it is still a
 * handle). Flushing one handle never disturbs another: an owner whose own
 * handle goes while others still use the data is "detached" (it leaves its
 * tree and the LRU, its record stays) and is freed with the last reference.
 *
 * Candidates are found by a 32-bit hash of the stored bytes (after
 * compression; tmem_codec_hash), and always confirmed by comparing the
 * bytes: the hash alone is never trusted.
 *
 * Data structures: 16 shards chosen by hash; each an open-addressing table
 * of owner page ids (linear probing, backward-shift deletion, freed when
 * empty). A table grows by half past 13/16 load, not by doubling, so it
 * stays between 54% and 81% full: at 4 bytes a slot that is 5 to 7.4 bytes
 * a page (doubling would leave it 41% full, nearly 10 bytes a page, right
 * after growing). The capacity is then no power of two: a hash maps to its
 * home slot by multiplication ("fastrange": hash * capacity >> bits),
 * which keeps the order of hashes, as linear probing wants.
 * An owner's kind/len/value/hash never change while it is in the table.
 * Its refs saturate at TMEM_DEDUP_MAX_REFS (16 bits in the record): a full
 * owner is passed over, and the next identical page becomes a second owner.
 *
 * tmem_dedup_check verifies the tables for the invariant checker, which
 * compares each owner's refs with the records it finds using it.
 *
 * Locking: shard->lock protects the table and the refs of the owners in it.
 * Taken with or without a stripe lock held; never together with lru_lock.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <string.h>

static inline struct tmem_dedup_shard *tmem_dedup_shard_of(struct tmem *tm, uint32_t hash)
{
    return &tm->dedup[hash % TMEM_DEDUP_SHARDS];
}

/* The hash bits left after choosing the shard (28: TMEM_DEDUP_SHARDS is 16). */
#define TMEM_DEDUP_HOME_BITS 28
_Static_assert(TMEM_DEDUP_SHARDS == 16, "TMEM_DEDUP_HOME_BITS assumes 16 shards");

static inline uint32_t tmem_dedup_home(const struct tmem_dedup_shard *sh, uint32_t hash)
{
    return (uint32_t)(((uint64_t)(hash / TMEM_DEDUP_SHARDS) * sh->capacity) >>
                      TMEM_DEDUP_HOME_BITS);
}

static inline uint32_t tmem_dedup_next(const struct tmem_dedup_shard *sh, uint32_t i)
{
    return i + 1 == sh->capacity ? 0 : i + 1;
}

int tmem_dedup_init(struct tmem *tm)
{
    for (uint32_t i = 0; i < TMEM_DEDUP_SHARDS; i++) {
        memset(&tm->dedup[i], 0, sizeof(tm->dedup[i]));
        if (pthread_mutex_init(&tm->dedup[i].lock, NULL) != 0)
            return -ENOMEM;
    }
    return 0;
}

void tmem_dedup_fini(struct tmem *tm)
{
    for (uint32_t i = 0; i < TMEM_DEDUP_SHARDS; i++) {
        tmem_memory_free(tm, tm->dedup[i].slots, NULL);
        pthread_mutex_destroy(&tm->dedup[i].lock);
    }
}

static bool tmem_dedup_same_bytes(struct tmem *tm, const struct tmem_page *owner, uint32_t hash,
                                  uint8_t kind, const void *bytes, uint32_t len)
{
    return owner->hash == hash && tmem_page_kind(owner) == kind &&
           tmem_page_stored_len(tm, owner) == len &&
           memcmp((const void *)(uintptr_t)tmem_page_value(owner), bytes, len) == 0;
}

uint32_t tmem_dedup_find_and_ref(struct tmem *tm, uint32_t hash, uint8_t kind,
                                 const void *bytes, uint32_t len)
{
    struct tmem_dedup_shard *sh = tmem_dedup_shard_of(tm, hash);
    uint32_t found = 0;

    pthread_mutex_lock(&sh->lock);
    if (sh->capacity == 0)
        goto out;
    for (uint32_t i = tmem_dedup_home(sh, hash);; i = tmem_dedup_next(sh, i)) {
        uint32_t id = sh->slots[i];
        struct tmem_page *owner;
        if (!id)
            break;
        owner = tmem_page_record(tm, id);
        if (atomic_load_explicit(&owner->refs, memory_order_relaxed) < TMEM_DEDUP_MAX_REFS &&
            tmem_dedup_same_bytes(tm, owner, hash, kind, bytes, len)) {
            atomic_fetch_add_explicit(&owner->refs, 1, memory_order_relaxed);
            found = id;
            break;
        }
    }
out:
    pthread_mutex_unlock(&sh->lock);
    return found;
}

static void tmem_dedup_place(struct tmem *tm, struct tmem_dedup_shard *sh, uint32_t id)
{
    uint32_t i = tmem_dedup_home(sh, tmem_page_record(tm, id)->hash);
    while (sh->slots[i])
        i = tmem_dedup_next(sh, i);
    sh->slots[i] = id;
}

static int tmem_dedup_grow(struct tmem *tm, struct tmem_dedup_shard *sh)
{
    uint32_t old_capacity = sh->capacity;
    uint32_t *old = sh->slots;
    uint32_t capacity = old_capacity ? old_capacity + old_capacity / 2 : 64;
    uint32_t *slots = tmem_memory_zalloc(tm, (size_t)capacity * sizeof(uint32_t), NULL);

    if (!slots)
        return -ENOMEM;
    sh->slots = slots;
    sh->capacity = capacity;
    for (uint32_t i = 0; i < old_capacity; i++)
        if (old[i])
            tmem_dedup_place(tm, sh, old[i]);
    tmem_memory_free(tm, old, NULL);
    return 0;
}

int tmem_dedup_insert(struct tmem *tm, uint32_t owner_id)
{
    struct tmem_page *owner = tmem_page_record(tm, owner_id);
    struct tmem_dedup_shard *sh = tmem_dedup_shard_of(tm, owner->hash);
    int rc = 0;

    pthread_mutex_lock(&sh->lock);
    if ((uint64_t)(sh->count + 1) * 16 > (uint64_t)sh->capacity * 13) {
        rc = tmem_dedup_grow(tm, sh);
        if (rc)
            goto out;
    }
    atomic_store_explicit(&owner->refs, 1, memory_order_relaxed);
    tmem_dedup_place(tm, sh, owner_id);
    sh->count++;
out:
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

/* Remove id from the table, shifting back the entries that probed past it. */
static void tmem_dedup_delete(struct tmem *tm, struct tmem_dedup_shard *sh, uint32_t id)
{
    uint32_t i = tmem_dedup_home(sh, tmem_page_record(tm, id)->hash);

    while (sh->slots[i] != id)
        i = tmem_dedup_next(sh, i);
    for (uint32_t j = tmem_dedup_next(sh, i); sh->slots[j]; j = tmem_dedup_next(sh, j)) {
        uint32_t k = tmem_dedup_home(sh, tmem_page_record(tm, sh->slots[j])->hash);
        /* Move slots[j] into the hole at i unless its home lies in (i, j]. */
        bool home_between = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!home_between) {
            sh->slots[i] = sh->slots[j];
            i = j;
        }
    }
    sh->slots[i] = 0;
    if (--sh->count == 0) {
        tmem_memory_free(tm, sh->slots, NULL);
        sh->slots = NULL;
        sh->capacity = 0;
    }
}

bool tmem_dedup_release(struct tmem *tm, uint32_t owner_id)
{
    struct tmem_page *owner = tmem_page_record(tm, owner_id);
    struct tmem_dedup_shard *sh = tmem_dedup_shard_of(tm, owner->hash);
    bool last;

    pthread_mutex_lock(&sh->lock);
    last = atomic_fetch_sub_explicit(&owner->refs, 1, memory_order_relaxed) == 1;
    if (last)
        tmem_dedup_delete(tm, sh, owner_id);
    pthread_mutex_unlock(&sh->lock);
    return last;
}

/* ------------------------------------------------------------ checking */

/* Verify shard k's table (locked); call owner() on each entry. */
static int tmem_dedup_check_shard(struct tmem *tm, uint32_t k, struct tmem_check_report *r,
                                  int (*owner)(void *, uint32_t, uint32_t), void *arg,
                                  uint64_t *metadata_bytes)
{
    struct tmem_dedup_shard *sh = &tm->dedup[k];
    uint32_t entries = 0;

    if ((sh->capacity == 0) != (sh->slots == NULL) || (sh->capacity == 0) != (sh->count == 0))
        return tmem_check_fail(r, "dedup shard %u: capacity %u, count %u, table %s", k,
                               sh->capacity, sh->count, sh->slots ? "allocated" : "none");
    if ((uint64_t)sh->count * 16 > (uint64_t)sh->capacity * 13)
        return tmem_check_fail(r, "dedup shard %u: %u owners in %u slots, past 13/16 full",
                               k, sh->count, sh->capacity);
    *metadata_bytes += tmem_memory_usable_size(tm, sh->slots);
    for (uint32_t i = 0; i < sh->capacity; i++) {
        uint32_t id = sh->slots[i], refs;
        const struct tmem_page *p;
        int rc;

        if (!id)
            continue;
        entries++;
        if (!tmem_slab_id_plausible(&tm->pages, id))
            return tmem_check_fail(r, "dedup shard %u slot %u: %u is no page record", k, i, id);
        p = tmem_page_record(tm, id);
        if (p->hash % TMEM_DEDUP_SHARDS != k)
            return tmem_check_fail(r, "dedup owner %u (hash %#x) is in shard %u", id, p->hash,
                                   k);
        if (!tmem_page_stored_len(tm, p))
            return tmem_check_fail(r, "dedup owner %u is of kind %u, which holds no data", id,
                                   tmem_page_kind(p));
        for (uint32_t j = tmem_dedup_home(sh, p->hash); j != i; j = tmem_dedup_next(sh, j))
            if (!sh->slots[j])
                return tmem_check_fail(r, "dedup owner %u in slot %u of shard %u cannot be "
                                       "found: slot %u between its home and it is empty", id,
                                       i, k, j);
        refs = atomic_load_explicit(&p->refs, memory_order_relaxed);
        if (refs == 0)
            return tmem_check_fail(r, "dedup owner %u is in the table with no reference", id);
        rc = owner(arg, id, refs);
        if (rc)
            return rc;
    }
    if (entries != sh->count)
        return tmem_check_fail(r, "dedup shard %u: %u owners in the table, count says %u", k,
                               entries, sh->count);
    return 0;
}

int tmem_dedup_check(struct tmem *tm, struct tmem_check_report *r,
                     int (*owner)(void *arg, uint32_t id, uint32_t refs), void *arg,
                     uint64_t *metadata_bytes)
{
    for (uint32_t k = 0; k < TMEM_DEDUP_SHARDS; k++) {
        int rc;
        pthread_mutex_lock(&tm->dedup[k].lock);
        rc = tmem_dedup_check_shard(tm, k, r, owner, arg, metadata_bytes);
        pthread_mutex_unlock(&tm->dedup[k].lock);
        if (rc)
            return rc;
    }
    return 0;
}
