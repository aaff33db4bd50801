/*
 * test_control_protocol.c - the tmemctl protocol's parser and messages
 * (src/control/control_protocol.c). Rules checked, one test each:
 *  - a good request gives its id, command and only its own arguments;
 *  - every class of bad request is refused with one line naming what is
 *    wrong (not JSON, not an object, NUL byte, two lines, too long,
 *    tmemctl missing / not an integer / another version naming both,
 *    id missing / negative / not an integer, command missing / not a
 *    string / a bad name, a duplicate member), the id kept when readable;
 *  - the argument check names a missing, unknown or wrong-typed argument;
 *  - replies are one line each and parse back (ok and error; id null).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/control_protocol.h"

/* Parse text; expect failure with err containing want; return the id. */
static int64_t expect_bad(const char *text, size_t len, const char *want)
{
    struct control_request req;
    char err[512] = "";

    assert_int_equal(control_request_parse(text, len, &req, err, sizeof(err)), -EINVAL);
    if (!strstr(err, want))
        fail_msg("\"%s\": error \"%s\" does not say \"%s\"", text, err, want);
    assert_null(strchr(err, '\n'));
    assert_null(req.args);
    return req.id;
}

#define BAD(text, want) expect_bad(text, strlen(text), want)

static void test_good_request(void **state)
{
    const char *line = "{\"tmemctl\": 1, \"id\": 42, \"command\": \"set-weight\", "
                       "\"guest\": \"a\", \"weight\": 7}\n";
    struct control_request req;
    char err[256];

    (void)state;
    assert_int_equal(control_request_parse(line, strlen(line), &req, err, sizeof(err)), 0);
    assert_int_equal(req.id, 42);
    assert_string_equal(req.command, "set-weight");
    assert_int_equal(json_object_size(req.args), 2);
    assert_string_equal(json_string_value(json_object_get(req.args, "guest")), "a");
    assert_int_equal(json_integer_value(json_object_get(req.args, "weight")), 7);
    assert_null(json_object_get(req.args, "tmemctl"));
    control_request_free(&req);
    assert_null(req.args);
}

static void test_bad_requests(void **state)
{
    char big[CONTROL_MESSAGE_MAX + 10];

    (void)state;
    BAD("{\"tmemctl\": 1, \"id\": 1, \"command\": \"list\"", "not JSON");
    BAD("", "not JSON");
    BAD("[1, 2]", "not a JSON object");
    BAD("\"list\"", "not JSON"); /* a bare string is not a document jansson takes */
    assert_int_equal(expect_bad("{\"tmemctl\": 1,\0 \"id\": 1}", 23, "NUL byte"), -1);
    BAD("{\"tmemctl\": 1,\n \"id\": 1, \"command\": \"list\"}\n", "more than one line");
    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    expect_bad(big, sizeof(big), "message too long");
    BAD("{\"id\": 1, \"command\": \"list\"}", "missing member \"tmemctl\"");
    BAD("{\"tmemctl\": \"1\", \"id\": 1, \"command\": \"list\"}", "\"tmemctl\" must be an integer");
    /* another version: both named, the id still known for the reply */
    assert_int_equal(BAD("{\"tmemctl\": 2, \"id\": 5, \"command\": \"list\"}",
                         "protocol version 2 not supported: this side speaks version 1"), 5);
    BAD("{\"tmemctl\": 1, \"command\": \"list\"}", "missing member \"id\"");
    BAD("{\"tmemctl\": 1, \"id\": -3, \"command\": \"list\"}", "\"id\" must be an integer >= 0");
    BAD("{\"tmemctl\": 1, \"id\": 1.5, \"command\": \"list\"}", "\"id\" must be an integer >= 0");
    assert_int_equal(BAD("{\"tmemctl\": 1, \"id\": 9}", "missing member \"command\""), 9);
    BAD("{\"tmemctl\": 1, \"id\": 1, \"command\": 3}", "\"command\" must be a string");
    BAD("{\"tmemctl\": 1, \"id\": 1, \"command\": \"List\"}", "bad command name \"List\"");
    BAD("{\"tmemctl\": 1, \"id\": 1, \"command\": \"\"}", "bad command name");
    /* a JSON escape puts a newline in the name: the error stays one line
     * (make fuzz found this) */
    BAD("{\"tmemctl\": 1, \"id\": 1, \"command\": \"s\\nul\"}", "bad command name \"s?ul\"");
    BAD("{\"tmemctl\": 1, \"id\": 1, \"command\": \"a-very-long-command-name-beyond-31\"}",
        "bad command name");
    BAD("{\"tmemctl\": 1, \"id\": 1, \"command\": \"list\", \"x\": 1, \"x\": 2}", "duplicate");
}

