/*
 * tmem_dedup.h - the table of dedup owners (tmem_dedup.c): its shards,
 * which struct tmem embeds, and its calls.
 *
 * An owner is a RAW or COMPRESSED page record whose data identical pages
 * share; its refs (in the record) count the records using the data, itself
 * included while it is still a handle's page.
 *
 * Thread-safe: each shard has its own lock, taken inside a stripe lock or
 * with no lock held, never together with the LRU lock.
 */
#ifndef TMEM_DEDUP_H
#define TMEM_DEDUP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct tmem;
struct tmem_check_report;

#define TMEM_DEDUP_SHARDS 16u

/* One shard's table (its fields: tmem_dedup.c only). */
struct tmem_dedup_shard {
    union {
        struct {
            pthread_mutex_t lock;
            uint32_t *slots;   /* open addressing, linear probing; owner page ids */
            uint32_t capacity; /* 0, or 64 grown by half at a time */
            uint32_t count;
        };
        char cache_line_pad[64];
    };
};

/* Set up / free tm->dedup. init: 0 or -ENOMEM. */
int tmem_dedup_init(struct tmem *tm);
void tmem_dedup_fini(struct tmem *tm);

/* An owner whose stored bytes equal (kind, bytes, len), with hash hash
 * (tmem_codec_hash of the bytes), with one more reference taken for the
 * caller; 0 when there is none. */
uint32_t tmem_dedup_find_and_ref(struct tmem *tm, uint32_t hash, uint8_t kind,
                                 const void *bytes, uint32_t len);
/* Enter owner_id (its hash set) into the table with refs 1.
 * 0, or -ENOMEM (then it is not shared, and not in the table). */
int tmem_dedup_insert(struct tmem *tm, uint32_t owner_id);
/* Drop one reference of owner_id; true when it was the last (the owner
 * left the table; the caller frees it). */
bool tmem_dedup_release(struct tmem *tm, uint32_t owner_id);

/*
 * The invariant checker's part (tmem_check.c): verify every shard's table
 * (count, load, each owner reachable from its home slot, in the right
 * shard, at most once), calling owner(arg, id, refs) for every owner in
 * it, which may report a broken invariant by returning nonzero (then the
 * walk stops and returns that). Adds the tables' bytes to *metadata_bytes.
 * Takes each shard's lock in turn. 0, or -EUCLEAN with the first broken
 * invariant described in r.
 */
int tmem_dedup_check(struct tmem *tm, struct tmem_check_report *r,
                     int (*owner)(void *arg, uint32_t id, uint32_t refs), void *arg,
                     uint64_t *metadata_bytes);

#endif /* TMEM_DEDUP_H */
