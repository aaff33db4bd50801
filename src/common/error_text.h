/*
 * error_text.h - the one way a function hands its caller a one-line error
 * message: printf into the caller's buffer err[errlen] (truncated to fit,
 * always NUL-terminated; nothing when err is NULL or errlen is 0). Every
 * control character of the result (bytes 0x01-0x1f and 0x7f: a newline
 * or an escape inside quoted input, say) is replaced by '?', so the
 * message is one line whatever text it quotes.
 * Pure; thread-safe.
 */
#ifndef COMMON_ERROR_TEXT_H
#define COMMON_ERROR_TEXT_H

#include <stddef.h>

void error_text_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* COMMON_ERROR_TEXT_H */
