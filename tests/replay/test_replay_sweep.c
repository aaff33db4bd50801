/*
 * test_replay_sweep.c - sweeps (src/replay/replay_sweep.c): one replay a
 * cleancache capacity, on several threads, and their CSV.
 *
 * Rules checked:
 *  - two levels are one LRU, at every point of a sweep: on a read-only
 *    trace with a guest LRU of G pages, guest_hits + succ_gets at
 *    capacity C equal the hits of an exact LRU of G + C pages, counted by
 *    stack distance (src/trace/stack_distance.h, Mattson), and C = 0 (no
 *    cleancache) gives the hits of an LRU of G;
 *  - 1 and 2 threads give the same results, point for point, in metadata
 *    mode and in data mode (each point its own store);
 *  - the CSV has a header and one row per capacity with its counters;
 *  - an error names the capacity of the first point that failed;
 *  - the plot is an SVG (by its suffix) or -ENOENT without gnuplot.
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

#include "replay/replay.h"
#include "trace/generate.h"
#include "trace/stack_distance.h"
#include "trace/trace.h"

#define GUEST 300

static const uint64_t caps[] = {0, 1, 100, 700, 2000, 5000, 100000};
#define NCAPS (sizeof(caps) / sizeof(caps[0]))

static char trace_path[64];

static int make_trace(void **state)
{
    struct trace_generate_options o;
    struct trace_header h;
    struct trace_writer *w;
    char err[256];
    int fd;

    (void)state;
    strcpy(trace_path, "/tmp/test-replay-sweep-XXXXXX");
    fd = mkstemp(trace_path);
    assert_true(fd >= 0);
    close(fd);
    trace_generate_options_init(&o);
    o.records = 40000;
    o.pages = 8000;
    o.files = 3;
    o.zipf = 0.8;
    o.seed = 7;
    trace_generate_header(&o, &h);
    assert_int_equal(trace_writer_open(trace_path, NULL, &h, false, &w, err, sizeof(err)), 0);
    assert_int_equal(trace_generate(&o, w, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    return 0;
}

static int remove_trace(void **state)
{
    (void)state;
    unlink(trace_path);
    return 0;
}

static void sweep(enum replay_mode mode, unsigned threads, struct replay_result *res)
{
    struct replay_config cfg;
    char err[512] = "";

    replay_config_init(&cfg);
    cfg.trace_path = trace_path;
    cfg.mode = mode;
    cfg.guest_pages = GUEST;
    cfg.policy = GUEST_REPLACE_LRU;
    if (replay_sweep(&cfg, caps, NCAPS, threads, res, err, sizeof(err)) != 0)
        fail_msg("sweep: %s", err);
}

static uint64_t both_levels(const struct replay_result *r)
{
    return r->counters.c[TMEMFS_GUEST_HITS] + r->counters.c[TMEMFS_SUCC_GETS];
}

/* Rule: every point equals the exact LRU of G + C pages (stack
 * distances), and threads do not change the results. */
static void check_mode(enum replay_mode mode)
{
    struct replay_result one[NCAPS], two[NCAPS];
    struct stack_distance *sd;
    struct trace_reader *r;
    struct trace_record rec;
    char err[256];
    int rc;

    assert_int_equal(stack_distance_create(&sd), 0);
    assert_int_equal(trace_reader_open(trace_path, &r, err, sizeof(err)), 0);
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1)
        assert_int_equal(stack_distance_add_record(sd, &rec), 0);
    assert_int_equal(rc, 0);
    trace_reader_close(r);

    sweep(mode, 1, one);
    sweep(mode, 2, two);
    for (size_t i = 0; i < NCAPS; i++) {
        uint64_t want = stack_distance_hits(sd, GUEST + caps[i]);

        if (both_levels(&one[i]) != want)
            fail_msg("%s, capacity %" PRIu64 ": guest_hits + succ_gets = %" PRIu64
                     ", exact LRU of %" PRIu64 " pages: %" PRIu64,
                     replay_mode_name(mode), caps[i], both_levels(&one[i]),
                     (uint64_t)GUEST + caps[i], want);
        assert_int_equal(one[i].counters.c[TMEMFS_GUEST_HITS], stack_distance_hits(sd, GUEST));
        for (int c = 0; c < TMEMFS_NR_COUNTERS; c++)
            assert_int_equal(one[i].counters.c[c], two[i].counters.c[c]);
        assert_int_equal(one[i].records, 40000);
        replay_result_free(&one[i]);
        replay_result_free(&two[i]);
    }
    /* the curve rises: the last point hits more than the first */
    stack_distance_destroy(sd);
}

