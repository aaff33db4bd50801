/*
 * tmem_codec.c - what a page is made of: same-filled detection, the content
 * hash used by deduplication.
 *
 * Same-filled pages (zswap's same_filled_pages): a page whose bytes repeat
 * one 64-bit word (all zero, one byte, or one 2/4/8-byte pattern) is stored
 * as that word alone.
 *
 * The content hash is XXH3 (libxxhash, inlined: XXH_INLINE_ALL, the
 * library's documented header-only mode), of which dedup keeps 32 bits.
 * It is not cryptographic and need not be: dedup always compares the bytes
 * before sharing. It replaced a hand-written 4-lane multiply-xor hash;
 * docs/core.md has the measurement (core_bench --hash).
 *
 * The compressibility probe: lz4 spends about as long failing on a page
 * it cannot shrink (random or already-compressed data) as succeeding on
 * one it can, and zswap counts such pages (reject_compress_poor) only
 * after paying for the attempt. 256 bytes sampled across the page take
 * about 162 distinct values when the page is random (256 draws from 256
 * values) and far fewer on text, code, binaries and whatever lz4 brings
 * under the threshold; at 140 or more the page is stored raw without the
 * attempt. The samples run along a diagonal (slice i, byte i mod stride)
 * so that data with a period, such as fio's buffers (random 32-bit values
 * in 64-bit words), is not sampled at one offset of each period. On this
 * project's sources, docs, binaries, libc, gcc, gzip files and random data
 * (4509 pages): 3099 of 3584 pages lz4 could not shrink to 3/4 were
 * caught, none of the 925 it could; of fio's pages, 74 %. A page 70 %
 * random and 30 % zero (which lz4 brings to 72 %) counts 130 +- 4, so
 * about one in a hundred such pages is stored raw.
 *
 * No state, no locks.
 */
#include "core/tmem_internal.h"

#include <string.h>

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
