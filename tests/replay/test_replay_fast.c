/*
 * test_replay_fast.c - metadata mode of tmem-replay (src/replay/
 * replay_fast.c) against data mode (tmemfs's real read path on a real
 * tmem store).
 *
 * Rule checked: with compression none, same-filled and dedup off, the
 * fast model gives IDENTICAL counters (every tmemfs counter: hits, misses,
 * gets, puts, failed puts, invalidates, invalidate_inodes, evictions,
 * guest invalidates, backing pages and bytes), identical device counts
 * (random and sequential requests, bytes read and written) and the same
 * gauges (guest pages, cleancache pages, records, requests) as data mode,
 * on random traces of reads and writes of one and many pages (continues
 * records), writes longer than tmemfs's inode threshold, truncates (short
 * and long, never to 0 on the sparse trace: data mode walks every page
 * from 0 to the old end), unlinks, capacity records (0 and unlimited, the two values
 * whose page count is exact), over several files; for CLOCK and LRU and
 * several guest sizes G and cleancache capacities C (C 0: unlimited), and
 * without tmem; with compact ids (array indexes, laid out as pages appear,
 * or from a first pass when a series is written) and with sparse ones
 * (huge file ids and page indexes: the densified path, after a restart).
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

#include "common/rng.h"
#include "replay/replay.h"
#include "trace/trace.h"

#define PS 4096u
#define FILES 4
#define FILE_PAGES 1500

struct gen {
    struct trace_writer *w;
    uint64_t rng;
    uint64_t file_mul, page_add; /* sparse ids: file x file_mul, page + page_add */
};

static void emit(struct gen *g, enum trace_op op, uint64_t file, uint64_t value, bool cont)
{
    struct trace_record rec = {0, 0, value, op, cont};
    char err[256];

    if (op != TRACE_OP_CAPACITY) {
        rec.object = file * g->file_mul;
        if (op == TRACE_OP_READ || op == TRACE_OP_WRITE)
            rec.value = value + g->page_add;
        else if (op == TRACE_OP_TRUNCATE)
            rec.value = value + g->page_add;
    }
    assert_int_equal(trace_writer_put(g->w, &rec, err, sizeof(err)), 0);
}

/* A skewed page of a file: small pages more often. */
static uint64_t skewed_page(struct gen *g)
{
    double u = rng_unit(&g->rng);
    return (uint64_t)(u * u * u * (FILE_PAGES - 40));
}

/* A random trace of n requests and events into a new temp file. */
static char *make_trace(uint64_t seed, size_t n, uint64_t file_mul, uint64_t page_add)
{
    struct trace_header h = {TRACE_VERSION, PS, TRACE_KIND_FILE, 0, TRACE_COUNT_UNKNOWN};
    struct gen g = {NULL, seed, file_mul, page_add};
    char *path = strdup("/tmp/test-replay-fast-XXXXXX"), err[256];
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(trace_writer_open(path, NULL, &h, false, &g.w, err, sizeof(err)), 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng_below(&g.rng, 1000), f = rng_below(&g.rng, FILES);
        uint64_t first = skewed_page(&g), len;

        if (r < 700) { /* read: one page, or a run of 2..32 */
            len = rng_below(&g.rng, 3) == 0 ? 2 + rng_below(&g.rng, 31) : 1;
            for (uint64_t p = 0; p < len; p++)
                emit(&g, TRACE_OP_READ, f, first + p, p > 0);
        } else if (r < 900) { /* write: short, or now and then past the inode threshold */
            len = rng_below(&g.rng, 50) == 0 ? 1030 + rng_below(&g.rng, 40)
                                              : 1 + rng_below(&g.rng, 4);
            if (first + len > FILE_PAGES)
                first = FILE_PAGES - len;
            for (uint64_t p = 0; p < len; p++)
                emit(&g, TRACE_OP_WRITE, f, first + p, p > 0);
        } else if (r < 960) { /* truncate: a little, or most of the file */
            uint64_t to = rng_below(&g.rng, 2) ? rng_below(&g.rng, 40)
                                               : rng_below(&g.rng, FILE_PAGES / 4);
            emit(&g, TRACE_OP_TRUNCATE, f, to, false);
        } else if (r < 985) {
            emit(&g, TRACE_OP_UNLINK, f, 0, false);
        } else {
            emit(&g, TRACE_OP_CAPACITY, 0, rng_below(&g.rng, 3) ? UINT64_MAX : 0, false);
        }
    }
    assert_int_equal(trace_writer_close(g.w, err, sizeof(err)), 0);
    return path;
}

static FILE *series; /* not NULL: metadata runs write a series (a first pass lays pages out) */

static void run(const char *path, enum replay_mode mode, enum guest_replace_policy policy,
                uint64_t guest, uint64_t cap, bool tmem, struct replay_result *res)
{
    struct replay_config cfg;
    char err[512] = "";
    int rc;

    replay_config_init(&cfg);
    if (series && mode == REPLAY_MODE_METADATA) {
        cfg.series = series;
        cfg.series_every = 1000;
    }
    cfg.trace_path = path;
    cfg.mode = mode;
    cfg.policy = policy;
    cfg.guest_pages = guest;
    cfg.capacity_pages = cap;
    cfg.tmem = tmem;
    memset(res, 0, sizeof(*res));
    rc = replay_run(&cfg, res, err, sizeof(err));
    if (rc)
        fail_msg("%s mode: %s", replay_mode_name(mode), err);
}

