/*
 * test_replay_file.c - data mode of tmem-replay for file traces
 * (src/replay/replay_file.c): the counters of tmemfs's real read path
 * fed with generated pages, checked against models written here.
 *
 * Rules checked (each test names its own):
 *  (a) two levels are one LRU: with guest LRU of G pages and a cleancache
 *      of C pages (compression, same-filled and dedup off), guest_hits +
 *      succ_gets equal the hits of a textbook LRU of G + C pages, and
 *      guest_hits those of an LRU of G;
 *  (b) writes invalidate: no read after a write returns the old bytes
 *      (mismatches 0) and the hits follow the LRU model in which a write
 *      removes the page;
 *  (c) truncate and unlink drop the pages they cut;
 *  (d) a capacity record changes the store's budget;
 *  (e) the series has a row every N records plus the last one, and the
 *      last row holds the final counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/rng.h"
#include "replay/replay.h"
#include "trace/generate.h"
#include "trace/trace.h"

#define PS 4096u

/* ------------------------------------------------------------- helpers */

struct recs {
    struct trace_record *r;
    size_t n, cap;
};

static void put(struct recs *v, enum trace_op op, uint64_t object, uint64_t value)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->r = realloc(v->r, v->cap * sizeof(*v->r));
        assert_non_null(v->r);
    }
    v->r[v->n++] = (struct trace_record){ 0, object, value, op, false };
}

