/*
 * error_text.c - one-line error messages into a caller's buffer
 * (error_text.h): vsnprintf, then every control character replaced by
 * '?'. No state.
 */
#include "common/error_text.h"

#include <stdarg.h>
#include <stdio.h>

void error_text_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* quoted input may bring control characters (a JSON "\n" in a
     * command name, say): the message stays one line */
    for (char *c = err; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
            *c = '?';
}
