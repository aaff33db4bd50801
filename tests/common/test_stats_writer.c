/*
 * test_stats_writer.c - the statistics writer (src/common/stats_writer.h):
 * text lines, CSV lines and JSON built with jansson, read back with
 * jansson's own parser (json_loads) so every JSON checked here is valid
 * and carries the values written.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/size.h"
#include "common/stats_writer.h"
#include "core/tmem.h"

/* Parse text (must be valid JSON) with jansson. */
static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *json = json_loads(text, JSON_DECODE_ANY, &error);

    if (!json)
        fail_msg("not valid JSON (%s at %d): %s", error.text, error.position, text);
    return json;
}

/* Rule: text is "name value" lines, names padded to the width, strings as
 * they are; a limit lifted is the word unlimited. (Byte for byte what the
 * writer printed before JSON went through jansson.) */
static void test_text_lines(void **state)
{
    struct stats_writer w;
    char buf[256];
    int n;

    (void)state;
    stats_writer_begin(&w, buf, sizeof(buf), false, 6);
    stats_writer_u64(&w, "a", 1);
    stats_writer_string(&w, "name", "x\"y");
    stats_writer_double(&w, "t", 1.5);
    stats_writer_limit(&w, "cap", SIZE_UNLIMITED);
    stats_writer_limit(&w, "cap2", 4096);
    stats_writer_u64(&w, "big", UINT64_MAX);
    n = stats_writer_end(&w, true);
    assert_string_equal(buf, "a      1\nname   x\"y\nt      1.500\ncap    unlimited\n"
                             "cap2   4096\nbig    18446744073709551615\n");
    assert_int_equal(n, (int)strlen(buf));
}

/* Rule: the JSON object has the members in the order written, ", " and
 * ": " between them, on one line; strings with quotes, backslashes and
 * control characters come back exactly through a JSON parser; a limit
 * lifted is the string "unlimited"; an integer above INT64_MAX is the
 * string of its digits, INT64_MAX itself still a number. */
static void test_json_round_trips(void **state)
{
    static const char nasty[] = "/mnt/a \"quoted\" \\back\\slash\n\ttab\x01\x1f end";
    struct stats_writer w;
    char buf[512];
    json_t *json, *v;
    const char *key;
    int n, i = 0;
    static const char *const order[] = { "name", "a", "cap", "cap2", "big", "max", "t" };

    (void)state;
    stats_writer_begin(&w, buf, sizeof(buf), true, 0);
    stats_writer_string(&w, "name", nasty);
    stats_writer_u64(&w, "a", 7);
    stats_writer_limit(&w, "cap", SIZE_UNLIMITED);
    stats_writer_limit(&w, "cap2", 4096);
    stats_writer_u64(&w, "big", UINT64_MAX - 1);
    stats_writer_u64(&w, "max", (uint64_t)INT64_MAX);
    stats_writer_double(&w, "t", 2.0 / 3.0);
    n = stats_writer_end(&w, true);
    assert_int_equal(n, (int)strlen(buf));
    assert_int_equal(buf[n - 1], '\n');
    assert_ptr_equal(strchr(buf, '\n'), buf + n - 1); /* one line */
    assert_non_null(strstr(buf, "{\"name\": \""));
    assert_non_null(strstr(buf, "\", \"a\": 7, \"cap\": \"unlimited\", \"cap2\": 4096, "));

    json = parse(buf);
    assert_true(json_is_object(json));
    assert_int_equal(json_object_size(json), 7);
    json_object_foreach(json, key, v)
        assert_string_equal(key, order[i++]);
    assert_string_equal(json_string_value(json_object_get(json, "name")), nasty);
    assert_true(json_integer_value(json_object_get(json, "a")) == 7);
    assert_string_equal(json_string_value(json_object_get(json, "cap")), "unlimited");
    assert_true(json_integer_value(json_object_get(json, "cap2")) == 4096);
    assert_string_equal(json_string_value(json_object_get(json, "big")),
                        "18446744073709551614");
    assert_true(json_is_integer(json_object_get(json, "max")));
    assert_true(json_integer_value(json_object_get(json, "max")) == INT64_MAX);
    assert_true(json_real_value(json_object_get(json, "t")) == 0.667);
    json_decref(json);
}

/* Rule: the length the whole rendering needs comes back whatever the
 * buffer (snprintf's contract): a short buffer holds a NUL-terminated
 * prefix of the full rendering, a NULL one nothing. */