static const struct control_arg spec[] = {
    {"guest", CONTROL_ARG_STRING, true},
    {"weight", CONTROL_ARG_INTEGER, true},
    {"every", CONTROL_ARG_NUMBER, false},
    {"json", CONTROL_ARG_BOOL, false},
};

static void expect_args(const char *json, int want_rc, const char *want)
{
    json_t *args = json_loads(json, 0, NULL);
    char err[256] = "";

    assert_non_null(args);
    assert_int_equal(control_args_check(args, spec, 4, err, sizeof(err)), want_rc);
    if (want && !strstr(err, want))
        fail_msg("%s: error \"%s\" does not say \"%s\"", json, err, want);
    json_decref(args);
}

static void test_args_check(void **state)
{
    (void)state;
    expect_args("{\"guest\": \"a\", \"weight\": 3}", 0, NULL);
    expect_args("{\"guest\": \"a\", \"weight\": 3, \"every\": 0.5, \"json\": true}", 0, NULL);
    expect_args("{\"guest\": \"a\", \"every\": 2}", -EINVAL, "missing argument \"weight\"");
    expect_args("{\"guest\": \"a\", \"weight\": 3, \"colour\": 1}", -EINVAL,
                "unknown argument \"colour\"");
    expect_args("{\"guest\": \"a\", \"weight\": 3, \"col\\nour\": 1}", -EINVAL,
                "unknown argument \"col?our\"");
    expect_args("{\"guest\": \"a\", \"weight\": \"3\"}", -EINVAL,
                "argument \"weight\" must be an integer");
    expect_args("{\"guest\": 1, \"weight\": 3}", -EINVAL, "argument \"guest\" must be a string");
    expect_args("{\"guest\": \"a\", \"weight\": 3, \"every\": \"x\"}", -EINVAL,
                "argument \"every\" must be a number");
    expect_args("{\"guest\": \"a\", \"weight\": 3, \"json\": 1}", -EINVAL,
                "argument \"json\" must be true or false");
}

static void test_replies(void **state)
{
    struct control_reply r;
    char err[256], *line;
    json_t *args = json_pack("{s:s}", "guest", "a");

    (void)state;
    line = control_reply_ok(3, json_pack("{s:i}", "x", 1));
    assert_non_null(line);
    assert_string_equal(line, "{\"tmemctl\":1,\"id\":3,\"ok\":true,\"result\":{\"x\":1}}\n");
    assert_int_equal(control_reply_parse(line, strlen(line), &r, err, sizeof(err)), 0);
    assert_true(r.ok);
    assert_int_equal(r.id, 3);
    assert_int_equal(json_integer_value(json_object_get(r.result, "x")), 1);
    control_reply_free(&r);
    free(line);

    line = control_reply_error(-1, "bad thing");
    assert_string_equal(line, "{\"tmemctl\":1,\"id\":null,\"ok\":false,\"error\":\"bad thing\"}\n");
    assert_int_equal(control_reply_parse(line, strlen(line), &r, err, sizeof(err)), 0);
    assert_false(r.ok);
    assert_int_equal(r.id, -1);
    assert_string_equal(r.error, "bad thing");
    control_reply_free(&r);
    free(line);

    /* a message cut inside a UTF-8 sequence still makes a reply */
    line = control_reply_error(1, "name \xc3");
    assert_non_null(line);
    free(line);

    line = control_request_format(8, "freeze", args);
    assert_string_equal(line, "{\"tmemctl\":1,\"id\":8,\"command\":\"freeze\",\"guest\":\"a\"}\n");
    free(line);
    json_decref(args);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_request),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_args_check),
        cmocka_unit_test(test_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
