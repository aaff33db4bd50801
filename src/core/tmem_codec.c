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
 * No state, no locks.
 */
#include "core/tmem_internal.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

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
