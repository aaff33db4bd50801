/*
 * size.h - the one grammar for sizes on every command line, option,
 * control file and scenario of the project:
 *
 *     SIZE := DIGITS [UNIT [ "B" | "iB" ]]      UNIT := K | M | G | T
 *
 * a decimal byte count, optionally times 1024 (K), 1024^2 (M), 1024^3 (G)
 * or 1024^4 (T); the unit letter in either case, "B" or "iB" after it
 * allowed ("64M", "64m", "64MiB", "64MB" are all 64 x 2^20). Where a
 * limit may be lifted, the word "unlimited" too (SIZE_UNLIMITED).
 * Nothing else: no sign, no spaces, no fraction, no value above 2^64 - 1.
 *
 * Pure functions; thread-safe.
 */
#ifndef COMMON_SIZE_H
#define COMMON_SIZE_H

#include <stdbool.h>
#include <stdint.h>

#define SIZE_UNLIMITED UINT64_MAX

/* What size_parse accepts, for messages: "bytes, with an optional K, M, G
 * or T suffix (powers of 1024)" and, with allow_unlimited, ", or
 * 'unlimited'". A static string. */
const char *size_grammar(bool allow_unlimited);

/*
 * Parse text as SIZE (or "unlimited" when allow_unlimited: SIZE_UNLIMITED).
 * Returns 0 and sets *bytes, or -EINVAL (text is NULL, empty, not in the
 * grammar, or too large) leaving *bytes unchanged.
 */
int size_parse(const char *text, bool allow_unlimited, uint64_t *bytes);

#endif /* COMMON_SIZE_H */
