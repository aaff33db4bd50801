/*
 * tmem_codec.c - what a page is made of: same-filled detection, the
 * compressors, the compressibility probe, the content hash used by
 * deduplication.
 *
 * Same-filled pages (zswap's same_filled_pages): a page whose bytes repeat
 * one 64-bit word (all zero, one byte, or one 2/4/8-byte pattern) is stored
 * as that word alone.
 *
 * Compressors (cfg.compressor, zswap's `compressor` parameter): one per
 * store, so a COMPRESSED record needs no tag saying which one made it.
 *  - lz4: every page with a fresh hash table (LZ4_compress_default, as
 *    zswap's lz4 does), an independent block LZ4_decompress_safe reads
 *    alone. A per-thread stream restarted with LZ4_resetStream_fast saves
 *    the table's 16 KiB initialisation and was faster on synthetic pages,
 *    but on real ones (text, binaries, fio's data) it was 1.7 to 3 times
 *    slower and compressed fewer pages below the threshold: its table,
 *    32-bit entries at 12 hash bits, finds fewer matches than the 16-bit,
 *    13-bit one lz4 picks for a fresh small input (docs/core.md).
 *  - zstd (libzstd) at cfg.compress_level: one zstd frame per page
 *    (ZSTD_compressCCtx, ZSTD_decompressDCtx). Its contexts are costly to
 *    create (tens to hundreds of KiB), so each thread keeps one of each,
 *    made at its first zstd call and freed when the thread exits (a
 *    pthread key's destructor); they are working memory, like lz4's table
 *    on the stack, not counted in the store's budget. Without a context
 *    (allocation failed) a page is stored raw, or read with
 *    ZSTD_decompress, which makes its own.
 *  - lzo (liblzo2's lzo1x_1_compress, read back with
 *    lzo1x_decompress_safe): the LZO1X-1 format the kernel's "lzo"
 *    compressor writes (lib/lzo, crypto/lzo.c), the one zswap uses on a
 *    kernel without lz4 for it. lzo1x_1 needs 16384 dictionary entries of
 *    working memory (128 KiB on 64-bit) and writes up to
 *    len + len/16 + 67 bytes with no output limit, so each thread keeps a
 *    work area and an output buffer of that worst case (made at its first
 *    lzo call, freed when the thread exits, as the zstd contexts are;
 *    working memory, not in the budget), and a page whose output passes
 *    the caller's limit is stored raw. lzo_init() runs once per process.
 *  - none: pages are stored raw (or same-filled, or deduplicated).
 *
 * The content hash is XXH3 (libxxhash, inlined: XXH_INLINE_ALL, the
 * library's documented header-only mode), of which dedup keeps 32 bits.
 * It is not cryptographic and need not be: dedup always compares the bytes
 * before sharing. It replaced a hand-written 4-lane multiply-xor hash;
 * docs/core.md has the measurement (core_bench --hash).
 *
 * The compressibility probe, in front of either compressor: lz4 spends
 * about as long failing on a page it cannot shrink (random or
 * already-compressed data) as succeeding on one it can (zstd longer), and
 * zswap counts such pages (reject_compress_poor) only after paying for
 * the attempt. 256 bytes sampled across the page take about 162 distinct
 * values when the page is random (256 draws from 256 values) and far
 * fewer on text, code, binaries and whatever lz4 brings under the
 * threshold; at 140 or more the page is stored raw without the attempt.
 * The samples run along a diagonal (slice i, byte i mod stride) so that
 * data with a period, such as fio's buffers (random 32-bit values in
 * 64-bit words), is not sampled at one offset of each period. On this
 * project's sources, docs, binaries, libc, gcc, gzip files and random data
 * (4509 pages): 3099 of 3584 pages lz4 could not shrink to 3/4 were
 * caught, none of the 925 it could; of fio's pages, 74 %. A page 70 %
 * random and 30 % zero (which lz4 brings to 72 %) counts 130 +- 4, so
 * about one in a hundred such pages is stored raw.
 *
 * State: the per-thread zstd contexts and lzo work areas (above) and the
 * pthread key that frees them, made once per process; lzo's library
 * initialisation, once per process. No locks.
 */
#include "core/tmem_internal.h"

#include <errno.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

bool tmem_codec_looks_incompressible(const void *page, uint32_t size)
{
    const unsigned char *p = page;
    uint32_t stride = size / TMEM_CODEC_PROBE_SAMPLES, distinct = 0;
    uint64_t seen[4] = { 0, 0, 0, 0 };

    for (uint32_t i = 0; i < TMEM_CODEC_PROBE_SAMPLES; i++) {
        /* the i-th of 256 equal slices, at its (i mod stride)-th byte: a
         * diagonal, so data with a period (words, records) is not sampled
         * at one offset of every period */
        unsigned c = p[i * stride + (i & (stride - 1))];
        uint64_t bit = 1ULL << (c & 63);

        distinct += !(seen[c >> 6] & bit);
        seen[c >> 6] |= bit;
    }
    return distinct >= TMEM_CODEC_PROBE_POOR;
}

