/*
 * tmem_slab.h - fixed-size records addressed by 32-bit ids (tmem_slab.c):
 * the slab type, which struct tmem embeds twice (page records, object
 * records), and its calls.
 *
 * Ids: 0 means "none"; a record's shard is encoded in its id.
 * Thread-safe: each shard has its own lock (taken inside every other lock
 * of the store but the allocator's); tmem_slab_record takes none.
 */
#ifndef TMEM_SLAB_H
#define TMEM_SLAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem_memory.h" /* TMEM_SHARDS */

struct tmem;
struct tmem_check_report;
struct tmem_slab_chunk;

/* One thread shard's records (its fields: tmem_slab.c only). */
struct tmem_slab_shard {
    pthread_mutex_t lock;
    struct tmem_slab_chunk *partial;  /* chunks with free records */
    atomic_bool has_free;             /* partial != NULL, readable unlocked */
    uint32_t chunks;                  /* chunk slots handed out so far */
    uint32_t free_slots_top;          /* stack of reusable chunk slots */
    uint32_t *free_slots;
    uint32_t free_slots_capacity;
    struct tmem_slab_chunk **directory[1024]; /* 2 levels of 1024 chunk pointers */
};

struct tmem_slab {
    struct tmem *tm;
    uint32_t record_size;
    uint32_t records_per_chunk;
    struct tmem_slab_shard shard[TMEM_SHARDS];
};

/* An empty slab of record_size-byte records. 0 or -ENOMEM. */
int tmem_slab_init(struct tmem_slab *s, struct tmem *tm, uint32_t record_size);
/* Free every chunk (live records included). */
void tmem_slab_fini(struct tmem_slab *s);
/* A zeroed record from the calling thread's shard: its id, or 0 on ENOMEM. */
uint32_t tmem_slab_alloc(struct tmem_slab *s);
/* Give back the live record id. */
void tmem_slab_free(struct tmem_slab *s, uint32_t id);
/* The live record id (no lock: its chunk cannot go while it lives). */
void *tmem_slab_record(const struct tmem_slab *s, uint32_t id);
/* Bytes the calling thread's next tmem_slab_alloc may allocate (a chunk
 * when its shard has no free record; else 0). */
size_t tmem_slab_growth_bytes(struct tmem_slab *s);

/*
 * The invariant checker's part (tmem_check.c): verify every shard's chunks,
 * free lists and directory (taking each shard's lock in turn); count the
 * live records in *live and the metadata bytes the slab holds (chunks,
 * directories, slot stacks) in *metadata_bytes. 0, or -EUCLEAN with the
 * first broken invariant described in r.
 */
int tmem_slab_check(struct tmem_slab *s, struct tmem_check_report *r, uint64_t *live,
                    uint64_t *metadata_bytes);
/* Could id name a record handed out by s (its chunk exists, the record was
 * handed out at least once)? For the checker, before it reads the record. */
bool tmem_slab_id_plausible(struct tmem_slab *s, uint32_t id);

#endif /* TMEM_SLAB_H */
