/*
 * histogram.c - latency histograms (histogram.h): log-linear buckets of
 * unsigned values, recorded from any number of threads at once.
 *
 * Buckets: 0..15 one value each (bucket i holds i); from 16 on, value v
 * with k = floor(log2 v) (4 <= k <= 47) falls into bucket
 * 16 + 16 (k - 4) + the 4 bits of v after its leading one, so each power
 * of two is cut into 16 equal parts of 2^(k-4) values; v >= 2^48 goes to
 * the last bucket. A bucket's width is at most 1/16 of its smallest
 * value, which is what makes a quantile exact to 1/16.
 *
 * Data: one array of atomic counters, plus count, sum, min and max. No
 * lock: histogram_record is a relaxed atomic add on a bucket, the count
 * and the sum, and a compare-and-swap on min or max only when the value
 * is a new extreme. histogram_add adds with the same atomics, so a total
 * may be added into while others record into or read it.
 */
#include "common/histogram.h"

#include <math.h>

#define HISTOGRAM_LINEAR 16u /* values 0..15: one bucket each */

unsigned histogram_bucket_of(uint64_t value)
{
    unsigned k;

    if (value < HISTOGRAM_LINEAR)
        return (unsigned)value;
    k = 63u - (unsigned)__builtin_clzll(value);
    if (k >= HISTOGRAM_MAX_SHIFT)
        return HISTOGRAM_BUCKETS - 1;
    return HISTOGRAM_LINEAR + HISTOGRAM_SUB_BUCKETS * (k - 4) +
           (unsigned)((value >> (k - 4)) & (HISTOGRAM_SUB_BUCKETS - 1));
}

uint64_t histogram_bucket_low(unsigned i)
{
    unsigned k, sub;

    if (i < HISTOGRAM_LINEAR)
        return i;
    k = 4 + (i - HISTOGRAM_LINEAR) / HISTOGRAM_SUB_BUCKETS;
    sub = (i - HISTOGRAM_LINEAR) % HISTOGRAM_SUB_BUCKETS;
    return (uint64_t)(HISTOGRAM_SUB_BUCKETS + sub) << (k - 4);
}

/* The largest value bucket i holds (the last one: everything above). */
static uint64_t histogram_bucket_high(unsigned i)
{
    if (i + 1 >= HISTOGRAM_BUCKETS)
        return UINT64_MAX;
    return histogram_bucket_low(i + 1) - 1;
}

void histogram_init(struct histogram *h)
{
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        atomic_init(&h->bucket[i], 0);
    atomic_init(&h->count, 0);
    atomic_init(&h->sum, 0);
    atomic_init(&h->min, UINT64_MAX);
    atomic_init(&h->max, 0);
}

static inline uint64_t histogram_load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static inline void histogram_bump(_Atomic uint64_t *v, uint64_t n)
{
    atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

/* Lower *v to value if value is smaller (raise it if larger, with max). */
static void histogram_lower(_Atomic uint64_t *v, uint64_t value)
{
    uint64_t old = histogram_load(v);
    while (value < old &&
           !atomic_compare_exchange_weak_explicit(v, &old, value, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

static void histogram_raise(_Atomic uint64_t *v, uint64_t value)
{
    uint64_t old = histogram_load(v);
    while (value > old &&
           !atomic_compare_exchange_weak_explicit(v, &old, value, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void histogram_record(struct histogram *h, uint64_t value)
{
    histogram_bump(&h->bucket[histogram_bucket_of(value)], 1);
    histogram_bump(&h->count, 1);
    histogram_bump(&h->sum, value);
    histogram_lower(&h->min, value);
    histogram_raise(&h->max, value);
}

void histogram_copy(struct histogram *dst, const struct histogram *src)
{
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        atomic_store_explicit(&dst->bucket[i], histogram_load(&src->bucket[i]),
                              memory_order_relaxed);
    atomic_store_explicit(&dst->count, histogram_load(&src->count), memory_order_relaxed);
    atomic_store_explicit(&dst->sum, histogram_load(&src->sum), memory_order_relaxed);
    atomic_store_explicit(&dst->min, histogram_load(&src->min), memory_order_relaxed);
    atomic_store_explicit(&dst->max, histogram_load(&src->max), memory_order_relaxed);
}

void histogram_add(struct histogram *dst, const struct histogram *src)
{
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        uint64_t n = histogram_load(&src->bucket[i]);
        if (n)
            histogram_bump(&dst->bucket[i], n);
    }
    histogram_bump(&dst->count, histogram_load(&src->count));
    histogram_bump(&dst->sum, histogram_load(&src->sum));
    histogram_lower(&dst->min, histogram_load(&src->min));
    histogram_raise(&dst->max, histogram_load(&src->max));
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
    uint64_t count = 0, rank, seen = 0, value, min, max;
    unsigned i;

    /* the buckets, not h->count, decide: a snapshot taken while others
     * record may see a bucket's increment before the count's */
    for (i = 0; i < HISTOGRAM_BUCKETS; i++)
        count += histogram_load(&h->bucket[i]);
    if (count == 0)
        return 0;
    if (!(q > 0)) /* also NaN */
        q = 0;
    if (q > 1)
        q = 1;
    rank = (uint64_t)ceil(q * (double)count);
    if (rank < 1)
        rank = 1;
    if (rank > count)
        rank = count;
    for (i = 0; i < HISTOGRAM_BUCKETS - 1; i++) {
        seen += histogram_load(&h->bucket[i]);
        if (seen >= rank)
            break;
    }
    value = histogram_bucket_high(i);
    min = histogram_load(&h->min);
    max = histogram_load(&h->max);
    if (value > max)
        value = max;
    if (value < min)
        value = min;
    return value;
}

double histogram_mean(const struct histogram *h)
{
    uint64_t count = histogram_load(&h->count);
    return count ? (double)histogram_load(&h->sum) / (double)count : 0.0;
}
