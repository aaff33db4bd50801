/*
 * core_bench.c - speed and footprint of the tmem core (`make bench`).
 *
 * Every number is a ratio against a baseline measured in the same run on
 * the same pages, so it means the same on any machine:
 *  1. put+get of 4 KiB pages, compression and dedup off, against copying
 *     the same pages into and back out of a plain array (two memcpy).
 *  2. put+get with lz4 (the default compressor), against raw
 *     LZ4_compress_default + LZ4_decompress_safe of the same pages; and
 *     with zstd at its default level (3), against raw ZSTD_compressCCtx +
 *     ZSTD_decompressDCtx, with what each keeps of the pages.
 *  3. 2-thread scaling: two threads, each its own client and pool, against
 *     one thread doing the same work.
 *  4. store growth: puts into a fresh store (its memory faulted in), with
 *     huge pages (the default) against 4 KiB pages.
 *  5. metadata bytes per stored page, default config and dedup off.
 * Best of RUNS timed rounds of each, after warm-up rounds, the store's
 * rounds interleaved with its baselines' (time_against), every thread
 * pinned to a CPU.
 *
 * Usage: core_bench [pages [corpus paths...]]: pages (default 65536) are
 * cut from the files under the corpus paths (directories walked in name
 * order), or synthetic without any; `make bench` gives it this project's
 * own sources, documents and binaries (tools/bench/core-bench.sh), since
 * how fast lz4 runs, and so what a store's overhead weighs against it,
 * depends on real contents.
 *
 * core_bench --hash [pages [corpus paths...]]: the dedup content hash
 * instead. The hash the core uses (tmem_codec_hash: XXH3 from libxxhash,
 * inlined) against the hand-written 4-lane multiply-xor hash it used
 * before (kept below as that baseline), against XXH3_64bits called in the
 * shared library, on 4 KiB pages in cache (the store hashes a page it has
 * just read or compressed) and streamed from memory; then uncompressed
 * put+get with dedup on (the default: every put hashes its page) against
 * two memcpy. Rounds interleaved as above; ratios against the old hash.
 */
#include "core/tmem.h"
#include "core/tmem_internal.h" /* tmem_codec_hash, the core's content hash */

#include <xxhash.h> /* the library's XXH3_64bits, then the inlined one below */
static XXH64_hash_t xxh3_library(const void *p, size_t len)
{
    return XXH3_64bits(p, len);
}
#define XXH_INLINE_ALL
#include <xxhash.h>
static XXH64_hash_t xxh3_inline(const void *p, size_t len)
{
    return XXH3_64bits(p, len);
}

#include <errno.h>
#include <lz4.h>
#include <zstd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u
#define RUNS 5
#define WARMUP 2

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Synthetic page i (no corpus given): half text-like, half pseudo-random. */
static void fill_synthetic_page(unsigned char *p, uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ull + 1;
    for (unsigned j = 0; j < PAGE / 2; j++)
        p[j] = (unsigned char)("the quick brown fox jumps over the lazy dog "[(j + i) % 44]);
    for (unsigned j = PAGE / 2; j < PAGE; j += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(p + j, &x, 8);
    }
}

/* The bytes of every regular file under some paths, concatenated. */
struct corpus {
    unsigned char *bytes;
    size_t len, cap;
    size_t files;
};

static void corpus_add_file(struct corpus *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f) {
        fprintf(stderr, "core_bench: cannot read %s: %s\n", path, strerror(errno));
        exit(2);
    }
    do {
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? 2 * c->cap : 1 << 20;
            c->bytes = realloc(c->bytes, c->cap);
            if (!c->bytes) {
                fprintf(stderr, "core_bench: out of memory reading %s\n", path);
                exit(1);
            }
        }
        n = fread(c->bytes + c->len, 1, c->cap - c->len, f);
        c->len += n;
    } while (n > 0);
    fclose(f);
    c->files++;
}

static int corpus_no_dots(const struct dirent *e)
{
    return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
}

