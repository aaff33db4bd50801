/*
 * hash.h - the one mixer for integer keys (hash tables of page keys, file
 * keys, object ids): the splitmix64 / MurmurHash3 finaliser, a bijection
 * of 64-bit words in which every input bit changes about half the output
 * bits. Byte strings (page contents) are hashed with XXH3 from libxxhash
 * instead (core/tmem_codec.c).
 *
 * Pure functions; thread-safe.
 */
#ifndef COMMON_HASH_H
#define COMMON_HASH_H

#include <stdint.h>

static inline uint64_t hash_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Combine a running hash h with one more 64-bit word. */
static inline uint64_t hash_combine(uint64_t h, uint64_t word)
{
    return hash_mix64(h ^ word);
}

/* A short array of words (n >= 1), such as a 192-bit object id: the
 * first word mixed, each next one combined in. */
static inline uint64_t hash_words(const uint64_t *w, unsigned n)
{
    uint64_t h = hash_mix64(w[0]);

    for (unsigned i = 1; i < n; i++)
        h = hash_combine(h, w[i]);
    return h;
}

#endif /* COMMON_HASH_H */
