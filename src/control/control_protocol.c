/*
 * control_protocol.c - the tmemctl protocol's messages (control_protocol.h).
 *
 * Models: the wire format only: one JSON object a line, parsed and built
 * with jansson (objects with members in insertion order, compact, one
 * line). Data structures: none of its own; a request's arguments are the
 * parsed object minus the three protocol members. No locks, no globals.
 */
#include "control/control_protocol.h"

#include "common/error_text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Is name a command name: [a-z][a-z0-9-]*, at most CONTROL_COMMAND_MAX? */
static bool control_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > CONTROL_COMMAND_MAX || name[0] < 'a' || name[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

int control_request_parse(const char *line, size_t len, struct control_request *out,
                          char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = NULL, *version, *id, *command;
    const char *name;

    memset(out, 0, sizeof(*out));
    out->id = -1;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len + 1 > CONTROL_MESSAGE_MAX) {
        error_text_set(err, errlen, "message too long (more than %d bytes)", CONTROL_MESSAGE_MAX);
        return -EINVAL;
    }
    if (memchr(line, '\0', len)) {
        error_text_set(err, errlen, "message has a NUL byte");
        return -EINVAL;
    }
    if (memchr(line, '\n', len)) {
        error_text_set(err, errlen, "message has more than one line");
        return -EINVAL;
    }
    root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        error_text_set(err, errlen, "not JSON: %s at column %d", jerr.text, jerr.column);
        return -EINVAL;
    }
    if (!json_is_object(root)) {
        error_text_set(err, errlen, "message is not a JSON object");
        goto bad;
    }
    id = json_object_get(root, "id");
    if (json_is_integer(id) && json_integer_value(id) >= 0)
        out->id = json_integer_value(id);
    version = json_object_get(root, "tmemctl");
    if (!version) {
        error_text_set(err, errlen, "missing member \"tmemctl\" (the protocol version, %d)",
                       CONTROL_PROTOCOL_VERSION);
        goto bad;
    }
    if (!json_is_integer(version)) {
        error_text_set(err, errlen, "member \"tmemctl\" must be an integer (the protocol "
                       "version, %d)", CONTROL_PROTOCOL_VERSION);
        goto bad;
    }
    if (json_integer_value(version) != CONTROL_PROTOCOL_VERSION) {
        error_text_set(err, errlen, "protocol version %lld not supported: this side speaks "
                       "version %d", (long long)json_integer_value(version),
                       CONTROL_PROTOCOL_VERSION);
        goto bad;
    }
    if (!id) {
        error_text_set(err, errlen, "missing member \"id\"");
        goto bad;
    }
    if (out->id < 0) {
        error_text_set(err, errlen, "member \"id\" must be an integer >= 0");
        goto bad;
    }
    command = json_object_get(root, "command");
    if (!command) {
        error_text_set(err, errlen, "missing member \"command\"");
        goto bad;
    }
    if (!json_is_string(command)) {
        error_text_set(err, errlen, "member \"command\" must be a string");
        goto bad;
    }
    name = json_string_value(command);
    if (!control_name_valid(name)) {
        error_text_set(err, errlen, "bad command name \"%.40s\" (lower-case letters, digits "
                       "and '-', at most %d)", name, CONTROL_COMMAND_MAX);
        goto bad;
    }
    snprintf(out->command, sizeof(out->command), "%s", name);
    json_object_del(root, "tmemctl");
    json_object_del(root, "id");
    json_object_del(root, "command");
    out->args = root;
    return 0;
bad:
    json_decref(root);
    return -EINVAL;
}

void control_request_free(struct control_request *req)
{
    json_decref(req->args);
    req->args = NULL;
}

static const char *control_arg_type_name(enum control_arg_type t)
{
    switch (t) {
    case CONTROL_ARG_STRING:
        return "a string";
    case CONTROL_ARG_INTEGER:
        return "an integer";
    case CONTROL_ARG_NUMBER:
        return "a number";
    case CONTROL_ARG_BOOL:
        return "true or false";
    }
    return "?";
}

static bool control_arg_type_ok(const json_t *v, enum control_arg_type t)
{
    switch (t) {
    case CONTROL_ARG_STRING:
        return json_is_string(v);
    case CONTROL_ARG_INTEGER:
        return json_is_integer(v);
    case CONTROL_ARG_NUMBER:
        return json_is_number(v);
    case CONTROL_ARG_BOOL:
        return json_is_boolean(v);
    }
    return false;
}

