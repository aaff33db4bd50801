/*
 * test_words_and_files.c - the on/off grammar (src/common/yesno.h) and
 * the whole-file reader (src/common/text_file.h) every scenario, schedule
 * and option parser uses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/text_file.h"
#include "common/yesno.h"

/* Rule: exactly the eight words, lower case; anything else is -EINVAL and
 * leaves the value alone. */
static void test_yesno_accepts_eight_words_only(void **state)
{
    static const char *yes[] = {"yes", "on", "true", "1"};
    static const char *no[] = {"no", "off", "false", "0"};
    static const char *bad[] = {"", "Yes", "ON", "2", "y", "n", "yes ", " no", "onn", "-1"};
    bool v;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        v = false;
        assert_int_equal(yesno_parse(yes[i], &v), 0);
        assert_true(v);
        v = true;
        assert_int_equal(yesno_parse(no[i], &v), 0);
        assert_false(v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = true;
        assert_int_equal(yesno_parse(bad[i], &v), -EINVAL);
        assert_true(v);
    }
    assert_int_equal(yesno_parse(NULL, &v), -EINVAL);
}

static char *write_temp(const char *bytes, size_t n)
{
    char *path = strdup("/tmp/test_text_file.XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Rule: the whole file comes back, every byte (NULs and all), with a NUL
 * after it that the length does not count; sizes across the buffer's
 * doublings (4 KiB and beyond) are read exactly. */
static void test_text_file_reads_every_byte(void **state)
{
    static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 20000};

    (void)state;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k], len = 99;
        char *bytes = malloc(n + 1), *text = NULL, *path, err[256];

        assert_non_null(bytes);
        for (size_t i = 0; i < n; i++)
            bytes[i] = (char)(i * 7 % 251);
        path = write_temp(bytes, n);
        assert_int_equal(text_file_read(path, 1 << 20, &text, &len, err, sizeof(err)), 0);
        assert_int_equal(len, n);
        assert_memory_equal(text, bytes, n);
        assert_int_equal(text[n], '\0');
        unlink(path);
        free(path);
        free(text);
        free(bytes);
    }
}

/* Rule: a file above the limit is refused with -EFBIG and a message
 * naming it; a file of exactly the limit is read; a missing file gives
 * -ENOENT with "PATH: reason". Nothing is returned on failure. */
static void test_text_file_refuses_what_it_cannot_read(void **state)
{
    char buf[5000], err[256], *text = NULL, *path;
    size_t len = 7;

    (void)state;
    memset(buf, 'x', sizeof(buf));
    path = write_temp(buf, sizeof(buf));
    assert_int_equal(text_file_read(path, sizeof(buf) - 1, &text, &len, err, sizeof(err)),
                     -EFBIG);
    assert_null(text);
    assert_int_equal(len, 7);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "larger than 4999 bytes"));
    assert_int_equal(text_file_read(path, sizeof(buf), &text, &len, err, sizeof(err)), 0);
    assert_int_equal(len, sizeof(buf));
    free(text);
    text = NULL;
    unlink(path);
    assert_int_equal(text_file_read(path, 1 << 20, &text, &len, err, sizeof(err)), -ENOENT);
    assert_null(text);
    assert_non_null(strstr(err, "No such file"));
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yesno_accepts_eight_words_only),
        cmocka_unit_test(test_text_file_reads_every_byte),
        cmocka_unit_test(test_text_file_refuses_what_it_cannot_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
