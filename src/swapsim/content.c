/*
 * content.c - deterministic page contents.
 *
 * Models: the bytes a guest keeps in its anonymous pages. The content of a
 * page is a pure function of (seed, virtual page, version), so the guest
 * never stores expected copies: to verify a load it regenerates the page
 * and compares. A class is drawn per (page, version) from the mix:
 *   zero         all-zero (the store's same-filled path)
 *   dup          one of 64 shared patterns (the store's dedup path)
 *   compressible 64-byte blocks, most repeating an earlier block (lz4 ~3x)
 *   random       splitmix64 bytes (incompressible)
 * Non-zero, non-dup pages carry (vpage, version) in their first 16 bytes so
 * a stale or misplaced page never matches by accident.
 * Data structures: none. Locking: none (pure functions, thread-safe).
 */
#include <errno.h>
#include <string.h>

#include "common/hash.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

void swapsim_content_mix_default(struct swapsim_content_mix *mix)
{
    mix->zero_permille = 100;
    mix->dup_permille = 100;
    mix->compressible_permille = 500;
}

int swapsim_content_mix_check(const struct swapsim_content_mix *mix)
{
    uint64_t sum = (uint64_t)mix->zero_permille + mix->dup_permille +
                   mix->compressible_permille;
    return sum <= 1000 ? 0 : -EINVAL;
}

enum content_class { CC_ZERO, CC_DUP, CC_COMPRESSIBLE, CC_RANDOM };

static enum content_class classify(uint64_t h, const struct swapsim_content_mix *mix)
{
    uint32_t r = (uint32_t)(h % 1000);
    if (r < mix->zero_permille)
        return CC_ZERO;
    r -= mix->zero_permille;
    if (r < mix->dup_permille)
        return CC_DUP;
    r -= mix->dup_permille;
    if (r < mix->compressible_permille)
        return CC_COMPRESSIBLE;
    return CC_RANDOM;
}

static uint64_t page_hash(uint64_t seed, uint32_t vpage, uint32_t version)
{
    return hash_mix64(seed ^ hash_mix64(((uint64_t)vpage << 32) | version));
}

static void fill_compressible(uint64_t *w, uint32_t words, uint64_t state)
{
    /* 8-word (64-byte) blocks: a new random block 1 time in 4, else a copy
     * of one of the earlier blocks. */
    uint32_t blocks = words / 8;
    for (uint32_t b = 0; b < blocks; b++) {
        uint64_t pick = rng_next(&state);
        if (b == 0 || (pick & 3) == 0) {
            for (uint32_t i = 0; i < 8; i++)
                w[b * 8 + i] = rng_next(&state);
        } else {
            uint32_t from = (uint32_t)((pick >> 8) % b);
            memcpy(&w[b * 8], &w[from * 8], 64);
        }
    }
    for (uint32_t i = blocks * 8; i < words; i++)
        w[i] = rng_next(&state);
}

void swapsim_content_fill(void *page, uint32_t page_size, uint64_t seed,
                          const struct swapsim_content_mix *mix, uint32_t vpage,
                          uint32_t version)
{
    uint64_t h = page_hash(seed, vpage, version);
    uint64_t *w = page;
    uint32_t words = page_size / 8;
    uint64_t state = h;

    switch (classify(h, mix)) {
    case CC_ZERO:
        memset(page, 0, page_size);
        return;
    case CC_DUP:
        fill_compressible(w, words, hash_mix64(seed + 0x5157 + (h >> 40) % 64));
        return;
    case CC_COMPRESSIBLE:
        fill_compressible(w, words, state);
        break;
    case CC_RANDOM:
        for (uint32_t i = 0; i < words; i++)
            w[i] = rng_next(&state);
        break;
    }
    if (words >= 2) {
        w[0] = 0x5357415053494dULL ^ ((uint64_t)vpage << 8); /* "SWAPSIM" */
        w[1] = ((uint64_t)version << 32) | vpage;
    }
}

const char *swapsim_content_class(uint64_t seed, const struct swapsim_content_mix *mix,
                                  uint32_t vpage, uint32_t version)
{
    static const char *const names[] = {"zero", "dup", "compressible", "random"};
    return names[classify(page_hash(seed, vpage, version), mix)];
}