static void test_json_truncates_like_snprintf(void **state)
{
    struct stats_writer w;
    char buf[256], small[8];
    int n;

    (void)state;
    stats_writer_begin(&w, buf, sizeof(buf), true, 0);
    stats_writer_string(&w, "name", "x\"y\\\n");
    stats_writer_u64(&w, "a", 12345);
    n = stats_writer_end(&w, true);
    assert_string_equal(buf, "{\"name\": \"x\\\"y\\\\\\n\", \"a\": 12345}\n");
    assert_int_equal(n, (int)strlen(buf));

    memset(small, 'x', sizeof(small));
    stats_writer_begin(&w, small, sizeof(small), true, 0);
    stats_writer_string(&w, "name", "x\"y\\\n");
    stats_writer_u64(&w, "a", 12345);
    assert_int_equal(stats_writer_end(&w, true), n);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, buf, sizeof(small) - 1);

    stats_writer_begin(&w, NULL, 0, true, 0);
    stats_writer_string(&w, "name", "x\"y\\\n");
    stats_writer_u64(&w, "a", 12345);
    assert_int_equal(stats_writer_end(&w, true), n);
}

/* Rule: the same walk gives a CSV header of the names and a CSV row of the
 * values, strings quoted with doubled quotes, fractions with 3 decimals,
 * a limit lifted as unlimited. */
static void test_csv_lines(void **state)
{
    struct stats_writer w;
    char buf[128];

    (void)state;
    stats_writer_begin_csv(&w, buf, sizeof(buf), true);
    stats_writer_double(&w, "time", 1.5);
    stats_writer_string(&w, "mountpoint", "/m,\"x\"");
    stats_writer_u64(&w, "a", 7);
    stats_writer_limit(&w, "cap", SIZE_UNLIMITED);
    assert_int_equal(stats_writer_end(&w, false), (int)strlen("time,mountpoint,a,cap\n"));
    assert_string_equal(buf, "time,mountpoint,a,cap\n");
    stats_writer_begin_csv(&w, buf, sizeof(buf), false);
    stats_writer_double(&w, "time", 1.5);
    stats_writer_string(&w, "mountpoint", "/m,\"x\"");
    stats_writer_u64(&w, "a", 7);
    stats_writer_limit(&w, "cap", SIZE_UNLIMITED);
    stats_writer_end(&w, false);
    assert_string_equal(buf, "1.500,\"/m,\"\"x\"\"\",7,unlimited\n");
}

/* Rule: a writer begun on the caller's object adds its values after the
 * members the object has, so documents nest (an array of such objects)
 * without any string splicing; the object stays the caller's. */
static void test_object_nests(void **state)
{
    json_t *array = json_array(), *back;
    char *text;

    (void)state;
    for (int i = 0; i < 2; i++) {
        struct stats_writer w;
        json_t *obj = json_object();

        assert_int_equal(stats_json_set(obj, "mountpoint", stats_json_string(i ? "/b" : "/a")), 0);
        stats_writer_begin_object(&w, obj);
        stats_writer_u64(&w, "hits", 10 + (uint64_t)i);
        stats_writer_limit(&w, "cap", SIZE_UNLIMITED);
        assert_int_equal(stats_writer_end(&w, true), 0);
        assert_int_equal(json_array_append_new(array, obj), 0);
    }
    text = stats_json_dumps(array, true);
    assert_non_null(text);
    assert_string_equal(text, "[{\"mountpoint\": \"/a\", \"hits\": 10, \"cap\": \"unlimited\"}, "
                              "{\"mountpoint\": \"/b\", \"hits\": 11, \"cap\": \"unlimited\"}]\n");
    back = parse(text);
    assert_true(json_equal(back, array));
    json_decref(back);
    json_decref(array);
    free(text);
}

/* Rule: a string whose bytes are not UTF-8 still gives valid JSON, each
 * bad byte as U+FFFD, the well-formed characters (2, 3, 4 bytes) kept. */
