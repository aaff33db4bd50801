/*
 * test_stack_distance.c - exact LRU miss-ratio curves by stack distances
 * (src/trace/stack_distance.h).
 *
 * Rules checked:
 *   - distance = other distinct pages accessed since the page's previous
 *     access (0 = it was the most recent), cold misses apart, and
 *     hits(C) = accesses with distance < C: a small trace worked by hand,
 *     including a removal that moves the pages behind up one;
 *   - on seeded random traces of every op (file read/write, truncate,
 *     unlink, anon aread/awrite/afree, capacity), several lengths and key
 *     ranges, the hits equal those of a textbook LRU cache (an array in
 *     recency order, evicting its tail) simulated separately for every
 *     size 1..N+1, where removals take the page out of the cache;
 *   - a removal frees a slot rather than moving the pages behind up (a
 *     cache of C pages had already evicted them): worked by hand;
 *   - slot compaction and growth keep distances exact: a long trace over
 *     few pages (many compactions) and one over thousands of pages
 *     (doubling), with and without removals, each access's distance
 *     compared with a naive recency list with holes;
 *   - speed (printed, not asserted): accesses/s over Zipf-like ids;
 *     STACK_DISTANCE_BENCH=1 runs the full 10 M accesses over 1 M pages.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/rng.h"
#include "trace/stack_distance.h"

/* ------------------------------------------------ by hand */

static void test_small_trace_by_hand(void **state)
{
    struct stack_distance *sd;
    /* A B A C B A A: cold, cold, 1 (B), cold, 2 (A C), 2 (C B), 0 */
    const uint32_t ids[] = {0, 1, 0, 2, 1, 0, 0};
    const uint64_t want[] = {STACK_DISTANCE_COLD, STACK_DISTANCE_COLD, 1, STACK_DISTANCE_COLD,
                             2, 2, 0};
    uint64_t d;

    (void)state;
    assert_int_equal(stack_distance_create(&sd), 0);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_int_equal(stack_distance_access(sd, ids[i], &d), 0);
        assert_true(d == want[i]);
    }
    assert_int_equal(stack_distance_accesses(sd), 7);
    assert_int_equal(stack_distance_cold_misses(sd), 3);
    assert_int_equal(stack_distance_hits(sd, 0), 0);
    assert_int_equal(stack_distance_hits(sd, 1), 1);
    assert_int_equal(stack_distance_hits(sd, 2), 2);
    assert_int_equal(stack_distance_hits(sd, 3), 4);
    assert_int_equal(stack_distance_hits(sd, 100), 4);
    assert_int_equal(stack_distance_max_useful_size(sd), 3);
    /* stack now A B C; remove C: B's distance since its last access
     * counts only A */
    assert_int_equal(stack_distance_remove(sd, 2), 0);
    assert_int_equal(stack_distance_remove(sd, 2), 0); /* not in it: nothing */
    assert_int_equal(stack_distance_live_pages(sd), 2);
    assert_int_equal(stack_distance_access(sd, 1, &d), 0);
    assert_true(d == 1);
    /* C comes back cold */
    assert_int_equal(stack_distance_access(sd, 2, &d), 0);
    assert_true(d == STACK_DISTANCE_COLD);
    {
        const uint64_t sizes[] = {1, 2, 3, 2};
        uint64_t hits[4];

        assert_int_equal(stack_distance_hits_many(sd, sizes, 4, hits), 0);
        assert_int_equal(hits[0], 1);
        assert_int_equal(hits[1], 3);
        assert_int_equal(hits[2], 5);
        assert_int_equal(hits[3], 3);
    }
    /* stack C B A; removing C leaves a hole on top: an LRU cache of 2
     * pages held {C, B}, now {B}, so A misses there without evicting B:
     * A's distance counts B and the hole (2), and A's old place becomes
     * the hole, so D (cold) evicts nothing from a 3-page cache and B is
     * at distance 2 (D, A) */
    assert_int_equal(stack_distance_remove(sd, 2), 0);
    assert_int_equal(stack_distance_access(sd, 0, &d), 0);
    assert_true(d == 2);
    assert_int_equal(stack_distance_access(sd, 3, &d), 0);
    assert_true(d == STACK_DISTANCE_COLD);
    assert_int_equal(stack_distance_access(sd, 1, &d), 0);
    assert_true(d == 2);
    assert_int_equal(stack_distance_live_pages(sd), 3);
    stack_distance_destroy(sd);
}

/* ------------------------------------------------ textbook LRU */

struct ref_key {
    int file; /* 1 file page, 0 anonymous */
    uint64_t object;
    uint64_t page;
};

/* An LRU cache of `size` pages: keys[0] most recent. */
struct ref_lru {
    struct ref_key *keys;
    size_t count;
    size_t size;
    uint64_t hits;
};

static int ref_same(const struct ref_key *a, const struct ref_key *b)
{
    return a->file == b->file && a->object == b->object && a->page == b->page;
}

