/*
 * duration.h - the one grammar for lengths of time in scenarios, schedule
 * files and options of the project:
 *
 *     DURATION := DIGITS [ "." DIGITS ] [ UNIT ]     UNIT := ms | s | m | h
 *
 * seconds when no unit is given ("12", "12.5", "12.5s"), milliseconds
 * ("500ms"), minutes ("2m") or hours ("1h"). Nothing else: no sign, no
 * spaces, no exponent, no "inf" or "nan", no leading or trailing dot, no
 * value that does not fit a finite double.
 *
 * Pure functions; thread-safe (no locale: the decimal point is always '.').
 */
#ifndef COMMON_DURATION_H
#define COMMON_DURATION_H

/* What duration_parse accepts, for messages: "seconds (e.g. 12 or 12.5),
 * with an optional unit ms, s, m (minutes) or h". A static string. */
const char *duration_grammar(void);

/*
 * Parse text as DURATION. Returns 0 and sets *seconds (>= 0, finite), or
 * -EINVAL (text NULL, empty, not in the grammar, or too large) leaving
 * *seconds unchanged.
 */
int duration_parse(const char *text, double *seconds);

/*
 * The number part of the grammar alone, DIGITS ["." DIGITS] without a
 * unit, for the plain numbers that sit next to times (fractions of a
 * period, percentages, exponents). Returns 0 and sets *value, or -EINVAL
 * leaving it unchanged.
 */
int duration_parse_number(const char *text, double *value);

#endif /* COMMON_DURATION_H */
