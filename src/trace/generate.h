/*
 * generate.h - synthetic page traces (tmem-trace generate): N page
 * accesses drawn from a Zipf distribution over P pages, for tests,
 * benchmarks and sweeps that need a trace of a known shape.
 *
 * Pages are ranked 0..P-1 (0 the most popular); an access picks rank k
 * with probability (k+1)^-theta / H(P, theta) (theta 0: uniform). File
 * traces spread the ranks evenly over F files: rank k is page k / F of
 * file k % F (files 0..F-1, each with P / F or P / F + 1 pages); anon
 * traces use rank k as the virtual page. Each access is a write with
 * probability write_ratio, else a read (file: read/write; anon:
 * aread/awrite). Every record is its own request (no continues), no
 * timestamps. Sampling is exact and O(1) a record with O(1) memory
 * (rejection-inversion, Hoermann and Derflinger 1996); randomness is
 * common/rng.h's stream from the seed, so a seed gives the same trace on
 * every machine.
 *
 * Thread-safety: the functions are pure in their arguments; a sampler is
 * read-only after init and may be shared.
 */
#ifndef TRACE_GENERATE_H
#define TRACE_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

/* A Zipf sampler over ranks 0..n-1 with exponent theta (>= 0). */
struct trace_zipf {
    uint64_t n;
    double theta;
    /* rejection-inversion constants */
    double h_x1, h_n, s;
};

/* Set up z: 0, or -EINVAL (n 0, or theta negative, not finite or > 100). */
int trace_zipf_init(struct trace_zipf *z, uint64_t n, double theta);
/* One rank in 0..n-1 from the stream *rng (common/rng.h). */
uint64_t trace_zipf_next(const struct trace_zipf *z, uint64_t *rng);

struct trace_generate_options {
    uint64_t records;     /* accesses to write (>= 1) */
    uint64_t pages;       /* distinct pages (>= 1; file: >= files) */
    uint64_t files;       /* file traces: files the pages are spread over (>= 1) */
    double zipf;          /* theta (0: uniform) */
    double write_ratio;   /* 0..1 */
    uint64_t seed;
    enum trace_kind kind; /* TRACE_KIND_FILE or TRACE_KIND_ANON */
    uint32_t page_size;   /* header's page size */
};

/* Defaults: 1000000 records, 65536 pages, 1 file, zipf 0.9, write ratio
 * 0, seed 1, kind file, page size 4096. */
void trace_generate_options_init(struct trace_generate_options *o);

/* The header a generated trace has (count = o->records). */
void trace_generate_header(const struct trace_generate_options *o, struct trace_header *h);

/*
 * Write o->records records to w (opened with trace_generate_header's
 * header). Returns 0, -EINVAL (bad options: one line in err saying which)
 * or the writer's error (message in err).
 */
int trace_generate(const struct trace_generate_options *o, struct trace_writer *w, char *err,
                   size_t errlen);

#endif /* TRACE_GENERATE_H */

/*
 * The `tmem-trace generate [OPTIONS] OUT` command (argv[0] "generate"):
 * options as trace_generate_usage says, OUT '-' for standard output. Returns
 * the exit status: 0, 1 (I/O error), 2 (bad usage; one line on stderr).
 */
int trace_generate_command(int argc, char **argv);
extern const char trace_generate_usage[];
