/*
 * workload.c - built-in access generators.
 *
 * Models: a program's page-access stream. All generators are seeded
 * (splitmix64) and reproducible: the same config gives the same stream.
 *   uniform  every page equally likely
 *   zipf     page rank r with probability ~ 1/r^alpha; ranks are scattered
 *            over the address space by a seeded permutation
 *   seq      sequential scans, wrapping around (LRU's worst case)
 *   phase    uniform inside a working set of phase_pages that moves to a
 *            new random place every phase_length accesses
 *   mix      per access: zipf 60%, seq 20%, phase 20%
 * Each access is a write with probability write_permille/1000 and an unmap
 * with unmap_permille/1000, else a read.
 * Data structures: the Zipf CDF (one double per page, binary searched) and
 * the rank permutation. Locking: none; one thread per workload.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/number.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

struct gen {
    struct swapsim_workload base;
    struct swapsim_gen_config cfg;
    uint64_t rng;
    uint64_t done;
    uint64_t seq_pos;
    double *cdf;   /* zipf: cdf[r] = P(rank <= r) */
    uint32_t *perm; /* zipf: rank -> page */
};

static const char *const kind_names[] = {"uniform", "zipf", "seq", "phase", "mix"};

void swapsim_gen_config_init(struct swapsim_gen_config *gc, uint32_t vpages, uint64_t accesses)
{
    memset(gc, 0, sizeof(*gc));
    gc->kind = SWAPSIM_GEN_ZIPF;
    gc->vpages = vpages;
    gc->accesses = accesses;
    gc->seed = 1;
    gc->write_permille = 300;
    gc->zipf_alpha = 0.99;
}

int swapsim_gen_kind_parse(const char *name, enum swapsim_gen_kind *out)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum swapsim_gen_kind)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *swapsim_gen_kind_name(enum swapsim_gen_kind kind)
{
    return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

static uint32_t below(uint64_t *rng, uint32_t n)
{
    return (uint32_t)(((unsigned __int128)rng_next(rng) * n) >> 64);
}

static uint32_t zipf_page(struct gen *g)
{
    double u = rng_unit(&g->rng);
    uint32_t lo = 0, hi = g->cfg.vpages - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return g->perm[lo];
}

static uint32_t phase_page(struct gen *g)
{
    uint64_t phase = g->done / g->cfg.phase_length;
    uint32_t base = (uint32_t)(hash_mix64(g->cfg.seed ^ (phase * 0x9e37u + 17)) %
                               g->cfg.vpages);
    return (base + below(&g->rng, g->cfg.phase_pages)) % g->cfg.vpages;
}

static int gen_next(struct swapsim_workload *w, struct swapsim_access *acc)
{
    struct gen *g = (struct gen *)w;
    enum swapsim_gen_kind kind = g->cfg.kind;
    uint32_t r;

    if (g->done >= g->cfg.accesses)
        return 0;
    if (kind == SWAPSIM_GEN_MIX) {
        r = below(&g->rng, 10);
        kind = r < 6 ? SWAPSIM_GEN_ZIPF : r < 8 ? SWAPSIM_GEN_SEQ : SWAPSIM_GEN_PHASE;
    }
    switch (kind) {
    case SWAPSIM_GEN_ZIPF:
        acc->vpage = zipf_page(g);
        break;
    case SWAPSIM_GEN_SEQ:
        acc->vpage = (uint32_t)(g->seq_pos++ % g->cfg.vpages);
        break;
    case SWAPSIM_GEN_PHASE:
        acc->vpage = phase_page(g);
        break;
    default:
        acc->vpage = below(&g->rng, g->cfg.vpages);
        break;
    }
    r = below(&g->rng, 1000);
    acc->op = r < g->cfg.unmap_permille                            ? SWAPSIM_UNMAP
              : r < g->cfg.unmap_permille + g->cfg.write_permille ? SWAPSIM_WRITE
                                                                  : SWAPSIM_READ;
    acc->timestamp = g->done;
    g->done++;
    return 1;
}

static void gen_destroy(struct swapsim_workload *w)
{
    struct gen *g = (struct gen *)w;
    free(g->cdf);
    free(g->perm);
    free(g);
}

static const struct swapsim_workload_ops gen_ops = {
    .name = "generator",
    .next = gen_next,
    .destroy = gen_destroy,
};

int swapsim_gen_config_check(const struct swapsim_gen_config *gc, char *err, size_t errlen)
{
    /* the shares are kept in per mille but given (--writes, --unmaps) and
     * reported in percent */
    if ((uint64_t)gc->write_permille + gc->unmap_permille > 1000) {
        error_text_set(err, errlen, "workload: writes %g%% + unmaps %g%% = %g%% of accesses, "
                       "more than 100%%", gc->write_permille / 10.0, gc->unmap_permille / 10.0,
                       ((double)gc->write_permille + gc->unmap_permille) / 10.0);
        return -EINVAL;
    }
    if (!(gc->zipf_alpha > 0.0) || gc->zipf_alpha > 10.0) {
        error_text_set(err, errlen, "workload: zipf alpha must be in (0, 10], got %g",
                       gc->zipf_alpha);
        return -EINVAL;
    }
    return 0;
}

int swapsim_gen_create(const struct swapsim_gen_config *gc, struct swapsim_workload **out,
                       char *err, size_t errlen)
{
    struct gen *g = NULL;

    *out = NULL;
    if (gc->vpages == 0) {
        error_text_set(err, errlen, "workload: the address space is empty");
        return -EINVAL;
    }
    if ((unsigned)gc->kind > SWAPSIM_GEN_MIX) {
        error_text_set(err, errlen, "workload: unknown generator %d", (int)gc->kind);
        return -EINVAL;
    }
    if (swapsim_gen_config_check(gc, err, errlen) != 0)
        return -EINVAL;
    g = calloc(1, sizeof(*g));
    if (!g)
        goto nomem;
    g->base.ops = &gen_ops;
    g->cfg = *gc;
    g->rng = hash_mix64(gc->seed ^ 0x6a09e667f3bcc908ULL);
    if (g->cfg.phase_pages == 0 || g->cfg.phase_pages > g->cfg.vpages)
        g->cfg.phase_pages = g->cfg.vpages / 4 ? g->cfg.vpages / 4 : 1;
    if (g->cfg.phase_length == 0)
        g->cfg.phase_length = g->cfg.accesses / 4 ? g->cfg.accesses / 4 : 1;
    if (gc->kind == SWAPSIM_GEN_ZIPF || gc->kind == SWAPSIM_GEN_MIX) {
        uint32_t n = gc->vpages;
        double sum = 0.0;
        g->cdf = malloc(n * sizeof(double));
        g->perm = malloc(n * sizeof(uint32_t));
        if (!g->cdf || !g->perm)
            goto nomem;
        for (uint32_t r = 0; r < n; r++) {
            sum += 1.0 / pow((double)r + 1.0, gc->zipf_alpha);
            g->cdf[r] = sum;
        }
        for (uint32_t r = 0; r < n; r++)
            g->cdf[r] /= sum;
        g->cdf[n - 1] = 1.0;
        for (uint32_t r = 0; r < n; r++)
            g->perm[r] = r;
        for (uint32_t r = n - 1; r > 0; r--) {
            uint32_t j = below(&g->rng, r + 1);
            uint32_t t = g->perm[r];
            g->perm[r] = g->perm[j];
            g->perm[j] = t;
        }
    }
    *out = &g->base;
    return 0;
nomem:
    if (g)
        gen_destroy(&g->base);
    error_text_set(err, errlen, "workload: out of memory");
    return -ENOMEM;
}

int swapsim_workload_next(struct swapsim_workload *w, struct swapsim_access *acc)
{
    return w->ops->next(w, acc);
}

const char *swapsim_workload_error(const struct swapsim_workload *w)
{
    return w->error;
}

void swapsim_workload_destroy(struct swapsim_workload *w)
{
    if (w)
        w->ops->destroy(w);
}

/* ------------------------------------------------- command-line options */

/* A percentage with decimals, in per mille (rounded). */
static int gen_option_percent(const char *s, uint32_t *permille)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0) || v > 100.0)
        return -EINVAL;
    *permille = (uint32_t)(v * 10.0 + 0.5);
    return 0;
}

