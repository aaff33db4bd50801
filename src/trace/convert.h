/*
 * convert.h - converters from the trace formats users already have into
 * the project's format (trace.h). docs/traces.md gives each one's rule.
 *
 * Block traces become page traces by one rule: a request of size bytes at
 * byte offset off touches pages floor(off / page_size) ..
 * floor((off + size - 1) / page_size), one record per page in order, reads
 * as read and writes as write, keyed by device (blkparse: major,minor; MSR:
 * host + disk number; fio: the file name) as the record's object. Objects
 * get dense ids 0, 1, 2, ... in order of first appearance (a replayer then
 * indexes arrays instead of hashing); the converter prints the mapping on
 * request.
 *
 * Every converter reads `in` (named name in messages) to the end and
 * writes records to w; a line or record that does not parse gives
 * "NAME:LINE: what is wrong" or "NAME:record N: ..." in err and a negative
 * errno, and nothing is skipped silently (o->notes). An input that gives
 * no record at all is refused with -ENODATA ("NAME: no records ...").
 * The native converter copies records of the header the caller took from
 * the input (trace_reader_header) and gives the reader's errors.
 * Returns 0 or -errno.
 */
#ifndef TRACE_CONVERT_H
#define TRACE_CONVERT_H

#include <stdio.h>

#include "trace/trace.h"

enum trace_format {
    TRACE_FORMAT_NATIVE,        /* this project's binary or text form */
    TRACE_FORMAT_ORACLE_GENERAL, /* libCacheSim oracleGeneral: 24-byte packed records */
    TRACE_FORMAT_MSR,           /* MSR Cambridge CSV */
    TRACE_FORMAT_BLKPARSE,      /* blkparse default text output (Q or C events) */
    TRACE_FORMAT_FIO_IOLOG,     /* fio iolog v2 and v3 */
    TRACE_FORMAT_LACKEY,        /* valgrind --tool=lackey --trace-mem=yes */
};

/* "native", "oracle-general", "msr", "blkparse", "fio-iolog", "lackey"; and back. */
const char *trace_format_name(enum trace_format f);
int trace_format_parse(const char *name, enum trace_format *out);

struct trace_convert_options {
    uint32_t page_size;   /* default 4096 */
    char blkparse_event;  /* 'Q' or 'C' (default 'Q') */
    FILE *mapping;        /* when not NULL: one line "ID KEY" per dense id */
    FILE *notes;          /* when not NULL: at the end, one line per kind of
                           * input line passed over on purpose, with its
                           * count ("NAME: skipped N ... (why)") */
};

void trace_convert_options_init(struct trace_convert_options *o);

/* The header a converter writes for format f (kind and flags). */
void trace_convert_header(enum trace_format f, const struct trace_convert_options *o,
                          struct trace_header *h);

int trace_convert(enum trace_format f, FILE *in, const char *name,
                  const struct trace_convert_options *o, struct trace_writer *w, char *err,
                  size_t errlen);

#endif /* TRACE_CONVERT_H */