static void test_json_strings_not_utf8(void **state)
{
    static const struct { const char *in, *out; } cases[] = {
        { "/mnt/caf\xc3\xa9", "/mnt/caf\xc3\xa9" },                   /* é kept */
        { "a\xff" "b", "a\xef\xbf\xbd" "b" },                         /* stray byte */
        { "\xc3", "\xef\xbf\xbd" },                                   /* cut short */
        { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                   /* overlong '/' */
        { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },   /* surrogate */
        { "\xe2\x82\xac\xf0\x9f\x98\x80", "\xe2\x82\xac\xf0\x9f\x98\x80" }, /* euro, emoji */
        { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stats_writer w;
        char buf[128];
        json_t *json;

        stats_writer_begin(&w, buf, sizeof(buf), true, 0);
        stats_writer_string(&w, "mountpoint", cases[i].in);
        assert_true(stats_writer_end(&w, false) > 0);
        json = parse(buf);
        assert_string_equal(json_string_value(json_object_get(json, "mountpoint")),
                            cases[i].out);
        json_decref(json);
    }
}

/* Rule: fractions are rounded to their decimals and written shortest;
 * NaN and infinities are null (JSON has no such numbers); no -0.0. */
static void test_json_reals(void **state)
{
    json_t *array = json_array();
    char *text;

    (void)state;
    json_array_append_new(array, stats_json_real(1.2345, 3));
    json_array_append_new(array, stats_json_real(2.0, 3));
    json_array_append_new(array, stats_json_real(0.1, 6));
    json_array_append_new(array, stats_json_real(-0.0001, 3));
    json_array_append_new(array, stats_json_real(NAN, 3));
    json_array_append_new(array, stats_json_real(INFINITY, 1));
    json_array_append_new(array, stats_json_real(123456.78, 1));
    text = stats_json_dumps(array, false);
    assert_string_equal(text, "[1.234, 2.0, 0.1, 0.0, null, null, 123456.8]");
    free(text);
    json_decref(array);
}

/* Rule: the file layout has one member per line and one array element
 * per line, and parses back to the same document. */
static void test_write_lines_layout(void **state)
{
    json_t *doc = json_object(), *samples = json_array(), *back;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    stats_json_set(doc, "config", json_pack("{s:i, s:s}", "guests", 2, "mode", "de\"fault"));
    stats_json_set(doc, "interrupted", json_false());
    stats_json_set(doc, "empty", json_array());
    json_array_append_new(samples, json_pack("{s:i}", "at", 1));
    json_array_append_new(samples, json_pack("{s:i}", "at", 2));
    stats_json_set(doc, "samples", samples);
    f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(stats_json_write_lines(f, doc), 0);
    fclose(f);
    assert_string_equal(text, "{\n"
                              "  \"config\": {\"guests\": 2, \"mode\": \"de\\\"fault\"},\n"
                              "  \"interrupted\": false,\n"
                              "  \"empty\": [],\n"
                              "  \"samples\": [\n"
                              "    {\"at\": 1},\n"
                              "    {\"at\": 2}\n"
                              "  ]\n"
                              "}\n");
    back = parse(text);
    assert_true(json_equal(back, doc));
    json_decref(back);
    json_decref(doc);
    free(text);
}

/* Rule (the writer's user in the core, tmem_stats_format): the store's
 * statistics in JSON parse back with every field in the list's order and
 * value, an unlimited capacity as "unlimited" (in text too), a set one as
 * its number. */
static void test_core_stats_json(void **state)
{
    static const char *const names[] = {
#define NAME_(kind, id, name, help) #name,
        TMEM_STATS_FIELDS(NAME_)
#undef NAME_
    };
    struct tmem_stats st;
    char buf[8192];
    json_t *json, *v;
    const char *key;
    size_t i = 0;

    (void)state;
    memset(&st, 0, sizeof(st));
    st.succ_gets = 42;
    st.capacity_bytes = TMEM_CAPACITY_UNLIMITED;
    assert_true(tmem_stats_format(&st, true, buf, sizeof(buf)) < (int)sizeof(buf));
    json = parse(buf);
    json_object_foreach(json, key, v) {
        assert_true(i < sizeof(names) / sizeof(names[0]));
        assert_string_equal(key, names[i++]);
    }
    assert_int_equal(i, sizeof(names) / sizeof(names[0]));
    assert_true(json_integer_value(json_object_get(json, "succ_gets")) == 42);
    assert_string_equal(json_string_value(json_object_get(json, "capacity_bytes")), "unlimited");
    json_decref(json);
    assert_true(tmem_stats_format(&st, false, buf, sizeof(buf)) < (int)sizeof(buf));
    assert_non_null(strstr(buf, "\ncapacity_bytes             unlimited\n"));

    st.capacity_bytes = 64 << 20;
    assert_true(tmem_stats_format(&st, true, buf, sizeof(buf)) < (int)sizeof(buf));
    json = parse(buf);
    assert_true(json_integer_value(json_object_get(json, "capacity_bytes")) == 64 << 20);
    json_decref(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_lines),
        cmocka_unit_test(test_json_round_trips),
        cmocka_unit_test(test_json_truncates_like_snprintf),
        cmocka_unit_test(test_csv_lines),
        cmocka_unit_test(test_object_nests),
        cmocka_unit_test(test_json_strings_not_utf8),
        cmocka_unit_test(test_json_reals),
        cmocka_unit_test(test_write_lines_layout),
        cmocka_unit_test(test_core_stats_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
