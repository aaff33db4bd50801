/*
 * swapsim_internal.h - what the swapsim sources share and nobody else
 * uses: the one-line error helper (a pure inline function, thread-safe;
 * the random stream is src/common/rng.h), and frontswap (fsmap.c),
 * which only the guest drives (under its lock).
 */
#ifndef SWAPSIM_INTERNAL_H
#define SWAPSIM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error_text.h"
#include "common/rng.h"

/* ------------------------------------------------------------ fsmap.c */
/* Frontswap for one swap area (fsmap.c): the four frontswap ops onto a
 * persistent tmem pool, their counters, and the least-recently-used order
 * of the slots it holds. Owned by one guest, called under its lock. */
struct tmem_client;
struct swapsim_counters;
struct swapsim_fsmap;

/*
 * Create frontswap for an area of nslots slots, as object {type, 0, 0} of
 * pool (borrowed, of client), whose gets are exclusive if `exclusive`.
 * client NULL: frontswap off (store -ENODEV, holds nothing). The ops count
 * into *ctr (borrowed; the guest's counters). Returns 0 or -ENOMEM.
 */
int swapsim_fsmap_create(uint32_t nslots, struct tmem_client *client, int pool, uint64_t type,
                         bool exclusive, struct swapsim_counters *ctr,
                         struct swapsim_fsmap **out);
/* Free (no tmem call: invalidate the area first). Accepts NULL. */
void swapsim_fsmap_destroy(struct swapsim_fsmap *m);
/* store: put page under slot. Returns 0 (held, the newest) or the tmem_put
 * error (-ENOSPC refused, ...; no longer held: a failed put removed any
 * older copy), -ENODEV when frontswap is off, -EINVAL for a bad slot. */
int swapsim_fsmap_store(struct swapsim_fsmap *m, uint32_t slot, const void *page,
                        uint64_t now);
/* load: get slot's page. Returns 0, -ENOENT (not held), or the tmem_get
 * error (then no longer held). Exclusive gets: the copy is gone afterwards;
 * otherwise the slot stays held, now the newest. */
int swapsim_fsmap_load(struct swapsim_fsmap *m, uint32_t slot, void *page, uint64_t now);
/* invalidate_page: flush slot's copy if held. Returns 0 or the
 * tmem_flush_page error; the slot is no longer held either way. */
int swapsim_fsmap_invalidate_page(struct swapsim_fsmap *m, uint32_t slot);
/* invalidate_area: flush the whole area (flush_object), hold nothing.
 * Returns 0 or the tmem_flush_object error. */
int swapsim_fsmap_invalidate_area(struct swapsim_fsmap *m);
/* Does frontswap hold a copy of slot's page? */
bool swapsim_fsmap_holds(const struct swapsim_fsmap *m, uint32_t slot);
/* Slots held. */
uint64_t swapsim_fsmap_pages(const struct swapsim_fsmap *m);
/* The least recently stored or loaded slot held (SWAPSIM_NONE if none);
 * *touched (if not NULL) gets the access count of its last store/load. */
uint32_t swapsim_fsmap_oldest(const struct swapsim_fsmap *m, uint64_t *touched);
/* zswap's second chance (mm/zswap.c, entry->referenced): is slot held
 * with its referenced bit set? The bit is set whenever the slot is stored
 * (or re-held by a non-exclusive load). */
bool swapsim_fsmap_referenced(const struct swapsim_fsmap *m, uint32_t slot);
/* Rotate slot (held) as shrink_memcg_cb does with a referenced entry
 * (LRU_ROTATE): clear its referenced bit and make it the most recently
 * used, touched at `now` (>= every access count given so far). Returns 0
 * or -ENOENT (not held). No tmem call, nothing counted. */
int swapsim_fsmap_rotate(struct swapsim_fsmap *m, uint32_t slot, uint64_t now);
/*
 * Migration. track_begin: from now on note each slot whose frontswap
 * state changes (a store, an exclusive load, an invalidation), starting
 * with every slot held now; 0, -ENODEV (frontswap off), -EBUSY (already
 * tracking), -ENOMEM. track_pending: how many are noted. track_take: take
 * up to max of them into out (each noted once until it changes again);
 * returns how many. track_end: stop (also done by destroy).
 */
int swapsim_fsmap_track_begin(struct swapsim_fsmap *m);
uint32_t swapsim_fsmap_track_pending(const struct swapsim_fsmap *m);
uint32_t swapsim_fsmap_track_take(struct swapsim_fsmap *m, uint32_t *out, uint32_t max);
void swapsim_fsmap_track_end(struct swapsim_fsmap *m);
/*
 * Copy slot's frontswap state to pool dst_pool of client dst, same
 * handle: held -> its page is read into buf (page size bytes; the source
 * keeps its copy: an exclusive-gets pool gets it put back) and put to the
 * destination: 1, or -ENOSPC (refused: the destination holds no copy);
 * not held -> any destination copy is flushed: 0. -ESTALE: an exclusive
 * source could not take its page back, buf holds the only copy and the
 * slot is no longer held (the caller must write buf to the swap file).
 * Other negative errno: the tmem error.
 */
int swapsim_fsmap_copy_slot(struct swapsim_fsmap *m, uint32_t slot, struct tmem_client *dst,
                            int dst_pool, void *buf);
/* Take slot's page out of frontswap into buf (page size bytes) for good,
 * counting nothing (not a guest load: a migration moving it to the swap
 * file). 0, -ENOENT (not held), or the tmem error (no longer held). */
int swapsim_fsmap_take(struct swapsim_fsmap *m, uint32_t slot, void *buf);
/* From now on frontswap's pool is pool of client (the slots held, their
 * order and access counts unchanged). */
void swapsim_fsmap_switch(struct swapsim_fsmap *m, struct tmem_client *client, int pool,
                          bool exclusive);
/* Check the list against the count and the oldest-first order. Returns 0
 * or -EFAULT with the broken rule in err. */
int swapsim_fsmap_check(const struct swapsim_fsmap *m, char *err, size_t errlen);

#endif /* SWAPSIM_INTERNAL_H */