int swapsim_gen_option_parse(const char *name, const char *arg, struct swapsim_gen_config *gc,
                             struct swapsim_content_mix *mix, char *err, size_t errlen)
{
    const char *what = NULL;
    uint64_t v;

    if (strcmp(name, "workload") == 0) {
        if (swapsim_gen_kind_parse(arg, &gc->kind))
            what = "expected uniform, zipf, seq, phase or mix";
    } else if (strcmp(name, "accesses") == 0) {
        if (number_parse_u64(arg, 10, 1, UINT64_MAX / 2, &gc->accesses))
            what = "expected a positive number";
    } else if (strcmp(name, "zipf-alpha") == 0) {
        char *end;
        double alpha;

        errno = 0;
        alpha = strtod(arg, &end);
        if (errno || end == arg || *end || !(alpha > 0) || alpha > 10)
            what = "expected a number in (0, 10]";
        else
            gc->zipf_alpha = alpha;
    } else if (strcmp(name, "writes") == 0) {
        if (gen_option_percent(arg, &gc->write_permille))
            what = "expected a percentage 0..100";
    } else if (strcmp(name, "unmaps") == 0) {
        if (gen_option_percent(arg, &gc->unmap_permille))
            what = "expected a percentage 0..100";
    } else if (strcmp(name, "phase-pages") == 0) {
        if (number_parse_u64(arg, 10, 1, UINT32_MAX, &v))
            what = "expected a positive number of pages";
        else
            gc->phase_pages = (uint32_t)v;
    } else if (strcmp(name, "phase-length") == 0) {
        if (number_parse_u64(arg, 10, 1, UINT64_MAX, &gc->phase_length))
            what = "expected a positive number of accesses";
    } else if (strcmp(name, "content") == 0) {
        struct swapsim_content_mix m = *mix;
        double z, d, c;
        char extra;

        if (sscanf(arg, "%lf,%lf,%lf%c", &z, &d, &c, &extra) != 3 || z < 0 || d < 0 || c < 0 ||
            z + d + c > 100.0001) {
            what = "expected Z,D,C percentages adding up to <= 100";
        } else {
            m.zero_permille = (uint32_t)(z * 10 + 0.5);
            m.dup_permille = (uint32_t)(d * 10 + 0.5);
            m.compressible_permille = (uint32_t)(c * 10 + 0.5);
            if (swapsim_content_mix_check(&m))
                what = "percentages add up to more than 100";
            else
                *mix = m;
        }
    } else {
        return 0;
    }
    if (what) {
        error_text_set(err, errlen, "--%s '%s': %s", name, arg, what);
        return -EINVAL;
    }
    return 1;
}
