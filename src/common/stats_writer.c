/*
 * stats_writer.c - rendering named values as text lines, CSV lines or one
 * JSON object (stats_writer.h).
 *
 * Text and CSV are printed as the values come (snprintf into the caller's
 * buffer). JSON goes through jansson: each value becomes a json_t member
 * of an object (the writer's own, rendered and freed by stats_writer_end,
 * or the caller's), and json_dumps renders it. The stats_json_* helpers
 * make the values by the rules of the header (limits, integers above
 * INT64_MAX, fractions, strings that are not UTF-8) for callers that build
 * larger documents. No global state; a writer is one thread's.
 */
#include "common/stats_writer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/size.h"

__attribute__((format(printf, 2, 3))) static void stats_emit(struct stats_writer *w,
                                                             const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(w->len < w->size ? w->buf + w->len : NULL,
                  w->len < w->size ? w->size - w->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        w->failed = true;
    else
        w->len += (size_t)n;
}

static void stats_writer_reset(struct stats_writer *w, char *buf, size_t size, bool json,
                               int name_width)
{
    w->buf = buf;
    w->size = buf ? size : 0;
    w->len = 0;
    w->json = json;
    w->csv = 0;
    w->name_width = name_width;
    w->fields = 0;
    w->failed = false;
    w->object = NULL;
    w->own_object = false;
    if (w->size)
        w->buf[0] = '\0';
}

void stats_writer_begin(struct stats_writer *w, char *buf, size_t size, bool json,
                        int name_width)
{
    stats_writer_reset(w, buf, size, json, name_width);
    if (json) {
        w->object = json_object();
        w->own_object = true;
        w->failed = !w->object;
    }
}

void stats_writer_begin_csv(struct stats_writer *w, char *buf, size_t size, bool header)
{
    stats_writer_reset(w, buf, size, false, 0);
    w->csv = header ? 1 : 2;
}

void stats_writer_begin_object(struct stats_writer *w, json_t *object)
{
    stats_writer_reset(w, NULL, 0, true, 0);
    w->object = object;
    w->failed = !json_is_object(object);
}

/* JSON: set member name to value (taken over). */
static void stats_member(struct stats_writer *w, const char *name, json_t *value)
{
    if (!w->object || stats_json_set(w->object, name, value) != 0)
        w->failed = true;
    w->fields++;
}

/* Text and CSV: the separator and the name of the next field. Returns
 * false when the value is not to be written (a CSV header line). */
static bool stats_name(struct stats_writer *w, const char *name)
{
    if (w->csv) {
        stats_emit(w, "%s", w->fields++ ? "," : "");
        if (w->csv == 1)
            stats_emit(w, "%s", name);
        return w->csv == 2;
    }
    stats_emit(w, "%-*s ", w->name_width, name);
    w->fields++;
    return true;
}

/* After a value: text lines end here. */
static void stats_value_end(struct stats_writer *w)
{
    if (!w->csv)
        stats_emit(w, "\n");
}

void stats_writer_u64(struct stats_writer *w, const char *name, uint64_t value)
{
    if (w->json) {
        stats_member(w, name, stats_json_u64(value));
        return;
    }
    if (!stats_name(w, name))
        return;
    stats_emit(w, "%" PRIu64, value);
    stats_value_end(w);
}

void stats_writer_limit(struct stats_writer *w, const char *name, uint64_t value)
{
    if (value != SIZE_UNLIMITED) {
        stats_writer_u64(w, name, value);
        return;
    }
    if (w->json) {
        stats_member(w, name, stats_json_limit(value));
        return;
    }
    if (!stats_name(w, name))
        return;
    stats_emit(w, "unlimited");
    stats_value_end(w);
}

void stats_writer_double(struct stats_writer *w, const char *name, double value)
{
    if (w->json) {
        stats_member(w, name, stats_json_real(value, 3));
        return;
    }
    if (!stats_name(w, name))
        return;
    stats_emit(w, "%.3f", value);
    stats_value_end(w);
}

void stats_writer_string(struct stats_writer *w, const char *name, const char *value)
{
    const char *p;

    if (w->json) {
        stats_member(w, name, stats_json_string(value));
        return;
    }
    if (!stats_name(w, name))
        return;
    if (!w->csv) {
        stats_emit(w, "%s\n", value);
        return;
    }
    stats_emit(w, "\"");
    for (p = value; *p; p++) {
        if (*p == '"')
            stats_emit(w, "\"\""); /* RFC 4180: a quote is doubled */
        else
            stats_emit(w, "%c", *p);
    }
    stats_emit(w, "\"");
}

int stats_writer_end(struct stats_writer *w, bool json_newline)
{
    if (w->own_object) {
        char *text = w->failed ? NULL : stats_json_dumps(w->object, json_newline);
        if (text)
            stats_emit(w, "%s", text);
        else
            w->failed = true;
        free(text);
        json_decref(w->object);
        w->object = NULL;
        w->own_object = false;
    } else if (w->csv) {
        stats_emit(w, "\n");
    }
    if (w->failed || w->len > (size_t)INT32_MAX)
        return -1;
    return (int)w->len;
}

/* ------------------------------------------------------------ JSON values */

json_t *stats_json_u64(uint64_t value)
{
    char digits[24];

    if (value <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)value);
    snprintf(digits, sizeof(digits), "%" PRIu64, value);
    return json_string(digits);
}

