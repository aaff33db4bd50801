/*
 * message.c - one-line messages (message.h). No state, no locking.
 */
#include "testbed/message.h"

#include <stdarg.h>
#include <stdio.h>

void testbed_message_guest(char *err, size_t errlen, const struct scenario *sc,
                           const struct scenario_guest *sg, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!err || !errlen)
        return;
    n = snprintf(err, errlen, "%s:%u: guest %s: ", sc->path, sg->line, sg->name);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}
