/*
 * number.c - unsigned integers, strictly (number.h has the grammar).
 *
 * Written by hand rather than on strtoull so that what is refused does
 * not depend on the locale or on strtoull's leniency (leading spaces, a
 * sign that wraps, octal for a leading 0). No state, no locks.
 */
#include "common/number.h"

#include <errno.h>

/* The digit's value in base 16, or 16 if c is not a hex digit. */
static unsigned number_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a') + 10;
    if (c >= 'A' && c <= 'F')
        return (unsigned)(c - 'A') + 10;
    return 16;
}

int number_parse_u64_span(const char *text, size_t len, int base, uint64_t min, uint64_t max,
                          uint64_t *out)
{
    uint64_t value = 0;

    if (!text || !out || (base != 0 && base != 10 && base != 16))
        return -EINVAL;
    if (base == 0) {
        base = 10;
        if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
            base = 16;
            text += 2;
            len -= 2;
        }
    }
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned digit = number_digit_value(text[i]);

        if (digit >= (unsigned)base)
            return -EINVAL;
        if (value > (UINT64_MAX - digit) / (unsigned)base)
            return -EINVAL;
        value = value * (unsigned)base + digit;
    }
    if (value < min || value > max)
        return -EINVAL;
    *out = value;
    return 0;
}

int number_parse_u64(const char *text, int base, uint64_t min, uint64_t max, uint64_t *out)
{
    size_t len = 0;

    if (!text)
        return -EINVAL;
    while (text[len])
        len++;
    return number_parse_u64_span(text, len, base, min, max, out);
}
