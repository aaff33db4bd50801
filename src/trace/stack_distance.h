/*
 * stack_distance.h - exact LRU miss-ratio curve of a trace in one pass
 * (Mattson's stack algorithm): for every cache size C in pages at once,
 * how many of the trace's page accesses an LRU cache of C pages would hit.
 *
 * The stack distance of an access is the number of OTHER distinct pages
 * accessed since this page's previous access (0 = the page was the most
 * recent one), plus the free slots (holes) that removals left above it
 * and no miss has refilled yet. An LRU cache of C pages hits the access
 * iff distance < C. An access to a page never seen, or not seen since it
 * was removed, is a cold miss (a miss at every size).
 *
 * Pages are keys: (file id, page index) for file records, the virtual page
 * for anonymous records (the two never collide). Accesses are read, write,
 * aread and awrite alike: each makes the page the most recent. Removals
 * take pages out of the cache as a real LRU cache would: the page's slot
 * becomes free (a hole in the stack), so a cache that held it holds one
 * page less until its next miss fills the slot without evicting; the
 * pages behind do NOT move up (the cache had already evicted them).
 * truncate FILE N removes the file's pages >= N, unlink FILE all its
 * pages, afree VPAGE that page; capacity records are ignored.
 *
 * Cost: O(log T) per access with T <= 4 x the stack's entries (pages and
 * holes, at most the distinct pages seen) + a hash look-up; a removal is
 * O(log T), truncate and unlink O(pages the file ever had). Memory
 * O(distinct pages seen).
 *
 * Ownership and threads: one thread per object; destroy frees it. After
 * -ENOMEM from add_record the counts may be off by that record: destroy.
 */
#ifndef TRACE_STACK_DISTANCE_H
#define TRACE_STACK_DISTANCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/trace.h"

/* Distance value reported for a cold miss. */
#define STACK_DISTANCE_COLD UINT64_MAX

struct stack_distance;

/* A new empty stack: 0 or -ENOMEM. */
int stack_distance_create(struct stack_distance **out);
void stack_distance_destroy(struct stack_distance *sd);

/*
 * Access page id (a dense id chosen by the caller, < 2^32-1): makes it the
 * most recent and counts its distance. *distance (may be NULL) gets the
 * stack distance or STACK_DISTANCE_COLD. 0 or -ENOMEM.
 */
int stack_distance_access(struct stack_distance *sd, uint32_t id, uint64_t *distance);
/* Take page id out of the stack, leaving a hole (nothing if it is not in
 * it). 0 or -ENOMEM (nothing changed). */
int stack_distance_remove(struct stack_distance *sd, uint32_t id);

/*
 * Feed one trace record: maps its page to an id and accesses or removes
 * it as the file comment says. 0, -ENOMEM, -EOVERFLOW (2^32-1 pages).
 */
int stack_distance_add_record(struct stack_distance *sd, const struct trace_record *rec);

/* Accesses counted so far, of which cold misses. */
uint64_t stack_distance_accesses(const struct stack_distance *sd);
uint64_t stack_distance_cold_misses(const struct stack_distance *sd);
/* Pages in the stack now (accessed and not removed since). */
uint64_t stack_distance_live_pages(const struct stack_distance *sd);
/* Largest useful cache size: 1 + the largest distance seen (0 if none);
 * every size >= it has the same hits. */
uint64_t stack_distance_max_useful_size(const struct stack_distance *sd);
/* Hits of an LRU cache of cache_pages pages: accesses with distance <
 * cache_pages. O(min(cache_pages, max useful size)). */
uint64_t stack_distance_hits(const struct stack_distance *sd, uint64_t cache_pages);
/*
 * Hits for sizes[0..n-1] (in any order) into hits[]: one pass over the
 * histogram when sizes is ascending. Returns 0.
 */
int stack_distance_hits_many(const struct stack_distance *sd, const uint64_t *sizes, size_t n,
                             uint64_t *hits);

/*
 * Write the curve as CSV to f: the line "pages,hits,misses,hit_ratio",
 * then one line per size in sizes[0..n-1] (misses = accesses - hits,
 * hit_ratio = hits / accesses with 6 decimals, 0 when no access).
 * 0, -ENOMEM or -EIO (a write failed).
 */
int stack_distance_write_csv(const struct stack_distance *sd, const uint64_t *sizes, size_t n,
                             FILE *f);

#endif /* TRACE_STACK_DISTANCE_H */
