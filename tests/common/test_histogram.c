/*
 * test_histogram.c - the latency histograms (src/common/histogram.h):
 * bucket edges, quantiles exact to 1/16, copy and add, and recording
 * from several threads at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/histogram.h"
#include "common/rng.h"

/* Rule: 0..15 have a bucket each; above, each power of two is cut into 16
 * equal buckets: bucket_low(i) is the smallest value of bucket i, so it
 * and the value just below the next bucket's low land in i; values from
 * 2^48 on land in the last bucket. */
static void test_bucket_edges(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 16; v++) {
        assert_int_equal(histogram_bucket_of(v), v);
        assert_int_equal(histogram_bucket_low((unsigned)v), v);
    }
    assert_int_equal(histogram_bucket_of(16), 16);
    assert_int_equal(histogram_bucket_of(31), 31);
    assert_int_equal(histogram_bucket_of(32), 32);
    assert_int_equal(histogram_bucket_of(33), 32); /* 32..33: the first bucket of width 2 */
    assert_int_equal(histogram_bucket_of(34), 33);
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        uint64_t low = histogram_bucket_low(i);
        assert_int_equal(histogram_bucket_of(low), i);
        if (i > 0) {
            assert_true(histogram_bucket_low(i - 1) < low);
            assert_int_equal(histogram_bucket_of(low - 1), i - 1);
        }
        if (i >= 16 && i + 1 < HISTOGRAM_BUCKETS) {
            uint64_t width = histogram_bucket_low(i + 1) - low;
            /* each bucket at most 1/16 of its smallest value wide */
            assert_true(width * 16 <= low);
        }
    }
    assert_int_equal(histogram_bucket_low(HISTOGRAM_BUCKETS - 1), 31ull << 43);
    assert_int_equal(histogram_bucket_of((1ull << 48) - 1), HISTOGRAM_BUCKETS - 1);
    assert_int_equal(histogram_bucket_of(1ull << 48), HISTOGRAM_BUCKETS - 1);
    assert_int_equal(histogram_bucket_of(UINT64_MAX), HISTOGRAM_BUCKETS - 1);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Rule: histogram_quantile(q) is within 1/16 of the ceil(q n)-th smallest
 * value recorded, never below it, and p100 is the max exactly;
 * count, sum, min, max and mean are exact. Checked on values spread over
 * many orders of magnitude (up to 2^48, a log-uniform sample) and on a
 * narrow range. */
static void test_quantiles_within_one_sixteenth(void **state)
{
    enum { N = 20000 };
    static const double qs[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1};
    uint64_t *values = malloc(N * sizeof(*values));
    struct histogram *h = malloc(sizeof(*h));
    uint64_t seed = 12;

    (void)state;
    assert_non_null(values);
    assert_non_null(h);
    for (int shape = 0; shape < 2; shape++) {
        uint64_t sum = 0;
        histogram_init(h);
        assert_int_equal(histogram_quantile(h, 0.5), 0);
        for (int i = 0; i < N; i++) {
            uint64_t v = shape == 0 ? rng_next(&seed) >> (16 + rng_below(&seed, 48))
                                    : 1000 + rng_below(&seed, 200);
            values[i] = v;
            sum += v;
            histogram_record(h, v);
        }
        qsort(values, N, sizeof(*values), compare_u64);
        assert_int_equal(h->count, N);
        assert_true(h->sum == sum);
        assert_true(h->min == values[0]);
        assert_true(h->max == values[N - 1]);
        assert_true(histogram_mean(h) == (double)sum / N);
        for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
            size_t rank = (size_t)((qs[k] * N) + 0.999999);
            uint64_t want = values[rank ? rank - 1 : 0];
            uint64_t got = histogram_quantile(h, qs[k]);
            if (got < want || got - want > want / 16)
                fail_msg("shape %d q %g: %llu, the sorted values say %llu", shape, qs[k],
                         (unsigned long long)got, (unsigned long long)want);
        }
        assert_true(histogram_quantile(h, 1) == values[N - 1]);
    }
    free(values);
    free(h);
}

/* Rule: copy gives an identical histogram; add sums every bucket and the
 * count and sum, and takes the smaller min and larger max; adding an
 * empty histogram changes nothing. */
static void test_copy_and_add(void **state)
{
    struct histogram *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *c = malloc(sizeof(*c));

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    histogram_init(a);
    histogram_init(b);
    for (uint64_t v = 100; v < 200; v++)
        histogram_record(a, v);
    for (uint64_t v = 5; v < 10; v++)
        histogram_record(b, v * 1000);
    histogram_copy(c, a);
    assert_memory_equal(c, a, sizeof(*a));
    histogram_add(c, b);
    assert_int_equal(c->count, 105);
    assert_int_equal(c->sum, 14950 + 35000);
    assert_int_equal(c->min, 100);
    assert_int_equal(c->max, 9000);
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        assert_true(c->bucket[i] == a->bucket[i] + b->bucket[i]);
    histogram_init(b);
    histogram_copy(a, c);
    histogram_add(c, b);
    assert_memory_equal(c, a, sizeof(*a));
    /* into an empty one: a copy */
    histogram_add(b, a);
    assert_memory_equal(b, a, sizeof(*a));
    free(a);
    free(b);
    free(c);
}

struct recorder {
    struct histogram *h;
    uint64_t seed, sum, min, max;
};

enum { PER_THREAD = 200000 };

static void *record_many(void *arg)
{
    struct recorder *r = arg;
    r->min = UINT64_MAX;
    for (int i = 0; i < PER_THREAD; i++) {
        uint64_t v = rng_below(&r->seed, 1u << 20);
        histogram_record(r->h, v);
        r->sum += v;
        if (v < r->min)
            r->min = v;
        if (v > r->max)
            r->max = v;
    }
    return NULL;
}

/* Rule: histogram_record from several threads at once loses nothing: the
 * count, the sum, the buckets' total, min and max are exactly those of
 * every value recorded. */
static void test_concurrent_record_sums_exactly(void **state)
{
    struct histogram *h = malloc(sizeof(*h));
    struct recorder r[2];
    pthread_t t[2];
    uint64_t total = 0;

    (void)state;
    assert_non_null(h);
    histogram_init(h);
    for (int i = 0; i < 2; i++) {
        r[i] = (struct recorder){h, 1000 + (uint64_t)i, 0, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, record_many, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        total += h->bucket[i];
    assert_int_equal(h->count, 2 * PER_THREAD);
    assert_int_equal(total, 2 * PER_THREAD);
    assert_true(h->sum == r[0].sum + r[1].sum);
    assert_true(h->min == (r[0].min < r[1].min ? r[0].min : r[1].min));
    assert_true(h->max == (r[0].max > r[1].max ? r[0].max : r[1].max));
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_edges),
        cmocka_unit_test(test_quantiles_within_one_sixteenth),
        cmocka_unit_test(test_copy_and_add),
        cmocka_unit_test(test_concurrent_record_sums_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