bool tmem_codec_same_filled(const void *page, uint32_t size, uint64_t *word)
{
    const unsigned char *p = page;
    uint64_t first, w;

    memcpy(&first, p, sizeof(first));
    for (uint32_t off = sizeof(first); off < size; off += sizeof(w)) {
        memcpy(&w, p + off, sizeof(w));
        if (w != first)
            return false;
    }
    *word = first;
    return true;
}

void tmem_codec_fill(void *page, uint32_t size, uint64_t word)
{
    unsigned char *p = page;
    for (uint32_t off = 0; off < size; off += sizeof(word))
        memcpy(p + off, &word, sizeof(word));
}

uint32_t tmem_codec_hash(const void *data, size_t len)
{
    return (uint32_t)XXH3_64bits(data, len);
}

/* ------------------------------------------------------------ compressors */

#define TMEM_ZSTD_DEFAULT_LEVEL 3
#define TMEM_ZSTD_MAX_LEVEL 19

static const char *const tmem_compressor_names[] = {
    [TMEM_COMPRESSOR_NONE] = "none",
    [TMEM_COMPRESSOR_LZ4] = "lz4",
    [TMEM_COMPRESSOR_ZSTD] = "zstd",
    [TMEM_COMPRESSOR_LZO] = "lzo",
};

const char *tmem_compressor_name(enum tmem_compressor c)
{
    if ((unsigned)c >= sizeof(tmem_compressor_names) / sizeof(tmem_compressor_names[0]))
        return NULL;
    return tmem_compressor_names[c];
}

int tmem_compressor_parse(const char *text, enum tmem_compressor *out, int *level)
{
    int lv = 0;

    if (!text || !out)
        return -EINVAL;
    if (strcmp(text, "none") == 0 || strcmp(text, "off") == 0) {
        *out = TMEM_COMPRESSOR_NONE;
    } else if (strcmp(text, "lz4") == 0) {
        *out = TMEM_COMPRESSOR_LZ4;
    } else if (strcmp(text, "lzo") == 0) {
        *out = TMEM_COMPRESSOR_LZO;
    } else if (strncmp(text, "zstd", 4) == 0 && (text[4] == '\0' || text[4] == ':')) {
        if (text[4] == ':') {
            const char *d = text + 5;
            /* 1..19, digits only: no sign, no spaces, no leading zero */
            if (d[0] < '1' || d[0] > '9' || (d[1] && (d[1] < '0' || d[1] > '9' || d[2])))
                return -EINVAL;
            lv = d[1] ? (d[0] - '0') * 10 + (d[1] - '0') : d[0] - '0';
            if (lv > TMEM_ZSTD_MAX_LEVEL)
                return -EINVAL;
        }
        *out = TMEM_COMPRESSOR_ZSTD;
    } else {
        return -EINVAL;
    }
    if (level)
        *level = lv;
    return 0;
}

int tmem_codec_config_check(struct tmem_config *cfg)
{
    switch (cfg->compressor) {
    case TMEM_COMPRESSOR_NONE:
    case TMEM_COMPRESSOR_LZ4:
        return 0;
    case TMEM_COMPRESSOR_LZO:
        return tmem_codec_lzo_ready() ? 0 : -EINVAL;
    case TMEM_COMPRESSOR_ZSTD:
        if (cfg->compress_level == 0)
            cfg->compress_level = TMEM_ZSTD_DEFAULT_LEVEL;
        if (cfg->compress_level < 1 || cfg->compress_level > TMEM_ZSTD_MAX_LEVEL)
            return -EINVAL;
        return 0;
    }
    return -EINVAL;
}

/* A thread's zstd contexts and lzo work area (see the top of the file);
 * each made at the thread's first call of its compressor. */
struct tmem_zstd_contexts {
    ZSTD_CCtx *compress;
    ZSTD_DCtx *decompress;
    void *lzo_work;          /* LZO1X_1_MEM_COMPRESS bytes */
    unsigned char *lzo_out;  /* TMEM_LZO_OUT_MAX bytes */
};

/* lzo1x_1's worst-case output for a page of the largest size. */
#define TMEM_LZO_OUT_MAX (TMEM_MAX_PAGE_SIZE + TMEM_MAX_PAGE_SIZE / 16 + 64 + 3)

static pthread_key_t tmem_zstd_key;
static pthread_once_t tmem_zstd_key_once = PTHREAD_ONCE_INIT;
static bool tmem_zstd_key_made;
static _Thread_local struct tmem_zstd_contexts *tmem_zstd_mine;

static void tmem_zstd_free(void *arg)
{
    struct tmem_zstd_contexts *z = arg;
    ZSTD_freeCCtx(z->compress);
    ZSTD_freeDCtx(z->decompress);
    free(z->lzo_work);
    free(z->lzo_out);
    free(z);
}