/* A file, or a directory walked in name order (the same pages every run);
 * symbolic links inside a directory are not followed (no loops). */
static void corpus_add_path(struct corpus *c, const char *path, bool top)
{
    struct stat st;
    struct dirent **entries;
    int n;

    if ((top ? stat(path, &st) : lstat(path, &st)) != 0) {
        fprintf(stderr, "core_bench: corpus path %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (S_ISREG(st.st_mode)) {
        corpus_add_file(c, path);
        return;
    }
    if (!S_ISDIR(st.st_mode))
        return;
    n = scandir(path, &entries, corpus_no_dots, alphasort);
    if (n < 0) {
        fprintf(stderr, "core_bench: cannot list %s: %s\n", path, strerror(errno));
        exit(2);
    }
    for (int k = 0; k < n; k++) {
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, entries[k]->d_name);
        corpus_add_path(c, child, false);
        free(entries[k]);
    }
    free(entries);
}

/*
 * Fill count pages: consecutive 4 KiB pieces of the corpus, over again when
 * it runs out, or synthetic pages without one. Each page starts with its
 * number, so no two are identical (dedup finds nothing to share) and none
 * is same-filled.
 */
static void fill_pages(unsigned char *pages, size_t count, const struct corpus *c)
{
    size_t corpus_pages = c->len / PAGE;

    for (size_t i = 0; i < count; i++) {
        unsigned char *p = pages + i * PAGE;
        if (corpus_pages)
            memcpy(p, c->bytes + (i % corpus_pages) * PAGE, PAGE);
        else
            fill_synthetic_page(p, i);
        memcpy(p, &i, sizeof(i));
    }
}

/*
 * Pin the calling thread to one CPU (modulo the CPUs there are). Every
 * timed thread is pinned, so a round runs on the CPU whose store shard
 * (jemalloc arena, slab shard) the warm-up rounds filled, and the rounds
 * measure the steady state, not the first touch of fresh memory on
 * whichever CPU the scheduler picked this time.
 */