/* Write v as a binary file trace; the path (static buffer). */
static const char *write_trace(const struct recs *v)
{
    static char path[64];
    struct trace_header h = { .version = TRACE_VERSION, .page_size = PS,
                              .kind = TRACE_KIND_FILE, .flags = 0,
                              .count = TRACE_COUNT_UNKNOWN };
    struct trace_writer *w;
    char err[256];
    int fd;

    strcpy(path, "/tmp/test-replay-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(trace_writer_open(path, NULL, &h, false, &w, err, sizeof(err)), 0);
    for (size_t i = 0; i < v->n; i++)
        assert_int_equal(trace_writer_put(w, &v->r[i], err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    return path;
}

static void config(struct replay_config *cfg, const char *path, uint64_t guest, uint64_t cap)
{
    replay_config_init(cfg);
    cfg->trace_path = path;
    cfg->guest_pages = guest;
    cfg->policy = GUEST_REPLACE_LRU;
    cfg->compressor = TMEM_COMPRESSOR_NONE;
    cfg->dedup = false;
    cfg->same_filled = false;
    cfg->tmem = cap != 0;
    cfg->capacity_pages = cap;
}

static void run(const struct replay_config *cfg, struct replay_result *res)
{
    char err[1024] = "";
    int rc = replay_run(cfg, res, err, sizeof(err));

    if (rc != 0)
        fail_msg("replay_run: %d: %s", rc, err);
    assert_int_equal(res->mismatches, 0);
}

static uint64_t hits(const struct replay_result *res)
{
    return res->counters.c[TMEMFS_GUEST_HITS] + res->counters.c[TMEMFS_SUCC_GETS];
}

/* A textbook LRU of `size` keys: an array in recency order, most recent
 * first. Written here on purpose (not src/guest/replace.c). */
struct lru {
    uint64_t *key;
    size_t n, size;
    uint64_t hits;
};

static void lru_init(struct lru *l, size_t size)
{
    l->key = calloc(size ? size : 1, sizeof(*l->key));
    assert_non_null(l->key);
    l->n = 0;
    l->size = size;
    l->hits = 0;
}

static long lru_find(const struct lru *l, uint64_t k)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->key[i] == k)
            return (long)i;
    return -1;
}

/* A read of k: a hit moves it to the front; a miss inserts it there,
 * dropping the least recent key when full. */
static void lru_read(struct lru *l, uint64_t k)
{
    long i = lru_find(l, k);

    if (l->size == 0)
        return;
    if (i >= 0) {
        l->hits++;
    } else {
        i = l->n < l->size ? (long)l->n++ : (long)l->n - 1;
    }
    memmove(l->key + 1, l->key, (size_t)i * sizeof(*l->key));
    l->key[0] = k;
}

/* A write (or another invalidation) of k: it leaves the cache. */
static void lru_drop(struct lru *l, uint64_t k)
{
    long i = lru_find(l, k);

    if (i < 0)
        return;
    memmove(l->key + i, l->key + i + 1, (l->n - (size_t)i - 1) * sizeof(*l->key));
    l->n--;
}

static uint64_t key(uint64_t file, uint64_t page)
{
    return file << 32 | page;
}

/* Replay v's reads and writes through an LRU of size pages. */
static uint64_t model_hits(const struct recs *v, size_t size)
{
    struct lru l;
    uint64_t h;

    lru_init(&l, size);
    for (size_t i = 0; i < v->n; i++) {
        const struct trace_record *r = &v->r[i];
        if (r->op == TRACE_OP_READ)
            lru_read(&l, key(r->object, r->value));
        else if (r->op == TRACE_OP_WRITE)
            lru_drop(&l, key(r->object, r->value));
    }
    h = l.hits;
    free(l.key);
    return h;
}

/* records drawn from a Zipf over `pages` ranks spread over `files` files
 * (rank k: page k / files of file k % files); a write with probability
 * write_permille / 1000. */
static void zipf_trace(struct recs *v, uint64_t records, uint64_t pages, uint64_t files,
                       unsigned write_permille, uint64_t seed)
{
    struct trace_zipf z;
    uint64_t rng = seed;

    assert_int_equal(trace_zipf_init(&z, pages, 0.9), 0);
    for (uint64_t i = 0; i < records; i++) {
        uint64_t k = trace_zipf_next(&z, &rng);
        bool write = rng_below(&rng, 1000) < write_permille;
        put(v, write ? TRACE_OP_WRITE : TRACE_OP_READ, k % files, k / files);
    }
}

/* --------------------------------------------------------------- tests */

/* Rule (a): the guest cache (LRU of G) and a private ephemeral pool of C
 * pages with destructive gets, compression / same-filled / dedup off,
 * together are one LRU of G + C pages: guest_hits + succ_gets equals a
 * textbook LRU's hits at G + C, guest_hits at G; every page read back is
 * right. For several (G, C), cleancache off (C = 0) and a C larger than
 * the trace's pages among them. */
static void test_two_levels_are_one_lru(void **state)
{
    static const uint64_t pairs[][2] = {
        { 16, 0 }, { 64, 1 }, { 64, 64 }, { 50, 300 }, { 200, 1000 }, { 32, 100000 },
    };
    struct recs v = { 0 };
    const char *path;
    (void)state;

    zipf_trace(&v, 20000, 3000, 3, 0, 7);
    path = write_trace(&v);
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct replay_config cfg;
        struct replay_result res;
        uint64_t g = pairs[i][0], c = pairs[i][1];

        config(&cfg, path, g, c);
        run(&cfg, &res);
        assert_int_equal(res.records, v.n);
        assert_int_equal(res.requests, v.n);
        assert_int_equal(res.counters.c[TMEMFS_GUEST_HITS], model_hits(&v, g));
        assert_int_equal(hits(&res), model_hits(&v, g + c));
        assert_int_equal(res.counters.c[TMEMFS_BACKING_PAGES_READ], v.n - hits(&res));
        if (c == 0)
            assert_int_equal(res.counters.c[TMEMFS_PUTS], 0);
        replay_result_free(&res);
    }
    unlink(path);
    free(v.r);
}

/* Rule (b): a write invalidates the page in both caches before any later
 * read: no read returns the bytes from before the write (every page read
 * is compared with its current version: mismatches 0), and the hits are
 * those of the LRU model in which a write removes the page. */
