/*
 * swapsim_internal.h - helpers shared by the swapsim sources (not public).
 * Pure inline functions; thread-safe.
 */
#ifndef SWAPSIM_INTERNAL_H
#define SWAPSIM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* splitmix64: next value of a seeded stream. */
static inline uint64_t swapsim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A 64-bit mixing function (stateless splitmix64 finaliser). */
static inline uint64_t swapsim_mix64(uint64_t x)
{
    uint64_t s = x;
    return swapsim_splitmix64(&s);
}

/* Uniform double in [0, 1). */
static inline double swapsim_unit(uint64_t *state)
{
    return (double)(swapsim_splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Write a one-line error to err (if not NULL). */
__attribute__((format(printf, 3, 4))) static inline void
swapsim_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ fsmap.c */
struct tmem_client;
struct swapsim_counters;

#define SWAPSIM_SLOT_FS   0x1u /* the slot's page is in frontswap */
#define SWAPSIM_SLOT_DISK 0x2u /* the slot's page is on the swap file */

/* The frontswap map of one swap area: per slot, where its page is, and the
 * least-recently-used order of the slots held in frontswap. */
struct swapsim_fsmap {
    struct tmem_client *client; /* NULL: frontswap off */
    int pool;
    uint64_t type;              /* object id = {type, 0, 0} */
    bool exclusive;
    uint32_t nslots;
    uint8_t *state;             /* SWAPSIM_SLOT_* per slot */
    uint32_t *owner;            /* virtual page of the slot, or SWAPSIM_NONE */
    uint32_t *prev, *next;      /* LRU list of frontswap slots */
    uint64_t *touch;            /* access count of the last store/load */
    uint32_t head, tail;        /* oldest / newest frontswap slot */
    uint64_t count;             /* slots in frontswap */
    struct swapsim_counters *ctr;
};

int swapsim_fsmap_init(struct swapsim_fsmap *m, uint32_t nslots, struct tmem_client *client,
                       int pool, uint64_t type, bool exclusive, struct swapsim_counters *ctr);
void swapsim_fsmap_fini(struct swapsim_fsmap *m);
/* Store page under slot: 0 (FS set, newest in LRU) or the tmem_put error
 * (FS cleared: a failed put removed any older copy). */
int swapsim_fsmap_store(struct swapsim_fsmap *m, uint32_t slot, const void *page,
                        uint64_t now);
/* Load slot's page: 0, or the tmem_get error. Exclusive pools: the copy is
 * gone afterwards and FS is cleared; otherwise the slot becomes newest. */
int swapsim_fsmap_load(struct swapsim_fsmap *m, uint32_t slot, void *page, uint64_t now);
/* Invalidate slot's frontswap copy (flush_page) if FS is set. Returns 0 or
 * the tmem_flush_page error. FS is cleared either way. */
int swapsim_fsmap_invalidate(struct swapsim_fsmap *m, uint32_t slot);
/* Forget FS for slot without calling tmem (the copy is already gone). */
void swapsim_fsmap_forget(struct swapsim_fsmap *m, uint32_t slot);
/* Invalidate the whole area (flush_object). Returns 0 or the error. */
int swapsim_fsmap_invalidate_area(struct swapsim_fsmap *m);

/* ---------------------------------------------------------- reclaim.c */
/* Page replacement over RAM frames: CLOCK (second chance) or exact LRU. */
struct swapsim_reclaimer {
    int policy;            /* enum swapsim_reclaim */
    uint32_t nframes;
    uint8_t *inuse, *ref;  /* CLOCK: frame holds a page / referenced bit */
    uint32_t hand;         /* CLOCK hand */
    uint32_t *prev, *next; /* LRU list, head = least recently used */
    uint32_t head, tail;
};
int swapsim_reclaim_init(struct swapsim_reclaimer *r, int policy, uint32_t nframes);
void swapsim_reclaim_fini(struct swapsim_reclaimer *r);
/* A frame starts holding a page (counts as referenced). */
void swapsim_reclaim_insert(struct swapsim_reclaimer *r, uint32_t frame);
/* The frame's page was accessed. */
void swapsim_reclaim_touch(struct swapsim_reclaimer *r, uint32_t frame);
/* The frame was freed. */
void swapsim_reclaim_remove(struct swapsim_reclaimer *r, uint32_t frame);
/* Choose a victim among frames in use (SWAPSIM_NONE if none). */
uint32_t swapsim_reclaim_victim(struct swapsim_reclaimer *r);

#endif /* SWAPSIM_INTERNAL_H */
