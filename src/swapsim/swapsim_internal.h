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
/* Check the list against the count and the oldest-first order. Returns 0
 * or -EFAULT with the broken rule in err. */
int swapsim_fsmap_check(const struct swapsim_fsmap *m, char *err, size_t errlen);

#endif /* SWAPSIM_INTERNAL_H */
