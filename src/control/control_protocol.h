/*
 * control_protocol.h - the tmemctl protocol (docs/control.md): messages
 * between tmemctl and a running program (the testbed runner, tmemfs)
 * over a Unix stream socket.
 *
 * Each message is one JSON object on one line ending in "\n", at most
 * CONTROL_MESSAGE_MAX bytes with the newline. A request:
 *     {"tmemctl": 1, "id": N, "command": "NAME", ...arguments}
 * a reply, with the request's id:
 *     {"tmemctl": 1, "id": N, "ok": true, "result": {...}}
 *     {"tmemctl": 1, "id": N, "ok": false, "error": "one line"}
 * (id null when the request was too broken to have one).
 *
 * control_request_parse is the one parser of requests (the server's;
 * fuzzed by tools/fuzz/fuzz_control.c); control_args_check checks a
 * request's arguments against a command's list of them before the
 * command runs, so a refused request changes nothing.
 *
 * Thread safety: every function is pure or works on its arguments only.
 */
#ifndef CONTROL_PROTOCOL_H
#define CONTROL_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The protocol version this build speaks (the "tmemctl" member). */
#define CONTROL_PROTOCOL_VERSION 1
/* Longest message, newline included. */
#define CONTROL_MESSAGE_MAX 65536
/* Longest command name. */
#define CONTROL_COMMAND_MAX 31

struct control_request {
    int64_t id;                          /* >= 0; -1 until known */
    char command[CONTROL_COMMAND_MAX + 1];
    json_t *args;                        /* every other member (an object; owned) */
};

/*
 * Parse one request line (len bytes; the "\n" may be included or not).
 * Returns 0 with *out filled (free with control_request_free), or
 * -EINVAL with one line in err: not JSON (with the column), not an
 * object, a NUL byte, a missing or wrong-typed "tmemctl", "id" or
 * "command", another version ("protocol version 2 not supported: this
 * side speaks version 1"), a bad command name, a duplicate member.
 * On failure out->id is the request's id when it could be read (else -1)
 * and out->args is NULL.
 */
int control_request_parse(const char *line, size_t len, struct control_request *out,
                          char *err, size_t errlen);

/* Free what control_request_parse allocated (out stays valid, empty). */
void control_request_free(struct control_request *req);

/* The kind of value an argument takes. */
enum control_arg_type {
    CONTROL_ARG_STRING,
    CONTROL_ARG_INTEGER,   /* a JSON integer */
    CONTROL_ARG_NUMBER,    /* a JSON integer or real */
    CONTROL_ARG_BOOL,
};

/* One argument of a command. */
struct control_arg {
    const char *name;
    enum control_arg_type type;
    bool required;
};

/*
 * Check args (a request's arguments) against spec (nspec entries): every
 * required one present, none unknown, each of its type. Returns 0, or
 * -EINVAL with one line in err naming the argument ("missing argument
 * \"guest\"", "unknown argument \"x\"", "argument \"weight\" must be an
 * integer").
 */
int control_args_check(const json_t *args, const struct control_arg *spec, size_t nspec,
                       char *err, size_t errlen);

/*
 * Replies and requests as lines ("...}\n", malloc'ed; NULL when out of
 * memory). id < 0 writes "id": null. control_reply_ok steals result
 * (NULL: an empty object). control_request_format does not steal args
 * (NULL: none).
 */
char *control_reply_ok(int64_t id, json_t *result);
char *control_reply_error(int64_t id, const char *message);
char *control_request_format(int64_t id, const char *command, const json_t *args);

/* A reply as read by a client. */
struct control_reply {
    int64_t id;         /* -1 for null */
    bool ok;
    json_t *result;     /* ok: the result object (owned) */
    char *error;        /* !ok: the message (owned) */
};

/* Parse a reply line. 0, or -EINVAL with one line in err. Free with
 * control_reply_free. */
int control_reply_parse(const char *line, size_t len, struct control_reply *out, char *err,
                        size_t errlen);
void control_reply_free(struct control_reply *r);

#endif /* CONTROL_PROTOCOL_H */