static void test_writes_invalidate(void **state)
{
    struct recs v = { 0 };
    const char *path;
    (void)state;

    zipf_trace(&v, 20000, 400, 2, 300, 11);
    path = write_trace(&v);
    for (uint64_t c = 0; c <= 64; c += 32) {
        struct replay_config cfg;
        struct replay_result res;

        config(&cfg, path, 16, c);
        run(&cfg, &res);
        assert_int_equal(res.counters.c[TMEMFS_GUEST_HITS], model_hits(&v, 16));
        assert_int_equal(hits(&res), model_hits(&v, 16 + c));
        assert_true(res.counters.c[TMEMFS_BACKING_PAGES_WRITTEN] > 1000);
        replay_result_free(&res);
    }
    unlink(path);
    free(v.r);
}

/* Rule (c): truncate drops the pages past the new end from both caches,
 * unlink every page of the file. Files 0 and 1 of 10 pages each are read
 * (guest 4 pages, cleancache unlimited: every page stays cached), file 0
 * is cut to 5 pages and file 1 removed, then all 20 pages are read again:
 * exactly file 0's pages 0..4 hit; the rest come from the backing files. */
static void test_truncate_and_unlink_drop_pages(void **state)
{
    struct replay_config cfg;
    struct replay_result res;
    struct recs v = { 0 };
    const char *path;
    (void)state;

    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t f = 0; f < 2; f++)
            for (uint64_t p = 0; p < 10; p++)
                put(&v, TRACE_OP_READ, f, p);
        if (pass == 0) {
            put(&v, TRACE_OP_TRUNCATE, 0, 5);
            put(&v, TRACE_OP_UNLINK, 1, 0);
        }
    }
    path = write_trace(&v);
    config(&cfg, path, 4, 0);
    cfg.tmem = true; /* unlimited */
    run(&cfg, &res);
    assert_int_equal(hits(&res), 5);
    assert_int_equal(res.counters.c[TMEMFS_BACKING_PAGES_READ], 20 + 15);
    assert_int_equal(res.records, v.n);
    replay_result_free(&res);
    unlink(path);

    /* A file whose last page is 2^32-1 cut to 0 and read again: one cut
     * recorded, not 2^32 pages walked; the page read after the cut has
     * new bytes (no mismatch: the old copies went with the cut). */
    v.n = 0;
    put(&v, TRACE_OP_READ, 3, UINT32_MAX);
    put(&v, TRACE_OP_READ, 3, 0);
    put(&v, TRACE_OP_TRUNCATE, 3, 0);
    put(&v, TRACE_OP_READ, 3, UINT32_MAX);
    put(&v, TRACE_OP_READ, 3, 0);
    put(&v, TRACE_OP_READ, 3, 0);
    path = write_trace(&v);
    config(&cfg, path, 4, 0);
    cfg.tmem = true;
    run(&cfg, &res);
    assert_int_equal(res.mismatches, 0);
    assert_int_equal(hits(&res), 1);
    assert_int_equal(res.counters.c[TMEMFS_BACKING_PAGES_READ], 4);
    replay_result_free(&res);
    unlink(path);
    free(v.r);
}

/* Rule (d): a capacity record sets the store's budget: 300 pages read
 * twice with a guest of 10 pages and an unlimited store hit 300 times
 * the second time; with "capacity 64K" between the passes the store keeps
 * at most 16 pages, so at most 16 + 10 hit (and the passes' first reads
 * are unchanged). */
static void test_capacity_record_changes_the_budget(void **state)
{
    uint64_t got[2];
    (void)state;

    for (int small = 0; small < 2; small++) {
        struct replay_config cfg;
        struct replay_result res;
        struct recs v = { 0 };
        const char *path;

        for (int pass = 0; pass < 2; pass++) {
            for (uint64_t p = 0; p < 300; p++)
                put(&v, TRACE_OP_READ, 3, p);
            if (pass == 0)
                put(&v, TRACE_OP_CAPACITY, 0, small ? 65536 : TMEM_CAPACITY_UNLIMITED);
        }
        path = write_trace(&v);
        config(&cfg, path, 10, 0);
        cfg.tmem = true;
        run(&cfg, &res);
        got[small] = hits(&res);
        assert_int_equal(res.counters.c[TMEMFS_GUEST_MISSES] + res.counters.c[TMEMFS_GUEST_HITS],
                         600);
        replay_result_free(&res);
        unlink(path);
        free(v.r);
    }
    assert_int_equal(got[0], 300);
    assert_true(got[1] <= 16 + 10);
}

