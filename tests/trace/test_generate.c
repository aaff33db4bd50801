/*
 * test_generate.c - synthetic Zipf traces (src/trace/generate.h).
 *
 * Rules checked:
 *   - a seed gives the same trace byte for byte; another seed another one;
 *   - counts: the header's count and the records written are --records,
 *     pages stay in range (file k % F, page k / F; anon: vpage < P),
 *     writes come at about --write-ratio;
 *   - the sampler is Zipf: the frequency of rank 1 (and 2) is within 5
 *     standard deviations of 1 / H(P, theta) (resp. 2^-theta / H), for
 *     theta 0.9 and 1.2 over 1 M pages, and uniform for theta 0; no rank
 *     leaves 0..P-1;
 *   - bad options are refused with a line naming the option;
 *   - trace_reader_next_batch (the replayer's reader) returns the same
 *     records as trace_reader_next, and an error only after the good
 *     records before it.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/generate.h"
#include "trace/trace.h"

/* Generate o into memory; the bytes (malloc'ed) and their length. */
static char *generate_to_memory(const struct trace_generate_options *o, size_t *len)
{
    struct trace_header h;
    struct trace_writer *w;
    char *buf, err[256];
    FILE *f = tmpfile();
    long end;

    assert_non_null(f);
    trace_generate_header(o, &h);
    assert_int_equal(trace_writer_open(NULL, f, &h, false, &w, err, sizeof(err)), 0);
    assert_int_equal(trace_generate(o, w, err, sizeof(err)), 0);
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    end = ftell(f);
    assert_true(end > 0);
    *len = (size_t)end;
    buf = malloc(*len);
    assert_non_null(buf);
    rewind(f);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void test_deterministic(void **state)
{
    struct trace_generate_options o;
    size_t l1, l2, l3;
    char *a, *b, *c;

    (void)state;
    trace_generate_options_init(&o);
    o.records = 20000;
    o.pages = 5000;
    o.files = 3;
    o.write_ratio = 0.2;
    o.seed = 42;
    a = generate_to_memory(&o, &l1);
    b = generate_to_memory(&o, &l2);
    o.seed = 43;
    c = generate_to_memory(&o, &l3);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    assert_int_equal(l1, l3);
    assert_memory_not_equal(a, c, l1);
    free(a);
    free(b);
    free(c);
}

static void test_counts(void **state)
{
    struct trace_generate_options o;
    struct trace_reader *r;
    struct trace_record rec;
    uint64_t n = 0, writes = 0;
    size_t len;
    char *buf, err[256];
    int rc;

    (void)state;
    trace_generate_options_init(&o);
    o.records = 50000;
    o.pages = 1001;
    o.files = 4;
    o.write_ratio = 0.25;
    buf = generate_to_memory(&o, &len);
    assert_int_equal(len, TRACE_HEADER_SIZE + 50000 * TRACE_RECORD_SIZE);
    assert_int_equal(trace_reader_open_memory(buf, len, "gen", &r, err, sizeof(err)), 0);
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1) {
        n++;
        writes += rec.op == TRACE_OP_WRITE;
        assert_true(rec.op == TRACE_OP_READ || rec.op == TRACE_OP_WRITE);
        assert_true(rec.object < 4);
        /* rank k = page * 4 + file < 1001 */
        assert_true(rec.value * 4 + rec.object < 1001);
        assert_false(rec.continues);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 50000);
    assert_true(writes > 11500 && writes < 13500); /* 12500 +- 8 sd */
    trace_reader_close(r);
    free(buf);

    o.kind = TRACE_KIND_ANON;
    buf = generate_to_memory(&o, &len);
    assert_int_equal(trace_reader_open_memory(buf, len, "gen", &r, err, sizeof(err)), 0);
    assert_int_equal(trace_reader_header(r)->kind, TRACE_KIND_ANON);
    while ((rc = trace_reader_next(r, &rec, err, sizeof(err))) == 1)
        assert_true((rec.op == TRACE_OP_AREAD || rec.op == TRACE_OP_AWRITE) && rec.value < 1001);
    assert_int_equal(rc, 0);
    trace_reader_close(r);
    free(buf);
}

