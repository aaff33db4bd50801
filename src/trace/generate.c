/*
 * generate.c - synthetic Zipf page traces (generate.h).
 *
 * Sampling: rejection-inversion (W. Hoermann, G. Derflinger, "Rejection-
 * inversion to generate variates from monotone discrete distributions",
 * 1996): invert the integral H of the continuous hat h(x) = x^-theta over
 * [1.5, n + 0.5], round to the nearest integer k and accept it when the
 * point falls under the histogram bar of k; the acceptance rate is high
 * (above 0.9 for the thetas in use), so a sample costs a few logs and
 * exps, whatever n. No table: 1 M or 1 G pages cost the same memory.
 * The helpers keep H and its inverse accurate when theta is near 1
 * (log1p/expm1 with a series for tiny arguments).
 *
 * Records go through trace_writer_put (checked like any other). No
 * locking: nothing shared.
 */
#include "trace/generate.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/number.h"
#include "common/rng.h"
#include "common/size.h"

#define ZIPF_THETA_MAX 100.0

/* log1p(x) / x, accurate near 0. */
static double zipf_helper1(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

/* expm1(x) / x, accurate near 0. */
static double zipf_helper2(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

/* The hat h(x) = x^-theta. */
static double zipf_h(const struct trace_zipf *z, double x)
{
    return exp(-z->theta * log(x));
}

/* H(x) = integral of h: (x^(1-theta) - 1) / (1 - theta), or log x at 1. */
static double zipf_hint(const struct trace_zipf *z, double x)
{
    double lx = log(x);
    return zipf_helper2((1.0 - z->theta) * lx) * lx;
}

static double zipf_hint_inverse(const struct trace_zipf *z, double x)
{
    double t = x * (1.0 - z->theta);
    if (t < -1.0)
        t = -1.0; /* rounding at the far end */
    return exp(zipf_helper1(t) * x);
}

int trace_zipf_init(struct trace_zipf *z, uint64_t n, double theta)
{
    memset(z, 0, sizeof(*z));
    if (n == 0 || !(theta >= 0.0) || theta > ZIPF_THETA_MAX)
        return -EINVAL;
    z->n = n;
    z->theta = theta;
    z->h_x1 = zipf_hint(z, 1.5) - 1.0;
    z->h_n = zipf_hint(z, (double)n + 0.5);
    z->s = 2.0 - zipf_hint_inverse(z, zipf_hint(z, 2.5) - zipf_h(z, 2.0));
    return 0;
}

uint64_t trace_zipf_next(const struct trace_zipf *z, uint64_t *rng)
{
    if (z->theta == 0.0)
        return rng_below(rng, z->n);
    for (;;) {
        double u = z->h_n + rng_unit(rng) * (z->h_x1 - z->h_n);
        double x = zipf_hint_inverse(z, u);
        double kd = floor(x + 0.5);
        uint64_t k;

        if (kd < 1.0)
            kd = 1.0;
        else if (kd > (double)z->n)
            kd = (double)z->n;
        k = (uint64_t)kd;
        if (kd - x <= z->s || u >= zipf_hint(z, kd + 0.5) - zipf_h(z, kd))
            return k - 1;
    }
}

void trace_generate_options_init(struct trace_generate_options *o)
{
    memset(o, 0, sizeof(*o));
    o->records = 1000000;
    o->pages = 65536;
    o->files = 1;
    o->zipf = 0.9;
    o->write_ratio = 0.0;
    o->seed = 1;
    o->kind = TRACE_KIND_FILE;
    o->page_size = 4096;
}

void trace_generate_header(const struct trace_generate_options *o, struct trace_header *h)
{
    memset(h, 0, sizeof(*h));
    h->version = TRACE_VERSION;
    h->page_size = o->page_size;
    h->kind = o->kind;
    h->flags = 0;
    h->count = o->records;
}

/* 0, or -EINVAL with the option at fault in err. */
static int generate_check(const struct trace_generate_options *o, char *err, size_t errlen)
{
    if (o->records == 0) {
        error_text_set(err, errlen, "--records: expected at least 1");
        return -EINVAL;
    }
    if (o->kind != TRACE_KIND_FILE && o->kind != TRACE_KIND_ANON) {
        error_text_set(err, errlen, "--kind: expected file or anon");
        return -EINVAL;
    }
    if (o->pages == 0 || o->pages > (1ull << 32) * (o->kind == TRACE_KIND_FILE ? o->files : 1)) {
        error_text_set(err, errlen, "--pages %llu: expected 1..2^32 (a page index is 32-bit)%s",
                       (unsigned long long)o->pages,
                       o->kind == TRACE_KIND_FILE ? " pages a file" : "");
        return -EINVAL;
    }
    if (o->kind == TRACE_KIND_FILE && (o->files == 0 || o->files > o->pages)) {
        error_text_set(err, errlen, "--files %llu: expected 1..--pages (%llu)",
                       (unsigned long long)o->files, (unsigned long long)o->pages);
        return -EINVAL;
    }
    if (!(o->zipf >= 0.0) || o->zipf > ZIPF_THETA_MAX) {
        error_text_set(err, errlen, "--zipf %g: expected a theta in 0..%g (0: uniform)", o->zipf,
                       ZIPF_THETA_MAX);
        return -EINVAL;
    }
    if (!(o->write_ratio >= 0.0 && o->write_ratio <= 1.0)) {
        error_text_set(err, errlen, "--write-ratio %g: expected 0..1", o->write_ratio);
        return -EINVAL;
    }
    return 0;
}

int trace_generate(const struct trace_generate_options *o, struct trace_writer *w, char *err,
                   size_t errlen)
{
    struct trace_zipf z;
    struct trace_record rec;
    uint64_t rng = o->seed;
    int rc = generate_check(o, err, errlen);

    if (rc)
        return rc;
    rc = trace_zipf_init(&z, o->pages, o->zipf);
    if (rc) {
        error_text_set(err, errlen, "--zipf %g: bad theta", o->zipf);
        return rc;
    }
    memset(&rec, 0, sizeof(rec));
    for (uint64_t i = 0; i < o->records; i++) {
        uint64_t k = trace_zipf_next(&z, &rng);
        bool write = o->write_ratio > 0.0 && rng_unit(&rng) < o->write_ratio;

        if (o->kind == TRACE_KIND_FILE) {
            rec.op = write ? TRACE_OP_WRITE : TRACE_OP_READ;
            rec.object = k % o->files;
            rec.value = k / o->files;
        } else {
            rec.op = write ? TRACE_OP_AWRITE : TRACE_OP_AREAD;
            rec.object = 0;
            rec.value = k;
        }
        rc = trace_writer_put(w, &rec, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ command */

const char trace_generate_usage[] =
    "       tmem-trace generate [--records N] [--pages N] [--files F] [--zipf THETA]\n"
    "                           [--write-ratio R] [--seed S] [--kind file|anon]\n"
    "                           [--page-size SIZE] [--text] OUT\n";

static int generate_usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "tmem-trace: generate: %s '%s' (see tmem-trace --help)\n", what, arg);
    return 2;
}

static bool generate_parse_double(const char *text, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(text, &end);
    return text[0] && !errno && !*end && isfinite(*out);
}

int trace_generate_command(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "records", required_argument, NULL, 'r' },
        { "pages", required_argument, NULL, 'p' },
        { "files", required_argument, NULL, 'f' },
        { "zipf", required_argument, NULL, 'z' },
        { "write-ratio", required_argument, NULL, 'w' },
        { "seed", required_argument, NULL, 's' },
        { "kind", required_argument, NULL, 'k' },
        { "page-size", required_argument, NULL, 'P' },
        { "text", no_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    struct trace_generate_options o;
    struct trace_writer *w = NULL;
    struct trace_header h;
    char err[512] = "";
    bool text = false, to_stdout;
    uint64_t v;
    int opt, rc;

    trace_generate_options_init(&o);
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (number_parse_u64(optarg, 10, 1, UINT64_MAX, &o.records))
                return generate_usage_error("--records: expected a count >= 1, got", optarg);
            break;
        case 'p':
            if (number_parse_u64(optarg, 10, 1, UINT64_MAX, &o.pages))
                return generate_usage_error("--pages: expected a count >= 1, got", optarg);
            break;
        case 'f':
            if (number_parse_u64(optarg, 10, 1, UINT64_MAX, &o.files))
                return generate_usage_error("--files: expected a count >= 1, got", optarg);
            break;
        case 'z':
            if (!generate_parse_double(optarg, &o.zipf) || o.zipf < 0 || o.zipf > ZIPF_THETA_MAX)
                return generate_usage_error("--zipf: expected a theta in 0..100, got", optarg);
            break;
        case 'w':
            if (!generate_parse_double(optarg, &o.write_ratio) || o.write_ratio < 0 ||
                o.write_ratio > 1)
                return generate_usage_error("--write-ratio: expected 0..1, got", optarg);
            break;
        case 's':
            if (number_parse_u64(optarg, 10, 0, UINT64_MAX, &o.seed))
                return generate_usage_error("--seed: expected a number, got", optarg);
            break;
        case 'k':
            if (strcmp(optarg, "file") == 0)
                o.kind = TRACE_KIND_FILE;
            else if (strcmp(optarg, "anon") == 0)
                o.kind = TRACE_KIND_ANON;
            else
                return generate_usage_error("--kind: expected file or anon, got", optarg);
            break;
        case 'P':
            if (size_parse(optarg, false, &v) || v < 512 || v > 65536 || (v & (v - 1)))
                return generate_usage_error("--page-size: expected a power of two in "
                                            "512..65536, got", optarg);
            o.page_size = (uint32_t)v;
            break;
        case 't': text = true; break;
        default:
            return generate_usage_error("unknown option or missing value in",
                                        argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return generate_usage_error("expected one OUT after the options, got",
                                    optind < argc ? argv[argc - 1] : "nothing");
    rc = generate_check(&o, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "tmem-trace: generate: %s\n", err);
        return 2;
    }
    to_stdout = strcmp(argv[optind], "-") == 0;
    trace_generate_header(&o, &h);
    if (text || to_stdout)
        h.count = TRACE_COUNT_UNKNOWN;
    rc = trace_writer_open(to_stdout ? NULL : argv[optind], to_stdout ? stdout : NULL, &h, text,
                           &w, err, sizeof(err));
    if (!rc)
        rc = trace_generate(&o, w, err, sizeof(err));
    if (w) {
        int crc = trace_writer_close(w, rc ? NULL : err, rc ? 0 : sizeof(err));
        if (!rc)
            rc = crc;
    }
    if (rc) {
        fprintf(stderr, "tmem-trace: generate: %s\n", err[0] ? err : strerror(-rc));
        if (!to_stdout)
            unlink(argv[optind]);
        return rc == -EINVAL ? 2 : 1;
    }
    return 0;
}
