/*
 * test_error_text.c - the one way errors are handed back
 * (src/common/error_text.h): printf into the caller's buffer, truncated,
 * and always one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/error_text.h"

/* Rule: quoted input cannot break the message into lines: every control
 * character of the result (newline, CR, tab, escape, DEL) is '?', and the
 * rest is kept as it is. */
static void test_error_text_is_one_line(void **state)
{
    char err[64];

    (void)state;
    error_text_set(err, sizeof(err), "bad name \"%s\" (%d)", "a\nb\r\tc\x1b[0m\x7f", 3);
    assert_string_equal(err, "bad name \"a?b??c?[0m?\" (3)");
    error_text_set(err, sizeof(err), "plain text, caf\xc3\xa9");
    assert_string_equal(err, "plain text, caf\xc3\xa9");
}

/* Rule: truncated to the buffer, always NUL-terminated; a NULL buffer or
 * a zero length is left alone. */
static void test_error_text_truncates_and_ignores_no_buffer(void **state)
{
    char err[8] = "xxxxxxx";

    (void)state;
    error_text_set(err, sizeof(err), "%s", "0123456789");
    assert_string_equal(err, "0123456");
    error_text_set(err, 0, "%s", "ignored");
    assert_string_equal(err, "0123456");
    error_text_set(NULL, 10, "%s", "ignored");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_text_is_one_line),
        cmocka_unit_test(test_error_text_truncates_and_ignores_no_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
