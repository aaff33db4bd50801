/*
 * message.h - one-line error messages of the testbed, into a caller's
 * buffer (truncated to fit, always NUL-terminated): plain, or naming a
 * guest's place in the scenario ("FILE:LINE: guest NAME: ...").
 *
 * Pure functions; thread-safe.
 */
#ifndef TESTBED_MESSAGE_H
#define TESTBED_MESSAGE_H

#include <stddef.h>

#include "common/error_text.h"
#include "testbed/scenario.h"

/* Plain messages: error_text_set (common/error_text.h). */

/* "FILE:LINE: guest NAME: " then printf, into err[errlen]. */
void testbed_message_guest(char *err, size_t errlen, const struct scenario *sc,
                           const struct scenario_guest *sg, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif /* TESTBED_MESSAGE_H */
