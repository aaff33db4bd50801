/*
 * size.c - the size grammar of size.h: one parser for every part of the
 * project. No state; thread-safe.
 */
#include "common/size.h"

#include <errno.h>
#include <string.h>

const char *size_grammar(bool allow_unlimited)
{
    return allow_unlimited
               ? "bytes, with an optional K, M, G or T suffix (powers of 1024), or 'unlimited'"
               : "bytes, with an optional K, M, G or T suffix (powers of 1024)";
}

/* The multiplier of a unit letter (either case), or 0. */
static uint64_t size_unit(char c)
{
    switch (c) {
    case 'k': case 'K': return 1ULL << 10;
    case 'm': case 'M': return 1ULL << 20;
    case 'g': case 'G': return 1ULL << 30;
    case 't': case 'T': return 1ULL << 40;
    default: return 0;
    }
}

int size_parse(const char *text, bool allow_unlimited, uint64_t *bytes)
{
    const char *p = text;
    uint64_t v = 0, unit = 1;

    if (!text || !*text)
        return -EINVAL;
    if (allow_unlimited && strcmp(text, "unlimited") == 0) {
        *bytes = SIZE_UNLIMITED;
        return 0;
    }
    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -EINVAL;
        v = v * 10 + digit;
    }
    if (*p && size_unit(*p)) {
        unit = size_unit(*p++);
        if (strcmp(p, "B") == 0 || strcmp(p, "iB") == 0)
            p += strlen(p);
    }
    if (*p || (v != 0 && unit > UINT64_MAX / v))
        return -EINVAL;
    *bytes = v * unit;
    return 0;
}
