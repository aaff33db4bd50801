/*
 * replace.h - the guest kernel's page replacement: which of its resident
 * pages to evict when memory is full. One policy object serves every
 * guest model (tmemfs's page cache of file pages, tmem-swapsim's RAM of
 * anonymous pages); pages sit in numbered frames 0 .. nframes-1.
 *
 *   CLOCK (second chance, the kernel's default approximation): a frame
 *     that starts holding a page or is accessed gets its referenced bit;
 *     the victim is the first frame in use under a sweeping hand whose
 *     bit is clear, bits being cleared as the hand passes. A sequential
 *     scan is therefore evicted in FIFO order.
 *   LRU: exact least-recently-used order (a list of frames in use, most
 *     recently used at the tail); the victim is the head.
 *
 * Not thread-safe: the owning guest serialises every call.
 */
#ifndef GUEST_REPLACE_H
#define GUEST_REPLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/index_list.h"

#define GUEST_REPLACE_NONE UINT32_MAX /* no frame */

enum guest_replace_policy { GUEST_REPLACE_CLOCK, GUEST_REPLACE_LRU };

struct guest_replace {
    enum guest_replace_policy policy;
    uint32_t nframes;
    uint32_t used;                   /* frames in use */
    uint8_t *in_use;                 /* [nframes] the frame holds a page */
    uint8_t *referenced;             /* [nframes] CLOCK's bit */
    uint32_t hand;                   /* CLOCK's next frame to look at */
    struct index_list lru;           /* LRU: head = least recently used */
    struct index_list_links *links;  /* [nframes] LRU links */
};

/* Set up for nframes (>= 1) frames, all free. Returns 0, -EINVAL (bad
 * policy or nframes) or -ENOMEM. */
int guest_replace_init(struct guest_replace *r, enum guest_replace_policy policy,
                       uint32_t nframes);
/* Free what init allocated; safe on a zeroed struct. */
void guest_replace_destroy(struct guest_replace *r);

/* Frame starts holding a page (counts as just referenced). It must be
 * free. */
void guest_replace_insert(struct guest_replace *r, uint32_t frame);
/* The page in frame (in use) was accessed. */
void guest_replace_touch(struct guest_replace *r, uint32_t frame);
/* Frame no longer holds a page (no-op if it was free). */
void guest_replace_remove(struct guest_replace *r, uint32_t frame);
/* Does frame hold a page? */
bool guest_replace_in_use(const struct guest_replace *r, uint32_t frame);
/* The frame to evict next (still in use: the caller evicts it and calls
 * guest_replace_remove), or GUEST_REPLACE_NONE when no frame is in use
 * (then nothing moves). CLOCK moves its hand and clears bits on the way. */
uint32_t guest_replace_victim(struct guest_replace *r);

/* "clock" or "lru" -> *policy: 0, or -EINVAL for any other text. */
int guest_replace_parse(const char *text, enum guest_replace_policy *policy);
/* "clock" / "lru". */
const char *guest_replace_name(enum guest_replace_policy policy);

#endif /* GUEST_REPLACE_H */
