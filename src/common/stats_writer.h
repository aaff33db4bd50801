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
 * (the values): stats_writer_begin_csv.
 *
 * A writer belongs to one thread; there is no global state.
 */
#ifndef COMMON_STATS_WRITER_H
#define COMMON_STATS_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stats_writer {
    char *buf;        /* may be NULL when size is 0 */
    size_t size;
    size_t len;       /* bytes the rendering needs so far (without the NUL) */
    bool json;
    int csv;          /* 0: text or JSON; 1: CSV header (names); 2: CSV row (values) */
    int name_width;   /* text: names padded to this width (0: one space) */
    unsigned fields;  /* values written so far */
    bool failed;      /* an snprintf failed */
};

/* Start a rendering into buf[size] (NUL-terminated, truncated as needed). */
void stats_writer_begin(struct stats_writer *w, char *buf, size_t size, bool json,
                        int name_width);

/* Start a CSV line into buf[size]: the header (header: the names, in the
 * order the values are written) or a row (the values). */
void stats_writer_begin_csv(struct stats_writer *w, char *buf, size_t size, bool header);

/* One value. name: a plain identifier (it is not escaped). */
void stats_writer_u64(struct stats_writer *w, const char *name, uint64_t value);

/* One fractional value (3 decimals), such as a time in seconds. */
void stats_writer_double(struct stats_writer *w, const char *name, double value);

/* One string value (escaped for JSON, quoted for CSV; as it is in text). */
void stats_writer_string(struct stats_writer *w, const char *name, const char *value);

/* Finish (JSON: closes the object; json_newline adds "\n" after it; a
 * CSV line always ends in "\n").
 * Returns the length the whole rendering needs, or -1 if formatting
 * failed. */
int stats_writer_end(struct stats_writer *w, bool json_newline);

#endif /* COMMON_STATS_WRITER_H */