static void tmem_zstd_make_key(void)
{
    tmem_zstd_key_made = pthread_key_create(&tmem_zstd_key, tmem_zstd_free) == 0;
}

/* The calling thread's codec state (its members made on demand), or NULL. */
static struct tmem_zstd_contexts *tmem_codec_thread(void)
{
    struct tmem_zstd_contexts *z = tmem_zstd_mine;

    if (z)
        return z;
    pthread_once(&tmem_zstd_key_once, tmem_zstd_make_key);
    if (!tmem_zstd_key_made || !(z = calloc(1, sizeof(*z))))
        return NULL;
    if (pthread_setspecific(tmem_zstd_key, z) != 0) {
        tmem_zstd_free(z);
        return NULL;
    }
    tmem_zstd_mine = z;
    return z;
}

/* The calling thread's zstd contexts (either may be NULL), or NULL. */
static struct tmem_zstd_contexts *tmem_zstd_contexts(void)
{
    struct tmem_zstd_contexts *z = tmem_codec_thread();

    if (!z)
        return NULL;
    if (!z->compress && !z->decompress) {
        z->compress = ZSTD_createCCtx();
        z->decompress = ZSTD_createDCtx();
    }
    return z;
}

static pthread_once_t tmem_lzo_once = PTHREAD_ONCE_INIT;
static bool tmem_lzo_ok;

static void tmem_lzo_init(void)
{
    tmem_lzo_ok = lzo_init() == LZO_E_OK;
}

bool tmem_codec_lzo_ready(void)
{
    pthread_once(&tmem_lzo_once, tmem_lzo_init);
    return tmem_lzo_ok;
}

/* lzo1x_1 of size bytes of page into buffer, at most max bytes: the
 * length, or 0 (passes max, or no work area could be made). */
static uint32_t tmem_lzo_compress(const void *page, uint32_t size, void *buffer, uint32_t max)
{
    struct tmem_zstd_contexts *z = tmem_codec_thread();
    lzo_uint out_len = 0;

    if (!z)
        return 0;
    if (!z->lzo_work) {
        z->lzo_work = malloc(LZO1X_1_MEM_COMPRESS);
        z->lzo_out = malloc(TMEM_LZO_OUT_MAX);
        if (!z->lzo_work || !z->lzo_out) {
            free(z->lzo_work);
            free(z->lzo_out);
            z->lzo_work = z->lzo_out = NULL;
            return 0;
        }
    }
    if (lzo1x_1_compress(page, size, z->lzo_out, &out_len, z->lzo_work) != LZO_E_OK ||
        out_len == 0 || out_len > max)
        return 0;
    memcpy(buffer, z->lzo_out, out_len);
    return (uint32_t)out_len;
}

uint32_t tmem_codec_compress(const struct tmem *tm, const void *page, void *buffer, uint32_t max)
{
    uint32_t size = tm->cfg.page_size;

    switch (tm->cfg.compressor) {
    case TMEM_COMPRESSOR_LZ4: {
        int n = LZ4_compress_default(page, buffer, (int)size, (int)max);
        return n > 0 ? (uint32_t)n : 0;
    }
    case TMEM_COMPRESSOR_ZSTD: {
        struct tmem_zstd_contexts *z = tmem_zstd_contexts();
        size_t n;
        if (!z || !z->compress)
            return 0;
        /* fails (dstSize_tooSmall) when the frame would pass max */
        n = ZSTD_compressCCtx(z->compress, buffer, max, page, size, tm->cfg.compress_level);
        return ZSTD_isError(n) || n == 0 ? 0 : (uint32_t)n;
    }
    case TMEM_COMPRESSOR_LZO:
        return tmem_lzo_compress(page, size, buffer, max);
    default:
        return 0;
    }
}

int tmem_codec_decompress(const struct tmem *tm, const void *data, uint32_t len, void *page)
{
    uint32_t size = tm->cfg.page_size;

    switch (tm->cfg.compressor) {
    case TMEM_COMPRESSOR_LZ4:
        return LZ4_decompress_safe(data, page, (int)len, (int)size) == (int)size ? 0 : -EIO;
    case TMEM_COMPRESSOR_ZSTD: {
        struct tmem_zstd_contexts *z = tmem_zstd_contexts();
        size_t n = z && z->decompress ? ZSTD_decompressDCtx(z->decompress, page, size, data, len)
                                      : ZSTD_decompress(page, size, data, len);
        return !ZSTD_isError(n) && n == size ? 0 : -EIO;
    }
    case TMEM_COMPRESSOR_LZO: {
        lzo_uint out_len = size;
        return lzo1x_decompress_safe(data, len, page, &out_len, NULL) == LZO_E_OK &&
                       out_len == size
                   ? 0
                   : -EIO;
    }
    default:
        return -EIO; /* a store without a compressor holds no compressed page */
    }
}
