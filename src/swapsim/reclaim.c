/*
 * reclaim.c - page replacement: which resident page to evict.
 *
 * Models: the guest kernel's choice of victim when RAM is full.
 *   CLOCK (default): second chance; a hand sweeps the frames, clearing
 *     referenced bits, and takes the first frame in use whose bit is clear.
 *   LRU: exact least-recently-used order, an intrusive doubly linked list
 *     of frames (head = oldest), moved to the tail on every access.
 * Data structures: per-frame arrays (in-use and referenced bytes for CLOCK,
 * prev/next indices for LRU). Locking: none; the guest's lock covers it.
 */
#include <errno.h>
#include <stdlib.h>

#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

int swapsim_reclaim_init(struct swapsim_reclaimer *r, int policy, uint32_t nframes)
{
    r->policy = policy;
    r->nframes = nframes;
    r->hand = 0;
    r->head = r->tail = SWAPSIM_NONE;
    r->inuse = calloc(nframes, 1);
    r->ref = calloc(nframes, 1);
    r->prev = malloc(nframes * sizeof(uint32_t));
    r->next = malloc(nframes * sizeof(uint32_t));
    if (!r->inuse || !r->ref || !r->prev || !r->next) {
        swapsim_reclaim_fini(r);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < nframes; i++)
        r->prev[i] = r->next[i] = SWAPSIM_NONE;
    return 0;
}

void swapsim_reclaim_fini(struct swapsim_reclaimer *r)
{
    free(r->inuse);
    free(r->ref);
    free(r->prev);
    free(r->next);
    r->inuse = r->ref = NULL;
    r->prev = r->next = NULL;
}

static void lru_unlink(struct swapsim_reclaimer *r, uint32_t f)
{
    if (r->prev[f] != SWAPSIM_NONE)
        r->next[r->prev[f]] = r->next[f];
    else
        r->head = r->next[f];
    if (r->next[f] != SWAPSIM_NONE)
        r->prev[r->next[f]] = r->prev[f];
    else
        r->tail = r->prev[f];
    r->prev[f] = r->next[f] = SWAPSIM_NONE;
}

static void lru_append(struct swapsim_reclaimer *r, uint32_t f)
{
    r->prev[f] = r->tail;
    r->next[f] = SWAPSIM_NONE;
    if (r->tail != SWAPSIM_NONE)
        r->next[r->tail] = f;
    else
        r->head = f;
    r->tail = f;
}

void swapsim_reclaim_insert(struct swapsim_reclaimer *r, uint32_t frame)
{
    r->inuse[frame] = 1;
    r->ref[frame] = 1;
    if (r->policy == SWAPSIM_RECLAIM_LRU)
        lru_append(r, frame);
}

void swapsim_reclaim_touch(struct swapsim_reclaimer *r, uint32_t frame)
{
    r->ref[frame] = 1;
    if (r->policy == SWAPSIM_RECLAIM_LRU && r->tail != frame) {
        lru_unlink(r, frame);
        lru_append(r, frame);
    }
}

void swapsim_reclaim_remove(struct swapsim_reclaimer *r, uint32_t frame)
{
    if (!r->inuse[frame])
        return;
    r->inuse[frame] = 0;
    r->ref[frame] = 0;
    if (r->policy == SWAPSIM_RECLAIM_LRU)
        lru_unlink(r, frame);
}

uint32_t swapsim_reclaim_victim(struct swapsim_reclaimer *r)
{
    if (r->policy == SWAPSIM_RECLAIM_LRU)
        return r->head;
    /* At most two sweeps: the first clears every referenced bit. */
    for (uint64_t n = 0; n < 2ULL * r->nframes + 1; n++) {
        uint32_t f = r->hand;
        r->hand = (r->hand + 1) % r->nframes;
        if (!r->inuse[f])
            continue;
        if (r->ref[f]) {
            r->ref[f] = 0;
            continue;
        }
        return f;
    }
    return SWAPSIM_NONE;
}