static void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    CPU_ZERO(&set);
    CPU_SET(n > 0 ? cpu % (int)n : 0, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct work {
    struct tmem_client *client;
    int pool;
    unsigned char *pages;
    size_t count;
    int failures;
    int cpu;
};

/* put then get every page of w through its client and pool; later rounds
 * overwrite the same handles, so the store's memory is reused (steady
 * state: no page faults, as the memcpy baseline after its first round). */
static void *run_tmem(void *arg)
{
    struct work *w = arg;
    pin_to_cpu(w->cpu);
    unsigned char out[PAGE];
    struct tmem_oid oid = {{(uint64_t)(uintptr_t)w, 0, 0}};

    for (size_t i = 0; i < w->count; i++)
        if (tmem_put(w->client, w->pool, &oid, (uint32_t)i, w->pages + i * PAGE) != 0)
            w->failures++;
    for (size_t i = 0; i < w->count; i++)
        if (tmem_get(w->client, w->pool, &oid, (uint32_t)i, out) != 0 ||
            memcmp(out, w->pages + i * PAGE, 16) != 0)
            w->failures++;
    return NULL;
}

static struct tmem *make_store_with(enum tmem_compressor compressor, bool dedup,
                                    bool huge_pages)
{
    struct tmem_config cfg;
    tmem_config_init(&cfg);
    cfg.compressor = compressor;
    cfg.dedup = dedup;
    cfg.huge_pages = huge_pages;
    return tmem_create(&cfg);
}

static struct tmem *make_store(enum tmem_compressor compressor, bool dedup)
{
    return make_store_with(compressor, dedup, true);
}

/* One store and its 1 or 2 working threads' clients and pools. */
struct tmem_run {
    struct tmem *tm;
    struct work w[2];
    int threads;
};

static void tmem_run_open(struct tmem_run *run, unsigned char *pages, size_t count,
                          enum tmem_compressor compressor, int threads)
{
    run->tm = make_store(compressor, false);
    run->threads = threads;
    for (int i = 0; i < threads; i++) {
        struct work *w = &run->w[i];
        w->client = tmem_client_create(run->tm, "bench");
        w->pool = tmem_new_pool(w->client, TMEM_POOL_PERSIST, NULL);
        w->pages = pages + (size_t)i * (count / threads) * PAGE;
        w->count = count / threads;
        w->cpu = i;
    }
}

/* One round: every thread puts then gets its pages; the elapsed seconds. */
static double tmem_run_round(struct tmem_run *run)
{
    pthread_t t[2];
    double start = now_seconds();

    for (int i = 0; i < run->threads; i++) {
        run->w[i].failures = 0;
        pthread_create(&t[i], NULL, run_tmem, &run->w[i]);
    }
    for (int i = 0; i < run->threads; i++) {
        pthread_join(t[i], NULL);
        if (run->w[i].failures) {
            fprintf(stderr, "core_bench: %d put/get failures\n", run->w[i].failures);
            exit(1);
        }
    }
    return now_seconds() - start;
}

/* A timed baseline round over the same pages. */
typedef double (*baseline_round_fn)(unsigned char *pages, unsigned char *store, size_t count);

static double memcpy_round(unsigned char *pages, unsigned char *store, size_t count)
{
    unsigned char out[PAGE];
    volatile unsigned sink = 0;
    double start = now_seconds();

    for (size_t i = 0; i < count; i++)
        memcpy(store + i * PAGE, pages + i * PAGE, PAGE);
    for (size_t i = 0; i < count; i++) {
        memcpy(out, store + i * PAGE, PAGE);
        sink += out[i % PAGE];
    }
    (void)sink;
    return now_seconds() - start;
}

/* Raw lz4 of the same pages: LZ4_compress_default into a plain array, then
 * LZ4_decompress_safe into one page, as the store does. */
static double lz4_round(unsigned char *pages, unsigned char *store, size_t count)
{
    static int *lens;
    static size_t lens_count;
    unsigned char out[PAGE];
    volatile unsigned sink = 0;
    double start;

    if (lens_count < count) {
        free(lens);
        lens = malloc(count * sizeof(int));
        lens_count = lens ? count : 0;
        if (!lens) {
            fprintf(stderr, "core_bench: out of memory\n");
            exit(1);
        }
    }
    start = now_seconds();
    for (size_t i = 0; i < count; i++)
        lens[i] = LZ4_compress_default((const char *)pages + i * PAGE, (char *)store + i * PAGE,
                                       PAGE, PAGE / 4 * 3);
    for (size_t i = 0; i < count; i++) {
        if (lens[i] > 0)
            LZ4_decompress_safe((const char *)store + i * PAGE, (char *)out, lens[i], PAGE);
        sink += out[i % PAGE];
    }
    (void)sink;
    return now_seconds() - start;
}

/* Raw zstd at level 3 (the store's default level) of the same pages, one
 * frame per page with one context each way, as the store does. */
static double zstd_round(unsigned char *pages, unsigned char *store, size_t count)
{
    static size_t *lens;
    static size_t lens_count;
    static ZSTD_CCtx *cctx;
    static ZSTD_DCtx *dctx;
    unsigned char out[PAGE];
    volatile unsigned sink = 0;
    double start;

    if (lens_count < count) {
        free(lens);
        lens = malloc(count * sizeof(*lens));
        lens_count = lens ? count : 0;
    }
    if (!cctx)
        cctx = ZSTD_createCCtx();
    if (!dctx)
        dctx = ZSTD_createDCtx();
    if (!lens || !cctx || !dctx) {
        fprintf(stderr, "core_bench: out of memory\n");
        exit(1);
    }
    start = now_seconds();
    for (size_t i = 0; i < count; i++)
        lens[i] = ZSTD_compressCCtx(cctx, store + i * PAGE, PAGE / 4 * 3, pages + i * PAGE, PAGE,
                                    3);
    for (size_t i = 0; i < count; i++) {
        if (!ZSTD_isError(lens[i]))
            ZSTD_decompressDCtx(dctx, out, PAGE, store + i * PAGE, lens[i]);
        sink += out[i % PAGE];
    }
    (void)sink;
    return now_seconds() - start;
}

/*
 * The best of RUNS rounds of a tmem run (compressor, threads) and of each
 * baseline, after WARMUP rounds, the rounds interleaved (baselines, then
 * the store, RUNS times) so that every number sees the same machine: on a
 * shared host memory bandwidth drifts from second to second, and timing
 * all of one side first and all of the other after would put the drift in
 * the ratio. best[k] is baseline k's best round; returns the store's, and
 * the store's statistics after the last round in *final.
 */
static double time_against(unsigned char *pages, unsigned char *store, size_t count,
                           enum tmem_compressor compressor, int threads,
                           const baseline_round_fn *baselines,
                           int nbaselines, double *best, struct tmem_stats *final)
{
    struct tmem_run run;
    double best_tmem = 1e30;

    for (int k = 0; k < nbaselines; k++)
        best[k] = 1e30;
    tmem_run_open(&run, pages, count, compressor, threads);
    for (int r = 0; r < WARMUP + RUNS; r++) {
        for (int k = 0; k < nbaselines; k++) {
            double t = baselines[k](pages, store, count);
            if (r >= WARMUP && t < best[k])
                best[k] = t;
        }
        double t = tmem_run_round(&run);
        if (r >= WARMUP && t < best_tmem)
            best_tmem = t;
    }
    tmem_stats(run.tm, final);
    tmem_destroy(run.tm);
    return best_tmem;
}

/* 2-thread scaling: a one-thread and a two-thread run of lz4 put+get over
 * the same pages, their rounds interleaved; best of each in *one, *two. */
static void time_scaling(unsigned char *pages, size_t count, double *one, double *two)
{
    struct tmem_run single, pair;

    *one = *two = 1e30;
    tmem_run_open(&single, pages, count, TMEM_COMPRESSOR_LZ4, 1);
    tmem_run_open(&pair, pages, count, TMEM_COMPRESSOR_LZ4, 2);
    for (int r = 0; r < WARMUP + RUNS; r++) {
        double t1 = tmem_run_round(&single), t2 = tmem_run_round(&pair);
        if (r >= WARMUP && t1 < *one)
            *one = t1;
        if (r >= WARMUP && t2 < *two)
            *two = t2;
    }
    tmem_destroy(single.tm);
    tmem_destroy(pair.tm);
}

/* Seconds to put every page into a fresh store (uncompressed): the store
 * grows, so the time includes faulting its memory in. */
static double growth_round(unsigned char *pages, size_t count, bool huge_pages)
{
    struct tmem *tm = make_store_with(TMEM_COMPRESSOR_NONE, false, huge_pages);
    struct tmem_client *c = tmem_client_create(tm, "growth");
    int pool = tmem_new_pool(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_oid oid = {{9, 0, 0}};
    double start = now_seconds(), elapsed;

    for (size_t i = 0; i < count; i++)
        if (tmem_put(c, pool, &oid, (uint32_t)i, pages + i * PAGE) != 0) {
            fprintf(stderr, "core_bench: put failed\n");
            exit(1);
        }
    elapsed = now_seconds() - start;
    tmem_destroy(tm);
    return elapsed;
}

/* Store growth with and without huge pages, rounds interleaved. */
static void time_growth(unsigned char *pages, size_t count, double *huge, double *small)
{
    *huge = *small = 1e30;
    for (int r = 0; r < WARMUP + RUNS; r++) {
        double th = growth_round(pages, count, true), ts = growth_round(pages, count, false);
        if (r >= WARMUP && th < *huge)
            *huge = th;
        if (r >= WARMUP && ts < *small)
            *small = ts;
    }
}

static double metadata_per_page(unsigned char *pages, size_t count, bool dedup)
{
    struct tmem *tm = make_store(TMEM_COMPRESSOR_LZ4, dedup);
    struct tmem_stats st;
    struct tmem_client *c = tmem_client_create(tm, "footprint");
    int pool = tmem_new_pool(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_oid oid = {{7, 0, 0}};
    double per_page;

    for (size_t i = 0; i < count; i++)
        if (tmem_put(c, pool, &oid, (uint32_t)i, pages + i * PAGE) != 0) {
            fprintf(stderr, "core_bench: put failed\n");
            exit(1);
        }
    tmem_stats(tm, &st);
    per_page = st.pages ? (double)st.metadata_bytes / (double)st.pages : 0;
    printf("  %-34s %8.1f bytes/page (%llu pages, metadata %llu, data %llu, allocator %llu)\n",
           dedup ? "metadata, default (dedup on)" : "metadata, dedup off", per_page,
           (unsigned long long)st.pages, (unsigned long long)st.metadata_bytes,
           (unsigned long long)st.data_bytes, (unsigned long long)st.allocator_bytes);
    tmem_destroy(tm);
    return per_page;
}

/* ------------------------------------------------------------ --hash */

/* The content hash the core used until issue 10 (tmem_codec.c), verbatim:
 * the baseline the switch to XXH3 was measured against. */
static inline uint64_t old_hash_mix(uint64_t h, uint64_t w)
{
    h ^= w * 0x9e3779b97f4a7c15ull;
    h = (h << 31) | (h >> 33);
    return h * 0xc2b2ae3d27d4eb4full;
}

static uint32_t old_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h0 = 0x243f6a8885a308d3ull, h1 = 0x13198a2e03707344ull;
    uint64_t h2 = 0xa4093822299f31d0ull, h3 = 0x082efa98ec4e6c89ull;
    uint64_t w0, w1, w2, w3;
    size_t off = 0;

    for (; off + 32 <= len; off += 32) {
        memcpy(&w0, p + off, 8);
        memcpy(&w1, p + off + 8, 8);
        memcpy(&w2, p + off + 16, 8);
        memcpy(&w3, p + off + 24, 8);
        h0 = old_hash_mix(h0, w0);
        h1 = old_hash_mix(h1, w1);
        h2 = old_hash_mix(h2, w2);
        h3 = old_hash_mix(h3, w3);
    }
    for (; off < len; off++)
        h0 = old_hash_mix(h0, p[off]);
    h0 ^= old_hash_mix(h1, len) ^ old_hash_mix(h2, h3);
    h0 ^= h0 >> 29;
    h0 *= 0xbf58476d1ce4e5b9ull;
    h0 ^= h0 >> 32;
    return (uint32_t)h0;
}

static uint64_t hash_old(const void *p, size_t len) { return old_hash(p, len); }
static uint64_t hash_core(const void *p, size_t len) { return tmem_codec_hash(p, len); }
static uint64_t hash_library(const void *p, size_t len) { return xxh3_library(p, len); }
static uint64_t hash_inline(const void *p, size_t len) { return xxh3_inline(p, len); }

static const struct {
    const char *name;
    uint64_t (*fn)(const void *p, size_t len);
} hashes[] = {
    {"old 4-lane multiply-xor", hash_old},
    {"tmem_codec_hash (XXH3 inline)", hash_core},
    {"XXH3_64bits, libxxhash call", hash_library},
    {"XXH3_64bits, XXH_INLINE_ALL", hash_inline},
};
#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))
#define HASH_RUNS 40

/* Seconds to hash count pages: the first `window` of them over and over
 * (in cache), or every one once (window = count: from memory). */
static double hash_round(uint64_t (*fn)(const void *, size_t), const unsigned char *pages,
                         size_t count, size_t window)
{
    volatile uint64_t sink = 0;
    double start = now_seconds();

    for (size_t i = 0; i < count; i++)
        sink += fn(pages + (i % window) * PAGE, PAGE);
    (void)sink;
    return now_seconds() - start;
}

static void time_hashes(const unsigned char *pages, size_t count, size_t window,
                        const char *what)
{
    double best[NHASHES];

    for (size_t k = 0; k < NHASHES; k++)
        best[k] = 1e30;
    /* a round is short (tens of ms): many more of them than elsewhere, each
     * starting with another function, so a noisy moment hits all alike */
    for (int r = 0; r < WARMUP + HASH_RUNS; r++)
        for (size_t j = 0; j < NHASHES; j++) {
            size_t k = (j + (size_t)r) % NHASHES;
            double t = hash_round(hashes[k].fn, pages, count, window);
            if (r >= WARMUP && t < best[k])
                best[k] = t;
        }
    printf("  content hash of 4 KiB pages, %s:\n", what);
    for (size_t k = 0; k < NHASHES; k++)
        printf("    %-34s %7.1f ns/page %6.2f GB/s  %5.2fx the old hash's speed\n",
               hashes[k].name, 1e9 * best[k] / count, count * (double)PAGE / best[k] / 1e9,
               best[0] / best[k]);
}

/* put+get with dedup on, uncompressed (every put hashes its page), vs
 * two memcpy, rounds interleaved. */
static void time_dedup_put_get(unsigned char *pages, unsigned char *store, size_t count)
{
    struct tmem_run run;
    double best_tmem = 1e30, best_copy = 1e30;

    memset(&run, 0, sizeof(run));
    run.tm = make_store(TMEM_COMPRESSOR_NONE, true);
    run.threads = 1;
    run.w[0].client = tmem_client_create(run.tm, "bench");
    run.w[0].pool = tmem_new_pool(run.w[0].client, TMEM_POOL_PERSIST, NULL);
    run.w[0].pages = pages;
    run.w[0].count = count;
    for (int r = 0; r < WARMUP + RUNS; r++) {
        double t = memcpy_round(pages, store, count);
        if (r >= WARMUP && t < best_copy)
            best_copy = t;
        t = tmem_run_round(&run);
        if (r >= WARMUP && t < best_tmem)
            best_tmem = t;
    }
    tmem_destroy(run.tm);
    printf("  %-34s %10.0f put+get/s vs memcpy %10.0f/s: %5.1f%%\n",
           "uncompressed put+get, dedup on", count / best_tmem, count / best_copy,
           100 * best_copy / best_tmem);
}

static int main_hash(size_t count, unsigned char *pages, unsigned char *store)
{
    /* the XXH3 variants hash alike: check before timing */
    for (size_t i = 0; i < 16 && i < count; i++) {
        if (hash_inline(pages + i * PAGE, PAGE) != hash_library(pages + i * PAGE, PAGE)) {
            fprintf(stderr, "core_bench: inlined and library XXH3 disagree\n");
            return 1;
        }
        if (i == 0 && hash_core(pages, PAGE) != (uint32_t)hash_library(pages, PAGE))
            printf("  (this core's tmem_codec_hash is not XXH3: an older library)\n");
    }
    time_hashes(pages, count, 64, "in cache (64 pages over again)");
    time_hashes(pages, count, count, "from memory (every page once)");
    time_dedup_put_get(pages, store, count);
    return 0;
}

int main(int argc, char **argv)
{
    bool hash_mode = argc > 1 && strcmp(argv[1], "--hash") == 0;
    if (hash_mode) {
        argv++;
        argc--;
    }
    size_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 65536;
    unsigned char *pages, *store;
    struct corpus corpus = {0};
    double t_memcpy, t_raw, t_lz4_base, t_lz4, t_zstd_base, t_zstd, t_one, t_two, t_huge, t_small;
    double meta;
    struct tmem_stats st;

    if (count < 1024 || count > (1u << 24)) {
        fprintf(stderr, "core_bench: pages must be from 1024 to 16777216, got '%s'\n", argv[1]);
        return 2;
    }
    count &= ~(size_t)1;
    pin_to_cpu(0); /* the baselines run on CPU 0, as one-thread rounds do */
    pages = malloc(count * PAGE);
    store = malloc(count * PAGE);
    if (!pages || !store) {
        fprintf(stderr, "core_bench: cannot allocate %zu MiB\n", 2 * count * PAGE >> 20);
        return 1;
    }
    for (int k = 2; k < argc; k++)
        corpus_add_path(&corpus, argv[k], true);
    if (argc > 2 && corpus.len < PAGE) {
        fprintf(stderr, "core_bench: the corpus holds less than one page\n");
        return 2;
    }
    fill_pages(pages, count, &corpus);

    printf("tmem core bench: %zu pages of %u bytes (%zu MiB), best of %d interleaved rounds\n",
           count, PAGE, count * PAGE >> 20, RUNS);
    if (corpus.len)
        printf("  pages: the %zu files given (%.1f MiB, %zu distinct pages), over again\n",
               corpus.files, (double)corpus.len / (1 << 20), corpus.len / PAGE);
    else
        printf("  pages: synthetic, half text-like, half random (no corpus given)\n");
    free(corpus.bytes);
    if (hash_mode) {
        int rc = main_hash(count, pages, store);
        free(pages);
        free(store);
        return rc;
    }
    {
        static const baseline_round_fn copy[] = {memcpy_round};
        t_raw = time_against(pages, store, count, TMEM_COMPRESSOR_NONE, 1, copy, 1, &t_memcpy,
                             &st);
    }
    printf("  %-34s %10.0f put+get/s vs memcpy %10.0f/s: %5.1f%% (target >= 60%%)\n",
           "uncompressed put+get", count / t_raw, count / t_memcpy, 100 * t_memcpy / t_raw);
    {
        static const baseline_round_fn lz4[] = {lz4_round};
        t_lz4 = time_against(pages, store, count, TMEM_COMPRESSOR_LZ4, 1, lz4, 1, &t_lz4_base,
                             &st);
    }
    printf("  %-34s %10.0f put+get/s vs raw lz4 %9.0f/s: %5.1f%% (target >= 85%%)\n",
           "lz4 put+get", count / t_lz4, count / t_lz4_base, 100 * t_lz4_base / t_lz4);
    printf("  %-34s %llu of %llu pages kept compressed, %.2f bytes stored per page byte\n", "",
           (unsigned long long)st.pages_compressed, (unsigned long long)st.pages,
           (double)st.data_bytes / ((double)st.pages * PAGE));
    {
        static const baseline_round_fn zstd[] = {zstd_round};
        t_zstd = time_against(pages, store, count, TMEM_COMPRESSOR_ZSTD, 1, zstd, 1,
                              &t_zstd_base, &st);
    }
    printf("  %-34s %10.0f put+get/s vs raw zstd %8.0f/s: %5.1f%%\n", "zstd (level 3) put+get",
           count / t_zstd, count / t_zstd_base, 100 * t_zstd_base / t_zstd);
    printf("  %-34s %llu of %llu pages kept compressed, %.2f bytes stored per page byte\n", "",
           (unsigned long long)st.pages_compressed, (unsigned long long)st.pages,
           (double)st.data_bytes / ((double)st.pages * PAGE));
    time_scaling(pages, count, &t_one, &t_two);
    printf("  %-34s %10.0f put+get/s vs 1 thread %9.0f/s: x%.2f\n", "2 threads, lz4",
           count / t_two, count / t_one, t_one / t_two);
    time_growth(pages, count, &t_huge, &t_small);
    printf("  %-34s %10.0f puts/s   vs 4 KiB pages %6.0f/s: x%.2f (puts into a fresh store)\n",
           "growth, huge pages", count / t_huge, count / t_small, t_small / t_huge);
    meta = metadata_per_page(pages, count, true);
    metadata_per_page(pages, count, false);
    printf("  metadata target <= 48 bytes/page: %s\n", meta <= 48 ? "met" : "NOT met");
    free(pages);
    free(store);
    return 0;
}