static void ref_take_out(struct ref_lru *c, size_t i)
{
    memmove(&c->keys[i], &c->keys[i + 1], (c->count - i - 1) * sizeof(c->keys[0]));
    c->count--;
}

static void ref_access(struct ref_lru *c, const struct ref_key *k)
{
    size_t i;

    for (i = 0; i < c->count; i++)
        if (ref_same(&c->keys[i], k))
            break;
    if (i < c->count) {
        c->hits++;
        ref_take_out(c, i);
    } else if (c->count == c->size) {
        c->count--; /* evict the least recent */
    }
    memmove(&c->keys[1], &c->keys[0], c->count * sizeof(c->keys[0]));
    c->keys[0] = *k;
    c->count++;
}

/* Remove the pages matching: file/object and page >= first (anon: page ==). */
static void ref_remove(struct ref_lru *c, int file, uint64_t object, uint64_t first)
{
    for (size_t i = 0; i < c->count;) {
        const struct ref_key *k = &c->keys[i];
        int match = file ? (k->file && k->object == object && k->page >= first)
                         : (!k->file && k->page == first);

        if (match)
            ref_take_out(c, i);
        else
            i++;
    }
}

static struct trace_record random_record(uint64_t *rng, uint64_t files, uint64_t pages)
{
    struct trace_record rec = {0};
    uint64_t roll = rng_below(rng, 100);

    if (roll < 35) {
        rec.op = roll < 25 ? TRACE_OP_READ : TRACE_OP_WRITE;
        rec.object = rng_below(rng, files);
        rec.value = rng_below(rng, pages);
    } else if (roll < 37) {
        rec.op = TRACE_OP_TRUNCATE;
        rec.object = rng_below(rng, files);
        rec.value = rng_below(rng, pages + 1);
    } else if (roll < 38) {
        rec.op = TRACE_OP_UNLINK;
        rec.object = rng_below(rng, files);
    } else if (roll < 95) {
        rec.op = roll < 80 ? TRACE_OP_AREAD : TRACE_OP_AWRITE;
        rec.value = rng_below(rng, pages * 2);
    } else if (roll < 99) {
        rec.op = TRACE_OP_AFREE;
        rec.value = rng_below(rng, pages * 2);
    } else {
        rec.op = TRACE_OP_CAPACITY;
        rec.value = 4096;
    }
    return rec;
}

static void check_random_trace(uint64_t seed, size_t length, uint64_t files, uint64_t pages)
{
    size_t max_size = files * pages + pages * 2 + 1;
    struct ref_lru *caches = calloc(max_size + 1, sizeof(*caches));
    uint64_t *sizes = calloc(max_size + 1, sizeof(*sizes));
    uint64_t *hits = calloc(max_size + 1, sizeof(*hits));
    struct stack_distance *sd;
    uint64_t rng = seed;
    uint64_t accesses = 0;

    assert_non_null(caches);
    assert_non_null(sizes);
    assert_non_null(hits);
    for (size_t s = 1; s <= max_size; s++) {
        caches[s].size = s;
        caches[s].keys = calloc(s, sizeof(struct ref_key));
        assert_non_null(caches[s].keys);
    }
    assert_int_equal(stack_distance_create(&sd), 0);
    for (size_t i = 0; i < length; i++) {
        struct trace_record rec = random_record(&rng, files, pages);
        struct ref_key k = {rec.op == TRACE_OP_READ || rec.op == TRACE_OP_WRITE, rec.object,
                            rec.value};

        assert_int_equal(stack_distance_add_record(sd, &rec), 0);
        for (size_t s = 1; s <= max_size; s++) {
            switch (rec.op) {
            case TRACE_OP_READ:
            case TRACE_OP_WRITE:
            case TRACE_OP_AREAD:
            case TRACE_OP_AWRITE: ref_access(&caches[s], &k); break;
            case TRACE_OP_TRUNCATE: ref_remove(&caches[s], 1, rec.object, rec.value); break;
            case TRACE_OP_UNLINK: ref_remove(&caches[s], 1, rec.object, 0); break;
            case TRACE_OP_AFREE: ref_remove(&caches[s], 0, 0, rec.value); break;
            default: break;
            }
        }
        if (rec.op == TRACE_OP_READ || rec.op == TRACE_OP_WRITE || rec.op == TRACE_OP_AREAD ||
            rec.op == TRACE_OP_AWRITE)
            accesses++;
    }
    assert_int_equal(stack_distance_accesses(sd), accesses);
    for (size_t s = 0; s <= max_size; s++)
        sizes[s] = s;
    assert_int_equal(stack_distance_hits_many(sd, sizes, max_size + 1, hits), 0);
    assert_int_equal(hits[0], 0);
    for (size_t s = 1; s <= max_size; s++) {
        if (stack_distance_hits(sd, s) != caches[s].hits || hits[s] != caches[s].hits)
            fail_msg("seed %llu size %zu: hits %llu (many %llu), textbook LRU %llu",
                     (unsigned long long)seed, s, (unsigned long long)stack_distance_hits(sd, s),
                     (unsigned long long)hits[s], (unsigned long long)caches[s].hits);
        free(caches[s].keys);
    }
    /* the largest cache misses only cold */
    assert_int_equal(caches[max_size].hits, accesses - stack_distance_cold_misses(sd));
    stack_distance_destroy(sd);
    free(caches);
    free(sizes);
    free(hits);
}

