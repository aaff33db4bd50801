/*
 * yesno.h - the one grammar for on/off settings in options and scenario
 * files: "yes", "on", "true", "1" for true; "no", "off", "false", "0" for
 * false (lower case, nothing else). Pure functions; thread-safe.
 */
#ifndef COMMON_YESNO_H
#define COMMON_YESNO_H

#include <stdbool.h>

/* What yesno_parse accepts, for messages (a static string). */
#define YESNO_GRAMMAR "yes or no (also on/off, true/false, 1/0)"

/* Parse text; 0 and *out set, or -EINVAL (NULL or any other text) leaving
 * *out unchanged. */
int yesno_parse(const char *text, bool *out);

#endif /* COMMON_YESNO_H */
