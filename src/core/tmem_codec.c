/*
 * tmem_codec.c - what a page is made of: same-filled detection, the content
 * hash used by deduplication.
 *
 * Same-filled pages (zswap's same_filled_pages): a page whose bytes repeat
 * one 64-bit word (all zero, one byte, or one 2/4/8-byte pattern) is stored
 * as that word alone. The hash is a simple 4-lane multiply-xor over 64-bit
 * words (not cryptographic: dedup always compares the bytes before sharing).
 *
 * No state, no locks.
 */
#include "core/tmem_internal.h"

#include <string.h>

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

static inline uint64_t tmem_codec_mix(uint64_t h, uint64_t w)
{
    h ^= w * 0x9e3779b97f4a7c15ull;
    h = (h << 31) | (h >> 33);
    return h * 0xc2b2ae3d27d4eb4full;
}

uint32_t tmem_codec_hash(const void *data, size_t len)
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
        h0 = tmem_codec_mix(h0, w0);
        h1 = tmem_codec_mix(h1, w1);
        h2 = tmem_codec_mix(h2, w2);
        h3 = tmem_codec_mix(h3, w3);
    }
    for (; off < len; off++)
        h0 = tmem_codec_mix(h0, p[off]);
    h0 ^= tmem_codec_mix(h1, len) ^ tmem_codec_mix(h2, h3);
    h0 ^= h0 >> 29;
    h0 *= 0xbf58476d1ce4e5b9ull;
    h0 ^= h0 >> 32;
    return (uint32_t)h0;
}
