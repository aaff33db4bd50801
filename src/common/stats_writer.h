/*
 * stats_writer.h - the one way the project renders statistics: a flat
 * list of named values as text ("name value" lines, names padded to a
 * width) or as one JSON object ({"name": value, ...}), into a caller's
 * buffer with snprintf's contract (the length the whole rendering needs
 * is returned even when the buffer is too small, so a caller can size a
 * buffer with a first pass over a NULL buffer of size 0).
 *
 * Each module declares its counters once (an X-macro list) and walks that
 * list through a writer; the docs' counter tables come from the same
 * lists (tools/counters).
 *
 * The same walk also gives a CSV header line (the names) or a CSV row
 * (the values): stats_writer_begin_csv; or the members of a JSON object
 * the caller builds (stats_writer_begin_object), to nest a list of values
 * in a larger document (arrays of mounts, per-guest objects, samples).
 *
 * JSON is built and rendered by jansson (Debian's libjansson): a writer
 * fills a json_t object, and the rendering is json_dumps' with
 * STATS_JSON_FLAGS (members in the order written, ", " and ": " between
 * them, one line). What JSON holds exactly decides three rules:
 *  - A limit that is lifted (SIZE_UNLIMITED, 2^64 - 1, e.g. an unlimited
 *    capacity) is the string "unlimited", in text and CSV too
 *    (stats_writer_limit, stats_json_limit).
 *  - Any other integer above INT64_MAX (jansson's json_int_t is a signed
 *    64-bit integer; many JSON readers hold 53 bits exactly, but jansson
 *    and Python hold 64) is written as a string of its decimal digits, so
 *    it stays exact: no counter of the project gets there in practice, and
 *    a gauge that wrapped below zero shows as a number no one can mistake.
 *  - A fraction is rounded to its decimals (3 for stats_writer_double) as
 *    printf's "%.3f" rounds it in text and CSV, and written in the
 *    shortest form that gives them back ("1.5", "2.0");
 *    NaN and infinities, which JSON cannot hold, are null.
 * Strings are escaped by jansson; bytes that are not UTF-8 (a path may
 * hold any byte) become U+FFFD, the replacement character, so the
 * document is always valid JSON.
 *
 * A writer belongs to one thread; there is no global state. Every
 * function is thread-safe on distinct writers and distinct json_t values.
 */
#ifndef COMMON_STATS_WRITER_H
#define COMMON_STATS_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* json_dumps flags of every JSON the project writes. */
#define STATS_JSON_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

struct stats_writer {
    char *buf;        /* may be NULL when size is 0 */
    size_t size;
    size_t len;       /* bytes the rendering needs so far (without the NUL) */
    bool json;
    int csv;          /* 0: text or JSON; 1: CSV header (names); 2: CSV row (values) */
    int name_width;   /* text: names padded to this width (0: one space) */
    unsigned fields;  /* values written so far */
    bool failed;      /* an snprintf or a jansson allocation failed */
    json_t *object;   /* JSON: the object the values go into */
    bool own_object;  /* JSON into buf: object is the writer's, freed by end */
};

/* Start a rendering into buf[size] (NUL-terminated, truncated as needed).
 * JSON: the writer holds an object until stats_writer_end, which must be
 * called. */
void stats_writer_begin(struct stats_writer *w, char *buf, size_t size, bool json,
                        int name_width);

/* Start a CSV line into buf[size]: the header (header: the names, in the
 * order the values are written) or a row (the values). */
void stats_writer_begin_csv(struct stats_writer *w, char *buf, size_t size, bool header);

/* Start writing the values as members of object (a JSON object, borrowed:
 * the caller owns it and renders it), after any members it has. */
void stats_writer_begin_object(struct stats_writer *w, json_t *object);

/* One value. name: its name (escaped in JSON, as it is in text and CSV). */
void stats_writer_u64(struct stats_writer *w, const char *name, uint64_t value);

/* One limit: SIZE_UNLIMITED is written as unlimited (a string in JSON),
 * any other value as stats_writer_u64 writes it. */
void stats_writer_limit(struct stats_writer *w, const char *name, uint64_t value);

/* One fractional value (3 decimals), such as a time in seconds. */
void stats_writer_double(struct stats_writer *w, const char *name, double value);

/* One string value (escaped for JSON, quoted for CSV; as it is in text). */
void stats_writer_string(struct stats_writer *w, const char *name, const char *value);

/* Finish (JSON: renders the object; json_newline adds "\n" after it; a
 * CSV line always ends in "\n"; begun on an object: renders nothing).
 * Returns the length the whole rendering needs (0 for an object), or -1
 * if formatting failed (out of memory). */
int stats_writer_end(struct stats_writer *w, bool json_newline);

/* ---------------------------------------------------- JSON values */
/* Each returns a new reference (NULL only when out of memory), for
 * json_object_set_new / json_array_append_new, which take it over even
 * when they fail. */

/* value as an integer, or the string of its digits above INT64_MAX. */
json_t *stats_json_u64(uint64_t value);
/* "unlimited" for SIZE_UNLIMITED, else stats_json_u64(value). */
json_t *stats_json_limit(uint64_t value);
/* value rounded to decimals (0..9) decimals as printf rounds it; null if
 * not finite. */
json_t *stats_json_real(double value, int decimals);
/* text as a JSON string, bytes that are not UTF-8 as U+FFFD. */
json_t *stats_json_string(const char *text);

/* Set object's member name to value (a new reference, taken over).
 * Returns 0, or -1 when value is NULL or jansson is out of memory. */
int stats_json_set(json_t *object, const char *name, json_t *value);

/* Render json on one line (STATS_JSON_FLAGS) into a malloc'ed string,
 * with "\n" after it if newline; NULL when out of memory. Free it with
 * free(). */
char *stats_json_dumps(const json_t *json, bool newline);

/*
 * Write json to f for a reader of a file: an object as one member per
 * line ("{\n  \"name\": value,\n ... }\n"), a member that is a non-empty
 * array with one element per line, every value itself on one line (as
 * stats_json_dumps renders it); anything else on one line. Returns 0, or
 * -1 when rendering or writing failed.
 */
int stats_json_write_lines(FILE *f, const json_t *json);

#endif /* COMMON_STATS_WRITER_H */
