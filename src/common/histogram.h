/*
 * histogram.h - latency histograms: log-linear buckets of unsigned values
 * (nanoseconds, in practice), as HdrHistogram and fio's clat percentiles
 * do it.
 *
 * Buckets: values 0..15 have one bucket each; above that, each power of
 * two [2^k, 2^(k+1)) is cut into 16 equal sub-buckets, up to 2^48 (about
 * 3 days in ns; larger values land in the last bucket). A percentile is
 * therefore exact to within 1/16 (6.25 %) of its value; count, sum, min
 * and max are exact.
 *
 * Thread safety: histogram_record may be called from any number of
 * threads at once on one histogram (relaxed atomic increments: a reader
 * sees each bucket's value at some moment, not one consistent instant);
 * so may histogram_add into dst (same atomics), and reads of a histogram
 * others record into. Every other function writes histograms the caller
 * owns.
 */
#ifndef COMMON_HISTOGRAM_H
#define COMMON_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#define HISTOGRAM_SUB_BUCKETS 16u
#define HISTOGRAM_MAX_SHIFT 48u
/* 16 exact buckets for 0..15, then 16 per power of two from 2^4 to 2^47. */
#define HISTOGRAM_BUCKETS (HISTOGRAM_SUB_BUCKETS * (HISTOGRAM_MAX_SHIFT - 4u + 1u))

struct histogram {
    _Atomic uint64_t bucket[HISTOGRAM_BUCKETS];
    _Atomic uint64_t count; /* values recorded */
    _Atomic uint64_t sum;   /* their sum (wraps only past 2^64) */
    _Atomic uint64_t min;   /* UINT64_MAX while empty */
    _Atomic uint64_t max;   /* 0 while empty */
};

/* Make h empty. */
void histogram_init(struct histogram *h);

/* Count one value. Thread-safe (see above). */
void histogram_record(struct histogram *h, uint64_t value);

/* Copy src into dst (a snapshot: each field read once). */
void histogram_copy(struct histogram *dst, const struct histogram *src);

/* Add every count of src to dst (dst's min/max/sum follow). */
void histogram_add(struct histogram *dst, const struct histogram *src);

/*
 * The value at quantile q (0 <= q <= 1; 0.5 = median, 0.99 = p99): the
 * upper edge (the largest value) of the bucket holding the
 * ceil(q * count)-th smallest value (at least the first), clamped to
 * [min, max] so p100 is max exactly; never below the true value, at most
 * 1/16 above it. 0 for an empty histogram.
 */
uint64_t histogram_quantile(const struct histogram *h, double q);

/* Mean value (0 when empty). */
double histogram_mean(const struct histogram *h);

/* The bucket index of value, and the smallest value of bucket i (tests). */
unsigned histogram_bucket_of(uint64_t value);
uint64_t histogram_bucket_low(unsigned i);

#endif /* COMMON_HISTOGRAM_H */