static void test_random_traces_match_textbook_lru(void **state)
{
    (void)state;
    check_random_trace(1, 3000, 1, 4);
    check_random_trace(2, 3000, 2, 8);
    check_random_trace(3, 4000, 3, 10);
    check_random_trace(4, 2000, 4, 16);
    check_random_trace(5, 6000, 2, 3);
}

/* ------------------------------------------------ compaction and growth */

#define REF_HOLE UINT32_MAX

static size_t ref_find(const uint32_t *list, size_t count, uint32_t what)
{
    size_t p;

    for (p = 0; p < count; p++)
        if (list[p] == what)
            break;
    return p;
}

/*
 * Distances of a trace of ids (every remove_every-th step a removal)
 * against a naive recency list with holes, as stack_distance.c's comment
 * models them: an access fills the topmost hole when it is above the page
 * or the page is cold, and the page's old place becomes the hole.
 */
static void check_distances(uint64_t seed, size_t length, uint32_t keys, uint32_t remove_every)
{
    uint32_t *list = calloc(keys + 1, sizeof(*list)); /* [0] most recent */
    size_t count = 0, pages = 0;
    struct stack_distance *sd;
    uint64_t rng = seed;

    assert_non_null(list);
    assert_int_equal(stack_distance_create(&sd), 0);
    for (size_t i = 0; i < length; i++) {
        uint32_t id = (uint32_t)rng_below(&rng, keys);
        uint64_t want = STACK_DISTANCE_COLD, got;
        size_t p = ref_find(list, count, id), h = ref_find(list, count, REF_HOLE);

        if (remove_every && i % remove_every == 0) {
            assert_int_equal(stack_distance_remove(sd, id), 0);
            if (p < count) {
                list[p] = REF_HOLE;
                pages--;
            }
            continue;
        }
        if (p < count)
            want = p;
        else
            pages++;
        if (h < p) { /* fill the hole, leave one at p */
            memmove(&list[1], &list[0], h * sizeof(*list));
            if (p < count)
                list[p] = REF_HOLE;
        } else if (p < count) {
            memmove(&list[1], &list[0], p * sizeof(*list));
        } else {
            memmove(&list[1], &list[0], count * sizeof(*list));
            count++;
        }
        list[0] = id;
        assert_int_equal(stack_distance_access(sd, id, &got), 0);
        if (got != want)
            fail_msg("seed %llu access %zu id %u: distance %llu, want %llu",
                     (unsigned long long)seed, i, id, (unsigned long long)got,
                     (unsigned long long)want);
    }
    assert_int_equal(stack_distance_live_pages(sd), pages);
    stack_distance_destroy(sd);
    free(list);
}

static void test_compaction_and_growth_keep_distances(void **state)
{
    (void)state;
    check_distances(10, 200000, 5, 0);     /* ~200 compactions of 1024 slots */
    check_distances(11, 100000, 40, 7);    /* with removals */
    check_distances(12, 60000, 5000, 0);   /* slots double past 1024 */
    check_distances(13, 60000, 3000, 11);
}

/* ------------------------------------------------ speed */

static void test_speed_is_printed(void **state)
{
    const char *bench = getenv("STACK_DISTANCE_BENCH");
    int full = bench && strcmp(bench, "1") == 0;
    size_t length = full ? 10000000 : 1000000;
    uint32_t keys = full ? 1000000 : 100000;
    double log_keys = log((double)keys);
    struct stack_distance *sd;
    struct timespec t0, t1;
    uint64_t rng = 42;
    double seconds;

    (void)state;
    assert_int_equal(stack_distance_create(&sd), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < length; i++) {
        /* density ~ 1/x on [1, keys]: Zipf with exponent 1 */
        uint32_t id = (uint32_t)exp(rng_unit(&rng) * log_keys) - 1;

        assert_int_equal(stack_distance_access(sd, id % keys, NULL), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("stack_distance: %zu accesses over %u Zipf-like ids: %.3f s, %.2f M accesses/s, "
           "%llu cold\n",
           length, keys, seconds, (double)length / seconds / 1e6,
           (unsigned long long)stack_distance_cold_misses(sd));
    stack_distance_destroy(sd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_trace_by_hand),
        cmocka_unit_test(test_random_traces_match_textbook_lru),
        cmocka_unit_test(test_compaction_and_growth_keep_distances),
        cmocka_unit_test(test_speed_is_printed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