json_t *stats_json_limit(uint64_t value)
{
    return value == SIZE_UNLIMITED ? json_string("unlimited") : stats_json_u64(value);
}

json_t *stats_json_real(double value, int decimals)
{
    char text[64];

    if (!isfinite(value))
        return json_null();
    /* the decimals printf gives, as text and CSV print them */
    if (fabs(value) < 1e15) {
        snprintf(text, sizeof(text), "%.*f", decimals < 0 ? 0 : decimals > 9 ? 9 : decimals,
                 value);
        value = strtod(text, NULL);
    }
    if (value == 0.0)
        value = 0.0; /* no "-0.0" */
    return json_real(value);
}

/* The length of the well-formed UTF-8 sequence at p (1 to 4), or 0 when
 * the byte at p does not begin one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). p is NUL-terminated. */
static size_t stats_utf8_length(const unsigned char *p)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        lo = p[0] == 0xE0 ? 0xA0 : 0x80;
        hi = p[0] == 0xED ? 0x9F : 0xBF;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        lo = p[0] == 0xF0 ? 0x90 : 0x80;
        hi = p[0] == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

json_t *stats_json_string(const char *text)
{
    const unsigned char *p;
    char *clean, *out;
    json_t *json;

    if (!text)
        return NULL;
    json = json_string(text);
    if (json)
        return json; /* well-formed UTF-8 (or out of memory: so is the copy below) */
    clean = malloc(strlen(text) * 3 + 1);
    if (!clean)
        return NULL;
    for (p = (const unsigned char *)text, out = clean; *p;) {
        size_t n = stats_utf8_length(p);
        if (n) {
            memcpy(out, p, n);
            out += n;
            p += n;
        } else {
            memcpy(out, "\xEF\xBF\xBD", 3); /* U+FFFD */
            out += 3;
            p++;
        }
    }
    *out = '\0';
    json = json_string(clean);
    free(clean);
    return json;
}

int stats_json_set(json_t *object, const char *name, json_t *value)
{
    if (!value)
        return -1;
    return json_object_set_new(object, name, value) == 0 ? 0 : -1;
}

char *stats_json_dumps(const json_t *json, bool newline)
{
    char *text = json_dumps(json, STATS_JSON_FLAGS | JSON_ENCODE_ANY), *grown;
    size_t len;

    if (!text || !newline)
        return text;
    len = strlen(text);
    grown = realloc(text, len + 2);
    if (!grown) {
        free(text);
        return NULL;
    }
    memcpy(grown + len, "\n", 2);
    return grown;
}

/* Write json on one line to f. Returns 0 or -1. */
static int stats_json_write_one(FILE *f, const json_t *json)
{
    char *text = stats_json_dumps(json, false);
    int rc = text && fputs(text, f) >= 0 ? 0 : -1;

    free(text);
    return rc;
}

int stats_json_write_lines(FILE *f, const json_t *json)
{
    const char *name;
    json_t *value;
    int rc = 0;
    bool first = true;

    if (!json_is_object(json)) {
        rc = stats_json_write_one(f, json);
        return fputc('\n', f) == EOF ? -1 : rc;
    }
    fputc('{', f);
    json_object_foreach((json_t *)json, name, value) {
        json_t *key = json_string(name);
        size_t i;
        json_t *elem;

        fputs(first ? "\n  " : ",\n  ", f);
        first = false;
        rc |= key ? stats_json_write_one(f, key) : -1;
        json_decref(key);
        fputs(": ", f);
        if (!json_is_array(value) || json_array_size(value) == 0) {
            rc |= stats_json_write_one(f, value);
            continue;
        }
        fputc('[', f);
        json_array_foreach(value, i, elem) {
            fputs(i ? ",\n    " : "\n    ", f);
            rc |= stats_json_write_one(f, elem);
        }
        fputs("\n  ]", f);
    }
    fputs(first ? "}\n" : "\n}\n", f);
    return rc || ferror(f) ? -1 : 0;
}