/* The value of column `name` in CSV line `line` given the header. */
static uint64_t csv_value(const char *header, const char *line, const char *name)
{
    char h[8192], l[8192], *hs, *ls, *hn, *ln;

    snprintf(h, sizeof(h), "%s", header);
    snprintf(l, sizeof(l), "%s", line);
    for (hn = strtok_r(h, ",\n", &hs), ln = strtok_r(l, ",\n", &ls); hn && ln;
         hn = strtok_r(NULL, ",\n", &hs), ln = strtok_r(NULL, ",\n", &ls))
        if (strcmp(hn, name) == 0)
            return strtoull(ln, NULL, 10);
    fail_msg("no column %s", name);
    return 0;
}

/* Rule (e): a series row every series_every records and one at the end
 * (not repeated when the end falls on a row), each with the record
 * number; the last row holds the final counters. CSV (a header, then the
 * rows) and JSON (one object a line). */
static void test_series_rows_and_last_row(void **state)
{
    static const char *const names[] = { "succ_gets", "failed_gets", "puts", "guest_hits",
                                         "guest_misses", "guest_evictions",
                                         "backing_pages_read" };
    static const uint64_t lengths[] = { 1050, 1000 };
    (void)state;

    for (size_t li = 0; li < 2; li++) {
        for (int json = 0; json < 2; json++) {
            struct replay_config cfg;
            struct replay_result res;
            struct recs v = { 0 };
            char line[8192], header[8192] = "", last[8192] = "";
            size_t rows = 0;
            const char *path;
            FILE *f = tmpfile();

            assert_non_null(f);
            zipf_trace(&v, lengths[li], 500, 1, 100, 3);
            path = write_trace(&v);
            config(&cfg, path, 20, 40);
            cfg.series = f;
            cfg.series_every = 100;
            cfg.series_format = json ? REPLAY_SERIES_JSON : REPLAY_SERIES_CSV;
            run(&cfg, &res);
            rewind(f);
            if (!json)
                assert_non_null(fgets(header, sizeof(header), f));
            while (fgets(line, sizeof(line), f)) {
                rows++;
                snprintf(last, sizeof(last), "%s", line);
            }
            assert_int_equal(rows, lengths[li] / 100 + (lengths[li] % 100 != 0));
            for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
                uint64_t want = 0, got;
                for (int c = 0; c < TMEMFS_NR_COUNTERS; c++)
                    if (strcmp(tmemfs_stats_name((enum tmemfs_counter)c), names[k]) == 0)
                        want = res.counters.c[c];
                if (json) {
                    json_error_t je;
                    json_t *o = json_loads(last, 0, &je);
                    assert_non_null(o);
                    assert_int_equal(json_integer_value(json_object_get(o, "record")),
                                     lengths[li]);
                    got = (uint64_t)json_integer_value(json_object_get(o, names[k]));
                    json_decref(o);
                } else {
                    assert_int_equal(csv_value(header, last, "record"), lengths[li]);
                    got = csv_value(header, last, names[k]);
                }
                assert_int_equal(got, want);
            }
            fclose(f);
            replay_result_free(&res);
            unlink(path);
            free(v.r);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_levels_are_one_lru),
        cmocka_unit_test(test_writes_invalidate),
        cmocka_unit_test(test_truncate_and_unlink_drop_pages),
        cmocka_unit_test(test_capacity_record_changes_the_budget),
        cmocka_unit_test(test_series_rows_and_last_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