/* Every counter, the device counts and the gauges both modes fill. */
static void assert_same(const struct replay_result *d, const struct replay_result *m,
                        const char *what)
{
    bool same = true;

    for (int c = 0; c < TMEMFS_NR_COUNTERS; c++) {
        if (d->counters.c[c] != m->counters.c[c]) {
            print_error("%s: %s: data %" PRIu64 ", metadata %" PRIu64 "\n", what,
                        tmemfs_stats_name((enum tmemfs_counter)c), d->counters.c[c],
                        m->counters.c[c]);
            same = false;
        }
    }
#define SAME(field)                                                                          \
    do {                                                                                     \
        if (d->field != m->field) {                                                          \
            print_error("%s: %s: data %" PRIu64 ", metadata %" PRIu64 "\n", what, #field,    \
                        (uint64_t)d->field, (uint64_t)m->field);                             \
            same = false;                                                                    \
        }                                                                                    \
    } while (0)
    SAME(records);
    SAME(requests);
    SAME(gauges.guest_pages);
    SAME(gauges.guest_capacity);
    SAME(gauges.pool.pages);
    SAME(gauges.device.random_requests);
    SAME(gauges.device.sequential_requests);
    SAME(gauges.device.read_bytes);
    SAME(gauges.device.write_bytes);
#undef SAME
    assert_int_equal(d->mismatches, 0);
    if (!same)
        fail_msg("%s: the two modes differ", what);
}

static void compare_on(const char *path)
{
    static const uint64_t guests[] = {16, 200, 1500};
    static const uint64_t caps[] = {0, 50, 800, 5000};
    struct replay_result d, m;
    uint64_t gets = 0, inodes = 0, dropped = 0, refused = 0;
    char what[128];

    for (int pol = 0; pol < 2; pol++) {
        enum guest_replace_policy policy = pol ? GUEST_REPLACE_CLOCK : GUEST_REPLACE_LRU;

        for (size_t g = 0; g < sizeof(guests) / sizeof(guests[0]); g++) {
            for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
                snprintf(what, sizeof(what), "%s G=%" PRIu64 " C=%" PRIu64,
                         guest_replace_name(policy), guests[g], caps[c]);
                run(path, REPLAY_MODE_DATA, policy, guests[g], caps[c], true, &d);
                run(path, REPLAY_MODE_METADATA, policy, guests[g], caps[c], true, &m);
                assert_same(&d, &m, what);
                gets += m.counters.c[TMEMFS_SUCC_GETS];
                inodes += m.counters.c[TMEMFS_INVALIDATE_INODES];
                dropped += m.counters.c[TMEMFS_GUEST_INVALIDATES];
                refused += m.counters.c[TMEMFS_FAILED_PUTS];
                replay_result_free(&d);
                replay_result_free(&m);
            }
        }
        snprintf(what, sizeof(what), "%s without tmem", guest_replace_name(policy));
        run(path, REPLAY_MODE_DATA, policy, 200, 0, false, &d);
        run(path, REPLAY_MODE_METADATA, policy, 200, 0, false, &m);
        assert_same(&d, &m, what);
        replay_result_free(&d);
        replay_result_free(&m);
    }
    /* the traces exercised what they should */
    assert_true(gets > 1000);
    assert_true(inodes > 0);
    assert_true(dropped > 0);
    assert_true(refused > 0);
}

/* Rule: metadata mode equals data mode (compact ids: array indexes). */
static void test_equal_compact(void **state)
{
    (void)state;
    char *path = make_trace(11, 6000, 1, 0);

    compare_on(path); /* the layout grows as pages appear */
    series = tmpfile();
    assert_non_null(series);
    compare_on(path); /* the layout from a first pass */
    fclose(series);
    series = NULL;
    unlink(path);
    free(path);
}

/* Rule: the same with sparse ids (file ids near 2^40, page indexes near
 * 2^32: the fast model densifies them as they appear). */
static void test_equal_sparse(void **state)
{
    (void)state;
    char *path = make_trace(12, 4000, 1ull << 40, 4000000000ull);

    compare_on(path);
    unlink(path);
    free(path);
}

/* Rule: metadata mode refuses an anonymous trace with one clear line. */
static void test_anon_refused(void **state)
{
    (void)state;
    struct trace_header h = {TRACE_VERSION, PS, TRACE_KIND_ANON, 0, TRACE_COUNT_UNKNOWN};
    struct trace_record rec = {0, 0, 5, TRACE_OP_AREAD, false};
    struct trace_writer *w;
    struct replay_config cfg;
    struct replay_result res;
    char path[] = "/tmp/test-replay-fast-anon-XXXXXX", err[512] = "";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(trace_writer_open(path, NULL, &h, false, &w, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_put(w, &rec, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    replay_config_init(&cfg);
    cfg.trace_path = path;
    cfg.mode = REPLAY_MODE_METADATA;
    memset(&res, 0, sizeof(res));
    assert_int_equal(replay_run(&cfg, &res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "metadata mode replays file traces"));
    replay_result_free(&res);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_compact),
        cmocka_unit_test(test_equal_sparse),
        cmocka_unit_test(test_anon_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