/* Frequencies of ranks 0 and 1 in m samples against theory. */
static void check_zipf(uint64_t n, double theta, uint64_t m)
{
    struct trace_zipf z;
    uint64_t rng = 99, c0 = 0, c1 = 0;
    double h = 0, p0, p1;

    assert_int_equal(trace_zipf_init(&z, n, theta), 0);
    for (uint64_t k = 1; k <= n; k++)
        h += pow((double)k, -theta);
    p0 = 1.0 / h;
    p1 = pow(2.0, -theta) / h;
    for (uint64_t i = 0; i < m; i++) {
        uint64_t k = trace_zipf_next(&z, &rng);
        assert_true(k < n);
        c0 += k == 0;
        c1 += k == 1;
    }
    if (n == 1)
        p1 = 0;
    if (fabs((double)c0 - p0 * m) > 5 * sqrt(m * p0 * (1 - p0)) ||
        fabs((double)c1 - p1 * m) > 5 * sqrt(m * p1 * (1 - p1)))
        fail_msg("theta %g over %llu: rank 1 %llu times (expected %.0f), rank 2 %llu (%.0f)",
                 theta, (unsigned long long)n, (unsigned long long)c0, p0 * m,
                 (unsigned long long)c1, p1 * m);
}

static void test_zipf_frequencies(void **state)
{
    (void)state;
    check_zipf(1000000, 0.9, 2000000);
    check_zipf(1000000, 1.2, 1000000);
    check_zipf(1000, 1.0, 1000000);
    check_zipf(50, 0.0, 500000);
    check_zipf(1, 0.9, 1000);
}

static void test_errors(void **state)
{
    struct trace_generate_options o;
    struct trace_zipf z;
    struct trace_header h;
    struct trace_writer *w;
    char *buf = NULL, err[256];
    size_t len;
    FILE *f;

    (void)state;
    assert_int_equal(trace_zipf_init(&z, 0, 0.9), -EINVAL);
    assert_int_equal(trace_zipf_init(&z, 10, -1), -EINVAL);
    assert_int_equal(trace_zipf_init(&z, 10, NAN), -EINVAL);
    trace_generate_options_init(&o);
    f = open_memstream(&buf, &len);
    trace_generate_header(&o, &h);
    h.count = TRACE_COUNT_UNKNOWN;
    assert_int_equal(trace_writer_open(NULL, f, &h, false, &w, err, sizeof(err)), 0);
    o.records = 0;
    assert_int_equal(trace_generate(&o, w, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--records: expected at least 1");
    o.records = 10;
    o.files = 100;
    o.pages = 10;
    assert_int_equal(trace_generate(&o, w, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--files 100: expected 1..--pages (10)");
    o.files = 1;
    o.zipf = -0.5;
    assert_int_equal(trace_generate(&o, w, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--zipf -0.5"));
    o.zipf = 0.9;
    o.write_ratio = 1.5;
    assert_int_equal(trace_generate(&o, w, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--write-ratio 1.5: expected 0..1");
    o.write_ratio = 0;
    o.kind = TRACE_KIND_BOTH;
    assert_int_equal(trace_generate(&o, w, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--kind: expected file or anon");
    assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
    fclose(f);
    free(buf);
}

static void test_batch_reader(void **state)
{
    struct trace_generate_options o;
    struct trace_reader *a, *b;
    struct trace_record one, batch[7];
    size_t len, total = 0;
    char *buf, err[256];
    int got;

    (void)state;
    trace_generate_options_init(&o);
    o.records = 1000;
    o.write_ratio = 0.5;
    buf = generate_to_memory(&o, &len);
    assert_int_equal(trace_reader_open_memory(buf, len, "a", &a, err, sizeof(err)), 0);
    assert_int_equal(trace_reader_open_memory(buf, len, "b", &b, err, sizeof(err)), 0);
    while ((got = trace_reader_next_batch(b, batch, 7, err, sizeof(err))) > 0) {
        for (int i = 0; i < got; i++) {
            assert_int_equal(trace_reader_next(a, &one, err, sizeof(err)), 1);
            assert_int_equal(one.op, batch[i].op);
            assert_int_equal(one.object, batch[i].object);
            assert_int_equal(one.value, batch[i].value);
            assert_int_equal(one.continues, batch[i].continues);
        }
        total += (size_t)got;
    }
    assert_int_equal(got, 0);
    assert_int_equal(total, 1000);
    assert_int_equal(trace_reader_next(a, &one, err, sizeof(err)), 0);
    trace_reader_close(a);
    trace_reader_close(b);
    /* cut the last record short: 999 good records, then the error */
    assert_int_equal(trace_reader_open_memory(buf, len - 5, "cut", &b, err, sizeof(err)), 0);
    total = 0;
    while ((got = trace_reader_next_batch(b, batch, 7, err, sizeof(err))) > 0)
        total += (size_t)got;
    assert_int_equal(total, 999);
    assert_int_equal(got, -EINVAL);
    assert_string_equal(err, "cut:record 1000: truncated record (27 of 32 bytes)");
    trace_reader_close(b);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_zipf_frequencies),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_batch_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
