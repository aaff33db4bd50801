/*
 * convert_internal.h - what the converters (convert_*.c) share: the
 * conversion's context, dense ids, the block rule, line reading, numbers.
 * Private to src/trace.
 */
#ifndef TRACE_CONVERT_INTERNAL_H
#define TRACE_CONVERT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/number.h"
#include "trace/convert.h"
#include "trace/id_map.h"

/* The largest request (bytes) the block rule turns into pages: 1 GiB. */
#define CONVERT_MAX_REQUEST_BYTES (1ull << 30)

#define CONVERT_NOTE_MAX 4

struct convert_note {
    const char *what; /* static: "lines with other blkparse actions" */
    uint64_t count;
};

struct convert_ctx {
    FILE *in;
    const char *name;
    const struct trace_convert_options *o;
    struct trace_writer *w;
    char *err;
    size_t errlen;
    struct id_map *ids;
    char *line;        /* the current line (convert_next_line) */
    size_t line_cap;
    uint64_t line_no;  /* 1-based number of the current line */
    struct convert_note notes[CONVERT_NOTE_MAX];
    uint64_t written;  /* records put */
};

/* Format the error message into ctx->err; returns -EINVAL. */
int convert_fail(struct convert_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "NAME:LINE: ..." for the current line; returns -EINVAL. */
int convert_fail_line(struct convert_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Split line in place into at most max words separated by blanks or tabs;
 * returns how many (words past max are left in the line, unsplit). */
unsigned convert_split_words(char *line, char **words, unsigned max);
/* Next line without its "\n" / "\r\n": 1, 0 at the end, -EIO. */
int convert_next_line(struct convert_ctx *c);
/* Count one skipped line under note slot (0..CONVERT_NOTE_MAX-1). */
void convert_note(struct convert_ctx *c, unsigned slot, const char *what);
/* The dense id of key (printing "ID PRINTABLE" to the mapping when new). */
int convert_id(struct convert_ctx *c, const void *key, size_t len, const char *printable,
               uint32_t *id);
/* Write one record; continues: a later page of the same request (the
 * read or write of the page after the record before, trace.h). */
int convert_put(struct convert_ctx *c, uint64_t ts, uint64_t object, uint64_t value,
                enum trace_op op, bool continues);
/* The block rule (convert.h): one record per page of [offset, offset+size). */
int convert_put_block(struct convert_ctx *c, uint64_t ts, uint64_t object, uint64_t offset,
                      uint64_t size, enum trace_op op);

int convert_native(struct convert_ctx *c);
int convert_oracle_general(struct convert_ctx *c);
int convert_msr(struct convert_ctx *c);
int convert_blkparse(struct convert_ctx *c);
int convert_fio_iolog(struct convert_ctx *c);
int convert_lackey(struct convert_ctx *c);

#endif /* TRACE_CONVERT_INTERNAL_H */
