/*
 * duration.c - the time grammar of duration.h: one parser for every time
 * the project reads. Digits are read by hand (strtod would follow the
 * locale's decimal point and accept signs, exponents, "inf" and hex).
 * No state; thread-safe.
 */
#include "common/duration.h"

#include <errno.h>
#include <math.h>
#include <string.h>

const char *duration_grammar(void)
{
    return "seconds (e.g. 12 or 12.5), with an optional unit ms, s, m (minutes) or h";
}

/* Seconds per unit for the text after the number (a negative number
 * -N: divide by N, so "500ms" is exactly 0.5), or 0 if it is no unit. */
static double duration_unit(const char *unit)
{
    if (!*unit || strcmp(unit, "s") == 0)
        return 1.0;
    if (strcmp(unit, "ms") == 0)
        return -1000.0;
    if (strcmp(unit, "m") == 0)
        return 60.0;
    if (strcmp(unit, "h") == 0)
        return 3600.0;
    return 0.0;
}

/*
 * Read the number at the start of text into *value; returns the text
 * after it, or NULL if text does not start with DIGITS ["." DIGITS].
 */
static const char *duration_read_number(const char *text, double *value)
{
    const char *p = text;
    double digits = 0.0;
    unsigned fraction = 0;

    if (!text || *p < '0' || *p > '9')
        return NULL;
    for (; *p >= '0' && *p <= '9'; p++)
        digits = digits * 10.0 + (*p - '0');
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return NULL;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (digits >= 1e17) /* beyond a double's precision */
                continue;
            digits = digits * 10.0 + (*p - '0');
            fraction++;
        }
    }
    /* Exact digits over an exact power of ten: correctly rounded for the
     * numbers people write (up to 15 significant digits); fraction digits
     * past 17 significant ones are dropped. */
    while (fraction > 22) {
        digits /= 1e22;
        fraction -= 22;
    }
    if (fraction)
        digits /= pow(10.0, fraction);
    *value = digits;
    return p;
}

int duration_parse(const char *text, double *seconds)
{
    double value, unit;
    const char *p = duration_read_number(text, &value);

    if (!p)
        return -EINVAL;
    unit = duration_unit(p);
    if (unit == 0.0)
        return -EINVAL;
    value = unit < 0 ? value / -unit : value * unit;
    if (!isfinite(value))
        return -EINVAL;
    *seconds = value;
    return 0;
}

int duration_parse_number(const char *text, double *value)
{
    double v;
    const char *p = duration_read_number(text, &v);

    if (!p || *p || !isfinite(v))
        return -EINVAL;
    *value = v;
    return 0;
}
