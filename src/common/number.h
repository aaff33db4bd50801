/*
 * number.h - the one parser for unsigned integers on command lines, in
 * trace and schedule files and in fault specifications:
 *
 *     NUMBER := DIGITS            in the given base (10 or 16)
 *             | "0x" HEXDIGITS    with base 0 (otherwise decimal)
 *
 * Nothing else: no sign, no spaces, no empty text, no value above 2^64 - 1
 * (strtoull accepts all of "-1", " 7" and "" and wraps or returns 0; a
 * size goes through size.h instead, a duration through duration.h).
 *
 * Pure functions; thread-safe.
 */
#ifndef COMMON_NUMBER_H
#define COMMON_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse the NUL-terminated text as NUMBER in base (0, 10 or 16) and check
 * min <= value <= max. Returns 0 and sets *out, or -EINVAL (NULL or empty
 * text, a character outside the grammar, overflow, out of range, a base
 * other than 0, 10, 16) leaving *out unchanged.
 */
int number_parse_u64(const char *text, int base, uint64_t min, uint64_t max, uint64_t *out);

/* The same over text[0 .. len) (text need not be NUL-terminated there). */
int number_parse_u64_span(const char *text, size_t len, int base, uint64_t min, uint64_t max,
                          uint64_t *out);

#endif /* COMMON_NUMBER_H */