int control_args_check(const json_t *args, const struct control_arg *spec, size_t nspec,
                       char *err, size_t errlen)
{
    const char *key;
    json_t *value;

    if (!json_is_object(args)) {
        error_text_set(err, errlen, "arguments are not an object");
        return -EINVAL;
    }
    json_object_foreach((json_t *)args, key, value) {
        size_t i;

        for (i = 0; i < nspec && strcmp(spec[i].name, key); i++)
            ;
        if (i == nspec) {
            error_text_set(err, errlen, "unknown argument \"%.60s\"", key);
            return -EINVAL;
        }
        if (!control_arg_type_ok(value, spec[i].type)) {
            error_text_set(err, errlen, "argument \"%s\" must be %s", spec[i].name,
                           control_arg_type_name(spec[i].type));
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < nspec; i++) {
        if (spec[i].required && !json_object_get(args, spec[i].name)) {
            error_text_set(err, errlen, "missing argument \"%s\"", spec[i].name);
            return -EINVAL;
        }
    }
    return 0;
}

/* The object as one line with "\n" (malloc'ed), consuming obj. */
static char *control_line(json_t *obj)
{
    char *text, *line = NULL;
    size_t n;

    if (!obj)
        return NULL;
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!text)
        return NULL;
    n = strlen(text);
    line = malloc(n + 2);
    if (line) {
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = '\0';
    }
    free(text);
    return line;
}

/* {"tmemctl": V, "id": id|null} */
static json_t *control_envelope(int64_t id)
{
    json_t *obj = json_object();

    if (!obj)
        return NULL;
    if (json_object_set_new(obj, "tmemctl", json_integer(CONTROL_PROTOCOL_VERSION)) != 0 ||
        json_object_set_new(obj, "id", id < 0 ? json_null() : json_integer(id)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

char *control_reply_ok(int64_t id, json_t *result)
{
    json_t *obj = control_envelope(id);

    if (!result)
        result = json_object();
    if (!obj || !result || json_object_set_new(obj, "ok", json_true()) != 0 ||
        json_object_set_new(obj, "result", result) != 0) {
        if (!obj)
            json_decref(result);
        json_decref(obj);
        return NULL;
    }
    return control_line(obj);
}

/* message as a JSON string; a message cut inside a UTF-8 sequence (a
 * truncated name) gets '?' for every non-ASCII byte instead. */
static json_t *control_message_json(const char *message)
{
    json_t *s = json_string(message);
    char *copy;

    if (s || !message)
        return s;
    copy = strdup(message);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    s = json_string(copy);
    free(copy);
    return s;
}

char *control_reply_error(int64_t id, const char *message)
{
    json_t *obj = control_envelope(id);

    if (!obj || json_object_set_new(obj, "ok", json_false()) != 0 ||
        json_object_set_new(obj, "error", control_message_json(message)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return control_line(obj);
}

char *control_request_format(int64_t id, const char *command, const json_t *args)
{
    json_t *obj = control_envelope(id);

    if (!obj || json_object_set_new(obj, "command", json_string(command)) != 0 ||
        (args && json_object_update(obj, (json_t *)args) != 0)) {
        json_decref(obj);
        return NULL;
    }
    return control_line(obj);
}

int control_reply_parse(const char *line, size_t len, struct control_reply *out, char *err,
                        size_t errlen)
{
    json_error_t jerr;
    json_t *root, *id, *ok, *v;

    memset(out, 0, sizeof(*out));
    out->id = -1;
    root = json_loadb(line, len, 0, &jerr);
    if (!root) {
        error_text_set(err, errlen, "reply is not JSON: %s", jerr.text);
        return -EINVAL;
    }
    v = json_object_get(root, "tmemctl");
    if (!json_is_integer(v) || json_integer_value(v) != CONTROL_PROTOCOL_VERSION) {
        error_text_set(err, errlen, "reply of another protocol version (this side speaks %d)",
                       CONTROL_PROTOCOL_VERSION);
        goto bad;
    }
    id = json_object_get(root, "id");
    if (json_is_integer(id))
        out->id = json_integer_value(id);
    ok = json_object_get(root, "ok");
    if (!json_is_boolean(ok)) {
        error_text_set(err, errlen, "reply without \"ok\"");
        goto bad;
    }
    out->ok = json_is_true(ok);
    if (out->ok) {
        v = json_object_get(root, "result");
        out->result = v ? json_incref(v) : json_object();
    } else {
        v = json_object_get(root, "error");
        out->error = strdup(json_is_string(v) ? json_string_value(v) : "error without a message");
        if (!out->error) {
            error_text_set(err, errlen, "out of memory");
            goto bad;
        }
    }
    json_decref(root);
    return 0;
bad:
    json_decref(root);
    return -EINVAL;
}

void control_reply_free(struct control_reply *r)
{
    json_decref(r->result);
    free(r->error);
    r->result = NULL;
    r->error = NULL;
}
