/*
 * fuzz_control.c - libFuzzer target: the control protocol's request
 * parser (src/control/control_protocol.c) and the argument check every
 * command runs before it acts. The input is one message as the server
 * would pass it (any bytes, newline or not). Checks: a parse either
 * fails with a one-line, non-empty error and no arguments, or succeeds
 * with an id >= 0, a valid command name and an object of arguments
 * without the protocol's own members; the replies built for it are one
 * line each and parse back with the same id.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/control_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct control_arg fuzz_spec[] = {
    {"guest", CONTROL_ARG_STRING, true},
    {"weight", CONTROL_ARG_INTEGER, false},
    {"every", CONTROL_ARG_NUMBER, false},
    {"json", CONTROL_ARG_BOOL, false},
};

/* A reply line: one line, parses back with id. */
static void check_reply(char *line, int64_t id)
{
    struct control_reply r;
    char err[256];
    size_t n;

    assert(line);
    n = strlen(line);
    assert(n > 0 && line[n - 1] == '\n' && memchr(line, '\n', n - 1) == NULL);
    assert(control_reply_parse(line, n, &r, err, sizeof(err)) == 0);
    assert(r.id == id);
    control_reply_free(&r);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct control_request req;
    char err[512];
    int rc;

    err[0] = '\0';
    rc = control_request_parse((const char *)data, size, &req, err, sizeof(err));
    if (rc != 0) {
        assert(rc == -EINVAL);
        assert(err[0] != '\0' && strchr(err, '\n') == NULL);
        assert(req.args == NULL);
        check_reply(control_reply_error(req.id, err), req.id);
        return 0;
    }
    assert(req.id >= 0);
    assert(req.command[0] >= 'a' && req.command[0] <= 'z');
    assert(json_is_object(req.args));
    assert(!json_object_get(req.args, "tmemctl") && !json_object_get(req.args, "id") &&
           !json_object_get(req.args, "command"));
    err[0] = '\0';
    if (control_args_check(req.args, fuzz_spec, sizeof(fuzz_spec) / sizeof(fuzz_spec[0]), err,
                           sizeof(err)) != 0)
        assert(err[0] != '\0' && strchr(err, '\n') == NULL);
    check_reply(control_reply_ok(req.id, json_incref(req.args)), req.id);
    control_request_free(&req);
    return 0;
}