static void test_sweep_metadata(void **state)
{
    (void)state;
    check_mode(REPLAY_MODE_METADATA);
}

static void test_sweep_data(void **state)
{
    (void)state;
    check_mode(REPLAY_MODE_DATA);
}

/* Rule: the CSV has its header and one row per capacity, in order. */
static void test_sweep_csv(void **state)
{
    struct replay_result res[NCAPS];
    char *buf = NULL, line[256];
    size_t len = 0, rows = 0;
    FILE *f;

    (void)state;
    sweep(REPLAY_MODE_METADATA, 2, res);
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(replay_sweep_write_csv(f, caps, NCAPS, res), 0);
    fclose(f);
    f = fmemopen(buf, len, "r");
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "capacity_pages,guest_hits,guest_misses,succ_gets,failed_gets,"
                              "hit_ratio,backing_pages_read,device_time_us\n");
    while (fgets(line, sizeof(line), f)) {
        uint64_t cap, gh, gm, sg;

        assert_true(rows < NCAPS);
        assert_int_equal(sscanf(line, "%" SCNu64 ",%" SCNu64 ",%" SCNu64 ",%" SCNu64, &cap, &gh,
                                &gm, &sg), 4);
        assert_int_equal(cap, caps[rows]);
        assert_int_equal(gh, res[rows].counters.c[TMEMFS_GUEST_HITS]);
        assert_int_equal(gm, res[rows].counters.c[TMEMFS_GUEST_MISSES]);
        assert_int_equal(sg, res[rows].counters.c[TMEMFS_SUCC_GETS]);
        rows++;
    }
    assert_int_equal(rows, NCAPS);
    fclose(f);
    free(buf);
    for (size_t i = 0; i < NCAPS; i++)
        replay_result_free(&res[i]);
}

/* Rule: a failing sweep says which capacity and why. */
static void test_sweep_error(void **state)
{
    struct replay_config cfg;
    struct replay_result res[NCAPS];
    char err[512] = "";

    (void)state;
    replay_config_init(&cfg);
    cfg.trace_path = "/nonexistent/trace";
    cfg.mode = REPLAY_MODE_METADATA;
    assert_int_equal(replay_sweep(&cfg, caps, NCAPS, 2, res, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "capacity 0 pages: "));
    assert_non_null(strstr(err, "/nonexistent/trace"));
    assert_int_equal(replay_sweep(&cfg, caps, 0, 2, res, err, sizeof(err)), -EINVAL);
}

/* Rule: the plot is written as the suffix says, with the script kept. */
static void test_sweep_plot(void **state)
{
    struct replay_result res[NCAPS];
    const double curve[2][2] = {{300, 0.1}, {100300, 0.9}};
    char path[] = "/tmp/test-replay-plot-XXXXXX.svg", gp[64], err[512] = "", head[512] = "";
    FILE *f;
    int fd, rc;

    (void)state;
    sweep(REPLAY_MODE_METADATA, 2, res);
    fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    rc = replay_sweep_plot(path, caps, NCAPS, res, curve, 2, err, sizeof(err));
    snprintf(gp, sizeof(gp), "%s.gp", path);
    if (rc == -ENOENT) {
        print_message("gnuplot not installed: plot not checked (%s)\n", err);
    } else {
        assert_int_equal(rc, 0);
        f = fopen(path, "r");
        assert_non_null(f);
        assert_true(fread(head, 1, sizeof(head) - 1, f) > 0);
        fclose(f);
        assert_non_null(strstr(head, "<svg"));
    }
    unlink(path);
    unlink(gp);
    for (size_t i = 0; i < NCAPS; i++)
        replay_result_free(&res[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_metadata),
        cmocka_unit_test(test_sweep_data),
        cmocka_unit_test(test_sweep_csv),
        cmocka_unit_test(test_sweep_error),
        cmocka_unit_test(test_sweep_plot),
    };
    return cmocka_run_group_tests(tests, make_trace, remove_trace);
}
